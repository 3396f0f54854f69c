// Whether a request, once read and checked, goes to an upstream, whichever protocol brought
// it: the first route that matches it, its rate limit (per client address or per a field's
// value), its pool's circuit breaker; and, when it goes, the pool and the hash a consistent
// balancer picks by (the client's address, a field or a cookie).
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

#include "l7proxy/core/upstream_runtime.h"
#include "l7proxy/core/worker_stats.h"
#include "l7proxy/routing/request_view.h"

namespace vigil::l7 {

struct Admission {
  // 0: the request goes to `pool`. Else the answer owed (404, 429, 503) and why.
  int status = 0;
  std::string_view why;
  uint32_t retry_after = 0;  // seconds, for a 429 or an open breaker's 503 (0: none)
  std::string_view route;    // the route matched ("": none), in the generation's config
  const RouteAction* action = nullptr;
  size_t pool = 0;
  uint64_t hash = 0;
  // What the pool's breaker said; kRefused also when it has none.
  CircuitBreaker::Admission breaker = CircuitBreaker::Admission::kRefused;
};

// `peer`: the client's address. Counts breaker refusals in `stats`.
Admission admit_request(Generation& generation, const RequestView& view, std::string_view peer,
                        std::chrono::steady_clock::time_point now, WorkerStats& stats);

}  // namespace vigil::l7
