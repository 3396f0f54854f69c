// `load merge` along the schema: mappings and named maps key by key, keyed lists entry by entry,
// lists of values gain values, anything else replaced.
#include "config/merge.h"

#include <gtest/gtest.h>

#include "config/yaml_json.h"

namespace vigil::config {
namespace {

YAML::Node y(const char* text) {
  return YAML::Load(text);
}

TEST(ConfigMerge, MappingsAndNamedMapsMergeKeyByKey) {
  const YAML::Node merged =
      merge(y("{interfaces: {lan0: {role: lan, mtu: 1500}}, system: {hostname: a}}"),
            y("{interfaces: {lan0: {mtu: 9000}, wan1: {role: wan}}}"));
  EXPECT_TRUE(same(merged, y("{interfaces: {lan0: {role: lan, mtu: 9000}, wan1: {role: wan}},"
                             " system: {hostname: a}}")))
      << emit(merged);
}

TEST(ConfigMerge, KeyedListsMergeEntryByEntryAndKeepTheirOrder) {
  const YAML::Node merged = merge(
      y("{filter: {acl: [{name: a, action: deny, source: 192.0.2.0/24}, {name: b, action: allow}]},"
        " routing: {static: [{prefix: 0.0.0.0/0, next_hops: [{via: 10.0.0.1}]},"
        " {prefix: 0.0.0.0/0, distance: 10, next_hops: [{via: 10.0.0.2}]}]}}"),
      y("{filter: {acl: [{name: c, action: deny}, {name: a, source: 198.51.100.0/24}]},"
        " routing: {static: [{prefix: 0.0.0.0/0, distance: 10, next_hops: [{via: 10.0.0.2,"
        " weight: 4}, {via: 10.0.0.3}]}, {prefix: 0.0.0.0/0, distance: 20, blackhole: true}]}}"));
  EXPECT_TRUE(
      same(merged,
           y("{filter: {acl: [{name: a, action: deny, source: 198.51.100.0/24}, {name: b, action: "
             "allow}, {name: c, action: deny}]},"
             " routing: {static: [{prefix: 0.0.0.0/0, next_hops: [{via: 10.0.0.1}]},"
             " {prefix: 0.0.0.0/0, distance: 10, next_hops: [{via: 10.0.0.2, weight: 4}, {via: "
             "10.0.0.3}]},"
             " {prefix: 0.0.0.0/0, distance: 20, blackhole: true}]}}")))
      << emit(merged);
}

TEST(ConfigMerge, ListsOfValuesGainTheValuesTheyLack) {
  const YAML::Node merged =
      merge(y("{interfaces: {lan0: {addresses: [10.1.1.1/24, fd00::1/64]}}}"),
            y("{interfaces: {lan0: {addresses: [fd00::1/64, 10.2.2.2/24]}}}"));
  EXPECT_TRUE(
      same(merged["interfaces"]["lan0"]["addresses"], y("[10.1.1.1/24, fd00::1/64, 10.2.2.2/24]")))
      << emit(merged);
}

TEST(ConfigMerge, WhatTheSchemaDoesNotKnowIsReplacedForTheReaderToJudge) {
  const YAML::Node merged = merge(y("{system: {hostname: a}, colour: [red]}"),
                                  y("{colour: [blue], system: {hostname: [x]}}"));
  EXPECT_TRUE(same(merged, y("{system: {hostname: [x]}, colour: [blue]}"))) << emit(merged);
}

}  // namespace
}  // namespace vigil::config
