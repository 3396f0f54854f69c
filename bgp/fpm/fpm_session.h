// What vigil-dp keeps of zebra's FPM stream: the connection's bytes turned into frames, the
// frames into messages, the messages into the route store, and the store's changes handed to
// the fast path. No socket and no clock of its own: the server hands it bytes and the time,
// so every rule below is tested without zebra.
//
// - A (re)connect starts a replay: zebra sends every next hop and route again, with no end
//   marker. What was held stays in use meanwhile (traffic keeps flowing), and when no byte
//   has come for `replay_quiet`, and none is waiting to be read, what was not sent again
//   goes (mark and sweep).
// - A message that does not decode, or that the store refuses, fails closed on what it
//   names (FpmRouteStore::refuse); the rest of the frame still counts.
// - A stream that makes no sense any more (another FPM version, a length shorter than the
//   header) ends the connection: zebra connects again and replays.
// - Without zebra for `stale_hold` since the last replay that completed (it is not coming
//   back, or it keeps connecting and dropping before it has replayed), what it had sent goes.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "bgp/fpm/fpm_frame_reader.h"
#include "bgp/fpm/fpm_route_store.h"
#include "common/expected.h"

namespace vigil::fpm {

struct FpmSessionOptions {
  FpmStoreLimits limits;
  // zebra replays as fast as it can, but pauses a second whenever its output buffer is
  // full (dplane_fpm_nl): a gap this long means the replay is over.
  std::chrono::milliseconds replay_quiet{5000};
  // Routes survive this long without zebra (FRR restarting), as BGP graceful restart's
  // default stale-path time does.
  std::chrono::seconds stale_hold{360};
  size_t max_pending_errors = 32;  // kept for the log between two take_errors()
};

struct FpmCounters {
  uint64_t connections = 0;
  uint64_t frames = 0;
  uint64_t other_frames = 0;   // not netlink (protobuf): skipped
  uint64_t messages = 0;       // routes and next hops applied
  uint64_t ignored = 0;        // not the fast path's (MPLS, neighbours, other route types)
  uint64_t errors = 0;         // messages refused, by the decoder or the store
  uint64_t stream_errors = 0;  // connections ended because the stream made no sense
  uint64_t resyncs = 0;        // replays that ended with a sweep
  uint64_t swept = 0;          // routes and next hops that did not come back
  uint64_t bytes = 0;
};

class FpmSession {
 public:
  using Clock = std::chrono::steady_clock;

  explicit FpmSession(FpmSessionOptions options = {});

  // zebra connected: a new stream, and a replay.
  void connected(Clock::time_point now);
  // Room for what one read may bring, then the bytes that came. An error (said, counted)
  // means the caller must close the connection; what was applied before it stays.
  std::span<uint8_t> prepare(size_t n) { return reader_.prepare(n); }
  Status commit(size_t n, Clock::time_point now);
  // prepare() and commit() in one.
  Status receive(std::span<const uint8_t> bytes, Clock::time_point now);
  void disconnected(Clock::time_point now);
  // Ends a replay that went quiet (not while `unread` bytes wait on the connection), drops
  // what outlived `stale_hold` without zebra.
  void tick(Clock::time_point now, bool unread = false);

  // The prefixes that changed since the last call (FpmRouteStore::take_changes).
  std::vector<RouteChange> take_changes() { return store_.take_changes(); }
  // What went wrong since the last call, at most `max_pending_errors` lines (the rest are
  // counted in a last line).
  std::vector<std::string> take_errors();

  bool is_connected() const { return connected_; }
  bool replaying() const { return store_.resyncing(); }
  const FpmCounters& counters() const { return counters_; }
  const FpmRouteStore& store() const { return store_; }

 private:
  void apply_frame(std::span<const uint8_t> payload);
  void error(std::string text);

  FpmSessionOptions options_;
  FpmFrameReader reader_;
  FpmRouteStore store_;
  FpmCounters counters_;
  bool connected_ = false;
  Clock::time_point last_bytes_{};
  // zebra's first disconnect since its last completed replay.
  std::optional<Clock::time_point> gone_since_;
  std::vector<std::string> pending_errors_;
  size_t unlisted_errors_ = 0;
};

}  // namespace vigil::fpm
