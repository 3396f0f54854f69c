// Keys as WireGuard's tools write them: 32 bytes in standard base64 (44 characters, one '='),
// so `wg genkey | tee key | wg pubkey` output goes straight into a config.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "sdwan/wireguard/crypto.h"

namespace vigil::wg {

std::string to_base64(const Key& key);
// Nothing unless `text` is exactly one key's base64 (surrounding whitespace aside).
std::optional<Key> key_from_base64(std::string_view text);

}  // namespace vigil::wg
