// The FPM stream as zebra would send it, from bytes no one checked: frames cut anywhere, the
// netlink messages in them decoded and applied to a store with small limits, which then
// resolves. Whatever comes, nothing reads outside the input, the store stays within its
// limits, and the same stream cut differently decodes the same. A session fed the same bytes
// in chunks the input picks, with reconnects and replays ending between them, hands over
// changes that add up to what its store holds.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <span>
#include <vector>

#include "bgp/fpm/fpm_frame_reader.h"
#include "bgp/fpm/fpm_route_store.h"
#include "bgp/fpm/fpm_session.h"
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

// The session's changes, taken after every step, must rebuild exactly what its store
// resolves.
void run_session(std::span<const uint8_t> data, const vigil::fpm::FpmStoreLimits& limits) {
  using namespace std::chrono_literals;
  vigil::fpm::FpmSession session({.limits = limits, .replay_quiet = 500ms, .stale_hold = 1s});
  std::map<vigil::net::Prefix, vigil::fpm::ResolvedRoute> shadow;
  auto now = vigil::fpm::FpmSession::Clock::time_point{};
  session.connected(now);
  size_t at = 0;
  while (at < data.size()) {
    const uint8_t control = data[at];
    const size_t cut = std::min<size_t>(1 + control % 61, data.size() - at);
    if (!session.is_connected() && control % 2 == 0) {
      session.connected(now);
    }
    if (session.is_connected() &&
        (!session.receive(data.subspan(at, cut), now) || control == 0xff)) {
      session.disconnected(now);
      if (control % 3 != 0) {
        session.connected(now);
      }
    }
    at += cut;
    now += std::chrono::milliseconds(250 * (control % 4));
    session.tick(now);
    for (auto& change : session.take_changes()) {
      if (change.route) {
        shadow[change.prefix] = *change.route;
      } else {
        shadow.erase(change.prefix);
      }
    }
    (void)session.take_errors();
  }
  const auto held = session.store().resolved();
  if (held.size() != shadow.size()) {
    std::abort();
  }
  for (const auto& r : held) {
    const auto it = shadow.find(r.prefix);
    if (it == shadow.end() || !(it->second == r)) {
      std::abort();
    }
  }
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
  run_session(input, limits);
  return 0;
}
