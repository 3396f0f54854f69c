// The mesh section: defaults, a good document, and each mistake with its path, line and column.
#include <gtest/gtest.h>

#include "config/document.h"

namespace vigil::config {
namespace {

// `wg genkey | wg pubkey` output.
constexpr const char* kKeyA = "KgWYky3MH3oUY+IBO7LfL8ObVypjHG6Dte0jrq4giTU=";
constexpr const char* kKeyB = "5rIcK4isLYsZgkYRWPhY6I30S+u71xTdJWd9kJcWQkA=";

constexpr const char* kBase = R"(interfaces:
  wan0: {role: wan, addresses: [192.0.2.1/24]}
dataplane: {forwarding: true}
)";

ParseResult parse_with(const std::string& mesh) {
  return parse_text(std::string(kBase) + mesh, "vigil.yaml");
}

TEST(MeshConfig, NoSectionIsNoMesh) {
  const auto r = parse_text("system: {hostname: a}\n", "vigil.yaml");
  ASSERT_TRUE(r.errors.empty()) << r.errors.to_string();
  EXPECT_FALSE(r.config.mesh.enabled);
  EXPECT_TRUE(r.config.mesh.peers.empty());
}

TEST(MeshConfig, GoodDocumentParsesIntoTypes) {
  const auto r = parse_with(std::string(R"(mesh:
  listen_port: 51000
  cookie_threshold: 50
  resolve_interval: 30
  peers:
    branch-2:
      public_key: ")") + kKeyA +
                            R"("
      preshared_key_file: /etc/vigil/psk/branch-2
      endpoints: ["198.51.100.2:51820", "[2001:db8::2]:51820", "branch-2.example.net:51820"]
      allowed_ips: [10.2.0.0/16, "fd00:2::/48"]
      persistent_keepalive: 25
    branch-3: {public_key: ")" +
                            kKeyB + R"("}
)");
  ASSERT_TRUE(r.errors.empty()) << r.errors.to_string();
  const MeshConfig& m = r.config.mesh;
  EXPECT_TRUE(m.enabled);
  EXPECT_EQ(m.private_key_file, "/etc/vigil/mesh.key");
  EXPECT_EQ(m.listen_port, 51000);
  EXPECT_EQ(m.cookie_threshold, 50u);
  EXPECT_EQ(m.resolve_interval, 30u);
  ASSERT_EQ(m.peers.size(), 2u);
  const MeshPeerConfig& p = m.peers[0];
  EXPECT_EQ(p.name, "branch-2");
  EXPECT_EQ(key_to_base64(p.public_key), kKeyA);
  EXPECT_EQ(p.preshared_key_file, "/etc/vigil/psk/branch-2");
  ASSERT_EQ(p.endpoints.size(), 3u);
  EXPECT_EQ(p.endpoints[0].to_string(), "198.51.100.2:51820");
  EXPECT_EQ(p.endpoints[1].host, "2001:db8::2");
  EXPECT_EQ(p.endpoints[1].to_string(), "[2001:db8::2]:51820");
  EXPECT_EQ(p.endpoints[2].host, "branch-2.example.net");
  ASSERT_EQ(p.allowed_ips.size(), 2u);
  EXPECT_EQ(p.allowed_ips[1].to_string(), "fd00:2::/48");
  EXPECT_EQ(p.persistent_keepalive, 25u);
  EXPECT_TRUE(m.peers[1].endpoints.empty());
  EXPECT_EQ(m.peers[1].persistent_keepalive, 0u);
  EXPECT_EQ(m.site, "");
  EXPECT_EQ(m.enrolment_port, 51821);
  EXPECT_EQ(m.identity_key_file, "/etc/vigil/mesh-identity.key");
}

TEST(MeshConfig, MembershipFields) {
  const auto r = parse_with(std::string(R"(mesh:
  site: branch-1
  enrolment_port: 0
  networks: [10.1.0.0/16, "fd00:1::/32"]
  advertise: ["203.0.113.1:4500"]
  peers:
    hq: {public_key: ")") + kKeyA +
                            "\", identity: \"" + kKeyB + "\", enrolment_port: 443}\n");
  ASSERT_TRUE(r.errors.empty()) << r.errors.to_string();
  const MeshConfig& m = r.config.mesh;
  EXPECT_EQ(m.site, "branch-1");
  EXPECT_EQ(m.enrolment_port, 0);
  ASSERT_EQ(m.networks.size(), 2u);
  EXPECT_EQ(m.networks[1].to_string(), "fd00:1::/32");
  ASSERT_EQ(m.advertise.size(), 1u);
  EXPECT_EQ(m.advertise[0].to_string(), "203.0.113.1:4500");
  ASSERT_TRUE(m.peers[0].identity);
  EXPECT_EQ(key_to_base64(*m.peers[0].identity), kKeyB);
  EXPECT_EQ(m.peers[0].enrolment_port, 443);
}

TEST(MeshConfig, RotationFields) {
  const auto r = parse_with(std::string(R"(mesh:
  private_key_file: /etc/vigil/mesh-20261205T083000Z.key
  previous_private_key_file: /etc/vigil/mesh.key
  previous_key_until: 2026-12-05T09:30:00Z
  peers:
    hq: {public_key: ")") + kKeyA +
                            "\", previous_public_key: \"" + kKeyB +
                            "\", previous_key_until: \"2026-12-05T10:00:00Z\"}\n");
  ASSERT_TRUE(r.errors.empty()) << r.errors.to_string();
  const MeshConfig& m = r.config.mesh;
  EXPECT_EQ(m.previous_private_key_file, "/etc/vigil/mesh.key");
  EXPECT_EQ(m.previous_key_until, 1796463000);
  ASSERT_TRUE(m.peers[0].previous_public_key);
  EXPECT_EQ(key_to_base64(*m.peers[0].previous_public_key), kKeyB);
  EXPECT_EQ(m.peers[0].previous_key_until, 1796464800);
}

struct Bad {
  const char* description;
  std::string mesh;
  const char* error;
};

class MeshErrors : public ::testing::TestWithParam<Bad> {};

TEST_P(MeshErrors, SaysWhatAndWhere) {
  const auto r = parse_with(GetParam().mesh);
  EXPECT_EQ(r.errors.to_string(), std::string(GetParam().error) + "\n");
  EXPECT_TRUE(r.config.mesh.peers.empty() || !r.ok());
}

const std::string kPeerA = std::string("{public_key: \"") + kKeyA + "\"";

INSTANTIATE_TEST_SUITE_P(
    Table, MeshErrors,
    ::testing::Values(
        Bad{"not a key", "mesh: {peers: {b: {public_key: abc}}}\n",
            "mesh.peers.b.public_key (4:32): is not a WireGuard key: 44 characters of base64, as "
            "`wg pubkey` prints"},
        Bad{"no key", "mesh: {peers: {b: {allowed_ips: [10.0.0.0/8]}}}\n",
            "mesh.peers.b (4:19): missing required key \"public_key\""},
        Bad{"relative key file", "mesh: {private_key_file: mesh.key}\n",
            "mesh.private_key_file (4:26): needs an absolute path"},
        Bad{"endpoint without port", "mesh: {peers: {b: " + kPeerA + ", endpoints: [a.net]}}}\n",
            "mesh.peers.b.endpoints[0] (4:92): \"a.net\" has no port: give host:port, the host an "
            "IP address (IPv6 in brackets) or a DNS name"},
        Bad{"IPv6 endpoint without brackets",
            "mesh: {peers: {b: " + kPeerA + ", endpoints: [\"2001:db8::1:51820\"]}}}\n",
            "mesh.peers.b.endpoints[0] (4:92): \"2001:db8::1:51820\" has an IPv6 address without "
            "brackets: give host:port, the host an IP address (IPv6 in brackets) or a DNS name"},
        Bad{"endpoint port out of range",
            "mesh: {peers: {b: " + kPeerA + ", endpoints: [\"a.net:70000\"]}}}\n",
            "mesh.peers.b.endpoints[0] (4:92): \"a.net:70000\" has no port in 1-65535: give "
            "host:port, the host an IP address (IPv6 in brackets) or a DNS name"},
        Bad{"endpoint host not a name",
            "mesh: {peers: {b: " + kPeerA + ", endpoints: [\"a_b..net:1\"]}}}\n",
            "mesh.peers.b.endpoints[0] (4:92): \"a_b..net:1\" has a host that is neither an IP "
            "address nor a DNS name: give host:port, the host an IP address (IPv6 in brackets) or "
            "a DNS name"},
        Bad{"two peers, one key", "mesh: {peers: {b: " + kPeerA + "}, c: " + kPeerA + "}}}\n",
            "mesh.peers.c.public_key (4:97): is peer b's key too: one key is one peer"},
        Bad{"one prefix, two peers",
            "mesh: {peers: {b: " + kPeerA + ", allowed_ips: [10.2.0.0/16]}, c: {public_key: \"" +
                kKeyB + "\", allowed_ips: [10.2.0.0/16]}}}\n",
            "mesh.peers.c.allowed_ips (4:186): gives 10.2.0.0/16, which peer b has: a prefix "
            "belongs to one peer"},
        Bad{"host bits in an allowed prefix",
            "mesh: {peers: {b: " + kPeerA + ", allowed_ips: [10.2.0.1/16]}}}\n",
            "mesh.peers.b.allowed_ips[0] (4:94): \"10.2.0.1/16\" has host bits set; the network is "
            "10.2.0.0/16"},
        Bad{"keepalive out of range",
            "mesh: {peers: {b: " + kPeerA + ", persistent_keepalive: 70000}}}\n",
            "mesh.peers.b.persistent_keepalive (4:102): must be 0 to 65535, got 70000"},
        Bad{"port zero", "mesh: {listen_port: 0}\n",
            "mesh.listen_port (4:21): must be 1 to 65535, got 0"},
        Bad{"site name with capitals", "mesh: {site: Branch}\n",
            "mesh.site (4:14): is not a site name: 1-63 of a-z, 0-9 and '-', not '-' at either "
            "end"},
        Bad{"a peer named as this site", "mesh: {site: b, peers: {b: " + kPeerA + "}}}\n",
            "mesh.peers.b (4:28): is this site's own name (mesh.site): a site is not its own "
            "peer"},
        Bad{"two peers, one identity",
            "mesh: {peers: {b: " + kPeerA + ", identity: \"" + kKeyB + "\"}, c: {public_key: \"" +
                kKeyB + "\", identity: \"" + kKeyB + "\"}}}\n",
            "mesh.peers.c.identity (4:213): is peer b's identity too: one identity is one site"},
        Bad{"an advertised name", "mesh: {advertise: [\"a.net:51820\"]}\n",
            "mesh.advertise[0] (4:20): needs an IP address, not a name: the others are told it as "
            "it is"},
        Bad{"one file, two keys", "mesh: {identity_key_file: /etc/vigil/mesh.key}\n",
            "mesh.identity_key_file (4:27): is private_key_file too: the identity (Ed25519) and "
            "the WireGuard key are two keys in two files"},
        Bad{"a previous key without its end",
            "mesh: {peers: {b: " + kPeerA + ", previous_public_key: \"" + kKeyB + "\"}}}\n",
            "mesh.peers.b.previous_public_key (4:101): needs previous_key_until too: a previous "
            "key is taken until a time"},
        Bad{"an end without a previous key", "mesh: {previous_key_until: 2026-12-05T09:30:00Z}\n",
            "mesh.previous_key_until (4:28): needs previous_private_key_file too: a previous key "
            "is taken until a time"},
        Bad{"a time not in UTC",
            "mesh: {previous_private_key_file: /etc/vigil/old.key, previous_key_until: "
            "\"2026-12-05 09:30\"}\n",
            "mesh.previous_key_until (4:75): is not a UTC time: give YYYY-MM-DDTHH:MM:SSZ, as "
            "2026-12-05T08:30:00Z"},
        Bad{"the previous key file is the key file",
            "mesh: {previous_private_key_file: /etc/vigil/mesh.key, previous_key_until: "
            "2026-12-05T09:30:00Z}\n",
            "mesh.previous_private_key_file (4:35): is private_key_file or identity_key_file: the "
            "previous key is a file of its own"},
        Bad{"the previous key is the key",
            "mesh: {peers: {b: " + kPeerA + ", previous_public_key: \"" + kKeyA +
                "\", previous_key_until: 2026-12-05T09:30:00Z}}}\n",
            "mesh.peers.b.previous_public_key (4:101): is public_key itself: the previous key is "
            "the one the peer had before"},
        Bad{"a previous key another peer's",
            "mesh: {peers: {b: " + kPeerA + "}, c: {public_key: \"" + kKeyB +
                "\", previous_public_key: \"" + kKeyA +
                "\", previous_key_until: 2026-12-05T09:30:00Z}}}\n",
            "mesh.peers.c.previous_public_key (4:166): is peer b's key too: one key is one "
            "peer"}));

TEST(MeshConfig, PeersNeedTheFastPathAndAWanInterface) {
  const std::string mesh = "mesh: {peers: {b: " + kPeerA + "}}}\n";
  auto r = parse_text("interfaces: {wan0: {role: wan}}\n" + mesh, "vigil.yaml");
  EXPECT_EQ(r.errors.to_string(),
            "mesh (2:7): has peers, and the tunnels run in vigil-dp's fast path: set "
            "dataplane.forwarding: true\n");
  r = parse_text("interfaces: {lan0: {role: lan}}\ndataplane: {forwarding: true}\n" + mesh,
                 "vigil.yaml");
  EXPECT_EQ(r.errors.to_string(),
            "mesh (3:7): has peers, and the tunnels listen on wan interfaces: give an "
            "interface role: wan\n");
  // A mesh without peers (a key made, peers to come) needs neither.
  r = parse_text("mesh: {listen_port: 51821}\n", "vigil.yaml");
  EXPECT_TRUE(r.errors.empty()) << r.errors.to_string();
}

TEST(MeshConfig, LimitsAreEnforced) {
  std::string endpoints;
  for (int i = 1; i <= 9; ++i) {
    endpoints += (i > 1 ? ", " : "") + std::string("\"192.0.2.") + std::to_string(i) + ":1\"";
  }
  auto r = parse_with("mesh: {peers: {b: " + kPeerA + ", endpoints: [" + endpoints + "]}}}\n");
  EXPECT_NE(r.errors.to_string().find("is one endpoint too many: at most 8 per peer"),
            std::string::npos)
      << r.errors.to_string();
}

}  // namespace
}  // namespace vigil::config
