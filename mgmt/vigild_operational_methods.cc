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
      const auto reachable = engine_->reachable();
      entry.reachable = reachable.contains(name) && reachable.at(name);
      out.push_back(std::move(entry));
    }
    return json(out);
  });

  add_deferred("show.classifier", Role::kViewer,
               [this](const json&, const Caller&, rpc::Reply reply) {
                 proxy_call("vigil-dp", "classifier.show", std::move(reply));
               });
  add_deferred("show.dataplane", Role::kViewer,
               [this](const json&, const Caller&, rpc::Reply reply) {
                 proxy_call("vigil-dp", "dataplane.show", std::move(reply));
               });
  add_deferred("show.tunnels", Role::kViewer, [this](const json&, const Caller&, rpc::Reply reply) {
    proxy_call("vigil-dp", "mesh.show", std::move(reply));
  });
}

}  // namespace vigil::mgmt
