// show classifier, show interfaces, show routes: vigil-dp's counters and tables, which vigild
// fetches from it.
#include "common/api/classifier_status.h"
#include "common/api/dataplane_status.h"
#include "mgmt/cli/commands/commands.h"
#include "mgmt/cli/table_printer.h"

namespace vigil::mgmt::cli {
namespace {

using nlohmann::json;

std::string count_of(uint64_t n) {
  return std::to_string(n);
}

// One table of verdicts per port (the non-zero ones), then VIPs, backends, ACL rules and
// limits that matched anything.
std::string classifier_port_text(const api::ClassifierPortStatus& port) {
  std::string out = "port " + port.device + " (" + port.mode + " XDP" +
                    (port.adopted ? ", adopted from a previous run" : "") +
                    "): " + count_of(port.packets) + " packets\n";
  if (port.packets == 0) {
    return out + "\n";
  }
  TablePrinter verdicts({"verdict", "packets", "bytes"});
  for (const auto& [name, count] : port.verdicts) {
    if (count.packets != 0) {
      verdicts.add_row({name, count_of(count.packets), count_of(count.bytes)});
    }
  }
  for (const auto& [name, count] : port.malformed) {
    verdicts.add_row({"  malformed: " + name, count_of(count.packets), count_of(count.bytes)});
  }
  out += verdicts.render();
  // The tx_/redirect_ verdicts count what the program handed on; what the device then failed
  // to send is only known from the kernel's tracepoints, shown beside them.
  if (!port.transmit_errors_unavailable.empty()) {
    out += "not sent after a tx/redirect verdict: not counted (" +
           port.transmit_errors_unavailable + ")\n";
  } else {
    std::string failed;
    for (const auto& [kind, frames] : port.transmit_errors) {
      if (frames != 0) {
        failed += (failed.empty() ? "" : ", ") + kind + " " + count_of(frames);
      }
    }
    if (!failed.empty()) {
      out += "not sent after a tx/redirect verdict (since vigil-dp started): " + failed + "\n";
    }
  }
  TablePrinter matches({"what", "name", "packets"});
  for (const auto& v : port.vips) {
    matches.add_row({"vip", v.vip, count_of(v.count.packets)});
  }
  for (const auto& b : port.backends) {
    matches.add_row({"backend", b.vip + " " + b.backend, count_of(b.count.packets)});
  }
  for (const auto& a : port.acl) {
    matches.add_row({"acl", a.rule, count_of(a.matched.packets)});
  }
  for (const auto& p : port.policers) {
    matches.add_row({"limit (dropped)", p.name, count_of(p.dropped.packets)});
  }
  if (!port.vips.empty() || !port.acl.empty() || !port.policers.empty()) {
    out += "\n" + matches.render();
  }
  return out + "\n";
}

Output show_classifier(Invocation& inv) {
  auto r = inv.call("show.classifier", json::object(), "cannot read the classifier");
  if (!r) {
    return r.failure();
  }
  const auto ports = r->get<std::vector<api::ClassifierPortStatus>>();
  if (inv.json) {
    return {.out = json_text(ports)};
  }
  if (ports.empty()) {
    return {.out = "no port runs the XDP classifier (interfaces.<name>.xdp: true)\n"};
  }
  Output o;
  for (const auto& port : ports) {
    o.out += classifier_port_text(port);
  }
  return o;
}

// The fast path's state from vigil-dp (through vigild), read into api::DataplaneStatus, the
// declaration vigil-dp writes it from (--json prints it back from there too). Not forwarding is
// said as the command's whole output.
struct Dataplane {
  Answer answer;
  api::DataplaneStatus status;
};

Dataplane dataplane(Invocation& inv) {
  Dataplane d{.answer = inv.call("show.dataplane", json::object(), "cannot read the fast path")};
  if (!d.answer) {
    return d;
  }
  d.status = d.answer->get<api::DataplaneStatus>();
  if (!inv.json && !d.status.forwarding) {
    d.answer =
        Answer(Output{.out = "the fast path is not forwarding (dataplane.forwarding: false): "
                             "the kernel routes, vigil-dp runs the classifier only\n"});
  }
  return d;
}

// dataplane.flow_offload: what the XDP classifier forwarded by itself, per port.
std::string flow_offload_text(const api::FlowOffloadStatus& o) {
  if (!o.enabled) {
    return "\nflow offload to XDP: off\n";
  }
  TablePrinter table({"port", "offloaded rx packets", "offloaded tx packets", "offloads"});
  for (const auto& p : o.ports) {
    table.add_row({p.port, count_of(p.rx.packets), count_of(p.tx.packets),
                   p.offloadable ? "yes" : "no: " + p.reason});
  }
  return "\nflow offload to XDP (generation " + count_of(o.generation) + "): flows installed " +
         count_of(o.installed) + ", stale " + count_of(o.stale) + ", declined " +
         count_of(o.declined) + ", failed " + count_of(o.failed) + ", held " + count_of(o.held) +
         "\nflows retired as their next hop's MAC changed: " + count_of(o.retired) +
         ", next hops whose MAC keeps changing (not offloaded to): " +
         count_of(o.damped_neighbours) + "\n" + table.render();
}

// dataplane.kernel_fallback: whether the kernel could carry transit if vigil-dp went away.
std::string kernel_fallback_text(const api::KernelFallbackStatus& k) {
  if (!k.enabled) {
    return "kernel fallback: off (while vigil-dp is away, transit goes to the kernel as it is "
           "configured)\n";
  }
  std::string out = "kernel fallback: " + count_of(k.routes) +
                    " routes in the kernel's table (protocol vigil), the kernel forwards for the "
                    "ports" +
                    (k.ipv6_forwarding == "all interfaces"
                         ? " (IPv6 on every interface: no per-interface switch before Linux 6.17)"
                         : "") +
                    "\n";
  if (!k.error.empty()) {
    out += "kernel fallback NOT in step with the fast path: " + k.error + "\n";
  }
  return out;
}

Output show_interfaces(Invocation& inv) {
  auto [r, s] = dataplane(inv);
  if (!r) {
    return r.failure();
  }
  if (inv.json) {
    return {.out = json_text(s.ports)};
  }
  TablePrinter table(
      {"port", "link", "mac", "rx packets", "rx bytes", "tx packets", "tx bytes", "device missed"});
  for (const auto& p : s.ports) {
    table.add_row({p.name, p.link, p.mac, count_of(p.rx_packets), count_of(p.rx_bytes),
                   count_of(p.tx_packets), count_of(p.tx_bytes), count_of(p.device_rx_missed)});
  }
  TablePrinter drops({"dropped because", "packets"});
  bool dropped = false;
  for (const auto& [reason, count] : s.drops) {
    if (count != 0) {
      drops.add_row({reason, count_of(count)});
      dropped = true;
    }
  }
  return {
      .out = table.render() + "\nICMP errors sent: " + count_of(s.icmp_errors_sent) +
             " (over the rate limits: " + count_of(s.icmp_errors_rate_limited) +
             ", not allowed: " + count_of(s.icmp_errors_not_allowed) +
             ", no address to send from: " + count_of(s.icmp_errors_no_source_address) +
             "), for the box (to the kernel): " + count_of(s.to_kernel) +
             (s.ipv4_fragmented == 0 ? std::string()
                                     : "\nIPv4 datagrams over the egress MTU sent in fragments: " +
                                           count_of(s.ipv4_fragmented) + " (as " +
                                           count_of(s.ipv4_fragments_created) + " fragments)") +
             "\nrx mode: " + s.rx_mode + " (idle sleeps " + count_of(s.idle_sleeps) +
             "), short bursts held up to " + count_of(s.tx_hold_us) + " us before sending\n\n" +
             (dropped ? drops.render() : "dropped: nothing\n") + flow_offload_text(s.flow_offload)};
}

Output show_routes(Invocation& inv) {
  auto [r, s] = dataplane(inv);
  if (!r) {
    return r.failure();
  }
  if (inv.json) {
    return {.out = json_text({{"routes", s.routes},
                              {"neighbours", s.neighbours},
                              {"adjacencies", s.adjacencies},
                              {"kernel_fallback", s.kernel_fallback}})};
  }
  TablePrinter routes({"prefix", "source", "action", "via", "port", "weight"});
  for (const auto& route : s.routes) {
    const std::string source = route.source.empty() ? "-" : route.source;
    if (route.next_hops.empty()) {
      routes.add_row({route.prefix, source, route.action, "-", "-", "-"});
    }
    for (const auto& hop : route.next_hops) {
      routes.add_row(
          {route.prefix, source, route.action, hop.via, hop.port, std::to_string(hop.weight)});
    }
  }
  TablePrinter neighbours({"neighbour", "mac", "port"});
  for (const auto& n : s.neighbours) {
    neighbours.add_row({n.address, n.mac, n.port});
  }
  return {.out = routes.render() + "\n" + neighbours.render() + "\ngateways with an adjacency: " +
                 count_of(s.adjacencies.in_use) + " of " + count_of(s.adjacencies.capacity) +
                 " slots\n" + kernel_fallback_text(s.kernel_fallback)};
}

}  // namespace

void add_show_dataplane_commands(CommandTable& t) {
  t.add({.words = {"show", "classifier"},
         .help = "XDP classifier counters per port: verdicts, VIPs, backends, ACL, limits",
         .run = show_classifier});
  t.add({.words = {"show", "interfaces"},
         .help = "fast-path ports: packets and bytes each way, drops by reason",
         .run = show_interfaces});
  t.add({.words = {"show", "routes"},
         .help = "the fast path's FIB (next hops, ECMP weights) and its neighbours",
         .run = show_routes});
}

}  // namespace vigil::mgmt::cli
