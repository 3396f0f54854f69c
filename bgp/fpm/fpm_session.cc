#include "bgp/fpm/fpm_session.h"

#include <algorithm>
#include <utility>
#include <variant>

#include "bgp/fpm/netlink_messages.h"

namespace vigil::fpm {
namespace {

// What fails closed when the store refuses a message that decoded.
RefusedMessage refusal_of(const FpmMessage& message) {
  if (const auto* r = std::get_if<RouteMessage>(&message)) {
    return {.add = r->add, .route = true, .prefix = r->prefix};
  }
  const auto& n = std::get<NexthopMessage>(message);
  return {.add = n.add, .route = false, .nexthop_id = n.id};
}

}  // namespace

FpmSession::FpmSession(FpmSessionOptions options) : options_(options), store_(options.limits) {}

void FpmSession::connected(Clock::time_point now) {
  reader_.reset();
  connected_ = true;
  last_bytes_ = now;
  ++counters_.connections;
  store_.begin_resync();  // a second connect during a replay starts it over: nothing is lost
}

void FpmSession::disconnected(Clock::time_point now) {
  if (!connected_) {
    return;
  }
  connected_ = false;
  reader_.reset();
  if (!gone_since_) {
    gone_since_ = now;
  }
}

Status FpmSession::receive(std::span<const uint8_t> bytes, Clock::time_point now) {
  std::span<uint8_t> room = prepare(bytes.size());
  std::copy(bytes.begin(), bytes.end(), room.begin());
  return commit(bytes.size(), now);
}

Status FpmSession::commit(size_t n, Clock::time_point now) {
  reader_.commit(n);
  counters_.bytes += n;
  if (n != 0) {
    last_bytes_ = now;
  }
  while (true) {
    auto frame = reader_.next();
    if (!frame) {
      ++counters_.stream_errors;
      error("FPM stream from zebra: " + frame.error() + "; closing the connection");
      return fail(frame.error());
    }
    if (!*frame) {
      return Ok{};
    }
    ++counters_.frames;
    if ((*frame)->type != kFpmTypeNetlink) {
      ++counters_.other_frames;
      continue;
    }
    apply_frame((*frame)->payload);
  }
}

void FpmSession::apply_frame(std::span<const uint8_t> payload) {
  DecodedFrame decoded = decode_netlink(payload);
  counters_.ignored += decoded.ignored;
  counters_.errors += decoded.errors.size();
  for (std::string& e : decoded.errors) {
    error("FPM from zebra: " + std::move(e));
  }
  // In zebra's order, the refused messages in their places among the others.
  size_t next_refused = 0;
  auto refuse_up_to = [&](size_t position) {
    for (;
         next_refused < decoded.refused.size() && decoded.refused[next_refused].before <= position;
         ++next_refused) {
      store_.refuse(decoded.refused[next_refused]);
    }
  };
  for (size_t i = 0; i < decoded.messages.size(); ++i) {
    refuse_up_to(i);
    const FpmMessage& m = decoded.messages[i];
    if (Status ok = store_.apply(m); !ok) {
      ++counters_.errors;
      error("FPM from zebra: " + ok.error());
      store_.refuse(refusal_of(m));
    } else {
      ++counters_.messages;
    }
  }
  refuse_up_to(decoded.messages.size());
}

void FpmSession::tick(Clock::time_point now, bool unread) {
  if (connected_ && store_.resyncing() && !unread && reader_.buffered() == 0 &&
      now - last_bytes_ >= options_.replay_quiet) {
    counters_.swept += store_.end_resync();
    ++counters_.resyncs;
    gone_since_.reset();
  }
  if (!connected_ && gone_since_ && now - *gone_since_ >= options_.stale_hold) {
    gone_since_.reset();
    if (store_.routes() != 0 || store_.nexthops() != 0) {
      store_.begin_resync();
      counters_.swept += store_.end_resync();
      error("FPM: zebra has been away for " + std::to_string(options_.stale_hold.count()) +
            " s; its routes are withdrawn from the fast path");
    } else if (store_.resyncing()) {
      store_.end_resync();
    }
  }
}

void FpmSession::error(std::string text) {
  if (pending_errors_.size() < options_.max_pending_errors) {
    pending_errors_.push_back(std::move(text));
  } else {
    ++unlisted_errors_;
  }
}

std::vector<std::string> FpmSession::take_errors() {
  std::vector<std::string> out = std::move(pending_errors_);
  pending_errors_.clear();
  if (unlisted_errors_ != 0) {
    out.push_back("FPM: " + std::to_string(unlisted_errors_) + " more errors not listed");
    unlisted_errors_ = 0;
  }
  return out;
}

}  // namespace vigil::fpm
