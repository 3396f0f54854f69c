#include "common/key_base64.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <array>

namespace vigil {

void key_to_base64(const Key32& key, std::span<char, kKeyBase64Size + 1> out) {
  // 44 characters and the NUL EVP_EncodeBlock writes.
  EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), key.data(),
                  static_cast<int>(key.size()));
}

std::string key_to_base64(const Key32& key) {
  std::array<char, kKeyBase64Size + 1> out{};
  key_to_base64(key, out);
  return {out.data(), kKeyBase64Size};
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
  // Private keys pass through here: the buffers are on the stack and cleansed.
  std::array<unsigned char, 33> out{};  // EVP_DecodeBlock writes 33 bytes for 44 characters
  const int n =
      EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(text.data()), 44);
  Key32 key{};
  std::copy(out.begin(), out.begin() + 32, key.begin());
  // The last character carries 2 bits of padding that must be zero (canonical form), and
  // EVP_DecodeBlock took '=' as zero bits: the 33rd byte is that padding.
  std::array<char, kKeyBase64Size + 1> again{};
  key_to_base64(key, again);
  const bool canonical =
      n == 33 && out[32] == 0 && std::string_view(again.data(), kKeyBase64Size) == text;
  OPENSSL_cleanse(out.data(), out.size());
  OPENSSL_cleanse(again.data(), again.size());
  if (!canonical) {
    OPENSSL_cleanse(key.data(), key.size());
    return std::nullopt;
  }
  return key;
}

}  // namespace vigil
