#include "dataplane/runtime/eal.h"

#include <rte_eal.h>
#include <rte_errno.h>

#include <fstream>

#include "common/logging.h"

namespace vigil::dp {

bool host_has_hugepages() {
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  long value = 0;
  while (meminfo >> key >> value) {
    if (key == "HugePages_Free:") {
      return value > 0;
    }
    meminfo.ignore(256, '\n');
  }
  return false;
}

Expected<std::unique_ptr<Eal>> Eal::start(const EalOptions& o) {
  std::string lcores = std::to_string(o.main_lcore);
  for (unsigned l : o.worker_lcores) {
    if (l == o.main_lcore) {
      return fail("lcore " + std::to_string(l) + " is the control thread's; give workers others");
    }
    lcores += "," + std::to_string(l);
  }
  const bool huge = host_has_hugepages();
  std::vector<std::string> args = {"vigil-dp",
                                   "-l",
                                   lcores,
                                   "--main-lcore",
                                   std::to_string(o.main_lcore),
                                   "-m",
                                   std::to_string(o.memory_mb),
                                   "--file-prefix",
                                   o.file_prefix,
                                   "--no-telemetry",
                                   "--log-level",
                                   o.log_level};
  if (!huge) {
    // --no-huge keeps everything in this process: no shared config for secondaries either.
    args.insert(args.end(), {"--no-huge", "--no-shconf"});
  }
  if (!o.allow_pci) {
    args.emplace_back("--no-pci");
  }
  std::vector<char*> argv;
  for (auto& a : args) {
    argv.push_back(a.data());
  }
  if (rte_eal_init(static_cast<int>(argv.size()), argv.data()) < 0) {
    return fail(std::string("DPDK EAL did not start: ") + rte_strerror(rte_errno));
  }
  if (!huge) {
    log::warn(
        "no hugepages on this host: DPDK runs with --no-huge (slower; fine for AF_XDP "
        "and virtual devices)");
  }
  return std::unique_ptr<Eal>(new Eal(huge));
}

Eal::~Eal() {
  rte_eal_cleanup();
}

}  // namespace vigil::dp
