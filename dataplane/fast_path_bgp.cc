// FastPathControl's BGP: zebra's routes over FPM into the FIB. The session (bgp/fpm/) keeps
// what zebra sent across its reconnects; each change goes through the selection (the config's
// routes win at a lower distance) and reaches the route table as an update of the prefixes it
// names, never as a new table (a full table is a million routes). Only zebra's BGP routes are
// taken: it also sends the kernel's and the connected ones (protocol kernel), which vigil-dp
// has from the config, and the kernel fallback's own routes come back that way.
#include <pwd.h>

#include "common/logging.h"
#include "common/net/tcp_peer_owner.h"
#include "dataplane/fast_path_control.h"
#include "dataplane/forwarding/fpm_routes.h"
#include "dataplane/runtime/fast_path.h"

namespace vigil::dp {
namespace {

// FRR's daemons run as this user (Debian's package makes it); zebra connects as it.
std::vector<uid_t> frr_users() {
  std::vector<uid_t> users;
  if (const passwd* frr = ::getpwnam("frr"); frr != nullptr) {
    users.push_back(frr->pw_uid);
  }
  return users;
}

}  // namespace

void FastPathControl::apply_bgp(const FastPathPlan& plan) {
  bgp_wanted_ = plan.bgp;
  if (bgp_wanted_ || !fpm_session_) {
    return;  // the listener starts at the next tick (it needs the loop)
  }
  // BGP removed: zebra's routes leave the FIB, the config's come back under them.
  fpm_server_.reset();
  std::vector<RouteUpdate> updates = selection_.clear_bgp();
  fpm_session_.reset();
  if (running() && !updates.empty()) {
    if (Status ok = fast_path_->routes().update(updates); !ok) {
      log::error("BGP removed, but its routes could not all be withdrawn from the FIB",
                 {{"error", ok.error()}});
    }
  }
  log::info("BGP removed: the FPM listener is closed and zebra's routes withdrawn");
}

void FastPathControl::stop_serving() {
  fpm_server_.reset();  // while the loop it is registered with still exists
  loop_ = nullptr;
}

void FastPathControl::take_bgp_changes() {
  if (!fpm_session_ || !running()) {
    return;
  }
  for (const std::string& e : fpm_session_->take_errors()) {
    log::warn(e);
  }
  std::vector<fpm::RouteChange> changes = fpm_session_->take_changes();
  if (changes.empty()) {
    return;
  }
  std::vector<RouteUpdate> updates;
  updates.reserve(changes.size());
  for (const fpm::RouteChange& c : changes) {
    if (auto u = selection_.set_bgp(c.prefix, c.route ? bgp_target(*c.route) : std::nullopt)) {
      updates.push_back(std::move(*u));
    }
  }
  if (updates.empty()) {
    return;
  }
  RouteTable& table = fast_path_->routes();
  if (Status ok = table.update(updates); ok) {
    return;
  }
  // The batch does not fit as a whole. The selection keeps the FIB's route count within its
  // capacity, so this is the next-hop groups' limit (or a FIB that ran out of its tables for
  // long prefixes): what fits goes in one by one, what does not is counted and said once per
  // batch (the selection then names a route the FIB does not have: shown by
  // vigil_dp_bgp_not_installed_total until the next commit or link change reselects).
  std::string first_error;
  for (const RouteUpdate& u : updates) {
    if (Status ok = table.update({u}); !ok) {
      ++bgp_not_installed_;
      if (first_error.empty()) {
        first_error = ok.error();
      }
    }
  }
  if (!first_error.empty()) {
    log::error("BGP: routes from zebra not installed in the FIB",
               {{"error", first_error}, {"not_installed_total", bgp_not_installed_}});
  }
}

std::optional<NextHopGroup> FastPathControl::bgp_target(const fpm::ResolvedRoute& route) const {
  if (route.protocol != fpm::kProtocolBgp) {
    return std::nullopt;  // zebra's kernel and connected routes: vigil-dp has them itself
  }
  return fpm_route_target(route, port_by_ifindex_, down_);
}

void FastPathControl::reselect_bgp() {
  if (!fpm_session_) {
    return;
  }
  for (const fpm::ResolvedRoute& r : fpm_session_->store().resolved()) {
    (void)selection_.set_bgp(r.prefix, bgp_target(r));  // the caller applies the whole set
  }
}

void FastPathControl::tick_bgp() {
  const auto now = std::chrono::steady_clock::now();
  if (bgp_wanted_ && !fpm_server_ && loop_ != nullptr && running() && now >= bgp_retry_at_) {
    if (!fpm_session_) {
      fpm_session_ = std::make_unique<fpm::FpmSession>();
    }
    auto server = fpm::FpmServer::start(
        *loop_, {.allowed_users = frr_users()}, *fpm_session_, [this] { take_bgp_changes(); },
        net::tcp_peer_owner);
    if (server) {
      fpm_server_ = std::move(*server);
      log::info("BGP: listening for zebra's FPM connection", {{"port", fpm_server_->port()}});
    } else {
      bgp_retry_at_ = now + std::chrono::seconds(5);
      log::error(
          "BGP: the FPM listener did not start; zebra's routes cannot reach the fast "
          "path (retried every 5 s)",
          {{"error", server.error()}});
    }
  }
  if (fpm_server_) {
    fpm_server_->tick(now);
    take_bgp_changes();
  }
}

void FastPathControl::update_bgp_metrics(MetricsRegistry& metrics) {
  auto& connected = metrics.gauge("vigil_dp_fpm_connected", "1 while zebra is connected over FPM");
  auto& routes = metrics.gauge(
      "vigil_dp_bgp_routes",
      "Routes from zebra: held, selected into the FIB, and held but not selected for want of "
      "room in the FIB or for falling inside a mesh prefix");
  connected.Add({}).Set(fpm_session_ && fpm_session_->is_connected() ? 1 : 0);
  routes.Add({{"state", "held"}}).Set(static_cast<double>(selection_.bgp_routes()));
  routes.Add({{"state", "selected"}}).Set(static_cast<double>(selection_.bgp_selected()));
  routes.Add({{"state", "over_capacity"}}).Set(static_cast<double>(selection_.bgp_over_capacity()));
  routes.Add({{"state", "inside_mesh"}}).Set(static_cast<double>(selection_.bgp_inside_mesh()));
  if (!fpm_session_) {
    return;
  }
  const fpm::FpmCounters& c = fpm_session_->counters();
  auto& fpm = metrics.counter("vigil_dp_fpm_total",
                              "What zebra sent over FPM, by kind: frames, messages applied, "
                              "ignored (not IP routing), refused, bytes");
  exported_.set(fpm, {{"kind", "frames"}}, c.frames);
  exported_.set(fpm, {{"kind", "messages"}}, c.messages);
  exported_.set(fpm, {{"kind", "ignored"}}, c.ignored);
  exported_.set(fpm, {{"kind", "errors"}}, c.errors);
  exported_.set(fpm, {{"kind", "bytes"}}, c.bytes);
  exported_.set(
      metrics.counter("vigil_dp_fpm_connections_total", "zebra's FPM connections accepted"), {},
      c.connections);
  exported_.set(metrics.counter("vigil_dp_fpm_resyncs_total",
                                "zebra's replays that ended, what it no longer had swept"),
                {}, c.resyncs);
  exported_.set(metrics.counter("vigil_dp_fpm_swept_total",
                                "Routes and next hops zebra did not send again after a reconnect"),
                {}, c.swept);
  exported_.set(metrics.counter("vigil_dp_fpm_stream_errors_total",
                                "FPM connections closed because the stream made no sense"),
                {}, c.stream_errors);
  if (fpm_server_) {
    exported_.set(metrics.counter("vigil_dp_fpm_refused_peers_total",
                                  "Connections to the FPM port not from root or FRR's user"),
                  {}, fpm_server_->counters().refused_peers);
  }
  exported_.set(metrics.counter("vigil_dp_bgp_not_installed_total",
                                "Route changes from zebra the FIB could not take"),
                {}, bgp_not_installed_);
}

}  // namespace vigil::dp
