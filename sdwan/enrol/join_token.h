// The one-time token `vigil mesh token create` prints and `vigil mesh join` takes. It names
// the site it admits, the site that made it (its name, its identity key, the addresses of its
// enrolment service) and carries a 256-bit secret: whoever holds the token can join once, as
// that site, and can be sure it talks to the site that made it (the identity key is pinned).
// The issuer keeps only a hash of the secret (token_store.h).
//
// Text form: "vigil1" then base64url (no padding) of
//   u8 version (1) | id[16] | secret[32] | issuer identity[32] | u64 expires (Unix s, BE)
//   | u8 len, site | u8 len, issuer site | u8 count, then count x (u8 len, "host:port")
// Nothing in it is trusted before the issuer checks the secret: decode() only bounds it.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/expected.h"
#include "common/key_base64.h"
#include "common/site_name.h"

namespace vigil::enrol {

using TokenId = std::array<uint8_t, 16>;
using TokenSecret = std::array<uint8_t, 32>;

inline constexpr std::string_view kTokenPrefix = "vigil1";
inline constexpr size_t kMaxTokenText = 2048;
inline constexpr size_t kMaxContacts = 8;

struct JoinToken {
  TokenId id{};
  TokenSecret secret{};
  Key32 issuer_identity{};  // Ed25519 public key of the issuer's enrolment service
  uint64_t expires_at = 0;  // Unix seconds; the issuer's record decides, this is for messages
  std::string site;         // the site it admits
  std::string issuer;       // the site that made it
  std::vector<std::string> contacts;  // "host:port" of the issuer's enrolment service
};

std::string encode_token(const JoinToken& token);
// The token, or why the text is not one (never echoing the text: it holds a secret).
Expected<JoinToken> decode_token(std::string_view text);

// Lowercase hex of the id: how the token is named in lists, logs and the audit.
std::string token_id_hex(const TokenId& id);

}  // namespace vigil::enrol
