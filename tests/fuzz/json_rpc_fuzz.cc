// Fuzzes what a control socket does with untrusted bytes: framing, JSON parsing, request
// validation and dispatch. The first input byte picks a split point so partial reads are
// exercised too. Crashes, sanitizer reports and non-JSON responses are bugs.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "common/json_rpc.h"
#include "common/line_framer.h"

using nlohmann::json;
using vigil::LineFramer;
namespace rpc = vigil::rpc;

namespace {

const rpc::Dispatcher& dispatcher() {
  static const rpc::Dispatcher d = [] {
    rpc::Dispatcher out;
    out.add("echo", [](const json& p, const rpc::CallContext&) -> rpc::CallResult { return p; });
    out.add("sum", [](const json& p, const rpc::CallContext&) -> rpc::CallResult {
      return p.at("a").get<int64_t>() + p.at("b").get<int64_t>();
    });
    return out;
  }();
  return d;
}

}  // namespace

// NOLINTNEXTLINE(readability-identifier-naming): the name libFuzzer calls
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) {
    return 0;
  }
  const size_t split = data[0] % size;
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  LineFramer framer(4096);
  auto on_line = [](std::string_view line) {
    if (auto reply = dispatcher().handle_line(line, rpc::CallContext{})) {
      if (!json::accept(*reply)) {
        std::abort();  // every response must itself be valid JSON
      }
    }
  };
  if (framer.feed(input.substr(0, split), on_line) == LineFramer::Status::kOk) {
    framer.feed(input.substr(split), on_line);
  }
  return 0;
}
