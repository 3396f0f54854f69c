#include "dataplane/offload/flow_offloader.h"

#include <algorithm>
#include <cstring>

#include "common/logging.h"
#include "dataplane/kernel/xdp_features.h"
#include "ebpf/loader/offload_maps.h"

namespace vigil::dp {
namespace {

constexpr unsigned kOffersPerTick = 1024;

}  // namespace

FlowOffloader::FlowOffloader(OffloadChannel& channel, std::vector<OffloadPort> ports,
                             XdpFeaturesOf features)
    : channel_(channel), ports_(std::move(ports)), features_(std::move(features)) {
  why_not_.resize(ports_.size());
  // Above anything an earlier run left in pinned maps, so none of its entries is taken.
  for (const auto& p : ports_) {
    if (p.maps != nullptr) {
      generation_ = std::max(generation_, ebpf::offload_generation(*p.maps));
    }
  }
  check_ports();
  invalidate();
}

FlowOffloader::~FlowOffloader() {
  channel_.set_offloadable(0);
  channel_.set_epoch(0);
  for (const auto& p : ports_) {
    if (p.maps != nullptr) {
      (void)ebpf::set_offload_generation(*p.maps, 0);
    }
  }
}

bool FlowOffloader::offloadable(PortId port) const {
  return port < ports_.size() && why_not_[port].empty();
}

void FlowOffloader::check_ports() {
  next_check_ = std::chrono::steady_clock::now() + kRecheck;
  uint64_t mask = 0;
  for (const auto& p : ports_) {
    std::string why;
    if (p.id >= VIGIL_MAX_OFFLOAD_PORTS) {
      why = "port id beyond the classifier's offload ports";
    } else if (p.maps == nullptr || p.ifindex == 0) {
      why = "the XDP classifier does not run on it";
    } else if (auto f = features_(p.ifindex); !f) {
      why = f.error();
    } else if ((*f & kXdpActNdoXmit) == 0) {
      why =
          "the kernel says the device cannot send frames redirected by XDP (a veth can when "
          "its peer has GRO on or an XDP program)";
    }
    std::string& before = why_not_[p.id];
    if (why != before || !checked_) {
      set_target(p, why);
      if (why.empty()) {
        log::info("flows through this port are offloaded to XDP", {{"port", p.name}});
      } else {
        log::warn("flows through this port are not offloaded to XDP",
                  {{"port", p.name}, {"reason", why}});
      }
    }
    before = why;
    if (why.empty()) {
      mask |= uint64_t{1} << p.id;
    }
  }
  checked_ = true;
  channel_.set_offloadable(mask);
}

void FlowOffloader::set_target(const OffloadPort& port, std::string& why_not) {
  if (port.ifindex == 0) {
    return;
  }
  for (const auto& q : ports_) {
    if (q.maps == nullptr) {
      continue;
    }
    const Status s = why_not.empty() ? ebpf::add_offload_target(*q.maps, port.ifindex)
                                     : ebpf::remove_offload_target(*q.maps, port.ifindex);
    if (!s && why_not.empty()) {
      why_not = "cannot make it a redirect target: " + s.error();
    }
  }
}

void FlowOffloader::write_generation() {
  for (const auto& p : ports_) {
    if (p.maps == nullptr) {
      continue;
    }
    if (Status s = ebpf::set_offload_generation(*p.maps, generation_); !s) {
      // Its entries stay valid with what they were decided on: say so loudly.
      log::error("cannot retire the port's offloaded flows",
                 {{"port", p.name}, {"error", s.error()}});
    }
  }
  channel_.set_epoch(generation_);
}

void FlowOffloader::invalidate() {
  if (++generation_ == 0) {
    generation_ = 1;  // 0 means "off"
  }
  clear_index();
  write_generation();
}

void FlowOffloader::clear_index() {
  installed_.clear();
  indexed_ = 0;
}

void FlowOffloader::neighbour_changed(PortId port, const net::IpAddress& address,
                                      const Mac& old_mac, const std::optional<Mac>& new_mac) {
  if (damping_.changed(port, address, old_mac, new_mac, std::chrono::steady_clock::now())) {
    log::warn("a neighbour's MAC keeps changing: its flows stay on vigil-dp while it does",
              {{"neighbour", address.to_string()}, {"port", ports_[port].name}});
  }
  const auto it = installed_.find({port, old_mac});
  if (it == installed_.end()) {
    return;
  }
  for (const auto& [in_port, key] : it->second) {
    if (ports_[in_port].maps != nullptr && ebpf::forget_flow(*ports_[in_port].maps, key).ok()) {
      ++stats_.retired;
    }
  }
  indexed_ -= it->second.size();
  installed_.erase(it);
}

void FlowOffloader::tick() {
  if (std::chrono::steady_clock::now() >= next_check_) {
    check_ports();
  }
  for (const FlowOffer& offer : channel_.take(kOffersPerTick)) {
    install(offer);
  }
}

void FlowOffloader::install(const FlowOffer& offer) {
  if (offer.epoch != generation_) {
    ++stats_.stale;
    return;
  }
  if (!offloadable(offer.in_port) || !offloadable(offer.out_port)) {
    ++stats_.declined;
    return;
  }
  Mac next_hop;
  std::memcpy(next_hop.data(), offer.dst_mac, 6);
  if (damping_.holds(offer.out_port, next_hop, std::chrono::steady_clock::now())) {
    ++stats_.held;
    return;
  }
  if (indexed_ >= kMaxIndexed) {
    invalidate();  // too much to track flow by flow: retire them all, start the index anew
    return;
  }
  vigil_offload flow{};
  flow.generation = generation_;
  flow.out_ifindex = ports_[offer.out_port].ifindex;
  flow.mtu = offer.mtu;
  flow.out_port = static_cast<uint8_t>(offer.out_port);
  std::memcpy(flow.dst_mac, offer.dst_mac, 6);
  std::memcpy(flow.src_mac, offer.src_mac, 6);
  if (Status s = ebpf::offload_flow(*ports_[offer.in_port].maps, offer.key, flow); !s) {
    if (stats_.failed++ == 0) {
      log::error("cannot offload a flow to XDP",
                 {{"port", ports_[offer.in_port].name}, {"error", s.error()}});
    }
    return;
  }
  installed_[{offer.out_port, next_hop}].emplace_back(offer.in_port, offer.key);
  ++indexed_;
  ++stats_.installed;
}

std::vector<FlowOffloader::PortCounts> FlowOffloader::port_counts() const {
  std::vector<PortCounts> out;
  for (const auto& p : ports_) {
    PortCounts c{.name = p.name, .why_not = why_not_[p.id]};
    if (p.maps != nullptr) {
      c.rx = ebpf::offloaded_rx(*p.maps);
    }
    // Counted where the flows came in: every classifier's share of what left by this port.
    for (const auto& q : ports_) {
      if (q.maps != nullptr) {
        const ebpf::Count t = ebpf::offloaded_tx(*q.maps, p.id);
        c.tx.packets += t.packets;
        c.tx.bytes += t.bytes;
      }
    }
    out.push_back(std::move(c));
  }
  return out;
}

api::FlowOffloadStatus FlowOffloader::show() const {
  api::FlowOffloadStatus out{.enabled = true,
                             .generation = generation_,
                             .installed = stats_.installed,
                             .stale = stats_.stale,
                             .declined = stats_.declined,
                             .failed = stats_.failed,
                             .held = stats_.held,
                             .retired = stats_.retired,
                             .damped_neighbours = damped_neighbours()};
  for (const auto& c : port_counts()) {
    out.ports.push_back({.port = c.name,
                         .offloadable = c.why_not.empty(),
                         .reason = c.why_not,
                         .rx = c.rx,
                         .tx = c.tx});
  }
  return out;
}

}  // namespace vigil::dp
