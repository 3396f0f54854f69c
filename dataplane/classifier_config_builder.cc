#include "dataplane/classifier_config_builder.h"

#include <algorithm>
#include <set>

#include "dataplane/interface_admission.h"

namespace vigil::dp {

ebpf::ClassifierConfig classifier_config_from(const config::Config& c) {
  ebpf::ClassifierConfig out;
  const auto verdict = [](config::Verdict v) {
    return v == config::Verdict::kDrop ? ebpf::Action::kDrop : ebpf::Action::kPass;
  };
  out.default_action = verdict(c.filter.default_action);
  out.later_fragments = verdict(c.filter.later_fragments);
  for (const auto& r : c.filter.acl) {
    out.acl.push_back({.name = r.name,
                       .source = r.source,
                       .destination = r.destination,
                       .action = verdict(r.action)});
  }
  for (const auto& r : c.filter.rate_limits) {
    out.rate_limits.push_back({.name = r.name,
                               .source = r.source,
                               .policer = {.packets_per_second = r.packets_per_second,
                                           .packet_burst = r.packet_burst,
                                           .bytes_per_second = r.bytes_per_second,
                                           .byte_burst = r.byte_burst}});
  }
  for (const auto& r : c.filter.syn_limits) {
    out.syn_limits.push_back({.name = r.name,
                              .destination = r.destination,
                              .per_second = r.per_second,
                              .burst = r.burst});
  }

  out.hash_seed = c.l4.hash_seed;
  out.encap_mtu = static_cast<uint16_t>(c.l4.encap_mtu);
  out.gue_port = c.l4.gue_port;
  if (c.l4.gateway_mac) {
    out.gateway_mac = *c.l4.gateway_mac;
  }
  out.encap_source4 = c.l4.encap_source4;
  out.encap_source6 = c.l4.encap_source6;
  for (const auto& v : c.l4.vips) {
    ebpf::Vip vip{
        .name = v.name,
        .address = v.address,
        .port = v.port,
        .protocol = static_cast<uint8_t>(v.protocol == config::L4Protocol::kTcp ? 6 : 17),
        .encap = v.encap == config::EncapKind::kGue ? ebpf::Encap::kGue : ebpf::Encap::kIpip};
    for (const auto& b : v.backends) {
      vip.backends.push_back({.address = b.address, .weight = b.weight});
    }
    out.vips.push_back(std::move(vip));
  }

  std::set<net::IpAddress> local;
  for (const auto& i : c.interfaces) {
    for (const auto& a : i.addresses) {
      local.insert(a.address);
    }
    for (const auto& v : i.vlans) {
      for (const auto& a : v.addresses) {
        local.insert(a.address);
      }
    }
  }
  local.insert(c.system.management_addresses.begin(), c.system.management_addresses.end());
  out.local_addresses.assign(local.begin(), local.end());
  // With the fast path forwarding over AF_XDP, what is not for the box goes to vigil-dp; when
  // no socket is bound (vigil-dp down) the classifier passes it to the kernel instead.
  out.steer_transit = c.dataplane.forwarding && c.dataplane.mode == config::DataplaneMode::kAfXdp;
  for (const ServicePort& p : service_ports_of(c)) {
    out.local_ports.push_back({.protocol = p.protocol, .port = p.port});
  }
  if (out.steer_transit && !c.mesh.peers.empty()) {
    // The mesh's WireGuard: the fast path's to open, not the kernel's.
    out.local_ports.push_back(
        {.protocol = 17, .port = c.mesh.listen_port, .action = ebpf::Action::kFastPath});
  }
  return out;
}

ebpf::ClassifierConfig classifier_config_for(const ebpf::ClassifierConfig& common,
                                             const config::Config& c, const std::string& device,
                                             std::optional<std::array<uint8_t, 6>> mac) {
  ebpf::ClassifierConfig out = common;
  out.port_mac = mac;
  for (const auto& i : c.interfaces) {
    if (i.device != device) {
      continue;
    }
    out.port_vlans = vlan_ids(i);
    out.allow_martians = allowed_martians(i);
  }
  return out;
}

std::vector<std::string> xdp_devices(const config::Config& c) {
  std::vector<std::string> out;
  for (const auto& i : c.interfaces) {
    if (i.xdp && i.enabled) {
      out.push_back(i.device);
    }
  }
  return out;
}

}  // namespace vigil::dp
