#include "dataplane/kernel/kernel_forwarding.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace vigil::dp {
namespace {

Status set_to_one(const std::filesystem::path& path) {
  {
    std::ifstream in(path);
    std::string value;
    if (in && std::getline(in, value) && value == "1") {
      return Ok{};
    }
  }
  std::ofstream out(path);
  out << "1\n";
  out.flush();
  if (!out) {
    return fail("cannot write 1 to " + path.string() + ": " + std::strerror(errno));
  }
  return Ok{};
}

}  // namespace

Expected<KernelForwarding> enable_kernel_forwarding(const std::vector<std::string>& devices,
                                                    const std::string& proc_sys) {
  const std::filesystem::path root(proc_sys);
  KernelForwarding out;
  for (const auto& dev : devices) {
    if (dev.empty() || dev.find('/') != std::string::npos || dev == "." || dev == "..") {
      return fail("not an interface name: '" + dev + "'");
    }
    if (Status ok = set_to_one(root / "net/ipv4/conf" / dev / "forwarding"); !ok) {
      return fail(ok.error());
    }
    const auto v6 = root / "net/ipv6/conf" / dev / "force_forwarding";
    std::error_code ec;
    if (std::filesystem::exists(v6, ec)) {
      if (Status ok = set_to_one(v6); !ok) {
        return fail(ok.error());
      }
    } else if (std::filesystem::exists(root / "net/ipv6/conf" / dev, ec)) {
      out.ipv6_per_interface = false;
    }
  }
  if (!out.ipv6_per_interface) {
    if (Status ok = set_to_one(root / "net/ipv6/conf/all/forwarding"); !ok) {
      return fail(ok.error());
    }
  }
  return out;
}

}  // namespace vigil::dp
