// l7: vigil-l7, the HTTP reverse proxy. Listeners take connections, routes say which upstream
// pool a request goes to, upstreams hold the targets and how they are picked and watched.
// Everything a client could smuggle through the config's own values is refused here: a field
// name that is not a token, a value with a line end, a regular expression RE2 cannot compile.
#include <re2/re2.h>

#include <charconv>
#include <cmath>
#include <set>

#include "config/l7_text.h"
#include "config/l7_tls.h"
#include "config/sections.h"

namespace vigil::config {
namespace {

constexpr size_t kMaxListeners = 64;
constexpr size_t kMaxRoutes = 1024;
constexpr size_t kMaxUpstreams = 256;
constexpr size_t kMaxTargets = 256;  // per upstream
constexpr size_t kMaxMatches = 16;   // hosts, methods, fields of a route

constexpr std::string_view kPolicyNames[] = {"round-robin", "least-connections", "power-of-two",
                                             "maglev", "peak-ewma"};

constexpr Field kNameValueFields[] = {
    {.key = "name", .type = "string", .description = "", .required = true},
    {.key = "value",
     .type = "string",
     .description = "Matched exactly (added as is); absent in a match: any value"},
};
constexpr Schema kNameValueSchema{.path = "l7.routes.<name>.headers[]",
                                  .description = "A field (or query parameter) and its value.",
                                  .fields = kNameValueFields};

constexpr Field kRateLimitFields[] = {
    {.key = "rate",
     .type = "number 0.001-1000000",
     .description = "Requests a second per key",
     .required = true},
    {.key = "burst",
     .type = "number 1-1000000",
     .description = "Requests taken at once before the rate applies",
     .default_value = "the rate"},
    {.key = "header",
     .type = "field name",
     .description = "Key on this request field's value; absent: on the client's address"},
};
constexpr Schema kRateLimitSchema{
    .path = "l7.routes.<name>.rate_limit",
    .description = "A token bucket per key; a request past it is answered 429 with Retry-After.",
    .fields = kRateLimitFields};

constexpr Field kBreakerFields[] = {
    {.key = "failures",
     .type = "integer 1-1000",
     .description = "Requests in a row that failed (a 5xx answer, a timeout, no target "
                    "answering) that open the breaker: each worker counts its own",
     .default_value = "5"},
    {.key = "open_s",
     .type = "integer 1-3600",
     .description = "How long an open breaker answers 503 at once (with Retry-After)",
     .default_value = "10"},
    {.key = "half_open_probes",
     .type = "integer 1-100",
     .description = "Requests let through once open_s has passed: a success closes the "
                    "breaker, a failure opens it again",
     .default_value = "1"},
};
constexpr Schema kBreakerSchema{
    .path = "l7.upstreams.<name>.circuit_breaker",
    .description =
        "Closed, open, half-open: an upstream that keeps failing is given a rest "
        "and its clients a quick 503 instead of a wait.",
    .fields = kBreakerFields};

constexpr Field kHealthCheckFields[] = {
    {.key = "type",
     .type = "http | tcp",
     .description = "http: a GET whose answer must come with an expected status; tcp: a "
                    "connect that succeeds",
     .default_value = "http"},
    {.key = "path", .type = "path", .description = "http: what is asked for", .default_value = "/"},
    {.key = "host",
     .type = "string",
     .description = "http: the request's Host field",
     .default_value = "the target's address"},
    {.key = "expected_status",
     .type = "list of status or range",
     .description = "http: the answers that pass, as \"200\" or \"200-299\"",
     .default_value = "200-399"},
    {.key = "interval_ms",
     .type = "integer 100-600000",
     .description = "From one check of a target to the next",
     .default_value = "2000"},
    {.key = "timeout_ms",
     .type = "integer 10-60000",
     .description = "A check not through in this time fails; at most interval_ms",
     .default_value = "1000, or interval_ms if shorter"},
    {.key = "rise",
     .type = "integer 1-100",
     .description = "Passed checks in a row that make an unhealthy target healthy (a new "
                    "target needs one)",
     .default_value = "2"},
    {.key = "fall",
     .type = "integer 1-100",
     .description = "Failed checks in a row that make a healthy target unhealthy",
     .default_value = "3"},
};
constexpr Schema kHealthCheckSchema{
    .path = "l7.upstreams.<name>.health_check",
    .description =
        "vigil-l7 checks each target itself (once, whatever the number of workers); "
        "requests go only to targets whose checks pass, and to one not checked yet "
        "only when no target is healthy.",
    .fields = kHealthCheckFields};

constexpr Field kListenerFields[] = {
    {.key = "address",
     .type = "address:port",
     .description = "Where it listens: \"0.0.0.0:80\", \"[::]:8080\"",
     .required = true},
    {.key = "trust_forwarded",
     .type = "boolean",
     .description = "Its clients are proxies this one trusts: their X-Forwarded-For and "
                    "Forwarded are appended to rather than replaced",
     .default_value = "false"},
    {.key = "http2",
     .type = "boolean",
     .description = "HTTP/2 besides HTTP/1.1: h2 chosen by ALPN on a TLS listener, h2c with "
                    "prior knowledge in the clear (RFC 9113 3.3, 3.4)",
     .default_value = "true"},
    {.key = "tls",
     .type = "mapping",
     .description = "HTTPS: certificates, protocols and client certificates; absent: HTTP",
     .children = &kL7ListenerTlsSchema},
};
constexpr Schema kListenerSchema{.path = "l7.listeners.<name>",
                                 .description = "An address and port vigil-l7 takes HTTP on.",
                                 .fields = kListenerFields};

constexpr Field kRouteFields[] = {
    {.key = "priority",
     .type = "integer -1000000-1000000",
     .description = "Higher is tried first; among equals, the order given",
     .default_value = "0"},
    {.key = "hosts",
     .type = "list of host name",
     .description = "\"www.example.com\" or \"*.example.com\" (any name under it); empty: any"},
    {.key = "path",
     .type = "path",
     .description = "The normalised path, exactly; at most one of path, path_prefix, path_regex"},
    {.key = "path_prefix", .type = "path", .description = "Paths beginning with it"},
    {.key = "path_regex",
     .type = "RE2 regular expression",
     .description = "Matched against the whole normalised path"},
    {.key = "methods", .type = "list of method", .description = "\"GET\", \"POST\"; empty: any"},
    {.key = "headers",
     .type = "list of field",
     .description = "Request fields that must be present (with the value, when given)",
     .children = &kNameValueSchema,
     .entry_key = "name"},
    {.key = "query",
     .type = "list of parameter",
     .description = "Query parameters that must be present (with the value, when given)",
     .children = &kNameValueSchema,
     .entry_key = "name"},
    {.key = "upstream",
     .type = "upstream name",
     .description = "Where matching requests go",
     .required = true},
    {.key = "add_headers",
     .type = "list of field",
     .description = "Set on the request sent upstream, replacing a field of the same name",
     .children = &kNameValueSchema,
     .entry_key = "name"},
    {.key = "remove_headers",
     .type = "list of field name",
     .description = "Dropped from the request sent upstream"},
    {.key = "rate_limit", .type = "mapping", .description = "", .children = &kRateLimitSchema},
};
constexpr Schema kRouteSchema{.path = "l7.routes.<name>",
                              .description = "Which requests go to which upstream.",
                              .fields = kRouteFields};

constexpr Field kTargetFields[] = {
    {.key = "address",
     .type = "host:port",
     .description = "An IP address (IPv6 in brackets) or a DNS name, and a port; a name is "
                    "looked up again each time its answer's TTL runs out (l7.dns), and each "
                    "of its addresses is a target",
     .required = true},
    {.key = "weight",
     .type = "integer 1-1000",
     .description = "Share of requests relative to the other targets",
     .default_value = "1"},
};
constexpr Schema kTargetSchema{.path = "l7.upstreams.<name>.targets[]",
                               .description = "A backend server.",
                               .fields = kTargetFields};

constexpr Field kUpstreamFields[] = {
    {.key = "policy",
     .type = "round-robin | least-connections | power-of-two | maglev | peak-ewma",
     .description = "How a target is picked: weighted round robin, fewest requests in flight, "
                    "the less loaded of two drawn at random, a consistent hash (hash_on), or "
                    "the lowest latency weighted by load",
     .default_value = "round-robin"},
    {.key = "hash_on",
     .type = "source_address | header | cookie",
     .description = "What maglev hashes: the client's address, a request field or a cookie "
                    "(hash_name names which)",
     .default_value = "source_address"},
    {.key = "hash_name", .type = "string", .description = "The field or cookie hash_on names"},
    {.key = "targets",
     .type = "list of target",
     .description = "Up to 256",
     .required = true,
     .children = &kTargetSchema,
     .entry_key = "address"},
    {.key = "protocol",
     .type = "http1 | h2",
     .description = "What the targets speak: HTTP/1.1, or HTTP/2 (prior knowledge in the clear, "
                    "ALPN h2 through tls), many requests at once on one connection per target "
                    "and worker. Clients of either protocol may use either. An h2 pool takes no "
                    "Upgrade (WebSocket) requests, and its health checks are type: tcp",
     .default_value = "http1"},
    {.key = "connect_timeout_ms",
     .type = "integer 10-60000",
     .description = "A connect taking longer fails (and is retried on another target)",
     .default_value = "2000"},
    {.key = "response_timeout_ms",
     .type = "integer 10-3600000",
     .description = "From the request sent to the response's head; past it the client gets 504",
     .default_value = "30000"},
    {.key = "max_idle",
     .type = "integer 0-10000",
     .description = "Kept-alive connections per target and worker; 0: one per request",
     .default_value = "64"},
    {.key = "idle_timeout_s",
     .type = "integer 1-3600",
     .description = "A kept-alive connection unused this long is closed",
     .default_value = "60"},
    {.key = "max_lifetime_s",
     .type = "integer 1-86400",
     .description = "A connection is not reused past this age",
     .default_value = "300"},
    {.key = "retries",
     .type = "integer 0-5",
     .description = "Further tries, each on another target, when a connect fails or a reused "
                    "connection was closed before answering",
     .default_value = "1"},
    {.key = "consecutive_5xx",
     .type = "integer 1-1000",
     .description = "5xx answers in a row that eject a target",
     .default_value = "5"},
    {.key = "consecutive_connect_failures",
     .type = "integer 1-1000",
     .description = "Failed connects in a row that eject a target",
     .default_value = "3"},
    {.key = "ejection_s",
     .type = "integer 1-3600",
     .description = "The first ejection's length; each further one doubles it, up to 10 times",
     .default_value = "30"},
    {.key = "health_check",
     .type = "mapping",
     .description = "Active checks (HTTP or TCP) with rise and fall thresholds; absent: none",
     .children = &kHealthCheckSchema},
    {.key = "circuit_breaker",
     .type = "mapping",
     .description = "Stop sending to the pool after failures in a row; absent: never",
     .children = &kBreakerSchema},
    {.key = "tls",
     .type = "mapping",
     .description = "HTTPS to the targets, their certificates verified; absent: HTTP",
     .children = &kL7UpstreamTlsSchema},
};
constexpr Schema kUpstreamSchema{.path = "l7.upstreams.<name>",
                                 .description = "A pool of backend servers.",
                                 .fields = kUpstreamFields};

constexpr std::string_view kAccessFieldNames[] = {
    "time",  "client",      "listener", "method",   "host",   "path",      "status",
    "bytes", "duration_ms", "route",    "upstream", "target", "request_id"};

constexpr Field kAccessLogFields[] = {
    {.key = "path",
     .type = "absolute path",
     .description = "The file requests are appended to (created 0640); reopened on each commit "
                    "and on SIGHUP, so a rotated file is let go",
     .required = true},
    {.key = "fields",
     .type = "list of field",
     .description = "Which, in order: time, client, listener, method, host, path, status, bytes, "
                    "duration_ms, route, upstream, target, request_id",
     .default_value = "all"},
};
constexpr Schema kAccessLogSchema{
    .path = "l7.access_log",
    .description =
        "One logfmt line per request, written by each worker in batches (at most a "
        "second late; lines past 1 MiB waiting are dropped and counted).",
    .fields = kAccessLogFields};

constexpr Field kDnsFields[] = {
    {.key = "nameservers",
     .type = "list of address:port",
     .description = "IPv4, up to 3, asked in order",
     .default_value = "those of /etc/resolv.conf"},
    {.key = "timeout_s",
     .type = "integer 1-10",
     .description = "A try with no answer in this time goes to the next nameserver",
     .default_value = "2"},
    {.key = "tries",
     .type = "integer 1-3",
     .description = "Rounds over the nameservers",
     .default_value = "2"},
    {.key = "min_ttl_s",
     .type = "integer 1-3600",
     .description = "A name is not looked up again sooner than this, whatever its TTL; nor a "
                    "failed lookup retried sooner",
     .default_value = "5"},
    {.key = "max_ttl_s",
     .type = "integer 1-86400",
     .description = "Nor later than this",
     .default_value = "300"},
};
constexpr Schema kDnsSchema{
    .path = "l7.dns",
    .description =
        "How targets given by DNS name are looked up: A and AAAA records, as asked "
        "(no search domains, no /etc/hosts). A lookup that fails keeps the last "
        "addresses.",
    .fields = kDnsFields};

constexpr Field kL7Fields[] = {
    {.key = "workers",
     .type = "integer 0-64",
     .description = "Event-loop threads; 0: one per core the fast path does not poll. A "
                    "commit adds or retires workers at once; a retired one serves its "
                    "connections to their end",
     .default_value = "0"},
    {.key = "header_timeout_ms",
     .type = "integer 100-600000",
     .description = "A client must send a request's whole head within this",
     .default_value = "10000"},
    {.key = "idle_timeout_s",
     .type = "integer 1-3600",
     .description = "A client connection between requests, or a tunnel with nothing moving, is "
                    "closed after this",
     .default_value = "60"},
    {.key = "max_body_bytes",
     .type = "integer 0-1099511627776",
     .description = "Largest request body (413 past it)",
     .default_value = "1073741824"},
    {.key = "max_headers",
     .type = "integer 8-1000",
     .description = "Fields in a request head (431 past it)",
     .default_value = "100"},
    {.key = "max_head_bytes",
     .type = "integer 1024-1048576",
     .description = "Bytes of a request head (431 past it)",
     .default_value = "65536"},
    {.key = "max_uri_bytes",
     .type = "integer 256-65536",
     .description = "Bytes of a request target (414 past it)",
     .default_value = "8192"},
    {.key = "max_connections",
     .type = "integer 1-1000000",
     .description = "Client connections per worker; past it new ones are closed at once",
     .default_value = "10000"},
    {.key = "access_log", .type = "mapping", .description = "", .children = &kAccessLogSchema},
    {.key = "dns", .type = "mapping", .description = "", .children = &kDnsSchema},
    {.key = "certificates",
     .type = "map of certificate",
     .description = "Up to 256, for listeners' tls",
     .children = &kL7CertificateSchema},
    {.key = "listeners",
     .type = "map of listener",
     .description = "Up to 64",
     .children = &kListenerSchema},
    {.key = "routes",
     .type = "map of route",
     .description = "Up to 1,024",
     .children = &kRouteSchema},
    {.key = "upstreams",
     .type = "map of upstream",
     .description = "Up to 256",
     .children = &kUpstreamSchema},
};

uint32_t read_u32(MapReader& r, std::string_view key, int64_t min, int64_t max, uint32_t dflt,
                  bool& ok, ErrorList& errors) {
  if (!r.has(key)) {
    return dflt;
  }
  auto v = read_int(r.get(key), r.path_of(key), errors, min, max);
  ok &= v.has_value();
  return static_cast<uint32_t>(v.value_or(dflt));
}

std::optional<double> read_number(const YAML::Node& n, const std::string& path, ErrorList& errors,
                                  double min, double max) {
  double v = std::nan("");
  try {
    v = n.IsScalar() ? n.as<double>() : std::nan("");
  } catch (const YAML::Exception&) {
    v = std::nan("");
  }
  if (!(v >= min && v <= max)) {
    errors.add_value_error(path, n,
                           "expected a number " + std::to_string(min) + "-" + std::to_string(max));
    return std::nullopt;
  }
  return v;
}

// A list of strings, each checked by `valid` (which says what it expects when it refuses).
bool read_strings(MapReader& r, std::string_view key, size_t max, ErrorList& errors,
                  std::vector<std::string>& out, bool (*valid)(std::string_view),
                  std::string_view expected) {
  bool ok = true;
  for_each_item(r.get(key), r.path_of(key), errors, [&](const YAML::Node& n, const std::string& p) {
    auto s = read_string(n, p, errors);
    if (!s) {
      ok = false;
    } else if (!valid(*s)) {
      errors.add_value_error(p, n, "\"" + *s + "\" is not " + std::string(expected));
      ok = false;
    } else if (out.size() == max) {
      errors.add(p, n, "is one too many: at most " + std::to_string(max));
      ok = false;
    } else {
      out.push_back(std::move(*s));
    }
  });
  return ok;
}

// Fields or query parameters: names that are tokens (`field_names`) or any printable text,
// values that cannot break a line; `need_value` for fields to add.
bool read_name_values(MapReader& r, std::string_view key, bool field_names, bool need_value,
                      ErrorList& errors, std::vector<L7NameValue>& out) {
  bool ok = true;
  for_each_item(r.get(key), r.path_of(key), errors, [&](const YAML::Node& n, const std::string& p) {
    MapReader e(n, p, kNameValueSchema, errors);
    if (!e.ok()) {
      ok = false;
      return;
    }
    L7NameValue nv;
    nv.name = read_string(e.get("name"), e.path_of("name"), errors).value_or("");
    const bool name_ok = field_names ? is_token(nv.name)
                                     : (!nv.name.empty() && is_field_value(nv.name) &&
                                        nv.name.find_first_of("&= ") == std::string::npos);
    if (!name_ok) {
      errors.add_value_error(e.path_of("name"), e.get("name"),
                             field_names ? "is not a field name (a token: letters, digits "
                                           "and !#$%&'*+-.^_`|~)"
                                         : "is not a query parameter name");
      ok = false;
    }
    if (e.has("value")) {
      nv.value = read_string(e.get("value"), e.path_of("value"), errors);
      if (!nv.value || !is_field_value(*nv.value)) {
        if (nv.value) {
          errors.add_value_error(e.path_of("value"), e.get("value"),
                                 "has a control character: a value is one line of text");
        }
        ok = false;
      }
    } else if (need_value) {
      errors.add(p, n, "needs a value");
      ok = false;
    }
    if (out.size() == kMaxMatches) {
      errors.add(p, n, "is one too many: at most " + std::to_string(kMaxMatches));
      ok = false;
    }
    if (ok) {
      out.push_back(std::move(nv));
    }
  });
  return ok;
}

void parse_listener(const std::string& name, const YAML::Node& node, const std::string& path,
                    L7Config& l7, ErrorList& errors) {
  MapReader r(node, path, kListenerSchema, errors);
  if (!r.ok()) {
    return;
  }
  L7ListenerConfig l;
  l.name = name;
  auto address = read_host_port(r.get("address"), r.path_of("address"), errors);
  bool ok = address.has_value();
  if (address) {
    l.address = *address;
    for (const auto& other : l7.listeners) {
      if (other.address == *address) {
        errors.add(r.path_of("address"), r.get("address"),
                   "listener " + other.name + " listens there too");
        ok = false;
      }
    }
  }
  if (r.has("trust_forwarded")) {
    auto v = read_bool(r.get("trust_forwarded"), r.path_of("trust_forwarded"), errors);
    ok &= v.has_value();
    l.trust_forwarded = v.value_or(false);
  }
  if (r.has("http2")) {
    auto v = read_bool(r.get("http2"), r.path_of("http2"), errors);
    ok &= v.has_value();
    l.http2 = v.value_or(true);
  }
  if (r.has("tls")) {
    l.tls = parse_l7_listener_tls(r.get("tls"), r.path_of("tls"), l7, errors);
    ok &= l.tls.has_value();
  }
  if (l7.listeners.size() == kMaxListeners) {
    errors.add(path, node, "is one listener too many: at most 64");
    ok = false;
  }
  if (ok) {
    l7.listeners.push_back(std::move(l));
  }
}

void parse_route(const std::string& name, const YAML::Node& node, const std::string& path,
                 L7Config& l7, ErrorList& errors) {
  MapReader r(node, path, kRouteSchema, errors);
  if (!r.ok()) {
    return;
  }
  L7RouteConfig route;
  route.name = name;
  bool ok = true;
  if (r.has("priority")) {
    auto v = read_int(r.get("priority"), r.path_of("priority"), errors, -1000000, 1000000);
    ok &= v.has_value();
    route.priority = static_cast<int32_t>(v.value_or(0));
  }
  ok &= read_strings(r, "hosts", kMaxMatches, errors, route.hosts, is_route_host,
                     "a host name or *.domain");
  int paths = 0;
  for (const auto& [key, match] :
       {std::pair{"path", L7PathMatch::kExact}, std::pair{"path_prefix", L7PathMatch::kPrefix},
        std::pair{"path_regex", L7PathMatch::kRegex}}) {
    if (!r.has(key)) {
      continue;
    }
    if (++paths > 1) {
      errors.add(r.path_of(key), r.get(key), "give one of path, path_prefix and path_regex");
      ok = false;
      continue;
    }
    auto text = read_string(r.get(key), r.path_of(key), errors);
    if (!text) {
      ok = false;
      continue;
    }
    route.path_match = match;
    route.path = *text;
    if (match == L7PathMatch::kRegex) {
      RE2::Options options;
      options.set_log_errors(false);
      const RE2 re(*text, options);
      if (!re.ok() || text->size() > 4096) {
        errors.add_value_error(r.path_of(key), r.get(key),
                               "is not an RE2 regular expression: " +
                                   (re.ok() ? std::string("longer than 4096") : re.error()));
        ok = false;
      }
    } else if (!is_path(*text)) {
      errors.add_value_error(r.path_of(key), r.get(key),
                             "\"" + *text +
                                 "\" is not a path: it begins with / and has no space, "
                                 "control character, ?, # or backslash");
      ok = false;
    }
  }
  ok &= read_strings(r, "methods", kMaxMatches, errors, route.methods, is_token, "a method");
  ok &= read_name_values(r, "headers", true, false, errors, route.headers);
  ok &= read_name_values(r, "query", false, false, errors, route.query);
  ok &= read_name_values(r, "add_headers", true, true, errors, route.add_headers);
  ok &= read_strings(r, "remove_headers", kMaxMatches, errors, route.remove_headers, is_token,
                     "a field name");
  auto upstream = read_string(r.get("upstream"), r.path_of("upstream"), errors);
  ok &= upstream.has_value();
  route.upstream = upstream.value_or("");
  if (upstream) {
    bool known = false;
    for (const auto& u : l7.upstreams) {
      known |= u.name == *upstream;
    }
    if (!known) {
      errors.add_value_error(r.path_of("upstream"), r.get("upstream"),
                             "no upstream named \"" + *upstream + "\" in l7.upstreams");
      ok = false;
    }
  }
  if (r.has("rate_limit")) {
    MapReader rl(r.get("rate_limit"), r.path_of("rate_limit"), kRateLimitSchema, errors);
    if (!rl.ok()) {
      ok = false;
    } else {
      L7RateLimitConfig limit;
      auto rate = read_number(rl.get("rate"), rl.path_of("rate"), errors, 0.001, 1e6);
      ok &= rate.has_value();
      limit.rate = rate.value_or(1);
      limit.burst = limit.rate;
      if (rl.has("burst")) {
        auto burst = read_number(rl.get("burst"), rl.path_of("burst"), errors, 1, 1e6);
        ok &= burst.has_value();
        limit.burst = burst.value_or(1);
      }
      if (rl.has("header")) {
        limit.header = read_string(rl.get("header"), rl.path_of("header"), errors).value_or("");
        if (!is_token(limit.header)) {
          errors.add_value_error(rl.path_of("header"), rl.get("header"), "is not a field name");
          ok = false;
        }
      }
      route.rate_limit = limit;
    }
  }
  if (l7.routes.size() == kMaxRoutes) {
    errors.add(path, node, "is one route too many: at most 1024");
    ok = false;
  }
  if (ok) {
    l7.routes.push_back(std::move(route));
  }
}

// "200" or "200-399", each a status 100-599.
std::optional<std::pair<uint32_t, uint32_t>> parse_status_range(std::string_view s) {
  const auto number = [](std::string_view t) -> std::optional<uint32_t> {
    uint32_t v = 0;
    const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    if (t.empty() || ec != std::errc() || end != t.data() + t.size() || v < 100 || v > 599) {
      return std::nullopt;
    }
    return v;
  };
  const size_t dash = s.find('-');
  const auto low = number(s.substr(0, dash));
  const auto high = dash == std::string_view::npos ? low : number(s.substr(dash + 1));
  if (!low || !high || *low > *high) {
    return std::nullopt;
  }
  return std::pair{*low, *high};
}

bool read_health_check(const YAML::Node& node, const std::string& path, L7UpstreamConfig& u,
                       ErrorList& errors) {
  MapReader h(node, path, kHealthCheckSchema, errors);
  if (!h.ok()) {
    return false;
  }
  bool ok = true;
  L7HealthCheckConfig check;
  if (h.has("type")) {
    auto v = read_enum(h.get("type"), h.path_of("type"), errors, kL7HealthCheckTypes);
    ok &= v.has_value();
    check.type = static_cast<L7HealthCheckType>(v.value_or(0));
  }
  if (check.type == L7HealthCheckType::kTcp) {
    for (const char* key : {"path", "host", "expected_status"}) {
      if (h.has(key)) {
        errors.add(h.path_of(key), h.get(key), "is for type: http");
        ok = false;
      }
    }
  }
  if (h.has("path")) {
    check.path = read_string(h.get("path"), h.path_of("path"), errors).value_or("");
    if (!is_path(check.path)) {
      errors.add_value_error(h.path_of("path"), h.get("path"),
                             "is not an absolute path (\"/healthz\")");
      ok = false;
    }
  }
  if (h.has("host")) {
    check.host = read_string(h.get("host"), h.path_of("host"), errors).value_or("");
    if (check.host.empty() || !is_field_value(check.host) ||
        check.host.find_first_of(" \t") != std::string::npos) {
      errors.add_value_error(h.path_of("host"), h.get("host"), "is not a host name");
      ok = false;
    }
  }
  if (h.has("expected_status")) {
    for_each_item(h.get("expected_status"), h.path_of("expected_status"), errors,
                  [&](const YAML::Node& n, const std::string& p) {
                    const auto text = read_string(n, p, errors);
                    const auto range = text ? parse_status_range(*text) : std::nullopt;
                    if (!range) {
                      if (text) {
                        errors.add_value_error(p, n,
                                               "is not a status (\"200\") or a range "
                                               "(\"200-399\") within 100-599");
                      }
                      ok = false;
                      return;
                    }
                    if (check.expected_status.size() == kMaxMatches) {
                      errors.add(p, n, "is one range too many: at most 16");
                      ok = false;
                      return;
                    }
                    check.expected_status.push_back(*range);
                  });
  }
  check.interval_ms = read_u32(h, "interval_ms", 100, 600000, 2000, ok, errors);
  check.timeout_ms =
      read_u32(h, "timeout_ms", 10, 60000, std::min<uint32_t>(1000, check.interval_ms), ok, errors);
  check.rise = read_u32(h, "rise", 1, 100, 2, ok, errors);
  check.fall = read_u32(h, "fall", 1, 100, 3, ok, errors);
  if (ok && check.timeout_ms > check.interval_ms) {
    errors.add(h.path_of("timeout_ms"), h.get("timeout_ms"),
               "is longer than interval_ms (" + std::to_string(check.interval_ms) +
                   "): a check would still run when the next is due");
    ok = false;
  }
  u.health_check = check;
  return ok;
}

void parse_upstream(const std::string& name, const YAML::Node& node, const std::string& path,
                    L7Config& l7, ErrorList& errors) {
  MapReader r(node, path, kUpstreamSchema, errors);
  if (!r.ok()) {
    return;
  }
  L7UpstreamConfig u;
  u.name = name;
  bool ok = true;
  if (r.has("policy")) {
    auto v = read_enum(r.get("policy"), r.path_of("policy"), errors, kPolicyNames);
    ok &= v.has_value();
    u.policy = std::string(kPolicyNames[v.value_or(0)]);
  }
  if (r.has("hash_on")) {
    auto v = read_enum(r.get("hash_on"), r.path_of("hash_on"), errors, kL7HashOnNames);
    ok &= v.has_value();
    u.hash_on = static_cast<L7HashOn>(v.value_or(0));
  }
  if (r.has("hash_name")) {
    u.hash_name = read_string(r.get("hash_name"), r.path_of("hash_name"), errors).value_or("");
    if (!is_token(u.hash_name)) {
      errors.add_value_error(r.path_of("hash_name"), r.get("hash_name"),
                             "is not a field or cookie name");
      ok = false;
    }
  }
  if ((u.hash_on != L7HashOn::kSourceAddress) != r.has("hash_name")) {
    errors.add(r.path(), node,
               u.hash_on == L7HashOn::kSourceAddress
                   ? "hash_name is for hash_on: header or cookie"
                   : "hash_on: " + std::string(kL7HashOnNames[static_cast<size_t>(u.hash_on)]) +
                         " needs hash_name: which one");
    ok = false;
  }
  for_each_item(r.get("targets"), r.path_of("targets"), errors,
                [&](const YAML::Node& n, const std::string& p) {
                  MapReader t(n, p, kTargetSchema, errors);
                  if (!t.ok()) {
                    ok = false;
                    return;
                  }
                  L7TargetConfig target;
                  auto address = read_endpoint(t.get("address"), t.path_of("address"), errors);
                  ok &= address.has_value();
                  if (address) {
                    target.address = *address;
                    for (const auto& other : u.targets) {
                      if (other.address == *address) {
                        errors.add(t.path_of("address"), t.get("address"), "is listed twice");
                        ok = false;
                      }
                    }
                  }
                  target.weight = read_u32(t, "weight", 1, 1000, 1, ok, errors);
                  if (u.targets.size() == kMaxTargets) {
                    errors.add(p, n, "is one target too many: at most 256");
                    ok = false;
                  }
                  u.targets.push_back(target);
                });
  if (u.targets.empty() && ok) {
    errors.add(r.path_of("targets"), r.get("targets"), "needs at least one target");
    ok = false;
  }
  if (r.has("protocol")) {
    auto v = read_enum(r.get("protocol"), r.path_of("protocol"), errors, kL7UpstreamProtocolNames);
    ok &= v.has_value();
    u.protocol = static_cast<L7UpstreamProtocol>(v.value_or(0));
  }
  u.connect_timeout_ms = read_u32(r, "connect_timeout_ms", 10, 60000, 2000, ok, errors);
  u.response_timeout_ms = read_u32(r, "response_timeout_ms", 10, 3600000, 30000, ok, errors);
  u.max_idle = read_u32(r, "max_idle", 0, 10000, 64, ok, errors);
  u.idle_timeout_s = read_u32(r, "idle_timeout_s", 1, 3600, 60, ok, errors);
  u.max_lifetime_s = read_u32(r, "max_lifetime_s", 1, 86400, 300, ok, errors);
  u.retries = read_u32(r, "retries", 0, 5, 1, ok, errors);
  u.consecutive_5xx = read_u32(r, "consecutive_5xx", 1, 1000, 5, ok, errors);
  u.consecutive_connect_failures =
      read_u32(r, "consecutive_connect_failures", 1, 1000, 3, ok, errors);
  u.ejection_s = read_u32(r, "ejection_s", 1, 3600, 30, ok, errors);
  if (r.has("circuit_breaker")) {
    MapReader b(r.get("circuit_breaker"), r.path_of("circuit_breaker"), kBreakerSchema, errors);
    if (b.ok()) {
      L7CircuitBreakerConfig breaker;
      breaker.failures = read_u32(b, "failures", 1, 1000, 5, ok, errors);
      breaker.open_s = read_u32(b, "open_s", 1, 3600, 10, ok, errors);
      breaker.half_open_probes = read_u32(b, "half_open_probes", 1, 100, 1, ok, errors);
      u.circuit_breaker = breaker;
    } else {
      ok = false;
    }
  }
  if (r.has("health_check")) {
    ok &= read_health_check(r.get("health_check"), r.path_of("health_check"), u, errors);
  }
  if (r.has("tls")) {
    u.tls = parse_l7_upstream_tls(r.get("tls"), r.path_of("tls"), l7, errors);
    ok &= u.tls.has_value();
  }
  if (u.protocol == L7UpstreamProtocol::kH2 && u.health_check &&
      u.health_check->type == L7HealthCheckType::kHttp) {
    // The checks speak HTTP/1.1, which a target that speaks only HTTP/2 does not answer.
    errors.add(r.path_of("health_check"), r.get("health_check"),
               "is type: http (HTTP/1.1), which an h2 upstream may not answer: use type: tcp");
    ok = false;
  }
  if (l7.upstreams.size() == kMaxUpstreams) {
    errors.add(path, node, "is one upstream too many: at most 256");
    ok = false;
  }
  if (ok) {
    l7.upstreams.push_back(std::move(u));
  }
}

}  // namespace

const Schema kL7Schema{.path = "l7",
                       .description =
                           "vigil-l7, the HTTP reverse proxy: listeners, routes "
                           "and upstream pools.",
                       .fields = kL7Fields};

void parse_l7(const YAML::Node& node, const std::string& path, Config& config, ErrorList& errors) {
  if (!node.IsDefined() || node.IsNull()) {
    return;
  }
  MapReader r(node, path, kL7Schema, errors);
  if (!r.ok()) {
    return;
  }
  L7Config& l7 = config.l7;
  l7.enabled = true;
  bool ok = true;
  l7.workers = read_u32(r, "workers", 0, 64, 0, ok, errors);
  l7.header_timeout_ms = read_u32(r, "header_timeout_ms", 100, 600000, 10000, ok, errors);
  l7.idle_timeout_s = read_u32(r, "idle_timeout_s", 1, 3600, 60, ok, errors);
  if (r.has("max_body_bytes")) {
    auto v =
        read_int(r.get("max_body_bytes"), r.path_of("max_body_bytes"), errors, 0, int64_t{1} << 40);
    l7.max_body_bytes = static_cast<uint64_t>(v.value_or(0));
  }
  l7.max_headers = read_u32(r, "max_headers", 8, 1000, 100, ok, errors);
  l7.max_head_bytes = read_u32(r, "max_head_bytes", 1024, 1048576, 65536, ok, errors);
  l7.max_uri_bytes = read_u32(r, "max_uri_bytes", 256, 65536, 8192, ok, errors);
  l7.max_connections = read_u32(r, "max_connections", 1, 1000000, 10000, ok, errors);
  if (r.has("access_log")) {
    MapReader a(r.get("access_log"), r.path_of("access_log"), kAccessLogSchema, errors);
    if (a.ok()) {
      if (auto file = read_absolute_path(a.get("path"), a.path_of("path"), errors)) {
        l7.access_log.path = *file;
      }
      for_each_item(a.get("fields"), a.path_of("fields"), errors,
                    [&](const YAML::Node& n, const std::string& p) {
                      auto v = read_enum(n, p, errors, kAccessFieldNames);
                      if (v) {
                        l7.access_log.fields.emplace_back(kAccessFieldNames[*v]);
                      }
                    });
    }
  }
  if (r.has("dns")) {
    MapReader d(r.get("dns"), r.path_of("dns"), kDnsSchema, errors);
    if (d.ok()) {
      for_each_item(d.get("nameservers"), d.path_of("nameservers"), errors,
                    [&](const YAML::Node& n, const std::string& p) {
                      auto server = read_host_port(n, p, errors);
                      if (!server) {
                        ok = false;
                      } else if (server->address.family != 4) {
                        errors.add(p, n,
                                   "is not an IPv4 address: give IPv6 nameservers in "
                                   "/etc/resolv.conf");
                        ok = false;
                      } else if (l7.dns.nameservers.size() == 3) {
                        errors.add(p, n, "is one nameserver too many: at most 3");
                        ok = false;
                      } else {
                        l7.dns.nameservers.push_back(*server);
                      }
                    });
      l7.dns.timeout_s = read_u32(d, "timeout_s", 1, 10, 2, ok, errors);
      l7.dns.tries = read_u32(d, "tries", 1, 3, 2, ok, errors);
      l7.dns.min_ttl_s = read_u32(d, "min_ttl_s", 1, 3600, 5, ok, errors);
      l7.dns.max_ttl_s = read_u32(d, "max_ttl_s", 1, 86400, 300, ok, errors);
      if (l7.dns.min_ttl_s > l7.dns.max_ttl_s) {
        errors.add(d.path_of("min_ttl_s"), d.get("min_ttl_s"), "is more than max_ttl_s");
        ok = false;
      }
    } else {
      ok = false;
    }
  }
  // Certificates before listeners: a listener's tls names them.
  for_each_named(r.get("certificates"), r.path_of("certificates"), errors,
                 [&](const std::string& name, const YAML::Node& n, const std::string& p) {
                   parse_l7_certificate(name, n, p, l7, errors);
                 });
  for_each_named(r.get("listeners"), r.path_of("listeners"), errors,
                 [&](const std::string& name, const YAML::Node& n, const std::string& p) {
                   parse_listener(name, n, p, l7, errors);
                 });
  // Upstreams before routes: a route names its upstream.
  for_each_named(r.get("upstreams"), r.path_of("upstreams"), errors,
                 [&](const std::string& name, const YAML::Node& n, const std::string& p) {
                   parse_upstream(name, n, p, l7, errors);
                 });
  for_each_named(r.get("routes"), r.path_of("routes"), errors,
                 [&](const std::string& name, const YAML::Node& n, const std::string& p) {
                   parse_route(name, n, p, l7, errors);
                 });
}

}  // namespace vigil::config
