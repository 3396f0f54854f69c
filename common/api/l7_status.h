// What vigil-l7's `l7.show` answers (vigild's `show.l7` passes it through): its listeners,
// routes and upstream pools with each target's state as its workers see it, and the counters.
// Declared once for the producer and the CLI; every field has a default.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace vigil::api {

// A TLS listener's certificate as loaded (at the last commit or SIGHUP).
struct L7CertificateStatus {
  std::string name;
  std::vector<std::string> dns_names;  // what SNI picks it by
  std::string expires;                 // "2027-03-01T12:00:00Z"
  bool ocsp_stapled = false;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(L7CertificateStatus, name, dns_names, expires,
                                                ocsp_stapled)

struct L7ListenerStatus {
  std::string name;
  std::string address;
  std::string protocol = "http";  // or https; with ", h2c" or ", h2" when it speaks HTTP/2
  bool trust_forwarded = false;
  uint32_t sockets = 0;                     // one per worker (SO_REUSEPORT)
  std::string client_certificate = "none";  // https: none, optional, required
  std::vector<L7CertificateStatus> certificates;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(L7ListenerStatus, name, address, protocol,
                                                trust_forwarded, sockets, client_certificate,
                                                certificates)

struct L7RouteStatus {
  std::string name;
  int32_t priority = 0;
  std::vector<std::string> hosts;  // empty: any
  std::string path_match = "any";  // any, exact, prefix, regex
  std::string path;
  std::vector<std::string> methods;  // empty: any
  std::string upstream;
  uint64_t requests = 0;  // ended on it, all workers, since it was first committed
  uint64_t responses_5xx = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(L7RouteStatus, name, priority, hosts, path_match,
                                                path, methods, upstream, requests, responses_5xx)

// A target as the workers see it together: outlier state is each worker's own.
struct L7TargetStatus {
  std::string address;
  std::string name;  // the DNS name it is an address of; "": given by address
  uint32_t weight = 1;
  uint32_t in_flight = 0;          // requests, all workers
  uint32_t idle_connections = 0;   // kept alive, all workers
  uint32_t http2_connections = 0;  // an HTTP/2 pool's, open, all workers
  uint32_t ejected_by = 0;         // workers that have it ejected now
  int64_t ejected_for_ms = 0;      // the longest of their ejections still to run
  uint64_t ejections = 0;          // all workers, since the target was configured
  // Active checks: "" (none configured), "unchecked", "healthy" or "unhealthy".
  std::string health;
  std::string last_failure;         // why the last failed check failed ("" if none has)
  int32_t last_failure_status = 0;  // its answer's status, for "unexpected status"
  uint64_t checks_passed = 0;
  uint64_t checks_failed = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(L7TargetStatus, address, name, weight, in_flight,
                                                idle_connections, http2_connections, ejected_by,
                                                ejected_for_ms, ejections, health, last_failure,
                                                last_failure_status, checks_passed, checks_failed)

// A target given by DNS name, as last looked up.
struct L7TargetNameStatus {
  std::string name;
  uint16_t port = 0;
  std::vector<std::string> addresses;  // what it resolves to (kept across failed lookups)
  std::string error;                   // why the last lookup failed; "" if it answered
  uint32_t ttl_s = 0;                  // of the last answer
  std::string last_lookup;             // UTC; "" before the first has ended
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(L7TargetNameStatus, name, port, addresses, error,
                                                ttl_s, last_lookup)

struct L7UpstreamStatus {
  std::string name;
  std::string policy;
  std::vector<L7TargetStatus> targets;
  std::vector<L7TargetNameStatus> names;
  // How its targets are spoken to: "" in the clear, else TLS and what is verified.
  std::string tls;
  std::string protocol = "http1";  // or "h2"
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(L7UpstreamStatus, name, policy, targets, names, tls,
                                                protocol)

struct L7Status {
  bool configured = false;  // an l7 section is applied
  uint32_t workers = 0;
  uint32_t workers_retiring = 0;  // a commit lowered l7.workers: serving what they had
  std::vector<L7ListenerStatus> listeners;
  std::vector<L7RouteStatus> routes;
  std::vector<L7UpstreamStatus> upstreams;
  std::map<std::string, uint64_t> counters;  // requests, retries, ... (l7.stats)
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(L7Status, configured, workers, workers_retiring,
                                                listeners, routes, upstreams, counters)

}  // namespace vigil::api
