#include "dataplane/xdp_ports.h"

#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <set>

#include "common/logging.h"
#include "dataplane/classifier_config_builder.h"
#include "ebpf/loader/bpf_maps.h"

namespace vigil::dp {
namespace {

// The device's MAC as the kernel has it now (SIOCGIFHWADDR), or nullopt.
std::optional<std::array<uint8_t, 6>> kernel_mac(const std::string& device) {
  const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return std::nullopt;
  }
  ifreq request{};
  std::strncpy(request.ifr_name, device.c_str(), IFNAMSIZ - 1);
  const int done = ioctl(fd, SIOCGIFHWADDR, &request);
  close(fd);
  if (done != 0) {
    return std::nullopt;
  }
  std::array<uint8_t, 6> mac{};
  std::memcpy(mac.data(), request.ifr_hwaddr.sa_data, 6);
  return mac;
}

}  // namespace

Status XdpPorts::check(const config::Config& config) const {
  std::string problems;
  for (const auto& i : config.interfaces) {
    if (i.xdp && i.enabled && if_nametoindex(i.device.c_str()) == 0) {
      problems += "interfaces." + i.name + ".device: no kernel interface \"" + i.device +
                  "\" to attach the XDP classifier to\n";
    }
  }
  for (const auto& e : ebpf::validate(classifier_config_from(config))) {
    problems += e + "\n";
  }
  if (!problems.empty()) {
    problems.pop_back();
    return fail(problems);
  }
  return Ok{};
}

void XdpPorts::load_transmit_error_counter() {
  if (transmit_errors_ || !transmit_errors_unavailable_.empty()) {
    return;
  }
  auto loaded = ebpf::TransmitErrorCounter::load();
  if (!loaded) {
    transmit_errors_unavailable_ = loaded.error();
    log::warn("frames the XDP classifier hands on but the kernel fails to send are not counted",
              {{"error", loaded.error()}});
    return;
  }
  transmit_errors_ = std::move(*loaded);
}

XdpPorts::TransmitErrorCounts XdpPorts::transmit_errors_of(const std::string& device) const {
  if (!transmit_errors_) {
    return {};
  }
  const auto e = transmit_errors_->of(if_nametoindex(device.c_str()));
  return {
      {"tx_failed", e.tx_failed}, {"redirect_failed", e.redirect_failed}, {"aborted", e.aborted}};
}

Status XdpPorts::apply(const config::Config& config) {
  const auto wanted = xdp_devices(config);
  if (!wanted.empty()) {
    load_transmit_error_counter();
  }
  const auto classifier_config = classifier_config_from(config);
  Status result = Ok{};
  for (const auto& device : wanted) {
    // Read at every apply: a MAC changed since is taken up by the next commit.
    const auto port_config =
        classifier_config_for(classifier_config, config, device, kernel_mac(device));
    auto& port = ports_[device];
    if (!port) {
      auto loaded = ebpf::Classifier::load({.pin_dir = pin_root_ + "/" + device});
      if (!loaded) {
        ports_.erase(device);
        result = fail(device + ": " + loaded.error());
        log::error("cannot load the XDP classifier",
                   {{"device", device}, {"error", result.error()}});
        continue;
      }
      // Config first, then attach: a fresh program never sees traffic unconfigured.
      port = std::move(*loaded);
      if (auto s = port->apply(port_config); !s) {
        result = fail(device + ": " + s.error());
      }
      if (auto s = port->attach(device); !s) {
        result = fail(device + ": " + s.error());
        log::error("cannot attach the XDP classifier", {{"device", device}, {"error", s.error()}});
        if (!port->adopted()) {
          (void)port->detach();  // unpins the maps it made: nothing left half set up
        }
        ports_.erase(device);
      }
      continue;
    }
    if (auto s = port->apply(port_config); !s) {
      result = fail(device + ": " + s.error());
      log::error("cannot apply the classifier config", {{"device", device}, {"error", s.error()}});
    }
  }
  const std::set<std::string> keep(wanted.begin(), wanted.end());
  for (auto it = ports_.begin(); it != ports_.end();) {
    if (keep.contains(it->first)) {
      ++it;
      continue;
    }
    log::info("detaching the XDP classifier", {{"device", it->first}});
    (void)it->second->detach();
    it = ports_.erase(it);
  }
  return result;
}

