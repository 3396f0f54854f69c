// Application classes for path choice: which class a packet belongs to (its protocol,
// addresses, ports and DSCP), and what the class asks of a path (PathSla) and how it chooses
// among those that meet it. Plain data and a pure function: the lcore classifies each packet
// it seals into the mesh with it, the control thread builds it from the config.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "sdwan/paths/path_monitor.h"

namespace vigil::paths {

inline constexpr size_t kMaxClasses = 32;
inline constexpr size_t kMaxLinks = 8;

// What classification reads of a packet (the inner one, before sealing).
struct FlowKey {
  uint8_t family = 4;                               // 4 or 6
  uint8_t protocol = 0;                             // IPPROTO_*
  std::array<uint8_t, 16> source{}, destination{};  // IPv4 in the first 4 bytes
  uint16_t source_port = 0, destination_port = 0;   // host order; 0 without ports
  uint8_t dscp = 0;
};

struct PortSpan {
  uint16_t first = 0, last = 0;
  bool operator==(const PortSpan&) const = default;
};

struct AddressPrefix {
  uint8_t family = 0;  // 0: any
  std::array<uint8_t, 16> bytes{};
  uint8_t length = 0;
  bool contains(uint8_t f, const std::array<uint8_t, 16>& a) const;
  bool operator==(const AddressPrefix&) const = default;
};

// Every condition given must hold; empty lists and family 0 hold for anything.
struct ClassRule {
  enum class Protocol : uint8_t { kAny, kTcp, kUdp, kIcmp };
  Protocol protocol = Protocol::kAny;
  AddressPrefix source, destination;
  std::vector<PortSpan> source_ports, destination_ports;
  uint64_t dscp = 0;  // bit d: DSCP d matches; 0: any
  bool matches(const FlowKey& k) const;
  bool operator==(const ClassRule&) const = default;
};

enum class Preference : uint8_t { kOrdered, kLowestLatency, kLowestLoss, kLoadBalance };

struct PathClass {
  std::vector<ClassRule> rules;  // any one
  PathSla sla;
  Preference preference = Preference::kOrdered;
  // Each link's place in the class's order (lower first); links not listed after, in order.
  std::array<uint8_t, kMaxLinks> link_rank{0, 1, 2, 3, 4, 5, 6, 7};
  bool operator==(const PathClass&) const = default;
};

// The first class a packet matches, or none (it takes the peer's first path up).
std::optional<size_t> classify(std::span<const PathClass> classes, const FlowKey& key);

}  // namespace vigil::paths
