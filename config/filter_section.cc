// filter: what the XDP classifier drops at the NIC before anything else sees the packet.
#include <map>
#include <set>

#include "config/capacity_checks.h"
#include "config/sections.h"

namespace vigil::config {
namespace {

constexpr Field kAclFields[] = {
    {.key = "name", .type = "name", .description = "Names the rule in counters", .required = true},
    {.key = "source",
     .type = "IPv4/IPv6 prefix",
     .description = "Source network; absent: any source of the destination's family"},
    {.key = "destination",
     .type = "IPv4/IPv6 prefix",
     .description = "Destination network; absent: any destination"},
    {.key = "action", .type = "allow | deny", .description = "What a match does", .required = true},
};
constexpr Schema kAclSchema{.path = "filter.acl[]",
                            .description =
                                "One ACL rule. Rules are tried in order; the first "
                                "that matches decides; no match allows.",
                            .fields = kAclFields};

constexpr Field kRateLimitFields[] = {
    {.key = "name", .type = "name", .description = "Names the limit in counters", .required = true},
    {.key = "source",
     .type = "IPv4/IPv6 prefix",
     .description = "Sources sharing one bucket; the longest matching limit applies",
     .required = true},
    {.key = "packets_per_second", .type = "integer", .description = "Packet rate (0: unlimited)"},
    {.key = "packet_burst",
     .type = "integer",
     .description = "Bucket depth in packets",
     .default_value = "one second of the rate"},
    {.key = "bytes_per_second", .type = "integer", .description = "Byte rate (0: unlimited)"},
    {.key = "byte_burst",
     .type = "integer",
     .description = "Bucket depth in bytes",
     .default_value = "one second of the rate"},
};
constexpr Schema kRateLimitSchema{
    .path = "filter.rate_limits[]",
    .description =
        "A token bucket per source prefix, kept per CPU (no locks on the packet "
        "path): a prefix whose flows spread over N receive queues may get up to N "
        "times the rate.",
    .fields = kRateLimitFields};

constexpr Field kSynLimitFields[] = {
    {.key = "name", .type = "name", .description = "Names the limit in counters", .required = true},
    {.key = "destination",
     .type = "IPv4/IPv6 prefix",
     .description = "Destinations sharing one bucket",
     .required = true},
    {.key = "per_second",
     .type = "integer",
     .description = "TCP SYNs (without ACK) per second",
     .required = true},
    {.key = "burst",
     .type = "integer",
     .description = "Bucket depth",
     .default_value = "one second"},
};
constexpr Schema kSynLimitSchema{.path = "filter.syn_limits[]",
                                 .description = "A SYN-flood limit per destination prefix.",
                                 .fields = kSynLimitFields};

constexpr Field kFilterFields[] = {
    {.key = "default_action",
     .type = "pass | drop",
     .description = "Traffic that no rule, VIP or service of the box claims",
     .default_value = "pass"},
    {.key = "later_fragments",
     .type = "pass | drop",
     .description = "IP fragments after the first (no ports to classify on)",
     .default_value = "pass"},
    {.key = "acl",
     .type = "list of ACL rule",
     .description = "ACL",
     .children = &kAclSchema,
     .entry_key = "name",
     .ordered = true},
    {.key = "rate_limits",
     .type = "list of rate limit",
     .description = "Per-source rate limits",
     .children = &kRateLimitSchema,
     .entry_key = "name"},
    {.key = "syn_limits",
     .type = "list of SYN limit",
     .description = "Per-destination SYN limits",
     .children = &kSynLimitSchema,
     .entry_key = "name"},
};

constexpr int64_t kMaxRate = 9'000'000'000;

std::optional<uint64_t> read_rate(const MapReader& r, std::string_view key, ErrorList& errors) {
  if (!r.has(key)) {
    return 0;
  }
  auto v = read_int(r.get(key), r.path_of(key), errors, 0, kMaxRate);
  return v ? std::optional<uint64_t>(static_cast<uint64_t>(*v)) : std::nullopt;
}

// Names are unique within a list: they label counters.
bool unique_name(std::set<std::string>& seen, const MapReader& r, const std::string& name,
                 ErrorList& errors) {
  if (!seen.insert(name).second) {
    errors.add(r.path_of("name"), r.get("name"), "another entry is named \"" + name + "\"");
    return false;
  }
  return true;
}

}  // namespace

const Schema kFilterSchema{.path = "filter",
                           .description =
                               "Drops at the NIC, before the kernel, the fast path "
                               "or a VIP see the packet (ports with xdp: true).",
                           .fields = kFilterFields};

void parse_filter(const YAML::Node& node, const std::string& path, Config& config,
                  ErrorList& errors) {
  MapReader r(node, path, kFilterSchema, errors);
  if (!r.ok()) {
    return;
  }
  FilterConfig& f = config.filter;
  if (r.has("default_action")) {
    if (auto v = read_enum(r.get("default_action"), r.path_of("default_action"), errors,
                           kVerdictNames)) {
      f.default_action = static_cast<Verdict>(*v);
    }
  }
  if (r.has("later_fragments")) {
    if (auto v = read_enum(r.get("later_fragments"), r.path_of("later_fragments"), errors,
                           kVerdictNames)) {
      f.later_fragments = static_cast<Verdict>(*v);
    }
  }
  std::set<std::string> acl_names;
  for_each_item(
      r.get("acl"), r.path_of("acl"), errors, [&](const YAML::Node& n, const std::string& p) {
        MapReader rr(n, p, kAclSchema, errors);
        if (!rr.ok() || !rr.has("name") || !rr.has("action")) {
          return;
        }
        AclRuleConfig rule;
        bool ok = true;
        rule.name = read_string(rr.get("name"), rr.path_of("name"), errors).value_or("");
        ok &= !rule.name.empty() && unique_name(acl_names, rr, rule.name, errors);
        if (rr.has("source")) {
          rule.source = read_network(rr.get("source"), rr.path_of("source"), errors);
          ok &= rule.source.has_value();
        }
        if (rr.has("destination")) {
          rule.destination = read_network(rr.get("destination"), rr.path_of("destination"), errors);
          ok &= rule.destination.has_value();
        }
        if (rule.source && rule.destination &&
            rule.source->address.family != rule.destination->address.family) {
          errors.add(rr.path_of("destination"), rr.get("destination"),
                     "IPv" + std::to_string(rule.destination->address.family) +
                         " destination with an IPv" + std::to_string(rule.source->address.family) +
                         " source");
          ok = false;
        }
        auto action = read_enum(rr.get("action"), rr.path_of("action"), errors, kAclActionNames);
        ok &= action.has_value();
        rule.action = static_cast<Verdict>(action.value_or(1));
        if (ok) {
          f.acl.push_back(std::move(rule));
        }
      });
  if (auto fits = check_acl_rule_count(f.acl.size()); !fits) {
    errors.add(r.path_of("acl"), r.get("acl"), fits.error());
  }
  std::set<std::string> limit_names;
  std::map<Prefix, std::string> sources;
  for_each_item(
      r.get("rate_limits"), r.path_of("rate_limits"), errors,
      [&](const YAML::Node& n, const std::string& p) {
        MapReader rr(n, p, kRateLimitSchema, errors);
        if (!rr.ok() || !rr.has("name") || !rr.has("source")) {
          return;
        }
        RateLimitConfig limit;
        limit.name = read_string(rr.get("name"), rr.path_of("name"), errors).value_or("");
        bool ok = !limit.name.empty() && unique_name(limit_names, rr, limit.name, errors);
        auto source = read_network(rr.get("source"), rr.path_of("source"), errors);
        ok &= source.has_value();
        const auto pps = read_rate(rr, "packets_per_second", errors);
        const auto pburst = read_rate(rr, "packet_burst", errors);
        const auto bps = read_rate(rr, "bytes_per_second", errors);
        const auto bburst = read_rate(rr, "byte_burst", errors);
        ok &= pps && pburst && bps && bburst;
        if (ok && *pps == 0 && *bps == 0) {
          errors.add(p, n, "a rate limit needs packets_per_second, bytes_per_second or both");
          ok = false;
        }
        if (source) {
          if (auto [it, fresh] = sources.try_emplace(*source, limit.name); !fresh) {
            errors.add(rr.path_of("source"), rr.get("source"),
                       source->to_string() + " is limited already by \"" + it->second + "\"");
            ok = false;
          }
        }
        if (ok) {
          limit.source = *source;
          limit.packets_per_second = *pps;
          limit.packet_burst = *pburst;
          limit.bytes_per_second = *bps;
          limit.byte_burst = *bburst;
          f.rate_limits.push_back(std::move(limit));
        }
      });
  std::map<Prefix, std::string> destinations;
  for_each_item(
      r.get("syn_limits"), r.path_of("syn_limits"), errors,
      [&](const YAML::Node& n, const std::string& p) {
        MapReader rr(n, p, kSynLimitSchema, errors);
        if (!rr.ok() || !rr.has("name") || !rr.has("destination") || !rr.has("per_second")) {
          return;
        }
        SynLimitConfig limit;
        limit.name = read_string(rr.get("name"), rr.path_of("name"), errors).value_or("");
        bool ok = !limit.name.empty() && unique_name(limit_names, rr, limit.name, errors);
        auto dst = read_network(rr.get("destination"), rr.path_of("destination"), errors);
        ok &= dst.has_value();
        auto rate = read_int(rr.get("per_second"), rr.path_of("per_second"), errors, 1, kMaxRate);
        const auto burst = read_rate(rr, "burst", errors);
        ok &= rate && burst;
        if (dst) {
          if (auto [it, fresh] = destinations.try_emplace(*dst, limit.name); !fresh) {
            errors.add(rr.path_of("destination"), rr.get("destination"),
                       dst->to_string() + " has a SYN limit already: \"" + it->second + "\"");
            ok = false;
          }
        }
        if (ok) {
          limit.destination = *dst;
          limit.per_second = static_cast<uint64_t>(*rate);
          limit.burst = *burst;
          f.syn_limits.push_back(std::move(limit));
        }
      });
  if (auto fits = check_policer_count(f.rate_limits.size(), f.syn_limits.size()); !fits) {
    errors.add(path, node, fits.error());
  }
}

}  // namespace vigil::config
