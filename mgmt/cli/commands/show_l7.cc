// show l7 listeners|routes|upstreams: vigil-l7's listeners, routes in the order they are tried,
// and its upstream pools with each target's state as the workers see it, which vigild fetches
// from vigil-l7.
#include "common/api/l7_status.h"
#include "mgmt/cli/commands/commands.h"
#include "mgmt/cli/table_printer.h"

namespace vigil::mgmt::cli {
namespace {

std::string joined(const std::vector<std::string>& words, const char* none) {
  if (words.empty()) {
    return none;
  }
  std::string out;
  for (const auto& w : words) {
    out += (out.empty() ? "" : ",") + w;
  }
  return out;
}

std::optional<api::L7Status> fetch(Invocation& inv, Output& failure) {
  auto r = inv.call("show.l7", nlohmann::json::object(), "cannot get vigil-l7's state");
  if (!r) {
    failure = r.failure();
    return std::nullopt;
  }
  return r->get<api::L7Status>();
}

std::string not_configured() {
  return "vigil-l7 runs no l7 section (nothing is proxied)\n";
}

Output show_listeners(Invocation& inv) {
  Output failure;
  auto s = fetch(inv, failure);
  if (!s) {
    return failure;
  }
  if (inv.json) {
    return {.out = json_text(s->listeners)};
  }
  if (!s->configured) {
    return {.out = not_configured()};
  }
  TablePrinter t({"listener", "address", "protocol", "forwarded fields", "sockets"});
  std::string certificates;
  for (const auto& l : s->listeners) {
    t.add_row({l.name, l.address, l.protocol, l.trust_forwarded ? "appended" : "replaced",
               std::to_string(l.sockets)});
    if (l.protocol.starts_with("https")) {
      certificates += l.name + ": client certificate " + l.client_certificate + "\n";
      for (const auto& c : l.certificates) {
        std::string names;
        for (const auto& n : c.dns_names) {
          names += (names.empty() ? "" : ", ") + n;
        }
        certificates += "  certificate " + c.name + " (" + names + ") expires " + c.expires +
                        (c.ocsp_stapled ? ", OCSP stapled" : "") + "\n";
      }
    }
  }
  std::string workers = std::to_string(s->workers) + " worker(s)";
  if (s->workers_retiring > 0) {
    workers += ", " + std::to_string(s->workers_retiring) +
               " retiring (a commit lowered l7.workers: serving the connections they had)";
  }
  return {.out = t.render() + workers + "\n" + certificates};
}

Output show_routes(Invocation& inv) {
  Output failure;
  auto s = fetch(inv, failure);
  if (!s) {
    return failure;
  }
  if (inv.json) {
    return {.out = json_text(s->routes)};
  }
  if (!s->configured) {
    return {.out = not_configured()};
  }
  TablePrinter t({"route", "priority", "hosts", "path", "methods", "upstream", "requests", "5xx"});
  for (const auto& r : s->routes) {
    const std::string path = r.path_match == "any" ? "any" : r.path_match + " " + r.path;
    t.add_row({r.name, std::to_string(r.priority), joined(r.hosts, "any"), path,
               joined(r.methods, "any"), r.upstream, std::to_string(r.requests),
               std::to_string(r.responses_5xx)});
  }
  return {.out = t.render() + "(in the order they are tried; the first that matches wins)\n"};
}

// "healthy", "unhealthy (unexpected status 503)", "-" without checks.
std::string health_text(const api::L7TargetStatus& target) {
  if (target.health.empty()) {
    return "-";
  }
  if (target.health != "unhealthy" || target.last_failure.empty()) {
    return target.health;
  }
  std::string why = target.last_failure;
  if (target.last_failure_status != 0) {
    why += " " + std::to_string(target.last_failure_status);
  }
  return target.health + " (" + why + ")";
}

Output show_upstreams(Invocation& inv) {
  Output failure;
  auto s = fetch(inv, failure);
  if (!s) {
    return failure;
  }
  if (inv.json) {
    return {.out = json_text(s->upstreams)};
  }
  if (!s->configured) {
    return {.out = not_configured()};
  }
  TablePrinter t({"upstream", "policy", "target", "weight", "state", "health", "in flight",
                  "idle conns", "ejections"});
  for (const auto& u : s->upstreams) {
    for (const auto& target : u.targets) {
      std::string state = "up";
      if (target.health == "unhealthy") {
        state = "down";
      }
      if (target.ejected_by > 0) {
        state = "ejected (" + std::to_string(target.ejected_by) + " of " +
                std::to_string(s->workers) + " workers, " +
                std::to_string((target.ejected_for_ms + 999) / 1000) + " s more)";
      }
      t.add_row({u.name, u.policy, target.address, std::to_string(target.weight), state,
                 health_text(target), std::to_string(target.in_flight),
                 std::to_string(target.idle_connections), std::to_string(target.ejections)});
    }
  }
  std::string out = t.render();
  for (const auto& u : s->upstreams) {
    for (const auto& n : u.names) {
      out += u.name + ": " + n.name + ":" + std::to_string(n.port) + " -> ";
      std::string addresses;
      for (const auto& a : n.addresses) {
        addresses += (addresses.empty() ? "" : ", ") + a;
      }
      out += addresses.empty() ? "no address" : addresses;
      if (!n.error.empty()) {
        out += " (last lookup failed: " + n.error + ")";
      } else if (!n.last_lookup.empty()) {
        out += " (TTL " + std::to_string(n.ttl_s) + " s, looked up " + n.last_lookup + ")";
      } else {
        out += " (not looked up yet)";
      }
      out += "\n";
    }
  }
  for (const auto& u : s->upstreams) {
    if (!u.tls.empty()) {
      out += u.name + ": " + u.tls + "\n";
    }
  }
  for (const auto& u : s->upstreams) {
    if (u.protocol == "h2") {
      uint32_t open = 0;
      for (const auto& target : u.targets) {
        open += target.http2_connections;
      }
      out += u.name + ": HTTP/2 to its targets (" +
             (u.tls.empty() ? "h2c, prior knowledge" : "h2 by ALPN") + "), " +
             std::to_string(open) + " connection" + (open == 1 ? "" : "s") +
             " open, streams multiplexed\n";
    }
  }
  return {.out = out};
}

}  // namespace

void add_show_l7_commands(CommandTable& t) {
  t.add({.words = {"show", "l7", "listeners"},
         .help = "vigil-l7's listeners: address, protocol, sockets",
         .run = show_listeners});
  t.add({.words = {"show", "l7", "routes"},
         .help = "vigil-l7's routes in the order they are tried",
         .run = show_routes});
  t.add({.words = {"show", "l7", "upstreams"},
         .help = "vigil-l7's upstream pools: each target's state, health checks, requests in "
                 "flight, kept-alive connections, ejections",
         .run = show_upstreams});
}

}  // namespace vigil::mgmt::cli
