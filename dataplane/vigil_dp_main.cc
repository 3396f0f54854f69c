// vigil-dp: the fast path. It runs the XDP classifier on the ports marked xdp: true (filter,
// l4) and, with dataplane.forwarding, the DPDK fast path (dpdk mode: ports by devargs). It
// says, loudly, what is not built yet: AF_XDP ports, the exception path, WireGuard.
#include <chrono>

#include "common/daemon.h"
#include "common/event_loop.h"
#include "config/document.h"
#include "dataplane/xdp_ports.h"
#if VIGIL_FAST_PATH
#include "dataplane/fast_path_control.h"
#endif

namespace {

// The sections vigil-dp applies ({section: content}) as a config the parsers understand:
// JSON is YAML, so the same schema code that validated them in vigild reads them here.
vigil::Expected<vigil::config::Config> config_from_delta(const nlohmann::json& delta) {
  nlohmann::json doc = nlohmann::json::object();
  for (const auto& [section, content] : delta.items()) {
    if (!content.is_null()) {
      doc[section] = content;
    }
  }
  auto parsed = vigil::config::parse_text(doc.dump(), "the committed config");
  if (!parsed.errors.empty()) {
    return vigil::fail(parsed.errors.to_string());
  }
  return std::move(parsed.config);
}

}  // namespace

int main(int argc, char** argv) {
  std::string pin_root = "/sys/fs/bpf/vigil";
  vigil::DaemonSpec spec{
      .name = "vigil-dp",
      .summary = "Vigil fast path: ports, XDP classifier, DPDK lcores, FIB, WireGuard.",
      .default_socket = "/run/vigil/dp.sock",
      .not_implemented = "WireGuard, path probes and failover by probe in the fast path",
      .applies_sections = {"interfaces", "system", "monitoring", "filter", "l4", "routing",
                           "dataplane"},
  };
  spec.extra_options.push_back(
      {"pin-root", "bpffs directory for the classifier's pins (default /sys/fs/bpf/vigil)",
       [&pin_root](const std::string& v) -> vigil::Status {
         pin_root = v;
         return vigil::Ok{};
       }});
  std::unique_ptr<vigil::dataplane::XdpPorts> ports;
#if VIGIL_FAST_PATH
  std::unique_ptr<vigil::dp::FastPathControl> fast_path;
#endif
  // A commit hands over only the sections it changed; the others stay as last applied.
  nlohmann::json applied = nlohmann::json::object();
  auto with_delta = [&applied](const nlohmann::json& delta) {
    nlohmann::json merged = applied;
    for (const auto& [section, content] : delta.items()) {
      merged[section] = content;
    }
    return merged;
  };
  return vigil::daemon_main(spec, argc, argv, [&](vigil::Daemon& d) {
    ports = std::make_unique<vigil::dataplane::XdpPorts>(pin_root);
#if VIGIL_FAST_PATH
    fast_path = std::make_unique<vigil::dp::FastPathControl>(
        [&](const std::string& device) { return ports->xsks_map_fd(device); },
        [&](const std::string& device) { return ports->maps(device); });
#endif
    d.on_prepare([&](const nlohmann::json& delta) -> vigil::Status {
      auto config = config_from_delta(with_delta(delta));
      if (!config) {
        return vigil::fail(config.error());
      }
      if (auto s = ports->check(*config); !s) {
        return s;
      }
#if VIGIL_FAST_PATH
      return fast_path->check(*config);
#else
      if (config->dataplane.forwarding) {
        return vigil::fail("dataplane.forwarding: this vigil-dp was built without DPDK");
      }
      return vigil::Ok{};
#endif
    });
    d.on_activate([&](const nlohmann::json& delta) {
      const auto merged = with_delta(delta);
      auto config = config_from_delta(merged);
      if (!config) {
        vigil::log::error("activate: config no longer parses", {{"error", config.error()}});
        return;
      }
      applied = merged;
      if (auto s = ports->apply(*config); !s) {
        vigil::log::error("activate: XDP classifier", {{"error", s.error()}});
      }
#if VIGIL_FAST_PATH
      if (auto s = fast_path->apply(*config); !s) {
        vigil::log::error("activate: fast path", {{"error", s.error()}});
      }
#endif
    });
    d.dispatcher().add(
        "classifier.show",
        [&](const nlohmann::json&, const vigil::rpc::CallContext&) -> vigil::rpc::CallResult {
          return ports->show();
        });
#if VIGIL_FAST_PATH
    d.dispatcher().add(
        "dataplane.show",
        [&](const nlohmann::json&, const vigil::rpc::CallContext&) -> vigil::rpc::CallResult {
          return fast_path->show();
        });
#endif
    d.on_start([&](vigil::EventLoop& loop) -> vigil::Status {
      auto timer = loop.add_timer(std::chrono::seconds(1), [&] {
        ports->update_metrics(d.metrics());
#if VIGIL_FAST_PATH
        fast_path->update_metrics(d.metrics());
#endif
      });
      if (!timer) {
        return vigil::fail(timer.error());
      }
#if VIGIL_FAST_PATH
      auto links = loop.add_timer(std::chrono::milliseconds(20), [&] { fast_path->tick(); });
      if (!links) {
        return vigil::fail(links.error());
      }
#endif
      return vigil::Ok{};
    });
  });
}
