// What the classifier's maps should hold, and how to get them there without a packet seeing a
// half-applied config. apply() diffs the new config against what was last written (or, after
// a restart, against what the pinned maps hold: adopt()) and writes in an order where each
// lookup finds either the old decision or the new one:
//   settings, policers, ACL actions → new prefixes, new backends, new Maglev tables (each into
//   a free slot, then the VIP switched to it in one update) → removed prefixes, VIPs and
//   backends → unused array entries zeroed → if any ACL, rate- or SYN-limit map changed (or
//   this is the first apply after adopt()), the settings' policy generation bumped, so
//   connections stop using what they remembered of the old policy once the new one is complete.
#pragma once

#include <array>
#include <map>
#include <string>
#include <vector>

#include "common/expected.h"
#include "ebpf/loader/classifier_config.h"
#include "ebpf/loader/map_access.h"

namespace vigil::ebpf {

class ClassifierState {
 public:
  // Reads the maps (pinned ones, after a restart) so the next apply() changes only what
  // differs. Maglev tables are rebuilt on that apply (their inputs are not in the maps); the
  // tables come out the same, so flows do not move.
  Status adopt(MapAccess& maps);

  // Refuses the whole config if validate() finds anything; a failing map write stops the apply
  // and says which map (the maps then hold a mix that is still consistent per lookup).
  Status apply(const ClassifierConfig& config, MapAccess& maps);

  // Names for the counters, by the index the program counts under.
  const std::vector<std::string>& acl_rule_names() const { return acl_names_; }
  const std::vector<std::string>& policer_names() const { return policer_names_; }
  struct VipInfo {
    std::string name;
    uint32_t index = 0;
  };
  struct BackendInfo {
    std::string vip;
    net::IpAddress address;
    uint32_t index = 0;
  };
  std::vector<VipInfo> vips() const;
  std::vector<BackendInfo> backends() const;

 private:
  using Contents = std::map<Bytes, Bytes>;
  struct VipState {
    std::string name;
    uint32_t index = 0;
    uint32_t slot = 0;
    Encap encap = Encap::kIpip;
    std::vector<VipBackend> backends;  // as configured, to see when the table must change
    bool table_known = false;          // false after adopt(): rebuild on the next apply
  };
  struct BackendState {
    uint32_t index = 0;
    uint32_t generation = 0;
  };
  using BackendKey = std::pair<Bytes, net::IpAddress>;  // VIP key, backend address

  Status apply_vips(const ClassifierConfig& config, MapAccess& maps);
  Status reset_per_cpu(MapAccess& maps, MapId map, uint32_t index, size_t value_size);
  Status bump_policy_generation(MapAccess& maps);

  std::array<Contents, kMapCount> plain_;  // maps whose contents follow from the config alone
  std::map<Bytes, VipState> vips_;
  std::map<BackendKey, BackendState> backends_;
  std::vector<uint32_t> generations_;  // per backend index, survives reuse
  std::vector<std::string> acl_names_;
  std::vector<std::string> policer_names_;
  bool names_unknown_ = false;  // after adopt(): rule names are not in the maps
  uint32_t policy_generation_ = 1;
  bool policy_changed_ = false;  // a policy map was written since the generation last moved
};

}  // namespace vigil::ebpf
