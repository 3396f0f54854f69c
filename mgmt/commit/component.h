// A process that applies part of the config (vigil-dp, vigil-l7, FRR's renderer), as the
// commit transaction sees it. vigild talks to real ones over JSON-RPC (RpcComponent); unit
// tests use fakes.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/expected.h"

namespace vigil::mgmt::commit {

// How an activation ended. A component that refused kept its previous config; one that did
// not answer (timed out, connection broken) may have applied the new one or not.
struct ActivateResult {
  enum Kind { kDone, kRefused, kNoAnswer };
  Kind kind = kDone;
  std::string error;
  // Done, by starting the component again on the new config (vigil-dp's DPDK settings).
  bool restarting = false;
  bool ok() const { return kind == kDone; }
};

// What asking a component for its sections found: it answered, nothing listens on its socket
// (not running: it gets the config when it starts), or it is there but did not answer in time
// (stopped, hung, overloaded: a commit must not go on without it).
struct SectionsAnswer {
  enum Kind { kAnswered, kNotRunning, kNoAnswer };
  Kind kind = kAnswered;
  std::vector<std::string> sections;
  std::string error;
  // Which process answered (its pid), or 0 when unknown: a component restarted between two
  // questions must be given the running config again.
  int64_t instance = 0;
  bool answered() const { return kind == kAnswered; }
};

class Component {
 public:
  virtual ~Component() = default;
  virtual const std::string& name() const = 0;
  // The top-level sections it applies, or why there is no answer.
  virtual SectionsAnswer sections() = 0;
  // Checks and stages `delta` ({section: new content or null}) without applying it.
  virtual Status prepare(uint64_t txid, const nlohmann::json& delta) = 0;
  // Applies what was staged.
  virtual ActivateResult activate(uint64_t txid) = 0;
  // Drops what was staged. Best effort: a component that is gone has nothing staged.
  virtual void abort(uint64_t txid) = 0;
};

using ComponentPtr = std::unique_ptr<Component>;

}  // namespace vigil::mgmt::commit
