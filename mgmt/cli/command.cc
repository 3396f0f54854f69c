#include "mgmt/cli/command.h"

#include <array>

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

constexpr std::array<ExitCode, 10> kExitCodes = {{
    {kExitOk, "done", "done"},
    {kExitFailed, "failed", "a check found problems (`validate`), or vigild failed inside"},
    {kExitNothing, "nothing",
     "nothing to do: a `commit` of a candidate that is the running config (refused, so it does "
     "not push the oldest of the 50 kept commits out), a `confirm` with no commit waiting"},
    {kExitUsage, "usage", "the command line is wrong"},
    {kExitInvalid, "invalid",
     "vigild refused the input: a value that does not fit its type, an unknown path, a "
     "candidate that does not validate at `commit`"},
    {kExitUnavailable, "unreachable",
     "vigild could not be reached (not running, socket permissions)"},
    {kExitComponent, "component",
     "a component failed the commit, or did not answer vigild (`show interfaces` with vigil-dp "
     "down)"},
    {kExitBusy, "busy", "vigild is busy (too many commits or parses waiting): try again"},
    {kExitConflict, "conflict",
     "others committed since your candidate was made (`update`), or `update` found you both "
     "changed the same thing"},
    {kExitPermission, "permission", "your role does not allow it (a viewer's `set`, `commit`)"},
}};

std::string_view kind_of_exit(int code) {
  for (const ExitCode& e : kExitCodes) {
    if (e.code == code) {
      return e.kind;
    }
  }
  return "failed";
}

}  // namespace

std::span<const ExitCode> exit_codes() {
  return kExitCodes;
}

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
