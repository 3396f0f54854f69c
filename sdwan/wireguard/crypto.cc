#include "sdwan/wireguard/crypto.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <sodium.h>

#include <memory>
#include <stdexcept>
#include <string>

namespace vigil::wg {
namespace {

// A library failing inside (no memory, a missing algorithm) is not something the protocol
// can answer: the handshake that needed it fails, the process goes on.
[[noreturn]] void library_failed(const char* what) {
  throw std::runtime_error(std::string("WireGuard crypto: ") + what + " failed");
}

const EVP_MD* blake2s256() {
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "BLAKE2S-256", nullptr);
  if (md == nullptr) {
    library_failed("fetching BLAKE2S-256");
  }
  return md;
}

struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using PkeyCtx = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree>;

// OpenSSL's length arguments are int.
int as_int(size_t n) {
  if (n > static_cast<size_t>(INT32_MAX)) {
    library_failed("a length over 2 GiB");
  }
  return static_cast<int>(n);
}

bool sodium_ready() {
  static const bool ready = sodium_init() >= 0;
  return ready;
}

std::array<uint8_t, 12> nonce_of(uint64_t counter) {
  std::array<uint8_t, 12> nonce{};
  for (size_t i = 0; i < 8; ++i) {
    nonce[4 + i] = static_cast<uint8_t>(counter >> (8 * i));
  }
  return nonce;
}

}  // namespace

Hash hash(Bytes input) {
  return hash(input, {});
}

Hash hash(Bytes a, Bytes b) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  Hash out{};
  unsigned int n = 0;
  if (!ctx || EVP_DigestInit_ex(ctx.get(), blake2s256(), nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), a.data(), a.size()) != 1 ||
      EVP_DigestUpdate(ctx.get(), b.data(), b.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), out.data(), &n) != 1 || n != out.size()) {
    library_failed("BLAKE2s");
  }
  return out;
}

Hash hmac(Bytes key, Bytes input) {
  Hash out{};
  size_t n = 0;
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, "BLAKE2S-256", nullptr, key.data(), key.size(),
                input.data(), input.size(), out.data(), out.size(), &n) == nullptr ||
      n != out.size()) {
    library_failed("HMAC-BLAKE2s");
  }
  return out;
}

Mac mac(Bytes key, Bytes input) {
  size_t size = kMacSize;
  const OSSL_PARAM params[] = {OSSL_PARAM_construct_size_t(OSSL_MAC_PARAM_SIZE, &size),
                               OSSL_PARAM_construct_end()};
  Mac out{};
  size_t n = 0;
  if (EVP_Q_mac(nullptr, "BLAKE2SMAC", nullptr, nullptr, params, key.data(), key.size(),
                input.data(), input.size(), out.data(), out.size(), &n) == nullptr ||
      n != out.size()) {
    library_failed("keyed BLAKE2s");
  }
  return out;
}

void kdf(Bytes key, Bytes input, std::span<Key> out) {
  const Hash prk = hmac(key, input);  // τ0
  std::array<uint8_t, kHashSize + 1> previous{};
  size_t previous_size = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    // τi = HMAC(τ0, τ(i-1) || i), τ(-1) empty.
    previous[previous_size] = static_cast<uint8_t>(i + 1);
    out[i] = hmac(prk, Bytes(previous.data(), previous_size + 1));
    std::copy(out[i].begin(), out[i].end(), previous.begin());
    previous_size = kHashSize;
  }
}

Key public_key_of(const Key& private_key) {
  Pkey pkey(EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nullptr, private_key.data(),
                                         private_key.size()));
  Key out{};
  size_t n = out.size();
  if (!pkey || EVP_PKEY_get_raw_public_key(pkey.get(), out.data(), &n) != 1 || n != out.size()) {
    library_failed("X25519 public key");
  }
  return out;
}

KeyPair generate_keypair() {
  KeyPair kp{};
  random_bytes(kp.private_key);
  // Clamped as `wg genkey` writes it; X25519 would clamp it anyway.
  kp.private_key[0] &= 248;
  kp.private_key[31] = static_cast<uint8_t>((kp.private_key[31] & 127) | 64);
  kp.public_key = public_key_of(kp.private_key);
  return kp;
}

