// interfaces: the box's ports, their role, addresses and VLANs.
#include <algorithm>
#include <map>

#include "config/sections.h"

namespace vigil::config {
namespace {

constexpr Field kVlanFields[] = {
    {.key = "id", .type = "integer 1-4094", .description = "802.1Q VLAN id", .required = true},
    {.key = "addresses",
     .type = "list of address/length",
     .description = "Addresses on the VLAN sub-interface"},
};
constexpr Schema kVlanSchema{.path = "interfaces.<name>.vlans[]",
                             .description = "An 802.1Q sub-interface.",
                             .fields = kVlanFields};

constexpr Field kNeighbourFields[] = {
    {.key = "address",
     .type = "IP address",
     .description = "The neighbour; on one of the interface's subnets",
     .required = true},
    {.key = "mac",
     .type = "MAC address",
     .description = "Its link-layer address, e.g. 02:00:5e:10:00:01",
     .required = true},
};
constexpr Schema kNeighbourSchema{
    .path = "interfaces.<name>.neighbours[]",
    .description = "A static ARP/ND entry: the fast path sends to this neighbour without asking.",
    .fields = kNeighbourFields};

constexpr Field kInterfaceFields[] = {
    {.key = "role",
     .type = "lan or wan",
     .description = "lan faces the site's hosts; wan faces a provider and carries the mesh",
     .required = true},
    {.key = "device",
     .type = "string",
     .description = "Kernel interface, or DPDK devargs in dpdk mode",
     .default_value = "the interface's name"},
    {.key = "enabled",
     .type = "boolean",
     .description = "Administrative state",
     .default_value = "true"},
    {.key = "mtu", .type = "integer 68-9216", .description = "IP MTU", .default_value = "1500"},
    {.key = "addresses",
     .type = "list of address/length",
     .description = "IPv4 and IPv6 addresses, e.g. 10.1.1.1/24, fd00:1:1::1/64"},
    {.key = "vlans",
     .type = "list of VLAN",
     .description = "Tagged sub-interfaces",
     .children = &kVlanSchema,
     .entry_key = "id"},
    {.key = "xdp",
     .type = "boolean",
     .description = "Run the XDP classifier (filter, l4) on this port",
     .default_value = "false"},
    {.key = "neighbours",
     .type = "list of neighbour",
     .description = "Static ARP/ND entries for the fast path",
     .children = &kNeighbourSchema,
     .entry_key = "address"},
    {.key = "allow_martians",
     .type = "list of this_network, loopback, reserved, link_local, ipv4_mapped",
     .description = "Martian ranges this port forwards anyway (from it and to it): 0.0.0.0/8, "
                    "127.0.0.0/8, 240.0.0.0/4, 169.254.0.0/16, ::ffff:0:0/96. Others are "
                    "always refused (docs/operations.md)",
     .default_value = "none"},
};

struct Placed {
  Prefix prefix;
  std::string owner;  // "lan0" or "lan0.100"
};

std::vector<Prefix> read_addresses(const YAML::Node& n, const std::string& path,
                                   const std::string& owner, std::vector<Placed>& placed,
                                   ErrorList& errors) {
  std::vector<Prefix> out;
  for_each_item(n, path, errors, [&](const YAML::Node& item, const std::string& item_path) {
    auto p = read_interface_address(item, item_path, errors);
    if (!p) {
      return;
    }
    for (const Placed& other : placed) {
      if (other.prefix.address == p->address) {
        errors.add(item_path, item,
                   p->address.to_string() + " is already an address of " + other.owner);
        return;
      }
      if (other.owner != owner && other.prefix.overlaps(*p)) {
        errors.add(item_path, item,
                   p->to_string() + " overlaps " + other.prefix.to_string() + " on " + other.owner +
                       "; two interfaces cannot share a subnet");
        return;
      }
    }
    placed.push_back({*p, owner});
    out.push_back(*p);
  });
  return out;
}

std::vector<StaticNeighbour> read_neighbours(const YAML::Node& n, const std::string& path,
                                             const InterfaceConfig& iface, ErrorList& errors) {
  std::vector<StaticNeighbour> out;
  for_each_item(n, path, errors, [&](const YAML::Node& item, const std::string& item_path) {
    MapReader r(item, item_path, kNeighbourSchema, errors);
    if (!r.ok() || !r.has("address") || !r.has("mac")) {
      return;
    }
    auto address = read_ip(r.get("address"), r.path_of("address"), errors);
    auto mac = read_mac(r.get("mac"), r.path_of("mac"), errors);
    if (!address || !mac) {
      return;
    }
    if ((*mac)[0] & 1) {
      errors.add(r.path_of("mac"), r.get("mac"),
                 "a neighbour has a unicast MAC, not a multicast one");
      return;
    }
    const bool on_subnet = std::any_of(iface.addresses.begin(), iface.addresses.end(),
                                       [&](const Prefix& p) { return p.contains(*address); });
    if (!on_subnet) {
      errors.add(r.path_of("address"), r.get("address"),
                 address->to_string() + " is on no subnet of " + iface.name);
      return;
    }
    for (const auto& other : out) {
      if (other.address == *address) {
        errors.add(r.path_of("address"), r.get("address"),
                   address->to_string() + " is listed twice");
        return;
      }
    }
    out.push_back({*address, *mac});
  });
  return out;
}

}  // namespace

const Schema kInterfaceSchema{.path = "interfaces.<name>",
                              .description = "A port, keyed by the name Vigil uses for it.",
                              .fields = kInterfaceFields};

void parse_interfaces(const YAML::Node& node, const std::string& path, Config& config,
                      ErrorList& errors) {
  std::vector<Placed> placed;
  std::map<std::string, std::string> devices;  // device -> interface using it
  for_each_named(
      node, path, errors,
      [&](const std::string& name, const YAML::Node& n, const std::string& ipath) {
        MapReader r(n, ipath, kInterfaceSchema, errors);
        if (!r.ok()) {
          return;
        }
        InterfaceConfig iface;
        iface.name = name;
        iface.device = name;
        if (r.has("role")) {
          if (auto role =
                  read_enum(r.get("role"), r.path_of("role"), errors, kInterfaceRoleNames)) {
            iface.role = static_cast<InterfaceRole>(*role);
          }
        }
        if (r.has("device")) {
          if (auto d = read_string(r.get("device"), r.path_of("device"), errors)) {
            iface.device = *d;
          }
        }
        if (iface.device.size() > 15 && iface.device.find(',') == std::string::npos) {
          errors.add(r.has("device") ? r.path_of("device") : ipath,
                     r.has("device") ? r.get("device") : n,
                     "device \"" + iface.device +
                         "\" is longer than the 15 characters a kernel interface name can have");
        }
        if (auto [it, fresh] = devices.emplace(iface.device, name); !fresh) {
          errors.add(ipath, n, "device \"" + iface.device + "\" is already used by " + it->second);
        }
        if (r.has("enabled")) {
          iface.enabled = read_bool(r.get("enabled"), r.path_of("enabled"), errors).value_or(true);
        }
        if (r.has("xdp")) {
          iface.xdp = read_bool(r.get("xdp"), r.path_of("xdp"), errors).value_or(false);
        }
        if (r.has("mtu")) {
          iface.mtu = static_cast<uint32_t>(
              read_int(r.get("mtu"), r.path_of("mtu"), errors, 68, 9216).value_or(1500));
        }
        iface.addresses =
            read_addresses(r.get("addresses"), r.path_of("addresses"), name, placed, errors);
        std::map<int64_t, std::string> vlan_ids;
        for_each_item(
            r.get("vlans"), r.path_of("vlans"), errors,
            [&](const YAML::Node& vn, const std::string& vpath) {
              MapReader vr(vn, vpath, kVlanSchema, errors);
              if (!vr.ok() || !vr.has("id")) {
                return;
              }
              auto id = read_int(vr.get("id"), vr.path_of("id"), errors, 1, 4094);
              if (!id) {
                return;
              }
              if (auto [it, fresh] = vlan_ids.emplace(*id, vpath); !fresh) {
                errors.add(vr.path_of("id"), vr.get("id"),
                           "VLAN " + std::to_string(*id) + " is already defined at " + it->second);
                return;
              }
              Vlan vlan{.id = static_cast<uint16_t>(*id)};
              vlan.addresses = read_addresses(vr.get("addresses"), vr.path_of("addresses"),
                                              name + "." + std::to_string(*id), placed, errors);
              iface.vlans.push_back(std::move(vlan));
            });
        iface.neighbours =
            read_neighbours(r.get("neighbours"), r.path_of("neighbours"), iface, errors);
        for_each_item(
            r.get("allow_martians"), r.path_of("allow_martians"), errors,
            [&](const YAML::Node& item, const std::string& item_path) {
              auto m = read_enum(item, item_path, errors, kMartianRangeNames);
              if (!m) {
                return;
              }
              const auto range = static_cast<MartianRange>(*m);
              if (std::ranges::find(iface.allow_martians, range) != iface.allow_martians.end()) {
                errors.add(item_path, item,
                           "\"" + std::string(kMartianRangeNames[*m]) + "\" is listed twice");
                return;
              }
              iface.allow_martians.push_back(range);
            });
        config.interfaces.push_back(std::move(iface));
      });
}

}  // namespace vigil::config
