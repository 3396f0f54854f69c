// The WireGuard protocol's primitives (the whitepaper's section 5.4), each from a kept
// library rather than written here: OpenSSL 3 for X25519, ChaCha20-Poly1305, BLAKE2s-256,
// HMAC over BLAKE2s and keyed BLAKE2s (its BLAKE2SMAC); libsodium for XChaCha20-Poly1305,
// which cookie replies use and OpenSSL 3.0 does not have. These are for the handshake, on a
// control thread: each call fetches what it needs. The transport path keeps its own contexts
// (no allocation per packet).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace vigil::wg {

inline constexpr size_t kKeySize = 32;
inline constexpr size_t kHashSize = 32;
inline constexpr size_t kMacSize = 16;
inline constexpr size_t kTagSize = 16;     // Poly1305
inline constexpr size_t kXNonceSize = 24;  // XChaCha20

using Key = std::array<uint8_t, kKeySize>;
using Hash = std::array<uint8_t, kHashSize>;
using Mac = std::array<uint8_t, kMacSize>;
using XNonce = std::array<uint8_t, kXNonceSize>;
using Bytes = std::span<const uint8_t>;

// HASH(input): BLAKE2s with a 32-byte output.
Hash hash(Bytes input);
// HASH(a || b), the handshake's way of mixing into its hash.
Hash hash(Bytes a, Bytes b);
// HMAC(key, input) with BLAKE2s-256 as its hash (RFC 2104).
Hash hmac(Bytes key, Bytes input);
// MAC(key, input): keyed BLAKE2s with a 16-byte output (mac1, mac2, cookies).
Mac mac(Bytes key, Bytes input);
// KDF_n(key, input) for n = out.size() (1 to 3): the HKDF the whitepaper defines over HMAC.
void kdf(Bytes key, Bytes input, std::span<Key> out);

struct KeyPair {
  Key private_key;
  Key public_key;
};
// A new Curve25519 key pair from the system's random source.
KeyPair generate_keypair();
// The public key of a private key (which X25519 clamps).
Key public_key_of(const Key& private_key);
// DH(private, public): X25519. Nothing when the result is all zeros (a low-order public key),
// which the handshake must refuse.
std::optional<Key> dh(const Key& private_key, const Key& public_key);

// AEAD(key, counter, plain, ad): ChaCha20-Poly1305 (RFC 8439) with the nonce 32 zero bits
// followed by the 64-bit little-endian counter. `out` holds plain.size() + kTagSize bytes.
void aead_encrypt(const Key& key, uint64_t counter, Bytes plain, Bytes ad, std::span<uint8_t> out);
// Whether the tag holds; `out` (cipher.size() - kTagSize bytes) is then the plaintext.
bool aead_decrypt(const Key& key, uint64_t counter, Bytes cipher, Bytes ad, std::span<uint8_t> out);

// ChaCha20-Poly1305 under one key for many messages (a session's direction): OpenSSL's
// context is made once, and each message only sets its nonce, so sealing and opening allocate
// nothing. Move-only; one thread at a time.
class AeadKey {
 public:
  explicit AeadKey(const Key& key);
  ~AeadKey();
  AeadKey(AeadKey&& other) noexcept;
  AeadKey& operator=(AeadKey&& other) noexcept;
  AeadKey(const AeadKey&) = delete;
  AeadKey& operator=(const AeadKey&) = delete;

  // As aead_encrypt/aead_decrypt; `plain` and `out` may be the same bytes (in place).
  void seal(uint64_t counter, Bytes plain, Bytes ad, std::span<uint8_t> out);
  bool open(uint64_t counter, Bytes cipher, Bytes ad, std::span<uint8_t> out);

 private:
  struct Contexts;
  Contexts* contexts_;
};

// XAEAD(key, nonce, plain, ad): XChaCha20-Poly1305, for cookie replies.
void xaead_encrypt(const Key& key, const XNonce& nonce, Bytes plain, Bytes ad,
                   std::span<uint8_t> out);
bool xaead_decrypt(const Key& key, const XNonce& nonce, Bytes cipher, Bytes ad,
                   std::span<uint8_t> out);

// Bytes from the system's random source.
void random_bytes(std::span<uint8_t> out);

// Whether two byte strings are equal, in time that depends only on their length.
bool equal_in_constant_time(Bytes a, Bytes b);

}  // namespace vigil::wg
