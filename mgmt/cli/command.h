// What a CLI command gets and gives: the words after its own and a way to call vigild, and
// back the text it printed and its exit code. Handlers return their Output instead of writing
// to the terminal, so each is unit-tested with a fake vigild (tests/unit/mgmt/cli/).
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/json_rpc.h"

namespace vigil::mgmt::cli {

// The CLI's exit codes, one per outcome a script must tell apart (sysexits.h's numbers where
// one fits); exit_codes() says what each means.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;        // a check found problems (validate), or vigild failed
inline constexpr int kExitNothing = 2;       // nothing to do: a commit of the running config
inline constexpr int kExitUsage = 64;        // the command line is wrong
inline constexpr int kExitInvalid = 65;      // vigild refused the input: a value, path, config
inline constexpr int kExitUnavailable = 69;  // vigild could not be reached
inline constexpr int kExitComponent = 70;    // a component failed the commit or did not answer
inline constexpr int kExitBusy = 73;         // vigild is busy: try again shortly
inline constexpr int kExitConflict = 75;     // running changed under the candidate: update
inline constexpr int kExitPermission = 77;   // the caller's role does not allow it

// One exit code: its number, the name --json's errors give it, and what it means.
struct ExitCode {
  int code;
  std::string_view kind;
  std::string_view meaning;
};
// Every exit code, in order: --help, --json's error kinds and docs/cli.md read them here.
std::span<const ExitCode> exit_codes();

// The exit code for vigild's (or the transport's) error code.
int exit_code_of_error(int rpc_code);

// vigild's control socket as the commands see it; rpc::Client in the CLI, a fake in tests.
class Vigild {
 public:
  virtual ~Vigild() = default;
  virtual rpc::CallResult call(std::string_view method, const nlohmann::json& params,
                               std::chrono::milliseconds timeout) = 0;
};

struct Output {
  int exit_code = kExitOk;
  std::string out;  // for standard output
  std::string err;  // for standard error: "vigil: what: why" lines
  // What a failure was about, for --json's error object: vigild's JSON-RPC code (0: the CLI's
  // own error) and the config path the command addressed (set, delete, insert).
  int rpc_code = 0;
  std::string path;
  bool is_config = false;  // `out` is a config document (YAML): `| display set` applies
  bool no_more = false;    // `| no-more`: never through the pager
};

// "vigil: usage: <how>" on stderr, exit 64.
Output usage_error(std::string_view how);
// "vigil: <message>" on stderr, exit 1 (or `exit_code`).
Output failure(std::string_view message, int exit_code = kExitFailed);

// vigild's answer to a call, or the Output that reports why there is none.
class Answer {
 public:
  explicit Answer(nlohmann::json value) : value_(std::move(value)) {}
  explicit Answer(Output failure) : failure_(std::move(failure)) {}

  explicit operator bool() const { return value_.has_value(); }
  const nlohmann::json& operator*() const { return *value_; }
  const nlohmann::json* operator->() const { return &*value_; }
  const Output& failure() const { return failure_; }

 private:
  std::optional<nlohmann::json> value_;
  Output failure_;
};

struct Invocation {
  Vigild& vigild;
  std::vector<std::string> args;  // the words after the command's own
  bool json = false;              // --json: machine-readable output

  // Calls vigild (60 s: a commit waits for every component). A failure reads
  // "vigil: <what>: <vigild's reason>", exit 69 when vigild was not reached, else 1.
  Answer call(std::string_view method, const nlohmann::json& params, std::string_view what);
};

// obj[key], or null when obj is not an object or has no such key: vigild's answers are read
// as input, and json's const operator[] asserts on a missing key. Null iterates as empty.
const nlohmann::json& member(const nlohmann::json& obj, std::string_view key);

// Pretty JSON with a newline, as --json prints every answer.
std::string json_text(const nlohmann::json& value);

// A failed command's Output as --json gives it: on standard output,
//   {"error": {"code": <exit code>, "kind": "invalid", "message": "...", "path": ... ,
//              "rpc_code": <vigild's code, or null>}}
// with the same exit code. A successful Output, or one already in JSON, is returned as it is.
Output json_error(Output o);

}  // namespace vigil::mgmt::cli
