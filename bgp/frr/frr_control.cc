#include "bgp/frr/frr_control.h"

#include <unistd.h>

#include <algorithm>
#include <sstream>

#include "common/json_bounded.h"
#include "common/secret_file.h"

namespace vigil::bgp {

FrrControl::FrrControl(FrrLayout layout, CommandRunner runner)
    : layout_(std::move(layout)), runner_(std::move(runner)) {}

std::vector<std::string> FrrControl::vtysh_argv() const {
  // Not -N with --vty_socket: vtysh would append the name to the socket directory.
  return {layout_.vtysh, "--config_dir", layout_.conf_dir, "--vty_socket", layout_.run_dir};
}

namespace {

// What FRR echoed of a line it refused may be a password: never let one out in an error.
std::string masked(std::string line) {
  const auto at = line.find(" password ");
  if (at != std::string::npos) {
    line = line.substr(0, at) + " password ****";
  }
  return line;
}

std::string first_line(const std::string& text) {
  const auto end = text.find('\n');
  return text.substr(0, end == std::string::npos ? std::min<size_t>(text.size(), 200) : end);
}

}  // namespace

std::string frr_check_errors(const std::string& output, size_t max) {
  std::istringstream in(output);
  std::string line;
  std::string out;
  size_t count = 0;
  size_t more = 0;
  while (std::getline(in, line)) {
    if (line.find("% ") == std::string::npos) {
      continue;
    }
    if (count == max) {
      ++more;
      continue;
    }
    out += (out.empty() ? "" : "\n") + masked(line);
    ++count;
  }
  if (more > 0) {
    out += "\n(" + std::to_string(more) + " more)";
  }
  return out;
}

Status FrrControl::check(const std::string& text) const {
  // Beside the running file, root's alone: it holds the passwords.
  const std::string path = layout_.conf_dir + "/frr.conf.check";
  if (auto st = write_private_file(path, text, true); !st) {
    return st;
  }
  auto argv = vtysh_argv();
  argv.insert(argv.end(), {"-C", "-f", path});
  const CommandResult r = runner_(argv, {.timeout = kCheckTimeout});
  ::unlink(path.c_str());
  if (r.ok()) {
    return Ok{};
  }
  if (!r.started || r.timed_out || r.signal != 0) {
    return fail("FRR's configuration check (vtysh -C) did not finish: " + r.how());
  }
  std::string errors = frr_check_errors(r.err + r.out);
  if (errors.empty()) {
    errors = masked(first_line(r.err + r.out));
  }
  return fail("FRR refuses the rendered configuration (vtysh -C, " + r.how() + "):\n" + errors);
}

Expected<std::vector<std::string>> FrrControl::connected_daemons() const {
  auto argv = vtysh_argv();
  argv.insert(argv.end(), {"-c", "show daemons"});
  const CommandResult r = runner_(argv, {.timeout = kShowTimeout, .max_output = 4096});
  if (!r.ok()) {
    return fail("vtysh reaches no FRR daemon (" + r.how() + "): " + masked(first_line(r.err)));
  }
  std::vector<std::string> out;
  std::istringstream words(r.out);
  std::string w;
  while (words >> w) {
    out.push_back(w);
  }
  return out;
}

Status FrrControl::all_daemons_up() const {
  auto up = connected_daemons();
  if (!up) {
    return fail(up.error());
  }
  std::string missing;
  for (std::string_view d : kFrrDaemons) {
    if (std::find(up->begin(), up->end(), d) == up->end()) {
      missing += (missing.empty() ? "" : ", ") + std::string(d);
    }
  }
  if (!missing.empty()) {
    return fail("FRR's " + missing + " not answering (starting, or restarting)");
  }
  return Ok{};
}

Status FrrControl::reload() const {
  // The file named exactly as confdir/frr.conf: any other name makes frr-reload.py write the
  // running config back over it (`vtysh write`) when done.
  const std::string bindir = layout_.vtysh.substr(0, layout_.vtysh.rfind('/'));
  // --rundir is where it writes the lines it applies (the passwords among them): root's
  // directory, not FRR's user's. Warnings and errors only: its info lines are its arguments.
  const std::vector<std::string> argv = {
      layout_.reload,   "--reload",     "--stdout",      "--log-level",      "warning",
      "--bindir",       bindir,         "--confdir",     layout_.conf_dir,   "--rundir",
      layout_.conf_dir, "--vty_socket", layout_.run_dir, layout_.conf_file()};
  const CommandResult r = runner_(argv, {.timeout = kReloadTimeout});
  if (r.ok()) {
    return Ok{};
  }
  std::string errors = frr_check_errors(r.out + "\n" + r.err);
  if (errors.empty()) {
    errors = masked(first_line(r.err.empty() ? r.out : r.err));
  }
  return fail("frr-reload.py could not apply the configuration (" + r.how() + "): " + errors);
}

Expected<nlohmann::json> FrrControl::show_json(std::string_view command, size_t max_bytes) const {
  auto argv = vtysh_argv();
  argv.insert(argv.end(), {"-c", std::string(command)});
  const CommandResult r = runner_(argv, {.timeout = kShowTimeout, .max_output = max_bytes});
  if (r.truncated) {
    return fail("FRR's answer to '" + std::string(command) + "' is larger than " +
                std::to_string(max_bytes >> 20) + " MiB");
  }
  if (!r.ok()) {
    return fail("vtysh -c '" + std::string(command) + "' failed (" + r.how() +
                "): " + masked(first_line(r.err.empty() ? r.out : r.err)));
  }
  auto parsed = parse_json_bounded(r.out);
  if (!parsed) {
    return fail("FRR's answer to '" + std::string(command) + "' is not JSON: " + parsed.error());
  }
  return parsed;
}

}  // namespace vigil::bgp
