#include "mgmt/mesh/wireguard_key.h"

#include <openssl/crypto.h>

#include <array>
#include <span>

#include "common/secret_file.h"
#include "common/utc_time.h"
#include "sdwan/wireguard/crypto.h"

namespace vigil::mgmt::mesh {

Expected<Key32> write_new_wireguard_key(const std::string& file, bool replace) {
  wg::KeyPair pair = wg::generate_keypair();
  std::array<char, kKeyBase64Size + 2> text{};
  key_to_base64(pair.private_key, std::span(text).first<kKeyBase64Size + 1>());
  text[kKeyBase64Size] = '\n';
  Status written =
      write_private_file(file, std::string_view(text.data(), kKeyBase64Size + 1), replace);
  OPENSSL_cleanse(text.data(), text.size());
  OPENSSL_cleanse(pair.private_key.data(), pair.private_key.size());
  if (!written) {
    return fail(written.error());
  }
  return pair.public_key;
}

std::string rotated_key_file(const std::string& current, int64_t now) {
  const size_t slash = current.rfind('/');
  std::string stem = current.substr(slash + 1);
  if (stem.ends_with(".key")) {
    stem.resize(stem.size() - 4);
  }
  // A name this made before loses its time ("-", then 16 characters: 20261205T083000Z).
  constexpr size_t kStamp = 17;
  if (stem.size() > kStamp && stem[stem.size() - kStamp] == '-' && stem.back() == 'Z' &&
      stem[stem.size() - 8] == 'T') {
    stem.resize(stem.size() - kStamp);
  }
  std::string stamp = utc_time_text(now);
  std::erase_if(stamp, [](char c) { return c == '-' || c == ':'; });
  return current.substr(0, slash + 1) + stem + "-" + stamp + ".key";
}

Expected<Key32> wireguard_public_key(const std::string& file) {
  auto text = read_private_file(file, 256);
  if (!text) {
    return fail(text.error() + " (vigil mesh keygen makes this site's key)");
  }
  auto key = key_from_base64(*text);
  OPENSSL_cleanse(text->data(), text->size());
  if (!key) {
    return fail(file + " holds no WireGuard key");
  }
  Key32 pub = wg::public_key_of(*key);
  OPENSSL_cleanse(key->data(), key->size());
  return pub;
}

}  // namespace vigil::mgmt::mesh
