// Membership as config edits: a join, an announcement, a revocation and a leave each turn the
// running text into the text to commit, and the result parses as the config meant.
#include "mgmt/mesh/membership.h"

#include <gtest/gtest.h>

#include "config/document.h"
#include "config/yaml_json.h"

namespace vigil::mgmt::mesh {
namespace {

constexpr const char* kSite = R"(interfaces:
  lan0: {role: lan, addresses: [10.1.1.1/24, "fd00:1:1::1/64"]}
  wan1: {role: wan, addresses: [198.18.1.2/30]}
  wan2: {role: wan, addresses: [198.18.1.6/30, "2001:db8:1:2::2/64"]}
dataplane: {forwarding: true}
mesh:
  site: s1
  peers:
    plain:
      public_key: "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="
      allowed_ips: [10.99.0.0/16]
)";

config::Config parse(const std::string& text) {
  auto r = config::parse_text(text, "test");
  EXPECT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors.to_string()) << "\n" << text;
  return r.config;
}

enrol::Member member(const std::string& site, uint8_t key) {
  enrol::Member m{.site = site};
  m.public_key.fill(key);
  m.identity.fill(static_cast<uint8_t>(key + 100));
  m.endpoints = {*net::HostPort::parse("198.18.4.2:51820")};
  m.networks = {*net::Prefix::parse_network("10.4.0.0/16")};
  return m;
}

TEST(Membership, ThisSiteAsTheOthersShouldKnowIt) {
  Key32 pub{}, id{};
  pub.fill(9);
  id.fill(8);
  auto me = self_member(parse(kSite), "s1", pub, id);
  ASSERT_TRUE(me) << me.error();
  ASSERT_EQ(me->endpoints.size(), 2u);  // each wan interface's first address
  EXPECT_EQ(me->endpoints[0].to_string(), "198.18.1.2:51820");
  EXPECT_EQ(me->endpoints[1].to_string(), "198.18.1.6:51820");
  ASSERT_EQ(me->networks.size(), 2u);  // the LAN's networks
  EXPECT_EQ(me->networks[0].to_string(), "10.1.1.0/24");
  EXPECT_EQ(me->networks[1].to_string(), "fd00:1:1::/64");
  auto given = parse(std::string(kSite) +
                     "  advertise: [\"203.0.113.7:4500\"]\n  networks: [10.1.0.0/16]\n");
  me = self_member(given, "s1", pub, id);
  ASSERT_TRUE(me);
  ASSERT_EQ(me->endpoints.size(), 1u);
  EXPECT_EQ(me->endpoints[0].to_string(), "203.0.113.7:4500");
  EXPECT_EQ(me->networks[0].to_string(), "10.1.0.0/16");
}

TEST(Membership, AddsAMemberOnceAndRefusesClashes) {
  const config::Config running = parse(kSite);
  auto added = add_member(kSite, running, member("s4", 4));
  ASSERT_TRUE(added) << added.error();
  ASSERT_TRUE(added->has_value());
  const config::Config after = parse(**added);
  ASSERT_EQ(after.mesh.peers.size(), 2u);
  const auto& p = after.mesh.peers[1];
  EXPECT_EQ(p.name, "s4");
  ASSERT_TRUE(p.identity);
  EXPECT_EQ((*p.identity)[0], 104);
  EXPECT_EQ(p.endpoints[0].to_string(), "198.18.4.2:51820");
  EXPECT_EQ(p.allowed_ips[0].to_string(), "10.4.0.0/16");
  EXPECT_EQ(p.persistent_keepalive, 25u);
  EXPECT_EQ(known_members(after).size(), 1u);  // "plain" has no identity: not a member
  // Told again: nothing to commit.
  auto again = add_member(**added, after, member("s4", 4));
  ASSERT_TRUE(again);
  EXPECT_FALSE(again->has_value());
  // The same name with another key, another name with the same key, this site's own name.
  EXPECT_FALSE(add_member(**added, after, member("s4", 5)));
  EXPECT_FALSE(add_member(**added, after, member("s5", 4)));
  EXPECT_FALSE(add_member(**added, after, member("s1", 6)));
}

TEST(Membership, RefusesNetworksThatAreEverythingOrSomeoneElses) {
  const config::Config running = parse(kSite);
  for (const char* claim :
       {"0.0.0.0/0", "::/0", "0.0.0.0/1", "128.0.0.0/1", "2000::/3", "10.99.5.0/24", "10.0.0.0/8",
        "10.1.1.128/25", "fd00:1::/32", "198.18.4.0/24", "198.18.1.0/30"}) {
    enrol::Member m = member("s4", 4);
    m.networks = {*net::Prefix::parse_network(claim)};
    auto added = add_member(kSite, running, m);
    EXPECT_FALSE(added) << claim;
  }
}

TEST(Membership, OnlyAMemberChangesWhatItSaysOfItselfAndHandSetFieldsStay) {
  auto added = add_member(kSite, parse(kSite), member("s4", 4));
  ASSERT_TRUE(added && added->has_value());
  YAML::Node doc = YAML::Load(**added);
  doc["mesh"]["peers"]["s4"]["preshared_key_file"] = "/etc/vigil/psk-s4";
  doc["mesh"]["peers"]["s4"]["probe_interval"] = 50;
  const std::string text = config::emit(doc);
  const config::Config with = parse(text);
  enrol::Member moved = member("s4", 4);
  moved.endpoints = {*net::HostPort::parse("203.0.113.4:51820")};
  // Told by another member: refused; by s4 itself: taken, and the hand-set fields kept.
  EXPECT_FALSE(add_member(text, with, moved));
  auto changed = add_member(text, with, moved, /*about_itself=*/true);
  ASSERT_TRUE(changed && changed->has_value()) << (changed ? "" : changed.error());
  const config::Config after = parse(**changed);
  const auto& p = after.mesh.peers[1];
  EXPECT_EQ(p.endpoints[0].to_string(), "203.0.113.4:51820");
  EXPECT_EQ(p.preshared_key_file, "/etc/vigil/psk-s4");
  EXPECT_EQ(p.probe_interval_ms, 50u);
}

