// FastPathControl's state for people and Prometheus: `dataplane.show` (ports, drops, routes,
// neighbours, flow offload) and the vigil_dp_* metrics, from the lcores' counters summed.
#include <rte_ether.h>

#include <set>

#include "common/key_base64.h"
#include "dataplane/fast_path_control.h"
#include "dataplane/mesh/mesh_control.h"
#include "dataplane/offload/flow_offloader.h"
#include "dataplane/runtime/fast_path.h"

namespace vigil::dp {
namespace {

std::string mac_text(const rte_ether_addr& m) {
  char buf[RTE_ETHER_ADDR_FMT_SIZE];
  rte_ether_format_addr(buf, sizeof(buf), &m);
  return buf;
}

const char* action_name(RouteAction a) {
  switch (a) {
    case RouteAction::kForward:
      return "forward";
    case RouteAction::kLocal:
      return "local";
    case RouteAction::kBlackhole:
      return "blackhole";
    case RouteAction::kNoRoute:
      return "none";
  }
  return "none";
}

}  // namespace

api::DataplaneStatus FastPathControl::show() const {
  api::DataplaneStatus out{.forwarding = running()};
  if (!running()) {
    return out;
  }
  const LcoreCounters c = fast_path_->counters();
  for (size_t p = 0; p < fast_path_->ports().size(); ++p) {
    const auto& port = fast_path_->ports()[p];
    const PortStats dev = port->stats();
    out.ports.push_back({.name = port->name(),
                         .link = down_.contains(static_cast<PortId>(p)) ? "down" : "up",
                         .mac = mac_text(port->mac()),
                         .rx_packets = c.ports[p].rx_packets,
                         .rx_bytes = c.ports[p].rx_bytes,
                         .tx_packets = c.ports[p].tx_packets,
                         .tx_bytes = c.ports[p].tx_bytes,
                         .device_rx_missed = dev.rx_missed,
                         .device_tx_errors = dev.tx_errors});
  }
  for (size_t r = 0; r < c.drops.size(); ++r) {
    out.drops[std::string(kDropReasonNames[r])] = c.drops[r];
  }
  const RouteTable& table = fast_path_->routes();
  for (const auto& [prefix, id] : table.routes()) {
    const NextHopGroup& g = table.group(id);
    api::RouteStatus route{.prefix = prefix.to_string(), .action = action_name(g.action)};
    // Where it came from (route_selection.h): the ports' subnets and addresses, the config's
    // static routes, the mesh, BGP.
    if (auto source = selection_.selected_source(prefix)) {
      route.source = std::string(source_name(*source));
    }
    for (const auto& m : g.members) {
      if (m.port == kTunnelPort) {  // a peer's allowed IPs: the peer is picked by destination
        route.next_hops.push_back({.via = "tunnel", .port = "mesh", .weight = m.weight});
        continue;
      }
      route.next_hops.push_back({.via = m.gateway ? m.gateway->to_string() : "connected",
                                 .port = fast_path_->ports()[m.port]->name(),
                                 .weight = m.weight});
    }
    out.routes.push_back(std::move(route));
  }
  for (const auto& [key, mac] : fast_path_->neighbours().entries()) {
    out.neighbours.push_back({.address = key.ip().to_string(),
                              .mac = mac_text(mac),
                              .port = fast_path_->ports()[key.port]->name()});
  }
  out.to_kernel = c.to_kernel;
  out.icmp_errors_sent = c.icmp_errors_sent;
  out.icmp_errors_rate_limited = c.icmp_errors_rate_limited;
  out.icmp_errors_not_allowed = c.icmp_errors_not_allowed;
  out.icmp_errors_no_source_address = c.icmp_errors_no_source_address;
  out.ipv4_fragmented = c.ipv4_fragmented;
  out.ipv4_fragments_created = c.ipv4_fragments_created;
  out.rx_mode = started_with_.adaptive_rx ? "adaptive" : "poll";
  out.idle_sleeps = c.idle_sleeps;
  out.tx_hold_us = started_with_.tx_hold_us;
  const AdjacencyTable& adjacencies = fast_path_->neighbours().adjacencies();
  out.adjacencies = {.in_use = adjacencies.in_use(), .capacity = adjacencies.capacity()};
  if (offloader_) {
    out.flow_offload = offloader_->show();
  }
  out.kernel_fallback = {
      .enabled = fallback_, .routes = mirror_ ? mirror_->installed() : 0, .error = mirror_error_};
  if (kernel_forwarding_) {
    out.kernel_fallback.ipv6_forwarding =
        kernel_forwarding_->ipv6_per_interface ? "per interface" : "all interfaces";
  }
  return out;
}

void FastPathControl::update_metrics(MetricsRegistry& metrics) {
  if (!running()) {
    return;
  }
  auto& packets = metrics.counter("vigil_dp_packets_total",
                                  "Packets the fast path received or sent, by port and direction");
  auto& bytes = metrics.counter("vigil_dp_bytes_total",
                                "Bytes the fast path received or sent, by port and direction");
  auto& drops = metrics.counter("vigil_dp_drops_total", "Packets the fast path dropped, by reason");
  auto& link = metrics.gauge("vigil_dp_link_up",
                             "1 when the port's link is up (its routes in the FIB), 0 when down");
  auto& missed = metrics.counter(
      "vigil_dp_device_rx_missed_total",
      "Packets a port's device dropped before the fast path saw them (no room to receive)");
  const LcoreCounters c = fast_path_->counters();
  for (size_t p = 0; p < fast_path_->ports().size(); ++p) {
    const std::string& name = fast_path_->ports()[p]->name();
    exported_.set(missed, {{"port", name}}, fast_path_->ports()[p]->stats().rx_missed);
    exported_.set(packets, {{"port", name}, {"direction", "rx"}}, c.ports[p].rx_packets);
    exported_.set(packets, {{"port", name}, {"direction", "tx"}}, c.ports[p].tx_packets);
    exported_.set(bytes, {{"port", name}, {"direction", "rx"}}, c.ports[p].rx_bytes);
    exported_.set(bytes, {{"port", name}, {"direction", "tx"}}, c.ports[p].tx_bytes);
    link.Add({{"port", name}}).Set(down_.contains(static_cast<PortId>(p)) ? 0 : 1);
  }
  for (size_t r = 0; r < c.drops.size(); ++r) {
    exported_.set(drops, {{"reason", std::string(kDropReasonNames[r])}}, c.drops[r]);
  }
  auto& icmp = metrics.counter(
      "vigil_dp_icmp_errors_total",
      "ICMP errors the fast path sent, or did not: over its rate limits, not allowed, or no "
      "address on the ingress port to send from");
  for (const auto& [outcome, n] :
       {std::pair{"sent", c.icmp_errors_sent},
        std::pair{"rate_limited", c.icmp_errors_rate_limited},
        std::pair{"not_allowed", c.icmp_errors_not_allowed},
        std::pair{"no_source_address", c.icmp_errors_no_source_address}}) {
    exported_.set(icmp, {{"outcome", outcome}}, n);
  }
  exported_.set(metrics.counter("vigil_dp_ipv4_fragmented_total",
                                "IPv4 datagrams without DF over the egress MTU, sent in fragments"),
                {}, c.ipv4_fragmented);
  exported_.set(metrics.counter("vigil_dp_ipv4_fragments_created_total",
                                "The fragments those datagrams became"),
                {}, c.ipv4_fragments_created);
  if (offloader_) {
    update_offload_metrics(metrics);
  }
  update_mesh_metrics(metrics);
  update_bgp_metrics(metrics);
  metrics
      .gauge("vigil_dp_kernel_fallback_routes",
             "vigil-dp's routes in the kernel's routing table, which forwards while vigil-dp is "
             "away (dataplane.kernel_fallback)")
      .Add({})
      .Set(static_cast<double>(mirror_ ? mirror_->installed() : 0));
  metrics
      .gauge("vigil_dp_kernel_fallback_in_step",
             "1 when the kernel's routes are the fast path's (or the fallback is off), 0 while "
             "vigil-dp fails to make them so")
      .Add({})
      .Set(mirror_error_.empty() ? 1 : 0);
}

void FastPathControl::update_offload_metrics(MetricsRegistry& metrics) {
  auto& packets = metrics.counter(
      "vigil_dp_offloaded_packets_total",
      "Packets of offloaded flows the XDP classifier forwarded itself, by port and direction");
  auto& bytes = metrics.counter("vigil_dp_offloaded_bytes_total",
                                "Bytes of offloaded flows the XDP classifier forwarded itself");
  auto& offers = metrics.counter("vigil_dp_flow_offers_total",
                                 "Flows the lcores offered for offload to XDP, by outcome");
  for (const auto& p : offloader_->port_counts()) {
    for (const auto& [direction, count] : {std::pair{"rx", p.rx}, std::pair{"tx", p.tx}}) {
      exported_.set(packets, {{"port", p.name}, {"direction", direction}}, count.packets);
      exported_.set(bytes, {{"port", p.name}, {"direction", direction}}, count.bytes);
    }
  }
  const FlowOffloader::Stats& s = offloader_->stats();
  for (const auto& [outcome, n] : {std::pair{"installed", s.installed}, std::pair{"stale", s.stale},
                                   std::pair{"declined", s.declined}, std::pair{"failed", s.failed},
                                   std::pair{"held", s.held}}) {
    exported_.set(offers, {{"outcome", outcome}}, n);
  }
  auto& retired = metrics.counter(
      "vigil_dp_offloaded_flows_retired_total",
      "Offloaded flows removed because their next hop's MAC changed (only those flows)");
  exported_.set(retired, {}, s.retired);
  metrics
      .gauge("vigil_dp_offload_damped_neighbours",
             "Next hops whose MAC keeps changing: their flows are not offloaded while they flap")
      .Add({})
      .Set(static_cast<double>(offloader_->damped_neighbours()));
}

api::TunnelsStatus FastPathControl::show_tunnels() const {
  api::TunnelsStatus out;
  if (!mesh_) {
    return out;
  }
  const MeshStatus m = mesh_->status();
  out.enabled = m.listen_port != 0;
  if (!out.enabled) {
    return out;
  }
  out.public_key = key_to_base64(m.public_key);
  if (m.previous_public_key) {
    out.previous_public_key = key_to_base64(*m.previous_public_key);
    out.previous_key_until = m.previous_key_until;
  }
  out.listen_port = m.listen_port;
  out.under_load = m.under_load;
  out.rejects = m.rejects;
  for (const MeshPeerStatus& p : m.peers) {
    api::TunnelPeerStatus peer{
        .name = p.name,
        .public_key = key_to_base64(p.public_key),
        .endpoint = p.endpoint ? p.endpoint->to_string() : "",
        .endpoint_problem = p.endpoint_problem,
        .latest_handshake = p.latest_handshake ? std::chrono::duration_cast<std::chrono::seconds>(
                                                     p.latest_handshake->time_since_epoch())
                                                     .count()
                                               : 0,
        .rx_bytes = p.rx_bytes,
        .tx_bytes = p.tx_bytes,
        .rx_packets = p.rx_packets,
        .tx_packets = p.tx_packets,
        .handshakes_sent = p.handshakes_sent,
        .handshakes_received = p.handshakes_received,
        .persistent_keepalive = p.persistent_keepalive,
        .session = p.has_session};
    for (const net::Prefix& prefix : p.allowed_ips) {
      peer.allowed_ips.push_back(prefix.to_string());
    }
    if (p.previous_public_key) {
      peer.previous_public_key = key_to_base64(*p.previous_public_key);
      peer.previous_key_until = p.previous_key_until;
    }
    peer.probe_interval_ms = p.probe_interval_ms;
    peer.preferred = p.preferred;
    const auto ms = [](int64_t ns) { return static_cast<double>(ns) / 1e6; };
    for (const MeshPathStatus& path : p.paths) {
      api::TunnelPathStatus a{.link = path.link,
                              .endpoint = path.endpoint,
                              .state = paths::name(path.state),
                              .measured = path.measured,
                              .active = path.active,
                              .jitter_in_ms = ms(path.jitter_in_ns),
                              .jitter_out_ms = ms(path.jitter_out_ns),
                              .loss_in_1s = path.loss_in_1s,
                              .loss_out_1s = path.loss_out_1s,
                              .loss_in_10s = path.loss_in_10s,
                              .loss_out_10s = path.loss_out_10s,
                              .probes_sent = path.sent,
                              .probes_received = path.received,
                              .changes = path.changes,
                              .classes = path.classes};
      if (path.rtt_ns) {
        a.rtt_ms = ms(*path.rtt_ns);
      }
      if (path.rtt_p50_ns) {
        a.rtt_p50_ms = ms(*path.rtt_p50_ns);
      }
      if (path.rtt_p99_ns) {
        a.rtt_p99_ms = ms(*path.rtt_p99_ns);
      }
      if (path.last_heard_ago_ns) {
        a.last_heard_ms_ago = ms(*path.last_heard_ago_ns);
      }
      if (path.last_change) {
        a.last_change = paths::describe(*path.last_change, {});
      }
      if (path.last_change_wall) {
        a.last_change_at = std::chrono::duration_cast<std::chrono::seconds>(
                               path.last_change_wall->time_since_epoch())
                               .count();
      }
      peer.paths.push_back(std::move(a));
    }
    out.peers.push_back(std::move(peer));
  }
  return out;
}

Status FastPathControl::prefer_path(const nlohmann::json& p) {
  if (!mesh_) {
    return fail("no mesh: the fast path is not forwarding");
  }
  const auto text = [&](const char* key) -> std::optional<std::string> {
    if (p.is_object() && p.contains(key) && p[key].is_string()) {
      return p[key].get<std::string>();
    }
    return std::nullopt;
  };
  const auto peer = text("peer");
  if (!peer) {
    return fail("params: peer is required");
  }
  if (p.value("auto", false)) {
    return mesh_->prefer(*peer, std::nullopt, std::nullopt);
  }
  const auto link = text("link");
  if (!link) {
    return fail("params: link, or auto: true");
  }
  return mesh_->prefer(*peer, link, text("endpoint"));
}

void FastPathControl::update_mesh_metrics(MetricsRegistry& metrics) {
  // What `show tunnels` shows, so the two cannot disagree.
  const api::TunnelsStatus m = show_tunnels();
  if (!m.enabled) {
    return;
  }
  auto& packets = metrics.counter("vigil_dp_tunnel_packets_total",
                                  "WireGuard packets to and from each mesh peer, by direction "
                                  "(keepalives included)");
  auto& bytes = metrics.counter("vigil_dp_tunnel_bytes_total",
                                "WireGuard datagram bytes to and from each mesh peer");
  auto& handshakes = metrics.counter(
      "vigil_dp_tunnel_handshakes_total",
      "Handshake messages sent to and received from each mesh peer (initiations, responses)");
  auto& up = metrics.gauge("vigil_dp_tunnel_up",
                           "1 while the peer has a session (packets go out at once), else 0");
  auto& latest = metrics.gauge("vigil_dp_tunnel_latest_handshake_seconds",
                               "Unix time of the peer's latest handshake; 0 before the first");
  for (const api::TunnelPeerStatus& p : m.peers) {
    for (const auto& [direction, n, b, h] :
         {std::tuple{"rx", p.rx_packets, p.rx_bytes, p.handshakes_received},
          std::tuple{"tx", p.tx_packets, p.tx_bytes, p.handshakes_sent}}) {
      exported_.set(packets, {{"peer", p.name}, {"direction", direction}}, n);
      exported_.set(bytes, {{"peer", p.name}, {"direction", direction}}, b);
      exported_.set(handshakes, {{"peer", p.name}, {"direction", direction}}, h);
    }
    up.Add({{"peer", p.name}}).Set(p.session ? 1 : 0);
    latest.Add({{"peer", p.name}}).Set(static_cast<double>(p.latest_handshake));
  }
  auto& path_state = metrics.gauge("vigil_dp_path_state",
                                   "Each mesh path's state: 2 up, 1 degraded, 0 down (show paths)");
  auto& path_active =
      metrics.gauge("vigil_dp_path_active", "1 on the path each peer's traffic takes, else 0");
  auto& path_rtt = metrics.gauge("vigil_dp_path_rtt_seconds",
                                 "Each mesh path's round trip time from its probes (EWMA)");
  auto& path_jitter = metrics.gauge("vigil_dp_path_jitter_seconds",
                                    "Each mesh path's jitter (RFC 3550) by direction");
  auto& path_loss = metrics.gauge("vigil_dp_path_loss_ratio",
                                  "Each mesh path's probe loss over the last second, by direction");
  auto& path_changes = metrics.counter("vigil_dp_path_transitions_total",
                                       "State changes of each mesh path (the log says why)");
  for (const api::TunnelPeerStatus& p : m.peers) {
    for (const api::TunnelPathStatus& path : p.paths) {
      const prometheus::Labels labels{
          {"peer", p.name}, {"link", path.link}, {"endpoint", path.endpoint}};
      path_state.Add(labels).Set(path.state == "up" ? 2 : path.state == "degraded" ? 1 : 0);
      path_active.Add(labels).Set(path.active ? 1 : 0);
      if (path.rtt_ms >= 0) {
        path_rtt.Add(labels).Set(path.rtt_ms / 1e3);
      }
      for (const auto& [direction, jitter, loss] :
           {std::tuple{"rx", path.jitter_in_ms, path.loss_in_1s},
            std::tuple{"tx", path.jitter_out_ms, path.loss_out_1s}}) {
        prometheus::Labels with = labels;
        with["direction"] = direction;
        path_jitter.Add(with).Set(jitter / 1e3);
        path_loss.Add(with).Set(loss);
      }
      exported_.set(path_changes, labels, path.changes);
    }
  }
  // Refusals of the handshake side; the transport's (wg_replay, wg_bad_tag, wg_no_session,
  // wg_session_expired, ...) are in vigil_dp_drops_total.
  auto& rejects = metrics.counter("vigil_dp_tunnel_handshake_rejects_total",
                                  "Handshake messages the mesh refused, by reason (bad_mac1, "
                                  "cookie_sent when under load without a valid mac2, "
                                  "stale_timestamp, unknown_peer, ...)");
  for (const auto& [reason, n] : m.rejects) {
    exported_.set(rejects, {{"reason", reason}}, n);
  }
}

}  // namespace vigil::dp
