// show classifier, show interfaces, show routes: vigil-dp's counters and tables, which vigild
// fetches from it.
#include "mgmt/cli/commands/commands.h"
#include "mgmt/cli/table_printer.h"

namespace vigil::mgmt::cli {
namespace {

using nlohmann::json;

// "packets" (or "bytes") of a {"packets": N, "bytes": M} counter, as text.
std::string count_text(const json& count, const char* what = "packets") {
  return std::to_string(count.value(what, uint64_t{0}));
}

// One table of verdicts per port (the non-zero ones), then VIPs, backends, ACL rules and
// limits that matched anything.
std::string classifier_port_text(const json& port) {
  std::string out = "port " + port.value("device", "") + " (" + port.value("mode", "") + " XDP" +
                    (port.value("adopted", false) ? ", adopted from a previous run" : "") +
                    "): " + std::to_string(port.value("packets", uint64_t{0})) + " packets\n";
  if (port.value("packets", uint64_t{0}) == 0) {
    return out + "\n";
  }
  TablePrinter verdicts({"verdict", "packets", "bytes"});
  for (const auto& [name, count] : member(port, "verdicts").items()) {
    if (count.value("packets", uint64_t{0}) != 0) {
      verdicts.add_row({name, count_text(count), count_text(count, "bytes")});
    }
  }
  for (const auto& [name, count] : member(port, "malformed").items()) {
    verdicts.add_row({"  malformed: " + name, count_text(count), count_text(count, "bytes")});
  }
  out += verdicts.render();
  TablePrinter matches({"what", "name", "packets"});
  for (const auto& v : member(port, "vips")) {
    matches.add_row({"vip", v.value("vip", ""), count_text(member(v, "count"))});
  }
  for (const auto& b : member(port, "backends")) {
    matches.add_row({"backend", b.value("vip", "") + " " + b.value("backend", ""),
                     count_text(member(b, "count"))});
  }
  for (const auto& a : member(port, "acl")) {
    matches.add_row({"acl", a.value("rule", ""), count_text(member(a, "matched"))});
  }
  for (const auto& p : member(port, "policers")) {
    matches.add_row({"limit (dropped)", p.value("name", ""), count_text(member(p, "dropped"))});
  }
  if (!member(port, "vips").empty() || !member(port, "acl").empty() ||
      !member(port, "policers").empty()) {
    out += "\n" + matches.render();
  }
  return out + "\n";
}

Output show_classifier(Invocation& inv) {
  auto r = inv.call("show.classifier", json::object(), "cannot read the classifier");
  if (!r) {
    return r.failure();
  }
  if (inv.json) {
    return {.out = json_text(*r)};
  }
  if (r->empty()) {
    return {.out = "no port runs the XDP classifier (interfaces.<name>.xdp: true)\n"};
  }
  Output o;
  for (const auto& port : *r) {
    o.out += classifier_port_text(port);
  }
  return o;
}

// The fast path's state from vigil-dp (through vigild). Not forwarding is said as the
// command's whole output, unless --json asked for the answer as it is.
Answer dataplane(Invocation& inv) {
  auto r = inv.call("show.dataplane", json::object(), "cannot read the fast path");
  if (r && !inv.json && !r->value("forwarding", false)) {
    return Answer(Output{.out =
                             "the fast path is not forwarding (dataplane.forwarding: false): the "
                             "kernel routes, vigil-dp runs the classifier only\n"});
  }
  return r;
}

// dataplane.flow_offload: what the XDP classifier forwarded by itself, per port.
std::string flow_offload_text(const json& o) {
  if (!o.value("enabled", false)) {
    return "\nflow offload to XDP: off\n";
  }
  TablePrinter table({"port", "offloaded rx packets", "offloaded tx packets", "offloads"});
  for (const auto& p : member(o, "ports")) {
    table.add_row({p.value("port", ""), count_text(member(p, "rx")), count_text(member(p, "tx")),
                   p.value("offloadable", false) ? "yes" : "no: " + p.value("reason", "")});
  }
  return "\nflow offload to XDP (generation " + std::to_string(o.value("generation", uint64_t{0})) +
         "): flows installed " + std::to_string(o.value("installed", uint64_t{0})) + ", stale " +
         std::to_string(o.value("stale", uint64_t{0})) + ", declined " +
         std::to_string(o.value("declined", uint64_t{0})) + ", failed " +
         std::to_string(o.value("failed", uint64_t{0})) + "\n" + table.render();
}

Output show_interfaces(Invocation& inv) {
  auto r = dataplane(inv);
  if (!r) {
    return r.failure();
  }
  if (inv.json) {
    return {.out = json_text(member(*r, "ports"))};
  }
  TablePrinter table(
      {"port", "link", "mac", "rx packets", "rx bytes", "tx packets", "tx bytes", "device missed"});
  for (const auto& p : member(*r, "ports")) {
    auto n = [&p](const char* key) { return std::to_string(p.value(key, uint64_t{0})); };
    table.add_row({p.value("name", ""), p.value("link", ""), p.value("mac", ""), n("rx_packets"),
                   n("rx_bytes"), n("tx_packets"), n("tx_bytes"), n("device_rx_missed")});
  }
  TablePrinter drops({"dropped because", "packets"});
  bool dropped = false;
  for (const auto& [reason, count] : member(*r, "drops").items()) {
    if (count.get<uint64_t>() != 0) {
      drops.add_row({reason, std::to_string(count.get<uint64_t>())});
      dropped = true;
    }
  }
  auto n = [&r](const char* key) { return std::to_string(r->value(key, uint64_t{0})); };
  return {.out = table.render() + "\nICMP errors sent: " + n("icmp_errors_sent") +
                 ", for the box (to the kernel): " + n("to_kernel") +
                 "\nrx mode: " + r->value("rx_mode", "") + " (idle sleeps " + n("idle_sleeps") +
                 "), short bursts held up to " + n("tx_hold_us") + " us before sending\n\n" +
                 (dropped ? drops.render() : "dropped: nothing\n") +
                 flow_offload_text(member(*r, "flow_offload"))};
}

Output show_routes(Invocation& inv) {
  auto r = dataplane(inv);
  if (!r) {
    return r.failure();
  }
  if (inv.json) {
    return {.out = json_text({{"routes", member(*r, "routes")},
                              {"neighbours", member(*r, "neighbours")},
                              {"adjacencies", r->value("adjacencies", json::object())}})};
  }
  TablePrinter routes({"prefix", "action", "via", "port", "weight"});
  for (const auto& route : member(*r, "routes")) {
    const std::string prefix = route.value("prefix", "");
    const std::string action = route.value("action", "");
    if (member(route, "next_hops").empty()) {
      routes.add_row({prefix, action, "-", "-", "-"});
    }
    for (const auto& hop : member(route, "next_hops")) {
      routes.add_row({prefix, action, hop.value("via", ""), hop.value("port", ""),
                      std::to_string(hop.value("weight", 1))});
    }
  }
  TablePrinter neighbours({"neighbour", "mac", "port"});
  for (const auto& n : member(*r, "neighbours")) {
    neighbours.add_row({n.value("address", ""), n.value("mac", ""), n.value("port", "")});
  }
  Output o{.out = routes.render() + "\n" + neighbours.render()};
  if (const auto a = r->find("adjacencies"); a != r->end()) {
    o.out += "\ngateways with an adjacency: " + std::to_string(a->value("in_use", uint64_t{0})) +
             " of " + std::to_string(a->value("capacity", uint64_t{0})) + " slots\n";
  }
  return o;
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
