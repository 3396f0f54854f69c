// vigild's operational methods: the components it commits to and supervises, and vigil-dp's
// state fetched through the component proxy.
#include <algorithm>

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
    // Supervised programs vigild does not commit to over a socket (FRR's daemons).
    if (supervisor_) {
      for (auto& child : supervisor_->state()) {
        if (std::none_of(out.begin(), out.end(),
                         [&child](const api::ProcessStatus& p) { return p.name == child.name; })) {
          out.push_back(std::move(child));
        }
      }
    }
    return json(out);
  });

  add_deferred("show.classifier", Role::kViewer,
               [this](const json&, const Caller&, const rpc::Reply& reply) {
                 proxy_call("vigil-dp", "classifier.show", reply);
               });
  add_deferred("show.dataplane", Role::kViewer,
               [this](const json&, const Caller&, const rpc::Reply& reply) {
                 proxy_call("vigil-dp", "dataplane.show", reply);
               });
  add_deferred("show.tunnels", Role::kViewer,
               [this](const json&, const Caller&, const rpc::Reply& reply) {
                 proxy_call("vigil-dp", "mesh.show", reply);
               });
  add_deferred("show.l7", Role::kViewer,
               [this](const json&, const Caller&, const rpc::Reply& reply) {
                 proxy_call("vigil-l7", "l7.show", reply);
               });
  // A manual override of a peer's path (operators): audited with its outcome, whether vigil-dp
  // takes it or not, since the attempt is the operator's act; vigil-dp checks the peer, link
  // and endpoint against its paths.
  add_deferred(
      "request.path.prefer", Role::kOperator,
      [this](const json& p, const Caller& c, rpc::Reply reply) {
        // Names as the config allows them (63), a host:port as long as an IPv6 one can be.
        const auto text = [&](const char* key, size_t limit) -> std::optional<std::string> {
          if (!p.is_object() || !p.contains(key)) {
            return std::string();
          }
          if (!p[key].is_string() || p[key].get_ref<const std::string&>().size() > limit) {
            return std::nullopt;
          }
          return p[key].get<std::string>();
        };
        const auto peer = text("peer", 63), link = text("link", 63),
                   endpoint = text("endpoint", 64);
        const bool automatic =
            p.is_object() && p.contains("auto") && p["auto"].is_boolean() && p["auto"].get<bool>();
        const bool auto_ok = !p.is_object() || !p.contains("auto") || p["auto"].is_boolean();
        if (!peer || !link || !endpoint || peer->empty() || !auto_ok ||
            automatic == !link->empty() || (automatic && !endpoint->empty())) {
          reply(rpc::invalid_params(
              "params: {\"peer\": name, \"link\": wan interface, \"endpoint\": host:port "
              "(optional)} or {\"peer\": name, \"auto\": true}; names of at most 63 bytes"));
          return;
        }
        json params{{"peer", *peer}};
        if (automatic) {
          params["auto"] = true;
        } else {
          params["link"] = *link;
          if (!endpoint->empty()) {
            params["endpoint"] = *endpoint;
          }
        }
        proxy_call(
            "vigil-dp", "mesh.prefer",
            [this, reply = std::move(reply), user = c.user, peer = *peer,
             link = automatic ? "auto" : *link, endpoint = *endpoint](rpc::CallResult r) {
              audit_.record("path-prefer",
                            {{"user", user},
                             {"peer", peer},
                             {"link", link},
                             {"endpoint", endpoint},
                             {"result", rpc::is_error(r) ? std::get<rpc::Error>(r).message
                                                         : std::string("done")}});
              reply(std::move(r));
            },
            params);
      });
}

}  // namespace vigil::mgmt
