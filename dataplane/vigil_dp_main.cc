// vigil-dp: the fast path. At this commit it runs the XDP classifier on the ports marked
// xdp: true (filter, l4) and says, loudly, that DPDK forwarding does not exist yet.
#include <chrono>

#include "common/daemon.h"
#include "common/event_loop.h"
#include "dataplane/xdp_ports.h"
#include "mgmt/config/document.h"

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
      .not_implemented =
          "packet forwarding (DPDK pipeline, WireGuard): this build runs the XDP "
          "classifier (filter, l4) only",
      .applies_sections = {"interfaces", "system", "monitoring", "filter", "l4"},
  };
  spec.extra_options.push_back(
      {"pin-root", "bpffs directory for the classifier's pins (default /sys/fs/bpf/vigil)",
       [&pin_root](const std::string& v) -> vigil::Status {
         pin_root = v;
         return vigil::Ok{};
       }});
  std::unique_ptr<vigil::dataplane::XdpPorts> ports;
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
    d.on_prepare([&](const nlohmann::json& delta) -> vigil::Status {
      auto config = config_from_delta(with_delta(delta));
      if (!config) {
        return vigil::fail(config.error());
      }
      return ports->check(*config);
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
    });
    d.dispatcher().add(
        "classifier.show",
        [&](const nlohmann::json&, const vigil::rpc::CallContext&) -> vigil::rpc::CallResult {
          return ports->show();
        });
    d.on_start([&](vigil::EventLoop& loop) -> vigil::Status {
      auto timer =
          loop.add_timer(std::chrono::seconds(1), [&] { ports->update_metrics(d.metrics()); });
      if (!timer) {
        return vigil::fail(timer.error());
      }
      return vigil::Ok{};
    });
  });
}
