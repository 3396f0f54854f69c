#include "mgmt/cli/commands/commands.h"

namespace vigil::mgmt::cli {

CommandTable build_table() {
  CommandTable table;
  add_show_system_commands(table);
  add_show_dataplane_commands(table);
  add_show_tunnels_commands(table);
  add_show_l7_commands(table);
  add_show_bgp_commands(table);
  add_show_paths_commands(table);
  add_config_commands(table);
  add_mesh_commands(table);
  return table;
}

}  // namespace vigil::mgmt::cli
