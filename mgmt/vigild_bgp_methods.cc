// vigild's BGP methods, from Vigil's FRR instance (--frr): show.bgp.summary, show.bgp.neighbors
// and show.bgp.routes ask vtysh for FRR's JSON on the proxy threads (never on the loop), and
// a poll every few seconds turns the same answers into the vigil_bgp_* metrics.
#include <atomic>
#include <map>
#include <set>

#include "bgp/frr/bgp_state.h"
#include "common/api/bgp_status.h"
#include "common/net/ip.h"
#include "mgmt/api_errors.h"
#include "mgmt/vigild_service.h"

namespace vigil::mgmt {

using config::Role;
using nlohmann::json;

namespace {

// FRR prints a table only whole, ~350 bytes of JSON per path, and vtysh's answer must be read
// whole to be parsed: a listing of the whole table is refused past kMaxListedTable routes (a
// prefix narrows it), and no answer is read past kMaxShowBytes. One listing at a time.
constexpr size_t kMaxShowBytes = size_t{32} << 20;
constexpr size_t kMaxNeighborsBytes = size_t{16} << 20;
constexpr size_t kDefaultRouteLimit = 1000;
constexpr size_t kMaxRouteLimit = 10000;
constexpr uint64_t kMaxListedTable = 20000;
std::atomic<bool> listing_routes{false};
// Polls (5 s apart) FRR may miss, a daemon restarting, before its sessions read as down.
constexpr int kSilentPollsBeforeDown = 3;

Expected<api::BgpSummary> read_summary(const bgp::FrrControl& frr) {
  auto summary = frr.show_json("show bgp summary json", kMaxNeighborsBytes);
  if (!summary) {
    return fail(summary.error());
  }
  auto neighbors = frr.show_json("show bgp neighbors json", kMaxNeighborsBytes);
  if (!neighbors) {
    return fail(neighbors.error());
  }
  return bgp::bgp_summary_from(*summary, *neighbors);
}

// RFC 4271's states numbered as BGP4-MIB's bgpPeerState, so a dashboard or an SNMP bridge
// reads them the same way: idle(1) connect(2) active(3) opensent(4) openconfirm(5)
// established(6); 0 for FRR's own (Clearing, Deleted).
int state_number(const std::string& state) {
  static const char* const states[] = {"Idle",     "Connect",     "Active",
                                       "OpenSent", "OpenConfirm", "Established"};
  for (int i = 0; i < 6; ++i) {
    if (state.starts_with(states[i])) {
      return i + 1;
    }
  }
  return 0;
}

}  // namespace

void VigildService::register_bgp_methods() {
  // Each runs `body` with FRR on a proxy thread and answers with what it returns.
  const auto with_frr = [this](const std::function<rpc::CallResult(const bgp::FrrControl&)>& body) {
    return [this, body](const json&, const Caller&, const rpc::Reply& reply) {
      if (!frr_) {
        reply(api_error(kNotConfigured,
                        "vigild runs no FRR instance (started without --frr): no BGP here"));
        return;
      }
      const bool taken = off_loop(
          *proxy_workers_,
          [this, body, reply] {
            auto answer = std::make_shared<rpc::CallResult>(body(*frr_));
            return std::function<void()>([reply, answer] { reply(std::move(*answer)); });
          },
          [reply](const std::string& what) {
            reply(api_error(rpc::kInternalError, "internal error: " + what));
          });
      if (!taken) {
        reply(api_error(rpc::kServerBusy, "server busy: too many calls waiting; try again"));
      }
    };
  };
  const auto unavailable = [](const std::string& why) {
    return api_error(kComponentUnavailable, "FRR did not answer: " + why);
  };

  add_deferred("show.bgp.summary", Role::kViewer,
               [with_frr, unavailable](const json& p, const Caller& c, const rpc::Reply& reply) {
                 with_frr([unavailable](const bgp::FrrControl& frr) -> rpc::CallResult {
                   auto s = read_summary(frr);
                   if (!s) {
                     return unavailable(s.error());
                   }
                   return json(*s);
                 })(p, c, reply);
               });

  add_deferred("show.bgp.neighbors", Role::kViewer,
               [with_frr, unavailable](const json& p, const Caller& c, const rpc::Reply& reply) {
                 std::string address;
                 if (p.is_object() && p.contains("address")) {
                   auto parsed = net::IpAddress::parse(
                       p["address"].is_string() ? p["address"].get<std::string>() : "");
                   if (!parsed) {
                     reply(rpc::invalid_params("params: {\"address\": a neighbour's IP address}"));
                     return;
                   }
                   address = parsed->to_string();
                 }
                 with_frr([unavailable, address](const bgp::FrrControl& frr) -> rpc::CallResult {
                   auto s = read_summary(frr);
                   if (!s) {
                     return unavailable(s.error());
                   }
                   if (address.empty()) {
                     return json(s->neighbors);
                   }
                   for (const auto& n : s->neighbors) {
                     if (n.address == address) {
                       return json(std::vector<api::BgpNeighborStatus>{n});
                     }
                   }
                   return api_error(kNotConfigured, "no BGP neighbour " + address);
                 })(p, c, reply);
               });

  add_deferred(
      "show.bgp.routes", Role::kViewer,
      [with_frr, unavailable](const json& p, const Caller& c, const rpc::Reply& reply) {
        std::optional<net::Prefix> prefix;  // a network: no host bits
        size_t limit = kDefaultRouteLimit;
        const std::string usage =
            "params: {\"prefix\": a prefix (it and what is inside it), \"limit\": 1.." +
            std::to_string(kMaxRouteLimit) + "}";
        if (p.is_object() && p.contains("prefix")) {
          auto parsed = net::Prefix::parse_network(
              p["prefix"].is_string() ? p["prefix"].get<std::string>() : "");
          if (!parsed) {
            reply(rpc::invalid_params(usage + ": " + parsed.error()));
            return;
          }
          prefix = *parsed;
        }
        if (p.is_object() && p.contains("limit")) {
          if (!p["limit"].is_number_unsigned() || p["limit"].get<uint64_t>() == 0 ||
              p["limit"].get<uint64_t>() > kMaxRouteLimit) {
            reply(rpc::invalid_params(usage));
            return;
          }
          limit = p["limit"].get<size_t>();
        }
        with_frr([unavailable, prefix, limit](const bgp::FrrControl& frr) -> rpc::CallResult {
          if (listing_routes.exchange(true)) {
            return api_error(rpc::kServerBusy,
                             "server busy: another BGP table listing is under way; try again");
          }
          struct Done {
            ~Done() { listing_routes = false; }
          } done;
          api::BgpSummary sizes;
          if (!prefix) {
            auto s = read_summary(frr);
            if (!s) {
              return unavailable(s.error());
            }
            sizes = *s;
            if (sizes.routes_ipv4 + sizes.routes_ipv6 > kMaxListedTable) {
              return rpc::invalid_params(
                  "BGP's table has " + std::to_string(sizes.routes_ipv4) + " IPv4 and " +
                  std::to_string(sizes.routes_ipv6) +
                  " IPv6 RIB entries, more than are listed whole: give a prefix (show bgp "
                  "routes PREFIX) to list those inside it");
            }
          }
          api::BgpRoutes out;
          for (const char* family : {"ipv4", "ipv6"}) {
            if (prefix && (prefix->address.family == 4) != (family[3] == '4')) {
              continue;
            }
            std::string command = std::string("show bgp ") + family + " unicast";
            if (prefix) {
              command += " " + prefix->to_string() + " longer-prefixes";
            }
            if (!prefix && (family[3] == '4' ? sizes.routes_ipv4 : sizes.routes_ipv6) == 0) {
              continue;
            }
            auto table = frr.show_json(command + " json", kMaxShowBytes);
            if (!table) {
              return unavailable(table.error() + (prefix ? "; give a longer prefix" : ""));
            }
            bgp::add_bgp_routes_from(*table, limit, out);
          }
          return json(out);
        })(p, c, reply);
      });
}

void VigildService::poll_bgp_metrics() {
  if (!frr_ || bgp_poll_in_flight_) {
    return;
  }
  bgp_poll_in_flight_ = off_loop(
      *proxy_workers_,
      [this]() -> std::function<void()> {
        auto s = read_summary(*frr_);
        return [this, s = std::move(s)] {
          bgp_poll_in_flight_ = false;
          export_bgp_metrics(s ? &*s : nullptr);
        };
      },
      [this](const std::string&) { bgp_poll_in_flight_ = false; });
}

void VigildService::register_bgp_metrics() {
  auto& metrics = daemon_.metrics();
  bgp_metrics_.answering = &metrics.gauge(
      "vigil_bgp_frr_answering", "Whether Vigil's FRR instance answered the last poll (1) or not");
  bgp_metrics_.state = &metrics.gauge(
      "vigil_bgp_neighbor_state",
      "A neighbour's BGP session state as BGP4-MIB numbers it: 1 idle, 2 connect, 3 active, "
      "4 opensent, 5 openconfirm, 6 established");
  bgp_metrics_.established = &metrics.gauge("vigil_bgp_neighbor_established",
                                            "1 while the neighbour's session is established");
  bgp_metrics_.uptime = &metrics.gauge("vigil_bgp_neighbor_established_seconds",
                                       "How long the neighbour's session has been up");
  bgp_metrics_.prefixes = &metrics.gauge(
      "vigil_bgp_neighbor_prefixes",
      "Prefixes per neighbour and family: accepted (received, past the import policy) and "
      "advertised");
}

void VigildService::export_bgp_metrics(const api::BgpSummary* s) {
  BgpMetrics& m = bgp_metrics_;
  m.answering->Add({}).Set(s != nullptr ? 1 : 0);
  if (s == nullptr) {
    // What was last known stays through a daemon's restart; FRR silent for longer, the
    // sessions are not known to be up, and an alert on them must fire.
    if (++m.failed_polls == kSilentPollsBeforeDown) {
      for (const auto& [address, families] : m.exported) {
        m.state->Add({{"neighbor", address}}).Set(0);
        m.established->Add({{"neighbor", address}}).Set(0);
        m.uptime->Add({{"neighbor", address}}).Set(0);
      }
    }
    return;
  }
  m.failed_polls = 0;
  std::map<std::string, std::set<std::string>> now;
  for (const auto& n : s->neighbors) {
    auto& families = now[n.address];
    const prometheus::Labels labels{{"neighbor", n.address}};
    m.state->Add(labels).Set(state_number(n.state));
    m.established->Add(labels).Set(n.state == "Established" ? 1 : 0);
    m.uptime->Add(labels).Set(static_cast<double>(n.established_ms) / 1000.0);
    for (const auto& f : n.families) {
      families.insert(f.family);
      m.prefixes->Add({{"neighbor", n.address}, {"family", f.family}, {"direction", "accepted"}})
          .Set(static_cast<double>(f.accepted));
      m.prefixes->Add({{"neighbor", n.address}, {"family", f.family}, {"direction", "advertised"}})
          .Set(static_cast<double>(f.advertised));
    }
  }
  // A neighbour (or a family of one) taken out of the config leaves the metrics with it.
  for (const auto& [address, families] : m.exported) {
    const auto kept = now.find(address);
    if (kept == now.end()) {
      const prometheus::Labels labels{{"neighbor", address}};
      m.state->Remove(&m.state->Add(labels));
      m.established->Remove(&m.established->Add(labels));
      m.uptime->Remove(&m.uptime->Add(labels));
    }
    for (const auto& family : families) {
      if (kept != now.end() && kept->second.contains(family)) {
        continue;
      }
      for (const char* direction : {"accepted", "advertised"}) {
        m.prefixes->Remove(&m.prefixes->Add(
            {{"neighbor", address}, {"family", family}, {"direction", direction}}));
      }
    }
  }
  m.exported = std::move(now);
}

}  // namespace vigil::mgmt
