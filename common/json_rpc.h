// JSON-RPC 2.0 as every Vigil control socket speaks it: one JSON object (or batch array) per
// line. This header holds the protocol types and the method dispatcher; transports live in
// json_rpc_server.h and json_rpc_client.h.
#pragma once

#include <sys/types.h>

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace vigil::rpc {

// Codes from the JSON-RPC 2.0 specification, then Vigil's own in the server range.
enum ErrorCode : int {
  kParseError = -32700,
  kInvalidRequest = -32600,
  kMethodNotFound = -32601,
  kInvalidParams = -32602,
  kInternalError = -32603,
  kRequestTooLarge = -32001,  // server: a line exceeded the request size limit
  kTooManyConnections = -32002,
  kPermissionDenied = -32003,
  kActivateFailed = -32004,  // activate did not apply a prepared change (or had none to apply)
  kServerBusy = -32005,      // the server's input budget is spent; try again shortly
  kRequestTimeout = -32006,  // a request line was not completed in time
  // Client side only, never on the wire: the call did not complete.
  kNotListening = -32097,  // nothing listens on the socket (connect failed): not running
  kTransportError = -32098,
  kTimeout = -32099,
};

struct Error {
  int code = kInternalError;
  std::string message;
  nlohmann::json data = nullptr;
};

using CallResult = std::variant<nlohmann::json, Error>;

inline bool is_error(const CallResult& r) {
  return std::holds_alternative<Error>(r);
}
inline Error invalid_params(std::string message) {
  return {kInvalidParams, std::move(message)};
}

// Who is calling, from SO_PEERCRED; roles are decided from this.
struct PeerCredentials {
  pid_t pid = 0;
  uid_t uid = static_cast<uid_t>(-1);
  gid_t gid = static_cast<gid_t>(-1);
};

struct CallContext {
  PeerCredentials peer;
};

using Handler = std::function<CallResult(const nlohmann::json& params, const CallContext& ctx)>;

// A method that answers later: its handler starts the work (on another thread, say a call to
// a component that may take seconds) and calls `reply` exactly once, on the loop's thread,
// when it has the result. Meanwhile the server goes on serving every other connection; the
// caller's own connection waits, so its answers stay in order.
using Reply = std::function<void(CallResult)>;
using DeferredHandler =
    std::function<void(const nlohmann::json& params, const CallContext& ctx, Reply reply)>;

// Who may call a method at all, checked before anything else runs. The socket's mode and group
// admit operators; kOwner narrows a method to the process's own user (and root): a component
// takes config changes from vigild only, never from an operator who reaches its socket.
enum class Access { kAnyPeer, kOwner };

// A daemon's own policy over every call (vigild's roles, which audit a refusal), run before
// Access and the handler. An error is returned to the caller as is.
using Guard = std::function<std::optional<Error>(std::string_view method, const CallContext& ctx)>;

// True when `peer` runs as root or as the user this process started as (its effective uid
// before main; not changed by dropping privileges later).
bool is_owner(const PeerCredentials& peer);

// Builds the wire form of a response (no trailing newline).
std::string response_line(const nlohmann::json& id, const CallResult& result);
std::string error_line(const Error& error);  // id null, for errors before an id is known

class Dispatcher {
 public:
  // Registers `method`; registering the same name twice is a programming error and aborts.
  void add(std::string method, Handler handler, Access access = Access::kAnyPeer);
  void add_deferred(std::string method, DeferredHandler handler, Access access = Access::kAnyPeer);
  void set_guard(Guard guard) { guard_ = std::move(guard); }
  bool has(std::string_view method) const;
  std::vector<std::string> methods() const;

  // Handles one request line. Returns the response line, or nullopt when nothing is owed
  // (a notification, or a batch made only of notifications). Deferred methods are refused
  // here, as in a batch: they answer through the overload below.
  std::optional<std::string> handle_line(std::string_view line, const CallContext& ctx) const;
  // The same, with the response (or nullopt) given to `done`: at once, or later for a deferred
  // method. Returns false for a deferred method (whose handler may have replied already).
  using Done = std::function<void(std::optional<std::string> response_line)>;
  bool handle_line(std::string_view line, const CallContext& ctx, const Done& done) const;

  // Observer called once per call with the method name and whether it failed; for metrics.
  void set_observer(std::function<void(std::string_view method, bool failed)> observer) {
    observer_ = std::move(observer);
  }

 private:
  // `later` is where a deferred method's response goes (null: refuse deferred methods); when
  // it is used, `deferred` is set and the return value means nothing.
  std::optional<nlohmann::json> handle_one(const nlohmann::json& request, const CallContext& ctx,
                                           const Done* later, bool& deferred) const;
  std::optional<std::string> respond(std::string_view line, const CallContext& ctx,
                                     const Done* later, bool& deferred) const;
  void register_method(std::string method, Handler handler, DeferredHandler deferred,
                       Access access);

  struct Method {
    Handler handler;           // one of these two
    DeferredHandler deferred;  // is set
    Access access;
  };
  std::map<std::string, Method, std::less<>> handlers_;
  Guard guard_;
  std::function<void(std::string_view, bool)> observer_;
};

}  // namespace vigil::rpc
