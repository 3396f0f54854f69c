// Addresses and prefixes written as text in tests and benchmarks. The text is the test's own,
// so a typo is a bug in the test: .value() on it aborts loudly instead of testing nonsense.
#pragma once

#include "common/net/ip.h"

namespace vigil::test {

inline net::IpAddress ip(const char* text) {
  return net::IpAddress::parse(text).value();
}

// A network (host bits zero): "10.1.0.0/16".
inline net::Prefix net(const char* text) {
  return net::Prefix::parse_network(text).value();
}

}  // namespace vigil::test
