// The l7 section: listeners, routes and upstreams into their types, and each mistake with
// its path and line, including the values a client could smuggle through (line ends in a
// field value, a field name that is not a token, a regex RE2 refuses).
#include <gtest/gtest.h>

#include "config/document.h"

namespace vigil::config {
namespace {

ParseResult parse(const std::string& text) {
  return parse_text(text, "vigil.yaml");
}

TEST(L7Config, SectionParsesIntoTypes) {
  const auto r = parse(R"(l7:
  workers: 2
  header_timeout_ms: 5000
  dns: {nameservers: ["10.0.0.53:53"], min_ttl_s: 10}
  listeners:
    web: {address: "0.0.0.0:80"}
    internal: {address: "[::1]:8080", trust_forwarded: true}
  upstreams:
    app:
      policy: maglev
      hash_on: cookie
      hash_name: session
      targets:
        - {address: "10.0.0.5:8080", weight: 3}
        - {address: "10.0.0.6:8080"}
      connect_timeout_ms: 500
      retries: 2
      circuit_breaker: {failures: 3, open_s: 20}
      health_check: {path: /healthz, host: app.internal, expected_status: ["200", "301-302"], interval_ms: 500, fall: 2}
    db:
      targets: [{address: "10.0.0.7:5432"}, {address: "db.internal.example:5432", weight: 2}]
      health_check: {type: tcp}
    grpc:
      protocol: h2
      targets: [{address: "10.0.0.8:50051"}]
      health_check: {type: tcp}
  routes:
    api:
      priority: 10
      hosts: [api.example.com, "*.example.org"]
      path_prefix: /api
      methods: [GET, POST]
      headers: [{name: X-Env, value: prod}, {name: X-Debug}]
      query: [{name: v, value: "2"}]
      upstream: app
      add_headers: [{name: X-Route, value: api}]
      remove_headers: [Cookie]
      rate_limit: {rate: 50, burst: 100, header: X-Api-Key}
    rest: {upstream: app}
)");
  ASSERT_TRUE(r.ok()) << r.errors.to_string();
  const L7Config& l7 = r.config.l7;
  EXPECT_TRUE(l7.enabled);
  EXPECT_EQ(l7.workers, 2u);
  EXPECT_EQ(l7.header_timeout_ms, 5000u);
  ASSERT_EQ(l7.listeners.size(), 2u);
  EXPECT_EQ(l7.listeners[1].address.to_string(), "[::1]:8080");
  EXPECT_TRUE(l7.listeners[1].trust_forwarded);
  ASSERT_EQ(l7.upstreams.size(), 3u);
  EXPECT_EQ(l7.upstreams[0].protocol, L7UpstreamProtocol::kHttp1);
  EXPECT_EQ(l7.upstreams[2].protocol, L7UpstreamProtocol::kH2);
  EXPECT_EQ(l7.upstreams[0].policy, "maglev");
  EXPECT_EQ(l7.upstreams[0].hash_on, L7HashOn::kCookie);
  ASSERT_EQ(l7.upstreams[0].targets.size(), 2u);
  EXPECT_EQ(l7.upstreams[0].targets[0].weight, 3u);
  EXPECT_EQ(l7.upstreams[0].connect_timeout_ms, 500u);
  EXPECT_EQ(l7.upstreams[0].retries, 2u);
  ASSERT_TRUE(l7.upstreams[0].circuit_breaker);
  EXPECT_EQ(l7.upstreams[0].circuit_breaker->failures, 3u);
  EXPECT_EQ(l7.upstreams[0].circuit_breaker->open_s, 20u);
  EXPECT_EQ(l7.upstreams[0].circuit_breaker->half_open_probes, 1u);
  ASSERT_TRUE(l7.upstreams[0].health_check);
  const L7HealthCheckConfig& check = *l7.upstreams[0].health_check;
  EXPECT_EQ(check.type, L7HealthCheckType::kHttp);
  EXPECT_EQ(check.path, "/healthz");
  EXPECT_EQ(check.host, "app.internal");
  const std::vector<std::pair<uint32_t, uint32_t>> ranges = {{200, 200}, {301, 302}};
  EXPECT_EQ(check.expected_status, ranges);
  EXPECT_EQ(check.interval_ms, 500u);
  EXPECT_EQ(check.timeout_ms, 500u) << "not past the interval: 1000 is the default otherwise";
  EXPECT_EQ(check.rise, 2u);
  EXPECT_EQ(check.fall, 2u);
  ASSERT_TRUE(l7.upstreams[1].health_check);
  EXPECT_EQ(l7.upstreams[1].health_check->type, L7HealthCheckType::kTcp);
  ASSERT_EQ(l7.upstreams[1].targets.size(), 2u);
  EXPECT_EQ(l7.upstreams[1].targets[1].address.host, "db.internal.example");
  EXPECT_EQ(l7.upstreams[1].targets[1].address.port, 5432);
  EXPECT_EQ(l7.upstreams[1].targets[1].weight, 2u);
  ASSERT_EQ(l7.dns.nameservers.size(), 1u);
  EXPECT_EQ(l7.dns.nameservers[0].to_string(), "10.0.0.53:53");
  EXPECT_EQ(l7.dns.min_ttl_s, 10u);
  EXPECT_EQ(l7.dns.max_ttl_s, 300u);
  EXPECT_FALSE(l7.upstreams[1].circuit_breaker);
  ASSERT_EQ(l7.routes.size(), 2u);
  const L7RouteConfig& api = l7.routes[0];
  EXPECT_EQ(api.priority, 10);
  EXPECT_EQ(api.path_match, L7PathMatch::kPrefix);
  EXPECT_EQ(api.path, "/api");
  ASSERT_EQ(api.headers.size(), 2u);
  EXPECT_FALSE(api.headers[1].value.has_value());
  ASSERT_TRUE(api.rate_limit.has_value());
  EXPECT_EQ(api.rate_limit->burst, 100);
  EXPECT_EQ(api.rate_limit->header, "X-Api-Key");
  EXPECT_EQ(l7.routes[1].path_match, L7PathMatch::kAny);
}

TEST(L7Config, TlsListenersNameTheirCertificates) {
  const auto r = parse(R"(l7:
  certificates:
    www: {certificate: /etc/vigil/tls/www.pem, private_key: /etc/vigil/tls/www.key}
    api:
      certificate: /etc/vigil/tls/api.pem
      private_key: /etc/vigil/tls/api.key
      ocsp_response: /etc/vigil/tls/api.ocsp
  listeners:
    https:
      address: "0.0.0.0:443"
      tls:
        certificates: [www, api]
        min_version: tls1.3
        client_ca: /etc/vigil/tls/clients.pem
    mtls-optional:
      address: "0.0.0.0:8443"
      tls: {certificates: [api], client_ca: /ca.pem, client_certificate: optional,
            client_subject_header: X-Ssl-Subject, session_tickets: false,
            ciphers: "ECDHE-RSA-AES128-GCM-SHA256"}
    web: {address: "0.0.0.0:80"}
)");
  ASSERT_TRUE(r.ok()) << r.errors.to_string();
  const L7Config& l7 = r.config.l7;
  ASSERT_EQ(l7.certificates.size(), 2u);
  EXPECT_EQ(l7.certificates[1].ocsp_response_file, "/etc/vigil/tls/api.ocsp");
  ASSERT_EQ(l7.listeners.size(), 3u);
  ASSERT_TRUE(l7.listeners[0].tls);
  const L7ListenerTlsConfig& https = *l7.listeners[0].tls;
  EXPECT_EQ(https.certificates, (std::vector<std::string>{"www", "api"}));
  EXPECT_EQ(https.min_version, L7TlsVersion::k13);
  EXPECT_EQ(https.client_certificate, L7ClientCertificate::kRequired) << "a CA: required";
  EXPECT_EQ(https.client_subject_header, "X-Client-Subject");
  EXPECT_TRUE(https.session_tickets);
  const L7ListenerTlsConfig& optional = *l7.listeners[1].tls;
  EXPECT_EQ(optional.client_certificate, L7ClientCertificate::kOptional);
  EXPECT_EQ(optional.client_subject_header, "X-Ssl-Subject");
  EXPECT_FALSE(optional.session_tickets);
  EXPECT_EQ(optional.ciphers, "ECDHE-RSA-AES128-GCM-SHA256");
  EXPECT_FALSE(l7.listeners[2].tls);
}

TEST(L7Config, TlsUpstreamsVerifyTheirTargets) {
  const auto r = parse(R"(l7:
  certificates:
    edge: {certificate: /etc/vigil/tls/edge.pem, private_key: /etc/vigil/tls/edge.key}
  upstreams:
    app:
      targets: [{address: "10.0.0.1:443"}]
      tls: {server_name: App.Internal, ca: /etc/vigil/tls/app-ca.pem, certificate: edge,
            min_version: tls1.3}
    system-store:
      targets: [{address: "10.0.0.2:443"}]
      tls: {}
    anyone:
      targets: [{address: "10.0.0.3:443"}]
      tls: {verify: false}
    plain: {targets: [{address: "10.0.0.4:80"}]}
)");
  ASSERT_TRUE(r.ok()) << r.errors.to_string();
  const auto& ups = r.config.l7.upstreams;
  ASSERT_EQ(ups.size(), 4u);
  ASSERT_TRUE(ups[0].tls);
  EXPECT_EQ(ups[0].tls->server_name, "app.internal");
  EXPECT_TRUE(ups[0].tls->verify);
  EXPECT_EQ(ups[0].tls->ca_file, "/etc/vigil/tls/app-ca.pem");
  EXPECT_EQ(ups[0].tls->certificate, "edge");
  EXPECT_EQ(ups[0].tls->min_version, L7TlsVersion::k13);
  ASSERT_TRUE(ups[1].tls);
  EXPECT_TRUE(ups[1].tls->verify);
  EXPECT_EQ(ups[1].tls->ca_file, "") << "the system's store";
  EXPECT_EQ(ups[1].tls->server_name, "");
  ASSERT_TRUE(ups[2].tls);
  EXPECT_FALSE(ups[2].tls->verify);
  EXPECT_FALSE(ups[3].tls);
}

TEST(L7Config, AccessLogFieldsInOrder) {
  const auto r =
      parse("l7:\n  access_log: {path: /var/log/vigil/l7.log, fields: [status, path, time]}\n");
  ASSERT_TRUE(r.ok()) << r.errors.to_string();
  EXPECT_EQ(r.config.l7.access_log.path, "/var/log/vigil/l7.log");
  EXPECT_EQ(r.config.l7.access_log.fields, (std::vector<std::string>{"status", "path", "time"}));
}

TEST(L7Config, AbsentSectionLeavesTheProxyOff) {
  const auto r = parse("system: {hostname: edge1}\n");
  ASSERT_TRUE(r.ok()) << r.errors.to_string();
  EXPECT_FALSE(r.config.l7.enabled);
}

struct Bad {
  const char* name;
  const char* yaml;
  const char* error;  // a part of the message expected
};

class L7ConfigErrors : public testing::TestWithParam<Bad> {};

TEST_P(L7ConfigErrors, RefusedWithPathAndReason) {
  const auto r = parse(GetParam().yaml);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.errors.to_string().find(GetParam().error), std::string::npos) << r.errors.to_string();
}

INSTANTIATE_TEST_SUITE_P(
    All, L7ConfigErrors,
    testing::Values(
        Bad{"UnknownUpstream", "l7:\n  routes:\n    r: {upstream: nope}\n",
            "no upstream named \"nope\" in l7.upstreams"},
        Bad{"NoTargets", "l7:\n  upstreams:\n    a: {targets: []}\n", "needs at least one target"},
        Bad{"BadRegex",
            "l7:\n  upstreams:\n    a: {targets: [{address: \"10.0.0.1:80\"}]}\n"
            "  routes:\n    r: {upstream: a, path_regex: \"/(a\"}\n",
            "is not an RE2 regular expression"},
        Bad{"TwoPaths",
            "l7:\n  upstreams:\n    a: {targets: [{address: \"10.0.0.1:80\"}]}\n"
            "  routes:\n    r: {upstream: a, path: /a, path_prefix: /b}\n",
            "give one of path, path_prefix and path_regex"},
        Bad{"LineEndInAddedValue",
            "l7:\n  upstreams:\n    a: {targets: [{address: \"10.0.0.1:80\"}]}\n"
            "  routes:\n    r: {upstream: a, add_headers: [{name: X-A, value: \"x\\r\\nEvil: "
            "1\"}]}\n",
            "has a control character"},
        Bad{"FieldNameNotAToken",
            "l7:\n  upstreams:\n    a: {targets: [{address: \"10.0.0.1:80\"}]}\n"
            "  routes:\n    r: {upstream: a, add_headers: [{name: \"X A\", value: b}]}\n",
            "is not a field name"},
        Bad{"AddedFieldWithoutValue",
            "l7:\n  upstreams:\n    a: {targets: [{address: \"10.0.0.1:80\"}]}\n"
            "  routes:\n    r: {upstream: a, add_headers: [{name: X-A}]}\n",
            "needs a value"},
        Bad{"PathWithSpace",
            "l7:\n  upstreams:\n    a: {targets: [{address: \"10.0.0.1:80\"}]}\n"
            "  routes:\n    r: {upstream: a, path: \"/a b\"}\n",
            "is not a path"},
        Bad{"HashWithoutName",
            "l7:\n  upstreams:\n    a: {hash_on: header, targets: [{address: \"10.0.0.1:80\"}]}\n",
            "needs hash_name"},
        Bad{"DuplicateTarget",
            "l7:\n  upstreams:\n    a: {targets: [{address: \"10.0.0.1:80\"}, {address: "
            "\"10.0.0.1:80\"}]}\n",
            "is listed twice"},
        Bad{"DuplicateTargetWrittenTwoWays",
            "l7:\n  upstreams:\n    a: {targets: [{address: \"[FD00:0::5]:80\"}, {address: "
            "\"[fd00::5]:80\"}]}\n",
            "is listed twice"},
        Bad{"DuplicateNameInTwoCases",
            "l7:\n  upstreams:\n    a: {targets: [{address: \"App.Example:80\"}, {address: "
            "\"app.example:80\"}]}\n",
            "is listed twice"},
        Bad{"TwoListenersOneAddress",
            "l7:\n  listeners:\n    a: {address: \"0.0.0.0:80\"}\n    b: {address: "
            "\"0.0.0.0:80\"}\n",
            "listener a listens there too"},
        Bad{"TlsWithoutCertificates",
            "l7:\n  listeners:\n    a: {address: \"0.0.0.0:443\", tls: {}}\n",
            "missing required key \"certificates\""},
        Bad{"TlsUnknownCertificate",
            "l7:\n  listeners:\n    a: {address: \"0.0.0.0:443\", tls: {certificates: [www]}}\n",
            "l7.listeners.a.tls.certificates[0]"},
        Bad{"TlsCertificateRelative",
            "l7:\n  certificates:\n    www: {certificate: www.pem, private_key: /k}\n",
            "l7.certificates.www.certificate"},
        Bad{"TlsBadCiphers",
            "l7:\n  certificates:\n    www: {certificate: /c, private_key: /k}\n"
            "  listeners:\n    a: {address: \"0.0.0.0:443\", tls: {certificates: [www], ciphers: "
            "NOPE-CIPHER}}\n",
            "is not a cipher list OpenSSL knows"},
        Bad{"TlsOldVersion",
            "l7:\n  certificates:\n    www: {certificate: /c, private_key: /k}\n"
            "  listeners:\n    a: {address: \"0.0.0.0:443\", tls: {certificates: [www], "
            "min_version: tls1.0}}\n",
            "l7.listeners.a.tls.min_version"},
        Bad{"TlsClientCertificateWithoutCa",
            "l7:\n  certificates:\n    www: {certificate: /c, private_key: /k}\n"
            "  listeners:\n    a: {address: \"0.0.0.0:443\", tls: {certificates: [www], "
            "client_certificate: required}}\n",
            "needs client_ca"},
        Bad{"TlsSubjectHeaderNotAToken",
            "l7:\n  certificates:\n    www: {certificate: /c, private_key: /k}\n"
            "  listeners:\n    a: {address: \"0.0.0.0:443\", tls: {certificates: [www], "
            "client_ca: /ca, client_subject_header: \"X Subject\"}}\n",
            "is not a field name"},
        Bad{"TlsSubjectHeaderIsTheProxys",
            "l7:\n  certificates:\n    www: {certificate: /c, private_key: /k}\n"
            "  listeners:\n    a: {address: \"0.0.0.0:443\", tls: {certificates: [www], "
            "client_ca: /ca, client_subject_header: Content-Length}}\n",
            "is a field the proxy writes itself"},
        Bad{"UpstreamTlsServerNameNotAHostName",
            "l7:\n  upstreams:\n    a: {targets: [{address: \"10.0.0.1:443\"}], tls: "
            "{server_name: \"a b\"}}\n",
            "l7.upstreams.a.tls.server_name"},
        Bad{"UpstreamTlsServerNameAnAddress",
            "l7:\n  upstreams:\n    a: {targets: [{address: \"10.0.0.1:443\"}], tls: "
            "{server_name: 10.0.0.1}}\n",
            "is an address, which SNI cannot carry"},
        Bad{"UpstreamTlsCaWithoutVerify",
            "l7:\n  upstreams:\n    a: {targets: [{address: \"10.0.0.1:443\"}], tls: "
            "{verify: false, ca: /ca.pem}}\n",
            "is for verify: true"},
        Bad{"UpstreamTlsUnknownCertificate",
            "l7:\n  upstreams:\n    a: {targets: [{address: \"10.0.0.1:443\"}], tls: "
            "{certificate: nope}}\n",
            "\"nope\" is not in l7.certificates"},
        Bad{"UpstreamTlsUnknownField",
            "l7:\n  upstreams:\n    a: {targets: [{address: \"10.0.0.1:443\"}], tls: "
            "{sni: a.test}}\n",
            "l7.upstreams.a.tls.sni"},
        Bad{"HealthCheckTcpWithPath",
            "l7:\n  upstreams:\n    a: {targets: [{address: \"10.0.0.1:80\"}], health_check: "
            "{type: tcp, path: /h}}\n",
            "is for type: http"},
        Bad{"HealthCheckTimeoutPastInterval",
            "l7:\n  upstreams:\n    a: {targets: [{address: \"10.0.0.1:80\"}], health_check: "
            "{interval_ms: 500, timeout_ms: 600}}\n",
            "is longer than interval_ms (500)"},
        Bad{"HealthCheckStatusRange",
            "l7:\n  upstreams:\n    a: {targets: [{address: \"10.0.0.1:80\"}], health_check: "
            "{expected_status: [\"200-99\"]}}\n",
            "l7.upstreams.a.health_check.expected_status[0]"},
        Bad{"HealthCheckStatusOutOfRange",
            "l7:\n  upstreams:\n    a: {targets: [{address: \"10.0.0.1:80\"}], health_check: "
            "{expected_status: [\"600\"]}}\n",
            "within 100-599"},
        Bad{"HealthCheckPathRelative",
            "l7:\n  upstreams:\n    a: {targets: [{address: \"10.0.0.1:80\"}], health_check: "
            "{path: healthz}}\n",
            "is not an absolute path"},
        Bad{"HealthCheckHostWithLineEnd",
            "l7:\n  upstreams:\n    a: {targets: [{address: \"10.0.0.1:80\"}], health_check: "
            "{host: \"a\\r\\nX: 1\"}}\n",
            "l7.upstreams.a.health_check.host"},
        Bad{"HealthCheckRiseZero",
            "l7:\n  upstreams:\n    a: {targets: [{address: \"10.0.0.1:80\"}], health_check: "
            "{rise: 0}}\n",
            "l7.upstreams.a.health_check.rise"},
        Bad{"UpstreamProtocolUnknown",
            "l7:\n  upstreams:\n    a: {protocol: h3, targets: [{address: \"10.0.0.1:80\"}]}\n",
            "l7.upstreams.a.protocol"},
        Bad{"H2UpstreamWithHttpChecks",
            "l7:\n  upstreams:\n    a: {protocol: h2, targets: [{address: \"10.0.0.1:80\"}], "
            "health_check: {path: /h}}\n",
            "which an h2 upstream may not answer: use type: tcp"},
        Bad{"UnknownPolicy",
            "l7:\n  upstreams:\n    a: {policy: random, targets: [{address: \"10.0.0.1:80\"}]}\n",
            "must be round-robin"},
        Bad{"AccessLogField", "l7:\n  access_log: {path: /var/log/a.log, fields: [time, size]}\n",
            "l7.access_log.fields[1]"},
        Bad{"AccessLogRelative", "l7:\n  access_log: {path: a.log}\n", "needs an absolute path"},
        Bad{"TargetNotAHostName",
            "l7:\n  upstreams:\n    a: {targets: [{address: \"app..local:80\"}]}\n",
            "l7.upstreams.a.targets[0].address"},
        Bad{"TargetWithoutPort", "l7:\n  upstreams:\n    a: {targets: [{address: app.local}]}\n",
            "has no port"},
        Bad{"DnsNameserverIpv6", "l7:\n  dns: {nameservers: [\"[::1]:53\"]}\n",
            "is not an IPv4 address"},
        Bad{"DnsFourNameservers",
            "l7:\n  dns: {nameservers: [\"10.0.0.1:53\", \"10.0.0.2:53\", \"10.0.0.3:53\", "
            "\"10.0.0.4:53\"]}\n",
            "l7.dns.nameservers[3]"},
        Bad{"DnsTtlBoundsCrossed", "l7:\n  dns: {min_ttl_s: 60, max_ttl_s: 30}\n",
            "is more than max_ttl_s"}),
    [](const testing::TestParamInfo<Bad>& p) { return std::string(p.param.name); });

}  // namespace
}  // namespace vigil::config
