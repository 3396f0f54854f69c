#include "sdwan/enrol/join_token.h"

#include <sodium.h>

#include <algorithm>
#include <cstring>

namespace vigil::enrol {
namespace {

constexpr uint8_t kVersion = 1;
constexpr size_t kFixedBytes = 1 + 16 + 32 + 32 + 8;

void put_string(std::string& out, std::string_view s) {
  out.push_back(static_cast<char>(s.size()));
  out.append(s);
}

class Reader {
 public:
  explicit Reader(std::string_view bytes) : bytes_(bytes) {}
  bool take(void* out, size_t n) {
    if (bytes_.size() - at_ < n) {
      return false;
    }
    std::memcpy(out, bytes_.data() + at_, n);
    at_ += n;
    return true;
  }
  bool take_string(std::string& out, size_t max) {
    uint8_t n = 0;
    if (!take(&n, 1) || n == 0 || n > max || bytes_.size() - at_ < n) {
      return false;
    }
    out.assign(bytes_.data() + at_, n);
    at_ += n;
    return true;
  }
  bool done() const { return at_ == bytes_.size(); }

 private:
  std::string_view bytes_;
  size_t at_ = 0;
};

bool valid_contact(std::string_view c) {
  const size_t colon = c.rfind(':');
  return colon != std::string_view::npos && colon > 0 && colon + 1 < c.size() &&
         std::all_of(c.begin(), c.end(), [](char ch) {
           return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
                  (ch >= 'A' && ch <= 'Z') || ch == '.' || ch == ':' || ch == '-' || ch == '[' ||
                  ch == ']';
         });
}

}  // namespace

std::string encode_token(const JoinToken& t) {
  std::string bin;
  bin.push_back(static_cast<char>(kVersion));
  bin.append(reinterpret_cast<const char*>(t.id.data()), t.id.size());
  bin.append(reinterpret_cast<const char*>(t.secret.data()), t.secret.size());
  bin.append(reinterpret_cast<const char*>(t.issuer_identity.data()), t.issuer_identity.size());
  for (int shift = 56; shift >= 0; shift -= 8) {
    bin.push_back(static_cast<char>((t.expires_at >> shift) & 0xff));
  }
  put_string(bin, t.site);
  put_string(bin, t.issuer);
  bin.push_back(static_cast<char>(t.contacts.size()));
  for (const std::string& c : t.contacts) {
    put_string(bin, c);
  }
  std::string text(sodium_base64_encoded_len(bin.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING),
                   '\0');
  sodium_bin2base64(text.data(), text.size(), reinterpret_cast<const unsigned char*>(bin.data()),
                    bin.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  text.resize(std::strlen(text.c_str()));
  sodium_memzero(bin.data(), bin.size());
  return std::string(kTokenPrefix) + text;
}

Expected<JoinToken> decode_token(std::string_view text) {
  constexpr const char* kNotAToken =
      "this is not a mesh join token (one comes from `vigil mesh token create` on a site of the "
      "mesh and begins \"vigil1\")";
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ' || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  if (text.size() > kMaxTokenText || !text.starts_with(kTokenPrefix)) {
    return fail(kNotAToken);
  }
  text.remove_prefix(kTokenPrefix.size());
  std::string bin(text.size(), '\0');
  size_t length = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(bin.data()), bin.size(), text.data(),
                        text.size(), nullptr, &length, nullptr,
                        sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
      length < kFixedBytes) {
    return fail(std::string(kNotAToken) + ": it is cut short or was changed");
  }
  bin.resize(length);
  Reader r(bin);
  JoinToken t;
  uint8_t version = 0;
  uint8_t expires[8];
  uint8_t count = 0;
  r.take(&version, 1);
  if (version != kVersion) {
    return fail("this token's format (version " + std::to_string(version) +
                ") is not one this Vigil knows: make a token on a site of the same release");
  }
  r.take(t.id.data(), t.id.size());
  r.take(t.secret.data(), t.secret.size());
  r.take(t.issuer_identity.data(), t.issuer_identity.size());
  r.take(expires, sizeof expires);
  for (const uint8_t b : expires) {
    t.expires_at = (t.expires_at << 8) | b;
  }
  bool ok = r.take_string(t.site, kMaxSiteName) && valid_site_name(t.site) &&
            r.take_string(t.issuer, kMaxSiteName) && valid_site_name(t.issuer) &&
            r.take(&count, 1) && count >= 1 && count <= kMaxContacts;
  for (size_t i = 0; ok && i < count; ++i) {
    std::string c;
    ok = r.take_string(c, 64) && valid_contact(c);
    t.contacts.push_back(std::move(c));
  }
  sodium_memzero(bin.data(), bin.size());
  if (!ok || !r.done()) {
    return fail(std::string(kNotAToken) + ": it is cut short or was changed");
  }
  return t;
}

std::string token_id_hex(const TokenId& id) {
  char hex[2 * 16 + 1];
  sodium_bin2hex(hex, sizeof hex, id.data(), id.size());
  return hex;
}

}  // namespace vigil::enrol
