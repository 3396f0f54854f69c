// The whole configuration as C++ types. One struct per section; sections that no component
// implements yet are reserved in the schema and rejected, never carried here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "mgmt/config/ip.h"
#include "mgmt/config/reader.h"

namespace vigil::config {

enum class Role { kAdmin, kOperator, kViewer };
inline constexpr std::string_view kRoleNames[] = {"admin", "operator", "viewer"};

struct User {
  std::string name;
  Role role = Role::kViewer;
};

struct SystemConfig {
  std::string hostname = "vigil";
  std::vector<User> users;
  std::vector<IpAddress> management_addresses;
};

enum class InterfaceRole { kLan, kWan };
inline constexpr std::string_view kInterfaceRoleNames[] = {"lan", "wan"};

struct Vlan {
  uint16_t id = 0;
  std::vector<Prefix> addresses;
};

struct InterfaceConfig {
  std::string name;
  std::string device;  // kernel interface or DPDK devargs; defaults to the name
  InterfaceRole role = InterfaceRole::kLan;
  bool enabled = true;
  uint32_t mtu = 1500;
  std::vector<Prefix> addresses;
  std::vector<Vlan> vlans;
};

struct NextHop {
  std::optional<IpAddress> via;
  std::string interface;  // empty: resolved through the FIB
  uint32_t weight = 1;
};

struct StaticRoute {
  Prefix prefix;
  std::vector<NextHop> next_hops;
  uint32_t distance = 1;
  bool blackhole = false;
};

struct RoutingConfig {
  std::vector<StaticRoute> static_routes;
};

struct MonitoringConfig {
  bool prometheus_enabled = true;
  HostPort prometheus_listen{IpAddress{4, {127, 0, 0, 1}}, 9550};
};

struct Config {
  SystemConfig system;
  std::vector<InterfaceConfig> interfaces;  // in document order
  RoutingConfig routing;
  MonitoringConfig monitoring;

  const InterfaceConfig* interface(std::string_view name) const {
    for (const auto& i : interfaces) {
      if (i.name == name) {
        return &i;
      }
    }
    return nullptr;
  }
};

}  // namespace vigil::config
