#include "sdwan/enrol/token_store.h"

#include <sodium.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <nlohmann/json.hpp>

#include "common/json_bounded.h"
#include "common/secret_file.h"
#include "common/utc_time.h"

namespace vigil::enrol {
namespace {

using nlohmann::json;

std::string hex(const uint8_t* data, size_t n) {
  std::string out(2 * n + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), data, n);
  out.pop_back();
  return out;
}

std::string hash_of(const TokenSecret& secret) {
  std::array<uint8_t, crypto_hash_sha256_BYTES> digest{};
  crypto_hash_sha256(digest.data(), secret.data(), secret.size());
  return hex(digest.data(), digest.size());
}

json to_json(const TokenRecord& r) {
  return {{"id", r.id},
          {"secret_hash", r.secret_hash},
          {"site", r.site},
          {"created_by", r.created_by},
          {"created_at", r.created_at},
          {"expires_at", r.expires_at},
          {"used_at", r.used_at},
          {"used_from", r.used_from},
          {"used_by", r.used_by},
          {"withdrawn", r.withdrawn}};
}

std::optional<TokenRecord> from_json(const json& j) {
  if (!j.is_object()) {
    return std::nullopt;
  }
  try {
    TokenRecord r{.id = j.at("id").get<std::string>(),
                  .secret_hash = j.at("secret_hash").get<std::string>(),
                  .site = j.at("site").get<std::string>(),
                  .created_by = j.at("created_by").get<std::string>(),
                  .created_at = j.at("created_at").get<int64_t>(),
                  .expires_at = j.at("expires_at").get<int64_t>(),
                  .used_at = j.at("used_at").get<int64_t>(),
                  .used_from = j.at("used_from").get<std::string>(),
                  .used_by = j.value("used_by", std::string()),
                  .withdrawn = j.at("withdrawn").get<bool>()};
    if (r.id.size() != 32 || r.secret_hash.size() != 64 || !valid_site_name(r.site)) {
      return std::nullopt;
    }
    return r;
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

}  // namespace

std::string_view refusal_name(Refusal r) {
  switch (r) {
    case Refusal::kNone:
      return "admitted";
    case Refusal::kMalformed:
      return "malformed";
    case Refusal::kUnknown:
      return "unknown";
    case Refusal::kForged:
      return "forged";
    case Refusal::kWrongSite:
      return "wrong-site";
    case Refusal::kUsed:
      return "used";
    case Refusal::kExpired:
      return "expired";
    case Refusal::kStore:
      return "store-error";
  }
  return "?";
}

Expected<TokenStore> TokenStore::open(const std::string& path) {
  TokenStore store(path);
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) {
      return store;
    }
    return fail("cannot read " + path + ": " + std::strerror(errno));
  }
  auto text = read_private_file(path, kMaxTokenFileBytes);
  if (!text) {
    return fail(text.error());
  }
  auto doc = parse_json_bounded(*text, 4);
  if (!doc || !doc->is_object() || !doc->contains("tokens") || !(*doc)["tokens"].is_array()) {
    return fail(path + " is not a token file Vigil wrote: move it away to start with no tokens");
  }
  for (const json& j : (*doc)["tokens"]) {
    auto r = from_json(j);
    if (!r) {
      return fail(path +
                  " has a token record Vigil did not write: move the file away to start "
                  "with no tokens");
    }
    store.records_.push_back(std::move(*r));
  }
  return store;
}

Status TokenStore::save() const {
  json doc{{"tokens", json::array()}};
  for (const TokenRecord& r : records_) {
    doc["tokens"].push_back(to_json(r));
  }
  return write_private_file(path_, doc.dump() + "\n", /*replace=*/true);
}

void TokenStore::forget_old(int64_t now) {
  std::erase_if(records_,
                [now](const TokenRecord& r) { return r.expires_at + kTokenMemory < now; });
}

