// Vigil's own FRR instance: where its files live and how each daemon is started, so it runs
// beside a distribution FRR without sharing a socket, a pid file or a TCP vty port
// (frr_8_4_notes.md §2). vigild starts and restarts the daemons (mgmt/supervisor.h); every
// daemon starts on no file (/dev/null) and gets its configuration from vtysh (frr-reload.py),
// so the file with the neighbours' passwords stays root's alone, and root never writes into
// the directory FRR's user owns.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "common/expected.h"

namespace vigil::bgp {

struct FrrLayout {
  // Pid files, vty sockets, zserv.api, bfdd's control socket: written by FRR's user.
  std::string run_dir = "/run/vigil/frr";
  // frr.conf (with the passwords) and vtysh.conf: root's, 0700.
  std::string conf_dir = "/var/lib/vigil/frr";
  std::string daemon_dir = "/usr/lib/frr";
  std::string vtysh = "/usr/bin/vtysh";
  std::string reload = "/usr/lib/frr/frr-reload.py";
  // FRR's -N: the daemons make /var/run/frr/<name> whatever other paths they are given.
  std::string pathspace = "vigil";
  std::string user = "frr";  // whom the daemons run as (FRR's own default)

  std::string conf_file() const { return conf_dir + "/frr.conf"; }
  std::string pid_file(std::string_view daemon) const;
};

// In start order: zebra first (the others connect to it and retry until it answers).
inline constexpr std::array<std::string_view, 4> kFrrDaemons = {"zebra", "bgpd", "bfdd", "staticd"};

// The command line that starts `daemon` (one of kFrrDaemons) in the foreground.
std::vector<std::string> frr_daemon_argv(const FrrLayout& layout, std::string_view daemon);

// Makes the directories (run_dir FRR's user's, 0750; conf_dir root's, 0700) and vtysh.conf.
// Errors name the path.
Status prepare_frr_directories(const FrrLayout& layout);

// What says the daemons are installed: every binary, vtysh and frr-reload.py. "" when they
// are, otherwise which is missing (and the Debian package that has it).
std::string missing_frr_programs(const FrrLayout& layout);

}  // namespace vigil::bgp
