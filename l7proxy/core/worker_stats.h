// A worker's counters: written by its thread alone (a plain load and store, no locked
// instruction on the request path), read by the control thread for metrics and `show`.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string_view>

namespace vigil::l7 {

struct WorkerStats {
  std::atomic<uint64_t> accepted{0};
  std::atomic<uint64_t> refused_connections{0};  // past max_connections
  std::atomic<uint64_t> active_connections{0};
  std::atomic<uint64_t> requests{0};
  std::array<std::atomic<uint64_t>, 6> responses{};  // by class: [1] 1xx ... [5] 5xx
  std::atomic<uint64_t> upstream_connects{0};
  std::atomic<uint64_t> upstream_connect_failures{0};
  std::atomic<uint64_t> upstream_reused{0};
  std::atomic<uint64_t> upstream_tls_failures{
      0};  // handshakes with targets (also connect failures)
  std::atomic<uint64_t> retries{0};
  std::atomic<uint64_t> ejections{0};
  std::atomic<uint64_t> timeouts{0};
  std::atomic<uint64_t> bad_requests{0};        // refused as malformed (4xx before routing)
  std::atomic<uint64_t> access_log_dropped{0};  // lines the disk did not take in time
  std::atomic<uint64_t> tls_handshakes{0};      // completed, full or resumed
  std::atomic<uint64_t> tls_resumed{0};
  std::atomic<uint64_t> tls_handshake_failures{0};
  std::atomic<uint64_t> breaker_refusals{0};   // 503s of an open circuit breaker
  std::atomic<uint64_t> no_healthy_target{0};  // 503s of a pool whose checks all fail
  std::atomic<uint64_t> http2_connections{0};  // that spoke HTTP/2 (h2 or h2c)
  std::atomic<uint64_t> http2_errors{0};       // ended by a protocol error, flood or limit
};

// Each counter once: its key in `l7.stats` and `show l7`, and its Prometheus name and help.
struct CounterInfo {
  std::string_view key;
  std::atomic<uint64_t> WorkerStats::*member;
  std::string_view metric;  // a counter ("_total"), or a gauge
  std::string_view help;
};

inline constexpr CounterInfo kWorkerCounters[] = {
    {"connections_accepted", &WorkerStats::accepted, "vigil_l7_connections_accepted_total",
     "Client connections taken"},
    {"connections_refused", &WorkerStats::refused_connections, "vigil_l7_connections_refused_total",
     "Client connections closed at once: a worker at l7.max_connections"},
    {"connections_active", &WorkerStats::active_connections, "vigil_l7_connections_active",
     "Client connections open"},
    {"requests", &WorkerStats::requests, "vigil_l7_requests_total", "Requests read whole"},
    {"bad_requests", &WorkerStats::bad_requests, "vigil_l7_bad_requests_total",
     "Requests refused as malformed or past a limit (4xx, connection closed)"},
    {"upstream_connects", &WorkerStats::upstream_connects, "vigil_l7_upstream_connects_total",
     "Connections opened to targets"},
    {"upstream_connect_failures", &WorkerStats::upstream_connect_failures,
     "vigil_l7_upstream_connect_failures_total", "Connects to targets that failed or timed out"},
    {"upstream_reused", &WorkerStats::upstream_reused, "vigil_l7_upstream_reused_total",
     "Requests sent on a kept-alive upstream connection"},
    {"upstream_tls_failures", &WorkerStats::upstream_tls_failures,
     "vigil_l7_upstream_tls_handshake_failures_total",
     "TLS handshakes with targets that failed (a certificate refused, say): counted as connect "
     "failures too"},
    {"retries", &WorkerStats::retries, "vigil_l7_retries_total",
     "Requests tried again (on another target, or anew)"},
    {"ejections", &WorkerStats::ejections, "vigil_l7_ejections_total",
     "Targets ejected by outlier detection"},
    {"timeouts", &WorkerStats::timeouts, "vigil_l7_timeouts_total",
     "Requests or connections ended by a timeout (handshake, head, connect, response, idle)"},
    {"access_log_dropped", &WorkerStats::access_log_dropped, "vigil_l7_access_log_dropped_total",
     "Access log lines dropped: the file did not take them in time"},
    {"tls_handshakes", &WorkerStats::tls_handshakes, "vigil_l7_tls_handshakes_total",
     "TLS handshakes completed with clients, resumed ones included"},
    {"tls_resumed", &WorkerStats::tls_resumed, "vigil_l7_tls_resumed_total",
     "TLS handshakes that resumed a session (by ticket)"},
    {"tls_handshake_failures", &WorkerStats::tls_handshake_failures,
     "vigil_l7_tls_handshake_failures_total",
     "TLS handshakes that failed: protocol or cipher refused, bad or missing client "
     "certificate, a client gone or too slow"},
    {"breaker_refusals", &WorkerStats::breaker_refusals, "vigil_l7_circuit_breaker_refusals_total",
     "Requests answered 503 at once by an upstream's open circuit breaker"},
    {"no_healthy_target", &WorkerStats::no_healthy_target, "vigil_l7_no_healthy_target_total",
     "Requests answered 503: every target of their upstream failed its health checks"},
    {"http2_connections", &WorkerStats::http2_connections, "vigil_l7_http2_connections_total",
     "Client connections that spoke HTTP/2 (h2 by ALPN, or h2c with prior knowledge)"},
    {"http2_errors", &WorkerStats::http2_errors, "vigil_l7_http2_errors_total",
     "HTTP/2 connections ended by the client's error: a protocol violation, a flood, streams "
     "reset past the allowed rate (rapid reset), or memory past its cap"},
};

// Single-writer increment.
inline void bump(std::atomic<uint64_t>& counter, uint64_t by = 1) {
  counter.store(counter.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
}
inline void drop(std::atomic<uint64_t>& counter) {
  counter.store(counter.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
}

}  // namespace vigil::l7
