#include "l7proxy/core/request_admission.h"

#include <algorithm>
#include <functional>

#include "l7proxy/http1/message_head.h"

namespace vigil::l7 {
namespace {

std::string_view field(std::span<const http1::Header> headers, std::string_view name) {
  for (const auto& h : headers) {
    if (http1::iequals(h.name, name)) {
      return h.value;
    }
  }
  return {};
}

// A cookie's value from the Cookie field ("a=1; b=2"); HTTP/2's cookie fields come joined.
std::string_view cookie(std::span<const http1::Header> headers, std::string_view name) {
  for (const auto& h : headers) {
    if (!http1::iequals(h.name, "cookie")) {
      continue;
    }
    std::string_view rest = h.value;
    while (!rest.empty()) {
      const size_t semi = rest.find(';');
      std::string_view pair = http1::trim_ows(rest.substr(0, semi));
      rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
      const size_t eq = pair.find('=');
      if (eq != std::string_view::npos && pair.substr(0, eq) == name) {
        return pair.substr(eq + 1);
      }
    }
  }
  return {};
}

}  // namespace

Admission admit_request(Generation& generation, const RequestView& view, std::string_view peer,
                        std::chrono::steady_clock::time_point now, WorkerStats& stats) {
  const ProxyConfig& config = *generation.config;
  Admission a;
  const RouteSpec* route = config.routes.match(view);
  if (route == nullptr) {
    a.status = 404;
    a.why = "no route matches";
    return a;
  }
  const RouteAction& action = config.actions[route->id];
  a.route = route->name;
  a.action = &action;
  if (RateLimiter* limiter = generation.limiters[route->id].get()) {
    const std::string_view key =
        action.rate_key_header.empty() ? peer : field(view.headers, action.rate_key_header);
    const auto verdict = limiter->take(key, now);
    if (!verdict.allowed) {
      a.status = 429;
      a.why = "rate limited";
      a.retry_after = verdict.retry_after_seconds;
      return a;
    }
  }
  a.pool = action.upstream;
  if (CircuitBreaker* breaker = generation.pools[a.pool].breaker.get()) {
    a.breaker = breaker->admit(now);
    if (a.breaker == CircuitBreaker::Admission::kRefused) {
      // Not the pool's traffic: counted for the route, not for the upstream.
      bump(stats.breaker_refusals);
      a.status = 503;
      a.why = "the upstream's circuit breaker is open";
      a.retry_after = static_cast<uint32_t>(std::max<int64_t>(
          1, std::chrono::ceil<std::chrono::seconds>(breaker->settings().open_for).count()));
      return a;
    }
  }
  const UpstreamSpec& upstream = config.upstreams[a.pool];
  switch (upstream.hash_on) {
    case HashOn::kSourceAddress:
      a.hash = std::hash<std::string_view>{}(peer);
      break;
    case HashOn::kHeader:
      a.hash = std::hash<std::string_view>{}(field(view.headers, upstream.hash_name));
      break;
    case HashOn::kCookie:
      a.hash = std::hash<std::string_view>{}(cookie(view.headers, upstream.hash_name));
      break;
  }
  return a;
}

}  // namespace vigil::l7
