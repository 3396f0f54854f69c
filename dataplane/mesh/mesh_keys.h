// The mesh's keys, read from the files the config names (never from the config itself): this
// site's private key and each peer's preshared key. Read at prepare, so a missing file, a file
// others could read or one that holds no key fails the commit with the file's name, before
// anything changes.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "common/expected.h"
#include "config/config.h"
#include "sdwan/wireguard/crypto.h"

namespace vigil::dp {

struct MeshKeys {
  wg::Key private_key{};
  wg::Key public_key{};
  std::optional<wg::Key> previous_private_key;  // while its grace lasts
  std::map<std::string, wg::Key> preshared;     // by peer name; peers without one are absent
};

// A key file: one key in base64 (`wg genkey`, `wg genpsk`, `vigil mesh keygen`), mode 0600.
Expected<wg::Key> read_key_file(const std::string& path);

// The previous key (a rotation's) is read only while its grace lasts at `now` (unix seconds):
// once over, its file may go.
Expected<MeshKeys> load_mesh_keys(const config::MeshConfig& mesh, int64_t now);

}  // namespace vigil::dp
