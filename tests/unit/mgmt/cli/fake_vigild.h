// vigild as the CLI's commands see it, without a socket: canned answers by method, and the
// calls made, so a test checks both what a command asked and what it printed.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "mgmt/cli/command.h"

namespace vigil::mgmt::cli {

class FakeVigild final : public Vigild {
 public:
  rpc::CallResult call(std::string_view method, const nlohmann::json& params,
                       std::chrono::milliseconds) override {
    calls.push_back({std::string(method), params});
    auto it = answers.find(std::string(method));
    if (it == answers.end()) {
      return rpc::Error{rpc::kMethodNotFound, "no such method"};
    }
    return it->second;
  }

  struct Call {
    std::string method;
    nlohmann::json params;
  };
  std::map<std::string, rpc::CallResult> answers;
  std::vector<Call> calls;
};

}  // namespace vigil::mgmt::cli
