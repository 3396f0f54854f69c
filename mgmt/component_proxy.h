// Operational state that lives in a component (vigil-dp's classifier and fast path counters),
// fetched on demand for the CLI and passed through as the component answered, its errors
// prefixed with its name.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/json_rpc.h"

namespace vigil::mgmt {

class ComponentProxy {
 public:
  // Components by name and control socket, as vigild commits to them.
  explicit ComponentProxy(std::vector<std::pair<std::string, std::string>> components)
      : components_(std::move(components)) {}

  rpc::CallResult call(std::string_view component, std::string_view method,
                       const nlohmann::json& params = nlohmann::json::object()) const;

 private:
  std::vector<std::pair<std::string, std::string>> components_;
};

}  // namespace vigil::mgmt
