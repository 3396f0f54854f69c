// vigild's enrolment service: TLS on TCP (mesh.enrolment_port) on the wan interfaces'
// addresses, where a joining site presents its token and the members announce sites joining
// and leaving. Hostile by default: each connection gets one request line of at most 64 KiB
// and 10 s for everything (3 s for the TLS handshake); at most 4 are served at once and 4 more
// wait, at most 2 from one address, the rest are closed at once; a client without an Ed25519
// identity is refused in the handshake. The handler decides what the request may do (from the
// identity the client proved). A flood from many addresses can still keep a join waiting:
// joins are rare and retried by hand, and forwarding never depends on this service.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "common/expected.h"
#include "common/net/host_port.h"
#include "common/unique_fd.h"
#include "common/worker_pool.h"
#include "sdwan/enrol/identity.h"
#include "sdwan/enrol/tls_channel.h"

namespace vigil::mgmt::mesh {

class EnrolServer {
 public:
  // Answers one request; runs on one of the service's threads. `stopping` is set when the
  // service is being destroyed: a handler that waits must give up then.
  using Handler =
      std::function<nlohmann::json(const nlohmann::json& request, const enrol::TlsChannel& channel,
                                   const std::atomic<bool>& stopping)>;
  static constexpr size_t kThreads = 4;
  static constexpr size_t kMaxWaiting = 4;
  static constexpr size_t kMaxPerAddress = 2;
  static constexpr std::chrono::seconds kHandshakeBudget{3};
  static constexpr std::chrono::seconds kBudget{10};

  // Listening on every address of `listen` (bound even before the address is up: IP_FREEBIND).
  static Expected<std::unique_ptr<EnrolServer>> start(std::vector<net::HostPort> listen,
                                                      std::shared_ptr<const enrol::Identity> me,
                                                      Handler handler);
  ~EnrolServer();
  EnrolServer(const EnrolServer&) = delete;
  EnrolServer& operator=(const EnrolServer&) = delete;

  const std::vector<net::HostPort>& addresses() const { return addresses_; }
  uint64_t refused_busy() const { return refused_busy_.load(); }

 private:
  EnrolServer() = default;
  void accept_loop();
  void serve(UniqueFd fd);
  // Counts a connection from `address` (false: it has kMaxPerAddress already), and back.
  bool admit(const std::string& address);
  void release(const std::string& address);

  std::vector<net::HostPort> addresses_;
  std::vector<UniqueFd> listeners_;
  UniqueFd stop_;  // eventfd
  std::shared_ptr<const enrol::Identity> me_;
  Handler handler_;
  std::atomic<bool> stopping_{false};  // connections and handlers give up within 100 ms
  std::atomic<uint64_t> refused_busy_{0};
  std::mutex per_address_mutex_;
  std::map<std::string, size_t> per_address_;
  std::unique_ptr<WorkerPool> workers_;
  std::thread acceptor_;
};

}  // namespace vigil::mgmt::mesh
