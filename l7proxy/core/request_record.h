// What the request totals and the access log say of one request, whichever protocol brought
// it: begun when its head is read, written once (answered, refused, or cut short: status 0),
// counted by route and upstream, and a line in the access log when the config has one.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "l7proxy/routing/request_view.h"

namespace vigil::l7 {

class Worker;

struct RequestRecord {
  using Clock = std::chrono::steady_clock;

  bool open = false;  // begun, not yet written
  Clock::time_point started_at{};
  int status = 0;
  uint64_t body_bytes = 0;  // of the response, as sent to the client
  std::string_view route;   // in the request's config, which must outlive write()
  std::string method;
  std::string request_id;
  std::string host;  // for the access log only: left empty without one
  std::string path;

  void begin(Clock::time_point now);
  // The host and path as routed (the raw target when routing refused it), for the log.
  void note_target(const Worker& worker, const RequestView& view, std::string_view raw_target);
  // Once; nothing when not open. `upstream` and `target`: where it went ("": nowhere).
  void write(Worker& worker, std::string_view client, std::string_view listener,
             std::string_view upstream, std::string_view target);
};

}  // namespace vigil::l7
