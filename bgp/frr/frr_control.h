// Talking to Vigil's running FRR instance the way its own tools do: FRR's parser checks a
// rendered file (`vtysh -C`), frr-reload.py applies one (it diffs against the running config
// and sends only the difference, so sessions are not reset by an unrelated change), vtysh
// answers `show ... json`. Programs are run through a CommandRunner, so what decides from
// their answers is tested without FRR.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "bgp/frr/frr_instance.h"
#include "common/expected.h"
#include "common/subprocess.h"

namespace vigil::bgp {

class FrrControl {
 public:
  static constexpr std::chrono::seconds kCheckTimeout{10};
  static constexpr std::chrono::seconds kReloadTimeout{60};
  static constexpr std::chrono::seconds kShowTimeout{10};

  FrrControl(FrrLayout layout, CommandRunner runner);

  const FrrLayout& layout() const { return layout_; }

  // FRR's own parser over `text`, no daemon involved. The error lists what it said, line by
  // line ("line 12: % Unknown command: ..."), without the file's content otherwise.
  Status check(const std::string& text) const;

  // The daemons vtysh reaches now (`show daemons`): a daemon not connected would let vtysh
  // "succeed" without applying anything.
  Expected<std::vector<std::string>> connected_daemons() const;
  // Ok when every one of kFrrDaemons answers, otherwise which do not.
  Status all_daemons_up() const;

  // Applies conf_file() to the running daemons. Not atomic in FRR: the caller applies the
  // previous file again when this fails.
  Status reload() const;

  // `command`'s JSON answer (a `show ... json`), its size bounded by `max_bytes`.
  Expected<nlohmann::json> show_json(std::string_view command, size_t max_bytes) const;

 private:
  std::vector<std::string> vtysh_argv() const;

  FrrLayout layout_;
  CommandRunner runner_;
};

// What vtysh -C printed, reduced to its error lines (the ones with "% "), at most `max` of
// them, for an error message.
std::string frr_check_errors(const std::string& output, size_t max = 10);

}  // namespace vigil::bgp
