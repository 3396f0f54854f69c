// vigil-dp as a commit component: its sections of a delta are parsed and checked once, at
// prepare, and the parsed config is what activate applies to each part of vigil-dp (the XDP
// ports, the fast path). When a part fails, every part applied so far, the failed one too,
// is put back on the config applied before, so vigil-dp is never left half on the new one and
// vigild can report the commit as failed. Before the first config took in this process there
// is nothing to go back to: the parts that took keep it, and the failure is reported.
#pragma once

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
};

class ConfigApplier {
 public:
  // Parts in the order they apply; the fast path binds to the classifier's sockets, so the
  // classifier goes first.
  explicit ConfigApplier(std::vector<ConfigTarget*> targets) : targets_(std::move(targets)) {}

  // `delta` ({section: content, or null}) over the sections applied so far, parsed with the
  // schema vigild validated it with and checked by every part. Errors name the part.
  Expected<Activation> prepare(const nlohmann::json& delta);

  // The config in force: changed only by an activation that took.
  const config::Config& applied() const { return applied_; }

 private:
  struct Prepared {
    nlohmann::json sections;  // applied_sections_ with the delta over it
    config::Config config;
  };
  Status activate(const Prepared& prepared);

  std::vector<ConfigTarget*> targets_;
  nlohmann::json applied_sections_ = nlohmann::json::object();
  config::Config applied_;
  bool applied_once_ = false;
};

}  // namespace vigil::dp
