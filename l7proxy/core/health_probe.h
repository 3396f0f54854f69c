// One active check of one target, non-blocking on the health checker's reactor. TCP: the
// connect succeeding is the check (on a TLS upstream, the handshake too). HTTP: "GET path
// HTTP/1.1" with Host and "Connection: close" (through TLS on a TLS upstream), whose response
// head must come whole, parse, and carry an expected status. Either way within the timeout. The
// probe reports once, through `done`, and is then finished: its owner retires it (never frees it
// from inside the report, which runs on the probe's own call).
#pragma once

#include <sys/socket.h>

#include <functional>
#include <memory>
#include <string>

#include "common/unique_fd.h"
#include "l7proxy/core/proxy_config.h"
#include "l7proxy/core/reactor.h"
#include "l7proxy/core/socket_stream.h"
#include "l7proxy/upstream/target_health.h"

namespace vigil::l7 {

struct CheckResult {
  bool passed = false;
  CheckFailure failure = CheckFailure::kNone;
  int status = 0;  // the answer's, when one came
};

class HealthProbe final : public Pollable, private Timer {
 public:
  using Done = std::function<void(const CheckResult&)>;
  // The response head's limit: a health answer has no business being larger.
  static constexpr size_t kMaxHead = size_t{16} * 1024;

  // Starts the check at once; `done` may be called before this returns (a connect refused
  // on the spot), and is called exactly once unless the probe is destroyed first.
  // `tls`: the upstream's client context (null: in the clear), used only here.
  static std::unique_ptr<HealthProbe> start(Reactor& reactor, const HealthCheckSettings& check,
                                            const TargetSpec& target, const ClientTls* tls,
                                            Done done);
  ~HealthProbe() override;

  void on_events(uint32_t events) override;
  bool finished() const { return finished_; }

 private:
  HealthProbe(Reactor& reactor, const HealthCheckSettings& check, Done done);
  void on_timer() override;
  void connected();
  void shake_hands();
  void exchange(uint32_t events);
  void write_request();
  void read_response();
  void finish(CheckResult result);

  Reactor& reactor_;
  HealthCheckSettings check_;
  Done done_;
  UniqueFd fd_;
  SocketStream stream_{-1};
  bool connected_ = false;
  bool handshaken_ = false;
  bool finished_ = false;
  std::string request_;
  size_t sent_ = 0;
  std::string response_;
};

}  // namespace vigil::l7
