// routing.bgp: the box's AS and router id, its neighbours, what it announces, and the lists
// and policies its neighbours' imports and exports go through.
#include "config/bgp_section.h"

#include <regex.h>

#include <algorithm>
#include <set>

namespace vigil::config {
namespace {

constexpr Field kTimersFields[] = {
    {.key = "keepalive",
     .type = "integer 0-65535",
     .description = "Seconds between keepalives; at most a third of hold (0 with hold 0)",
     .default_value = "60"},
    {.key = "hold",
     .type = "integer 0 or 3-65535",
     .description = "Seconds without a message before the session is down; 0: never",
     .default_value = "180"},
    {.key = "connect",
     .type = "integer 1-65535",
     .description = "Seconds between attempts to connect",
     .default_value = "120"},
};
constexpr Schema kTimersSchema{.path = "routing.bgp.neighbors[].timers",
                               .description = "The session's timers (FRR's defaults otherwise).",
                               .fields = kTimersFields};

constexpr Field kBfdFields[] = {
    {.key = "detect_multiplier",
     .type = "integer 2-255",
     .description = "Packets missed before the session is down",
     .default_value = "3"},
    {.key = "receive_interval_ms",
     .type = "integer 10-60000",
     .description = "Shortest interval the box wants between packets",
     .default_value = "300"},
    {.key = "transmit_interval_ms",
     .type = "integer 10-60000",
     .description = "Shortest interval the box sends at",
     .default_value = "300"},
};
constexpr Schema kBfdSchema{
    .path = "routing.bgp.neighbors[].bfd",
    .description =
        "BFD (RFC 5880) for the session: it goes down when BFD does, in "
        "detect_multiplier × the interval. Multihop when the neighbour is not on a "
        "link of the box (multihop or update_source).",
    .fields = kBfdFields};

constexpr Field kMaxPrefixFields[] = {
    {.key = "limit",
     .type = "integer 1-4294967295",
     .description = "Prefixes accepted from the neighbour, at most",
     .required = true},
    {.key = "warning_percent",
     .type = "integer 1-100",
     .description = "A warning at this share of the limit",
     .default_value = "75"},
    {.key = "restart_minutes",
     .type = "integer 1-65535",
     .description = "Past the limit the session goes down; it comes back after this long "
                    "(absent: only when cleared)"},
    {.key = "warning_only",
     .type = "boolean",
     .description = "Past the limit: a warning only, the session stays",
     .default_value = "false"},
};
constexpr Schema kMaxPrefixSchema{.path = "routing.bgp.neighbors[].max_prefixes",
                                  .description = "A bound on what the neighbour may send.",
                                  .fields = kMaxPrefixFields};

constexpr Field kNeighborFields[] = {
    {.key = "address", .type = "IP address", .description = "The neighbour", .required = true},
    {.key = "remote_as",
     .type = "integer 1-4294967295, external or internal",
     .description = "Its AS; external: any but the box's, internal: the box's",
     .required = true},
    {.key = "description", .type = "string", .description = "For people (at most 80 bytes)"},
    {.key = "password_file",
     .type = "absolute path",
     .description = "TCP MD5 password (RFC 2385), the file's first line; mode 0600"},
    {.key = "timers", .type = "mapping", .description = "Timers", .children = &kTimersSchema},
    {.key = "bfd",
     .type = "mapping",
     .description = "BFD for the session",
     .children = &kBfdSchema},
    {.key = "multihop",
     .type = "integer 2-255",
     .description = "An eBGP neighbour this many hops away (TTL); absent: directly connected"},
    {.key = "update_source",
     .type = "IP address or interface name",
     .description = "Where the session starts from (a loopback address, usually)"},
    {.key = "families",
     .type = "list of ipv4_unicast or ipv6_unicast",
     .description = "Address families exchanged",
     .default_value = "the address's family"},
    {.key = "import_policy",
     .type = "policy name",
     .description = "routing.bgp.policies entry applied to what it sends; required for eBGP "
                    "(RFC 8212), absent for iBGP: all taken"},
    {.key = "export_policy",
     .type = "policy name",
     .description = "routing.bgp.policies entry applied to what the box sends it; required "
                    "for eBGP (RFC 8212), absent for iBGP: all sent"},
    {.key = "max_prefixes",
     .type = "mapping",
     .description = "A bound on what it may send",
     .children = &kMaxPrefixSchema},
};
constexpr Schema kNeighborSchema{.path = "routing.bgp.neighbors[]",
                                 .description = "A BGP neighbour.",
                                 .fields = kNeighborFields};

constexpr Field kPrefixRuleFields[] = {
    {.key = "action",
     .type = "permit or deny",
     .description = "What a match means",
     .default_value = "permit"},
    {.key = "prefix", .type = "IPv4/IPv6 prefix", .description = "The network", .required = true},
    {.key = "ge",
     .type = "integer",
     .description = "Also longer prefixes inside it, from this length (longer than the prefix)"},
    {.key = "le",
     .type = "integer",
     .description = "Also longer prefixes inside it, up to this length"},
};
constexpr Schema kPrefixRuleSchema{.path = "routing.bgp.prefix_lists.<name>.rules[]",
                                   .description = "A rule; the first that matches decides.",
                                   .fields = kPrefixRuleFields};
constexpr Field kPrefixListFields[] = {
    {.key = "rules",
     .type = "list of rule",
     .description = "In order; no match: deny",
     .required = true,
     .children = &kPrefixRuleSchema,
     .ordered = true},
};
constexpr Schema kPrefixListSchema{.path = "routing.bgp.prefix_lists.<name>",
                                   .description = "A prefix list, for policies to match on.",
                                   .fields = kPrefixListFields};

constexpr Field kAsPathRuleFields[] = {
    {.key = "action",
     .type = "permit or deny",
     .description = "What a match means",
     .default_value = "permit"},
    {.key = "regex",
     .type = "AS-path regular expression",
     .description = "FRR's syntax: digits, _ ^ $ . * + ? ( ) [ ] | - and spaces",
     .required = true},
};
constexpr Schema kAsPathRuleSchema{.path = "routing.bgp.as_path_lists.<name>.rules[]",
                                   .description = "A rule; the first that matches decides.",
                                   .fields = kAsPathRuleFields};
constexpr Field kAsPathListFields[] = {
    {.key = "rules",
     .type = "list of rule",
     .description = "In order; no match: deny",
     .required = true,
     .children = &kAsPathRuleSchema,
     .ordered = true},
};
constexpr Schema kAsPathListSchema{.path = "routing.bgp.as_path_lists.<name>",
                                   .description = "An AS-path list, for policies to match on.",
                                   .fields = kAsPathListFields};

constexpr Field kCommunityRuleFields[] = {
    {.key = "action",
     .type = "permit or deny",
     .description = "What a match means",
     .default_value = "permit"},
    {.key = "community",
     .type = "community",
     .description = "AS:value (each 0-65535), or a well-known one by name (no-export, "
                    "no-advertise, local-AS, no-peer, blackhole, graceful-shutdown, ...)",
     .required = true},
};
constexpr Schema kCommunityRuleSchema{.path = "routing.bgp.community_lists.<name>.rules[]",
                                      .description = "A rule; the first that matches decides.",
                                      .fields = kCommunityRuleFields};
constexpr Field kCommunityListFields[] = {
    {.key = "rules",
     .type = "list of rule",
     .description = "In order; no match: deny",
     .required = true,
     .children = &kCommunityRuleSchema,
     .ordered = true},
};
constexpr Schema kCommunityListSchema{.path = "routing.bgp.community_lists.<name>",
                                      .description = "A community list, for policies to match on.",
                                      .fields = kCommunityListFields};

constexpr Field kPolicyRuleFields[] = {
    {.key = "action",
     .type = "permit or deny",
     .description = "A route that matches is taken (and changed by the set_ fields) or "
                    "refused",
     .default_value = "permit"},
    {.key = "match_prefix_list", .type = "prefix list name", .description = "Matches its prefix"},
    {.key = "match_as_path", .type = "AS-path list name", .description = "Matches its AS path"},
    {.key = "match_community",
     .type = "community list name",
     .description = "Matches one of its communities"},
    {.key = "set_local_preference", .type = "integer 0-4294967295", .description = "LOCAL_PREF"},
    {.key = "set_med", .type = "integer 0-4294967295", .description = "MULTI_EXIT_DISC"},
    {.key = "set_communities",
     .type = "list of community",
     .description = "Added to the route's; up to 16"},
    {.key = "set_as_path_prepend",
     .type = "integer 1-10",
     .description = "Times the box's AS is prepended"},
};
constexpr Schema kPolicyRuleSchema{
    .path = "routing.bgp.policies.<name>.rules[]",
    .description = "A rule: every match_ given must match; none given: every route.",
    .fields = kPolicyRuleFields};
constexpr Field kPolicyFields[] = {
    {.key = "rules",
     .type = "list of rule",
     .description = "In order; the first that matches decides; no match: refused",
     .required = true,
     .children = &kPolicyRuleSchema,
     .ordered = true},
};
constexpr Schema kPolicySchema{.path = "routing.bgp.policies.<name>",
                               .description = "An import or export policy (an FRR route map).",
                               .fields = kPolicyFields};

constexpr Field kBgpFields[] = {
    {.key = "asn", .type = "integer 1-4294967295", .description = "The box's AS", .required = true},
    {.key = "router_id",
     .type = "IPv4 address",
     .description = "The box's BGP identifier",
     .required = true},
    {.key = "networks",
     .type = "list of IPv4/IPv6 prefix",
     .description = "Announced to neighbours whose export policy lets them; up to 1024"},
    {.key = "announce_vips",
     .type = "boolean",
     .description = "Announce each l4 VIP (a /32 or /128) while it is configured (withdrawn when "
                    "all its backends are down: not yet, L4 has no health checks)",
     .default_value = "true"},
    {.key = "announce_l7_listeners",
     .type = "boolean",
     .description = "Announce each l7 listener's address (a /32 or /128; not a wildcard) while "
                    "vigil-l7 answers, so that boxes sharing it by ECMP take the clients of one "
                    "whose proxy is down",
     .default_value = "false"},
    {.key = "graceful_restart",
     .type = "boolean",
     .description = "RFC 4724: neighbours keep the box's routes while its BGP restarts",
     .default_value = "true"},
    {.key = "restart_time",
     .type = "integer 1-4095",
     .description = "Seconds neighbours wait for the box's BGP to come back",
     .default_value = "120"},
    {.key = "stalepath_time",
     .type = "integer 1-4095",
     .description = "Seconds the box keeps a restarting neighbour's routes",
     .default_value = "360"},
    {.key = "neighbors",
     .type = "list of neighbor",
     .description = "BGP neighbours; up to 64",
     .children = &kNeighborSchema,
     .entry_key = "address"},
    {.key = "prefix_lists",
     .type = "map of prefix list",
     .description = "Prefix lists by name",
     .children = &kPrefixListSchema},
    {.key = "as_path_lists",
     .type = "map of AS-path list",
     .description = "AS-path lists by name",
     .children = &kAsPathListSchema},
    {.key = "community_lists",
     .type = "map of community list",
     .description = "Community lists by name",
     .children = &kCommunityListSchema},
    {.key = "policies",
     .type = "map of policy",
     .description = "Import and export policies by name",
     .children = &kPolicySchema},
};

// Context shared by the readers below: where errors go, and whether any was found.
struct Reading {
  ErrorList& errors;
  bool ok = true;

