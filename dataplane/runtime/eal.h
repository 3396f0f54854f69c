// DPDK's Environment Abstraction Layer for vigil-dp: started once per process with the lcores
// and memory from config. Without hugepages (VMs, containers, this lab) it runs with
// --no-huge and says so: memory is then ordinary pages, slower to translate, fine for
// virtual devices and AF_XDP.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/expected.h"

namespace vigil::dp {

struct EalOptions {
  unsigned main_lcore = 0;              // the control thread
  std::vector<unsigned> worker_lcores;  // one forwarding loop each
  unsigned memory_mb = 512;
  std::string file_prefix = "vigil-dp";  // runtime files under /var/run/dpdk/<prefix>
  bool allow_pci = false;                // dpdk mode only: NICs bound to vfio-pci
  std::string log_level = "*:notice";
};

class Eal {
 public:
  static Expected<std::unique_ptr<Eal>> start(const EalOptions& options);
  ~Eal();
  Eal(const Eal&) = delete;
  Eal& operator=(const Eal&) = delete;
  bool hugepages() const { return hugepages_; }

 private:
  explicit Eal(bool hugepages) : hugepages_(hugepages) {}
  bool hugepages_;
};

// Whether the host has free hugepages (HugePages_Free in /proc/meminfo).
bool host_has_hugepages();

}  // namespace vigil::dp
