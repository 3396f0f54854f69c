#include "l7proxy/upstream/outlier_detector.h"

#include <algorithm>

namespace vigil::l7 {

bool OutlierDetector::record(Outcome o, Clock::time_point now) {
  if (ejected(now)) {
    return false;  // answers to requests sent before it was ejected change nothing
  }
  if (until_ && multiplier_ > 0 && now - *until_ >= s_.max_ejection) {
    multiplier_ = 0;  // well behaved since its last ejection: starts over
  }
  switch (o) {
    case Outcome::kSuccess:
      server_errors_ = connect_failures_ = 0;
      return false;
    case Outcome::kServerError:
      ++server_errors_;
      break;
    case Outcome::kConnectFailure:
      ++connect_failures_;
      break;
  }
  if (server_errors_ < s_.consecutive_5xx && connect_failures_ < s_.consecutive_connect_failures) {
    return false;
  }
  multiplier_ = std::min<uint32_t>(multiplier_ + 1, 64);
  const auto length = std::min<Clock::duration>(s_.base_ejection * multiplier_, s_.max_ejection);
  until_ = now + length;
  ++ejections_;
  server_errors_ = connect_failures_ = 0;
  return true;
}

}  // namespace vigil::l7
