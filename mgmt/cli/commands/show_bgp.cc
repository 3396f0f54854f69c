// show bgp summary|neighbors [ADDRESS]|routes [PREFIX]: BGP as Vigil's FRR instance has it,
// which vigild reads from FRR's JSON (vtysh), laid out the way a network engineer reads
// `show bgp summary` on any router.
#include <cstdio>

#include "common/api/bgp_status.h"
#include "mgmt/cli/commands/commands.h"
#include "mgmt/cli/table_printer.h"

namespace vigil::mgmt::cli {
namespace {

// "3d04h", "01:02:03", "never": up-times as routers print them.
std::string up_for(int64_t ms) {
  if (ms <= 0) {
    return "never";
  }
  const int64_t s = ms / 1000;
  char buf[32];
  if (s >= 86400) {
    std::snprintf(buf, sizeof buf, "%lldd%02lldh", static_cast<long long>(s / 86400),
                  static_cast<long long>(s % 86400 / 3600));
  } else {
    std::snprintf(buf, sizeof buf, "%02lld:%02lld:%02lld", static_cast<long long>(s / 3600),
                  static_cast<long long>(s % 3600 / 60), static_cast<long long>(s % 60));
  }
  return buf;
}

// Established shows the prefixes accepted; any other state is shown instead, with what holds
// it down when that is configuration.
std::string state_or_prefixes(const api::BgpNeighborStatus& n) {
  if (n.state == "Established") {
    uint64_t accepted = 0;
    for (const auto& f : n.families) {
      accepted += f.accepted;
    }
    return std::to_string(accepted);
  }
  return n.state + (n.held_by.empty() ? "" : " (" + n.held_by + ")");
}

uint64_t advertised(const api::BgpNeighborStatus& n) {
  uint64_t out = 0;
  for (const auto& f : n.families) {
    out += f.advertised;
  }
  return out;
}

Output show_summary(Invocation& inv) {
  if (!inv.args.empty()) {
    return usage_error("show bgp summary");
  }
  auto r = inv.call("show.bgp.summary", nlohmann::json::object(), "cannot get BGP's state");
  if (!r) {
    return r.failure();
  }
  const auto s = r->get<api::BgpSummary>();
  if (inv.json) {
    return {.out = json_text(*r)};
  }
  if (!s.configured) {
    return {.out = "BGP is not configured (routing.bgp)\n"};
  }
  std::string out = "BGP router identifier " + s.router_id + ", local AS " +
                    std::to_string(s.local_as) + "\n" + "RIB entries " +
                    std::to_string(s.routes_ipv4) + " IPv4, " + std::to_string(s.routes_ipv6) +
                    " IPv6 (as FRR counts them)\n\n";
  TablePrinter t({"neighbor", "AS", "messages rcvd", "messages sent", "up/down",
                  "state/prefixes rcvd", "prefixes sent", "description"});
  for (const auto& n : s.neighbors) {
    t.add_row({n.address, std::to_string(n.remote_as), std::to_string(n.messages_received),
               std::to_string(n.messages_sent), up_for(n.established_ms), state_or_prefixes(n),
               std::to_string(advertised(n)), n.description});
  }
  return {.out = out + t.render()};
}

// vigild's answer to `method` for a command taking at most one word, passed as params[key].
Answer call_with_word(Invocation& inv, std::string_view usage, std::string_view method,
                      const char* key, std::string_view what) {
  if (inv.args.size() > 1) {
    return Answer(usage_error(usage));
  }
  nlohmann::json params = nlohmann::json::object();
  if (!inv.args.empty()) {
    params[key] = inv.args[0];
  }
  return inv.call(method, params, what);
}

Output show_neighbors(Invocation& inv) {
  auto r = call_with_word(inv, "show bgp neighbors [ADDRESS]", "show.bgp.neighbors", "address",
                          "cannot get BGP's neighbours");
  if (!r) {
    return r.failure();
  }
  if (inv.json) {
    return {.out = json_text(*r)};
  }
  const auto neighbors = r->get<std::vector<api::BgpNeighborStatus>>();
  if (neighbors.empty()) {
    return {.out = "no BGP neighbours\n"};
  }
  std::string out;
  for (const auto& n : neighbors) {
    out += "neighbor " + n.address + ", remote AS " + std::to_string(n.remote_as) + ", local AS " +
           std::to_string(n.local_as) + (n.remote_as == n.local_as ? ", internal" : ", external") +
           "\n";
    if (!n.description.empty()) {
      out += "  description: " + n.description + "\n";
    }
    out += "  state " + n.state + (n.held_by.empty() ? "" : " (held by " + n.held_by + ")");
    out += n.state == "Established" ? ", up for " + up_for(n.established_ms) : "";
    out += "\n";
    if (!n.remote_router_id.empty()) {
      out += "  remote router id " + n.remote_router_id + "\n";
    }
    if (!n.remote_address.empty()) {
      out += "  TCP " + n.local_address + " -> " + n.remote_address + "\n";
    }
    if (n.hold_time_ms > 0) {
      out += "  hold time " + std::to_string(n.hold_time_ms / 1000) + " s, keepalive " +
             std::to_string(n.keepalive_ms / 1000) + " s\n";
    }
    if (!n.bfd.empty()) {
      out += "  BFD " + n.bfd + "\n";
    }
    out += "  messages received " + std::to_string(n.messages_received) + ", sent " +
           std::to_string(n.messages_sent) + "; sessions established " +
           std::to_string(n.connections_established) + ", dropped " +
           std::to_string(n.connections_dropped) + "\n";
    if (!n.last_reset.empty()) {
      out += "  last reset: " + n.last_reset + "\n";
    }
    for (const auto& f : n.families) {
      out += "  " + f.family + ": " + std::to_string(f.accepted) + " accepted, " +
             std::to_string(f.advertised) + " advertised";
      out += f.max_prefixes > 0 ? ", at most " + std::to_string(f.max_prefixes) : "";
      out += "\n";
    }
    out += "\n";
  }
  out.pop_back();
  return {.out = out};
}

Output show_routes(Invocation& inv) {
  auto r = call_with_word(inv, "show bgp routes [PREFIX]", "show.bgp.routes", "prefix",
                          "cannot get BGP's routes");
  if (!r) {
    return r.failure();
  }
  if (inv.json) {
    return {.out = json_text(*r)};
  }
  const auto routes = r->get<api::BgpRoutes>();
  // Routers' own marks: * valid, > best, = multipath.
  TablePrinter t({"", "prefix", "next hop", "MED", "local pref", "from", "AS path", "origin"});
  for (const auto& route : routes.routes) {
    for (const auto& p : route.paths) {
      std::string mark = p.valid ? "*" : " ";
      mark += p.best ? ">" : (p.multipath ? "=" : " ");
      std::string hops;
      for (const auto& h : p.next_hops) {
        hops += (hops.empty() ? "" : ",") + h;
      }
      t.add_row({mark, route.prefix, hops.empty() ? "-" : hops, std::to_string(p.med),
                 std::to_string(p.local_pref), p.from.empty() ? "local" : p.from,
                 p.as_path.empty() ? "-" : p.as_path, p.origin});
    }
  }
  std::string out = routes.routes.empty() ? "no BGP routes\n" : t.render();
  if (routes.truncated) {
    out += "(" + std::to_string(routes.routes.size()) + " of " + std::to_string(routes.total) +
           " routes shown; give a prefix to see those inside it)\n";
  }
  return {.out = out};
}

}  // namespace

void add_show_bgp_commands(CommandTable& t) {
  t.add({.words = {"show", "bgp", "summary"},
         .help = "BGP: the router, and each neighbour's session and prefixes",
         .run = show_summary});
  t.add({.words = {"show", "bgp", "neighbors"},
         .args_hint = "[ADDRESS]",
         .help = "BGP neighbours in detail: state, timers, BFD, messages, prefixes per family",
         .run = show_neighbors});
  t.add({.words = {"show", "bgp", "routes"},
         .args_hint = "[PREFIX]",
         .help = "BGP's table (the first 1000 routes; with PREFIX, those inside it): paths, "
                 "best marked >",
         .run = show_routes});
}

}  // namespace vigil::mgmt::cli
