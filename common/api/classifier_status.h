// What vigil-dp's `classifier.show` answers for each port running the XDP classifier (vigild's
// `show.classifier` passes it through), declared once: vigil-dp fills these structs and the
// CLI reads them back. Every field has a default, so an answer without one still reads.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/api/count.h"

namespace vigil::api {

struct AclRuleStatus {
  std::string rule;
  Count matched;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(AclRuleStatus, rule, matched)

struct PolicerStatus {
  std::string name;  // the rate or SYN limit
  Count passed;
  Count dropped;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(PolicerStatus, name, passed, dropped)

struct VipStatus {
  std::string vip;
  Count count;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(VipStatus, vip, count)

struct BackendStatus {
  std::string vip;
  std::string backend;  // its address
  Count count;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(BackendStatus, vip, backend, count)

struct ClassifierPortStatus {
  std::string device;
  std::string mode;      // native or generic XDP
  bool adopted = false;  // pinned by an earlier run of vigil-dp and taken over
  uint64_t packets = 0;
  std::map<std::string, Count> verdicts;   // every packet under exactly one
  std::map<std::string, Count> malformed;  // by parse failure, the non-zero ones
  std::map<std::string, uint64_t> events;  // what happened on the way (not verdicts)
  // Frames a tx_/redirect_ verdict handed on that the kernel then did not send (by kind:
  // tx_failed, redirect_failed, aborted), since vigil-dp started; empty with the reason in
  // transmit_errors_unavailable where the kernel cannot report them.
  std::map<std::string, uint64_t> transmit_errors;
  std::string transmit_errors_unavailable;
  std::vector<AclRuleStatus> acl;
  std::vector<PolicerStatus> policers;
  std::vector<VipStatus> vips;
  std::vector<BackendStatus> backends;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(ClassifierPortStatus, device, mode, adopted,
                                                packets, verdicts, malformed, events,
                                                transmit_errors, transmit_errors_unavailable, acl,
                                                policers, vips, backends)

}  // namespace vigil::api
