#include "l7proxy/upstream/health_state.h"

namespace vigil::l7 {

bool HealthState::record(bool passed) {
  if (!checked_) {
    checked_ = true;
    if (passed) {
      healthy_ = true;  // the first pass is enough: it was never known to be down
      return true;
    }
  }
  if (passed == healthy_) {
    against_ = 0;
    return false;
  }
  if (++against_ < (healthy_ ? t_.fall : t_.rise)) {
    return false;
  }
  healthy_ = passed;
  against_ = 0;
  return true;
}

}  // namespace vigil::l7
