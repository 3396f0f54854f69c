// The mesh's keys, read from the files the config names (never from the config itself): this
// site's private key and each peer's preshared key. Read at prepare, so a missing file, a file
// others could read or one that holds no key fails the commit with the file's name, before
// anything changes.
#pragma once

#include <map>
#include <string>

#include "common/expected.h"
#include "config/config.h"
#include "sdwan/wireguard/crypto.h"

namespace vigil::dp {

struct MeshKeys {
  wg::Key private_key{};
  wg::Key public_key{};
  std::map<std::string, wg::Key> preshared;  // by peer name; peers without one are absent
};

// A key file: one key in base64 (`wg genkey`, `wg genpsk`, `vigil mesh keygen`), mode 0600.
Expected<wg::Key> read_key_file(const std::string& path);

Expected<MeshKeys> load_mesh_keys(const config::MeshConfig& mesh);

}  // namespace vigil::dp
