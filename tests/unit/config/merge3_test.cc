// Three-way merges for `update`: each side's changes kept where the other did not touch the
// same thing; conflicts named by path, ours kept there.
#include "config/merge3.h"

#include <gtest/gtest.h>

#include "config/yaml_json.h"

namespace vigil::config {
namespace {

YAML::Node y(const char* text) {
  return YAML::Load(text);
}

const char* const kBase =
    "{system: {hostname: a}, interfaces: {lan0: {role: lan, mtu: 1500}},"
    " filter: {acl: [{name: x, action: deny}, {name: y, action: allow}]}}";

TEST(ConfigMerge3, ChangesToDifferentThingsAllArrive) {
  const Merge3 m = merge3(
      y(kBase),
      y("{system: {hostname: a}, interfaces: {lan0: {role: lan, mtu: 9000}},"
        " filter: {acl: [{name: x, action: deny}, {name: y, action: allow}, {name: z, action: "
        "deny}]}}"),
      y("{system: {hostname: b}, interfaces: {lan0: {role: lan, mtu: 1500}, wan1: {role: wan}},"
        " filter: {acl: [{name: y, action: allow}]}}"));
  EXPECT_TRUE(m.conflicts.empty());
  EXPECT_TRUE(same(m.merged, y("{system: {hostname: b}, interfaces: {lan0: {role: lan, mtu: "
                               "9000}, wan1: {role: wan}},"
                               " filter: {acl: [{name: y, action: allow}, {name: z, action: "
                               "deny}]}}")))
      << emit(m.merged);
}

TEST(ConfigMerge3, TheSameThingChangedDifferentlyIsAConflictByPath) {
  const Merge3 m =
      merge3(y(kBase),
             y("{system: {hostname: ours}, interfaces: {lan0: {role: lan, mtu: 1500}},"
               " filter: {acl: [{name: x, action: allow}, {name: y, action: allow}]}}"),
             y("{system: {hostname: theirs}, interfaces: {lan0: {role: lan, mtu: 1500}},"
               " filter: {acl: [{name: x, action: deny, source: 192.0.2.0/24}, {name: y, "
               "action: allow}]}}"));
  EXPECT_EQ(m.conflicts, (std::vector<std::string>{"system.hostname"}))
      << "an ACL rule's action and source are different fields: both arrive";
  EXPECT_EQ(m.merged["system"]["hostname"].Scalar(), "ours");
  EXPECT_TRUE(
      same(m.merged["filter"]["acl"][0], y("{name: x, action: allow, source: 192.0.2.0/24}")))
      << emit(m.merged);
}

TEST(ConfigMerge3, TheSameChangeOnBothSidesIsNoConflict) {
  const Merge3 m = merge3(y(kBase), y("{system: {hostname: c}}"), y("{system: {hostname: c}}"));
  EXPECT_TRUE(m.conflicts.empty());
  EXPECT_TRUE(same(m.merged, y("{system: {hostname: c}}"))) << emit(m.merged);
}

TEST(ConfigMerge3, AnEntryDeletedByOneAndChangedByTheOtherIsAConflict) {
  const Merge3 m = merge3(y(kBase),
                          y("{system: {hostname: a}, interfaces: {lan0: {role: lan, mtu: 1500}},"
                            " filter: {acl: [{name: y, action: allow}]}}"),
                          y("{system: {hostname: a}, interfaces: {lan0: {role: lan, mtu: 1500}},"
                            " filter: {acl: [{name: x, action: allow}, {name: y, action: "
                            "allow}]}}"));
  EXPECT_EQ(m.conflicts, (std::vector<std::string>{"filter.acl[x]"}));
}

TEST(ConfigMerge3, ASectionDeletedByOneAndChangedByTheOtherIsAConflictNotAnError) {
  const Merge3 m =
      merge3(y(kBase), y("{system: {hostname: a}}"),
             y("{system: {hostname: a}, interfaces: {lan0: {role: lan, mtu: 9000}},"
               " filter: {acl: [{name: x, action: deny}, {name: y, action: allow}]}}"));
  EXPECT_EQ(m.conflicts, (std::vector<std::string>{"interfaces"})) << "ours deleted it whole";
}

TEST(ConfigMerge3, TwoOrdersOfAnOrderedListAreAConflict) {
  // They put z first; we changed y. Appending z would put it after y: refused.
  const Merge3 m = merge3(
      y(kBase), y("{filter: {acl: [{name: x, action: deny}, {name: y, action: deny}]}}"),
      y("{filter: {acl: [{name: z, action: deny}, {name: x, action: deny}, {name: y, action: "
        "allow}]}}"));
  ASSERT_EQ(m.conflicts.size(), 1u);
  EXPECT_EQ(m.conflicts[0], "filter.acl (the order of its entries)");
  // Their new rule at the end, ours changed in place: merged.
  const Merge3 fine = merge3(
      y(kBase), y("{filter: {acl: [{name: x, action: deny}, {name: y, action: deny}]}}"),
      y("{filter: {acl: [{name: x, action: deny}, {name: y, action: allow}, {name: z, action: "
        "deny}]}}"));
  EXPECT_TRUE(fine.conflicts.empty());
}

TEST(ConfigMerge3, AnEntryWithoutItsKeyCannotBeMatchedAndIsAConflict) {
  const char* base = "{routing: {static: [{prefix: 0.0.0.0/0, next_hops: [{interface: lan0}]}]}}";
  const Merge3 m = merge3(y(base),
                          y("{routing: {static: [{prefix: 0.0.0.0/0, next_hops: [{interface: "
                            "lan0}, {via: 1.1.1.1}]}]}}"),
                          y("{routing: {static: [{prefix: 0.0.0.0/0, next_hops: [{interface: "
                            "lan0}, {via: 2.2.2.2}]}]}}"));
  ASSERT_EQ(m.conflicts.size(), 1u);
  EXPECT_EQ(m.conflicts[0], "routing.static[0.0.0.0/0].next_hops (an entry without its via)");
}

}  // namespace
}  // namespace vigil::config
