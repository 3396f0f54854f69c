#include "sdwan/paths/path_class.h"

namespace vigil::paths {

bool AddressPrefix::contains(uint8_t f, const std::array<uint8_t, 16>& a) const {
  if (family == 0) {
    return true;
  }
  if (family != f) {
    return false;
  }
  const size_t whole = length / 8;
  for (size_t i = 0; i < whole; ++i) {
    if (a[i] != bytes[i]) {
      return false;
    }
  }
  const unsigned rest = length % 8;
  if (rest == 0) {
    return true;
  }
  const auto mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (a[whole] & mask) == (bytes[whole] & mask);
}

namespace {

bool in(std::span<const PortSpan> spans, uint16_t port) {
  if (spans.empty()) {
    return true;
  }
  for (const PortSpan& s : spans) {
    if (port >= s.first && port <= s.last) {
      return true;
    }
  }
  return false;
}

}  // namespace

bool ClassRule::matches(const FlowKey& k) const {
  constexpr uint8_t kTcp = 6, kUdp = 17, kIcmp = 1, kIcmp6 = 58;
  switch (protocol) {
    case Protocol::kAny:
      break;
    case Protocol::kTcp:
      if (k.protocol != kTcp) {
        return false;
      }
      break;
    case Protocol::kUdp:
      if (k.protocol != kUdp) {
        return false;
      }
      break;
    case Protocol::kIcmp:
      if (k.protocol != kIcmp && k.protocol != kIcmp6) {
        return false;
      }
      break;
  }
  const bool has_ports = k.protocol == kTcp || k.protocol == kUdp;
  if ((!source_ports.empty() || !destination_ports.empty()) && !has_ports) {
    return false;  // ports asked for, none to compare
  }
  return source.contains(k.family, k.source) && destination.contains(k.family, k.destination) &&
         in(source_ports, k.source_port) && in(destination_ports, k.destination_port) &&
         (dscp == 0 || (dscp >> (k.dscp & 63) & 1) != 0);
}

std::optional<size_t> classify(std::span<const PathClass> classes, const FlowKey& key) {
  for (size_t c = 0; c < classes.size(); ++c) {
    if (classes[c].rules.empty()) {
      continue;  // matches nothing: a class only chosen by name (none yet)
    }
    for (const ClassRule& r : classes[c].rules) {
      if (r.matches(key)) {
        return c;
      }
    }
  }
  return std::nullopt;
}

}  // namespace vigil::paths
