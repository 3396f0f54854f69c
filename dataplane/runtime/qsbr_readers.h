// RCU for the fast path over DPDK's quiescent-state-based reclamation: every lcore reports a
// quiescent state once per loop (it holds no pointer into shared tables between loops), and
// the control thread's wait_for_readers() returns once each online lcore has reported since
// the call. Lcores pay one store per loop; no lock anywhere.
#pragma once

#include <memory>

#include "common/expected.h"
#include "dataplane/forwarding/route_table.h"

struct rte_rcu_qsbr;

namespace vigil::dp {

class QsbrReaders final : public Synchronizer {
 public:
  static Expected<std::unique_ptr<QsbrReaders>> create(unsigned max_lcores);
  ~QsbrReaders() override;

  // Lcore side.
  void online(unsigned lcore);
  void offline(unsigned lcore);
  void quiescent(unsigned lcore);

  void wait_for_readers() override;

 private:
  explicit QsbrReaders(rte_rcu_qsbr* v) : v_(v) {}
  rte_rcu_qsbr* v_;
};

}  // namespace vigil::dp
