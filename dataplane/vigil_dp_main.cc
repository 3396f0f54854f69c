// vigil-dp: the fast path. It runs the XDP classifier on the ports marked xdp: true (filter,
// l4) and, with dataplane.forwarding, the DPDK fast path between AF_XDP ports (fed by the
// classifier) or DPDK devices (with a TAP exception path each). Its sections of each commit
// are parsed once at prepare and applied by dataplane/config_applier.h; what only a new
// process can apply, it applies by restarting itself on it (dataplane/self_restart.h). It
// says, loudly, what is not built yet: manual path preference, enrolment, QoS.
#include <chrono>
#include <cstdlib>

#include "common/daemon.h"
#include "common/event_loop.h"
#include "config/document.h"
#include "dataplane/config_applier.h"
#include "dataplane/mesh/mesh_target.h"
#include "dataplane/self_restart.h"
#include "dataplane/xdp_ports.h"
#if VIGIL_FAST_PATH
#include "dataplane/fast_path_control.h"
#endif

namespace {

#if !VIGIL_FAST_PATH
// What a build without DPDK says to a config that asks it to forward.
class NoFastPath final : public vigil::dp::ConfigTarget {
 public:
  std::string name() const override { return "fast path"; }
  vigil::Status check(const vigil::config::Config& config) const override {
    if (config.dataplane.forwarding) {
      return vigil::fail("dataplane.forwarding: this vigil-dp was built without DPDK");
    }
    return vigil::Ok{};
  }
  vigil::Status apply(const vigil::config::Config& config) override { return check(config); }
};
#endif

// Restarting on a commit: the file is written, the activation answered, then the process
// replaced (after a moment, so vigild reads the answer before the socket closes). A change
// committed in that moment rewrites the file; the timer is armed once.
vigil::Status restart_on(vigil::EventLoop* loop, const std::vector<std::string>& argv,
                         const std::string& file, const nlohmann::json& sections, bool& armed) {
  if (loop == nullptr) {
    return vigil::fail("vigil-dp is not serving yet");
  }
  if (auto st = vigil::dp::write_restart_config(file, sections); !st) {
    return st;
  }
  vigil::log::info(
      "restarting vigil-dp on the committed config: its dataplane section or its "
      "ports' devices changed, and DPDK starts once per process",
      {{"restart_config", file}});
  if (armed) {
    return vigil::Ok{};
  }
  armed = true;
  auto timer =
      loop->add_timer(std::chrono::milliseconds(100), [next = vigil::dp::restart_argv(argv, file)] {
        const std::string error = vigil::dp::exec_self(next);
        vigil::log::error("cannot restart vigil-dp", {{"error", error}});
        std::_Exit(vigil::kExitUnavailable);
      });
  if (!timer) {
    return vigil::fail(timer.error());
  }
  return vigil::Ok{};
}

// What a process restarted for a commit applies at start: the file its predecessor wrote.
vigil::Status apply_restart_config(vigil::dp::ConfigApplier& applier, const std::string& file) {
  auto sections = vigil::dp::read_restart_config(file);
  if (!sections) {
    return vigil::fail(sections.error());
  }
  auto change = applier.prepare(*sections);
  if (!change) {
    return vigil::fail(change.error());
  }
  if (change->restarts) {
    return vigil::fail("it would restart again");  // a new process never needs one
  }
  return (*change)();
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> self_argv(argv, argv + argc);
  std::string restart_config;  // --restart-config: the sections this process starts on
  vigil::EventLoop* serving = nullptr;
  bool restart_armed = false;
  std::string pin_root = "/sys/fs/bpf/vigil";
  vigil::DaemonSpec spec{
      .name = "vigil-dp",
      .summary = "Vigil fast path: ports, XDP classifier, DPDK lcores, FIB, WireGuard.",
      .default_socket = "/run/vigil/dp.sock",
      .not_implemented = "QoS, WAN optimisation",
      .validate_config = vigil::config::validate_document,
      .applies_sections = {"interfaces", "system", "monitoring", "filter", "l4", "routing",
                           "dataplane", "mesh", "policies", "l7"},
  };
  spec.extra_options.push_back(
      {"pin-root", "bpffs directory for the classifier's pins (default /sys/fs/bpf/vigil)",
       [&pin_root](const std::string& v) -> vigil::Status {
         pin_root = v;
         return vigil::Ok{};
       }});
  spec.extra_options.push_back(
      {"restart-config",
       "apply this file's config sections at start: what vigil-dp passes itself when it "
       "restarts for a commit it cannot apply in place",
       [&restart_config](const std::string& v) -> vigil::Status {
         restart_config = v;
         return vigil::Ok{};
       }});
  std::unique_ptr<vigil::dp::XdpPorts> ports;
#if VIGIL_FAST_PATH
  std::unique_ptr<vigil::dp::FastPathControl> fast_path;
#else
  auto fast_path = std::make_unique<NoFastPath>();
#endif
  std::unique_ptr<vigil::dp::ConfigApplier> applier;
  vigil::dp::MeshTarget mesh;
  return vigil::daemon_main(spec, argc, argv, [&](vigil::Daemon& d) {
    ports = std::make_unique<vigil::dp::XdpPorts>(pin_root);
#if VIGIL_FAST_PATH
    fast_path = std::make_unique<vigil::dp::FastPathControl>(
        [&](const std::string& device) { return ports->xsks_map_fd(device); },
        [&](const std::string& device) { return ports->maps(device); });
#endif
    // The classifier first: AF_XDP ports bind to the sockets map it creates.
    applier = std::make_unique<vigil::dp::ConfigApplier>(
        std::vector<vigil::dp::ConfigTarget*>{ports.get(), fast_path.get(), &mesh});
    d.on_prepare([&](const nlohmann::json& delta) { return applier->prepare(delta); });
    applier->on_restart([&](const nlohmann::json& sections) {
      return restart_on(serving, self_argv, d.args().socket_path + ".restart.json", sections,
                        restart_armed);
    });
    d.dispatcher().add(
        "classifier.show",
        [&](const nlohmann::json&, const vigil::rpc::CallContext&) -> vigil::rpc::CallResult {
          return nlohmann::json(ports->show());
        });
#if VIGIL_FAST_PATH
    d.dispatcher().add(
        "dataplane.show",
        [&](const nlohmann::json&, const vigil::rpc::CallContext&) -> vigil::rpc::CallResult {
          return nlohmann::json(fast_path->show());
        });
    d.dispatcher().add(
        "mesh.show",
        [&](const nlohmann::json&, const vigil::rpc::CallContext&) -> vigil::rpc::CallResult {
          return nlohmann::json(fast_path->show_tunnels());
        });
    // Changes what the fast path does: vigild's alone (it checks the operator's role and
    // audits), never an operator's straight to this socket.
    d.dispatcher().add(
        "mesh.prefer",
        [&](const nlohmann::json& p, const vigil::rpc::CallContext&) -> vigil::rpc::CallResult {
          if (vigil::Status ok = fast_path->prefer_path(p); !ok) {
            return vigil::rpc::invalid_params(ok.error());
          }
          return nlohmann::json::object();
        },
        vigil::rpc::Access::kOwner);
#endif
#if VIGIL_FAST_PATH
    d.on_stop([&] { fast_path->stop_serving(); });
#endif
    d.on_start([&](vigil::EventLoop& loop) -> vigil::Status {
      serving = &loop;
      if (!restart_config.empty()) {
        // Started again by a commit: its sections now, without waiting for vigild (which saw
        // the activation answered and has nothing more to push).
        // One that does not apply leaves vigil-dp serving as after a failed activation (the
        // classifier attached, the fast path not started), not exiting to be started again on
        // the same config for ever.
        if (vigil::Status applied = apply_restart_config(*applier, restart_config); !applied) {
          vigil::log::error("restarted, but the committed config it restarted for does not apply",
                            {{"restart_config", restart_config}, {"error", applied.error()}});
        } else {
          vigil::log::info("restarted on the committed config",
                           {{"restart_config", restart_config}});
        }
      }
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
      fast_path->serve_on(loop);
      auto links = loop.add_timer(std::chrono::milliseconds(20), [&] { fast_path->tick(); });
      if (!links) {
        return vigil::fail(links.error());
      }
#endif
      return vigil::Ok{};
    });
  });
}
