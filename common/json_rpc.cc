#include "common/json_rpc.h"

#include <unistd.h>

#include <cstdlib>

#include "common/json_bounded.h"
#include "common/logging.h"

namespace vigil::rpc {
namespace {

using nlohmann::json;

constexpr size_t kMaxBatch = 128;

json error_object(const Error& e) {
  json obj = {{"code", e.code}, {"message", e.message}};
  if (!e.data.is_null()) {
    obj["data"] = e.data;
  }
  return obj;
}

json response_json(const json& id, const CallResult& result) {
  json out = {{"jsonrpc", "2.0"}};
  if (const auto* err = std::get_if<Error>(&result)) {
    out["error"] = error_object(*err);
  } else {
    out["result"] = std::get<json>(result);
  }
  out["id"] = id;
  return out;
}

bool valid_id(const json& id) {
  return id.is_string() || id.is_number() || id.is_null();
}

std::string dump(const json& j) {
  // Replace invalid UTF-8 rather than throwing: handler output must never kill the server.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace

std::string response_line(const json& id, const CallResult& result) {
  return dump(response_json(id, result));
}

std::string error_line(const Error& error) {
  return response_line(nullptr, error);
}

namespace {

// Whom the process started as, taken before main: a daemon that drops to an unprivileged user
// later (vigil-l7 --user) keeps root, which started it, as its owner, not the user it became
// (any other process of that user would otherwise pass for vigild).
const uid_t kStartedAs = ::geteuid();

}  // namespace

bool is_owner(const PeerCredentials& peer) {
  return peer.uid == 0 || peer.uid == kStartedAs;
}

void Dispatcher::add(std::string method, Handler handler, Access access) {
  register_method(std::move(method), std::move(handler), nullptr, access);
}

void Dispatcher::add_deferred(std::string method, DeferredHandler handler, Access access) {
  register_method(std::move(method), nullptr, std::move(handler), access);
}

void Dispatcher::register_method(std::string method, Handler handler, DeferredHandler deferred,
                                 Access access) {
  auto [it, inserted] =
      handlers_.emplace(std::move(method), Method{std::move(handler), std::move(deferred), access});
  if (!inserted) {
    log::error("duplicate JSON-RPC method registration", {{"method", it->first}});
    std::abort();
  }
}

bool Dispatcher::has(std::string_view method) const {
  return handlers_.contains(method);
}

std::vector<std::string> Dispatcher::methods() const {
  std::vector<std::string> out;
  out.reserve(handlers_.size());
  for (const auto& [name, _] : handlers_) {
    out.push_back(name);
  }
  return out;
}

std::optional<json> Dispatcher::handle_one(const json& req, const CallContext& ctx,
                                           const Done* later, bool& deferred) const {
  if (!req.is_object()) {
    return response_json(nullptr, Error{kInvalidRequest, "request must be a JSON object"});
  }
  const auto id_it = req.find("id");
  const bool is_notification = id_it == req.end();
  const json id = is_notification ? json(nullptr) : *id_it;
  if (!is_notification && !valid_id(id)) {
    return response_json(nullptr,
                         Error{kInvalidRequest, "\"id\" must be a string, a number or null"});
  }
  const auto version = req.find("jsonrpc");
  if (version == req.end() || *version != "2.0") {
    return response_json(id, Error{kInvalidRequest, "\"jsonrpc\" must be \"2.0\""});
  }
  const auto method_it = req.find("method");
  if (method_it == req.end() || !method_it->is_string()) {
    return response_json(id, Error{kInvalidRequest, "\"method\" must be a string"});
  }
  const std::string& method = method_it->get_ref<const std::string&>();
  static const json no_params = json::object();
  const json* params_ptr = &no_params;
  if (const auto p = req.find("params"); p != req.end()) {
    if (!p->is_object() && !p->is_array()) {
      return response_json(id, Error{kInvalidRequest, "\"params\" must be an object or array"});
    }
    params_ptr = &*p;  // not copied: a config document can be megabytes
  }
  const json& params = *params_ptr;

  CallResult result;
  const auto handler = handlers_.find(method);
  if (handler == handlers_.end()) {
    result = Error{kMethodNotFound, "method not found: " + method};
  } else if (auto refused = guard_ ? guard_(method, ctx) : std::nullopt) {
    result = std::move(*refused);
  } else if (handler->second.access == Access::kOwner && !is_owner(ctx.peer)) {
    log::warn("refused a call reserved to the daemon's own user",
              {{"method", method}, {"peer_uid", ctx.peer.uid}, {"peer_pid", ctx.peer.pid}});
    result =
        Error{kPermissionDenied, "permission denied: " + method + " is reserved to vigild (uid " +
                                     std::to_string(kStartedAs) + ")"};
  } else if (handler->second.deferred && later == nullptr) {
    result = Error{kInvalidRequest, method + " answers later and cannot be part of a batch"};
  } else if (handler->second.deferred) {
    // The response is built when the handler replies; the observer sees it then.
    auto reply = [this, id, is_notification, done = *later, name = method](const CallResult& late) {
      if (observer_) {
        observer_(name, is_error(late));
      }
      done(is_notification ? std::nullopt : std::optional(dump(response_json(id, late))));
    };
    try {
      handler->second.deferred(params, ctx, std::move(reply));
      deferred = true;
      return std::nullopt;
    } catch (const json::exception& e) {
      // Thrown before the work was handed off (reading params): answered now.
      result = Error{kInvalidParams, std::string("invalid params: ") + e.what()};
    } catch (const std::exception& e) {
      log::error("JSON-RPC handler failed", {{"method", method}, {"error", e.what()}});
      result = Error{kInternalError, std::string("internal error: ") + e.what()};
    }
  } else {
    try {
      result = handler->second.handler(params, ctx);
    } catch (const json::exception& e) {
      // Handlers read params with .at()/.get<>(); a missing or mistyped member lands here.
      result = Error{kInvalidParams, std::string("invalid params: ") + e.what()};
    } catch (const std::exception& e) {
      log::error("JSON-RPC handler failed", {{"method", method}, {"error", e.what()}});
      result = Error{kInternalError, std::string("internal error: ") + e.what()};
    }
  }
  if (observer_) {
    observer_(handler == handlers_.end() ? std::string_view("(unknown)") : method,
              is_error(result));
  }
  if (is_notification) {
    return std::nullopt;
  }
  return response_json(id, result);
}

std::optional<std::string> Dispatcher::respond(std::string_view line, const CallContext& ctx,
                                               const Done* later, bool& deferred) const {
  auto parsed = parse_json_bounded(line);
  if (!parsed) {
    return error_line(Error{kParseError, "parse error: " + parsed.error()});
  }
  json& request = *parsed;
  if (!request.is_array()) {
    auto response = handle_one(request, ctx, later, deferred);
    return response ? std::optional(dump(*response)) : std::nullopt;
  }
  if (request.empty()) {
    return error_line(Error{kInvalidRequest, "empty batch"});
  }
  if (request.size() > kMaxBatch) {
    return error_line(Error{kInvalidRequest, "batch of " + std::to_string(request.size()) +
                                                 " calls exceeds the limit of " +
                                                 std::to_string(kMaxBatch)});
  }
  json responses = json::array();
  for (const json& call : request) {
    // Calls in a batch answer together: deferred methods are refused there.
    bool never = false;
    if (auto response = handle_one(call, ctx, nullptr, never)) {
      responses.push_back(std::move(*response));
    }
  }
  if (responses.empty()) {
    return std::nullopt;
  }
  return dump(responses);
}

std::optional<std::string> Dispatcher::handle_line(std::string_view line,
                                                   const CallContext& ctx) const {
  bool never = false;
  return respond(line, ctx, nullptr, never);
}

bool Dispatcher::handle_line(std::string_view line, const CallContext& ctx,
                             const Done& done) const {
  bool deferred = false;
  auto response = respond(line, ctx, &done, deferred);
  if (deferred) {
    return false;
  }
  done(std::move(response));
  return true;
}

}  // namespace vigil::rpc
