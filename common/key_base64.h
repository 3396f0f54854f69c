// 32-byte keys as WireGuard's tools write them: standard base64, 44 characters with one '=',
// so `wg genkey | tee key | wg pubkey` output goes straight into a config or a key file. In
// common/ because the config checks a peer's public key and the WireGuard library uses them.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace vigil {

using Key32 = std::array<uint8_t, 32>;

inline constexpr size_t kKeyBase64Size = 44;
std::string key_to_base64(const Key32& key);
// The same into `out` (44 characters, then a NUL), for a private key's text that must be
// cleansed after use: no string copy of it is left in freed memory.
void key_to_base64(const Key32& key, std::span<char, kKeyBase64Size + 1> out);
// Nothing unless `text` is exactly one key's canonical base64 (surrounding whitespace aside).
std::optional<Key32> key_from_base64(std::string_view text);

}  // namespace vigil
