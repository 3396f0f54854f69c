#include "mgmt/commit/rpc_component.h"

namespace vigil::mgmt::commit {

using nlohmann::json;

Status RpcComponent::call(std::string_view method, const json& params) {
  auto r = client_.call(method, params, timeout_);
  if (rpc::is_error(r)) {
    return fail(std::get<rpc::Error>(r).message);
  }
  return Ok{};
}

Expected<std::vector<std::string>> RpcComponent::sections() {
  auto r = client_.call("config.sections", json::object(), timeout_);
  if (rpc::is_error(r)) {
    return fail(std::get<rpc::Error>(r).message);
  }
  const json& j = std::get<json>(r);
  if (!j.is_array()) {
    return fail(name_ + " answered config.sections with something other than a list");
  }
  std::vector<std::string> out;
  for (const json& s : j) {
    if (s.is_string()) {
      out.push_back(s.get<std::string>());
    }
  }
  return out;
}

Status RpcComponent::prepare(uint64_t txid, const json& delta) {
  return call("prepare", {{"txid", txid}, {"delta", delta}});
}

ActivateResult RpcComponent::activate(uint64_t txid) {
  auto r = client_.call("activate", {{"txid", txid}}, activate_timeout_);
  if (!rpc::is_error(r)) {
    return {};
  }
  const rpc::Error& e = std::get<rpc::Error>(r);
  const bool no_answer = e.code == rpc::kTransportError || e.code == rpc::kTimeout;
  return {.kind = no_answer ? ActivateResult::kNoAnswer : ActivateResult::kRefused,
          .error = e.message};
}

void RpcComponent::abort(uint64_t txid) {
  (void)call("abort", {{"txid", txid}});
}

}  // namespace vigil::mgmt::commit
