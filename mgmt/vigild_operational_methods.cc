// vigild's operational methods: the components it commits to and supervises, and vigil-dp's
// state fetched through the component proxy.
#include "common/api/vigild_answers.h"
#include "mgmt/vigild_service.h"

namespace vigil::mgmt {

using config::Role;
using nlohmann::json;

void VigildService::register_operational_methods() {
  add("show.processes", Role::kViewer, [this](const json&, const Caller&) -> rpc::CallResult {
    std::vector<api::ProcessStatus> out;
    for (const auto& [name, socket] : settings_.components) {
      api::ProcessStatus entry{.name = name};
      if (supervisor_) {
        for (const auto& child : supervisor_->state()) {
          if (child.name == name) {
            entry = child;
            entry.supervised = true;
          }
        }
      }
      entry.socket = socket;
      entry.reachable = engine_->reachable().contains(name) && engine_->reachable().at(name);
      out.push_back(std::move(entry));
    }
    return json(out);
  });

  add("show.classifier", Role::kViewer,
      [this](const json&, const Caller&) { return proxy_.call("vigil-dp", "classifier.show"); });
  add("show.dataplane", Role::kViewer,
      [this](const json&, const Caller&) { return proxy_.call("vigil-dp", "dataplane.show"); });
}

}  // namespace vigil::mgmt
