#include "mgmt/component_proxy.h"

#include "common/json_rpc_client.h"
#include "mgmt/api_errors.h"

namespace vigil::mgmt {
namespace {

// A stopped component may hold an operator's `show` this long, on one of vigild's proxy
// threads (everyone else is answered meanwhile).
constexpr std::chrono::milliseconds kDeadline{2000};

}  // namespace

rpc::CallResult ComponentProxy::call(std::string_view component, std::string_view method,
                                     const nlohmann::json& params) const {
  for (const auto& [name, socket] : components_) {
    if (name == component) {
      rpc::Client client(socket);
      auto r = client.call(method, params, kDeadline);
      if (rpc::is_error(r)) {
        const auto& e = std::get<rpc::Error>(r);
        // Not reaching the component is not the caller's failure to reach vigild: its own code.
        const bool unreached = e.code == rpc::kNotListening || e.code == rpc::kTransportError ||
                               e.code == rpc::kTimeout;
        return rpc::Error{unreached ? kComponentUnavailable : e.code, name + ": " + e.message};
      }
      return r;
    }
  }
  return api_error(kNotConfigured, "no " + std::string(component) +
                                       " component is configured (--component " +
                                       std::string(component) + "=SOCKET)");
}

}  // namespace vigil::mgmt
