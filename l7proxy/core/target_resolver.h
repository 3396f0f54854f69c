// The DNS names upstream targets are given by, each looked up again when its answer's TTL
// runs out (held within [min_ttl, max_ttl]), on a thread of its own, so no lookup holds up a
// worker or the control socket. A lookup that fails keeps the name's last addresses (a DNS
// outage must not empty a pool) and is tried again after min_ttl; a name never resolved has
// none. Each change of any name's addresses bumps the version, which the proxy watches to
// hand its workers the targets anew (Proxy::refresh_targets).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/expected.h"
#include "common/net/ip.h"
#include "l7proxy/upstream/dns_lookup.h"

namespace vigil::l7 {

class TargetResolver {
 public:
  using Clock = std::chrono::steady_clock;
  using Lookup = std::function<Expected<DnsAnswer>(const std::string& name, const DnsSettings&)>;

  struct Settings {
    DnsSettings dns;
    Clock::duration min_ttl = std::chrono::seconds(5);
    Clock::duration max_ttl = std::chrono::seconds(300);
    bool operator==(const Settings& o) const {
      return dns.nameservers == o.dns.nameservers && dns.timeout == o.dns.timeout &&
             dns.tries == o.dns.tries && min_ttl == o.min_ttl && max_ttl == o.max_ttl;
    }
  };

  struct NameState {
    std::vector<net::IpAddress> addresses;
    std::string error;   // why the last lookup failed; "" when it answered
    uint32_t ttl_s = 0;  // of the last answer
    bool looked_up = false;
    std::chrono::system_clock::time_point last_lookup{};
    Clock::time_point due{};
    Settings settings;   // its own: a commit being prepared must not change the running's
    uint64_t asked = 0;  // bumped when its settings change: a lookup under way is redone
  };
  struct Snapshot {
    uint64_t version = 0;
    std::map<std::string, NameState> names;
  };

  // `lookup`: dns_lookup unless a test gives another.
  explicit TargetResolver(Lookup lookup = dns_lookup);
  ~TargetResolver();
  TargetResolver(const TargetResolver&) = delete;
  TargetResolver& operator=(const TargetResolver&) = delete;

  // Control thread, at a commit's prepare. Adds those of `names` it does not have, under
  // `settings`, and looks them up at once, waiting for them up to `wait` (a commit then starts
  // with their addresses when DNS answers quickly, and is not held up long when it does not).
  // Names it has are left as they are: the commit may still fail.
  void add(const std::set<std::string>& names, const Settings& settings,
           Clock::duration wait = std::chrono::seconds(2));
  // A commit has taken effect: every name but `names` is forgotten, and those kept are
  // looked up under `settings` from now on (at once, if these are new to them).
  void use(const std::set<std::string>& names, const Settings& settings);
  Snapshot snapshot() const;
  uint64_t version() const;
  void stop();

 private:
  void run();
  // The name most overdue, or "" with the time to wait for the next (mutex held).
  std::string next_due(Clock::time_point now, Clock::time_point& wake) const;

  Lookup lookup_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;  // names added, a lookup done, or stopping
  std::map<std::string, NameState> names_;
  uint64_t version_ = 0;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace vigil::l7
