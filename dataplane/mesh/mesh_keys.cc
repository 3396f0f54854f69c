#include "dataplane/mesh/mesh_keys.h"

#include <openssl/crypto.h>

#include "common/key_base64.h"
#include "common/secret_file.h"

namespace vigil::dp {
namespace {

// A key and a newline, with room for the whitespace editors leave.
constexpr size_t kMaxKeyFileBytes = 128;

}  // namespace

Expected<wg::Key> read_key_file(const std::string& path) {
  auto text = read_private_file(path, kMaxKeyFileBytes);
  if (!text) {
    return fail(text.error());
  }
  auto key = key_from_base64(*text);
  OPENSSL_cleanse(text->data(), text->size());
  if (!key) {
    return fail(path + " holds no key: one key in base64, as `wg genkey` writes it");
  }
  return *key;
}

Expected<MeshKeys> load_mesh_keys(const config::MeshConfig& mesh, int64_t now) {
  MeshKeys keys;
  auto own = read_key_file(mesh.private_key_file);
  if (!own) {
    const bool missing = own.error().ends_with("No such file or directory");
    return fail("mesh.private_key_file: " + own.error() +
                (missing ? " (`vigil mesh keygen` makes one)" : ""));
  }
  keys.private_key = *own;
  keys.public_key = wg::public_key_of(*own);
  if (!mesh.previous_private_key_file.empty() && now < mesh.previous_key_until) {
    auto previous = read_key_file(mesh.previous_private_key_file);
    if (!previous) {
      return fail("mesh.previous_private_key_file: " + previous.error());
    }
    keys.previous_private_key = *previous;
  }
  for (const config::MeshPeerConfig& peer : mesh.peers) {
    if (peer.preshared_key_file.empty()) {
      continue;
    }
    auto psk = read_key_file(peer.preshared_key_file);
    if (!psk) {
      return fail("mesh.peers." + peer.name + ".preshared_key_file: " + psk.error());
    }
    keys.preshared[peer.name] = *psk;
  }
  for (const config::MeshPeerConfig& peer : mesh.peers) {
    if (peer.public_key == keys.public_key) {
      return fail("mesh.peers." + peer.name +
                  ".public_key: is this site's own public key: a peer is another site");
    }
  }
  return keys;
}

}  // namespace vigil::dp
