#include "config/document.h"

#include "common/yaml_file.h"
#include "config/entry_keys.h"
#include "config/sections.h"

namespace vigil::config {
namespace {

constexpr Field kDocumentFields[] = {
    {.key = "system",
     .type = "mapping",
     .description = "The box itself",
     .children = &kSystemSchema},
    {.key = "interfaces",
     .type = "map of interface",
     .description = "Ports by name",
     .children = &kInterfaceSchema},
    {.key = "routing", .type = "mapping", .description = "Routes", .children = &kRoutingSchema},
    {.key = "monitoring",
     .type = "mapping",
     .description = "Prometheus and SNMP",
     .children = &kMonitoringSchema},
    {.key = "mesh",
     .type = "mapping",
     .description = "WireGuard tunnels to the other sites, in the fast path",
     .children = &kMeshSchema},
    {.key = "filter",
     .type = "mapping",
     .description = "ACLs, rate limits and SYN limits at the NIC (XDP)",
     .children = &kFilterSchema},
    {.key = "l4",
     .type = "mapping",
     .description = "Virtual IPs load-balanced at the NIC (XDP, Maglev)",
     .children = &kL4Schema},
    {.key = "dataplane",
     .type = "mapping",
     .description = "The DPDK fast path: mode, lcores, memory, FIB size",
     .children = &kDataplaneSchema},
    {.key = "l7",
     .type = "mapping",
     .description = "The HTTP reverse proxy (vigil-l7): listeners, routes and upstreams",
     .children = &kL7Schema},
    {.key = "qos",
     .type = "mapping",
     .description = "Shaping per WAN link",
     .not_supported_until = "the QoS issue"},
    {.key = "policies",
     .type = "mapping",
     .description = "Application classes and the mesh paths they take",
     .children = &kPoliciesSchema},
};

constexpr Section kSections[] = {
    // Parse order: a section may check references into those above it.
    {"interfaces", &kInterfaceSchema, parse_interfaces},
    {"system", &kSystemSchema, parse_system},
    {"routing", &kRoutingSchema, parse_routing},
    {"monitoring", &kMonitoringSchema, parse_monitoring},
    {"filter", &kFilterSchema, parse_filter},
    {"l4", &kL4Schema, parse_l4},
    {"dataplane", &kDataplaneSchema, parse_dataplane},
    {"mesh", &kMeshSchema, parse_mesh},
    {"policies", &kPoliciesSchema, parse_policies},
    {"l7", &kL7Schema, parse_l7},
};

}  // namespace

const Schema kDocumentSchema{.path = "(top level)",
                             .description = "The sections of /etc/vigil/vigil.yaml.",
                             .fields = kDocumentFields};

std::span<const Section> sections() {
  return kSections;
}

ParseResult parse_document(const YAML::Node& document) {
  ParseResult result;
  MapReader top(document, "", kDocumentSchema, result.errors);
  if (!top.ok()) {
    return result;
  }
  for (const Section& s : kSections) {
    s.parse(top.get(s.name), std::string(s.name), result.config, result.errors);
  }
  check_entry_keys(document, result.errors);
  return result;
}

ParseResult parse_text(const std::string& text, const std::string& origin) {
  auto doc = parse_yaml(text, origin);
  if (!doc) {
    ParseResult result;
    // parse_yaml already names origin, line and column.
    result.errors.add("", YAML::Mark::null_mark(), doc.error());
    return result;
  }
  return parse_document(*doc);
}

Expected<Config> parse_sections(const nlohmann::json& sections) {
  nlohmann::json doc = nlohmann::json::object();
  for (const auto& [section, content] : sections.items()) {
    if (!content.is_null()) {
      doc[section] = content;
    }
  }
  ParseResult parsed = parse_text(doc.dump(), "the committed config");
  if (!parsed.ok()) {
    return fail(parsed.errors.to_string());
  }
  return std::move(parsed.config);
}

Status validate_document(const YAML::Node& document) {
  ParseResult r = parse_document(document);
  if (r.ok()) {
    return Ok{};
  }
  return fail(r.errors.to_string());
}

}  // namespace vigil::config
