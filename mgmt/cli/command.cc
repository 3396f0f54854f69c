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
  Output o = failure(std::string(what) + ": " + e.message, exit_code_of_error(e.code));
  o.rpc_code = e.code;
  return Answer(std::move(o));
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
    case kNothingToDo:
      return kExitNothing;
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
  // A word the operator typed (an error's path) may be any bytes: invalid UTF-8 is replaced,
  // not thrown.
  return value.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

namespace {

// The exit codes' names, as --json's errors and docs/operations.md's table give them.
std::string_view kind_of_exit(int code) {
  switch (code) {
    case kExitUsage:
      return "usage";
    case kExitInvalid:
      return "invalid";
    case kExitUnavailable:
      return "unreachable";
    case kExitComponent:
      return "component";
    case kExitBusy:
      return "busy";
    case kExitConflict:
      return "conflict";
    case kExitPermission:
      return "permission";
    case kExitNothing:
      return "nothing";
    default:
      return "failed";
  }
}

}  // namespace

Output json_error(Output o) {
  if (o.exit_code == kExitOk || !o.out.empty()) {
    return o;
  }
  // "vigil: what: why\n" lines, said once without the program's name.
  std::string message;
  size_t at = 0;
  while (at < o.err.size()) {
    size_t end = o.err.find('\n', at);
    end = end == std::string::npos ? o.err.size() : end;
    std::string_view line(o.err.data() + at, end - at);
    if (line.starts_with("vigil: ")) {
      line.remove_prefix(7);
    }
    message += (message.empty() ? "" : "\n") + std::string(line);
    at = end + 1;
  }
  nlohmann::json error = {
      {"code", o.exit_code},
      {"kind", kind_of_exit(o.exit_code)},
      {"message", message},
      {"path", o.path.empty() ? nlohmann::json() : nlohmann::json(o.path)},
      {"rpc_code", o.rpc_code == 0 ? nlohmann::json() : nlohmann::json(o.rpc_code)}};
  o.out = json_text({{"error", std::move(error)}});
  o.err.clear();
  return o;
}

}  // namespace vigil::mgmt::cli
