#include "dataplane/kernel/mesh_kernel_path.h"

#include <gtest/gtest.h>

#include "tests/support/net_literals.h"
#include "tests/unit/dataplane/kernel/fake_kernel_table.h"

namespace vigil::dp {
namespace {

using vigil::test::ip;
using vigil::test::net;

KernelRoute over_device(const char* p, const char* source) {
  return {.prefix = net(p), .next_hops = {{.ifindex = 9}}, .preferred_source = ip(source)};
}

class MeshKernelPathTest : public ::testing::Test {
 protected:
  MeshKernelPathTest() {
    auto table = std::make_unique<FakeKernelTable>();
    kernel_ = table.get();
    path_ = std::make_unique<MeshKernelPath>("vigil-mesh", 9, std::move(table),
                                             [this](uint32_t mtu) -> Status {
                                               mtus_.push_back(mtu);
                                               if (!link_error_.empty()) {
                                                 return fail(link_error_);
                                               }
                                               return Ok{};
                                             });
  }
  FakeKernelTable* kernel_;
  std::vector<uint32_t> mtus_;
  std::string link_error_;
  std::unique_ptr<MeshKernelPath> path_;
  std::chrono::steady_clock::time_point t0_{};
};

TEST_F(MeshKernelPathTest, WhatIsWantedIsSetAtOnceWithTheMtu) {
  path_->want({over_device("10.2.0.0/16", "10.1.1.1")}, 1420);
  EXPECT_EQ(mtus_, (std::vector<uint32_t>{1420}));
  ASSERT_EQ(kernel_->routes.size(), 1u);
  EXPECT_EQ(kernel_->routes.begin()->second.preferred_source, ip("10.1.1.1"));
  EXPECT_TRUE(path_->error().empty());
  path_->want({}, 1400);  // the last peer's networks gone, a smaller port MTU
  EXPECT_TRUE(kernel_->routes.empty());
  EXPECT_EQ(mtus_.back(), 1400u);
}

// The kernel flushes a device's routes when it goes down, and a route whose source address
// went: the next check puts them back.
TEST_F(MeshKernelPathTest, RoutesTheKernelDroppedComeBackAtTheNextCheck) {
  path_->want({over_device("10.2.0.0/16", "10.1.1.1"), over_device("10.3.0.0/16", "10.1.1.1")},
              1420);
  kernel_->routes.clear();
  path_->tick(t0_);
  EXPECT_EQ(kernel_->routes.size(), 2u);
  kernel_->routes.erase(net("10.3.0.0/16"));
  path_->tick(t0_ + std::chrono::milliseconds(500));
  EXPECT_EQ(kernel_->routes.size(), 1u) << "checked once a second";
  path_->tick(t0_ + std::chrono::seconds(1));
  EXPECT_EQ(kernel_->routes.size(), 2u);
}

TEST_F(MeshKernelPathTest, ARefusalIsKeptAndRetriedUntilTheKernelTakesIt) {
  kernel_->refused.insert(net("fd00:2::/32"));
  path_->want({over_device("fd00:2::/32", "fd00:1:1::1")}, 1420);
  EXPECT_EQ(path_->error(), "cannot install the kernel route fd00:2::/32: Network is unreachable");
  EXPECT_TRUE(kernel_->routes.empty());
  kernel_->refused.clear();  // the address's duplicate detection is over
  path_->tick(t0_);
  EXPECT_TRUE(path_->error().empty());
  EXPECT_EQ(kernel_->routes.size(), 1u);
  link_error_ = "vigil-mesh: cannot bring interface 9 up: No such device";
  path_->tick(t0_ + std::chrono::seconds(1));
  EXPECT_EQ(path_->error(), link_error_);
}

}  // namespace
}  // namespace vigil::dp
