// Fuzzes the CLI's command parser as an operator's typing meets it: a line split into words,
// then run in operational or configure mode against a vigild whose answers are the wrong
// shape as often as the right one. Crashes and sanitizer reports are bugs; so is an exit code
// outside the CLI's documented set.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "mgmt/cli/commands/commands.h"
#include "mgmt/cli/dispatch.h"
#include "mgmt/cli/words.h"
#include "tests/unit/mgmt/cli/fake_vigild.h"

using nlohmann::json;
namespace cli = vigil::mgmt::cli;

namespace {

// What vigild might answer, right or wrong, picked per method by the input's first bytes.
const json kShapes[] = {
    json::object(),
    json::array(),
    json(nullptr),
    json("text"),
    json(-1),
    json{{"text", "system: {hostname: x}\n"}, {"modified", true}},
    json{{"text", 5}, {"diff", json::array()}},
    json{{"commits", json::array({json{{"seq", "x"}}})}, {"pending_confirm", 3}},
    json::array({json{{"name", 1}, {"state", nullptr}}}),
    json{{"valid", false}, {"errors", json::array({json{{"text", 1}}})}},
    // A config for the pipes and paths to work on (`| display set`, `show routing static`).
    json{{"text",
          "interfaces: {lan0: {mtu: 9000, addresses: [10.0.0.1/24]}}\n"
          "routing: {static: [{prefix: 0.0.0.0/0, next_hops: [{via: 1.1.1.1}]}]}\n"},
         {"seq", 1},
         {"modified", true}},
    json{{"text", "[: bad"}, {"seq", 1}},
};

const char* const kMethods[] = {
    "status",           "version",          "show.configuration", "show.commits",
    "show.processes",   "show.classifier",  "show.dataplane",     "candidate.show",
    "candidate.load",   "candidate.set",    "candidate.delete",   "candidate.rollback",
    "candidate.insert", "candidate.update", "candidate.discard",  "commit",
    "confirm",          "compare",          "complete",           "validate",
    "describe",
};

}  // namespace

// NOLINTNEXTLINE(readability-identifier-naming): the name libFuzzer calls
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) {
    return 0;
  }
  static const cli::CommandTable table = cli::build_table();
  cli::FakeVigild vigild;
  const uint8_t pick = data[0];
  size_t i = 0;
  for (const char* method : kMethods) {
    const uint8_t b = static_cast<uint8_t>(pick + 31 * i++);
    if (b % 7 == 0) {
      vigild.answers[method] = vigil::rpc::Error{vigil::rpc::kPermissionDenied, "denied"};
    } else {
      vigild.answers[method] = kShapes[b % std::size(kShapes)];
    }
  }
  const bool configure = (data[1] & 1) != 0;
  const bool json_output = (data[1] & 2) != 0;
  const std::string line(reinterpret_cast<const char*>(data) + 2, size - 2);
  const auto words = cli::split_words(line).words;
  const cli::Output out = cli::run_line(table, vigild, words, json_output, configure);
  (void)cli::complete_words(table, vigild, words, configure);
  if (out.exit_code < 0 || out.exit_code > 78) {
    std::abort();  // sysexits.h codes and 0/1/2 only
  }
  if (json_output && out.exit_code != 0 && !json::accept(out.out)) {
    std::abort();  // --json: a failure is a JSON error object too
  }
  return 0;
}
