// The CLI's commands by area, each file registering its own into the table; build_table()
// puts them together in the order `vigil help` lists them.
#pragma once

#include "mgmt/cli/command_table.h"

namespace vigil::mgmt::cli {

void add_show_system_commands(CommandTable& table);     // show version, show system ...
void add_config_commands(CommandTable& table);          // load, set, commit, rollback, ...
void add_show_dataplane_commands(CommandTable& table);  // show classifier, interfaces, routes
void add_mesh_commands(CommandTable& table);  // mesh keygen|token|join|revoke|leave, show mesh
// "2026-12-05 06:12:00": Unix seconds as UTC, as the CLI prints times.
std::string utc_time(int64_t unix_seconds);
// "90s", "30m", "1h", "7d" or plain seconds, in seconds.
std::optional<int64_t> parse_duration(std::string_view text);
void add_show_tunnels_commands(CommandTable& table);  // show tunnels
void add_show_paths_commands(CommandTable& table);    // show paths
void add_show_l7_commands(CommandTable& table);       // show l7 listeners|routes|upstreams
void add_show_bgp_commands(CommandTable& table);      // show bgp summary|neighbors|routes

// Configure mode's `show`: your candidate, as Junos shows it.
Output show_candidate(Invocation& inv);

CommandTable build_table();

}  // namespace vigil::mgmt::cli
