// A DNS lookup of one name's A and AAAA records with the answer's TTL, through glibc's
// resolver library (res_nquery, parsed with ns_parserr): getaddrinfo would give the addresses
// but not how long they hold, and upstream targets are looked up again when it runs out.
// Against the nameservers given, or /etc/resolv.conf's, over UDP only (a truncated answer is
// used as it came). Blocking, for up to timeout × tries × nameservers for each of A and
// AAAA: called on the resolver's own thread.
//
// The name is asked as given: no search domains, no /etc/hosts (as nginx and HAProxy do).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "common/expected.h"
#include "common/net/host_port.h"
#include "common/net/ip.h"

namespace vigil::l7 {

struct DnsSettings {
  std::vector<net::HostPort> nameservers;  // IPv4, at most 3; empty: /etc/resolv.conf's
  std::chrono::seconds timeout{2};         // per try
  int tries = 2;
};

// Addresses taken from one name's answer: each is a target with its own health checks and
// connections, so a name cannot make a pool of thousands.
inline constexpr size_t kMaxAddresses = 64;

struct DnsAnswer {
  std::vector<net::IpAddress> addresses;  // sorted (IPv4 first), each once, kMaxAddresses at most
  uint32_t ttl_s = 0;                     // the least of the answer records' (CNAMEs too)
};

// The name's addresses, or why there are none: "no such name", "no address records", "the
// nameservers did not answer", "refused or failed".
Expected<DnsAnswer> dns_lookup(const std::string& name, const DnsSettings& settings);

// The answer records of one response (A, AAAA; CNAMEs count for the TTL), appended to `out`
// (its ttl_s lowered to theirs); false when the bytes are not a DNS response. Split out for the
// fuzz suite and the unit tests.
bool parse_dns_answer(const unsigned char* bytes, int length, DnsAnswer& out);

}  // namespace vigil::l7
