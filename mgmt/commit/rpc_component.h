// A Component reached over its JSON-RPC control socket.
#pragma once

#include <chrono>

#include "common/json_rpc_client.h"
#include "mgmt/commit/component.h"

namespace vigil::mgmt::commit {

// Deadlines, each documented in docs/operations.md: asking for the sections is how vigild
// finds whether a component is up, every second, on its one thread, so it is short;
// prepare parses and checks a whole config; an activation may start vigil-dp's fast path
// (DPDK's EAL and the ports).
struct ComponentDeadlines {
  std::chrono::milliseconds sections = std::chrono::milliseconds(500);
  std::chrono::milliseconds prepare = std::chrono::seconds(10);
  std::chrono::milliseconds activate = std::chrono::seconds(60);
  std::chrono::milliseconds abort = std::chrono::seconds(1);
};

class RpcComponent final : public Component {
 public:
  RpcComponent(std::string name, std::string socket, ComponentDeadlines deadlines = {})
      : name_(std::move(name)), client_(std::move(socket)), deadlines_(deadlines) {}

  const std::string& name() const override { return name_; }
  SectionsAnswer sections() override;
  Status prepare(uint64_t txid, const nlohmann::json& delta) override;
  ActivateResult activate(uint64_t txid) override;
  void abort(uint64_t txid) override;

 private:
  std::string name_;
  rpc::Client client_;
  ComponentDeadlines deadlines_;
};

}  // namespace vigil::mgmt::commit
