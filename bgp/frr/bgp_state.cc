#include "bgp/frr/bgp_state.h"

#include <algorithm>

namespace vigil::bgp {

using nlohmann::json;

namespace {

const json& member(const json& j, std::string_view key) {
  static const json null_value;
  if (!j.is_object()) {
    return null_value;
  }
  const auto it = j.find(key);
  return it == j.end() ? null_value : *it;
}

std::string text(const json& j, std::string_view key) {
  const json& v = member(j, key);
  return v.is_string() ? v.get<std::string>() : "";
}

int64_t number(const json& j, std::string_view key) {
  const json& v = member(j, key);
  return v.is_number_integer() ? v.get<int64_t>() : 0;
}

uint64_t count(const json& j, std::string_view key) {
  return static_cast<uint64_t>(std::max<int64_t>(number(j, key), 0));
}

bool flag(const json& j, std::string_view key) {
  const json& v = member(j, key);
  return v.is_boolean() && v.get<bool>();
}

// FRR's peerState words for a session held down by configuration.
std::string held_by(const std::string& peer_state) {
  if (peer_state == "Admin") {
    return "admin";
  }
  if (peer_state == "PfxCt") {
    return "max-prefix";
  }
  if (peer_state == "Policy") {
    return "policy";
  }
  return "";
}

// "192.0.2.1:179", "[2001:db8::1]:179"; "" for FRR's "Unknown" (port -1) while there is no
// connection.
std::string endpoint(const std::string& host, int64_t port) {
  if (host.empty() || host == "Unknown") {
    return "";
  }
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

constexpr std::string_view kFamilies[] = {"ipv4Unicast", "ipv6Unicast"};

}  // namespace

std::string family_name(std::string_view key) {
  if (key == "ipv4Unicast") {
    return "ipv4-unicast";
  }
  if (key == "ipv6Unicast") {
    return "ipv6-unicast";
  }
  return std::string(key);
}

std::vector<api::BgpNeighborStatus> bgp_neighbors_from(const json& neighbors, const json& summary) {
  std::vector<api::BgpNeighborStatus> out;
  if (!neighbors.is_object()) {
    return out;
  }
  for (const auto& [address, n] : neighbors.items()) {
    if (!n.is_object()) {
      continue;
    }
    api::BgpNeighborStatus s{
        .address = address,
        .description = text(n, "nbrDesc"),
        .remote_as = static_cast<uint32_t>(count(n, "remoteAs")),
        .local_as = static_cast<uint32_t>(count(n, "localAs")),
        .remote_router_id = text(n, "remoteRouterId"),
        .state = text(n, "bgpState"),
        .established_ms = text(n, "bgpState") == "Established" ? number(n, "bgpTimerUpMsec") : 0,
        .messages_received = count(member(n, "messageStats"), "totalRecv"),
        .messages_sent = count(member(n, "messageStats"), "totalSent"),
        .connections_established = count(n, "connectionsEstablished"),
        .connections_dropped = count(n, "connectionsDropped"),
        .last_reset = text(n, "lastResetDueTo"),
        .hold_time_ms = number(n, "bgpTimerHoldTimeMsecs"),
        .keepalive_ms = number(n, "bgpTimerKeepAliveIntervalMsecs"),
        .bfd = text(member(n, "peerBfdInfo"), "status"),
    };
    // FRR says "Unknown" with port -1 while there is no connection.
    s.local_address = endpoint(text(n, "hostLocal"), number(n, "portLocal"));
    s.remote_address = endpoint(text(n, "hostForeign"), number(n, "portForeign"));
    const json& families = member(n, "addressFamilyInfo");
    for (std::string_view key : kFamilies) {
      const json& f = member(families, key);
      if (f.is_object()) {
        s.families.push_back({.family = family_name(key),
                              .accepted = count(f, "acceptedPrefixCounter"),
                              .advertised = count(f, "sentPrefixCounter"),
                              .max_prefixes = count(f, "prefixAllowedMax")});
      }
      // The summary says when configuration holds the session (per family; any will do).
      const json& peer = member(member(member(summary, key), "peers"), address);
      if (s.held_by.empty()) {
        s.held_by = held_by(text(peer, "peerState"));
      }
    }
    out.push_back(std::move(s));
  }
  return out;
}

api::BgpSummary bgp_summary_from(const json& summary, const json& neighbors) {
  api::BgpSummary out;
  for (std::string_view key : kFamilies) {
    const json& f = member(summary, key);
    if (!f.is_object()) {
      continue;
    }
    out.configured = true;
    out.router_id = text(f, "routerId");
    out.local_as = static_cast<uint32_t>(count(f, "as"));
    (key == "ipv4Unicast" ? out.routes_ipv4 : out.routes_ipv6) = count(f, "ribCount");
  }
  out.neighbors = bgp_neighbors_from(neighbors, summary);
  out.configured = out.configured || !out.neighbors.empty();
  return out;
}

void add_bgp_routes_from(const json& table, size_t limit, api::BgpRoutes& out) {
  const json& routes = member(table, "routes");
  if (!routes.is_object()) {
    return;
  }
  for (const auto& [prefix, paths] : routes.items()) {
    ++out.total;
    if (out.routes.size() >= limit) {
      out.truncated = true;
      continue;
    }
    api::BgpRouteStatus r{.prefix = prefix};
    if (paths.is_array()) {
      for (const json& p : paths) {
        api::BgpPathStatus path{
            .as_path = text(p, "path"),
            .origin = text(p, "origin"),
            .local_pref = static_cast<uint32_t>(count(p, "locPrf")),
            .med = static_cast<uint32_t>(count(p, "metric")),
            .from = text(p, "peerId"),
            .best = flag(p, "bestpath"),
            .multipath = flag(p, "multipath"),
            .valid = flag(p, "valid"),
        };
        if (path.from == "(unspec)") {
          path.from.clear();  // a route of this box's own (network, redistribution)
        }
        const json& hops = member(p, "nexthops");
        if (hops.is_array()) {
          for (const json& h : hops) {
            if (std::string ip = text(h, "ip"); !ip.empty()) {
              path.next_hops.push_back(std::move(ip));
            }
          }
        }
        r.paths.push_back(std::move(path));
      }
    }
    out.routes.push_back(std::move(r));
  }
}

}  // namespace vigil::bgp
