// One parser and validator per config section, and the table of sections.
#pragma once

#include <yaml-cpp/yaml.h>

#include <span>
#include <string_view>

#include "config/config.h"
#include "config/errors.h"
#include "config/reader.h"
#include "config/schema.h"

namespace vigil::config {

// Parses `node` into `config`, adding every problem to `errors`. Sections parse in the order
// of the table, so a section may check references into the ones before it.
using SectionParser = void (*)(const YAML::Node& node, const std::string& path, Config& config,
                               ErrorList& errors);

struct Section {
  std::string_view name;
  const Schema* schema;
  SectionParser parse;
};

void parse_interfaces(const YAML::Node&, const std::string&, Config&, ErrorList&);
void parse_system(const YAML::Node&, const std::string&, Config&, ErrorList&);
void parse_routing(const YAML::Node&, const std::string&, Config&, ErrorList&);
void parse_monitoring(const YAML::Node&, const std::string&, Config&, ErrorList&);
void parse_filter(const YAML::Node&, const std::string&, Config&, ErrorList&);
void parse_l4(const YAML::Node&, const std::string&, Config&, ErrorList&);
void parse_dataplane(const YAML::Node&, const std::string&, Config&, ErrorList&);
void parse_mesh(const YAML::Node&, const std::string&, Config&, ErrorList&);
void parse_policies(const YAML::Node&, const std::string&, Config&, ErrorList&);
void parse_l7(const YAML::Node&, const std::string&, Config&, ErrorList&);

extern const Schema kInterfaceSchema;
extern const Schema kSystemSchema;
extern const Schema kRoutingSchema;
extern const Schema kMonitoringSchema;
extern const Schema kFilterSchema;
extern const Schema kL4Schema;
extern const Schema kDataplaneSchema;
extern const Schema kMeshSchema;
extern const Schema kPoliciesSchema;
extern const Schema kL7Schema;
extern const Schema kDocumentSchema;  // the top level

// Implemented sections in parse order.
std::span<const Section> sections();

}  // namespace vigil::config
