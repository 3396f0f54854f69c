#include "mgmt/cli/command.h"

#include "mgmt/api_errors.h"

namespace vigil::mgmt::cli {

Output usage_error(std::string_view how) {
  return {.exit_code = kExitUsage, .err = "vigil: usage: " + std::string(how) + "\n"};
}

Output failure(std::string_view message, int exit_code) {
  return {.exit_code = exit_code, .err = "vigil: " + std::string(message) + "\n"};
}

Answer Invocation::call(std::string_view method, const nlohmann::json& params,
                        std::string_view what) {
  auto result = vigild.call(method, params, std::chrono::seconds(60));
  if (!rpc::is_error(result)) {
    return Answer(std::move(std::get<nlohmann::json>(result)));
  }
  const rpc::Error& e = std::get<rpc::Error>(result);
  return Answer(failure(std::string(what) + ": " + e.message, exit_code_of_error(e.code)));
}

int exit_code_of_error(int rpc_code) {
  switch (rpc_code) {
    case rpc::kNotListening:
    case rpc::kTransportError:
    case rpc::kTimeout:
      return kExitUnavailable;
    case rpc::kPermissionDenied:
      return kExitPermission;
    case rpc::kInvalidParams:
    case kCandidateInvalid:
      return kExitInvalid;
    case kCommitFailed:
    case kComponentUnavailable:
    case kNotConfigured:
    case rpc::kActivateFailed:
      return kExitComponent;
    case kCandidateConflict:
      return kExitConflict;
    case rpc::kServerBusy:
    case rpc::kTooManyConnections:
      return kExitBusy;
    default:
      return kExitFailed;
  }
}

const nlohmann::json& member(const nlohmann::json& obj, std::string_view key) {
  static const nlohmann::json null_json;
  if (!obj.is_object()) {
    return null_json;
  }
  const auto it = obj.find(key);
  return it == obj.end() ? null_json : *it;
}

std::string json_text(const nlohmann::json& value) {
  return value.dump(2) + "\n";
}

}  // namespace vigil::mgmt::cli
