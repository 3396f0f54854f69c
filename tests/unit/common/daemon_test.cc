// Command-line handling shared by every daemon.
#include "common/daemon.h"

#include <gtest/gtest.h>

namespace vigil {
namespace {

const DaemonSpec kSpec{.name = "vigil-test", .summary = "test", .default_socket = "/run/t.sock"};

TEST(DaemonArgs, Defaults) {
  auto a = parse_daemon_args(kSpec, {});
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->config_path, "/etc/vigil/vigil.yaml");
  EXPECT_EQ(a->socket_path, "/run/t.sock");
  EXPECT_FALSE(a->show_help);
}

TEST(DaemonArgs, LongAndShortFormsWithAndWithoutEquals) {
  auto a = parse_daemon_args(kSpec,
                             {"--config", "/tmp/a.yaml", "-s", "/tmp/s.sock", "--log-level=debug"});
  ASSERT_TRUE(a.ok()) << a.error();
  EXPECT_EQ(a->config_path, "/tmp/a.yaml");
  EXPECT_EQ(a->socket_path, "/tmp/s.sock");
  EXPECT_EQ(a->log_level, log::Level::kDebug);
  auto b = parse_daemon_args(kSpec, {"--config=/x.yaml", "-V"});
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->config_path, "/x.yaml");
  EXPECT_TRUE(b->show_version);
}

TEST(DaemonArgs, ErrorsNameTheArgument) {
  auto a = parse_daemon_args(kSpec, {"--config"});
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.error(), "option --config needs a value");
  auto b = parse_daemon_args(kSpec, {"--frobnicate"});
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error(), "unknown argument \"--frobnicate\" (see --help)");
  auto c = parse_daemon_args(kSpec, {"--log-level", "loud"});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error(), "--log-level must be debug, info, warn or error, got \"loud\"");
}

TEST(DaemonArgs, UsageMentionsDefaultSocket) {
  EXPECT_NE(daemon_usage(kSpec).find("/run/t.sock"), std::string::npos);
}

}  // namespace
}  // namespace vigil
