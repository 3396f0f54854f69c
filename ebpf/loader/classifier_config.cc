#include "ebpf/loader/classifier_config.h"

#include <algorithm>
#include <bit>
#include <set>
#include <tuple>

#include "config/capacity_checks.h"
#include "vigil/classifier_types.h"

namespace vigil::ebpf {
namespace {

std::string label(const char* list, const std::string& name, size_t i) {
  return std::string(list) + "[" + (name.empty() ? std::to_string(i) : name) + "]";
}

// 1e9 nano-tokens per token in a u64 leaves room for 9.2e9 tokens of burst.
constexpr uint64_t kMaxBurst = 9'000'000'000ull;

void check_policer(const std::string& where, const Policer& p, std::vector<std::string>& errors) {
  if (p.packets_per_second == 0 && p.bytes_per_second == 0) {
    errors.push_back(where + ": neither packets_per_second nor bytes_per_second is set");
  }
  if (p.packet_burst > kMaxBurst || p.byte_burst > kMaxBurst || p.packets_per_second > kMaxBurst ||
      p.bytes_per_second > kMaxBurst) {
    errors.push_back(where + ": rates and bursts are limited to 9,000,000,000");
  }
}

}  // namespace

std::vector<std::string> validate(const ClassifierConfig& c) {
  std::vector<std::string> errors;
  auto check_action = [&](const std::string& where, Action a, bool fast_path_ok) {
    if (a != Action::kPass && a != Action::kDrop && !(fast_path_ok && a == Action::kFastPath)) {
      errors.push_back(where + ": not an action here");
    }
  };
  check_action("default_action", c.default_action, false);
  check_action("later_fragments", c.later_fragments, false);
  auto fits = [&](const std::string& where, const Status& checked) {
    if (!checked) {
      errors.push_back(where + ": " + checked.error());
    }
  };

  fits("acl", config::check_acl_rule_count(c.acl.size()));
  for (size_t i = 0; i < c.acl.size(); ++i) {
    const auto& r = c.acl[i];
    const std::string where = label("acl", r.name, i);
    check_action(where + ".action", r.action, false);
    if (r.source && r.destination && r.source->address.family != r.destination->address.family) {
      errors.push_back(where + ": source and destination are of different address families");
    }
  }
  fits("rate_limits + syn_limits",
       config::check_policer_count(c.rate_limits.size(), c.syn_limits.size()));
  std::set<net::Prefix> rate_prefixes;
  for (size_t i = 0; i < c.rate_limits.size(); ++i) {
    const auto& r = c.rate_limits[i];
    const std::string where = label("rate_limits", r.name, i);
    check_policer(where, r.policer, errors);
    if (!rate_prefixes.insert(r.source).second) {
      errors.push_back(where + ": source " + r.source.to_string() + " has a rate limit already");
    }
  }
  std::set<net::Prefix> syn_prefixes;
  for (size_t i = 0; i < c.syn_limits.size(); ++i) {
    const auto& r = c.syn_limits[i];
    const std::string where = label("syn_limits", r.name, i);
    check_policer(where, Policer{.packets_per_second = r.per_second, .packet_burst = r.burst},
                  errors);
    if (!syn_prefixes.insert(r.destination).second) {
      errors.push_back(where + ": destination " + r.destination.to_string() +
                       " has a SYN limit already");
    }
  }

  fits("vips", config::check_vip_count(c.vips.size()));
  size_t backends = 0;
  bool need4 = false;
  bool need6 = false;
  std::set<std::tuple<net::IpAddress, uint16_t, uint8_t>> vip_keys;
  for (size_t i = 0; i < c.vips.size(); ++i) {
    const auto& v = c.vips[i];
    const std::string where = label("vips", v.name, i);
    if (v.protocol != 6 && v.protocol != 17) {
      errors.push_back(where + ".protocol: only tcp (6) and udp (17)");
    }
    if (!vip_keys.insert({v.address, v.port, v.protocol}).second) {
      errors.push_back(where + ": " + v.address.to_string() + " port " + std::to_string(v.port) +
                       " is another VIP's already");
    }
    std::set<net::IpAddress> seen;
    for (const auto& b : v.backends) {
      if (!seen.insert(b.address).second) {
        errors.push_back(where + ".backends: " + b.address.to_string() + " is listed twice");
      }
      (b.address.family == 4 ? need4 : need6) = true;
    }
    backends += v.backends.size();
    const unsigned min_mtu = v.address.family == 4 ? 576 : 1280;
    if (c.encap_mtu < min_mtu + 48) {
      errors.push_back("encap_mtu: " + std::to_string(c.encap_mtu) + " leaves less than " +
                       std::to_string(min_mtu) + " bytes for " + where);
    }
  }
  fits("vips", config::check_backend_count(backends));
  if (need4 && (!c.encap_source4 || c.encap_source4->address.family != 4)) {
    errors.push_back("encap_source4: IPv4 backends need an IPv4 prefix for outer sources");
  }
  if (need6 && (!c.encap_source6 || c.encap_source6->address.family != 6)) {
    errors.push_back("encap_source6: IPv6 backends need an IPv6 prefix for outer sources");
  }
  if (c.encap_source6 && c.encap_source6->length < 96) {
    errors.push_back(
        "encap_source6: at most the low 32 bits come from the flow hash (/96 or "
        "longer)");
  }
  fits("local_addresses", config::check_local_address_count(c.local_addresses.size()));
  fits("local_ports", config::check_local_port_count(c.local_ports.size()));
  for (size_t i = 0; i < c.local_ports.size(); ++i) {
    check_action("local_ports[" + std::to_string(i) + "].action", c.local_ports[i].action, true);
  }
  return errors;
}

uint32_t connection_sets_per_cpu(int cpus) {
  const uint32_t wanted =
      VIGIL_CONN_TABLE_SIZE / VIGIL_CONN_WAYS / static_cast<uint32_t>(std::max(cpus, 1));
  return wanted == 0 ? 1 : std::bit_floor(wanted);
}

}  // namespace vigil::ebpf
