// vigil-l7: the HTTP reverse proxy worker pool. It applies the l7 section of vigild's
// commits: prepare parses it, compiles the routes and binds new listeners (so a port in use
// fails the commit with nothing changed); activate hands the config to every worker. It
// proxies HTTP/1.1 in the clear and over TLS, to targets in the clear or over TLS, checks its
// targets and follows those given by DNS name, HTTP/2 on both sides. Started with --user, it
// gives up root once its control socket is bound.
#include <sys/capability.h>
#include <unistd.h>

#include <memory>
#include <thread>

#include "common/daemon.h"
#include "common/event_loop.h"
#include "config/document.h"
#include "l7proxy/config_adapter.h"
#include "l7proxy/core/proxy.h"
#include "l7proxy/proxy_metrics.h"

namespace {

uint32_t online_cores() {
  const long n = ::sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<uint32_t>(n) : 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::unique_ptr<vigil::l7::Proxy> proxy;
  vigil::l7::MetricsExporters exported;
  uint32_t default_workers = 1;
  // Prepares a config: built, checked, its new listeners bound.
  std::function<vigil::Expected<vigil::PreparedChange>(const vigil::config::Config&)> apply;
  return vigil::daemon_main(
      {
          .name = "vigil-l7",
          .summary =
              "Vigil L7 reverse proxy: listeners, HTTP/1.1 and HTTP/2, routes, upstream pools.",
          .default_socket = "/run/vigil/l7.sock",
          .not_implemented = "WebSocket over HTTP/2 (RFC 8441)",
          .validate_config = vigil::config::validate_document,
          .applies_sections = {"l7"},
          // Listeners below port 1024 that a later commit adds: the one thing of root's it
          // keeps. Certificates, keys and the access log must be its user's to read/write.
          .runs_as_user = true,
          .keeps_capabilities = {CAP_NET_BIND_SERVICE},
      },
      argc, argv, [&](vigil::Daemon& d) {
        apply = [&](const vigil::config::Config& config) -> vigil::Expected<vigil::PreparedChange> {
          if (!proxy) {
            return vigil::fail("vigil-l7 is starting: commit again in a moment");
          }
          auto built = vigil::l7::build_proxy_config(config, default_workers);
          if (!built) {
            return vigil::fail(built.error());
          }
          auto prepared = proxy->prepare(std::move(*built));
          if (!prepared) {
            return vigil::fail(prepared.error());
          }
          auto shared = std::make_shared<vigil::l7::Proxy::Prepared>(std::move(*prepared));
          return vigil::PreparedChange{.activate = [&proxy, shared]() -> vigil::Status {
            return proxy->activate(std::move(*shared));
          }};
        };
        d.on_prepare([&, sections = std::make_shared<nlohmann::json>(nlohmann::json::object())](
                         const nlohmann::json& delta) -> vigil::Expected<vigil::PreparedChange> {
          nlohmann::json next = *sections;
          for (const auto& [section, content] : delta.items()) {
            next[section] = content;
          }
          auto config = vigil::config::parse_sections(next);
          if (!config) {
            return vigil::fail(config.error());
          }
          auto change = apply(*config);
          if (!change) {
            return change;
          }
          return vigil::PreparedChange{.activate = [sections, next, inner = *change] {
            auto st = inner();
            if (st) {
              *sections = next;
            }
            return st;
          }};
        });
        d.on_start([&](vigil::EventLoop& loop) -> vigil::Status {
          // The workers at start: from the config file, or the cores the fast path leaves (a
          // commit changes their number). The file's l7 section runs until vigild pushes its
          // running config.
          auto parsed = vigil::config::parse_document(d.config());
          default_workers = vigil::l7::default_worker_count(parsed.config, online_cores());
          proxy = std::make_unique<vigil::l7::Proxy>(
              parsed.config.l7.workers != 0 ? parsed.config.l7.workers : default_workers);
          auto change = apply(parsed.config);
          if (!change) {
            return vigil::fail(change.error());
          }
          if (auto st = (*change)(); !st) {
            return st;
          }
          auto timer = loop.add_timer(std::chrono::seconds(1), [&] {
            vigil::l7::export_metrics(proxy->stats(), d.metrics(), exported);
          });
          if (!timer) {
            return vigil::fail(timer.error());
          }
          // Target names DNS answered anew reach the workers within this.
          // Likewise workers a commit retired, once their last connection has closed.
          auto refresh = loop.add_timer(std::chrono::milliseconds(200), [&] {
            proxy->refresh_targets();
            proxy->reap_retired();
          });
          return refresh ? vigil::Status(vigil::Ok{}) : vigil::fail(refresh.error());
        });
        d.on_stop([&] {
          if (proxy) {
            proxy->stop();
          }
        });
        // SIGHUP: the access log opened again (logrotate) and the certificates read again
        // (a renewal); the config itself is vigild's alone, never read again here.
        d.on_hangup([&] {
          const std::string config_note =
              "SIGHUP: the config is not read again (it changes only by commit: vigil load, "
              "vigil commit)";
          if (!proxy) {
            vigil::log::info(config_note + "; no l7 section, nothing else to reload",
                             {{"config", d.args().config_path}});
            return;
          }
          if (auto st = proxy->reload(); !st) {
            vigil::log::error(config_note + "; not everything else reloaded",
                              {{"error", st.error()}});
            return;
          }
          vigil::log::info(config_note + "; certificates read again, the access log reopened",
                           {{"config", d.args().config_path}});
        });
        // Read-only: what any local user allowed on the socket may see.
        const auto method = [&](auto body) {
          return [&, body](const nlohmann::json&,
                           const vigil::rpc::CallContext&) -> vigil::rpc::CallResult {
            if (!proxy) {
              return vigil::rpc::Error{.code = vigil::rpc::kServerBusy,
                                       .message = "vigil-l7 is starting"};
            }
            return body();
          };
        };
        d.dispatcher().add("l7.stats", method([&] { return proxy->stats(); }));
        d.dispatcher().add("l7.show", method([&] { return nlohmann::json(proxy->show()); }));
      });
}
