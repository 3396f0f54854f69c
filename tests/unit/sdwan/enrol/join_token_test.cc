// Join tokens: what is encoded decodes to the same; anything cut, changed in its framing,
// padded or from another format is refused without quoting the text (it holds a secret).
#include "sdwan/enrol/join_token.h"

#include <gtest/gtest.h>

namespace vigil::enrol {
namespace {

JoinToken sample() {
  JoinToken t;
  for (size_t i = 0; i < t.id.size(); ++i) {
    t.id[i] = static_cast<uint8_t>(i);
  }
  t.secret.fill(0xab);
  t.issuer_identity.fill(0x11);
  t.expires_at = 1'800'000'000;
  t.site = "branch-4";
  t.issuer = "hq";
  t.contacts = {"198.51.100.1:51821", "[2001:db8::1]:51821"};
  return t;
}

TEST(JoinToken, RoundTrips) {
  const JoinToken t = sample();
  const std::string text = encode_token(t);
  EXPECT_TRUE(text.starts_with("vigil1"));
  EXPECT_EQ(text.find_first_of("+/="), std::string::npos) << "url-safe, no padding: " << text;
  auto back = decode_token(text + "\n");
  ASSERT_TRUE(back) << back.error();
  EXPECT_EQ(back->id, t.id);
  EXPECT_EQ(back->secret, t.secret);
  EXPECT_EQ(back->issuer_identity, t.issuer_identity);
  EXPECT_EQ(back->expires_at, t.expires_at);
  EXPECT_EQ(back->site, "branch-4");
  EXPECT_EQ(back->issuer, "hq");
  EXPECT_EQ(back->contacts, t.contacts);
  EXPECT_EQ(token_id_hex(t.id), "000102030405060708090a0b0c0d0e0f");
}

TEST(JoinToken, RefusesWhatIsNotOneWithoutQuotingIt) {
  const std::string text = encode_token(sample());
  for (const std::string& bad :
       {std::string(), std::string("vigil1"), std::string("vigil2") + text.substr(6),
        text.substr(0, text.size() - 3), text + "AAAA", text.substr(0, 40),
        std::string("vigil1!!!!"), std::string(3000, 'A')}) {
    auto t = decode_token(bad);
    ASSERT_FALSE(t) << bad;
    EXPECT_NE(t.error().find("not a mesh join token"), std::string::npos) << t.error();
    if (bad.size() > 20) {
      EXPECT_EQ(t.error().find(bad.substr(6, 14)), std::string::npos) << t.error();
    }
  }
}

TEST(JoinToken, RefusesBadNamesAndContacts) {
  for (const auto& change : std::vector<std::function<void(JoinToken&)>>{
           [](JoinToken& t) { t.site = "Branch"; },
           [](JoinToken& t) { t.site = "-x"; },
           [](JoinToken& t) { t.issuer = "a b"; },
           [](JoinToken& t) { t.contacts.clear(); },
           [](JoinToken& t) { t.contacts = {"no-port"}; },
           [](JoinToken& t) { t.contacts = {"1.2.3.4:1;rm"}; },
           [](JoinToken& t) { t.contacts.assign(9, "1.2.3.4:1"); },
       }) {
    JoinToken t = sample();
    change(t);
    EXPECT_FALSE(decode_token(encode_token(t)));
  }
}

}  // namespace
}  // namespace vigil::enrol
