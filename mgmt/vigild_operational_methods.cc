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
  // A manual override of a peer's path (operators): audited whether or not vigil-dp takes it,
  // since the attempt is the operator's act; vigil-dp checks the peer, link and endpoint.
  add_deferred(
      "request.path.prefer", Role::kOperator,
      [this](const json& p, const Caller& c, rpc::Reply reply) {
        const auto text = [&](const char* key) {
          return p.is_object() && p.contains(key) && p[key].is_string() ? p[key].get<std::string>()
                                                                        : std::string();
        };
        const bool automatic = p.is_object() && p.value("auto", false);
        if (!p.is_object() || text("peer").empty() || (automatic == !text("link").empty()) ||
            (p.contains("endpoint") && !p["endpoint"].is_string()) ||
            (p.contains("auto") && !p["auto"].is_boolean())) {
          reply(
              rpc::invalid_params("params: {\"peer\": name, \"link\": wan interface, \"endpoint\": "
                                  "host:port (optional)} or {\"peer\": name, \"auto\": true}"));
          return;
        }
        audit_.record("path-prefer", {{"user", c.user},
                                      {"peer", text("peer")},
                                      {"link", automatic ? "auto" : text("link")},
                                      {"endpoint", text("endpoint")}});
        proxy_call("vigil-dp", "mesh.prefer", std::move(reply), p);
      });
}

}  // namespace vigil::mgmt
