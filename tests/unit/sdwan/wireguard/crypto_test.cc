// Known answers for each primitive, from sources other than the library under test: RFC 7693
// and the BLAKE2 reference KAT, RFC 7748, and CPython's own BLAKE2 (hashlib, the reference
// code) for keyed and HMAC values; ChaCha20-Poly1305 and XChaCha20-Poly1305 are checked
// against libsodium's independent implementation (and the X construction built by hand from
// libsodium's HChaCha20 and OpenSSL's AEAD).
#include "sdwan/wireguard/crypto.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <string>
#include <vector>

#include "common/key_base64.h"
#include "tests/support/hex.h"

namespace vigil::wg {
namespace {

using test::from_hex;
using test::to_hex;

Bytes text(const char* s) {
  return {reinterpret_cast<const uint8_t*>(s), std::char_traits<char>::length(s)};
}

std::vector<uint8_t> counting(size_t n) {
  std::vector<uint8_t> out(n);
  for (size_t i = 0; i < n; ++i) {
    out[i] = static_cast<uint8_t>(i);
  }
  return out;
}

Key key_of(const std::string& hex) {
  Key k{};
  const auto bytes = from_hex(hex);
  std::copy(bytes.begin(), bytes.end(), k.begin());
  return k;
}

TEST(WireguardCrypto, Blake2sMatchesRfc7693AndTheReference) {
  EXPECT_EQ(to_hex(hash(text("abc"))),
            "508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982");
  EXPECT_EQ(to_hex(hash({})), "69217a3079908094e11121d042354a7c1f55b6482ca1a51e1b250dfd1ed0eef9");
  EXPECT_EQ(hash(text("ab"), text("c")), hash(text("abc"))) << "HASH(a || b)";
}

TEST(WireguardCrypto, KeyedBlake2sAndHmacMatchTheReference) {
  EXPECT_EQ(to_hex(mac(counting(16), text("abc"))), "75296c2d2c0f51210b383f386bc8b1ff");
  EXPECT_EQ(to_hex(mac(counting(32), counting(116))), "072e94ffbfc684bd8ab2a1b9dade2fd5");
  EXPECT_EQ(to_hex(hmac(counting(32), text("abc"))),
            "82623be5bc0a391b24dce53e67d028eff92d586de0485ac37822e597d049c74f");
  EXPECT_EQ(to_hex(hmac(text("key"), text("The quick brown fox jumps over the lazy dog"))),
            "f93215bb90d4af4c3061cd932fb169fb8bb8a91d0b4022baea1271e1323cd9a0");
}

TEST(WireguardCrypto, KdfGivesTheWhitepapersChain) {
  std::array<Key, 3> out{};
  kdf(counting(32), text("in"), out);
  EXPECT_EQ(to_hex(out[0]), "540b3bf07c384a92662f1f1f22cddd3a1b1ecfd48cd6b259b95fceac5a5b736b");
  EXPECT_EQ(to_hex(out[1]), "c3c08a2b6876d423e74eb7cd1ba9e44b5633091c51e950adcfc8a822a51a727d");
  EXPECT_EQ(to_hex(out[2]), "4aec318f00a4134757316bb9cf3fe1ed4c084e9858b0e6013844afaeb7312d6c");
  std::array<Key, 1> one{};
  kdf(counting(32), text("in"), one);
  EXPECT_EQ(one[0], out[0]) << "KDF1 is KDF3's first output";
}

TEST(WireguardCrypto, X25519MatchesRfc7748) {
  const Key alice = key_of("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
  const Key bob = key_of("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
  EXPECT_EQ(to_hex(public_key_of(alice)),
            "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
  EXPECT_EQ(to_hex(public_key_of(bob)),
            "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
  const auto shared = dh(alice, public_key_of(bob));
  ASSERT_TRUE(shared.has_value());
  EXPECT_EQ(to_hex(*shared), "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
  EXPECT_EQ(dh(bob, public_key_of(alice)), shared);
  // A low-order point (here the identity's u = 0) gives an all-zero secret: refused.
  EXPECT_FALSE(dh(alice, Key{}).has_value());
}

TEST(WireguardCrypto, APublicKeyIsWhatWgPubkeyPrintsForTheSameKey) {
  const auto private_key = key_from_base64("IKj+vxjv1gyjsMIdISrN++fie7K5u3XrV2yqIf4fY28=");
  ASSERT_TRUE(private_key.has_value());
  EXPECT_EQ(key_to_base64(public_key_of(*private_key)),
            "KgWYky3MH3oUY+IBO7LfL8ObVypjHG6Dte0jrq4giTU=");
}

TEST(WireguardCrypto, GeneratedKeysAreClampedAndAgree) {
  const KeyPair a = generate_keypair();
  const KeyPair b = generate_keypair();
  EXPECT_NE(a.private_key, b.private_key);
  EXPECT_EQ(a.private_key[0] & 7, 0);
  EXPECT_EQ(a.private_key[31] & 0xc0, 0x40);
  EXPECT_EQ(dh(a.private_key, b.public_key), dh(b.private_key, a.public_key));
}

TEST(WireguardCrypto, AeadAgreesWithLibsodiumAndRefusesAnyChange) {
  ASSERT_GE(sodium_init(), 0);
  const Key key = key_of("1c9240a5eb55d38af333888604f6b5f0473917c1402b80099dca5cbc207075c0");
  for (const size_t length : {size_t{0}, size_t{1}, size_t{64}, size_t{1420}}) {
    const auto plain = counting(length);
    const auto ad = counting(32);
    const uint64_t counter = 0x0102030405060708ULL + length;
    std::vector<uint8_t> sealed(length + kTagSize);
    aead_encrypt(key, counter, plain, ad, sealed);

    std::array<uint8_t, 12> nonce{};
    for (size_t i = 0; i < 8; ++i) {
      nonce[4 + i] = static_cast<uint8_t>(counter >> (8 * i));
    }
    std::vector<uint8_t> theirs(length + kTagSize);
    unsigned long long n = 0;
    crypto_aead_chacha20poly1305_ietf_encrypt(theirs.data(), &n, plain.data(), plain.size(),
                                              ad.data(), ad.size(), nullptr, nonce.data(),
                                              key.data());
    EXPECT_EQ(sealed, theirs) << length;

    std::vector<uint8_t> opened(length);
    EXPECT_TRUE(aead_decrypt(key, counter, sealed, ad, opened));
    EXPECT_EQ(opened, plain);
    EXPECT_FALSE(aead_decrypt(key, counter + 1, sealed, ad, opened)) << "another counter";
    sealed[sealed.size() - 1] ^= 1;
    EXPECT_FALSE(aead_decrypt(key, counter, sealed, ad, opened)) << "a bad tag";
  }
  std::vector<uint8_t> none(0);
  EXPECT_FALSE(aead_decrypt(key, 0, std::vector<uint8_t>(15), {}, none)) << "shorter than a tag";
}

TEST(WireguardCrypto, AKeptContextSealsEachMessageAsAFreshOne) {
  const Key key = key_of("1c9240a5eb55d38af333888604f6b5f0473917c1402b80099dca5cbc207075c0");
  AeadKey kept(key);
  AeadKey other(key);
  for (uint64_t counter = 0; counter < 5; ++counter) {
    const auto plain = counting(100 + counter * 300);
    std::vector<uint8_t> fresh(plain.size() + kTagSize);
    aead_encrypt(key, counter, plain, {}, fresh);
    std::vector<uint8_t> sealed = plain;  // in place, as the transport seals
    sealed.resize(plain.size() + kTagSize);
    kept.seal(counter, std::span<const uint8_t>(sealed.data(), plain.size()), {}, sealed);
    EXPECT_EQ(sealed, fresh) << counter;
    std::vector<uint8_t> opened(plain.size());
    auto tampered = sealed;
    tampered[7] ^= 1;
    EXPECT_FALSE(other.open(counter, tampered, {}, opened));
    EXPECT_TRUE(other.open(counter, sealed, {}, opened)) << "a failure leaves it usable";
    EXPECT_EQ(opened, plain);
  }
  AeadKey moved = std::move(kept);
  std::vector<uint8_t> out(kTagSize), fresh(kTagSize);
  moved.seal(9, {}, {}, out);
  aead_encrypt(key, 9, {}, {}, fresh);
  EXPECT_EQ(out, fresh) << "the contexts moved with it";
}

TEST(WireguardCrypto, XaeadIsHChaCha20ThenTheIetfAead) {
  ASSERT_GE(sodium_init(), 0);
  const Key key = key_of("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f");
  XNonce nonce{};
  for (size_t i = 0; i < nonce.size(); ++i) {
    nonce[i] = static_cast<uint8_t>(0x40 + i);
  }
  const auto cookie = counting(16);
  const auto mac1 = counting(16);
  std::vector<uint8_t> sealed(cookie.size() + kTagSize);
  xaead_encrypt(key, nonce, cookie, mac1, sealed);

  // The construction by hand: subkey = HChaCha20(key, nonce[0..16]), then ChaCha20-Poly1305
  // with the nonce 0^32 || nonce[16..24] (our counter, little-endian).
  Key subkey{};
  crypto_core_hchacha20(subkey.data(), nonce.data(), key.data(), nullptr);
  uint64_t counter = 0;
  for (size_t i = 0; i < 8; ++i) {
    counter |= uint64_t{nonce[16 + i]} << (8 * i);
  }
  std::vector<uint8_t> by_hand(cookie.size() + kTagSize);
  aead_encrypt(subkey, counter, cookie, mac1, by_hand);
  EXPECT_EQ(sealed, by_hand);

  std::vector<uint8_t> opened(cookie.size());
  EXPECT_TRUE(xaead_decrypt(key, nonce, sealed, mac1, opened));
  EXPECT_EQ(opened, cookie);
  EXPECT_FALSE(xaead_decrypt(key, nonce, sealed, counting(15), opened)) << "another mac1";
}

TEST(WireguardCrypto, ConstantTimeEqualityComparesLengthToo) {
  EXPECT_TRUE(equal_in_constant_time(text("abc"), text("abc")));
  EXPECT_FALSE(equal_in_constant_time(text("abc"), text("abd")));
  EXPECT_FALSE(equal_in_constant_time(text("abc"), text("ab")));
}

}  // namespace
}  // namespace vigil::wg
