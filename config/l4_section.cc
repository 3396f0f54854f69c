// l4: virtual IPs load-balanced at the NIC by the XDP classifier (Maglev), each flow
// encapsulated (IPIP or GUE) to a backend that answers the client directly.
#include <cstdio>
#include <map>
#include <set>
#include <tuple>

#include "config/capacity_checks.h"
#include "config/sections.h"

namespace vigil::config {
namespace {

constexpr Field kBackendFields[] = {
    {.key = "address", .type = "IP address", .description = "The backend", .required = true},
    {.key = "weight",
     .type = "integer 0-65535",
     .description = "Share of new flows relative to the others; 0 drains (established flows "
                    "stay)",
     .default_value = "1"},
};
constexpr Schema kBackendSchema{.path = "l4.vips.<name>.backends[]",
                                .description = "A backend of a VIP.",
                                .fields = kBackendFields};

constexpr Field kVipFields[] = {
    {.key = "address", .type = "IP address", .description = "The virtual IP", .required = true},
    {.key = "port", .type = "integer 1-65535", .description = "The service port", .required = true},
    {.key = "protocol", .type = "tcp | udp", .description = "", .default_value = "tcp"},
    {.key = "encap",
     .type = "ipip | gue",
     .description = "How packets reach the backends: IP-in-IP (IPv4 or IPv6 outer, by the "
                    "backend's family) or GUE (IP in UDP, to l4.encap.gue_port)",
     .default_value = "ipip"},
    {.key = "backends",
     .type = "list of backend",
     .description = "Up to 1,024 in all VIPs",
     .children = &kBackendSchema,
     .entry_key = "address"},
};
constexpr Schema kVipSchema{.path = "l4.vips.<name>",
                            .description = "A virtual IP, port and protocol.",
                            .fields = kVipFields};

constexpr Field kEncapFields[] = {
    {.key = "source4",
     .type = "IPv4 prefix",
     .description = "Outer sources toward IPv4 backends; the host bits come from the flow hash "
                    "so backends spread flows over their receive queues"},
    {.key = "source6",
     .type = "IPv6 prefix, /96 or longer",
     .description = "Outer sources toward IPv6 backends (low 32 bits from the flow hash)"},
    {.key = "gateway_mac",
     .type = "MAC address",
     .description = "Next hop of encapsulated packets (the router toward the backends), on the "
                    "port the VIP traffic arrives on; required once there are VIPs"},
    {.key = "mtu",
     .type = "integer 1328-9216",
     .description = "Largest packet toward the backends, outer header included; larger ones "
                    "are answered with ICMP fragmentation needed / packet too big",
     .default_value = "1500"},
    {.key = "gue_port", .type = "integer 1-65535", .description = "", .default_value = "6080"},
};
constexpr Schema kEncapSchema{.path = "l4.encap",
                              .description = "Encapsulation toward the backends.",
                              .fields = kEncapFields};

constexpr Field kL4Fields[] = {
    {.key = "hash_seed",
     .type = "integer",
     .description = "Seed of the flow hash; the same on every appliance so they pick alike",
     .default_value = "1597463007"},
    {.key = "encap", .type = "mapping", .description = "", .children = &kEncapSchema},
    {.key = "vips", .type = "map of VIP", .description = "Up to 16", .children = &kVipSchema},
};

}  // namespace

const Schema kL4Schema{.path = "l4",
                       .description = "L4 load balancing at the NIC (ports with xdp: true).",
                       .fields = kL4Fields};

void parse_l4(const YAML::Node& node, const std::string& path, Config& config, ErrorList& errors) {
  MapReader r(node, path, kL4Schema, errors);
  if (!r.ok()) {
    return;
  }
  L4Config& l4 = config.l4;
  if (r.has("hash_seed")) {
    l4.hash_seed = static_cast<uint32_t>(
        read_int(r.get("hash_seed"), r.path_of("hash_seed"), errors, 0, UINT32_MAX)
            .value_or(l4.hash_seed));
  }
  if (r.has("encap")) {
    MapReader e(r.get("encap"), r.path_of("encap"), kEncapSchema, errors);
    if (e.ok()) {
      if (e.has("source4")) {
        l4.encap_source4 = read_network(e.get("source4"), e.path_of("source4"), errors);
        if (l4.encap_source4 && l4.encap_source4->address.family != 4) {
          errors.add(e.path_of("source4"), e.get("source4"), "not an IPv4 prefix");
        }
      }
      if (e.has("source6")) {
        l4.encap_source6 = read_network(e.get("source6"), e.path_of("source6"), errors);
        if (l4.encap_source6 &&
            (l4.encap_source6->address.family != 6 || l4.encap_source6->length < 96)) {
          errors.add(e.path_of("source6"), e.get("source6"),
                     "needs an IPv6 prefix of /96 or longer");
        }
      }
      if (e.has("gateway_mac")) {
        l4.gateway_mac = read_mac(e.get("gateway_mac"), e.path_of("gateway_mac"), errors);
      }
      if (e.has("mtu")) {
        l4.encap_mtu = static_cast<uint32_t>(
            read_int(e.get("mtu"), e.path_of("mtu"), errors, 1328, 9216).value_or(1500));
      }
      if (e.has("gue_port")) {
        l4.gue_port = static_cast<uint16_t>(
            read_int(e.get("gue_port"), e.path_of("gue_port"), errors, 1, 65535).value_or(6080));
      }
    }
  }
  std::map<std::tuple<IpAddress, uint16_t, L4Protocol>, std::string> seen;
  size_t backends = 0;
  bool need4 = false;
  bool need6 = false;
  for_each_named(
      r.get("vips"), r.path_of("vips"), errors,
      [&](const std::string& name, const YAML::Node& n, const std::string& vpath) {
        MapReader v(n, vpath, kVipSchema, errors);
        if (!v.ok() || !v.has("address") || !v.has("port")) {
          return;
        }
        VipConfig vip;
        vip.name = name;
        auto address = read_ip(v.get("address"), v.path_of("address"), errors);
        auto port = read_int(v.get("port"), v.path_of("port"), errors, 1, 65535);
        bool ok = address && port;
        if (v.has("protocol")) {
          auto p = read_enum(v.get("protocol"), v.path_of("protocol"), errors, kL4ProtocolNames);
          ok &= p.has_value();
          vip.protocol = static_cast<L4Protocol>(p.value_or(0));
        }
        if (v.has("encap")) {
          auto e = read_enum(v.get("encap"), v.path_of("encap"), errors, kEncapNames);
          ok &= e.has_value();
          vip.encap = static_cast<EncapKind>(e.value_or(0));
        }
        std::set<IpAddress> listed;
        for_each_item(v.get("backends"), v.path_of("backends"), errors,
                      [&](const YAML::Node& bn, const std::string& bpath) {
                        MapReader b(bn, bpath, kBackendSchema, errors);
                        if (!b.ok() || !b.has("address")) {
                          ok = false;
                          return;
                        }
                        BackendConfig backend;
                        auto a = read_ip(b.get("address"), b.path_of("address"), errors);
                        if (!a) {
                          ok = false;
                          return;
                        }
                        backend.address = *a;
                        if (b.has("weight")) {
                          auto w = read_int(b.get("weight"), b.path_of("weight"), errors, 0, 65535);
                          ok &= w.has_value();
                          backend.weight = static_cast<uint32_t>(w.value_or(1));
                        }
                        if (!listed.insert(*a).second) {
                          errors.add(b.path_of("address"), b.get("address"),
                                     a->to_string() + " is listed twice");
                          ok = false;
                        }
                        (a->family == 4 ? need4 : need6) = true;
                        vip.backends.push_back(backend);
                      });
        if (!ok) {
          return;
        }
        vip.address = *address;
        vip.port = static_cast<uint16_t>(*port);
        if (auto [it, fresh] = seen.try_emplace({vip.address, vip.port, vip.protocol}, name);
            !fresh) {
          errors.add(vpath, n, "same address, port and protocol as VIP \"" + it->second + "\"");
          return;
        }
        backends += vip.backends.size();
        l4.vips.push_back(std::move(vip));
      });
  if (auto fits = check_vip_count(l4.vips.size()); !fits) {
    errors.add(r.path_of("vips"), r.get("vips"), fits.error());
  }
  if (auto fits = check_backend_count(backends); !fits) {
    errors.add(r.path_of("vips"), r.get("vips"), fits.error());
  }
  if (!l4.vips.empty() && !l4.gateway_mac) {
    errors.add(r.path_of("encap"), r.has("encap") ? r.get("encap") : node,
               "VIPs need encap.gateway_mac, the next hop toward their backends");
  }
  if (need4 && !l4.encap_source4) {
    errors.add(r.path_of("encap"), r.has("encap") ? r.get("encap") : node,
               "IPv4 backends need encap.source4");
  }
  if (need6 && !l4.encap_source6) {
    errors.add(r.path_of("encap"), r.has("encap") ? r.get("encap") : node,
               "IPv6 backends need encap.source6");
  }
  if (!l4.vips.empty() && std::none_of(config.interfaces.begin(), config.interfaces.end(),
                                       [](const InterfaceConfig& i) { return i.xdp; })) {
    errors.add(r.path_of("vips"), r.get("vips"),
               "no interface has xdp: true, so no port would serve these VIPs");
  }
}

}  // namespace vigil::config