std::optional<Key> dh(const Key& private_key, const Key& public_key) {
  Pkey ours(EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nullptr, private_key.data(),
                                         private_key.size()));
  Pkey theirs(
      EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, nullptr, public_key.data(), public_key.size()));
  if (!ours || !theirs) {
    library_failed("X25519 keys");
  }
  PkeyCtx ctx(EVP_PKEY_CTX_new(ours.get(), nullptr));
  Key out{};
  size_t n = out.size();
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1 ||
      EVP_PKEY_derive_set_peer(ctx.get(), theirs.get()) != 1) {
    library_failed("X25519");
  }
  // OpenSSL refuses an all-zero shared secret (RFC 7748 6.1): a low-order public key.
  if (EVP_PKEY_derive(ctx.get(), out.data(), &n) != 1 || n != out.size()) {
    return std::nullopt;
  }
  return out;
}

void aead_encrypt(const Key& key, uint64_t counter, Bytes plain, Bytes ad, std::span<uint8_t> out) {
  if (out.size() != plain.size() + kTagSize) {
    library_failed("ChaCha20-Poly1305 (output size)");
  }
  const auto nonce = nonce_of(counter);
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int n = 0;
  if (!ctx ||
      EVP_EncryptInit_ex(ctx.get(), EVP_chacha20_poly1305(), nullptr, key.data(), nonce.data()) !=
          1 ||
      (!ad.empty() &&
       EVP_EncryptUpdate(ctx.get(), nullptr, &n, ad.data(), as_int(ad.size())) != 1) ||
      (!plain.empty() &&
       EVP_EncryptUpdate(ctx.get(), out.data(), &n, plain.data(), as_int(plain.size())) != 1) ||
      EVP_EncryptFinal_ex(ctx.get(), out.data() + plain.size(), &n) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_GET_TAG, kTagSize, out.data() + plain.size()) !=
          1) {
    library_failed("ChaCha20-Poly1305");
  }
}

bool aead_decrypt(const Key& key, uint64_t counter, Bytes cipher, Bytes ad,
                  std::span<uint8_t> out) {
  if (cipher.size() < kTagSize || out.size() != cipher.size() - kTagSize) {
    return false;
  }
  const auto nonce = nonce_of(counter);
  const size_t length = cipher.size() - kTagSize;
  std::array<uint8_t, kTagSize> tag{};
  std::copy(cipher.begin() + static_cast<long>(length), cipher.end(), tag.begin());
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int n = 0;
  if (!ctx ||
      EVP_DecryptInit_ex(ctx.get(), EVP_chacha20_poly1305(), nullptr, key.data(), nonce.data()) !=
          1 ||
      (!ad.empty() &&
       EVP_DecryptUpdate(ctx.get(), nullptr, &n, ad.data(), as_int(ad.size())) != 1) ||
      (length > 0 &&
       EVP_DecryptUpdate(ctx.get(), out.data(), &n, cipher.data(), as_int(length)) != 1) ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_SET_TAG, kTagSize, tag.data()) != 1) {
    library_failed("ChaCha20-Poly1305");
  }
  return EVP_DecryptFinal_ex(ctx.get(), out.data() + length, &n) == 1;
}

struct AeadKey::Contexts {
  CipherCtx seal;
  CipherCtx open;
};

AeadKey::AeadKey(const Key& key)
    : contexts_(new Contexts{CipherCtx(EVP_CIPHER_CTX_new()), CipherCtx(EVP_CIPHER_CTX_new())}) {
  if (!contexts_->seal || !contexts_->open ||
      EVP_EncryptInit_ex(contexts_->seal.get(), EVP_chacha20_poly1305(), nullptr, key.data(),
                         nullptr) != 1 ||
      EVP_DecryptInit_ex(contexts_->open.get(), EVP_chacha20_poly1305(), nullptr, key.data(),
                         nullptr) != 1) {
    delete contexts_;
    library_failed("ChaCha20-Poly1305 contexts");
  }
}

AeadKey::~AeadKey() {
  delete contexts_;
}

