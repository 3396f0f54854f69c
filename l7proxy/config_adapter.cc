#include "l7proxy/config_adapter.h"

#include <algorithm>

#include "l7proxy/balancing/balancer.h"

namespace vigil::l7 {
namespace {

// An address: the target itself. A name: looked up by the proxy (resolved_targets.h).
void add_target(const config::L7TargetConfig& t, UpstreamSpec& spec) {
  const auto ip = net::IpAddress::parse(t.address.host);
  if (!ip) {
    spec.named.push_back({.host = t.address.host, .port = t.address.port, .weight = t.weight});
    return;
  }
  const net::HostPort address{.address = *ip, .port = t.address.port};
  TargetSpec out;
  out.key = address.to_string();
  out.weight = t.weight;
  out.address_length = address.to_sockaddr(out.address);
  spec.targets.push_back(std::move(out));
}

PathMatch path_match_of(config::L7PathMatch m) {
  switch (m) {
    case config::L7PathMatch::kExact:
      return PathMatch::kExact;
    case config::L7PathMatch::kPrefix:
      return PathMatch::kPrefix;
    case config::L7PathMatch::kRegex:
      return PathMatch::kRegex;
    case config::L7PathMatch::kAny:
      break;
  }
  return PathMatch::kAny;
}

std::vector<NameValueMatch> matches_of(const std::vector<config::L7NameValue>& in) {
  std::vector<NameValueMatch> out;
  out.reserve(in.size());
  for (const auto& nv : in) {
    out.push_back({.name = nv.name, .value = nv.value});
  }
  return out;
}

Expected<ListenerTlsSpec> tls_spec_of(const config::L7ListenerTlsConfig& in,
                                      const std::vector<config::L7CertificateConfig>& known) {
  ListenerTlsSpec out;
  for (const auto& name : in.certificates) {
    auto c =
        std::find_if(known.begin(), known.end(), [&](const auto& k) { return k.name == name; });
    if (c == known.end()) {
      return fail("no certificate named \"" + name + "\"");
    }
    out.certificates.push_back({.name = c->name,
                                .certificate_file = c->certificate_file,
                                .private_key_file = c->private_key_file,
                                .ocsp_response_file = c->ocsp_response_file});
  }
  out.tls13_only = in.min_version == config::L7TlsVersion::k13;
  out.ciphers = in.ciphers;
  out.client_ca_file = in.client_ca_file;
  out.client_certificate = static_cast<ClientCertificate>(in.client_certificate);
  out.client_subject_header = in.client_subject_header;
  out.session_tickets = in.session_tickets;
  return out;
}

Expected<UpstreamTlsSpec> upstream_tls_of(const config::L7UpstreamTlsConfig& in,
                                          const std::vector<config::L7CertificateConfig>& known) {
  UpstreamTlsSpec out{.server_name = in.server_name,
                      .verify = in.verify,
                      .ca_file = in.ca_file,
                      .tls13_only = in.min_version == config::L7TlsVersion::k13};
  if (!in.certificate.empty()) {
    auto c = std::find_if(known.begin(), known.end(),
                          [&](const auto& k) { return k.name == in.certificate; });
    if (c == known.end()) {
      return fail("no certificate named \"" + in.certificate + "\"");
    }
    out.certificate = CertificateSpec{.name = c->name,
                                      .certificate_file = c->certificate_file,
                                      .private_key_file = c->private_key_file};
  }
  return out;
}

}  // namespace

uint32_t default_worker_count(const config::Config& config, uint32_t online_cores) {
  uint32_t polled = 0;
  if (config.dataplane.forwarding && config.dataplane.rx_mode == config::RxMode::kPoll) {
    polled = static_cast<uint32_t>(config.dataplane.lcores.size());
  }
  return online_cores > polled + 1 ? online_cores - polled : 1;
}

Expected<std::shared_ptr<const ProxyConfig>> build_proxy_config(const config::Config& config,
                                                                uint32_t default_workers) {
  const config::L7Config& l7 = config.l7;
  auto out = std::make_shared<ProxyConfig>();
  ProxySettings& s = out->settings;
  s.workers = l7.workers != 0 ? l7.workers : std::max<uint32_t>(default_workers, 1);
  s.header_timeout = Millis(l7.header_timeout_ms);
  s.idle_timeout = std::chrono::seconds(l7.idle_timeout_s);
  s.max_body_bytes = l7.max_body_bytes;
  s.limits.max_headers = l7.max_headers;
  s.limits.max_head_bytes = l7.max_head_bytes;
  s.limits.max_target_bytes = l7.max_uri_bytes;
  s.max_connections = l7.max_connections;
  s.dns = {.nameservers = l7.dns.nameservers,
           .timeout = std::chrono::seconds(l7.dns.timeout_s),
           .tries = static_cast<int>(l7.dns.tries)};
  s.dns_min_ttl = std::chrono::seconds(l7.dns.min_ttl_s);
  s.dns_max_ttl = std::chrono::seconds(l7.dns.max_ttl_s);
  if (!l7.access_log.path.empty()) {
    AccessLogSpec spec{.path = l7.access_log.path};
    for (const auto& name : l7.access_log.fields) {
      auto field = access_field(name);
      if (!field) {
        return fail("l7.access_log.fields: no field named \"" + name + "\"");
      }
      spec.fields.push_back(*field);
    }
    if (spec.fields.empty()) {
      const auto all = all_access_fields();
      spec.fields.assign(all.begin(), all.end());
    }
    out->access_log = std::move(spec);
  }
  for (const auto& l : l7.listeners) {
    ListenerSpec spec{.name = l.name,
                      .address = l.address,
                      .trust_forwarded = l.trust_forwarded,
                      .http2 = l.http2};
    if (l.tls) {
      auto tls = tls_spec_of(*l.tls, l7.certificates);
      if (!tls) {
        return fail("l7.listeners." + l.name + ".tls: " + tls.error());
      }
      const std::string& field = tls->client_subject_header;
      if (std::none_of(out->reserved_fields.begin(), out->reserved_fields.end(),
                       [&](const std::string& f) { return http1::iequals(f, field); })) {
        out->reserved_fields.push_back(field);
      }
      tls->http2 = l.http2;
      spec.tls = std::move(*tls);
    }
    out->listeners.push_back(std::move(spec));
  }
  for (const auto& u : l7.upstreams) {
    UpstreamSpec spec;
    spec.name = u.name;
    spec.policy = u.policy;
    spec.hash_on = static_cast<HashOn>(u.hash_on);
    spec.hash_name = u.hash_name;
    for (const auto& t : u.targets) {
      add_target(t, spec);
    }
    spec.connect_timeout = Millis(u.connect_timeout_ms);
    spec.response_timeout = Millis(u.response_timeout_ms);
    spec.max_idle = u.max_idle;
    spec.idle_timeout = std::chrono::seconds(u.idle_timeout_s);
    spec.max_lifetime = std::chrono::seconds(u.max_lifetime_s);
    spec.retries = u.retries;
    spec.http2 = u.protocol == config::L7UpstreamProtocol::kH2;
    spec.outlier.consecutive_5xx = u.consecutive_5xx;
    spec.outlier.consecutive_connect_failures = u.consecutive_connect_failures;
    spec.outlier.base_ejection = std::chrono::seconds(u.ejection_s);
    if (u.circuit_breaker) {
      spec.breaker = BreakerSettings{.failures_to_open = u.circuit_breaker->failures,
                                     .open_for = std::chrono::seconds(u.circuit_breaker->open_s),
                                     .half_open_probes = u.circuit_breaker->half_open_probes};
    }
    spec.outlier.max_ejection = std::chrono::seconds(u.ejection_s) * 10;
    if (const auto& c = u.health_check) {
      HealthCheckSettings check{.http = c->type == config::L7HealthCheckType::kHttp,
                                .path = c->path,
                                .host = c->host,
                                .interval = Millis(c->interval_ms),
                                .timeout = Millis(c->timeout_ms),
                                .thresholds = {.rise = c->rise, .fall = c->fall}};
      if (!c->expected_status.empty()) {
        check.expected_status.clear();
        for (const auto& [low, high] : c->expected_status) {
          check.expected_status.emplace_back(static_cast<int>(low), static_cast<int>(high));
        }
      }
      spec.health_check = std::move(check);
    }
    if (u.tls) {
      auto tls = upstream_tls_of(*u.tls, l7.certificates);
      if (!tls) {
        return fail("l7.upstreams." + u.name + ".tls: " + tls.error());
      }
      spec.tls = std::move(*tls);
      spec.tls->http2 = spec.http2;  // ALPN offers h2 alone
    }
    std::vector<BackendInfo> backends;
    for (const auto& t : spec.targets) {
      backends.push_back({.key = t.key, .weight = t.weight});
    }
    if (make_balancer(spec.policy, backends, 1) == nullptr) {
      return fail("upstream " + u.name + ": no balancing policy named \"" + spec.policy + "\"");
    }
    out->upstreams.push_back(std::move(spec));
  }
  std::vector<RouteSpec> routes;
  out->actions.resize(l7.routes.size());
  for (size_t i = 0; i < l7.routes.size(); ++i) {
    const auto& r = l7.routes[i];
    RouteSpec spec{.name = r.name,
                   .priority = r.priority,
                   .hosts = r.hosts,
                   .path_match = path_match_of(r.path_match),
                   .path = r.path,
                   .methods = r.methods,
                   .headers = matches_of(r.headers),
                   .query = matches_of(r.query),
                   .upstream = r.upstream,
                   .id = i};
    routes.push_back(std::move(spec));
    RouteAction& action = out->actions[i];
    const auto upstream = std::find_if(l7.upstreams.begin(), l7.upstreams.end(),
                                       [&](const auto& u) { return u.name == r.upstream; });
    if (upstream == l7.upstreams.end()) {
      return fail("route " + r.name + ": no upstream named \"" + r.upstream + "\"");
    }
    action.upstream = static_cast<size_t>(upstream - l7.upstreams.begin());
    auto storage = std::make_shared<std::vector<std::string>>();
    for (const auto& nv : r.add_headers) {
      storage->push_back(nv.name);
      storage->push_back(nv.value.value_or(""));
    }
    action.add_storage = std::move(storage);
    action.remove = r.remove_headers;
    if (r.rate_limit) {
      action.rate_limit = RateSettings{.rate = r.rate_limit->rate, .burst = r.rate_limit->burst};
      action.rate_key_header = r.rate_limit->header;
    }
  }
  // The added fields' views, made once the strings are where they stay.
  for (auto& action : out->actions) {
    const std::vector<std::string>& storage = *action.add_storage;
    for (size_t i = 0; i + 1 < storage.size(); i += 2) {
      action.add.push_back({.name = storage[i], .value = storage[i + 1]});
    }
  }
  auto table = RouteTable::compile(std::move(routes));
  if (!table) {
    return fail(table.error());
  }
  out->routes = std::move(*table);
  return std::shared_ptr<const ProxyConfig>(std::move(out));
}

}  // namespace vigil::l7
