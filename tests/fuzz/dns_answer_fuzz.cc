// Fuzzes the DNS answer parser (l7proxy/upstream/dns_lookup.h) with whatever bytes a
// nameserver, or someone spoofing one, could send: nothing may crash or read out of bounds,
// and every address taken is a whole record of its family's size.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "l7proxy/upstream/dns_lookup.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 65535) {
    return 0;  // a DNS message is at most 64 KiB
  }
  vigil::l7::DnsAnswer answer{.ttl_s = UINT32_MAX};
  vigil::l7::parse_dns_answer(data, static_cast<int>(size), answer);
  // Each address is a record of its own in the input: at least a name (the root, 1 byte),
  // the fixed fields (10) and its data (4 or 16), after the 12-byte header.
  size_t least = 12;
  for (const auto& a : answer.addresses) {
    if (a.family != 4 && a.family != 6) {
      std::abort();
    }
    least += 11 + (a.family == 4 ? 4 : 16);
  }
  if (!answer.addresses.empty() && least > size) {
    std::abort();
  }
  return 0;
}
