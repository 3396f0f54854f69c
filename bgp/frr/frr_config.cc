#include "bgp/frr/frr_config.h"

#include <set>

namespace vigil::bgp {
namespace {

using config::BgpConfig;
using config::BgpFamily;
using config::BgpNeighbor;
using config::BgpRemoteAs;

const char* action(bool permit) {
  return permit ? "permit" : "deny";
}

bool has_family(const config::BgpPrefixList& list, int family) {
  for (const auto& rule : list.rules) {
    if (rule.prefix.address.family == family) {
      return true;
    }
  }
  return false;
}

const config::BgpPrefixList* prefix_list(const BgpConfig& bgp, const std::string& name) {
  for (const auto& list : bgp.prefix_lists) {
    if (list.name == name) {
      return &list;
    }
  }
  return nullptr;
}

// One word of printable ASCII, as FRR's `neighbor X password WORD` takes it (at most 80).
bool valid_password(const std::string& p) {
  if (p.empty() || p.size() > 80) {
    return false;
  }
  for (char c : p) {
    if (c <= ' ' || c > '~') {
      return false;
    }
  }
  return true;
}

std::string remote_as(const BgpNeighbor& n) {
  switch (n.remote_as_kind) {
    case BgpRemoteAs::kExternal:
      return "external";
    case BgpRemoteAs::kInternal:
      return "internal";
    case BgpRemoteAs::kNumber:
      break;
  }
  return std::to_string(n.remote_as);
}

bool carries(const BgpNeighbor& n, BgpFamily f) {
  for (BgpFamily g : n.families) {
    if (g == f) {
      return true;
    }
  }
  return false;
}

// One route-map entry: `family` 0 (no prefix list matched), 4 or 6.
void route_map_entry(std::string& out, const config::BgpPolicy& policy,
                     const config::BgpPolicyRule& rule, uint32_t seq, int family, uint32_t asn) {
  out += "route-map " + policy.name + " " + action(rule.permit) + " " + std::to_string(seq) + "\n";
  if (family == 4) {
    out += " match ip address prefix-list " + rule.match_prefix_list + "\n";
  } else if (family == 6) {
    out += " match ipv6 address prefix-list " + rule.match_prefix_list + "\n";
  }
  if (!rule.match_as_path.empty()) {
    out += " match as-path " + rule.match_as_path + "\n";
  }
  if (!rule.match_community.empty()) {
    out += " match community " + rule.match_community + "\n";
  }
  if (rule.set_as_path_prepend != 0) {
    out += " set as-path prepend";
    for (uint32_t i = 0; i < rule.set_as_path_prepend; ++i) {
      out += " " + std::to_string(asn);
    }
    out += "\n";
  }
  if (!rule.set_communities.empty()) {
    out += " set community";
    for (const std::string& c : rule.set_communities) {
      out += " " + c;
    }
    out += " additive\n";
  }
  if (rule.set_local_preference) {
    out += " set local-preference " + std::to_string(*rule.set_local_preference) + "\n";
  }
  if (rule.set_med) {
    out += " set metric " + std::to_string(*rule.set_med) + "\n";
  }
  out += "exit\n!\n";
}

std::string neighbor_session(const BgpNeighbor& n, const std::string* password) {
  const std::string a = " neighbor " + n.address.to_string();
  std::string out = a + " remote-as " + remote_as(n) + "\n";
  if (!n.description.empty()) {
    out += a + " description " + n.description + "\n";
  }
  if (password != nullptr) {
    out += a + " password " + *password + "\n";
  }
  if (n.timers) {
    out += a + " timers " + std::to_string(n.timers->keepalive) + " " +
           std::to_string(n.timers->hold) + "\n";
    out += a + " timers connect " + std::to_string(n.timers->connect) + "\n";
  }
  if (n.bfd) {
    out += a + " bfd\n";
    out += a + " bfd profile " + bfd_profile_name(*n.bfd) + "\n";
  }
  if (n.multihop != 0) {
    out += a + " ebgp-multihop " + std::to_string(n.multihop) + "\n";
  }
  if (!n.update_source.empty()) {
    out += a + " update-source " + n.update_source + "\n";
  }
  return out;
}

std::string address_family(const BgpConfig& bgp, BgpFamily family,
                           const std::vector<net::Prefix>& vips) {
  const int f = family == BgpFamily::kIpv4Unicast ? 4 : 6;
  std::string body;
  std::set<net::Prefix> networks(bgp.networks.begin(), bgp.networks.end());
  networks.insert(vips.begin(), vips.end());
  for (const net::Prefix& p : networks) {
    if (p.address.family == f) {
      body += "  network " + p.to_string() + "\n";
    }
  }
  for (const BgpNeighbor& n : bgp.neighbors) {
    if (!carries(n, family)) {
      continue;
    }
    const std::string a = "  neighbor " + n.address.to_string();
    body += a + " activate\n";
    if (!n.import_policy.empty()) {
      body += a + " route-map " + n.import_policy + " in\n";
    }
    if (!n.export_policy.empty()) {
      body += a + " route-map " + n.export_policy + " out\n";
    }
    if (n.max_prefixes) {
      body += a + " maximum-prefix " + std::to_string(n.max_prefixes->limit);
      if (n.max_prefixes->warning_percent != 75) {
        body += " " + std::to_string(n.max_prefixes->warning_percent);
      }
      if (n.max_prefixes->restart_minutes) {
        body += " restart " + std::to_string(*n.max_prefixes->restart_minutes);
      } else if (n.max_prefixes->warning_only) {
        body += " warning-only";
      }
      body += "\n";
    }
  }
  if (body.empty()) {
    return "";
  }
  return std::string(" !\n address-family ") + (f == 4 ? "ipv4" : "ipv6") + " unicast\n" + body +
         " exit-address-family\n";
}

}  // namespace

std::string bfd_profile_name(const config::BgpBfd& bfd) {
  return "vigil-" + std::to_string(bfd.detect_multiplier) + "x" +
         std::to_string(bfd.receive_interval_ms) + "-" + std::to_string(bfd.transmit_interval_ms);
}

std::string render_header(const std::string& hostname) {
  return "frr version 8.4.4\nfrr defaults traditional\nhostname " + hostname +
         "\nservice integrated-vtysh-config\n!\n";
}

std::string render_fpm() {
  // The default port (2620) is not written: FRR does not print it, and frr-reload would
  // reconnect zebra on every commit.
  return "fpm address 127.0.0.1\nno fpm use-next-hop-groups\n!\n";
}

std::string render_prefix_lists(const BgpConfig& bgp) {
  std::string out;
  for (const auto& list : bgp.prefix_lists) {
    uint32_t seq = 5;
    for (const auto& rule : list.rules) {
      out += std::string(rule.prefix.address.family == 4 ? "ip" : "ipv6") + " prefix-list " +
             list.name + " seq " + std::to_string(seq) + " " + action(rule.permit) + " " +
             rule.prefix.to_string();
      if (rule.ge) {
        out += " ge " + std::to_string(*rule.ge);
      }
      if (rule.le) {
        out += " le " + std::to_string(*rule.le);
      }
      out += "\n";
      seq += 5;
    }
  }
  return out.empty() ? out : out + "!\n";
}

std::string render_as_path_lists(const BgpConfig& bgp) {
  std::string out;
  for (const auto& list : bgp.as_path_lists) {
    uint32_t seq = 5;
    for (const auto& rule : list.rules) {
      out += "bgp as-path access-list " + list.name + " seq " + std::to_string(seq) + " " +
             action(rule.permit) + " " + rule.pattern + "\n";
      seq += 5;
    }
  }
  return out.empty() ? out : out + "!\n";
}

std::string render_community_lists(const BgpConfig& bgp) {
  std::string out;
  for (const auto& list : bgp.community_lists) {
    uint32_t seq = 5;
    for (const auto& rule : list.rules) {
      out += "bgp community-list standard " + list.name + " seq " + std::to_string(seq) + " " +
             action(rule.permit) + " " + rule.pattern + "\n";
      seq += 5;
    }
  }
  return out.empty() ? out : out + "!\n";
}

std::string render_route_maps(const BgpConfig& bgp) {
  std::string out;
  for (const auto& policy : bgp.policies) {
    uint32_t seq = 10;
    for (const auto& rule : policy.rules) {
      if (rule.match_prefix_list.empty()) {
        route_map_entry(out, policy, rule, seq, 0, bgp.asn);
      } else {
        const config::BgpPrefixList* list = prefix_list(bgp, rule.match_prefix_list);
        for (int family : {4, 6}) {
          if (list != nullptr && has_family(*list, family)) {
            route_map_entry(out, policy, rule, seq + (family == 6 ? 1 : 0), family, bgp.asn);
          }
        }
      }
      seq += 10;
    }
    if (policy.rules.empty()) {
      out += "route-map " + policy.name + " deny 10\nexit\n!\n";
    }
  }
  return out;
}

Expected<std::string> render_router_bgp(const FrrInput& input) {
  const BgpConfig& bgp = *input.bgp;
  std::string out = "router bgp " + std::to_string(bgp.asn) + "\n";
  out += " bgp router-id " + bgp.router_id.to_string() + "\n";
  out += " no bgp default ipv4-unicast\n";
  out += " no bgp network import-check\n";
  if (bgp.graceful_restart) {
    // FRR prints the times only when they are not its defaults (120, 360): so do we, or
    // frr-reload would find them changed on every commit.
    out += " bgp graceful-restart\n";
    if (bgp.restart_time != 120) {
      out += " bgp graceful-restart restart-time " + std::to_string(bgp.restart_time) + "\n";
    }
    if (bgp.stalepath_time != 360) {
      out += " bgp graceful-restart stalepath-time " + std::to_string(bgp.stalepath_time) + "\n";
    }
  }
  for (const BgpNeighbor& n : bgp.neighbors) {
    const std::string address = n.address.to_string();
    const std::string* password = nullptr;
    if (!n.password_file.empty()) {
      const auto it = input.passwords.find(address);
      if (it == input.passwords.end()) {
        return fail("neighbour " + address + ": no password read from " + n.password_file);
      }
      if (!valid_password(it->second)) {
        return fail("neighbour " + address + ": the password in " + n.password_file +
                    " is not one word of 1 to 80 printable ASCII characters");
      }
      password = &it->second;
    }
    out += neighbor_session(n, password);
  }
  out += address_family(bgp, BgpFamily::kIpv4Unicast, input.vips);
  out += address_family(bgp, BgpFamily::kIpv6Unicast, input.vips);
  out += "exit\n!\n";
  return out;
}

std::string render_bfd_profiles(const BgpConfig& bgp) {
  std::set<std::string> written;
  std::string profiles;
  for (const BgpNeighbor& n : bgp.neighbors) {
    if (!n.bfd || !written.insert(bfd_profile_name(*n.bfd)).second) {
      continue;
    }
    // bfdd prints only what is not its default (3, 300 ms, 300 ms).
    profiles += " profile " + bfd_profile_name(*n.bfd) + "\n";
    if (n.bfd->detect_multiplier != 3) {
      profiles += "  detect-multiplier " + std::to_string(n.bfd->detect_multiplier) + "\n";
    }
    if (n.bfd->receive_interval_ms != 300) {
      profiles += "  receive-interval " + std::to_string(n.bfd->receive_interval_ms) + "\n";
    }
    if (n.bfd->transmit_interval_ms != 300) {
      profiles += "  transmit-interval " + std::to_string(n.bfd->transmit_interval_ms) + "\n";
    }
    profiles += " exit\n !\n";
  }
  return profiles.empty() ? profiles : "bfd\n" + profiles + "exit\n!\n";
}

Expected<std::string> render_frr_conf(const FrrInput& input) {
  if (input.bgp == nullptr) {
    // No BGP: FRR keeps running with nothing to do (no FPM either: vigil-dp listens only
    // with routing.bgp), so adding BGP later is a reload, not a start.
    return render_header(input.hostname) + "end\n";
  }
  auto router = render_router_bgp(input);
  if (!router) {
    return fail(router.error());
  }
  const BgpConfig& bgp = *input.bgp;
  return render_header(input.hostname) + render_fpm() + render_prefix_lists(bgp) +
         render_as_path_lists(bgp) + render_community_lists(bgp) + render_route_maps(bgp) +
         *router + render_bfd_profiles(bgp) + "end\n";
}

}  // namespace vigil::bgp
