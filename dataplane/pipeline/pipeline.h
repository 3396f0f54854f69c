// The stages of one lcore, run in registration order over each burst, then the burst's
// packets are handed out by disposition: transmitted, sent to the kernel, or freed and
// counted. No allocation and no exception on this path.
#pragma once

#include <memory>
#include <vector>

#include "dataplane/pipeline/lcore_counters.h"
#include "dataplane/pipeline/stage.h"

namespace vigil::dp {

using StagePtr = std::unique_ptr<Stage>;

class Pipeline {
 public:
  Pipeline(PacketSink& sink, LcoreCounters& counters) : sink_(sink), counters_(counters) {}

  void add(StagePtr stage) { stages_.push_back(std::move(stage)); }
  const std::vector<StagePtr>& stages() const { return stages_; }

  void run(Burst& burst);
  // The stages' timers, then the packets they made, each stage's as a burst of its own.
  // Whether there were any: an lcore that sleeps when idle is not idle while stages have
  // packets for it (another lcore's, passed to it).
  bool poll(uint64_t now_tsc, Burst& scratch) {
    for (auto& s : stages_) {
      s->poll(now_tsc);
    }
    bool made = false;
    for (auto& s : stages_) {
      while (s->originate(scratch) > 0) {
        made = true;
        run(scratch);
      }
    }
    return made;
  }

 private:
  void finish(Burst& burst);

  std::vector<StagePtr> stages_;
  PacketSink& sink_;
  LcoreCounters& counters_;
};

}  // namespace vigil::dp
