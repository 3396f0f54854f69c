// vigild's operational methods: the components it commits to and supervises, and vigil-dp's
// state fetched through the component proxy.
#include "mgmt/vigild_service.h"

namespace vigil::mgmt {

using config::Role;
using nlohmann::json;

void VigildService::register_operational_methods() {
  add("show.processes", Role::kViewer, [this](const json&, const Caller&) -> rpc::CallResult {
    json out = json::array();
    for (const auto& [name, socket] : settings_.components) {
      json entry = {
          {"name", name},
          {"socket", socket},
          {"supervised", false},
          {"reachable", engine_->reachable().contains(name) && engine_->reachable().at(name)}};
      if (supervisor_) {
        for (const auto& child : supervisor_->state()) {
          if (child["name"] == name) {
            entry.update(child);
            entry["supervised"] = true;
          }
        }
      }
      out.push_back(entry);
    }
    return out;
  });

  add("show.classifier", Role::kViewer,
      [this](const json&, const Caller&) { return proxy_.call("vigil-dp", "classifier.show"); });
  add("show.dataplane", Role::kViewer,
      [this](const json&, const Caller&) { return proxy_.call("vigil-dp", "dataplane.show"); });
}

}  // namespace vigil::mgmt
