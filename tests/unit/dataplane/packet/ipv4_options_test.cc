// IPv4 options as a router judges them before forwarding, the cases and pointers Linux's
// ip_options_compile() gives (the conformance lab test checks the same cases against Linux).
#include "dataplane/packet/ipv4_options.h"

#include <gtest/gtest.h>

#include <vector>

namespace vigil::dp {
namespace {

using Verdict = Ipv4OptionsCheck::Verdict;

Ipv4OptionsCheck check(std::vector<uint8_t> options) {
  while (options.size() % 4 != 0) {
    options.push_back(0);
  }
  std::vector<uint8_t> header(20, 0);
  header[0] = static_cast<uint8_t>(0x40 | (20 + options.size()) / 4);
  header.insert(header.end(), options.begin(), options.end());
  return check_ipv4_options(header.data(), header.size());
}

TEST(Ipv4Options, WellFormedOptionsAreForwarded) {
  EXPECT_EQ(check({1, 1, 1, 0}).verdict, Verdict::kForward);                         // NOPs, end
  EXPECT_EQ(check({0x94, 4, 0, 0}).verdict, Verdict::kForward);                      // router alert
  EXPECT_EQ(check({7, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0}).verdict, Verdict::kForward);   // RR
  EXPECT_EQ(check({7, 11, 12, 1, 2, 3, 4, 5, 6, 7, 8}).verdict, Verdict::kForward);  // RR full
  EXPECT_EQ(check({0x44, 12, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0}).verdict, Verdict::kForward);  // TS
  EXPECT_EQ(check({0x99, 3, 0xab, 0x99, 3, 0xab}).verdict, Verdict::kForward);  // unknown: kept
  EXPECT_EQ(check({0, 0xff, 0xff, 0xff}).verdict, Verdict::kForward);  // after the end: padding
}

TEST(Ipv4Options, MalformedOptionsEarnAParameterProblemPointingAtTheOctet) {
  auto pointer = [](std::vector<uint8_t> o) {
    const auto c = check(std::move(o));
    EXPECT_EQ(c.verdict, Verdict::kParameterProblem);
    return c.pointer;
  };
  EXPECT_EQ(pointer({7, 1, 0, 0}), 20);               // a length below 2
  EXPECT_EQ(pointer({7, 39, 4, 0, 0, 0, 0, 0}), 20);  // longer than the header
  EXPECT_EQ(pointer({1, 1, 1, 7}), 23);               // no room for the length octet
  EXPECT_EQ(pointer({7, 2, 0, 0}), 21);               // RR too short for a pointer
  EXPECT_EQ(pointer({7, 7, 3, 0, 0, 0, 0}), 22);      // RR pointer below 4
  EXPECT_EQ(pointer({7, 8, 6, 0, 0, 0, 0, 0}), 22);   // RR pointer with no whole slot left
  EXPECT_EQ(pointer({7, 7, 4, 0, 0, 0, 0, 7, 7, 4, 0, 0, 0, 0}), 27);  // RR twice
  EXPECT_EQ(pointer({0x44, 3, 5, 0}), 21);                             // TS too short
  EXPECT_EQ(pointer({0x44, 8, 4, 0, 0, 0, 0, 0}), 22);                 // TS pointer below 5
  EXPECT_EQ(pointer({0x44, 8, 5, 2, 0, 0, 0, 0}), 23);                 // TS flag 2 is undefined
  EXPECT_EQ(pointer({0x44, 8, 5, 1, 0, 0, 0, 0}), 22);     // TS with addresses: no whole slot
  EXPECT_EQ(pointer({0x44, 8, 9, 0xf0, 0, 0, 0, 0}), 23);  // full, and the overflow overflows
}

TEST(Ipv4Options, SourceRoutesAreRefusedWithoutAWord) {
  EXPECT_EQ(check({0x83, 7, 4, 203, 0, 113, 1}).verdict, Verdict::kSourceRoute);  // LSRR
  EXPECT_EQ(check({0x89, 7, 4, 203, 0, 113, 1}).verdict, Verdict::kSourceRoute);  // SSRR
  // ...unless they are malformed, which the sender is told first.
  EXPECT_EQ(check({0x83, 7, 3, 0, 0, 0, 0}).verdict, Verdict::kParameterProblem);
  EXPECT_EQ(check({0x83, 7, 4, 1, 2, 3, 4, 0x89, 7, 4, 1, 2, 3, 4}).pointer, 27);  // two
}

}  // namespace
}  // namespace vigil::dp
