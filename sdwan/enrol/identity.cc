#include "sdwan/enrol/identity.h"

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "common/secret_file.h"

namespace vigil::enrol {
namespace {

constexpr size_t kMaxKeyFile = 4096;

}  // namespace

std::optional<Key32> ed25519_key_of(X509* cert) {
  EVP_PKEY* pub = cert != nullptr ? X509_get0_pubkey(cert) : nullptr;
  Key32 raw{};
  size_t n = raw.size();
  if (pub == nullptr || EVP_PKEY_get_id(pub) != EVP_PKEY_ED25519 ||
      EVP_PKEY_get_raw_public_key(pub, raw.data(), &n) != 1 || n != raw.size()) {
    return std::nullopt;
  }
  return raw;
}

Expected<Identity> Identity::from_key(EVP_PKEY* key) {
  Identity id;
  id.key_.reset(key);
  size_t n = id.public_key_.size();
  if (EVP_PKEY_get_id(key) != EVP_PKEY_ED25519 ||
      EVP_PKEY_get_raw_public_key(key, id.public_key_.data(), &n) != 1) {
    return fail("the mesh identity key is not an Ed25519 key");
  }
  X509* cert = X509_new();
  id.certificate_.reset(cert);
  X509_NAME* name = X509_get_subject_name(cert);
  const bool ok =
      cert != nullptr && X509_set_version(cert, 2) == 1 &&
      ASN1_INTEGER_set(X509_get_serialNumber(cert), 1) == 1 &&
      X509_gmtime_adj(X509_getm_notBefore(cert), 0) != nullptr &&
      // 100 years: the dates are never checked (the key is pinned), and a certificate that
      // lapsed would only confuse whoever reads it with openssl s_client.
      X509_gmtime_adj(X509_getm_notAfter(cert), 100L * 365 * 24 * 3600) != nullptr &&
      X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                 reinterpret_cast<const unsigned char*>("vigil mesh identity"), -1,
                                 -1, 0) == 1 &&
      X509_set_issuer_name(cert, name) == 1 && X509_set_pubkey(cert, key) == 1 &&
      X509_sign(cert, key, nullptr) > 0;
  if (!ok) {
    return fail("cannot make the mesh identity's certificate");
  }
  return id;
}

Identity Identity::generate() {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  auto id = from_key(key);
  if (!id) {
    std::abort();  // Ed25519 keygen and a self-signature cannot fail short of no memory
  }
  return std::move(*id);
}

Expected<Identity> Identity::load_or_create(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0 && errno == ENOENT) {
    Identity made = generate();
    BIO* bio = BIO_new(BIO_s_mem());
    if (bio == nullptr ||
        PEM_write_bio_PrivateKey(bio, made.key(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
      BIO_free(bio);
      return fail("cannot write the mesh identity key");
    }
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio, &data);
    Status written = write_private_file(path, std::string_view(data, static_cast<size_t>(n)),
                                        /*replace=*/false);
    OPENSSL_cleanse(data, static_cast<size_t>(n));
    BIO_free(bio);
    if (!written) {
      return fail(written.error());
    }
    return made;
  }
  auto text = read_private_file(path, kMaxKeyFile);
  if (!text) {
    return fail(text.error());
  }
  BIO* bio = BIO_new_mem_buf(text->data(), static_cast<int>(text->size()));
  EVP_PKEY* key =
      bio != nullptr ? PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr) : nullptr;
  BIO_free(bio);
  OPENSSL_cleanse(text->data(), text->size());
  if (key == nullptr) {
    return fail(path +
                " holds no private key in PEM: move it away and a new identity is made "
                "(every other site must then be told the new one)");
  }
  return from_key(key);
}

}  // namespace vigil::enrol
