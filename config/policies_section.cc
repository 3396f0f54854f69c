// policies: application classes (matched on the inner packet's protocol, addresses, ports and
// DSCP) and the mesh paths each may take: the terms a path must meet (SLA) and how to choose
// among those that do. Carried out by vigil-dp's lcores for traffic into the mesh.
#include <set>

#include "config/sections.h"

namespace vigil::config {
namespace {

constexpr size_t kMaxClasses = 32;
constexpr size_t kMaxMatches = 8;      // per class
constexpr size_t kMaxPortRanges = 16;  // per list
constexpr size_t kMaxDscp = 64;

constexpr Field kMatchFields[] = {
    {.key = "protocol",
     .type = "any, tcp, udp or icmp",
     .description = "The inner packet's protocol (icmp: ICMP or ICMPv6)",
     .default_value = "any"},
    {.key = "source", .type = "IPv4/IPv6 prefix", .description = "Its source network"},
    {.key = "destination", .type = "IPv4/IPv6 prefix", .description = "Its destination network"},
    {.key = "source_ports",
     .type = "list of port or first-last",
     .description = "TCP or UDP source ports, e.g. [5060, 10000-20000]; up to 16"},
    {.key = "destination_ports",
     .type = "list of port or first-last",
     .description = "TCP or UDP destination ports; up to 16"},
    {.key = "dscp",
     .type = "list of DSCP",
     .description = "DSCP values: 0-63 or a name (ef, af11-af43, cs0-cs7)"},
};
constexpr Schema kMatchSchema{.path = "policies.classes[].match[]",
                              .description =
                                  "One way a packet belongs to the class: every field "
                                  "given must match.",
                              .fields = kMatchFields};

constexpr Field kSlaFields[] = {
    {.key = "max_rtt_ms", .type = "integer 1-60000", .description = "Round trip (EWMA)"},
    {.key = "max_jitter_ms",
     .type = "integer 0-60000",
     .description = "Jitter (RFC 3550), the worse direction"},
    {.key = "max_loss_percent",
     .type = "number 0-100",
     .description = "Loss over the last second, the worse direction"},
};
constexpr Schema kSlaSchema{.path = "policies.classes[].sla",
                            .description =
                                "The terms a path must meet to carry the class; a "
                                "path that stops meeting them is left, and taken "
                                "again only after meeting them for its hold time.",
                            .fields = kSlaFields};

constexpr Field kClassFields[] = {
    {.key = "name", .type = "name", .description = "Names the class", .required = true},
    {.key = "match",
     .type = "list of match",
     .description = "Ways a packet belongs to the class (any one); up to 8",
     .required = true,
     .children = &kMatchSchema},
    {.key = "sla", .type = "mapping", .description = "Its terms", .children = &kSlaSchema},
    {.key = "preference",
     .type = "ordered, lowest-latency, lowest-loss or load-balance",
     .description = "Among the paths that meet the terms: the first in order (links as `links` "
                    "lists them), the lowest round trip, the lowest loss, or every one by flow "
                    "hash",
     .default_value = "ordered"},
    {.key = "links",
     .type = "list of interface name",
     .description = "wan interfaces in order of preference (others after them)",
     .default_value = "the config's order"},
};
constexpr Schema kClassSchema{
    .path = "policies.classes[]",
    .description =
        "An application class. Classes are tried in order; the first that matches "
        "decides; traffic no class matches takes the first path up.",
    .fields = kClassFields};

constexpr Field kPoliciesFields[] = {
    {.key = "classes",
     .type = "list of class",
     .description = "Application classes; up to 32",
     .children = &kClassSchema,
     .entry_key = "name",
     .ordered = true},
};

// "5060" or "10000-20000" (or a bare integer).
std::optional<PortRange> read_port_range(const YAML::Node& n, const std::string& path,
                                         ErrorList& errors) {
  auto text = read_string(n, path, errors);
  if (!text) {
    return std::nullopt;
  }
  const auto port = [](std::string_view s) -> std::optional<uint16_t> {
    if (s.empty() || s.size() > 5 || s.find_first_not_of("0123456789") != std::string_view::npos) {
      return std::nullopt;
    }
    const long v = std::stol(std::string(s));
    return v >= 1 && v <= 65535 ? std::optional<uint16_t>(static_cast<uint16_t>(v)) : std::nullopt;
  };
  const size_t dash = text->find('-');
  const auto first = port(std::string_view(*text).substr(0, dash));
  const auto last =
      dash == std::string::npos ? first : port(std::string_view(*text).substr(dash + 1));
  if (!first || !last || *last < *first) {
    errors.add(path, n, "\"" + *text + "\" is not a port (1-65535) or a range first-last");
    return std::nullopt;
  }
  return PortRange{*first, *last};
}

std::optional<uint8_t> read_dscp(const YAML::Node& n, const std::string& path, ErrorList& errors) {
  auto text = read_string(n, path, errors);
  if (!text) {
    return std::nullopt;
  }
  const std::string& t = *text;
  if (!t.empty() && t.find_first_not_of("0123456789") == std::string::npos && t.size() <= 2) {
    const int v = std::stoi(t);
    if (v <= 63) {
      return static_cast<uint8_t>(v);
    }
  }
  if (t == "ef") {
    return 46;
  }
  if (t.size() == 3 && t.starts_with("cs") && t[2] >= '0' && t[2] <= '7') {
    return static_cast<uint8_t>((t[2] - '0') * 8);
  }
  if (t.size() == 4 && t.starts_with("af") && t[2] >= '1' && t[2] <= '4' && t[3] >= '1' &&
      t[3] <= '3') {
    return static_cast<uint8_t>((t[2] - '0') * 8 + (t[3] - '0') * 2);  // RFC 2597
  }
  errors.add(path, n, "\"" + t + "\" is not a DSCP: 0-63, ef, af11-af43 or cs0-cs7");
  return std::nullopt;
}

template <typename T, typename Read>
bool read_list(const MapReader& r, std::string_view key, size_t limit, ErrorList& errors,
               std::vector<T>& out, Read read) {
  bool ok = true;
  for_each_item(r.get(key), r.path_of(key), errors, [&](const YAML::Node& n, const std::string& p) {
    if (out.size() == limit) {
      if (ok) {
        errors.add(r.path_of(key), r.get(key), "more than " + std::to_string(limit) + " entries");
      }
      ok = false;
      return;
    }
    if (auto v = read(n, p, errors)) {
      out.push_back(*v);
    } else {
      ok = false;
    }
  });
  return ok;
}

std::optional<ClassMatch> read_match(const YAML::Node& n, const std::string& path,
                                     ErrorList& errors) {
  MapReader r(n, path, kMatchSchema, errors);
  if (!r.ok()) {
    return std::nullopt;
  }
  ClassMatch m;
  bool ok = true;
  if (r.has("protocol")) {
    auto v = read_enum(r.get("protocol"), r.path_of("protocol"), errors, kClassProtocolNames);
    ok &= v.has_value();
    m.protocol = static_cast<ClassProtocol>(v.value_or(0));
  }
  for (auto [key, out] :
       {std::pair{"source", &m.source}, std::pair{"destination", &m.destination}}) {
    if (r.has(key)) {
      *out = read_network(r.get(key), r.path_of(key), errors);
      ok &= out->has_value();
    }
  }
  if (m.source && m.destination && m.source->address.family != m.destination->address.family) {
    errors.add(r.path_of("destination"), r.get("destination"), "not the source's family");
    ok = false;
  }
  ok &= read_list(r, "source_ports", kMaxPortRanges, errors, m.source_ports, read_port_range);
  ok &= read_list(r, "destination_ports", kMaxPortRanges, errors, m.destination_ports,
                  read_port_range);
  if ((!m.source_ports.empty() || !m.destination_ports.empty()) &&
      m.protocol == ClassProtocol::kIcmp) {
    errors.add(r.path_of("protocol"), r.get("protocol"), "ICMP has no ports");
    ok = false;
  }
  ok &= read_list(r, "dscp", kMaxDscp, errors, m.dscp, read_dscp);
  return ok ? std::optional<ClassMatch>(std::move(m)) : std::nullopt;
}

}  // namespace

const Schema kPoliciesSchema{
    .path = "policies",
    .description =
        "Application classes and the mesh paths each takes (vigil-dp, traffic into "
        "the mesh's tunnels).",
    .fields = kPoliciesFields};

void parse_policies(const YAML::Node& node, const std::string& path, Config& config,
                    ErrorList& errors) {
  MapReader r(node, path, kPoliciesSchema, errors);
  if (!r.ok()) {
    return;
  }
  std::set<std::string> names;
  size_t seen = 0;
  for_each_item(
      r.get("classes"), r.path_of("classes"), errors,
      [&](const YAML::Node& n, const std::string& p) {
        if (++seen == kMaxClasses + 1) {
          errors.add(r.path_of("classes"), r.get("classes"),
                     "more than " + std::to_string(kMaxClasses) + " classes");
        }
        MapReader c(n, p, kClassSchema, errors);
        if (!c.ok() || !c.has("name") || seen > kMaxClasses) {
          return;
        }
        PathClassConfig pc;
        pc.name = read_string(c.get("name"), c.path_of("name"), errors).value_or("");
        bool ok = !pc.name.empty();
        if (ok && !valid_name(pc.name)) {
          errors.add(c.path_of("name"), c.get("name"),
                     "a name is 1-63 letters, digits, '_', '.' or '-', starting with a letter or "
                     "digit");
          ok = false;
        }
        if (ok && !names.insert(pc.name).second) {
          errors.add(c.path_of("name"), c.get("name"),
                     "another class is named \"" + pc.name + "\"");
          ok = false;
        }
        ok &= read_list(c, "match", kMaxMatches, errors, pc.match, read_match);
        if (ok && pc.match.empty()) {
          errors.add(c.path_of("name"), c.get("name"),
                     "class \"" + pc.name + "\" matches nothing: give it a match");
          ok = false;
        }
        if (c.has("sla")) {
          MapReader s(c.get("sla"), c.path_of("sla"), kSlaSchema, errors);
          if (!s.ok()) {
            ok = false;
          } else {
            if (s.has("max_rtt_ms")) {
              auto v = read_int(s.get("max_rtt_ms"), s.path_of("max_rtt_ms"), errors, 1, 60000);
              ok &= v.has_value();
              pc.sla.max_rtt_ms = static_cast<uint32_t>(v.value_or(1));
            }
            if (s.has("max_jitter_ms")) {
              auto v =
                  read_int(s.get("max_jitter_ms"), s.path_of("max_jitter_ms"), errors, 0, 60000);
              ok &= v.has_value();
              pc.sla.max_jitter_ms = static_cast<uint32_t>(v.value_or(0));
            }
            if (s.has("max_loss_percent")) {
              const YAML::Node& v = s.get("max_loss_percent");
              double loss = -1;
              try {
                loss = v.IsScalar() ? v.as<double>() : -1;
              } catch (const YAML::Exception&) {
                loss = -1;
              }
              if (!(loss >= 0 && loss <= 100)) {
                errors.add(s.path_of("max_loss_percent"), v, "expected a number 0-100");
                ok = false;
              } else {
                pc.sla.max_loss_percent = loss;
              }
            }
          }
        }
        if (c.has("preference")) {
          auto v =
              read_enum(c.get("preference"), c.path_of("preference"), errors, kPathPreferenceNames);
          ok &= v.has_value();
          pc.preference = static_cast<PathPreference>(v.value_or(0));
        }
        std::set<std::string> links;
        ok &= read_list(c, "links", 8, errors, pc.links,
                        [&](const YAML::Node& ln, const std::string& lp,
                            ErrorList& e) -> std::optional<std::string> {
                          auto name = read_string(ln, lp, e);
                          if (!name) {
                            return std::nullopt;
                          }
                          const InterfaceConfig* i = config.interface(*name);
                          if (i == nullptr || i->role != InterfaceRole::kWan) {
                            e.add(lp, ln, "no wan interface named \"" + *name + "\"");
                            return std::nullopt;
                          }
                          if (!links.insert(*name).second) {
                            e.add(lp, ln, "\"" + *name + "\" is listed twice");
                            return std::nullopt;
                          }
                          return name;
                        });
        if (ok) {
          config.policies.classes.push_back(std::move(pc));
        }
      });
}

}  // namespace vigil::config
