// The token store on a clock of the test's: a token admits its site once, before it expires,
// only with its secret; each refusal says why; the file holds no secret, survives a reopen
// (a used token stays used) and is refused when someone else could read it.
#include "sdwan/enrol/token_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace vigil::enrol {
namespace {

class TokenStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("vigil-token-store-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    issuer_.issuer = "hq";
    issuer_.issuer_identity.fill(7);
    issuer_.contacts = {"198.51.100.1:51821"};
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string path() const { return dir_ / "mesh-tokens.json"; }
  std::string file_text() const {
    std::ifstream in(path());
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  std::filesystem::path dir_;
  JoinToken issuer_;
};

constexpr int64_t kNow = 1'800'000'000;

TEST_F(TokenStoreTest, AdmitsOnceThenSaysItWasUsed) {
  auto store = TokenStore::open(path());
  ASSERT_TRUE(store) << store.error();
  auto t = store->create("branch-4", 3600, issuer_, "alice", kNow);
  ASSERT_TRUE(t) << t.error();
  EXPECT_EQ(t->issuer, "hq");
  EXPECT_EQ(t->site, "branch-4");
  EXPECT_EQ(t->expires_at, static_cast<uint64_t>(kNow + 3600));
  Redemption r = store->redeem(t->id, t->secret, "branch-4", "198.51.100.4", "id", kNow + 10);
  EXPECT_EQ(r.refusal, Refusal::kNone) << r.message;
  EXPECT_EQ(r.record.created_by, "alice");
  r = store->redeem(t->id, t->secret, "branch-4", "198.51.100.5", "id", kNow + 20);
  EXPECT_EQ(r.refusal, Refusal::kUsed);
  EXPECT_EQ(r.message,
            "the token was used already, at 2027-01-15T08:00:10Z from 198.51.100.4: a token "
            "admits one site once; make a new one");
  // Reopened (a restart of vigild): still used.
  auto again = TokenStore::open(path());
  ASSERT_TRUE(again) << again.error();
  EXPECT_EQ(again->redeem(t->id, t->secret, "branch-4", "x", "id", kNow + 30).refusal,
            Refusal::kUsed);
}

TEST_F(TokenStoreTest, RefusesExpiredForgedUnknownAndWrongSiteWithTheReason) {
  auto store = TokenStore::open(path());
  ASSERT_TRUE(store);
  auto t = store->create("branch-4", 60, issuer_, "alice", kNow);
  ASSERT_TRUE(t);
  TokenSecret forged = t->secret;
  forged[0] ^= 1;
  EXPECT_EQ(store->redeem(t->id, forged, "branch-4", "x", "id", kNow).refusal, Refusal::kForged);
  TokenId unknown = t->id;
  unknown[0] ^= 1;
  EXPECT_EQ(store->redeem(unknown, t->secret, "branch-4", "x", "id", kNow).refusal,
            Refusal::kUnknown);
  Redemption wrong = store->redeem(t->id, t->secret, "branch-5", "x", "id", kNow);
  EXPECT_EQ(wrong.refusal, Refusal::kWrongSite);
  EXPECT_EQ(wrong.message, "the token admits site branch-4, not branch-5");
  Redemption late = store->redeem(t->id, t->secret, "branch-4", "x", "id", kNow + 60);
  EXPECT_EQ(late.refusal, Refusal::kExpired);
  EXPECT_EQ(late.message, "the token expired at 2027-01-15T08:01:00Z: make a new one");
  // None of those used it up: the refusals changed nothing.
  EXPECT_EQ(store->list(kNow)[0].used_at, 0);
}

TEST_F(TokenStoreTest, KeepsOnlyTheSecretsHashInAPrivateFile) {
  auto store = TokenStore::open(path());
  ASSERT_TRUE(store);
  auto t = store->create("branch-4", 3600, issuer_, "alice", kNow);
  ASSERT_TRUE(t);
  struct stat st {};
  ASSERT_EQ(::stat(path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  const std::string text = file_text();
  std::string secret_hex;
  for (const uint8_t b : t->secret) {
    char two[3];
    std::snprintf(two, sizeof two, "%02x", b);
    secret_hex += two;
  }
  EXPECT_EQ(text.find(secret_hex), std::string::npos);
  EXPECT_NE(text.find(token_id_hex(t->id)), std::string::npos);
  ::chmod(path().c_str(), 0644);
  EXPECT_FALSE(TokenStore::open(path()));
}

TEST_F(TokenStoreTest, WithdrawnGiveBackLimitsAndForgetting) {
  auto store = TokenStore::open(path());
  ASSERT_TRUE(store);
  auto t = store->create("branch-4", 3600, issuer_, "alice", kNow);
  ASSERT_TRUE(t);
  ASSERT_TRUE(store->withdraw(token_id_hex(t->id), kNow));
  EXPECT_EQ(store->redeem(t->id, t->secret, "branch-4", "x", "id", kNow).refusal, Refusal::kUsed);
  EXPECT_FALSE(store->withdraw("00", kNow));

  auto u = store->create("branch-5", 3600, issuer_, "alice", kNow);
  ASSERT_TRUE(u);
  EXPECT_EQ(store->redeem(u->id, u->secret, "branch-5", "x", "id", kNow).refusal, Refusal::kNone);
  store->give_back(token_id_hex(u->id), kNow);  // the join's commit failed
  EXPECT_EQ(store->redeem(u->id, u->secret, "branch-5", "x", "id", kNow).refusal, Refusal::kNone);

  EXPECT_FALSE(store->create("Bad Name", 3600, issuer_, "alice", kNow));
  EXPECT_FALSE(store->create("branch-6", 4, issuer_, "alice", kNow));
  EXPECT_FALSE(store->create("branch-6", int64_t{8} * 24 * 3600, issuer_, "alice", kNow));
  // t is withdrawn and u used: none waits yet, so 64 may.
  for (size_t i = 0; i <= kMaxLiveTokens; ++i) {
    auto made = store->create("site-" + std::to_string(i), 3600, issuer_, "alice", kNow);
    if (i < kMaxLiveTokens) {
      ASSERT_TRUE(made) << i << ": " << made.error();
    } else {
      ASSERT_FALSE(made);
      EXPECT_NE(made.error().find("64 tokens are waiting"), std::string::npos) << made.error();
    }
  }
  // A week after expiry a token is forgotten: then unknown.
  EXPECT_EQ(store->redeem(t->id, t->secret, "branch-4", "x", "id", kNow + 3600 + kTokenMemory + 1)
                .refusal,
            Refusal::kUnknown);
  EXPECT_TRUE(store->list(kNow + 3600 + kTokenMemory + 1).empty());
}

TEST_F(TokenStoreTest, RefusesAFileItDidNotWrite) {
  {
    std::ofstream out(path());
    out << "{\"tokens\": [{\"id\": 1}]}";
  }
  ::chmod(path().c_str(), 0600);
  auto store = TokenStore::open(path());
  ASSERT_FALSE(store);
  EXPECT_NE(store.error().find("move the file away"), std::string::npos) << store.error();
}

}  // namespace
}  // namespace vigil::enrol
