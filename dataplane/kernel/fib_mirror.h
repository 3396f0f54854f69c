// The FIB mirror: the kernel's routing table kept in step with the fast path's, so that while
// vigil-dp is away (crashed, restarting, upgraded) the transit the classifier then passes to
// the kernel (pass_fast_path_down) is forwarded the same way instead of dropped. VPP's
// linux-cp keeps such a mirror; here it is the fallback, not the way packets normally go.
//
// The kernel already has the box's connected and local routes (the ports are its interfaces
// and carry the addresses): the mirror adds the rest, static routes today and FPM's later,
// with vigil-dp's protocol and metric (kernel_routes.h). Marked that way, a new vigil-dp
// finds what its predecessor installed, keeps what is still wanted and sweeps the rest.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "dataplane/forwarding/route.h"
#include "dataplane/kernel/kernel_route.h"

namespace vigil::dp {

// The kernel routes mirroring `routes` (the fast path's, over ports whose kernel interface
// index is `ifindex_of[port]`): local routes and routes to a connected prefix are the
// kernel's own and left out, as are routes over a port the kernel does not know (index 0).
std::vector<KernelRoute> mirror_routes(const std::vector<Route>& routes,
                                       const std::vector<net::Prefix>& connected,
                                       const std::vector<int>& ifindex_of);

class FibMirror {
 public:
  explicit FibMirror(KernelRouteTable& table) : table_(table) {}

  // Makes vigil-dp's routes in the kernel exactly `wanted`: replaces what changed since the
  // last sync, removes the rest. The first sync reads what is there (an earlier vigil-dp's)
  // and replaces all of it. A route the kernel refuses is retried at the next sync; the
  // error names the first of them and how many there were.
  Status sync(const std::vector<KernelRoute>& wanted);
  // Removes every route of vigil-dp's protocol (the kernel fallback turned off).
  Status clear();

  // Reads the kernel again at the next sync and replaces every route: after a link change,
  // when the kernel may have flushed routes over an interface taken down.
  void forget() { installed_.reset(); }
  // Reads which of its routes the kernel still has: the next sync puts back those it lost
  // (and sweeps any it did not install), leaving the rest untouched. Before the first sync,
  // nothing to do.
  Status recheck();

  // Routes the kernel took as wanted (not those it refused or that are not read yet).
  size_t installed() const {
    size_t n = 0;
    if (installed_) {
      for (const auto& [_, route] : *installed_) {
        n += route.has_value() ? 1 : 0;
      }
    }
    return n;
  }

 private:
  KernelRouteTable& table_;
  // What the kernel has, by prefix: the route installed, or nullopt for one found in the
  // kernel whose content is unknown (left by an earlier process). Unset until first read.
  std::optional<std::map<net::Prefix, std::optional<KernelRoute>>> installed_;
};

}  // namespace vigil::dp
