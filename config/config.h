// The whole configuration as C++ types. One struct per section; sections that no component
// implements yet are reserved in the schema and rejected, never carried here.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/key_base64.h"
#include "common/net/host_port.h"
#include "common/net/ip.h"

namespace vigil::config {

// The schema's address types are the network library's, shared with every component.
using net::HostPort;
using net::IpAddress;
using net::Prefix;

enum class Role { kAdmin, kOperator, kViewer };
inline constexpr std::string_view kRoleNames[] = {"admin", "operator", "viewer"};

struct User {
  std::string name;
  Role role = Role::kViewer;
};

struct SystemConfig {
  std::string hostname = "vigil";
  std::vector<User> users;
  std::vector<IpAddress> management_addresses;
};

enum class InterfaceRole { kLan, kWan };
inline constexpr std::string_view kInterfaceRoleNames[] = {"lan", "wan"};

struct Vlan {
  uint16_t id = 0;
  std::vector<Prefix> addresses;
};

// A static ARP/ND entry: the fast path sends to `address` on this port with `mac`, without
// asking (gateways that must not depend on resolution; labs without a kernel interface).
struct StaticNeighbour {
  IpAddress address;
  std::array<uint8_t, 6> mac{};
};

// Addresses a router refuses as martians that an interface may accept on purpose
// (interfaces.<name>.allow_martians): the ranges some networks use inside.
enum class MartianRange { kThisNetwork, kLoopback, kReserved, kLinkLocal, kIpv4Mapped };
inline constexpr std::string_view kMartianRangeNames[] = {"this_network", "loopback", "reserved",
                                                          "link_local", "ipv4_mapped"};

struct InterfaceConfig {
  std::string name;
  std::string device;  // kernel interface or DPDK devargs; defaults to the name
  InterfaceRole role = InterfaceRole::kLan;
  bool enabled = true;
  uint32_t mtu = 1500;
  std::vector<Prefix> addresses;
  std::vector<Vlan> vlans;
  bool xdp = false;  // the XDP classifier runs on this port
  std::vector<StaticNeighbour> neighbours;
  std::vector<MartianRange> allow_martians;  // in the order given, without repeats
};

struct NextHop {
  std::optional<IpAddress> via;
  std::string interface;  // empty: resolved through the FIB
  uint32_t weight = 1;
};

struct StaticRoute {
  Prefix prefix;
  std::vector<NextHop> next_hops;
  uint32_t distance = 1;
  bool blackhole = false;
};

// routing.bgp: BGP through the FRR sidecar (bgp/ renders it into frr.conf). Names of lists
// and policies are FRR's names as given; secrets are files (mode 0600), never in the config.
enum class BgpRemoteAs { kNumber, kExternal, kInternal };
inline constexpr std::string_view kBgpFamilyNames[] = {"ipv4_unicast", "ipv6_unicast"};
enum class BgpFamily { kIpv4Unicast, kIpv6Unicast };
inline constexpr std::string_view kBgpRuleActionNames[] = {"permit", "deny"};

struct BgpTimers {
  uint32_t keepalive = 60;  // seconds; FRR's "traditional" defaults
  uint32_t hold = 180;      // 0: no hold timer (and no keepalives)
  uint32_t connect = 120;   // seconds between attempts to connect
};

struct BgpBfd {
  uint32_t detect_multiplier = 3;
  uint32_t receive_interval_ms = 300;
  uint32_t transmit_interval_ms = 300;
};

struct BgpMaxPrefixes {
  uint32_t limit = 0;
  uint32_t warning_percent = 75;            // a warning at this share of the limit
  std::optional<uint32_t> restart_minutes;  // none: the session stays down until cleared
  bool warning_only = false;                // past the limit: a warning, the session stays
};

struct BgpNeighbor {
  IpAddress address;
  BgpRemoteAs remote_as_kind = BgpRemoteAs::kNumber;
  uint32_t remote_as = 0;  // kNumber
  std::string description;
  std::string password_file;  // TCP MD5 (RFC 2385); "": none
  std::optional<BgpTimers> timers;
  std::optional<BgpBfd> bfd;
  uint32_t multihop = 0;            // eBGP TTL; 0: directly connected
  std::string update_source;        // an address of the box, or an interface name; "": the route's
  std::vector<BgpFamily> families;  // never empty once parsed: the address's by default
  std::string import_policy, export_policy;  // routing.bgp.policies by name; "": none
  std::optional<BgpMaxPrefixes> max_prefixes;
};

struct BgpPrefixListRule {
  bool permit = true;
  Prefix prefix;
  std::optional<uint32_t> ge, le;  // prefix lengths the rule also matches
  bool operator==(const BgpPrefixListRule&) const = default;
};
struct BgpPrefixList {
  std::string name;
  std::vector<BgpPrefixListRule> rules;  // in order: the first match decides
};

struct BgpPatternRule {
  bool permit = true;
  std::string pattern;  // an AS-path regular expression, or a community ("65001:100")
  bool operator==(const BgpPatternRule&) const = default;
};
struct BgpPatternList {
  std::string name;
  std::vector<BgpPatternRule> rules;
};

struct BgpPolicyRule {
  bool permit = true;
  std::string match_prefix_list, match_as_path, match_community;  // "": not matched on
  std::optional<uint32_t> set_local_preference, set_med;
  std::vector<std::string> set_communities;  // added to the route's
  uint32_t set_as_path_prepend = 0;          // times the box's AS is prepended
};
struct BgpPolicy {
  std::string name;
  std::vector<BgpPolicyRule> rules;  // in order: the first match decides; none: deny
};

struct BgpConfig {
  uint32_t asn = 0;
  IpAddress router_id;
  std::vector<Prefix> networks;        // announced (the site's prefixes)
  bool announce_vips = true;           // the l4 VIPs (by backend health: not yet)
  bool announce_l7_listeners = false;  // the l7 listeners' addresses, while vigil-l7 answers
  bool graceful_restart = true;
  uint32_t restart_time = 120;
  uint32_t stalepath_time = 360;
  std::vector<BgpNeighbor> neighbors;
  std::vector<BgpPrefixList> prefix_lists;
  std::vector<BgpPatternList> as_path_lists, community_lists;
  std::vector<BgpPolicy> policies;
};

struct RoutingConfig {
  std::vector<StaticRoute> static_routes;
  std::optional<BgpConfig> bgp;
};

struct MonitoringConfig {
  bool prometheus_enabled = true;
  HostPort prometheus_listen{IpAddress{4, {127, 0, 0, 1}}, 9550};
};

// filter: what the XDP classifier drops before anything else sees it.
enum class Verdict { kPass, kDrop };
inline constexpr std::string_view kVerdictNames[] = {"pass", "drop"};
inline constexpr std::string_view kAclActionNames[] = {"allow", "deny"};  // = Verdict order

struct AclRuleConfig {
  std::string name;
  std::optional<Prefix> source;
  std::optional<Prefix> destination;
  Verdict action = Verdict::kDrop;
};

struct RateLimitConfig {
  std::string name;
  Prefix source;
  uint64_t packets_per_second = 0;
  uint64_t packet_burst = 0;
  uint64_t bytes_per_second = 0;
  uint64_t byte_burst = 0;
};

struct SynLimitConfig {
  std::string name;
  Prefix destination;
  uint64_t per_second = 0;
  uint64_t burst = 0;
};

struct FilterConfig {
  Verdict default_action = Verdict::kPass;
  Verdict later_fragments = Verdict::kPass;
  std::vector<AclRuleConfig> acl;
  std::vector<RateLimitConfig> rate_limits;
  std::vector<SynLimitConfig> syn_limits;
};

// l4: virtual IPs load-balanced at the NIC with Maglev, encapsulated to their backends.
enum class L4Protocol { kTcp, kUdp };
inline constexpr std::string_view kL4ProtocolNames[] = {"tcp", "udp"};
enum class EncapKind { kIpip, kGue };
inline constexpr std::string_view kEncapNames[] = {"ipip", "gue"};

struct BackendConfig {
  IpAddress address;
  uint32_t weight = 1;
};

struct VipConfig {
  std::string name;
  IpAddress address;
  uint16_t port = 0;
  L4Protocol protocol = L4Protocol::kTcp;
  EncapKind encap = EncapKind::kIpip;
  std::vector<BackendConfig> backends;
};

struct L4Config {
  uint32_t hash_seed = 0x5f3759df;
  std::optional<Prefix> encap_source4;
  std::optional<Prefix> encap_source6;
  std::optional<std::array<uint8_t, 6>> gateway_mac;
  uint32_t encap_mtu = 1500;
  uint16_t gue_port = 6080;
  std::vector<VipConfig> vips;  // in document order
};

// dataplane: vigil-dp's DPDK fast path.
enum class DataplaneMode { kAfXdp, kDpdk };
inline constexpr std::string_view kDataplaneModeNames[] = {"af_xdp", "dpdk"};
// poll: each forwarding lcore spins on its queues (a CPU of its own); adaptive: it sleeps
// while they stay empty, woken by the AF_XDP sockets or a timer of at most 1 ms.
enum class RxMode { kPoll, kAdaptive };
inline constexpr std::string_view kRxModeNames[] = {"poll", "adaptive"};

struct DataplaneConfig {
  bool forwarding = false;  // off: the kernel forwards, vigil-dp runs only the classifier
  DataplaneMode mode = DataplaneMode::kAfXdp;
  RxMode rx_mode = RxMode::kPoll;
  uint32_t control_lcore = 0;
  std::vector<uint32_t> lcores = {1};
  uint32_t memory_mb = 1024;
  uint32_t mbufs = 16383;
  uint32_t max_routes_ipv4 = 262144;
  uint32_t max_routes_ipv6 = 65536;
  // 0: short bursts leave at once; otherwise they may wait this long to leave together.
  uint32_t tx_hold_us = 0;
  // af_xdp: established TCP/UDP flows are forwarded by the XDP classifier once routed here.
  bool flow_offload = true;
  // af_xdp: vigil-dp mirrors its routes into the kernel and turns its forwarding on, so the
  // kernel carries transit while vigil-dp is away. Follows the mode unless set.
  bool kernel_fallback = true;
  auto operator<=>(const DataplaneConfig&) const = default;
};

// mesh: this site's WireGuard interface, run by vigil-dp's fast path, and its peers (the other
// sites). Secrets are files the config names, never values in it, so no rendering of the config
// (show, compare, the audit log, rollback files) can carry one.
// "host:port": a mesh peer's endpoint, an L7 target; the host an address or a DNS name,
// looked up again by whoever uses it.
struct Endpoint {
  std::string host;  // an IP address or a DNS name
  uint16_t port = 0;
  std::string to_string() const;  // "192.0.2.1:51820", "[2001:db8::1]:51820", "name:51820"
  auto operator<=>(const Endpoint&) const = default;
};

struct MeshPeerConfig {
  std::string name;
  Key32 public_key{};
  std::string preshared_key_file;   // empty: none
  std::vector<Endpoint> endpoints;  // in order of preference, one per WAN link
  std::vector<Prefix> allowed_ips;
  uint32_t persistent_keepalive = 0;  // seconds; 0: off
  uint32_t probe_interval_ms = 10;    // path probes; 0: off (a peer that is not Vigil)
  std::optional<Key32> identity;      // its enrolment service's Ed25519 key: a mesh member
  uint16_t enrolment_port = 51821;    // TCP, on its endpoints' addresses
  // The key it had before it rotated, taken from it too until then (unix seconds).
  std::optional<Key32> previous_public_key;
  int64_t previous_key_until = 0;
  auto operator<=>(const MeshPeerConfig&) const = default;
};

struct MeshConfig {
  bool enabled = false;  // the section is there
  std::string private_key_file = "/etc/vigil/mesh.key";
  uint16_t listen_port = 51820;
  uint32_t cookie_threshold = 1000;  // handshake messages a second
  uint32_t resolve_interval = 60;    // seconds between DNS lookups of named endpoints
  std::string site;                  // this site's name in the mesh; "": not a member
  std::string identity_key_file = "/etc/vigil/mesh-identity.key";
  uint16_t enrolment_port = 51821;  // TCP on the wan addresses; 0: no enrolment service
  // This site's key before it rotated ("": none), answered too until then (unix seconds).
  std::string previous_private_key_file;
  int64_t previous_key_until = 0;
  std::vector<Prefix> networks;       // what the other sites route here; empty: the LANs'
  std::vector<Endpoint> advertise;    // empty: each wan interface's first address
  std::vector<MeshPeerConfig> peers;  // in document order
  auto operator<=>(const MeshConfig&) const = default;
};

// policies: application classes and the paths they take (the mesh's, in vigil-dp).
struct PortRange {
  uint16_t first = 0, last = 0;
  auto operator<=>(const PortRange&) const = default;
};

inline constexpr std::string_view kClassProtocolNames[] = {"any", "tcp", "udp", "icmp"};
enum class ClassProtocol { kAny, kTcp, kUdp, kIcmp };

// Every field given must match (an empty list matches anything).
struct ClassMatch {
  ClassProtocol protocol = ClassProtocol::kAny;
  std::optional<Prefix> source, destination;
  std::vector<PortRange> source_ports, destination_ports;
  std::vector<uint8_t> dscp;  // 0-63
  auto operator<=>(const ClassMatch&) const = default;
};

struct PathSlaConfig {
  std::optional<uint32_t> max_rtt_ms, max_jitter_ms;
  std::optional<double> max_loss_percent;
  auto operator<=>(const PathSlaConfig&) const = default;
};

inline constexpr std::string_view kPathPreferenceNames[] = {"ordered", "lowest-latency",
                                                            "lowest-loss", "load-balance"};
enum class PathPreference { kOrdered, kLowestLatency, kLowestLoss, kLoadBalance };

struct PathClassConfig {
  std::string name;
  std::vector<ClassMatch> match;  // any one
  PathSlaConfig sla;
  PathPreference preference = PathPreference::kOrdered;
  std::vector<std::string> links;  // wan interfaces in order of preference; empty: config order
  auto operator<=>(const PathClassConfig&) const = default;
};

struct PoliciesConfig {
  std::vector<PathClassConfig> classes;  // in order: the first class that matches a packet
  auto operator<=>(const PoliciesConfig&) const = default;
};

// l7: vigil-l7, the HTTP reverse proxy: its listeners, the routes requests take and the
// upstream pools they go to. Times are whole milliseconds or seconds, as each field's name says.
struct L7NameValue {
  std::string name;
  std::optional<std::string> value;  // a match without one: the name present with any value
  auto operator<=>(const L7NameValue&) const = default;
};

// A certificate and its key, as files: the key's file is a secret (mode 0600), read by
// vigil-l7 only, never by vigild.
struct L7CertificateConfig {
  std::string name;
  std::string certificate_file;    // PEM: the certificate, then the chain to its root
  std::string private_key_file;    // PEM, mode 0600
  std::string ocsp_response_file;  // DER, stapled when a client asks; "": none
  auto operator<=>(const L7CertificateConfig&) const = default;
};

inline constexpr std::string_view kL7TlsVersionNames[] = {"tls1.2", "tls1.3"};
enum class L7TlsVersion { k12, k13 };
inline constexpr std::string_view kL7ClientCertificateNames[] = {"none", "optional", "required"};
enum class L7ClientCertificate { kNone, kOptional, kRequired };

struct L7ListenerTlsConfig {
  std::vector<std::string> certificates;  // l7.certificates by name; the first when no SNI fits
  L7TlsVersion min_version = L7TlsVersion::k12;
  std::string ciphers;         // TLS 1.2's cipher list; "": the modern default
  std::string client_ca_file;  // PEM; "": client certificates are not asked for
  L7ClientCertificate client_certificate = L7ClientCertificate::kNone;
  std::string client_subject_header = "X-Client-Subject";
  bool session_tickets = true;
  auto operator<=>(const L7ListenerTlsConfig&) const = default;
};

struct L7ListenerConfig {
  std::string name;
  HostPort address;
  bool trust_forwarded = false;  // its clients are proxies: keep their X-Forwarded-For
  bool http2 = true;             // h2 by ALPN over TLS, h2c with prior knowledge in the clear
  std::optional<L7ListenerTlsConfig> tls;
  auto operator<=>(const L7ListenerConfig&) const = default;
};

inline constexpr std::string_view kL7PathMatchNames[] = {"any", "exact", "prefix", "regex"};
enum class L7PathMatch { kAny, kExact, kPrefix, kRegex };

struct L7RateLimitConfig {
  double rate = 0;     // requests a second
  double burst = 0;    // 0: rate (one second's worth)
  std::string header;  // the key: this field's value; "": the client's address
  auto operator<=>(const L7RateLimitConfig&) const = default;
};

struct L7RouteConfig {
  std::string name;
  int32_t priority = 0;
  std::vector<std::string> hosts;
  L7PathMatch path_match = L7PathMatch::kAny;
  std::string path;
  std::vector<std::string> methods;
  std::vector<L7NameValue> headers, query;
  std::string upstream;
  std::vector<L7NameValue> add_headers;
  std::vector<std::string> remove_headers;
  std::optional<L7RateLimitConfig> rate_limit;
  auto operator<=>(const L7RouteConfig&) const = default;
};

struct L7TargetConfig {
  Endpoint address;  // an address, or a DNS name vigil-l7 looks up again on its TTL
  uint32_t weight = 1;
  auto operator<=>(const L7TargetConfig&) const = default;
};

inline constexpr std::string_view kL7HashOnNames[] = {"source_address", "header", "cookie"};
enum class L7HashOn { kSourceAddress, kHeader, kCookie };
// What an upstream pool's targets speak: HTTP/1.1, or HTTP/2 (h2c with prior knowledge in the
// clear, h2 chosen by ALPN through TLS).
inline constexpr std::string_view kL7UpstreamProtocolNames[] = {"http1", "h2"};
enum class L7UpstreamProtocol { kHttp1, kH2 };

// Refuses at once (503) after failures in a row; absent: no breaker.
struct L7CircuitBreakerConfig {
  uint32_t failures = 5;  // 5xx answers, timeouts or no target answering, in a row
  uint32_t open_s = 10;
  uint32_t half_open_probes = 1;
  auto operator<=>(const L7CircuitBreakerConfig&) const = default;
};

inline constexpr std::string_view kL7HealthCheckTypes[] = {"http", "tcp"};
enum class L7HealthCheckType { kHttp, kTcp };

// Active checks of each target, from vigil-l7 itself (once, not per worker); absent: none.
struct L7HealthCheckConfig {
  L7HealthCheckType type = L7HealthCheckType::kHttp;
  std::string path = "/";  // http: the request's path
  std::string host;        // http: its Host field; "": the target's address
  // http: the answers that pass, as inclusive ranges; empty: 200-399.
  std::vector<std::pair<uint32_t, uint32_t>> expected_status;
  uint32_t interval_ms = 2000;
  uint32_t timeout_ms = 1000;
  uint32_t rise = 2;  // passed checks in a row that make an unhealthy target healthy
  uint32_t fall = 3;  // failed checks in a row that make a healthy target unhealthy
  auto operator<=>(const L7HealthCheckConfig&) const = default;
};

// How vigil-l7 speaks to an upstream's targets over TLS; absent: in the clear.
struct L7UpstreamTlsConfig {
  // The name sent by SNI and verified in the target's certificate; "": the target's DNS name,
  // and for a target given by address no SNI and its address verified (an IP subjectAltName).
  std::string server_name;
  bool verify = true;       // false: any certificate is taken (encryption without identity)
  std::string ca_file;      // PEM; "": the system's trust store
  std::string certificate;  // l7.certificates by name, sent when a target asks; "": none
  L7TlsVersion min_version = L7TlsVersion::k12;
  auto operator<=>(const L7UpstreamTlsConfig&) const = default;
};

struct L7UpstreamConfig {
  std::string name;
  std::string policy = "round-robin";
  L7HashOn hash_on = L7HashOn::kSourceAddress;
  std::string hash_name;  // the field or cookie hashed on
  std::vector<L7TargetConfig> targets;
  L7UpstreamProtocol protocol = L7UpstreamProtocol::kHttp1;
  uint32_t connect_timeout_ms = 2000;
  uint32_t response_timeout_ms = 30000;  // from the request sent to the response's head
  uint32_t max_idle = 64;                // kept-alive connections per target and worker
  uint32_t idle_timeout_s = 60;
  uint32_t max_lifetime_s = 300;
  uint32_t retries = 1;  // more tries on another target when a connect fails
  uint32_t consecutive_5xx = 5;
  uint32_t consecutive_connect_failures = 3;
  uint32_t ejection_s = 30;
  std::optional<L7CircuitBreakerConfig> circuit_breaker;
  std::optional<L7HealthCheckConfig> health_check;
  std::optional<L7UpstreamTlsConfig> tls;
  auto operator<=>(const L7UpstreamConfig&) const = default;
};

struct L7AccessLogConfig {
  std::string path;                 // "": no access log
  std::vector<std::string> fields;  // in order; empty: all
  auto operator<=>(const L7AccessLogConfig&) const = default;
};

// How vigil-l7 looks up targets given by DNS name.
struct L7DnsConfig {
  std::vector<HostPort> nameservers;  // IPv4, at most 3; empty: /etc/resolv.conf's
  uint32_t timeout_s = 2;             // per try
  uint32_t tries = 2;
  uint32_t min_ttl_s = 5;  // an answer's TTL is held within these
  uint32_t max_ttl_s = 300;
  auto operator<=>(const L7DnsConfig&) const = default;
};

struct L7Config {
  bool enabled = false;  // the section is there
  uint32_t workers = 0;  // 0: one per core vigil-dp does not poll
  uint32_t header_timeout_ms = 10000;
  uint32_t idle_timeout_s = 60;
  uint64_t max_body_bytes = uint64_t{1} << 30;
  uint32_t max_headers = 100;
  uint32_t max_head_bytes = 65536;
  uint32_t max_uri_bytes = 8192;
  uint32_t max_connections = 10000;  // clients per worker
  L7AccessLogConfig access_log;
  L7DnsConfig dns;
  std::vector<L7CertificateConfig> certificates;  // in document order
  std::vector<L7ListenerConfig> listeners;        // in document order
  std::vector<L7RouteConfig> routes;              // in document order
  std::vector<L7UpstreamConfig> upstreams;        // in document order
  auto operator<=>(const L7Config&) const = default;
};

struct Config {
  SystemConfig system;
  std::vector<InterfaceConfig> interfaces;  // in document order
  RoutingConfig routing;
  MonitoringConfig monitoring;
  FilterConfig filter;
  L4Config l4;
  DataplaneConfig dataplane;
  MeshConfig mesh;
  PoliciesConfig policies;
  L7Config l7;

  const InterfaceConfig* interface(std::string_view name) const {
    for (const auto& i : interfaces) {
      if (i.name == name) {
        return &i;
      }
    }
    return nullptr;
  }
};

}  // namespace vigil::config
