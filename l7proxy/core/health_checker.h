// vigil-l7's active health checks: one thread with its own event loop checks every target of
// every upstream that has a health_check, once for the whole proxy (not once per worker, so
// a backend sees one check per interval whatever the number of workers). Each result goes
// through the target's rise/fall state (upstream/health_state.h) into its TargetHealth,
// which the workers read at each pick.
//
// A config's targets keep their health across commits while their upstream, address and
// check settings stay the same; a new target, or one whose checks changed, starts unchecked
// and is checked at once.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "l7proxy/core/proxy_config.h"
#include "l7proxy/core/reactor.h"
#include "l7proxy/upstream/target_health.h"

namespace vigil::l7 {

class HealthChecker {
 public:
  HealthChecker();
  ~HealthChecker();
  HealthChecker(const HealthChecker&) = delete;
  HealthChecker& operator=(const HealthChecker&) = delete;

  // The control thread's: the health of `config`'s targets (what its workers pick by), and
  // from now on the checker checks exactly these.
  std::shared_ptr<const HealthBoard> apply(const ProxyConfig& config);
  void stop();

 private:
  class Check;
  struct Wanted {
    std::string upstream;
    TargetSpec target;
    HealthCheckSettings settings;
    std::shared_ptr<const ClientTls> tls;  // null: in the clear
    std::shared_ptr<TargetHealth> health;
  };
  // The checker thread's: checks what is wanted, no more.
  void reconcile(std::vector<Wanted> wanted);

  Reactor reactor_;
  std::thread thread_;
  // The control thread's: what the last apply handed out, by "upstream/target".
  struct Known {
    HealthCheckSettings settings;
    std::optional<UpstreamTlsSpec> tls;
    std::string name;  // the DNS name the target came from: its checks' Host
    std::shared_ptr<TargetHealth> health;
  };
  std::map<std::string, Known> known_;
  // The checker thread's, by the same keys.
  std::map<std::string, std::unique_ptr<Check>> checks_;
};

}  // namespace vigil::l7
