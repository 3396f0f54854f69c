// What the XDP classifier is told to do, in the loader's terms: the part of the appliance's
// config that reaches the maps. vigil-dp builds it from its config sections; tests and the
// benchmark build it directly. validate() checks it against the maps' real limits before
// anything is written, so a bad config is refused whole.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/expected.h"
#include "common/net/ip.h"

namespace vigil::ebpf {

enum class Action : uint8_t { kPass = 1, kDrop = 2, kFastPath = 3 };  // = enum vigil_action
enum class Encap : uint8_t { kIpip = 1, kGue = 2 };                   // = enum vigil_encap

struct AclRule {
  std::string name;
  std::optional<net::Prefix> source;       // absent: any address of the other's family
  std::optional<net::Prefix> destination;  // both absent: every packet, IPv4 and IPv6
  Action action = Action::kDrop;           // kPass or kDrop
};

// A token bucket. A rate of 0 leaves that dimension unlimited; a burst of 0 means one second
// of the rate.
struct Policer {
  uint64_t packets_per_second = 0;
  uint64_t packet_burst = 0;
  uint64_t bytes_per_second = 0;
  uint64_t byte_burst = 0;
};

struct RateLimit {
  std::string name;
  net::Prefix source;
  Policer policer;
};

struct SynLimit {
  std::string name;
  net::Prefix destination;
  uint64_t per_second = 0;
  uint64_t burst = 0;
};

struct VipBackend {
  net::IpAddress address;
  uint32_t weight = 1;  // 0: drained (no new flows; established ones stay while it is listed)
};

struct Vip {
  std::string name;
  net::IpAddress address;
  uint16_t port = 0;
  uint8_t protocol = 6;  // IPPROTO_TCP or IPPROTO_UDP
  Encap encap = Encap::kIpip;
  std::vector<VipBackend> backends;
};

struct LocalPort {
  uint8_t protocol = 6;
  uint16_t port = 0;
  Action action = Action::kPass;  // kPass (a service of the box) or kFastPath (tunnels, probes)
};

struct ClassifierConfig {
  Action default_action = Action::kPass;   // what no rule, VIP or service claims
  Action later_fragments = Action::kPass;  // non-first fragments: no ports to classify on
  bool steer_transit = false;              // traffic not for the box: to the fast path
  uint32_t hash_seed = 0x5f3759df;         // the same on every appliance
  uint16_t encap_mtu = 1500;               // toward the backends, outer header included
  uint16_t gue_port = 6080;
  std::array<uint8_t, 6> gateway_mac{};      // next hop of encapsulated packets
  std::optional<net::Prefix> encap_source4;  // outer sources; host bits from the flow hash
  std::optional<net::Prefix> encap_source6;
  std::vector<AclRule> acl;
  std::vector<RateLimit> rate_limits;
  std::vector<SynLimit> syn_limits;
  std::vector<Vip> vips;
  std::vector<net::IpAddress> local_addresses;
  std::vector<LocalPort> local_ports;
  // The interface this classifier runs on (one per interface): its MAC (absent: the frame
  // checks, which need it, are off), its VLAN ids (1-4094: their frames go to the kernel,
  // other tags are dropped) and the martian ranges it forwards anyway (VIGIL_ALLOW_*).
  std::optional<std::array<uint8_t, 6>> port_mac;
  std::vector<uint16_t> port_vlans;
  uint32_t allow_martians = 0;
};

// Every problem, each naming what it is about ("vips[web].backends: 1,025 backends, the
// classifier holds 1,024"). Empty when the config fits.
std::vector<std::string> validate(const ClassifierConfig& config);

// Sets of the connection table per CPU: VIGIL_CONN_TABLE_SIZE connections split over `cpus`,
// rounded down to a power of two (the program masks the flow hash with it), at least one.
uint32_t connection_sets_per_cpu(int cpus);

}  // namespace vigil::ebpf
