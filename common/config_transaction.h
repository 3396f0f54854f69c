// The component side of vigild's two-phase commit. prepare parses and checks a delta once and
// keeps what it built (an Activation) under the transaction id; activate runs exactly that
// and reports whether it took; abort drops it. One transaction at a time: a new prepare
// discards the one before, because vigild commits one at a time, each delta is relative to
// what was applied before it, and what a vigild that died between its phases left must not
// pile up. A prepared change also expires (kPreparedLifetime), longer than any commit takes
// between its prepare and its last activate (each activate may take 60 s, and a failed one
// restores the others): one vigild never came back for must not hold memory for ever.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/expected.h"

namespace vigil {

// Applies a prepared change. On failure the component must be as it was before the call
// (nothing half-applied) and the message says what failed.
using Activation = std::function<Status()>;

// What prepare built: the activation, and whether running it restarts the component (which
// activate's answer tells vigild, for the operator).
struct PreparedChange {
  Activation activate;
  bool restarts = false;
  Status operator()() const { return activate(); }
};

// Parses and checks a delta ({section: content, or null when removed}) without applying it.
using PrepareHook = std::function<Expected<PreparedChange>(const nlohmann::json& delta)>;

class ConfigTransaction {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::seconds kPreparedLifetime{600};

  // `component` names it in errors; `sections` are the top-level sections it applies, and a
  // delta naming another is refused.
  ConfigTransaction(std::string component, std::vector<std::string> sections)
      : component_(std::move(component)), sections_(std::move(sections)) {}

  // Until a hook is set, a delta prepares as nothing to do.
  void on_prepare(PrepareHook hook) { prepare_ = std::move(hook); }

  const std::vector<std::string>& sections() const { return sections_; }

  // Replaces whatever was prepared before, also when this one fails.
  Status prepare(uint64_t txid, const nlohmann::json& delta, Clock::time_point now = Clock::now());
  // Runs what `txid` prepared; it is gone afterwards, whether or not it took. `restarts`, if
  // given, says whether the component now restarts to apply it.
  Status activate(uint64_t txid, bool* restarts = nullptr);
  void abort(uint64_t txid);
  // Drops a prepared change older than kPreparedLifetime; returns its txid if it did.
  std::optional<uint64_t> expire(Clock::time_point now = Clock::now());

  // The transaction holding a prepared change, if any.
  std::optional<uint64_t> prepared() const;

 private:
  struct Prepared {
    uint64_t txid = 0;
    PreparedChange change;
    Clock::time_point prepared_at;
  };

  std::string component_;
  std::vector<std::string> sections_;
  PrepareHook prepare_;
  std::optional<Prepared> prepared_;
};

}  // namespace vigil