Expected<JoinToken> TokenStore::create(const std::string& site, int64_t lifetime,
                                       const JoinToken& issuer, const std::string& user,
                                       int64_t now) {
  if (!valid_site_name(site)) {
    return fail("\"" + site + "\" is not a site name: 1-63 of a-z, 0-9 and '-', not at either end");
  }
  if (lifetime < kMinTokenLifetime || lifetime > kMaxTokenLifetime) {
    return fail("a token lives from 5 seconds to 7 days");
  }
  forget_old(now);
  const auto live = std::count_if(records_.begin(), records_.end(), [now](const TokenRecord& r) {
    return r.used_at == 0 && !r.withdrawn && r.expires_at > now;
  });
  if (static_cast<size_t>(live) >= kMaxLiveTokens) {
    return fail(
        "64 tokens are waiting to be used already: delete some (vigil mesh token delete "
        "ID) or let them expire");
  }
  JoinToken t = issuer;
  t.site = site;
  t.expires_at = static_cast<uint64_t>(now + lifetime);
  randombytes_buf(t.id.data(), t.id.size());
  randombytes_buf(t.secret.data(), t.secret.size());
  records_.push_back({.id = token_id_hex(t.id),
                      .secret_hash = hash_of(t.secret),
                      .site = site,
                      .created_by = user,
                      .created_at = now,
                      .expires_at = now + lifetime});
  if (Status saved = save(); !saved) {
    records_.pop_back();
    sodium_memzero(t.secret.data(), t.secret.size());
    return fail(saved.error());
  }
  return t;
}

Redemption TokenStore::redeem(const TokenId& id, const TokenSecret& secret, const std::string& site,
                              const std::string& from, const std::string& by, int64_t now) {
  forget_old(now);
  const std::string id_hex = token_id_hex(id);
  auto it = std::find_if(records_.begin(), records_.end(),
                         [&](const TokenRecord& r) { return r.id == id_hex; });
  if (it == records_.end()) {
    return {Refusal::kUnknown,
            "the token is unknown to this site: it was not made here, or it expired more than a "
            "week ago",
            {}};
  }
  const std::string hash = hash_of(secret);
  if (sodium_memcmp(hash.data(), it->secret_hash.data(), hash.size()) != 0) {
    return {Refusal::kForged, "the token is forged: its secret is not the one this site made", *it};
  }
  if (it->site != site) {
    return {Refusal::kWrongSite, "the token admits site " + it->site + ", not " + site, *it};
  }
  if (it->withdrawn) {
    return {Refusal::kUsed, "the token was withdrawn (vigil mesh token delete)", *it};
  }
  if (it->used_at != 0) {
    return {Refusal::kUsed,
            "the token was used already, at " + utc_time_text(it->used_at) + " from " +
                it->used_from + ": a token admits one site once; make a new one",
            *it};
  }
  if (it->expires_at <= now) {
    return {Refusal::kExpired,
            "the token expired at " + utc_time_text(it->expires_at) + ": make a new one", *it};
  }
  it->used_at = now;
  it->used_from = from;
  it->used_by = by;
  if (Status saved = save(); !saved) {
    it->used_at = 0;
    it->used_from.clear();
    it->used_by.clear();
    return {Refusal::kStore, "the site cannot record the token as used: " + saved.error(), *it};
  }
  return {Refusal::kNone, "", *it};
}

void TokenStore::give_back(const std::string& id, int64_t used_at) {
  for (TokenRecord& r : records_) {
    if (r.id == id && r.used_at == used_at) {
      r.used_at = 0;
      r.used_from.clear();
      r.used_by.clear();
      (void)save();
    }
  }
}

Status TokenStore::withdraw(const std::string& id, int64_t now) {
  for (TokenRecord& r : records_) {
    if (r.id == id) {
      if (r.used_at != 0) {
        return fail("token " + id + " was used at " + utc_time_text(r.used_at) +
                    ": nothing to withdraw");
      }
      if (r.expires_at <= now || r.withdrawn) {
        return fail("token " + id + " cannot be used any more already");
      }
      r.withdrawn = true;
      if (Status saved = save(); !saved) {
        r.withdrawn = false;
        return saved;
      }
      return Ok{};
    }
  }
  return fail("no token " + id + " here (vigil mesh token list shows them)");
}

std::vector<TokenRecord> TokenStore::list(int64_t now) {
  forget_old(now);
  return records_;
}

}  // namespace vigil::enrol
