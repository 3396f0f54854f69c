// What vigil-l7 runs on, built once per commit (config_adapter.h) and shared read-only by the
// workers: the limits and timeouts, the listeners, the routes compiled, the upstream pools with
// their targets' socket addresses. A worker holds it by shared pointer for as long as a
// request started on it is in flight, so a commit never changes a request half-way.
#pragma once

#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/net/host_port.h"
#include "l7proxy/core/access_log.h"
#include "l7proxy/http1/message_head.h"
#include "l7proxy/limits/rate_limiter.h"
#include "l7proxy/routing/route_table.h"
#include "l7proxy/tls/tls_spec.h"
#include "l7proxy/upstream/circuit_breaker.h"
#include "l7proxy/upstream/dns_lookup.h"
#include "l7proxy/upstream/health_state.h"
#include "l7proxy/upstream/outlier_detector.h"

namespace vigil::l7 {

using Millis = std::chrono::milliseconds;

class ClientTls;

struct ProxySettings {
  uint32_t workers = 1;
  Millis header_timeout{10000};
  Millis idle_timeout{60000};
  uint64_t max_body_bytes = uint64_t{1} << 30;
  http1::Limits limits;
  uint32_t max_connections = 10000;  // per worker
  // Targets given by DNS name: how they are looked up, and how often.
  DnsSettings dns;
  Millis dns_min_ttl{5000};
  Millis dns_max_ttl{300000};
};

struct ListenerSpec {
  std::string name;
  net::HostPort address;
  bool trust_forwarded = false;
  bool http2 = true;                   // besides HTTP/1.1: by ALPN (tls.http2) or h2c
  std::optional<ListenerTlsSpec> tls;  // loaded when the config is prepared
};

struct TargetSpec {
  std::string key;   // "10.0.0.5:8080": its identity, in logs and metrics
  std::string name;  // the DNS name it is an address of; "": given by address
  sockaddr_storage address{};
  socklen_t address_length = 0;
  uint32_t weight = 1;
};

// A target given by DNS name: each address it has is a TargetSpec (resolved_targets.h).
struct NamedTarget {
  std::string host;
  uint16_t port = 0;
  uint32_t weight = 1;
};

enum class HashOn { kSourceAddress, kHeader, kCookie };

// An upstream's active checks (health_checker.h runs them).
struct HealthCheckSettings {
  bool http = true;        // false: a TCP connect is the check
  std::string path = "/";  // http: what is asked for
  std::string host;        // http: the Host field; "": the target's address
  std::vector<std::pair<int, int>> expected_status = {{200, 399}};  // inclusive ranges
  Millis interval{2000};
  Millis timeout{1000};
  HealthThresholds thresholds;

  bool passes(int status) const {
    for (const auto& [low, high] : expected_status) {
      if (status >= low && status <= high) {
        return true;
      }
    }
    return false;
  }
  bool operator==(const HealthCheckSettings&) const = default;
};

struct UpstreamSpec {
  std::string name;
  std::string policy = "round-robin";
  HashOn hash_on = HashOn::kSourceAddress;
  std::string hash_name;
  std::vector<TargetSpec> targets;  // given by address, then (once resolved) by name
  std::vector<NamedTarget> named;
  Millis connect_timeout{2000};
  Millis response_timeout{30000};
  uint32_t max_idle = 64;
  Millis idle_timeout{60000};
  Millis max_lifetime{300000};
  uint32_t retries = 1;
  // The targets speak HTTP/2 (h2c with prior knowledge; h2 by ALPN through TLS): each worker
  // keeps one connection per target and runs many requests on it at once.
  bool http2 = false;
  OutlierSettings outlier;
  std::optional<BreakerSettings> breaker;           // none: never refused for failing
  std::optional<HealthCheckSettings> health_check;  // none: every target counts as healthy
  std::optional<UpstreamTlsSpec> tls;               // none: HTTP in the clear
  std::shared_ptr<const ClientTls> client_tls;      // `tls` loaded, when the config is prepared
};

// What goes with a route besides its match (by RouteSpec::id).
struct RouteAction {
  size_t upstream = 0;  // index into ProxyConfig::upstreams
  // Name, value, name, value...: shared by copies of the config, so `add`'s views stay good.
  std::shared_ptr<const std::vector<std::string>> add_storage;
  std::vector<http1::Header> add;  // views into add_storage
  std::vector<std::string> remove;
  std::optional<RateSettings> rate_limit;
  std::string rate_key_header;  // "": the client's address
};

struct AccessLogSpec {
  std::string path;
  std::vector<AccessField> fields;  // in order
};

struct ProxyConfig {
  ProxySettings settings;
  std::optional<AccessLogSpec> access_log;
  std::vector<ListenerSpec> listeners;
  RouteTable routes;
  std::vector<RouteAction> actions;  // by route id
  std::vector<UpstreamSpec> upstreams;
  // Client-certificate subject fields (every TLS listener's, and the default's): stripped
  // from every client's request on every listener, so no client can forge one.
  std::vector<std::string> reserved_fields = {"X-Client-Subject"};
};

}  // namespace vigil::l7
