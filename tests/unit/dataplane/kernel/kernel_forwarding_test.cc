#include "dataplane/kernel/kernel_forwarding.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace vigil::dp {
namespace {

namespace fs = std::filesystem;

// A /proc/sys look-alike: the files the kernel would have for each interface.
class KernelForwardingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::path(::testing::TempDir()) /
            ("proc_sys_" +
             std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(root_);
    write("net/ipv6/conf/all/forwarding", "0");
  }
  void TearDown() override { fs::remove_all(root_); }

  void interface(const std::string& dev, bool per_interface_v6) {
    write("net/ipv4/conf/" + dev + "/forwarding", "0");
    write("net/ipv6/conf/" + dev + "/forwarding", "0");
    if (per_interface_v6) {
      write("net/ipv6/conf/" + dev + "/force_forwarding", "0");
    }
  }
  void write(const std::string& rel, const std::string& value) {
    fs::create_directories((root_ / rel).parent_path());
    std::ofstream(root_ / rel) << value << "\n";
  }
  std::string read(const std::string& rel) {
    std::string v;
    std::ifstream in(root_ / rel);
    std::getline(in, v);
    return v;
  }

  fs::path root_;
};

TEST_F(KernelForwardingTest, PerInterfaceWhereTheKernelHasTheSwitch) {
  interface("wan1", true);
  interface("lan0", true);
  interface("mgmt0", true);
  auto on = enable_kernel_forwarding({"wan1", "lan0"}, root_.string());
  ASSERT_TRUE(on) << on.error();
  EXPECT_TRUE(on->ipv6_per_interface);
  EXPECT_EQ(read("net/ipv4/conf/wan1/forwarding"), "1");
  EXPECT_EQ(read("net/ipv4/conf/lan0/forwarding"), "1");
  EXPECT_EQ(read("net/ipv6/conf/wan1/force_forwarding"), "1");
  // Nothing else changes: not the management port, not the box-wide switch.
  EXPECT_EQ(read("net/ipv4/conf/mgmt0/forwarding"), "0");
  EXPECT_EQ(read("net/ipv6/conf/mgmt0/force_forwarding"), "0");
  EXPECT_EQ(read("net/ipv6/conf/all/forwarding"), "0");
}

TEST_F(KernelForwardingTest, BoxWideIPv6OnKernelsWithoutThePerInterfaceSwitch) {
  interface("wan1", false);
  auto on = enable_kernel_forwarding({"wan1"}, root_.string());
  ASSERT_TRUE(on) << on.error();
  EXPECT_FALSE(on->ipv6_per_interface);
  EXPECT_EQ(read("net/ipv4/conf/wan1/forwarding"), "1");
  EXPECT_EQ(read("net/ipv6/conf/all/forwarding"), "1");
}

TEST_F(KernelForwardingTest, AMissingInterfaceOrAPathInTheNameIsAnError) {
  auto gone = enable_kernel_forwarding({"wan9"}, root_.string());
  ASSERT_FALSE(gone);
  EXPECT_NE(gone.error().find("net/ipv4/conf/wan9/forwarding"), std::string::npos) << gone.error();
  for (const char* bad : {"../all", "", ".."}) {
    auto r = enable_kernel_forwarding({bad}, root_.string());
    ASSERT_FALSE(r) << bad;
    EXPECT_NE(r.error().find("not an interface name"), std::string::npos) << r.error();
  }
}

}  // namespace
}  // namespace vigil::dp
