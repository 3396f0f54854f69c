// system: the box's name, who may operate it and in which role, and its management addresses.
#include <regex>
#include <set>

#include "config/capacity_checks.h"
#include "config/sections.h"

namespace vigil::config {
namespace {

constexpr Field kUserFields[] = {
    {.key = "role",
     .type = "admin, operator or viewer",
     .description =
         "admin: everything; operator: operational commands, no commit; viewer: show only",
     .required = true},
};
constexpr Schema kUserSchema{.path = "system.users.<unix user>",
                             .description = "A Unix user allowed to use the CLI and API.",
                             .fields = kUserFields};

constexpr Field kManagementFields[] = {
    {.key = "addresses",
     .type = "list of IP address",
     .description = "Addresses of this box that serve SSH and the API; each must be an "
                    "address of an interface"},
};
constexpr Schema kManagementSchema{.path = "system.management",
                                   .description = "How the box is reached for management.",
                                   .fields = kManagementFields};

constexpr Field kSystemFields[] = {
    {.key = "hostname",
     .type = "hostname",
     .description = "RFC 1123 host name: dot-separated labels of letters, digits and '-'",
     .default_value = "vigil"},
    {.key = "users",
     .type = "map of user",
     .description = "Operators by Unix user name",
     .children = &kUserSchema},
    {.key = "management",
     .type = "mapping",
     .description = "Management access",
     .children = &kManagementSchema},
};

bool valid_hostname(const std::string& h) {
  static const std::regex label("[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?");
  if (h.empty() || h.size() > 253) {
    return false;
  }
  size_t start = 0;
  while (true) {
    const size_t dot = h.find('.', start);
    if (!std::regex_match(h.substr(start, dot - start), label)) {
      return false;
    }
    if (dot == std::string::npos) {
      return true;
    }
    start = dot + 1;
  }
}

bool valid_unix_user(const std::string& u) {
  static const std::regex pattern("[a-z_][a-z0-9_-]{0,31}");
  return std::regex_match(u, pattern);
}

}  // namespace

const Schema kSystemSchema{
    .path = "system", .description = "The box itself.", .fields = kSystemFields};

void parse_system(const YAML::Node& node, const std::string& path, Config& config,
                  ErrorList& errors) {
  MapReader r(node, path, kSystemSchema, errors);
  if (!r.ok()) {
    return;
  }
  if (r.has("hostname")) {
    if (auto h = read_string(r.get("hostname"), r.path_of("hostname"), errors)) {
      if (valid_hostname(*h)) {
        config.system.hostname = *h;
      } else {
        errors.add(r.path_of("hostname"), r.get("hostname"),
                   "\"" + *h + "\" is not a valid host name (RFC 1123)");
      }
    }
  }
  for_each_named(
      r.get("users"), r.path_of("users"), errors,
      [&](const std::string& name, const YAML::Node& n, const std::string& upath) {
        if (!valid_unix_user(name)) {
          errors.add(upath, n, "\"" + name + "\" is not a valid Unix user name");
          return;
        }
        MapReader ur(n, upath, kUserSchema, errors);
        if (!ur.ok() || !ur.has("role")) {
          return;
        }
        if (auto role = read_enum(ur.get("role"), ur.path_of("role"), errors, kRoleNames)) {
          config.system.users.push_back({name, static_cast<Role>(*role)});
        }
      });
  MapReader mr(r.get("management"), r.path_of("management"), kManagementSchema, errors);
  if (!mr.ok()) {
    return;
  }
  for_each_item(mr.get("addresses"), mr.path_of("addresses"), errors,
                [&](const YAML::Node& n, const std::string& apath) {
                  auto ip = read_ip(n, apath, errors);
                  if (!ip) {
                    return;
                  }
                  bool on_interface = false;
                  for (const auto& iface : config.interfaces) {
                    for (const auto& a : iface.addresses) {
                      on_interface |= a.address == *ip;
                    }
                    for (const auto& v : iface.vlans) {
                      for (const auto& a : v.addresses) {
                        on_interface |= a.address == *ip;
                      }
                    }
                  }
                  if (!on_interface) {
                    errors.add(apath, n, ip->to_string() + " is not an address of any interface");
                    return;
                  }
                  config.system.management_addresses.push_back(*ip);
                });
  // The box's own addresses (every interface's and VLAN's; management ones are among them) are
  // one map of the classifier: checked here, once the interfaces are read.
  std::set<IpAddress> own;
  for (const auto& iface : config.interfaces) {
    for (const auto& a : iface.addresses) {
      own.insert(a.address);
    }
    for (const auto& v : iface.vlans) {
      for (const auto& a : v.addresses) {
        own.insert(a.address);
      }
    }
  }
  if (auto fits = check_local_address_count(own.size()); !fits) {
    errors.add(path, r.node(), fits.error() + " (interfaces and their VLANs)");
  }
}

}  // namespace vigil::config
