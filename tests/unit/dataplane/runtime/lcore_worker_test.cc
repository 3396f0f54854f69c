// The lcore loop with fake ports: when what it buffered for a port leaves. Under load (a queue
// filled its burst) buffers wait to leave in full bursts; once every queue comes back short,
// the pass sends everything at once rather than holding it for the drain timer.
#include "dataplane/runtime/lcore_worker.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "tests/unit/dataplane/eal_environment.h"

namespace vigil::dp {
namespace {

// Delivers the bursts it is given, one per rx_burst call; takes and frees what is sent,
// logging the size of every tx_burst.
class FakePort : public Port {
 public:
  explicit FakePort(std::string name) : name_(std::move(name)) {}
  const std::string& name() const override { return name_; }
  rte_ether_addr mac() const override { return mac_address; }
  uint16_t queue_count() const override { return 1; }
  uint16_t rx_burst(uint16_t, rte_mbuf** packets, uint16_t n) override {
    if (to_receive.empty()) {
      return 0;
    }
    const uint16_t count = std::min<uint16_t>(to_receive.front(), n);
    to_receive.pop_front();
    for (uint16_t i = 0; i < count; ++i) {
      packets[i] = test::make_mbuf(std::vector<uint8_t>(60, 0));
    }
    return count;
  }
  uint16_t tx_burst(uint16_t, rte_mbuf** packets, uint16_t n) override {
    sent.push_back(n);
    for (uint16_t i = 0; i < n; ++i) {
      const auto* eth = rte_pktmbuf_mtod(packets[i], const rte_ether_hdr*);
      destinations.push_back(eth->dst_addr);
    }
    rte_pktmbuf_free_bulk(packets, n);
    return n;
  }
  PortStats stats() const override { return {}; }
  bool link_up() const override { return true; }

  std::deque<uint16_t> to_receive;           // burst sizes, in order
  std::vector<uint16_t> sent;                // tx_burst sizes, in order
  std::vector<rte_ether_addr> destinations;  // of every frame sent
  rte_ether_addr mac_address{};

 private:
  std::string name_;
};

// Sends every packet out of port 1.
class ToPortOne : public Stage {
 public:
  const char* name() const override { return "to-port-1"; }
  void process(Burst& burst) override {
    for (uint16_t i = 0; i < burst.count; ++i) {
      burst.state[i].disposition = Disposition::kTransmit;
      burst.state[i].out_port = 1;
    }
  }
};

class LcoreWorkerTest : public ::testing::Test {
 protected:
  void SetUp() override { start(false); }
  void start(bool hold_short_bursts) {
    auto readers = QsbrReaders::create(RTE_MAX_LCORE);
    ASSERT_TRUE(readers.ok()) << readers.error();
    readers_ = std::move(*readers);
    // Receive on ports 0 and 2, send on port 1. The drain timer never runs out here, so
    // whatever leaves, leaves because the loop decided so.
    worker_ = std::make_unique<LcoreWorker>(
        0, std::vector<RxQueue>{{.port = 0, .queue = 0}, {.port = 2, .queue = 0}},
        std::vector<Port*>{&in_a_, &out_, &in_b_}, std::vector<int>{-1, -1, -1}, 0, *readers_,
        UINT64_MAX, IdlePolicy{}, hold_short_bursts);
    worker_->pipeline().add(std::make_unique<ToPortOne>());
    readers_->online(0);
  }
  void TearDown() override { stop(); }
  void stop() {
    if (worker_) {
      worker_.reset();  // frees what it still buffers
      readers_->offline(0);
    }
  }