AeadKey::AeadKey(AeadKey&& other) noexcept : contexts_(other.contexts_) {
  other.contexts_ = nullptr;
}

AeadKey& AeadKey::operator=(AeadKey&& other) noexcept {
  if (this != &other) {
    delete contexts_;
    contexts_ = other.contexts_;
    other.contexts_ = nullptr;
  }
  return *this;
}

void AeadKey::seal(uint64_t counter, Bytes plain, Bytes ad, std::span<uint8_t> out) {
  if (contexts_ == nullptr) {
    library_failed("ChaCha20-Poly1305 (a moved-from key)");
  }
  EVP_CIPHER_CTX* ctx = contexts_->seal.get();
  const auto nonce = nonce_of(counter);
  int n = 0;
  if (out.size() != plain.size() + kTagSize ||
      EVP_EncryptInit_ex(ctx, nullptr, nullptr, nullptr, nonce.data()) != 1 ||
      (!ad.empty() && EVP_EncryptUpdate(ctx, nullptr, &n, ad.data(), as_int(ad.size())) != 1) ||
      (!plain.empty() &&
       EVP_EncryptUpdate(ctx, out.data(), &n, plain.data(), as_int(plain.size())) != 1) ||
      EVP_EncryptFinal_ex(ctx, out.data() + plain.size(), &n) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, kTagSize, out.data() + plain.size()) != 1) {
    library_failed("ChaCha20-Poly1305");
  }
}

bool AeadKey::open(uint64_t counter, Bytes cipher, Bytes ad, std::span<uint8_t> out) {
  if (contexts_ == nullptr) {
    library_failed("ChaCha20-Poly1305 (a moved-from key)");
  }
  if (cipher.size() < kTagSize || out.size() != cipher.size() - kTagSize) {
    return false;
  }
  EVP_CIPHER_CTX* ctx = contexts_->open.get();
  const auto nonce = nonce_of(counter);
  const size_t length = cipher.size() - kTagSize;
  std::array<uint8_t, kTagSize> tag{};
  std::copy(cipher.begin() + static_cast<long>(length), cipher.end(), tag.begin());
  int n = 0;
  if (EVP_DecryptInit_ex(ctx, nullptr, nullptr, nullptr, nonce.data()) != 1 ||
      (!ad.empty() && EVP_DecryptUpdate(ctx, nullptr, &n, ad.data(), as_int(ad.size())) != 1) ||
      (length > 0 && EVP_DecryptUpdate(ctx, out.data(), &n, cipher.data(), as_int(length)) != 1) ||
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, kTagSize, tag.data()) != 1) {
    library_failed("ChaCha20-Poly1305");
  }
  return EVP_DecryptFinal_ex(ctx, out.data() + length, &n) == 1;
}

void xaead_encrypt(const Key& key, const XNonce& nonce, Bytes plain, Bytes ad,
                   std::span<uint8_t> out) {
  unsigned long long n = 0;
  if (!sodium_ready() || out.size() != plain.size() + kTagSize ||
      crypto_aead_xchacha20poly1305_ietf_encrypt(out.data(), &n, plain.data(), plain.size(),
                                                 ad.data(), ad.size(), nullptr, nonce.data(),
                                                 key.data()) != 0) {
    library_failed("XChaCha20-Poly1305");
  }
}

bool xaead_decrypt(const Key& key, const XNonce& nonce, Bytes cipher, Bytes ad,
                   std::span<uint8_t> out) {
  if (!sodium_ready()) {
    library_failed("libsodium's initialisation");
  }
  unsigned long long n = 0;
  return cipher.size() >= kTagSize && out.size() == cipher.size() - kTagSize &&
         crypto_aead_xchacha20poly1305_ietf_decrypt(out.data(), &n, nullptr, cipher.data(),
                                                    cipher.size(), ad.data(), ad.size(),
                                                    nonce.data(), key.data()) == 0;
}

void random_bytes(std::span<uint8_t> out) {
  if (RAND_bytes(out.data(), as_int(out.size())) != 1) {
    library_failed("the random source");
  }
}

bool equal_in_constant_time(Bytes a, Bytes b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace vigil::wg
