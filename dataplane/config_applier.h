// vigil-dp as a commit component: its sections of a delta are parsed and checked once, at
// prepare, and the parsed config is what activate applies to each part of vigil-dp (the XDP
// ports, the fast path). When a part fails, every part applied so far, the failed one too,
// is put back on the config applied before, so vigil-dp is never left half on the new one and
// vigild can report the commit as failed. Before the first config took in this process there
// is nothing to go back to: the parts that took keep it, and the failure is reported.
//
// What a part can take only by starting again (the DPDK fast path's settings and ports: its
// EAL starts once per process) is applied by restarting vigil-dp on the new config: the
// activation hands the sections to the restart hook, which re-executes the process on them.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/config_transaction.h"
#include "common/expected.h"
#include "config/config.h"

namespace vigil::dp {

// A part of vigil-dp that takes the whole config.
class ConfigTarget {
 public:
  virtual ~ConfigTarget() = default;
  virtual std::string name() const = 0;  // for errors: "XDP classifier", "fast path"
  // What apply() would refuse, changing nothing.
  virtual Status check(const config::Config& config) const = 0;
  virtual Status apply(const config::Config& config) = 0;
  // Whether `config` (which check() accepts) takes a new process to apply.
  virtual bool needs_restart(const config::Config& /*config*/) const { return false; }
};

// Starts vigil-dp again on `sections` (its sections of the committed config, as JSON); Ok
// once that is under way. What the process does after answering the activation.
using RestartHook = std::function<Status(const nlohmann::json& sections)>;

class ConfigApplier {
 public:
  // Parts in the order they apply; the fast path binds to the classifier's sockets, so the
  // classifier goes first.
  explicit ConfigApplier(std::vector<ConfigTarget*> targets) : targets_(std::move(targets)) {}

  // Without one, a change that needs a restart is refused at prepare.
  void on_restart(RestartHook hook) { restart_ = std::move(hook); }

  // `delta` ({section: content, or null}) over the sections applied so far, parsed with the
  // schema vigild validated it with and checked by every part. Errors name the part.
  // A change that needs a restart is applied by the restart hook (restarts is set).
  Expected<PreparedChange> prepare(const nlohmann::json& delta);

  // The config in force: changed only by an activation that took.
  const config::Config& applied() const { return applied_; }

 private:
  struct Prepared {
    nlohmann::json sections;  // applied_sections_ with the delta over it
    config::Config config;
  };
  Status activate(const Prepared& prepared);
  Status restart_on(const Prepared& prepared);

  std::vector<ConfigTarget*> targets_;
  RestartHook restart_;
  // A restart is under way: the process is on its way out, so every later change goes to the
  // restart too (the file rewritten), never in place on the old process.
  bool restarting_ = false;
  nlohmann::json applied_sections_ = nlohmann::json::object();
  config::Config applied_;
  bool applied_once_ = false;
};

}  // namespace vigil::dp
