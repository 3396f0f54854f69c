// The tokens a site has made, kept in one file (mode 0600) under vigild's state directory. A
// token's secret is never stored: only its SHA-256, compared in constant time, so the file
// read by someone else admits nobody. A token is used once; used and expired ones are kept
// a week after their expiry so that a refusal can say why ("used at ... by ...", "expired at
// ..."), then forgotten. The clock is the caller's, so tests need not wait.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/expected.h"
#include "sdwan/enrol/join_token.h"

namespace vigil::enrol {

inline constexpr int64_t kMinTokenLifetime = 5;                       // seconds
inline constexpr int64_t kMaxTokenLifetime = int64_t{7} * 24 * 3600;  // a token is for one visit
inline constexpr int64_t kTokenMemory = int64_t{7} * 24 * 3600;  // kept after expiry, for refusals
inline constexpr size_t kMaxLiveTokens = 64;                     // unused and unexpired
inline constexpr size_t kMaxTokenFileBytes = 1 << 20;

struct TokenRecord {
  std::string id;           // hex
  std::string secret_hash;  // hex SHA-256
  std::string site;
  std::string created_by;
  int64_t created_at = 0;
  int64_t expires_at = 0;
  int64_t used_at = 0;    // 0: not used
  std::string used_from;  // the address the join came from
  std::string used_by;    // the identity (base64) of the site that used it
  bool withdrawn = false;
};

enum class Refusal { kNone, kMalformed, kUnknown, kForged, kWrongSite, kUsed, kExpired, kStore };

struct Redemption {
  Refusal refusal = Refusal::kNone;
  std::string message;  // why, for the joining site and the audit; "" when admitted
  TokenRecord record;   // the token's record (when the id was known)
};

// "unknown", "forged", ... for the audit log and metrics labels.
std::string_view refusal_name(Refusal r);

class TokenStore {
 public:
  // The tokens in `path`, or none when it does not exist yet.
  static Expected<TokenStore> open(const std::string& path);

  // A new token admitting `site` for `lifetime` seconds; `issuer` fills in who made it (its
  // name, identity key and contacts). Persisted before it is returned.
  Expected<JoinToken> create(const std::string& site, int64_t lifetime, const JoinToken& issuer,
                             const std::string& user, int64_t now);
  // Checks the token the joining site presents and, when it passes, marks it used (persisted
  // before this returns: a crash after cannot let it be used twice).
  Redemption redeem(const TokenId& id, const TokenSecret& secret, const std::string& site,
                    const std::string& from, const std::string& by, int64_t now);
  // Unmarks a token redeemed by redeem() whose join then failed on this side (the commit
  // was refused): the site may try again with it. Only a token used at `used_at`.
  void give_back(const std::string& id, int64_t used_at);
  // `vigil mesh token delete ID`: a token not yet used can no longer be.
  Status withdraw(const std::string& id, int64_t now);
  // Every token remembered, oldest first, after forgetting those a week past expiry.
  std::vector<TokenRecord> list(int64_t now);

 private:
  explicit TokenStore(std::string path) : path_(std::move(path)) {}
  void forget_old(int64_t now);
  Status save() const;

  std::string path_;
  std::vector<TokenRecord> records_;
};

}  // namespace vigil::enrol
