// A route as the fast path installs it: a network and what it points to.
#pragma once

#include "dataplane/forwarding/next_hop_group.h"

namespace vigil::dp {

struct Route {
  net::Prefix prefix;  // a network: host bits zero
  NextHopGroup target;
  auto operator<=>(const Route& other) const { return prefix <=> other.prefix; }
  bool operator==(const Route& other) const { return prefix == other.prefix; }
};

}  // namespace vigil::dp
