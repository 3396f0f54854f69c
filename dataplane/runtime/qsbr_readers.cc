#include "dataplane/runtime/qsbr_readers.h"

#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

namespace vigil::dp {

Expected<std::unique_ptr<QsbrReaders>> QsbrReaders::create(unsigned max_lcores) {
  const size_t size = rte_rcu_qsbr_get_memsize(max_lcores);
  auto* v = static_cast<rte_rcu_qsbr*>(rte_zmalloc("vigil_qsbr", size, RTE_CACHE_LINE_SIZE));
  if (v == nullptr || rte_rcu_qsbr_init(v, max_lcores) != 0) {
    rte_free(v);
    return fail("cannot set up RCU for " + std::to_string(max_lcores) + " lcores");
  }
  return std::unique_ptr<QsbrReaders>(new QsbrReaders(v));
}

QsbrReaders::~QsbrReaders() {
  rte_free(v_);
}

void QsbrReaders::online(unsigned lcore) {
  rte_rcu_qsbr_thread_register(v_, lcore);
  rte_rcu_qsbr_thread_online(v_, lcore);
}

void QsbrReaders::offline(unsigned lcore) {
  rte_rcu_qsbr_thread_offline(v_, lcore);
  rte_rcu_qsbr_thread_unregister(v_, lcore);
}

void QsbrReaders::quiescent(unsigned lcore) {
  rte_rcu_qsbr_quiescent(v_, lcore);
}

void QsbrReaders::wait_for_readers() {
  rte_rcu_qsbr_synchronize(v_, RTE_QSBR_THRID_INVALID);
}

}  // namespace vigil::dp
