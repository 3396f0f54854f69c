// The mesh's two places in an lcore's pipeline, over the lcore's LcoreTunnels: receive after
// parse (decapsulated packets then pass admit and route like any other) and send after route
// (sealed packets then find their gateway's MAC in the neighbour stage). The send stage also
// takes the control thread's commands and hands out what the lcore made (keepalives,
// handshake messages, packets that waited for a session).
#pragma once

#include "dataplane/mesh/lcore_tunnels.h"
#include "dataplane/pipeline/stage.h"

namespace vigil::dp {

class MeshReceiveStage final : public Stage {
 public:
  explicit MeshReceiveStage(LcoreTunnels& tunnels) : tunnels_(tunnels) {}
  const char* name() const override { return "mesh-receive"; }
  void process(Burst& burst) override { tunnels_.receive(burst); }

 private:
  LcoreTunnels& tunnels_;
};

class MeshSendStage final : public Stage {
 public:
  explicit MeshSendStage(LcoreTunnels& tunnels) : tunnels_(tunnels) {}
  const char* name() const override { return "mesh-send"; }
  void process(Burst& burst) override { tunnels_.send(burst); }
  void poll(uint64_t /*now_tsc*/) override { tunnels_.poll(); }
  uint16_t originate(Burst& burst) override { return tunnels_.originate(burst); }

 private:
  LcoreTunnels& tunnels_;
};

}  // namespace vigil::dp