  FakePort in_a_{"a"}, out_{"out"}, in_b_{"b"};
  std::unique_ptr<QsbrReaders> readers_;
  std::unique_ptr<LcoreWorker> worker_;
};

TEST_F(LcoreWorkerTest, PacketsFromShortBurstsLeaveInTheSamePass) {
  in_a_.to_receive = {3};
  in_b_.to_receive = {2};
  EXPECT_TRUE(worker_->poll_once());
  EXPECT_EQ(out_.sent, std::vector<uint16_t>{5}) << "both queues short: all sent, together";
  EXPECT_FALSE(worker_->poll_once());
  EXPECT_EQ(out_.sent, std::vector<uint16_t>{5}) << "nothing more to send";
}

TEST_F(LcoreWorkerTest, UnderLoadBuffersWaitForAFullBurstUntilTheQueuesRunShort) {
  in_a_.to_receive = {kBurstSize, kBurstSize / 2};
  in_b_.to_receive = {3};
  ASSERT_TRUE(worker_->poll_once());
  // Queue a filled its burst: the buffer leaves when it holds a burst (32 of a's packets),
  // the 3 from b wait for more.
  EXPECT_EQ(out_.sent, std::vector<uint16_t>{kBurstSize});
  ASSERT_TRUE(worker_->poll_once());
  // Both short now: the 3 and the 16 leave at once.
  EXPECT_EQ(out_.sent, (std::vector<uint16_t>{kBurstSize, 3 + kBurstSize / 2}));
  EXPECT_EQ(worker_->counters().ports[1].tx_packets, kBurstSize + kBurstSize / 2 + 3u);
}

// dataplane.tx_hold_us > 0: short bursts wait for the drain timer too, to leave together.
TEST_F(LcoreWorkerTest, WithAHoldShortBurstsWaitForTheTimer) {
  stop();
  start(true);
  in_a_.to_receive = {3};
  in_b_.to_receive = {2};
  EXPECT_TRUE(worker_->poll_once());
  EXPECT_FALSE(worker_->poll_once());
  EXPECT_TRUE(out_.sent.empty()) << "held: the timer (never, here) has not run out";
  const unsigned free_before = rte_mempool_avail_count(test::EalEnvironment::pool());
  stop();
  EXPECT_EQ(rte_mempool_avail_count(test::EalEnvironment::pool()), free_before + 5)
      << "a stopped worker frees what it held";
}

// Hands every packet to the kernel, as a tunnel's decrypted packet when `tunnel`.
class ToKernel : public Stage {
 public:
  explicit ToKernel(bool tunnel) : tunnel_(tunnel) {}
  const char* name() const override { return "to-kernel"; }
  void process(Burst& burst) override {
    for (uint16_t i = 0; i < burst.count; ++i) {
      burst.state[i].disposition = Disposition::kToKernel;
      burst.state[i].tunnel = tunnel_;
    }
  }

 private:
  bool tunnel_;
};

class MeshKernelPathTest : public ::testing::Test {
 protected:
  void start(bool tunnel, bool with_device) {
    auto readers = QsbrReaders::create(RTE_MAX_LCORE);
    ASSERT_TRUE(readers.ok()) << readers.error();
    readers_ = std::move(*readers);
    mesh_.mac_address = {{0x02, 0x76, 0x69, 0x67, 0x69, 0x6c}};
    worker_ = std::make_unique<LcoreWorker>(0, std::vector<RxQueue>{{.port = 0, .queue = 0}},
                                            std::vector<Port*>{&wan_, &mesh_},
                                            std::vector<int>{-1, -1}, 0, *readers_, UINT64_MAX);
    if (with_device) {
      worker_->set_mesh_kernel_port(1, mesh_.mac_address);
    }
    worker_->pipeline().add(std::make_unique<ToKernel>(tunnel));
    readers_->online(0);
  }
  void TearDown() override {
    if (worker_) {
      worker_.reset();
      readers_->offline(0);
    }
  }
  uint64_t no_kernel_path() const {
    return worker_->counters().drops[static_cast<size_t>(DropReason::kNoKernelPath)];
  }

  FakePort wan_{"wan"}, mesh_{"vigil-mesh"};
  std::unique_ptr<QsbrReaders> readers_;
  std::unique_ptr<LcoreWorker> worker_;
};

TEST_F(MeshKernelPathTest, ATunnelsPacketForTheBoxGoesToTheMeshDeviceAddressedToIt) {
  start(true, true);
  wan_.to_receive = {3};
  worker_->poll_once();
  ASSERT_EQ(mesh_.destinations.size(), 3u);
  for (const rte_ether_addr& d : mesh_.destinations) {
    EXPECT_TRUE(rte_is_same_ether_addr(&d, &mesh_.mac_address));
  }
  EXPECT_EQ(no_kernel_path(), 0u);
}

TEST_F(MeshKernelPathTest, WithoutTheDeviceItIsDroppedAndCounted) {
  start(true, false);
  wan_.to_receive = {2};
  worker_->poll_once();
  EXPECT_TRUE(mesh_.destinations.empty());
  EXPECT_EQ(no_kernel_path(), 2u);
}

TEST_F(MeshKernelPathTest, APacketThatCameInTheClearNeverTakesTheMeshDevice) {
  start(false, true);  // an AF_XDP port has no exception path: the classifier passed these
  wan_.to_receive = {2};
  worker_->poll_once();
  EXPECT_TRUE(mesh_.destinations.empty());
  EXPECT_EQ(no_kernel_path(), 2u);
}

}  // namespace
}  // namespace vigil::dp
