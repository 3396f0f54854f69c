// This site's WireGuard key as vigild handles it: made (`vigil mesh keygen`, and `vigil mesh
// join` on a box without one) and read for its public key. The private key's text is only
// ever on the stack and cleansed after use; the file is 0600, written whole or not at all.
#pragma once

#include <cstdint>
#include <string>

#include "common/expected.h"
#include "common/key_base64.h"

namespace vigil::mgmt::mesh {

// A new key pair: its private key written to `file` (an existing file is an error unless
// `replace`); returns the public key.
Expected<Key32> write_new_wireguard_key(const std::string& file, bool replace);
// Where a rotation writes the new key: beside `current`, named by `now` (unix seconds):
// /etc/vigil/mesh.key, then /etc/vigil/mesh-20261205T083000Z.key, and so on.
std::string rotated_key_file(const std::string& current, int64_t now);
// The public key of the private key in `file`.
Expected<Key32> wireguard_public_key(const std::string& file);

}  // namespace vigil::mgmt::mesh
