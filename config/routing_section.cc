// routing: static routes, and BGP (bgp_section.cc).
#include <map>

#include "config/bgp_section.h"
#include "config/sections.h"

namespace vigil::config {
namespace {

constexpr Field kNextHopFields[] = {
    {.key = "via", .type = "IP address", .description = "Gateway; same family as the prefix"},
    {.key = "interface",
     .type = "interface name",
     .description = "Egress interface; required when via is absent (a connected route)"},
    {.key = "weight",
     .type = "integer 1-255",
     .description = "ECMP share relative to the other next hops",
     .default_value = "1"},
};
constexpr Schema kNextHopSchema{.path = "routing.static[].next_hops[]",
                                .description = "One path of a static route.",
                                .fields = kNextHopFields};

constexpr Field kStaticRouteFields[] = {
    {.key = "prefix",
     .type = "IPv4/IPv6 prefix",
     .description = "Destination network",
     .required = true},
    {.key = "next_hops",
     .type = "list of next hop",
     .description = "Paths; several make an ECMP group",
     .children = &kNextHopSchema,
     .entry_key = "via",
     .entry_qualifier = "interface"},
    {.key = "distance",
     .type = "integer 1-255",
     .description = "Administrative distance; lower wins against other sources",
     .default_value = "1"},
    {.key = "blackhole",
     .type = "boolean",
     .description = "Drop traffic to the prefix; excludes next_hops",
     .default_value = "false"},
};
constexpr Schema kStaticRouteSchema{
    .path = "routing.static[]", .description = "A static route.", .fields = kStaticRouteFields};

constexpr Field kRoutingFields[] = {
    {.key = "static",
     .type = "list of static route",
     .description = "Static routes",
     .children = &kStaticRouteSchema,
     .entry_key = "prefix",
     .entry_qualifier = "distance"},
    {.key = "bgp",
     .type = "mapping",
     .description = "BGP through the FRR sidecar",
     .children = &kBgpSchema},
};

std::optional<NextHop> parse_next_hop(const YAML::Node& n, const std::string& path,
                                      const Prefix& prefix, const Config& config,
                                      ErrorList& errors) {
  MapReader r(n, path, kNextHopSchema, errors);
  if (!r.ok()) {
    return std::nullopt;
  }
  NextHop hop;
  bool ok = true;
  if (r.has("via")) {
    hop.via = read_ip(r.get("via"), r.path_of("via"), errors);
    ok &= hop.via.has_value();
    if (hop.via && hop.via->family != prefix.address.family) {
      errors.add(r.path_of("via"), r.get("via"),
                 "IPv" + std::to_string(hop.via->family) + " next hop for an IPv" +
                     std::to_string(prefix.address.family) + " prefix");
      ok = false;
    }
  }
  if (r.has("interface")) {
    auto name = read_string(r.get("interface"), r.path_of("interface"), errors);
    if (name && config.interface(*name) == nullptr) {
      errors.add(r.path_of("interface"), r.get("interface"),
                 "no interface named \"" + *name + "\"");
      ok = false;
    } else if (name) {
      hop.interface = *name;
    }
  }
  if (!r.has("via") && !r.has("interface")) {
    errors.add(path, n, "a next hop needs via, interface or both");
    ok = false;
  }
  if (r.has("weight")) {
    auto w = read_int(r.get("weight"), r.path_of("weight"), errors, 1, 255);
    ok &= w.has_value();
    hop.weight = static_cast<uint32_t>(w.value_or(1));
  }
  return ok ? std::optional(hop) : std::nullopt;
}

}  // namespace

const Schema kRoutingSchema{.path = "routing", .description = "Routes.", .fields = kRoutingFields};

void parse_routing(const YAML::Node& node, const std::string& path, Config& config,
                   ErrorList& errors) {
  MapReader r(node, path, kRoutingSchema, errors);
  if (!r.ok()) {
    return;
  }
  // (prefix, distance) -> where it was first defined; a second one is a mistake.
  std::map<std::pair<Prefix, uint32_t>, std::pair<std::string, int>> seen;
  for_each_item(
      r.get("static"), r.path_of("static"), errors,
      [&](const YAML::Node& n, const std::string& rpath) {
        MapReader rr(n, rpath, kStaticRouteSchema, errors);
        if (!rr.ok() || !rr.has("prefix")) {
          return;
        }
        auto prefix = read_network(rr.get("prefix"), rr.path_of("prefix"), errors);
        if (!prefix) {
          return;
        }
        StaticRoute route{.prefix = *prefix};
        bool ok = true;
        if (rr.has("distance")) {
          auto d = read_int(rr.get("distance"), rr.path_of("distance"), errors, 1, 255);
          ok &= d.has_value();
          route.distance = static_cast<uint32_t>(d.value_or(1));
        }
        if (rr.has("blackhole")) {
          auto b = read_bool(rr.get("blackhole"), rr.path_of("blackhole"), errors);
          ok &= b.has_value();
          route.blackhole = b.value_or(false);
        }
        for_each_item(rr.get("next_hops"), rr.path_of("next_hops"), errors,
                      [&](const YAML::Node& hn, const std::string& hpath) {
                        auto hop = parse_next_hop(hn, hpath, *prefix, config, errors);
                        ok &= hop.has_value();
                        if (hop) {
                          route.next_hops.push_back(*hop);
                        }
                      });
        if (route.blackhole && rr.has("next_hops") && !rr.get("next_hops").IsNull()) {
          errors.add(rr.path_of("next_hops"), rr.get("next_hops"),
                     "a blackhole route has no next hops");
          ok = false;
        } else if (!route.blackhole && route.next_hops.empty() && ok) {
          errors.add(rpath, n,
                     "route to " + prefix->to_string() + " needs next_hops (or blackhole: true)");
          ok = false;
        }
        const int line = n.Mark().line + 1;
        if (auto [it, fresh] = seen.try_emplace({route.prefix, route.distance}, rpath, line);
            !fresh) {
          errors.add(rr.path_of("prefix"), rr.get("prefix"),
                     "duplicate route to " + prefix->to_string() + " with distance " +
                         std::to_string(route.distance) + " (first at " + it->second.first +
                         ", line " + std::to_string(it->second.second) + ")");
          ok = false;
        }
        if (ok) {
          config.routing.static_routes.push_back(std::move(route));
        }
      });
  if (r.has("bgp") && !r.get("bgp").IsNull()) {
    config.routing.bgp = parse_bgp(r.get("bgp"), r.path_of("bgp"), config, errors);
  }
}

}  // namespace vigil::config
