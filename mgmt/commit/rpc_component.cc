#include "mgmt/commit/rpc_component.h"

namespace vigil::mgmt::commit {

using nlohmann::json;

SectionsAnswer RpcComponent::sections() {
  auto r = client_.call("config.sections", json::object(), deadlines_.sections);
  if (rpc::is_error(r)) {
    const rpc::Error& e = std::get<rpc::Error>(r);
    return {.kind = e.code == rpc::kNotListening ? SectionsAnswer::kNotRunning
                                                 : SectionsAnswer::kNoAnswer,
            .error = e.message};
  }
  const json& j = std::get<json>(r);
  if (!j.is_array()) {
    return {.kind = SectionsAnswer::kNoAnswer,
            .error = name_ + " answered config.sections with something other than a list"};
  }
  SectionsAnswer out{.instance = client_.server_pid()};
  for (const json& s : j) {
    if (s.is_string()) {
      out.sections.push_back(s.get<std::string>());
    }
  }
  return out;
}

Status RpcComponent::prepare(uint64_t txid, const json& delta) {
  auto r = client_.call("prepare", {{"txid", txid}, {"delta", delta}}, deadlines_.prepare);
  if (rpc::is_error(r)) {
    return fail(std::get<rpc::Error>(r).message);
  }
  return Ok{};
}

ActivateResult RpcComponent::activate(uint64_t txid) {
  auto r = client_.call("activate", {{"txid", txid}}, deadlines_.activate);
  if (!rpc::is_error(r)) {
    const json& answer = std::get<json>(r);
    return {.restarting = answer.is_object() && answer.value("restarting", false)};
  }
  const rpc::Error& e = std::get<rpc::Error>(r);
  const bool no_answer =
      e.code == rpc::kNotListening || e.code == rpc::kTransportError || e.code == rpc::kTimeout;
  return {.kind = no_answer ? ActivateResult::kNoAnswer : ActivateResult::kRefused,
          .error = e.message};
}

void RpcComponent::abort(uint64_t txid) {
  (void)client_.call("abort", {{"txid", txid}}, deadlines_.abort);
}

}  // namespace vigil::mgmt::commit
