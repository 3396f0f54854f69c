// show tunnels: the mesh's WireGuard interface and peers as `wg show` prints them (the peer's
// name beside its key), handshake counts, and what the handshake side refused.
#include <cstdio>
#include <ctime>

#include "common/api/mesh_status.h"
#include "mgmt/cli/commands/commands.h"

namespace vigil::mgmt::cli {
namespace {

// As wg(8): "1.23 KiB", "4.56 MiB"; bytes below 1 KiB as they are.
std::string size_text(uint64_t bytes) {
  static const char* const units[] = {"KiB", "MiB", "GiB", "TiB"};
  if (bytes < 1024) {
    return std::to_string(bytes) + " B";
  }
  double v = static_cast<double>(bytes) / 1024;
  size_t u = 0;
  while (v >= 1024 && u + 1 < std::size(units)) {
    v /= 1024;
    ++u;
  }
  char text[32];
  std::snprintf(text, sizeof text, "%.2f %s", v, units[u]);
  return text;
}

// As wg(8): "1 minute, 5 seconds ago".
std::string ago_text(int64_t then, int64_t now) {
  int64_t left = now > then ? now - then : 0;
  if (left == 0) {
    return "Now";
  }
  std::string out;
  const auto part = [&](int64_t unit, const char* name) {
    const int64_t n = left / unit;
    left %= unit;
    if (n > 0) {
      out += (out.empty() ? "" : ", ") + std::to_string(n) + " " + name + (n == 1 ? "" : "s");
    }
  };
  part(86400, "day");
  part(3600, "hour");
  part(60, "minute");
  part(1, "second");
  return out + " ago";
}

Output show_tunnels(Invocation& inv) {
  auto r = inv.call("show.tunnels", nlohmann::json::object(), "cannot get the tunnels");
  if (!r) {
    return r.failure();
  }
  const auto s = r->get<api::TunnelsStatus>();
  if (inv.json) {
    return {.out = json_text(s)};
  }
  if (!s.enabled) {
    return {.out =
                "no mesh: the config has no mesh section, or vigil-dp's fast path is not "
                "forwarding\n"};
  }
  std::string out = "interface: mesh\n  public key: " + s.public_key +
                    "\n  listen port: " + std::to_string(s.listen_port) + "\n";
  if (!s.previous_public_key.empty()) {
    out += "  previous key: " + s.previous_public_key + " (answered until " +
           utc_time(s.previous_key_until) + " UTC)\n";
  }
  if (s.under_load) {
    out += "  under load: initiators are asked for cookies\n";
  }
  const int64_t now = time(nullptr);
  for (const auto& p : s.peers) {
    out += "\npeer: " + p.public_key + " (" + p.name + ")\n";
    if (!p.previous_public_key.empty()) {
      out += "  previous key: " + p.previous_public_key + " (taken until " +
             utc_time(p.previous_key_until) + " UTC)\n";
    }
    if (!p.endpoint.empty()) {
      out += "  endpoint: " + p.endpoint + "\n";
    }
    if (!p.endpoint_problem.empty()) {
      out += "  endpoint problem: " + p.endpoint_problem + "\n";
    }
    std::string allowed;
    for (const auto& a : p.allowed_ips) {
      allowed += (allowed.empty() ? "" : ", ") + a;
    }
    out += "  allowed ips: " + (allowed.empty() ? std::string("(none)") : allowed) + "\n";
    if (p.latest_handshake != 0) {
      out += "  latest handshake: " + ago_text(p.latest_handshake, now) + "\n";
    }
    if (p.rx_bytes != 0 || p.tx_bytes != 0) {
      out += "  transfer: " + size_text(p.rx_bytes) + " received, " + size_text(p.tx_bytes) +
             " sent\n";
    }
    if (p.persistent_keepalive != 0) {
      out +=
          "  persistent keepalive: every " + std::to_string(p.persistent_keepalive) + " seconds\n";
    }
    out += "  handshakes: " + std::to_string(p.handshakes_sent) + " sent, " +
           std::to_string(p.handshakes_received) + " received\n";
  }
  if (!s.rejects.empty()) {
    out += "\nrefused handshake messages:";
    for (const auto& [reason, n] : s.rejects) {
      out += " " + reason + " " + std::to_string(n);
    }
    out += "\n";
  }
  return {.out = out};
}

}  // namespace

void add_show_tunnels_commands(CommandTable& t) {
  t.add({.words = {"show", "tunnels"},
         .help = "the mesh's WireGuard interface and peers, as wg show prints them",
         .run = show_tunnels});
}

}  // namespace vigil::mgmt::cli
