// The stage pipeline with fake stages: stages run in registration order and only see packets
// still in flight; each disposition ends where it should (sink, kernel, counted drop, kept).
#include "dataplane/pipeline/pipeline.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/unit/dataplane/eal_environment.h"

namespace vigil::dp {
namespace {

class Sink : public PacketSink {
 public:
  void transmit(PortId port, rte_mbuf* m) override {
    sent.push_back(port);
    rte_pktmbuf_free(m);
  }
  void to_kernel(PortId, bool, rte_mbuf* m) override {
    ++kernel;
    rte_pktmbuf_free(m);
  }
  std::vector<PortId> sent;
  int kernel = 0;
};

// Decides packet `index` as told and logs which packets it saw.
class FakeStage : public Stage {
 public:
  FakeStage(std::string name, std::string& log, uint16_t index, Disposition d)
      : name_(std::move(name)), log_(log), index_(index), decision_(d) {}
  const char* name() const override { return name_.c_str(); }
  void process(Burst& burst) override {
    for (uint16_t i = 0; i < burst.count; ++i) {
      if (burst.in_flight(i)) {
        log_ += name_ + std::to_string(i) + " ";
      }
    }
    if (decision_ == Disposition::kDrop) {
      burst.drop(index_, DropReason::kBlackhole);
    } else {
      burst.state[index_].disposition = decision_;
      burst.state[index_].out_port = 3;
    }
    if (decision_ == Disposition::kTaken) {
      taken = burst.packets[index_];
    }
  }
  rte_mbuf* taken = nullptr;

 private:
  std::string name_;
  std::string& log_;
  uint16_t index_;
  Disposition decision_;
};

TEST(Pipeline, StagesRunInOrderOnWhatIsStillInFlightAndEveryPacketEndsOnce) {
  Sink sink;
  LcoreCounters counters;
  Pipeline pipeline(sink, counters);
  std::string log;
  pipeline.add(std::make_unique<FakeStage>("a", log, 0, Disposition::kDrop));
  pipeline.add(std::make_unique<FakeStage>("b", log, 1, Disposition::kToKernel));
  auto c = std::make_unique<FakeStage>("c", log, 2, Disposition::kTaken);
  FakeStage* taker = c.get();
  pipeline.add(std::move(c));
  pipeline.add(std::make_unique<FakeStage>("d", log, 3, Disposition::kTransmit));

  Burst burst;
  burst.reset(7, 5);
  for (uint16_t i = 0; i < 5; ++i) {
    burst.packets[i] = test::make_mbuf(std::vector<uint8_t>(60, 0));
    ASSERT_NE(burst.packets[i], nullptr);
  }
  const unsigned free_before = rte_mempool_avail_count(test::EalEnvironment::pool());
  pipeline.run(burst);

  EXPECT_EQ(log, "a0 a1 a2 a3 a4 b1 b2 b3 b4 c2 c3 c4 d3 d4 ");
  EXPECT_EQ(sink.sent, std::vector<PortId>{3});
  EXPECT_EQ(sink.kernel, 1);
  EXPECT_EQ(counters.to_kernel, 1u);
  EXPECT_EQ(counters.drops[static_cast<size_t>(DropReason::kBlackhole)], 1u);
  // Packet 4: no stage decided; freed and counted as a bug, never leaked.
  EXPECT_EQ(counters.drops[static_cast<size_t>(DropReason::kUnclaimed)], 1u);
  // Four mbufs went back to the pool; the taken one is the stage's.
  EXPECT_EQ(rte_mempool_avail_count(test::EalEnvironment::pool()), free_before + 4);
  rte_pktmbuf_free(taker->taken);
}

}  // namespace
}  // namespace vigil::dp
