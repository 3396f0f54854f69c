// First stage: the same parser as the XDP classifier (ebpf/include/vigil/parse.h, host build)
// so both agree on what a packet is. Not IP (ARP, LLDP) goes to the kernel; malformed is
// dropped and counted.
#pragma once

#include "dataplane/pipeline/stage.h"

namespace vigil::dp {

class ParseStage final : public Stage {
 public:
  const char* name() const override { return "parse"; }
  void process(Burst& burst) override;
};

}  // namespace vigil::dp
