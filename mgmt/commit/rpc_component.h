// A Component reached over its JSON-RPC control socket.
#pragma once

#include <chrono>

#include "common/json_rpc_client.h"
#include "mgmt/commit/component.h"

namespace vigil::mgmt::commit {

class RpcComponent final : public Component {
 public:
  // `timeout` bounds each call; an activation may take `activate_timeout` (vigil-dp starts its
  // fast path there: DPDK's EAL and the ports).
  RpcComponent(std::string name, std::string socket,
               std::chrono::milliseconds timeout = std::chrono::seconds(5),
               std::chrono::milliseconds activate_timeout = std::chrono::seconds(60))
      : name_(std::move(name)),
        client_(std::move(socket)),
        timeout_(timeout),
        activate_timeout_(activate_timeout) {}

  const std::string& name() const override { return name_; }
  Expected<std::vector<std::string>> sections() override;
  Status prepare(uint64_t txid, const nlohmann::json& delta) override;
  ActivateResult activate(uint64_t txid) override;
  void abort(uint64_t txid) override;

 private:
  Status call(std::string_view method, const nlohmann::json& params);

  std::string name_;
  rpc::Client client_;
  std::chrono::milliseconds timeout_;
  std::chrono::milliseconds activate_timeout_;
};

}  // namespace vigil::mgmt::commit