TEST(Membership, RemovesOnlyTheKeyNamed) {
  auto added = add_member(kSite, parse(kSite), member("s4", 4));
  ASSERT_TRUE(added && added->has_value());
  const config::Config with = parse(**added);
  Key32 other{};
  other.fill(5);
  EXPECT_FALSE(remove_member(**added, with, "s4", other));  // joined again since
  auto removed = remove_member(**added, with, "s4", member("s4", 4).public_key);
  ASSERT_TRUE(removed && removed->has_value());
  EXPECT_EQ(parse(**removed).mesh.peers.size(), 1u);
  auto none = remove_member(**removed, parse(**removed), "s4", member("s4", 4).public_key);
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_value());
}

TEST(Membership, AMembersNewKeyReplacesTheOneItRotatedFrom) {
  auto added = add_member(kSite, parse(kSite), member("s4", 4));
  ASSERT_TRUE(added && added->has_value());
  const config::Config with = parse(**added);
  const Key32 old_key = member("s4", 4).public_key;
  Key32 new_key{}, stranger{};
  new_key.fill(44);
  stranger.fill(45);
  constexpr int64_t kUntil = 1796459400;
  auto rekeyed = rekey_member(**added, with, "s4", new_key, old_key, kUntil);
  ASSERT_TRUE(rekeyed && rekeyed->has_value()) << (rekeyed ? "" : rekeyed.error());
  const config::Config after = parse(**rekeyed);
  const auto& p = after.mesh.peers.back();
  EXPECT_EQ(p.public_key, new_key);
  EXPECT_EQ(p.previous_public_key, old_key);
  EXPECT_EQ(p.previous_key_until, kUntil);
  EXPECT_EQ(p.allowed_ips, with.mesh.peers.back().allowed_ips) << "nothing else changes";
  // Told twice: nothing to commit. From a key it never had: refused.
  auto again = rekey_member(**rekeyed, after, "s4", new_key, old_key, kUntil);
  ASSERT_TRUE(again);
  EXPECT_FALSE(again->has_value());
  EXPECT_FALSE(rekey_member(**added, with, "s4", new_key, stranger, kUntil));
  EXPECT_FALSE(rekey_member(**added, with, "plain", new_key, stranger, kUntil)) << "not a member";
  EXPECT_FALSE(rekey_member(**added, with, "s9", new_key, old_key, kUntil));
  // A revocation sent before the rotation reached here still removes it.
  auto removed = remove_member(**rekeyed, after, "s4", old_key);
  ASSERT_TRUE(removed && removed->has_value());
  EXPECT_EQ(parse(**removed).mesh.peers.size(), 1u);
}

TEST(Membership, ThisSitesRotationNamesTheNewFileAndTheOldUntilTheGraceEnds) {
  auto rotated =
      rotate_own_key(kSite, parse(kSite), "/etc/vigil/mesh-20261205T083000Z.key", 1796463000);
  ASSERT_TRUE(rotated) << rotated.error();
  const config::Config after = parse(*rotated);
  EXPECT_EQ(after.mesh.private_key_file, "/etc/vigil/mesh-20261205T083000Z.key");
  EXPECT_EQ(after.mesh.previous_private_key_file, "/etc/vigil/mesh.key");
  EXPECT_EQ(after.mesh.previous_key_until, 1796463000);
  EXPECT_EQ(after.mesh.peers.size(), 1u);
}

TEST(Membership, JoiningAndLeaving) {
  const std::string box = R"(interfaces:
  wan1: {role: wan, addresses: [198.18.4.2/30]}
dataplane: {forwarding: true}
mesh: {private_key_file: /etc/vigil/k}
)";
  auto joined = join_mesh(box, "s4", {member("s1", 1), member("s2", 2)});
  ASSERT_TRUE(joined) << joined.error();
  // Two members cannot share a network: the second is told its own.
  EXPECT_NE(joined->find("s2:"), std::string::npos);
  auto bad = join_mesh(box, "s4", {member("s4", 1)});
  EXPECT_FALSE(bad);
  enrol::Member s1 = member("s1", 1), s2 = member("s2", 2);
  s2.networks = {*net::Prefix::parse_network("10.2.0.0/16")};
  joined = join_mesh(box, "s4", {s1, s2});
  ASSERT_TRUE(joined);
  const config::Config after = parse(*joined);
  EXPECT_EQ(after.mesh.site, "s4");
  EXPECT_EQ(after.mesh.private_key_file, "/etc/vigil/k");
  EXPECT_EQ(known_members(after).size(), 2u);
  auto left = leave_mesh(*joined, after);
  ASSERT_TRUE(left);
  const config::Config out = parse(*left);
  EXPECT_EQ(out.mesh.site, "");
  EXPECT_TRUE(out.mesh.peers.empty());
  EXPECT_EQ(out.mesh.private_key_file, "/etc/vigil/k");
}

}  // namespace
}  // namespace vigil::mgmt::mesh
