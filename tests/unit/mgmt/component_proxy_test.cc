// vigild's pass-through to a component's own methods, against a real JSON-RPC server.
#include "mgmt/component_proxy.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "common/event_loop.h"
#include "common/json_rpc_server.h"
#include "mgmt/api_errors.h"

namespace vigil::mgmt {
namespace {

using nlohmann::json;

class ComponentProxyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/vigil-proxy-test-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    socket_ = dir_ + "/dp.sock";
    dispatcher_.add("classifier.show", [](const json&, const rpc::CallContext&) -> rpc::CallResult {
      return json::array({{{"device", "lan0"}}});
    });
    dispatcher_.add("dataplane.show", [](const json&, const rpc::CallContext&) -> rpc::CallResult {
      return rpc::Error{rpc::kInternalError, "the fast path failed"};
    });
    rpc::ServerOptions options{.path = socket_};
    options.listen.group = "";
    server_ = std::make_unique<rpc::Server>(loop_, dispatcher_, options);
    ASSERT_TRUE(server_->start());
    thread_ = std::thread([this] { loop_.run(); });
  }
  void TearDown() override {
    loop_.stop();
    thread_.join();
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::string dir_;
  std::string socket_;
  rpc::Dispatcher dispatcher_;
  EventLoop loop_;
  std::unique_ptr<rpc::Server> server_;
  std::thread thread_;
};

TEST_F(ComponentProxyTest, AnswersPassThroughAndErrorsNameTheComponent) {
  ComponentProxy proxy({{"vigil-l7", dir_ + "/l7.sock"}, {"vigil-dp", socket_}});
  auto shown = proxy.call("vigil-dp", "classifier.show");
  ASSERT_FALSE(rpc::is_error(shown));
  EXPECT_EQ(std::get<json>(shown), json::array({{{"device", "lan0"}}}));

  auto failed = proxy.call("vigil-dp", "dataplane.show");
  ASSERT_TRUE(rpc::is_error(failed));
  EXPECT_EQ(std::get<rpc::Error>(failed).code, rpc::kInternalError);
  EXPECT_EQ(std::get<rpc::Error>(failed).message, "vigil-dp: the fast path failed");

  auto down = proxy.call("vigil-l7", "status");  // nobody serves its socket
  ASSERT_TRUE(rpc::is_error(down));
  // Its own code: the CLI tells "vigil-l7 is down" from "vigild is down".
  EXPECT_EQ(std::get<rpc::Error>(down).code, kComponentUnavailable);
  EXPECT_TRUE(std::get<rpc::Error>(down).message.starts_with("vigil-l7: "));
}

TEST_F(ComponentProxyTest, AComponentNotConfiguredIsSaidSo) {
  ComponentProxy proxy({});
  auto r = proxy.call("vigil-dp", "dataplane.show");
  ASSERT_TRUE(rpc::is_error(r));
  EXPECT_EQ(std::get<rpc::Error>(r).code, kNotConfigured);
  EXPECT_EQ(std::get<rpc::Error>(r).message,
            "no vigil-dp component is configured (--component vigil-dp=SOCKET)");
}

}  // namespace
}  // namespace vigil::mgmt
