// The FPM stream as zebra would send it, from bytes no one checked: frames cut anywhere, the
// netlink messages in them decoded and applied to a store with small limits, which then
// resolves. Whatever comes, nothing reads outside the input, the store stays within its
// limits, and the same stream cut differently decodes the same.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "bgp/fpm/fpm_frame_reader.h"
#include "bgp/fpm/fpm_route_store.h"
#include "bgp/fpm/netlink_messages.h"

namespace {

using vigil::fpm::FpmFrameReader;
using vigil::fpm::FpmRouteStore;

// Every message of every whole frame in `data`, fed `cut` bytes at a time, applied to
// `store`; how many messages decoded.
size_t run(std::span<const uint8_t> data, size_t cut, FpmRouteStore& store) {
  FpmFrameReader reader;
  size_t messages = 0;
  for (size_t at = 0; at < data.size(); at += cut) {
    reader.append(data.subspan(at, std::min(cut, data.size() - at)));
    while (true) {
      auto frame = reader.next();
      if (!frame || !*frame) {
        if (!frame) {
          return messages;  // the stream is over: the connection would be closed
        }
        break;
      }
      if ((*frame)->type != vigil::fpm::kFpmTypeNetlink) {
        continue;
      }
      const auto decoded = vigil::fpm::decode_netlink((*frame)->payload);
      for (const auto& m : decoded.messages) {
        (void)store.apply(m);
        ++messages;
      }
      if (data.size() % 7 == 0) {
        store.begin_resync();
      } else if (store.resyncing()) {
        store.end_resync();
      }
    }
  }
  return messages;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const vigil::fpm::FpmStoreLimits limits{
      .max_routes = 64, .max_nexthops = 64, .max_group_members = 8};
  FpmRouteStore whole(limits), bytewise(limits);
  const std::span<const uint8_t> input(data, size);
  const size_t a = run(input, size == 0 ? 1 : size, whole);
  const size_t b = run(input, 1, bytewise);
  if (a != b || whole.routes() != bytewise.routes() || whole.routes() > limits.max_routes ||
      whole.nexthops() > limits.max_nexthops) {
    std::abort();
  }
  for (const auto& r : whole.resolved()) {
    if (r.next_hops.size() > limits.max_group_members + 1) {
      std::abort();
    }
  }
  return 0;
}
