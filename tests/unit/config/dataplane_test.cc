// The dataplane section and static neighbours: defaults, a good document, and each mistake
// with its path, line and column.
#include <gtest/gtest.h>

#include "config/document.h"

namespace vigil::config {
namespace {

TEST(DataplaneConfig, DefaultsLeaveForwardingToTheKernel) {
  const auto r = parse_text("system: {hostname: a}\n", "vigil.yaml");
  ASSERT_TRUE(r.errors.empty()) << r.errors.to_string();
  EXPECT_FALSE(r.config.dataplane.forwarding);
  EXPECT_EQ(r.config.dataplane.mode, DataplaneMode::kAfXdp);
  EXPECT_EQ(r.config.dataplane.lcores, std::vector<uint32_t>{1});
  EXPECT_EQ(r.config.dataplane.rx_mode, RxMode::kPoll);
  EXPECT_TRUE(r.config.dataplane.flow_offload);
  EXPECT_TRUE(r.config.dataplane.kernel_fallback);
}

TEST(DataplaneConfig, KernelFallbackFollowsTheModeUnlessSet) {
  auto fallback = [](const char* doc) {
    const auto r = parse_text(doc, "vigil.yaml");
    EXPECT_TRUE(r.errors.empty()) << r.errors.to_string();
    return r.config.dataplane.kernel_fallback;
  };
  EXPECT_TRUE(fallback("dataplane: {mode: af_xdp}\n"));
  EXPECT_FALSE(fallback("dataplane: {mode: dpdk}\n"));
  EXPECT_FALSE(fallback("dataplane: {kernel_fallback: false}\n"));
  EXPECT_FALSE(fallback("dataplane: {mode: dpdk, kernel_fallback: false}\n"));
}

TEST(DataplaneConfig, GoodDocumentParsesIntoTypes) {
  const auto r = parse_text(R"(interfaces:
  lan0:
    role: lan
    device: "net_pcap0,rx_pcap=in.pcap"
    addresses: [10.1.0.1/24, "fd00:1::1/64"]
    neighbours:
      - {address: 10.1.0.5, mac: "02:00:00:00:01:05"}
      - {address: "fd00:1::5", mac: "02:00:00:00:01:05"}
dataplane: {forwarding: true, mode: dpdk, control_lcore: 1, lcores: [0], memory_mb: 512,
            mbufs: 4095, max_routes_ipv4: 2048, max_routes_ipv6: 1024, rx_mode: adaptive,
            tx_hold_us: 100, flow_offload: false}
)",
                            "vigil.yaml");
  ASSERT_TRUE(r.errors.empty()) << r.errors.to_string();
  const DataplaneConfig& d = r.config.dataplane;
  EXPECT_TRUE(d.forwarding);
  EXPECT_EQ(d.mode, DataplaneMode::kDpdk);
  EXPECT_EQ(d.rx_mode, RxMode::kAdaptive);
  EXPECT_EQ(d.control_lcore, 1u);
  EXPECT_EQ(d.lcores, std::vector<uint32_t>{0});
  EXPECT_EQ(d.mbufs, 4095u);
  EXPECT_EQ(d.max_routes_ipv4, 2048u);
  EXPECT_EQ(d.tx_hold_us, 100u);
  EXPECT_FALSE(d.flow_offload);
  const auto& n = r.config.interfaces.at(0).neighbours;
  ASSERT_EQ(n.size(), 2u);
  EXPECT_EQ(n[0].address.to_string(), "10.1.0.5");
  EXPECT_EQ(n[1].mac[5], 0x05);
}

struct Bad {
  const char* description;
  const char* doc;
  const char* error;
};

class DataplaneErrors : public ::testing::TestWithParam<Bad> {};

TEST_P(DataplaneErrors, SaysWhatAndWhere) {
  const auto r = parse_text(GetParam().doc, "vigil.yaml");
  EXPECT_EQ(r.errors.to_string(), std::string(GetParam().error) + "\n");
}

INSTANTIATE_TEST_SUITE_P(
    Table, DataplaneErrors,
    ::testing::Values(
        Bad{"forwarding on the control lcore", "dataplane: {lcores: [1, 0]}\n",
            "dataplane.lcores[1] (1:25): lcore 0 is the control lcore; forwarding needs its own"},
        Bad{"a kernel fallback for ports the kernel does not see",
            "dataplane: {mode: dpdk, kernel_fallback: true}\n",
            "dataplane.kernel_fallback (1:42): dpdk-mode ports are not kernel interfaces: the "
            "kernel cannot forward for them"},
        Bad{"an lcore twice", "dataplane: {lcores: [1, 1]}\n",
            "dataplane.lcores[1] (1:25): lcore 1 is listed twice"},
        Bad{"no lcore", "dataplane: {lcores: []}\n",
            "dataplane.lcores (1:21): at least one forwarding lcore"},
        Bad{"unknown mode", "dataplane: {mode: vpp}\n",
            "dataplane.mode (1:19): must be af_xdp or dpdk, got \"vpp\""},
        Bad{"unknown rx mode", "dataplane: {rx_mode: interrupt}\n",
            "dataplane.rx_mode (1:22): must be poll or adaptive, got \"interrupt\""},
        Bad{"too little memory", "dataplane: {memory_mb: 64}\n",
            "dataplane.memory_mb (1:24): must be 256 to 65536, got 64"},
        Bad{"a hold longer than a millisecond", "dataplane: {tx_hold_us: 5000}\n",
            "dataplane.tx_hold_us (1:25): must be 0 to 1000, got 5000"},
        Bad{"neighbour off the subnets",
            "interfaces:\n  lan0:\n    role: lan\n    addresses: [10.1.0.1/24]\n"
            "    neighbours: [{address: 10.2.0.5, mac: \"02:00:00:00:01:05\"}]\n",
            "interfaces.lan0.neighbours[0].address (5:28): 10.2.0.5 is on no subnet of lan0"},
        Bad{"neighbour MAC malformed",
            "interfaces:\n  lan0:\n    role: lan\n    addresses: [10.1.0.1/24]\n"
            "    neighbours: [{address: 10.1.0.5, mac: \"02:00:00:00:01\"}]\n",
            "interfaces.lan0.neighbours[0].mac (5:43): \"02:00:00:00:01\" is not a MAC address "
            "(02:00:5e:00:53:01)"},
        Bad{"neighbour MAC multicast",
            "interfaces:\n  lan0:\n    role: lan\n    addresses: [10.1.0.1/24]\n"
            "    neighbours: [{address: 10.1.0.5, mac: \"01:00:5e:00:00:01\"}]\n",
            "interfaces.lan0.neighbours[0].mac (5:43): a neighbour has a unicast MAC, not a "
            "multicast one"}));

}  // namespace
}  // namespace vigil::config
