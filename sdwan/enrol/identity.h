// A site's mesh identity: an Ed25519 key (a PEM file of mode 0600 beside the WireGuard key)
// that its enrolment service proves in TLS. Other sites know it by its public key, pinned in
// join tokens and kept in their config (mesh.peers.<site>.identity): no certificate authority,
// nothing that expires. The X.509 certificate TLS needs is made from the key on load, self-
// signed; its dates are never checked, only the key in it.
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>
#include <string>

#include "common/expected.h"
#include "common/key_base64.h"

namespace vigil::enrol {

class Identity {
 public:
  // The key in `path`; made (mode 0600) when there is no file there yet.
  static Expected<Identity> load_or_create(const std::string& path);
  // A key only in memory, for tests.
  static Identity generate();

  const Key32& public_key() const { return public_key_; }
  EVP_PKEY* key() const { return key_.get(); }
  X509* certificate() const { return certificate_.get(); }

 private:
  struct KeyFree {
    void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
  };
  struct CertFree {
    void operator()(X509* c) const { X509_free(c); }
  };
  static Expected<Identity> from_key(EVP_PKEY* key);

  std::unique_ptr<EVP_PKEY, KeyFree> key_;
  std::unique_ptr<X509, CertFree> certificate_;
  Key32 public_key_{};
};

// The raw Ed25519 public key in `cert`, or nothing when it holds another kind of key.
std::optional<Key32> ed25519_key_of(X509* cert);

}  // namespace vigil::enrol
