// The XDP classifier as a C++ object: loads the program (from the bpftool skeleton built into
// the binary), attaches it to interfaces, keeps maps and links pinned so the program outlives
// vigil-dp, applies configs as diffs to the maps and reads the counters.
//
// Pinning: with a pin directory (one per interface, /sys/fs/bpf/vigil/<ifname>), maps are
// pinned there by name and the XDP link as "link". A new Classifier on the same directory
// reuses the pinned maps (the state is read back), and attach() swaps its program into the
// pinned link atomically: traffic never sees the interface without a program.
#pragma once

#include <memory>
#include <span>
#include <string>

#include "common/expected.h"
#include "ebpf/loader/bpf_maps.h"
#include "ebpf/loader/classifier_config.h"
#include "ebpf/loader/classifier_state.h"
#include "ebpf/loader/counters.h"

struct vigil_classifier;
struct bpf_link;

namespace vigil::ebpf {

struct ClassifierOptions {
  uint32_t features = 0x3f;  // VIGIL_FEATURE_*: what the program checks at all
  std::string pin_dir;       // empty: nothing pinned, everything goes with the object
};

enum class XdpMode { kNative, kGeneric };

class Classifier {
 public:
  static Expected<std::unique_ptr<Classifier>> load(const ClassifierOptions& options);
  ~Classifier();
  Classifier(const Classifier&) = delete;
  Classifier& operator=(const Classifier&) = delete;

  // Native mode when the driver has it, generic otherwise (logged as a warning). Replaces the
  // program in a pinned link of an earlier run instead of attaching anew.
  Status attach(const std::string& ifname);
  // Detaches and forgets the pinned link and maps: the interface is left without a program.
  Status detach();
  XdpMode mode() const { return mode_; }
  bool adopted() const { return adopted_; }  // maps came from an earlier run

  Status apply(const ClassifierConfig& config);
  ClassifierCounters counters();

  // One run of the program over `frame` through BPF_PROG_TEST_RUN (tests and benchmarks):
  // the XDP action, the frame as the program left it, and the mean time per run.
  struct RunResult {
    int action = 0;
    std::vector<uint8_t> output;
    uint32_t ns_per_run = 0;
  };
  Expected<RunResult> run(std::span<const uint8_t> frame, uint32_t repeat = 1,
                          uint32_t rx_queue = 0);

  MapAccess& maps() { return maps_; }
  int program_fd() const;

 private:
  Classifier() = default;

  ClassifierOptions options_;
  vigil_classifier* skel_ = nullptr;
  BpfMaps maps_;
  ClassifierState state_;
  bpf_link* link_ = nullptr;
  std::string link_path_;
  XdpMode mode_ = XdpMode::kNative;
  bool adopted_ = false;
};

// Creates `dir` for pins, mounting bpffs on /sys/fs/bpf first when `dir` is under it and it is
// not mounted (as under `ip netns exec`, which remounts /sys). Elsewhere `dir` must already be
// on a bpffs: pins in a mount only one process sees would not survive its restart.
Status ensure_pin_dir(const std::string& dir);

}  // namespace vigil::ebpf
