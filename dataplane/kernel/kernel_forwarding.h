// The kernel's forwarding switches, for the FIB mirror's fallback: the kernel forwards what
// arrives on an interface only when forwarding is on for it. IPv4 has a switch per receiving
// interface (net.ipv4.conf.<dev>.forwarding); IPv6 has one since Linux 6.17
// (net.ipv6.conf.<dev>.force_forwarding), before that only the box-wide
// net.ipv6.conf.all.forwarding, which also turns every interface into a router (no more SLAAC
// from router advertisements on a management port): used only when there is nothing finer,
// and said in the answer.
#pragma once

#include <string>
#include <vector>

#include "common/expected.h"

namespace vigil::dp {

struct KernelForwarding {
  bool ipv6_per_interface = true;  // false: net.ipv6.conf.all.forwarding had to be used
};

// Turns forwarding on for packets received on `devices`; `proc_sys` is /proc/sys but for
// tests. Writes only what differs.
Expected<KernelForwarding> enable_kernel_forwarding(const std::vector<std::string>& devices,
                                                    const std::string& proc_sys = "/proc/sys");

}  // namespace vigil::dp
