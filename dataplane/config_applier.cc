#include "dataplane/config_applier.h"

#include <memory>

#include "common/logging.h"
#include "config/document.h"

namespace vigil::dp {

Expected<PreparedChange> ConfigApplier::prepare(const nlohmann::json& delta) {
  auto prepared = std::make_shared<Prepared>();
  prepared->sections = applied_sections_;
  for (const auto& [section, content] : delta.items()) {
    prepared->sections[section] = content;
  }
  auto config = config::parse_sections(prepared->sections);
  if (!config) {
    return fail(config.error());
  }
  prepared->config = std::move(*config);
  const ConfigTarget* restarts = nullptr;
  for (const ConfigTarget* t : targets_) {
    if (auto st = t->check(prepared->config); !st) {
      return fail(t->name() + ": " + st.error());
    }
    if (restarts == nullptr && t->needs_restart(prepared->config)) {
      restarts = t;
    }
  }
  if (restarts != nullptr || restarting_) {
    if (!restart_) {
      return fail(restarts->name() +
                  ": this change needs vigil-dp to start again, and this "
                  "vigil-dp cannot restart itself");
    }
    return PreparedChange{.activate = [this, prepared] { return restart_on(*prepared); },
                          .restarts = true};
  }
  return PreparedChange{.activate = [this, prepared] { return activate(*prepared); }};
}

Status ConfigApplier::restart_on(const Prepared& prepared) {
  if (Status st = restart_(prepared.sections); !st) {
    return fail("cannot restart vigil-dp to apply the change: " + st.error());
  }
  // The process is about to be replaced; until then this is the config it stands for.
  restarting_ = true;
  applied_sections_ = prepared.sections;
  applied_ = prepared.config;
  applied_once_ = true;
  return Ok{};
}

Status ConfigApplier::activate(const Prepared& prepared) {
  for (size_t i = 0; i < targets_.size(); ++i) {
    Status st = targets_[i]->apply(prepared.config);
    if (st) {
      continue;
    }
    std::string message = targets_[i]->name() + ": " + st.error();
    if (!applied_once_) {
      // Nothing applied yet in this process: there is no config to go back to, and an empty
      // one would detach classifiers adopted from the previous run. The parts that took keep
      // the new config (the classifier goes on filtering); the failed one says why.
      return fail(message);
    }
    // Back to the config in force, the failed part first: it may have applied part of it.
    for (size_t j = i + 1; j-- > 0;) {
      if (auto restored = targets_[j]->apply(applied_); !restored) {
        log::error("could not put back the config in force",
                   {{"part", targets_[j]->name()}, {"error", restored.error()}});
        message += "; " + targets_[j]->name() + " could not be put back: " + restored.error();
      }
    }
    return fail(message);
  }
  applied_sections_ = prepared.sections;
  applied_ = prepared.config;
  applied_once_ = true;
  return Ok{};
}

}  // namespace vigil::dp