std::vector<api::ClassifierPortStatus> XdpPorts::show() {
  std::vector<api::ClassifierPortStatus> out;
  for (auto& [device, port] : ports_) {
    const auto c = port->counters();
    api::ClassifierPortStatus s{
        .device = device,
        .mode = port->mode() == ebpf::XdpMode::kNative ? "native" : "generic",
        .adopted = port->adopted(),
        .packets = c.packets()};
    for (const auto& v : c.verdicts) {
      s.verdicts[v.name] = v.count;
    }
    for (const auto& m : c.malformed) {
      if (m.count.packets != 0) {
        s.malformed[m.name] = m.count;
      }
    }
    for (const auto& e : c.events) {
      s.events[e.name] = e.count.packets;
    }
    for (const auto& [kind, frames] : transmit_errors_of(device)) {
      s.transmit_errors[kind] = frames;
    }
    s.transmit_errors_unavailable = transmit_errors_unavailable_;
    for (const auto& r : c.acl_rules) {
      s.acl.push_back({.rule = r.name, .matched = r.count});
    }
    for (const auto& p : c.policers) {
      s.policers.push_back({.name = p.name, .passed = p.passed, .dropped = p.dropped});
    }
    for (const auto& v : c.vips) {
      s.vips.push_back({.vip = v.name, .count = v.count});
    }
    for (const auto& b : c.backends) {
      s.backends.push_back({.vip = b.vip, .backend = b.address, .count = b.count});
    }
    out.push_back(std::move(s));
  }
  return out;
}

void XdpPorts::update_metrics(MetricsRegistry& metrics) {
  auto& packets = metrics.counter("vigil_xdp_packets_total",
                                  "Packets the XDP classifier handled, by port and verdict");
  auto& bytes =
      metrics.counter("vigil_xdp_bytes_total", "Bytes the XDP classifier handled, by verdict");
  auto& malformed = metrics.counter("vigil_xdp_malformed_packets_total",
                                    "Packets dropped as malformed, by reason");
  auto& not_sent = metrics.counter(
      "vigil_xdp_transmit_errors_total",
      "Frames a tx/redirect verdict handed on that the kernel did not send, by kind");
  auto& acl = metrics.counter("vigil_xdp_acl_matches_total", "Packets matched, by ACL rule");
  auto& policed = metrics.counter("vigil_xdp_policer_drops_total",
                                  "Packets dropped by a rate or SYN limit, by limit");
  auto& vip = metrics.counter("vigil_xdp_vip_packets_total", "Packets to a VIP, by VIP");
  auto& backend =
      metrics.counter("vigil_xdp_backend_packets_total", "Packets sent to a backend, by VIP");
  // The maps hold totals; exported_ turns them into counter increments.
  for (auto& [device, port] : ports_) {
    const auto c = port->counters();
    for (const auto& v : c.verdicts) {
      exported_.set(packets, {{"port", device}, {"verdict", v.name}}, v.count.packets);
      exported_.set(bytes, {{"port", device}, {"verdict", v.name}}, v.count.bytes);
    }
    for (const auto& m : c.malformed) {
      exported_.set(malformed, {{"port", device}, {"reason", m.name}}, m.count.packets);
    }
    for (const auto& [kind, frames] : transmit_errors_of(device)) {
      exported_.set(not_sent, {{"port", device}, {"kind", kind}}, frames);
    }
    for (const auto& r : c.acl_rules) {
      exported_.set(acl, {{"port", device}, {"rule", r.name}}, r.count.packets);
    }
    for (const auto& p : c.policers) {
      exported_.set(policed, {{"port", device}, {"limit", p.name}}, p.dropped.packets);
    }
    for (const auto& v : c.vips) {
      exported_.set(vip, {{"port", device}, {"vip", v.name}}, v.count.packets);
    }
    for (const auto& b : c.backends) {
      exported_.set(backend, {{"port", device}, {"vip", b.vip}, {"backend", b.address}},
                    b.count.packets);
    }
  }
}

ebpf::MapAccess* XdpPorts::maps(const std::string& device) {
  auto it = ports_.find(device);
  return it == ports_.end() ? nullptr : &it->second->maps();
}

int XdpPorts::xsks_map_fd(const std::string& device) {
  auto it = ports_.find(device);
  if (it == ports_.end()) {
    return -1;
  }
  return static_cast<ebpf::BpfMaps&>(it->second->maps()).fd(ebpf::MapId::kXsks);
}

}  // namespace vigil::dp