  template <typename T>
  std::optional<T> check(std::optional<T> value) {
    ok &= value.has_value();
    return value;
  }
  void error(const std::string& path, const YAML::Node& node, std::string message) {
    errors.add(path, node, std::move(message));
    ok = false;
  }
};

std::optional<uint32_t> read_u32(const MapReader& r, std::string_view key, Reading& in, int64_t min,
                                 int64_t max) {
  if (!r.has(key)) {
    return std::nullopt;
  }
  auto v = in.check(read_int(r.get(key), r.path_of(key), in.errors, min, max));
  return v ? std::optional<uint32_t>(static_cast<uint32_t>(*v)) : std::nullopt;
}

bool read_action(const MapReader& r, Reading& in) {
  if (!r.has("action")) {
    return true;
  }
  auto a =
      in.check(read_enum(r.get("action"), r.path_of("action"), in.errors, kBgpRuleActionNames));
  return a.value_or(0) == 0;
}

// The well-known communities by value, named as FRR prints them (bgpd/bgp_community.c).
struct WellKnown {
  uint32_t value;
  std::string_view name;
};
constexpr WellKnown kWellKnownCommunities[] = {
    {0x00000000, "internet"},     {0xFFFF0000, "graceful-shutdown"},
    {0xFFFF0001, "accept-own"},   {0xFFFF0006, "llgr-stale"},
    {0xFFFF0007, "no-llgr"},      {0xFFFF0008, "accept-own-nexthop"},
    {0xFFFF029A, "blackhole"},    {0xFFFFFF01, "no-export"},
    {0xFFFFFF02, "no-advertise"}, {0xFFFFFF03, "local-AS"},
    {0xFFFFFF04, "no-peer"},
};

// "65001:100" (each part 0-65535) or a well-known community's name (RFC 1997, 7999, 8326),
// as its 32-bit value.
std::optional<uint32_t> community_value(std::string_view c) {
  for (const WellKnown& w : kWellKnownCommunities) {
    if (c == w.name) {
      return w.value;
    }
  }
  const size_t colon = c.find(':');
  if (colon == std::string_view::npos) {
    return std::nullopt;
  }
  auto part = [](std::string_view p) -> std::optional<uint32_t> {
    if (p.empty() || p.size() > 5 || p.find_first_not_of("0123456789") != std::string_view::npos) {
      return std::nullopt;
    }
    const auto v = static_cast<uint32_t>(std::stoul(std::string(p)));
    return v <= 65535 ? std::optional(v) : std::nullopt;
  };
  const auto high = part(c.substr(0, colon)), low = part(c.substr(colon + 1));
  if (!high || !low) {
    return std::nullopt;
  }
  return *high << 16 | *low;
}

// A community as FRR writes it back: a well-known one by name, the rest as AS:value without
// leading zeros (what is written otherwise, frr-reload would find changed on every commit).
std::string community_text(uint32_t value) {
  for (const WellKnown& w : kWellKnownCommunities) {
    if (value == w.value) {
      return std::string(w.name);
    }
  }
  return std::to_string(value >> 16) + ":" + std::to_string(value & 0xFFFF);
}

std::optional<uint32_t> read_community(const YAML::Node& n, const std::string& path, Reading& in) {
  auto c = in.check(read_string(n, path, in.errors));
  if (!c) {
    return std::nullopt;
  }
  auto value = community_value(*c);
  if (!value) {
    in.error(path, n,
             "\"" + *c +
                 "\" is not a community: AS:value (each 0-65535), or no-export, no-advertise, "
                 "local-AS, no-peer, blackhole, graceful-shutdown, internet, accept-own, "
                 "llgr-stale, no-llgr, accept-own-nexthop");
  }
  return value;
}

// FRR's AS-path regular expressions: a bounded text of the characters they use, so that
// nothing else reaches frr.conf (a newline would be a second command).
std::optional<std::string> read_as_path_regex(const YAML::Node& n, const std::string& path,
                                              Reading& in) {
  auto text = in.check(read_string(n, path, in.errors));
  if (!text) {
    return std::nullopt;
  }
  if (text->empty() || text->size() > kMaxBgpPatternLength ||
      text->find_first_not_of("0123456789_^$.*+?()[]|- ") != std::string::npos ||
      text->find_first_not_of(' ') == std::string::npos) {
    in.error(path, n,
             "an AS-path regular expression is 1 to 256 of digits, spaces and _ ^ $ . * + ? ( "
             ") [ ] | -, not only spaces");
    return std::nullopt;
  }
  // Compiled as bgpd does (bgp_regex.c: `_` stands for a delimiter, POSIX extended): one FRR
  // would refuse fails here, not half-way through applying the commit.
  std::string posix;
  for (char c : *text) {
    posix += c == '_' ? std::string("(^|[,{}() ]|$)") : std::string(1, c);
  }
  regex_t compiled;
  if (::regcomp(&compiled, posix.c_str(), REG_EXTENDED | REG_NOSUB) != 0) {
    in.error(path, n, "\"" + *text + "\" is not a regular expression FRR can compile");
    return std::nullopt;
  }
  ::regfree(&compiled);
  return text;
}

std::optional<BgpTimers> parse_timers(const YAML::Node& n, const std::string& path, Reading& in) {
  MapReader r(n, path, kTimersSchema, in.errors);
  if (!r.ok()) {
    in.ok = false;
    return std::nullopt;
  }
  BgpTimers t;
  t.keepalive = read_u32(r, "keepalive", in, 0, 65535).value_or(t.keepalive);
  t.hold = read_u32(r, "hold", in, 0, 65535).value_or(t.hold);
  t.connect = read_u32(r, "connect", in, 1, 65535).value_or(t.connect);
  if (t.hold != 0 && t.hold < 3) {
    in.error(r.path_of("hold"), r.get("hold"), "a hold time is 0 (none) or at least 3 seconds");
  } else if (t.hold == 0 && t.keepalive != 0) {
    // FRR would send none and print keepalive 0.
    in.error(path, n, "with hold 0 there are no keepalives: keepalive must be 0 too");
  } else if (t.hold != 0 && t.keepalive == 0) {
    in.error(path, n, "keepalive 0 sends none, and the neighbour's hold timer ends the session");
  } else if (t.hold != 0 && t.keepalive > t.hold / 3) {
    // FRR would lower the keepalive to a third of hold without saying so.
    in.error(path, n,
             "keepalive " + std::to_string(t.keepalive) + " is more than a third of hold " +
                 std::to_string(t.hold));
  }
  return t;
}

std::optional<BgpBfd> parse_bfd(const YAML::Node& n, const std::string& path, Reading& in) {
  MapReader r(n, path, kBfdSchema, in.errors);
  if (!r.ok()) {
    in.ok = false;
    return std::nullopt;
  }
  BgpBfd b;
  b.detect_multiplier = read_u32(r, "detect_multiplier", in, 2, 255).value_or(b.detect_multiplier);
  b.receive_interval_ms =
      read_u32(r, "receive_interval_ms", in, 10, 60000).value_or(b.receive_interval_ms);
  b.transmit_interval_ms =
      read_u32(r, "transmit_interval_ms", in, 10, 60000).value_or(b.transmit_interval_ms);
  return b;
}

std::optional<BgpMaxPrefixes> parse_max_prefixes(const YAML::Node& n, const std::string& path,
                                                 Reading& in) {
  MapReader r(n, path, kMaxPrefixSchema, in.errors);
  if (!r.ok() || !r.has("limit")) {
    in.ok = false;
    return std::nullopt;
  }
  BgpMaxPrefixes m;
  m.limit = read_u32(r, "limit", in, 1, UINT32_MAX).value_or(1);
  m.warning_percent = read_u32(r, "warning_percent", in, 1, 100).value_or(m.warning_percent);
  m.restart_minutes = read_u32(r, "restart_minutes", in, 1, 65535);
  if (r.has("warning_only")) {
    m.warning_only =
        in.check(read_bool(r.get("warning_only"), r.path_of("warning_only"), in.errors))
            .value_or(false);
  }
  if (m.warning_only && m.restart_minutes) {
    in.error(r.path_of("restart_minutes"), r.get("restart_minutes"),
             "warning_only keeps the session up: nothing to restart");
  }
  return m;
}

// A policy's name, which must be defined in `bgp`.
std::string read_reference(const MapReader& r, std::string_view key, const char* what,
                           const std::set<std::string>& defined, Reading& in) {
  if (!r.has(key)) {
    return "";
  }
  auto name = in.check(read_string(r.get(key), r.path_of(key), in.errors));
  if (name && !defined.contains(*name)) {
    // FRR would take the name and deny everything by it.
    in.error(r.path_of(key), r.get(key),
             std::string("no ") + what + " named \"" + *name + "\" in routing.bgp");
    return "";
  }
  return name.value_or("");
}

struct Defined {
  std::set<std::string> prefix_lists, as_path_lists, community_lists, policies;
};

std::optional<BgpNeighbor> parse_neighbor(const YAML::Node& n, const std::string& path,
                                          const Config& config, const Defined& defined,
                                          Reading& in) {
  MapReader r(n, path, kNeighborSchema, in.errors);
  if (!r.ok() || !r.has("address") || !r.has("remote_as")) {
    in.ok = false;
    return std::nullopt;
  }
  auto address = in.check(read_ip(r.get("address"), r.path_of("address"), in.errors));
  if (!address) {
    return std::nullopt;
  }
  const auto& b = address->bytes;
  const bool unusable = address->family == 4
                            ? (b[0] == 0 || b[0] >= 224 || b[0] == 127)
                            : (b[0] == 0xff || (address->word(0) == 0 && address->word(8) <= 1) ||
                               (b[0] == 0xfe && (b[1] & 0xc0) == 0x80));
  if (unusable) {
    // A link-local neighbour needs its interface named: not supported yet.
    in.error(r.path_of("address"), r.get("address"),
             address->to_string() +
                 " cannot be a neighbour (unspecified, loopback, multicast or IPv6 link-local)");
    return std::nullopt;
  }
  for (const InterfaceConfig& iface : config.interfaces) {
    for (const Prefix& a : iface.addresses) {
      if (a.address == *address) {
        in.error(
            r.path_of("address"), r.get("address"),
            address->to_string() + " is the box's own address (interfaces." + iface.name + ")");
        return std::nullopt;
      }
    }
  }
  BgpNeighbor nb{.address = *address};
  const YAML::Node as = r.get("remote_as");
  if (as.IsScalar() && as.Scalar() == "external") {
    nb.remote_as_kind = BgpRemoteAs::kExternal;
  } else if (as.IsScalar() && as.Scalar() == "internal") {
    nb.remote_as_kind = BgpRemoteAs::kInternal;
  } else {
    nb.remote_as = read_u32(r, "remote_as", in, 1, UINT32_MAX).value_or(0);
  }
  if (r.has("description")) {
    auto d = in.check(read_string(r.get("description"), r.path_of("description"), in.errors));
    const bool printable =
        d && std::all_of(d->begin(), d->end(), [](char c) { return c >= ' ' && c <= '~'; });
    if (d && (d->size() > 80 || !printable || d->find_first_of("!#") != std::string::npos ||
              d->find_first_not_of(' ') == std::string::npos)) {
      in.error(r.path_of("description"), r.get("description"),
               "a description is 1 to 80 printable ASCII characters, not only spaces, without "
               "tabs, line breaks, ! or #");
    } else {
      nb.description = d.value_or("");
    }
  }
  if (r.has("password_file")) {
    nb.password_file =
        in.check(read_absolute_path(r.get("password_file"), r.path_of("password_file"), in.errors))
            .value_or("");
  }
  if (r.has("timers")) {
    nb.timers = parse_timers(r.get("timers"), r.path_of("timers"), in);
  }
  if (r.has("bfd")) {
    nb.bfd = parse_bfd(r.get("bfd"), r.path_of("bfd"), in);
  }
  nb.multihop = read_u32(r, "multihop", in, 2, 255).value_or(0);
  if (r.has("update_source")) {
    auto source =
        in.check(read_string(r.get("update_source"), r.path_of("update_source"), in.errors));
    if (source) {
      auto as_address = IpAddress::parse(*source);
      if (!as_address && config.interface(*source) == nullptr) {
        in.error(r.path_of("update_source"), r.get("update_source"),
                 "\"" + *source + "\" is neither an IP address nor an interface");
      } else if (as_address && as_address->family != address->family) {
        in.error(r.path_of("update_source"), r.get("update_source"),
                 "an IPv" + std::to_string(as_address->family) + " source for an IPv" +
                     std::to_string(address->family) + " neighbour");
      } else {
        nb.update_source = as_address ? as_address->to_string() : *source;
      }
    }
  }
  std::set<size_t> families;
  for_each_item(r.get("families"), r.path_of("families"), in.errors,
                [&](const YAML::Node& f, const std::string& fpath) {
                  auto family = in.check(read_enum(f, fpath, in.errors, kBgpFamilyNames));
                  if (family && !families.insert(*family).second) {
                    in.error(fpath, f, "family given twice");
                  }
                });
  for (size_t f : families) {
    nb.families.push_back(static_cast<BgpFamily>(f));
  }
  if (nb.families.empty()) {
    nb.families.push_back(address->family == 4 ? BgpFamily::kIpv4Unicast : BgpFamily::kIpv6Unicast);
  }
  nb.import_policy = read_reference(r, "import_policy", "policy", defined.policies, in);
  nb.export_policy = read_reference(r, "export_policy", "policy", defined.policies, in);
  if (r.has("max_prefixes")) {
    nb.max_prefixes = parse_max_prefixes(r.get("max_prefixes"), r.path_of("max_prefixes"), in);
  }
  return nb;
}

template <typename Rule, typename ReadRule>
std::vector<Rule> parse_rules(const YAML::Node& n, const std::string& path, const Schema& list,
                              Reading& in, ReadRule read_rule) {
  std::vector<Rule> rules;
  MapReader r(n, path, list, in.errors);
  if (!r.ok() || !r.has("rules")) {
    in.ok = false;
    return rules;
  }
  for_each_item(r.get("rules"), r.path_of("rules"), in.errors,
                [&](const YAML::Node& rn, const std::string& rpath) {
                  if (rules.size() == kMaxBgpListRules) {
                    in.error(rpath, rn, "more than " + std::to_string(kMaxBgpListRules) + " rules");
                    return;
                  }
                  if (auto rule = read_rule(rn, rpath)) {
                    // FRR drops a rule equal to an earlier one: it could never match.
                    if (std::find(rules.begin(), rules.end(), *rule) != rules.end()) {
                      in.error(rpath, rn, "the same rule as an earlier one");
                      return;
                    }
                    rules.push_back(std::move(*rule));
                  }
                });
  if (rules.empty() && in.ok) {
    in.error(r.path_of("rules"), r.get("rules"), "no rules");
  }
  return rules;
}

std::optional<BgpPrefixListRule> parse_prefix_rule(const YAML::Node& n, const std::string& path,
                                                   Reading& in) {
  MapReader r(n, path, kPrefixRuleSchema, in.errors);
  if (!r.ok() || !r.has("prefix")) {
    in.ok = false;
    return std::nullopt;
  }
  auto prefix = in.check(read_network(r.get("prefix"), r.path_of("prefix"), in.errors));
  if (!prefix) {
    return std::nullopt;
  }
  BgpPrefixListRule rule{.permit = read_action(r, in), .prefix = *prefix};
  const int max = prefix->address.max_prefix();
  rule.ge = read_u32(r, "ge", in, prefix->length + 1, max);
  rule.le = read_u32(r, "le", in, std::max(prefix->length + 1, 1), max);
  if (rule.ge && rule.le && *rule.ge > *rule.le) {
    in.error(r.path_of("ge"), r.get("ge"), "ge is more than le");
  }
  return rule;
}

std::optional<BgpPolicyRule> parse_policy_rule(const YAML::Node& n, const std::string& path,
                                               const Defined& defined, Reading& in) {
  MapReader r(n, path, kPolicyRuleSchema, in.errors);
  if (!r.ok()) {
    in.ok = false;
    return std::nullopt;
  }
  BgpPolicyRule rule{.permit = read_action(r, in)};
  rule.match_prefix_list =
      read_reference(r, "match_prefix_list", "prefix list", defined.prefix_lists, in);
  rule.match_as_path =
      read_reference(r, "match_as_path", "AS-path list", defined.as_path_lists, in);
  rule.match_community =
      read_reference(r, "match_community", "community list", defined.community_lists, in);
  rule.set_local_preference = read_u32(r, "set_local_preference", in, 0, UINT32_MAX);
  rule.set_med = read_u32(r, "set_med", in, 0, UINT32_MAX);
  rule.set_as_path_prepend = read_u32(r, "set_as_path_prepend", in, 1, 10).value_or(0);
  std::set<uint32_t> communities;  // FRR keeps them sorted by value, each once
  for_each_item(r.get("set_communities"), r.path_of("set_communities"), in.errors,
                [&](const YAML::Node& c, const std::string& cpath) {
                  if (communities.size() == kMaxBgpSetCommunities) {
                    in.error(cpath, c, "more than 16 communities");
                  } else if (auto community = read_community(c, cpath, in)) {
                    communities.insert(*community);
                  }
                });
  for (uint32_t c : communities) {
    rule.set_communities.push_back(community_text(c));
  }
  const bool sets = rule.set_local_preference || rule.set_med || rule.set_as_path_prepend != 0 ||
                    !rule.set_communities.empty();
  if (!rule.permit && sets) {
    in.error(path, n, "a deny rule changes nothing: set_ fields need action permit");
  }
  return rule;
}

// The names a section defines, read before the sections that refer to them.
std::set<std::string> names_in(const YAML::Node& n) {
  std::set<std::string> names;
  if (n.IsDefined() && n.IsMap()) {
    for (const auto& kv : n) {
      if (kv.first.IsScalar()) {
        names.insert(kv.first.Scalar());
      }
    }
  }
  return names;
}

template <typename List, typename ReadRules>
void parse_named_lists(const MapReader& r, std::string_view key, std::vector<List>& out,
                       Reading& in, ReadRules read_rules) {
  for_each_named(
      r.get(key), r.path_of(key), in.errors,
      [&](const std::string& name, const YAML::Node& n, const std::string& path) {
        if (out.size() == kMaxBgpLists) {
          in.error(path, n, "more than " + std::to_string(kMaxBgpLists));
          return;
        }
        if (key == "community_lists" && name.find_first_not_of("0123456789") == std::string::npos) {
          // FRR takes a number for a community list of another kind.
          in.error(path, n, "a community list's name is not only digits");
          return;
        }
        out.push_back({.name = name, .rules = read_rules(n, path)});
      });
}

}  // namespace

const Schema kBgpSchema{
    .path = "routing.bgp",
    .description =
        "BGP, spoken by FRRouting beside vigil-dp (zebra, bgpd, bfdd under vigild); "
        "what it learns reaches the fast path over FPM, with distance 20.",
    .fields = kBgpFields};

std::optional<BgpConfig> parse_bgp(const YAML::Node& node, const std::string& path,
                                   const Config& config, ErrorList& errors) {
  const size_t errors_before = errors.size();
  MapReader r(node, path, kBgpSchema, errors);
  if (!r.ok() || !r.has("asn") || !r.has("router_id")) {
    return std::nullopt;
  }
  Reading in{.errors = errors};
  BgpConfig bgp;
  bgp.asn = read_u32(r, "asn", in, 1, UINT32_MAX).value_or(0);
  if (auto id = in.check(read_ip(r.get("router_id"), r.path_of("router_id"), errors))) {
    if (id->family != 4) {
      in.error(r.path_of("router_id"), r.get("router_id"), "a router id is an IPv4 address");
    } else if (id->word(0) == 0) {
      in.error(r.path_of("router_id"), r.get("router_id"), "a router id is not 0.0.0.0");
    }
    bgp.router_id = *id;
  }
  std::set<Prefix> networks;
  for_each_item(r.get("networks"), r.path_of("networks"), errors,
                [&](const YAML::Node& n, const std::string& npath) {
                  auto prefix = in.check(read_network(n, npath, errors));
                  if (!prefix) {
                    return;
                  }
                  if (!networks.insert(*prefix).second) {
                    in.error(npath, n, prefix->to_string() + " given twice");
                  } else if (networks.size() > kMaxBgpNetworks) {
                    in.error(npath, n,
                             "more than " + std::to_string(kMaxBgpNetworks) + " networks");
                  } else {
                    bgp.networks.push_back(*prefix);
                  }
                });
  for (auto [key, field] : {std::pair{"announce_vips", &bgp.announce_vips},
                            std::pair{"announce_l7_listeners", &bgp.announce_l7_listeners},
                            std::pair{"graceful_restart", &bgp.graceful_restart}}) {
    if (r.has(key)) {
      *field = in.check(read_bool(r.get(key), r.path_of(key), errors)).value_or(*field);
    }
  }
  bgp.restart_time = read_u32(r, "restart_time", in, 1, 4095).value_or(bgp.restart_time);
  bgp.stalepath_time = read_u32(r, "stalepath_time", in, 1, 4095).value_or(bgp.stalepath_time);

  // Lists first, policies on them, neighbours on the policies.
  const Defined defined{.prefix_lists = names_in(r.get("prefix_lists")),
                        .as_path_lists = names_in(r.get("as_path_lists")),
                        .community_lists = names_in(r.get("community_lists")),
                        .policies = names_in(r.get("policies"))};
  parse_named_lists(
      r, "prefix_lists", bgp.prefix_lists, in, [&](const YAML::Node& n, const std::string& p) {
        return parse_rules<BgpPrefixListRule>(n, p, kPrefixListSchema, in,
                                              [&](const YAML::Node& rn, const std::string& rp) {
                                                return parse_prefix_rule(rn, rp, in);
                                              });
      });
  parse_named_lists(
      r, "as_path_lists", bgp.as_path_lists, in, [&](const YAML::Node& n, const std::string& p) {
        return parse_rules<BgpPatternRule>(
            n, p, kAsPathListSchema, in,
            [&](const YAML::Node& rn, const std::string& rp) -> std::optional<BgpPatternRule> {
              MapReader rr(rn, rp, kAsPathRuleSchema, errors);
              if (!rr.ok() || !rr.has("regex")) {
                in.ok = false;
                return std::nullopt;
              }
              auto regex = read_as_path_regex(rr.get("regex"), rr.path_of("regex"), in);
              if (!regex) {
                return std::nullopt;
              }
              return BgpPatternRule{.permit = read_action(rr, in), .pattern = *regex};
            });
      });
  parse_named_lists(
      r, "community_lists", bgp.community_lists, in,
      [&](const YAML::Node& n, const std::string& p) {
        return parse_rules<BgpPatternRule>(
            n, p, kCommunityListSchema, in,
            [&](const YAML::Node& rn, const std::string& rp) -> std::optional<BgpPatternRule> {
              MapReader rr(rn, rp, kCommunityRuleSchema, errors);
              if (!rr.ok() || !rr.has("community")) {
                in.ok = false;
                return std::nullopt;
              }
              auto c = read_community(rr.get("community"), rr.path_of("community"), in);
              if (!c) {
                return std::nullopt;
              }
              return BgpPatternRule{.permit = read_action(rr, in), .pattern = community_text(*c)};
            });
      });
  for_each_named(r.get("policies"), r.path_of("policies"), errors,
                 [&](const std::string& name, const YAML::Node& n, const std::string& p) {
                   if (bgp.policies.size() == kMaxBgpPolicies) {
                     in.error(p, n, "more than " + std::to_string(kMaxBgpPolicies) + " policies");
                     return;
                   }
                   BgpPolicy policy{.name = name};
                   MapReader pr(n, p, kPolicySchema, errors);
                   if (!pr.ok() || !pr.has("rules")) {
                     in.ok = false;
                     return;
                   }
                   for_each_item(pr.get("rules"), pr.path_of("rules"), errors,
                                 [&](const YAML::Node& rn, const std::string& rp) {
                                   if (policy.rules.size() == kMaxBgpPolicyRules) {
                                     in.error(rp, rn, "more than 256 rules");
                                   } else if (auto rule = parse_policy_rule(rn, rp, defined, in)) {
                                     policy.rules.push_back(std::move(*rule));
                                   }
                                 });
                   bgp.policies.push_back(std::move(policy));
                 });

  std::set<IpAddress> addresses;
  for_each_item(r.get("neighbors"), r.path_of("neighbors"), errors,
                [&](const YAML::Node& n, const std::string& npath) {
                  if (bgp.neighbors.size() == kMaxBgpNeighbors) {
                    in.error(npath, n,
                             "more than " + std::to_string(kMaxBgpNeighbors) + " neighbours");
                    return;
                  }
                  auto nb = parse_neighbor(n, npath, config, defined, in);
                  if (!nb) {
                    return;
                  }
                  if (!addresses.insert(nb->address).second) {
                    in.error(npath, n, "neighbour " + nb->address.to_string() + " given twice");
                    return;
                  }
                  const bool internal =
                      nb->remote_as_kind == BgpRemoteAs::kInternal ||
                      (nb->remote_as_kind == BgpRemoteAs::kNumber && nb->remote_as == bgp.asn);
                  if (internal && nb->multihop != 0) {
                    in.error(npath, n, "multihop is for eBGP: an iBGP neighbour may be anywhere");
                  }
                  // (A policy named but not defined has its own error.)
                  const bool named_both = n["import_policy"] && n["export_policy"];
                  if (!internal && !named_both) {
                    // FRR would hold the session with nothing taken or sent (RFC 8212).
                    in.error(npath, n,
                             "an eBGP neighbour needs import_policy and export_policy (RFC "
                             "8212: nothing is taken from or sent to it without them)");
                  }
                  bgp.neighbors.push_back(std::move(*nb));
                });
  if (!in.ok || errors.size() != errors_before) {
    return std::nullopt;  // nothing half-parsed
  }
  return bgp;
}

}  // namespace vigil::config
