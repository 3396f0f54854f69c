// IPv4 options from the wire: any header of 20-60 bytes is judged without reading outside it
// (a parameter problem always points inside), and a header the check passes is filled in
// (record route, timestamps) without writing outside it.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "dataplane/packet/ipv4_options.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) {
    return 0;
  }
  const size_t length = 20 + (data[0] % 11) * 4;  // IHL 5-15
  std::vector<uint8_t> header(length, 0);
  std::memcpy(header.data(), data + 1, std::min(size - 1, length));
  header[0] = static_cast<uint8_t>(0x40 | length / 4);
  // An exact-size heap copy: AddressSanitizer catches a read or write one byte past it.
  const auto check = vigil::dp::check_ipv4_options(header.data(), header.size());
  if (check.verdict == vigil::dp::Ipv4OptionsCheck::Verdict::kParameterProblem &&
      check.pointer >= length) {
    __builtin_trap();  // a pointer outside the header
  }
  if (check.verdict == vigil::dp::Ipv4OptionsCheck::Verdict::kForward) {
    const uint8_t egress[4] = {192, 0, 2, 1}, ingress[4] = {10, 0, 0, 1};
    vigil::dp::Ipv4OptionsEntry entry{.egress_address = egress,
                                      .ingress_address = ingress,
                                      .timestamp = 12345678,
                                      .is_ours = [](const uint8_t* a) { return a[0] == 10; }};
    vigil::dp::fill_ipv4_options(header.data(), header.size(), entry);
  }
  return 0;
}
