// vigild's own JSON-RPC errors, in the server range after common/json_rpc.h's codes.
#pragma once

#include <string>

#include "common/json_rpc.h"

namespace vigil::mgmt {

inline constexpr int kCommitFailed = -32010;   // a commit, confirm or rollback did not happen
inline constexpr int kNotConfigured = -32011;  // no such component is configured
inline constexpr int kComponentUnavailable = -32012;  // a component vigild asked did not answer
inline constexpr int kCandidateInvalid = -32013;      // the candidate does not validate: no commit
inline constexpr int kCandidateConflict = -32014;     // running changed under the candidate
// Nothing to do: a commit of the running config, a confirm with no commit pending.
inline constexpr int kNothingToDo = -32015;
// Another site refused a mesh request (a join's token, an announcement), or was not reached.
inline constexpr int kMeshRefused = -32016;
inline constexpr int kMeshUnreachable = -32017;

inline rpc::Error api_error(int code, std::string message) {
  return rpc::Error{code, std::move(message)};
}

}  // namespace vigil::mgmt
