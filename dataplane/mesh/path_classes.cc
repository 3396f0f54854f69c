#include "dataplane/mesh/path_classes.h"

#include <algorithm>

namespace vigil::dp {
namespace {

paths::AddressPrefix prefix_of(const std::optional<net::Prefix>& p) {
  if (!p) {
    return {};
  }
  paths::AddressPrefix out{.family = static_cast<uint8_t>(p->address.family),
                           .length = static_cast<uint8_t>(p->length)};
  std::copy(p->address.bytes.begin(), p->address.bytes.end(), out.bytes.begin());
  return out;
}

std::vector<paths::PortSpan> spans_of(const std::vector<config::PortRange>& ranges) {
  std::vector<paths::PortSpan> out;
  out.reserve(ranges.size());
  for (const config::PortRange& r : ranges) {
    out.push_back({r.first, r.last});
  }
  return out;
}

}  // namespace

std::vector<paths::PathClass> path_classes_for(const config::PoliciesConfig& policies,
                                               const std::vector<WanLink>& links) {
  std::vector<paths::PathClass> out;
  for (const config::PathClassConfig& c : policies.classes) {
    if (out.size() == paths::kMaxClasses) {
      break;  // the config allows no more
    }
    paths::PathClass pc;
    for (const config::ClassMatch& m : c.match) {
      paths::ClassRule r{.protocol = static_cast<paths::ClassRule::Protocol>(m.protocol),
                         .source = prefix_of(m.source),
                         .destination = prefix_of(m.destination),
                         .source_ports = spans_of(m.source_ports),
                         .destination_ports = spans_of(m.destination_ports)};
      for (uint8_t d : m.dscp) {
        r.dscp |= uint64_t{1} << (d & 63);
      }
      pc.rules.push_back(std::move(r));
    }
    if (c.sla.max_rtt_ms) {
      pc.sla.max_rtt_ns = int64_t{*c.sla.max_rtt_ms} * 1'000'000;
    }
    if (c.sla.max_jitter_ms) {
      pc.sla.max_jitter_ns = int64_t{*c.sla.max_jitter_ms} * 1'000'000;
    }
    if (c.sla.max_loss_percent) {
      pc.sla.max_loss = *c.sla.max_loss_percent / 100;
    }
    pc.preference = static_cast<paths::Preference>(c.preference);
    // The links the class names first, in its order; the others after, in the config's.
    uint8_t rank = 0;
    std::array<bool, paths::kMaxLinks> ranked{};
    for (const std::string& name : c.links) {
      for (size_t l = 0; l < links.size() && l < paths::kMaxLinks; ++l) {
        if (links[l].name == name && !ranked[l]) {
          pc.link_rank[l] = rank++;
          ranked[l] = true;
        }
      }
    }
    for (size_t l = 0; l < paths::kMaxLinks; ++l) {
      if (!ranked[l]) {
        pc.link_rank[l] = rank++;
      }
    }
    out.push_back(std::move(pc));
  }
  return out;
}

}  // namespace vigil::dp
