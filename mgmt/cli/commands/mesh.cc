// mesh keygen: this site's WireGuard key, made by vigild where the mesh config looks for it.
#include "mgmt/cli/commands/commands.h"

namespace vigil::mgmt::cli {
namespace {

Output mesh_keygen(Invocation& inv) {
  const bool force = inv.args.size() == 1 && inv.args[0] == "force";
  if (!inv.args.empty() && !force) {
    return usage_error("mesh keygen [force]");
  }
  auto r = inv.call("mesh.keygen", {{"force", force}}, "cannot make a mesh key");
  if (!r) {
    return r.failure();
  }
  if (inv.json) {
    return {.out = json_text(*r)};
  }
  const auto text = [&](const char* key) {
    const auto& v = member(*r, key);
    return v.is_string() ? v.get<std::string>() : std::string("?");
  };
  Output o{.out = "public key: " + text("public_key") + "\n"};
  o.err = std::string(member(*r, "replaced").is_boolean() && member(*r, "replaced").get<bool>()
                          ? "replaced "
                          : "wrote ") +
          text("file") +
          " (mode 0600). Give the public key to every peer (mesh.peers.<name>.public_key on "
          "their side); the private key is never shown.\n";
  return o;
}

}  // namespace

void add_mesh_commands(CommandTable& t) {
  t.add({.words = {"mesh", "keygen"},
         .args_hint = "[force]",
         .help = "make this site's WireGuard key (admin); prints the public key; force replaces "
                 "an existing one",
         .run = mesh_keygen});
}

}  // namespace vigil::mgmt::cli
