// 32-byte keys as WireGuard's tools write them: standard base64, 44 characters with one '=',
// so `wg genkey | tee key | wg pubkey` output goes straight into a config or a key file. In
// common/ because the config checks a peer's public key and the WireGuard library uses them.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vigil {

using Key32 = std::array<uint8_t, 32>;

std::string key_to_base64(const Key32& key);
// Nothing unless `text` is exactly one key's canonical base64 (surrounding whitespace aside).
std::optional<Key32> key_from_base64(std::string_view text);

}  // namespace vigil
