#include "common/key_base64.h"

#include <openssl/evp.h>

#include <array>

namespace vigil {

std::string key_to_base64(const Key32& key) {
  std::array<unsigned char, 45> out{};  // 44 characters and the NUL EVP_EncodeBlock writes
  const int n = EVP_EncodeBlock(out.data(), key.data(), static_cast<int>(key.size()));
  return {reinterpret_cast<const char*>(out.data()), static_cast<size_t>(n)};
}

std::optional<Key32> key_from_base64(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t' || text.front() == '\n' ||
                           text.front() == '\r')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\n' ||
                           text.back() == '\r')) {
    text.remove_suffix(1);
  }
  // 32 bytes are 43 characters of data and one '=' of padding; nothing else decodes to a key.
  if (text.size() != 44 || text[43] != '=' || text[42] == '=') {
    return std::nullopt;
  }
  std::array<unsigned char, 33> out{};  // EVP_DecodeBlock writes 33 bytes for 44 characters
  if (EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(text.data()), 44) != 33) {
    return std::nullopt;
  }
  Key32 key{};
  std::copy(out.begin(), out.begin() + 32, key.begin());
  // The last character carries 2 bits of padding that must be zero (canonical form), and
  // EVP_DecodeBlock took '=' as zero bits: the 33rd byte is that padding.
  if (out[32] != 0 || key_to_base64(key) != text) {
    return std::nullopt;
  }
  return key;
}

}  // namespace vigil
