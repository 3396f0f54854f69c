#include "l7proxy/upstream/target_health.h"

namespace vigil::l7 {

std::string_view check_failure_name(CheckFailure f) {
  switch (f) {
    case CheckFailure::kNone:
      return "";
    case CheckFailure::kConnect:
      return "connect failed";
    case CheckFailure::kTimeout:
      return "timed out";
    case CheckFailure::kStatus:
      return "unexpected status";
    case CheckFailure::kBadResponse:
      return "not an HTTP response";
    case CheckFailure::kClosed:
      return "closed without answering";
    case CheckFailure::kLocal:
      return "no local socket";
    case CheckFailure::kTls:
      return "TLS handshake failed";
  }
  return "";
}

}  // namespace vigil::l7
