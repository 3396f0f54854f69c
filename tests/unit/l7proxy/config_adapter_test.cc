// The l7 section as vigil-l7 runs it: targets by address and by DNS name apart, the dns
// settings carried over, an upstream's TLS with its client certificate's files, and a route's
// added fields still good in a copy of the config once the original is gone (the proxy copies
// the config each time DNS changes a target).
#include "l7proxy/config_adapter.h"

#include <gtest/gtest.h>

#include "config/document.h"

namespace vigil::l7 {
namespace {

std::shared_ptr<const ProxyConfig> build(const std::string& yaml) {
  const auto parsed = config::parse_text(yaml, "vigil.yaml");
  EXPECT_TRUE(parsed.ok()) << parsed.errors.to_string();
  auto built = build_proxy_config(parsed.config, 1);
  EXPECT_TRUE(built) << (built ? "" : built.error());
  return built ? *built : nullptr;
}

TEST(ConfigAdapter, TargetsByAddressAndByNameGoApart) {
  const auto c = build(R"(l7:
  dns: {nameservers: ["10.0.0.53:53"], timeout_s: 3, tries: 1, min_ttl_s: 2, max_ttl_s: 60}
  listeners: {web: {address: "127.0.0.1:8080"}}
  upstreams:
    app:
      targets:
        - {address: "10.0.0.5:8080"}
        - {address: "[fd00::5]:8080", weight: 3}
        - {address: "app.internal.example:8081", weight: 2}
  routes: {all: {upstream: app}}
)");
  ASSERT_TRUE(c);
  const UpstreamSpec& u = c->upstreams[0];
  ASSERT_EQ(u.targets.size(), 2u);
  EXPECT_EQ(u.targets[0].key, "10.0.0.5:8080");
  EXPECT_EQ(u.targets[1].key, "[fd00::5]:8080");
  EXPECT_EQ(u.targets[1].weight, 3u);
  ASSERT_EQ(u.named.size(), 1u);
  EXPECT_EQ(u.named[0].host, "app.internal.example");
  EXPECT_EQ(u.named[0].port, 8081);
  EXPECT_EQ(u.named[0].weight, 2u);
  ASSERT_EQ(c->settings.dns.nameservers.size(), 1u);
  EXPECT_EQ(c->settings.dns.timeout, std::chrono::seconds(3));
  EXPECT_EQ(c->settings.dns.tries, 1);
  EXPECT_EQ(c->settings.dns_min_ttl, std::chrono::seconds(2));
  EXPECT_EQ(c->settings.dns_max_ttl, std::chrono::seconds(60));
}

TEST(ConfigAdapter, AnUpstreamsTlsCarriesItsClientCertificatesFiles) {
  const auto c = build(R"(l7:
  certificates:
    edge: {certificate: /etc/vigil/tls/edge.pem, private_key: /etc/vigil/tls/edge.key}
  listeners: {web: {address: "127.0.0.1:8080"}}
  upstreams:
    app:
      targets: [{address: "10.0.0.5:8443"}]
      tls: {server_name: app.internal, ca: /etc/vigil/tls/ca.pem, certificate: edge}
    plain: {targets: [{address: "10.0.0.6:80"}]}
  routes: {all: {upstream: app}}
)");
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->upstreams[0].tls);
  const UpstreamTlsSpec& tls = *c->upstreams[0].tls;
  EXPECT_EQ(tls.server_name, "app.internal");
  EXPECT_TRUE(tls.verify);
  EXPECT_EQ(tls.ca_file, "/etc/vigil/tls/ca.pem");
  ASSERT_TRUE(tls.certificate);
  EXPECT_EQ(tls.certificate->certificate_file, "/etc/vigil/tls/edge.pem");
  EXPECT_EQ(tls.certificate->private_key_file, "/etc/vigil/tls/edge.key");
  EXPECT_FALSE(tls.tls13_only);
  EXPECT_FALSE(tls.http2);
  EXPECT_FALSE(c->upstreams[0].client_tls) << "loaded when the proxy prepares, not here";
  EXPECT_FALSE(c->upstreams[1].tls);
}

TEST(ConfigAdapter, AnHttp2PoolOffersOnlyH2ByAlpn) {
  const auto c = build(R"(l7:
  listeners: {web: {address: "127.0.0.1:8080"}}
  upstreams:
    grpc:
      protocol: h2
      targets: [{address: "10.0.0.5:8443"}]
      tls: {server_name: grpc.internal}
    h2c: {protocol: h2, targets: [{address: "10.0.0.6:80"}]}
  routes: {all: {upstream: grpc}}
)");
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->upstreams[0].http2);
  ASSERT_TRUE(c->upstreams[0].tls);
  EXPECT_TRUE(c->upstreams[0].tls->http2);
  EXPECT_TRUE(c->upstreams[1].http2);
  EXPECT_FALSE(c->upstreams[1].tls);
}

TEST(ConfigAdapter, AddedFieldsOutliveTheConfigTheyWereCopiedFrom) {
  auto original = build(R"(l7:
  listeners: {web: {address: "127.0.0.1:8080"}}
  upstreams: {app: {targets: [{address: "10.0.0.5:8080"}]}}
  routes: {all: {upstream: app, add_headers: [{name: X-Site, value: branch-12}]}}
)");
  ASSERT_TRUE(original);
  const ProxyConfig copy = *original;
  original.reset();
  ASSERT_EQ(copy.actions[0].add.size(), 1u);
  EXPECT_EQ(copy.actions[0].add[0].name, "X-Site");
  EXPECT_EQ(copy.actions[0].add[0].value, "branch-12");
}

}  // namespace
}  // namespace vigil::l7
