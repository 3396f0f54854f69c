// show paths: each mesh peer's paths (our WAN link toward one of its endpoints) as vigil-dp
// measures them: state, which one the peer's traffic takes, round trip, jitter and loss each
// way, and the last change with its cause. The data is show tunnels' (one call to vigil-dp).
#include <cstdio>
#include <ctime>

#include "common/api/mesh_status.h"
#include "mgmt/cli/commands/commands.h"

namespace vigil::mgmt::cli {
namespace {

std::string ms_text(double ms) {
  if (ms < 0) {
    return "-";
  }
  char text[32];
  std::snprintf(text, sizeof text, ms < 10 ? "%.2f" : "%.1f", ms);
  return text;
}

std::string percent_text(double ratio) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f%%", ratio * 100);
  return text;
}

std::string ago_text(int64_t then, int64_t now) {
  const int64_t s = now > then ? now - then : 0;
  if (s < 120) {
    return std::to_string(s) + " s ago";
  }
  if (s < 7200) {
    return std::to_string(s / 60) + " min ago";
  }
  return std::to_string(s / 3600) + " h ago";
}

Output show_paths(Invocation& inv) {
  auto r = inv.call("show.tunnels", nlohmann::json::object(), "cannot get the paths");
  if (!r) {
    return r.failure();
  }
  const auto s = r->get<api::TunnelsStatus>();
  if (inv.json) {
    nlohmann::json peers = nlohmann::json::array();
    for (const auto& p : s.peers) {
      peers.push_back(
          {{"peer", p.name}, {"probe_interval_ms", p.probe_interval_ms}, {"paths", p.paths}});
    }
    return {.out = peers.dump(2) + "\n"};
  }
  if (!s.enabled) {
    return {.out =
                "no mesh: the config has no mesh section, or vigil-dp's fast path is not "
                "forwarding\n"};
  }
  const int64_t now = time(nullptr);
  std::string out;
  for (const auto& p : s.peers) {
    out += (out.empty() ? "" : "\n") + std::string("peer ") + p.name;
    if (p.probe_interval_ms == 0) {
      out += ": not probed (probe_interval 0); its traffic follows the routes\n";
      continue;
    }
    out += " (probed every " + std::to_string(p.probe_interval_ms) + " ms)\n";
    if (!p.preferred.empty()) {
      out += "  preferred by hand: " + p.preferred +
             " (while it is up; `vigil request "
             "path prefer " +
             p.name + " auto` gives the choice back to the probes)\n";
    }
    if (p.paths.empty()) {
      out += "  no paths: no wan link reaches any of its endpoints given by address\n";
      continue;
    }
    char line[1024];
    std::snprintf(line, sizeof line, "  %-1s %-8s %-24s %-9s %8s %8s %13s %15s  %-12s %s\n", "",
                  "link", "endpoint", "state", "rtt ms", "p99 ms", "jitter rx/tx", "loss 1s rx/tx",
                  "classes", "last change");
    out += line;
    for (const auto& path : p.paths) {
      const std::string jitter = ms_text(path.jitter_in_ms) + "/" + ms_text(path.jitter_out_ms);
      const std::string loss = percent_text(path.loss_in_1s) + "/" + percent_text(path.loss_out_1s);
      const std::string change = path.last_change.empty()
                                     ? std::string("-")
                                     : ago_text(path.last_change_at, now) + ": " + path.last_change;
      std::string classes;
      for (const auto& c : path.classes) {
        classes += (classes.empty() ? "" : ",") + c;
      }
      // The fixed columns formatted; class names and the change (of any length) appended.
      std::snprintf(line, sizeof line, "  %-1s %-8s %-24s %-9s %8s %8s %13s %15s  ",
                    path.active ? "*" : "", path.link.c_str(), path.endpoint.c_str(),
                    path.measured ? path.state.c_str() : "(new)", ms_text(path.rtt_ms).c_str(),
                    ms_text(path.rtt_p99_ms).c_str(), jitter.c_str(), loss.c_str());
      out += line;
      const std::string on = classes.empty() ? "-" : classes;
      out += on + std::string(on.size() < 12 ? 13 - on.size() : 1, ' ') + change + "\n";
    }
  }
  if (out.empty()) {
    out = "no peers\n";
  } else {
    out += "\n* the path the peer's traffic takes (classes: the policies classes on a path)\n";
  }
  return {.out = out};
}

Output request_path_prefer(Invocation& inv) {
  constexpr const char* kUsage = "request path prefer PEER (LINK [ENDPOINT] | auto)";
  if (inv.args.size() < 2 || inv.args.size() > 3 ||
      (inv.args[1] == "auto" && inv.args.size() != 2)) {
    return usage_error(kUsage);
  }
  nlohmann::json params{{"peer", inv.args[0]}};
  if (inv.args[1] == "auto") {
    params["auto"] = true;
  } else {
    params["link"] = inv.args[1];
    if (inv.args.size() == 3) {
      params["endpoint"] = inv.args[2];
    }
  }
  auto r = inv.call("request.path.prefer", params, "cannot prefer the path");
  if (!r) {
    return r.failure();
  }
  if (inv.json) {
    return {.out = json_text(*r)};
  }
  return {.out = inv.args[1] == "auto"
                     ? "peer " + inv.args[0] + ": paths chosen by the probes\n"
                     : "peer " + inv.args[0] + ": its traffic takes " + inv.args[1] +
                           (inv.args.size() == 3 ? " toward " + inv.args[2] : std::string()) +
                           " while that path is up (audited)\n"};
}

}  // namespace

void add_show_paths_commands(CommandTable& t) {
  t.add({.words = {"show", "paths"},
         .help = "each mesh peer's paths: state, round trip, jitter, loss, last change",
         .run = show_paths});
  t.add({.words = {"request", "path", "prefer"},
         .args_hint = "PEER (LINK [ENDPOINT] | auto)",
         .help = "send a mesh peer's traffic over a WAN link by hand while that path is up "
                 "(operator; audited; not config: vigil-dp forgets it when it restarts); auto "
                 "gives the choice back to the probes",
         .run = request_path_prefer});
}

}  // namespace vigil::mgmt::cli
