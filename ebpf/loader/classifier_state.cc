#include "ebpf/loader/classifier_state.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <set>

#include "common/maglev.h"
#include "ebpf/loader/counters.h"
#include "vigil/classifier_types.h"
#include "vigil/vip_filter.h"

namespace vigil::ebpf {
namespace {

using Contents = std::map<Bytes, Bytes>;

// In the order their updates go out; removals go in the reverse order, so a prefix is gone
// before the rule or policer it names is cleared.
constexpr MapId kPlainMaps[] = {
    MapId::kSettings,   MapId::kPolicers,  MapId::kAclActions, MapId::kAclSrc4,
    MapId::kAclDst4,    MapId::kAclSrc6,   MapId::kAclDst6,    MapId::kRateSrc4,
    MapId::kRateSrc6,   MapId::kSynDst4,   MapId::kSynDst6,    MapId::kLocalAddresses,
    MapId::kLocalPorts, MapId::kVipFilter, MapId::kThisPort,
};

// The maps whose contents a connection's remembered policy depends on.
bool is_policy(MapId m) {
  switch (m) {
    case MapId::kPolicers:
    case MapId::kAclActions:
    case MapId::kAclSrc4:
    case MapId::kAclDst4:
    case MapId::kAclSrc6:
    case MapId::kAclDst6:
    case MapId::kRateSrc4:
    case MapId::kRateSrc6:
    case MapId::kSynDst4:
    case MapId::kSynDst6:
      return true;
    default:
      return false;
  }
}

bool is_array(MapId m) {
  return m == MapId::kSettings || m == MapId::kPolicers || m == MapId::kAclActions ||
         m == MapId::kVipFilter;
}

constexpr uint64_t kNano = 1'000'000'000ull;

Bytes index_key(uint32_t i) {
  return bytes_of(i);
}

Bytes lpm_key(const net::Prefix& p) {
  if (p.address.family == 4) {
    vigil_lpm4_key k{};
    k.prefixlen = static_cast<__u32>(p.length);
    std::memcpy(k.addr, p.address.bytes.data(), 4);
    return bytes_of(k);
  }
  vigil_lpm6_key k{};
  k.prefixlen = static_cast<__u32>(p.length);
  std::memcpy(k.addr, p.address.bytes.data(), 16);
  return bytes_of(k);
}

net::Prefix any_address(int family) {
  net::Prefix p;
  p.address.family = family;
  return p;
}

bool covers(const net::Prefix& outer, const net::Prefix& inner) {
  return outer.address.family == inner.address.family && outer.length <= inner.length &&
         outer.contains(inner.address);
}

int rule_family(const AclRule& r) {
  if (r.source) {
    return r.source->address.family;
  }
  return r.destination ? r.destination->address.family : 0;  // 0: both
}

// For each prefix the rules name on one side (and the catch-all), the set of rules that match
// every address under it: what the program intersects with the other side's set.
void plan_acl_side(const std::vector<AclRule>& rules, int family, bool source, Contents& out) {
  std::vector<size_t> members;
  std::set<net::Prefix> prefixes{any_address(family)};
  for (size_t i = 0; i < rules.size(); ++i) {
    const int f = rule_family(rules[i]);
    if (f != 0 && f != family) {
      continue;
    }
    members.push_back(i);
    const auto& side = source ? rules[i].source : rules[i].destination;
    if (side) {
      prefixes.insert(*side);
    }
  }
  if (members.empty()) {
    return;  // no lookup hits: the program skips the ACL for this family
  }
  for (const auto& prefix : prefixes) {
    vigil_acl_mask mask{};
    for (const size_t i : members) {
      const auto& side = source ? rules[i].source : rules[i].destination;
      if (!side || covers(*side, prefix)) {
        mask.words[i / 64] |= 1ull << (i % 64);
      }
    }
    out[lpm_key(prefix)] = bytes_of(mask);
  }
}

void set_bucket(uint64_t rate, uint64_t burst, __u64& out_rate, __u64& out_burst, __u64& out_fill) {
  if (rate == 0) {
    return;
  }
  out_rate = rate;
  out_burst = (burst != 0 ? burst : rate) * kNano;
  out_fill = (out_burst + rate - 1) / rate;
}

vigil_policer to_policer(const Policer& p) {
  vigil_policer v{};
  set_bucket(p.packets_per_second, p.packet_burst, v.packet_rate, v.packet_burst, v.packet_fill_ns);
  set_bucket(p.bytes_per_second, p.byte_burst, v.byte_rate, v.byte_burst, v.byte_fill_ns);
  return v;
}

uint32_t host_mask(int host_bits) {
  return host_bits >= 32 ? 0xffffffffu : (1u << host_bits) - 1;
}

vigil_settings to_settings(const ClassifierConfig& c, uint32_t policy_generation) {
  vigil_settings s{};
  s.policy_generation = policy_generation;
  s.hash_seed = c.hash_seed;
  s.default_action = static_cast<__u8>(c.default_action);
  s.later_fragments = static_cast<__u8>(c.later_fragments);
  s.steer_transit = c.steer_transit ? 1 : 0;
  s.encap_mtu = c.encap_mtu;
  s.gue_port = htons(c.gue_port);
  std::memcpy(s.gateway_mac, c.gateway_mac.data(), 6);
  if (c.encap_source4) {
    const auto net = c.encap_source4->network();
    std::memcpy(&s.encap_src4, net.address.bytes.data(), 4);
    s.encap_src4_hostmask = host_mask(32 - net.length);
  }
  if (c.encap_source6) {
    const auto net = c.encap_source6->network();
    std::memcpy(s.encap_src6, net.address.bytes.data(), 16);
    s.encap_src6_hostmask = host_mask(128 - net.length);
  }
  return s;
}

std::array<std::map<Bytes, Bytes>, kMapCount> plan_plain(const ClassifierConfig& c,
                                                         uint32_t policy_generation) {
  std::array<std::map<Bytes, Bytes>, kMapCount> maps;
  auto at = [&](MapId m) -> std::map<Bytes, Bytes>& { return maps[static_cast<int>(m)]; };
  for (uint32_t i = 0; i < c.acl.size(); ++i) {
    at(MapId::kAclActions)[index_key(i)] = bytes_of(static_cast<uint32_t>(c.acl[i].action));
  }
  plan_acl_side(c.acl, 4, true, at(MapId::kAclSrc4));
  plan_acl_side(c.acl, 4, false, at(MapId::kAclDst4));
  plan_acl_side(c.acl, 6, true, at(MapId::kAclSrc6));
  plan_acl_side(c.acl, 6, false, at(MapId::kAclDst6));
  uint32_t policer = 0;
  for (const auto& r : c.rate_limits) {
    at(MapId::kPolicers)[index_key(policer)] = bytes_of(to_policer(r.policer));
    at(r.source.address.family == 4 ? MapId::kRateSrc4
                                    : MapId::kRateSrc6)[lpm_key(r.source.network())] =
        bytes_of(policer);
    ++policer;
  }
  for (const auto& r : c.syn_limits) {
    const Policer p{.packets_per_second = r.per_second, .packet_burst = r.burst};
    at(MapId::kPolicers)[index_key(policer)] = bytes_of(to_policer(p));
    at(r.destination.address.family == 4 ? MapId::kSynDst4
                                         : MapId::kSynDst6)[lpm_key(r.destination.network())] =
        bytes_of(policer);
    ++policer;
  }
  for (const auto& a : c.local_addresses) {
    vigil_local_address_key k{};
    k.family = static_cast<__u8>(a.family);
    std::memcpy(k.addr, a.bytes.data(), a.family == 4 ? 4 : 16);
    at(MapId::kLocalAddresses)[bytes_of(k)] = bytes_of(uint32_t{1});
  }
  for (const auto& p : c.local_ports) {
    vigil_local_port_key k{};
    k.proto = p.protocol;
    k.port = htons(p.port);
    at(MapId::kLocalPorts)[bytes_of(k)] = bytes_of(static_cast<uint32_t>(p.action));
  }
  // The VIP destination filter: plain updates go out before the VIPs, so every VIP's bit is set
  // before its entry exists. A word may lose a removed VIP's bit before that VIP's entry goes;
  // its traffic stops being balanced in this commit either way.
  std::map<uint32_t, uint64_t> filter;
  for (const auto& v : c.vips) {
    uint8_t addr[16]{};
    std::memcpy(addr, v.address.bytes.data(), v.address.family == 4 ? 4 : 16);
    const uint32_t bit = vigil_vip_filter_bit(addr);
    filter[bit / 64] |= uint64_t{1} << (bit % 64);
  }
  for (const auto& [word, bits] : filter) {
    at(MapId::kVipFilter)[index_key(word)] = bytes_of(bits);
  }
  vigil_port port{};
  if (c.port_mac) {
    std::memcpy(port.mac, c.port_mac->data(), 6);
    port.known = 1;
  }
  port.allow_martians = static_cast<__u8>(c.allow_martians);
  for (const uint16_t id : c.port_vlans) {
    port.vlans[id / 64 % VIGIL_VLAN_WORDS] |= uint64_t{1} << (id % 64);
  }
  at(MapId::kThisPort)[index_key(0)] = bytes_of(port);
  // Last: the program skips the tries this says are empty.
  vigil_settings s = to_settings(c, policy_generation);
  const std::pair<MapId, unsigned> tries[] = {
      {MapId::kAclSrc4, VIGIL_TRIE_ACL4},   {MapId::kAclSrc6, VIGIL_TRIE_ACL6},
      {MapId::kRateSrc4, VIGIL_TRIE_RATE4}, {MapId::kRateSrc6, VIGIL_TRIE_RATE6},
      {MapId::kSynDst4, VIGIL_TRIE_SYN4},   {MapId::kSynDst6, VIGIL_TRIE_SYN6}};
  for (const auto& [map, bit] : tries) {
    if (!at(map).empty()) {
      s.tries = static_cast<__u8>(s.tries | bit);
    }
  }
  at(MapId::kSettings)[index_key(0)] = bytes_of(s);
  return maps;
}

Bytes vip_key(const Vip& v) {
  vigil_vip_key k{};
  std::memcpy(k.addr, v.address.bytes.data(), v.address.family == 4 ? 4 : 16);
  k.port = htons(v.port);
  k.proto = v.protocol;
  k.family = static_cast<__u8>(v.address.family);
  return bytes_of(k);
}

std::string vip_label(const vigil_vip_key& k) {
  net::IpAddress a;
  a.family = k.family;
  std::memcpy(a.bytes.data(), k.addr, 16);
  return a.to_string() + ":" + std::to_string(ntohs(k.port)) + "/" + (k.proto == 6 ? "tcp" : "udp");
}

std::vector<VipBackend> sorted(std::vector<VipBackend> b) {
  std::sort(b.begin(), b.end(),
            [](const VipBackend& x, const VipBackend& y) { return x.address < y.address; });
  return b;
}

bool same(const std::vector<VipBackend>& a, const std::vector<VipBackend>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](const VipBackend& x, const VipBackend& y) {
                      return x.address == y.address && x.weight == y.weight;
                    });
}

template <typename Used>
std::optional<uint32_t> lowest_free(const Used& used, uint32_t limit) {
  for (uint32_t i = 0; i < limit; ++i) {
    if (!used.contains(i)) {
      return i;
    }
  }
  return std::nullopt;
}

Status wrote(Status s, MapId map) {
  if (!s) {
    return fail(std::string("map ") + map_name(map) + ": " + s.error());
  }
  return s;
}

}  // namespace

Status ClassifierState::reset_per_cpu(MapAccess& maps, MapId map, uint32_t index,
                                      size_t value_size) {
  const Bytes zeros(value_size * static_cast<size_t>(maps.cpus()), 0);
  return wrote(maps.update(map, index_key(index), zeros), map);
}

Status ClassifierState::apply(const ClassifierConfig& config, MapAccess& maps) {
  const auto errors = validate(config);
  if (!errors.empty()) {
    std::string message = "classifier config refused:";
    for (const auto& e : errors) {
      message += " " + e + ";";
    }
    message.pop_back();
    return fail(message);
  }
  auto next = plan_plain(config, policy_generation_);
  std::vector<std::string> acl_names;
  for (const auto& r : config.acl) {
    acl_names.push_back(r.name);
  }
  std::vector<std::string> policer_names;
  for (const auto& r : config.rate_limits) {
    policer_names.push_back(r.name);
  }
  for (const auto& r : config.syn_limits) {
    policer_names.push_back(r.name);
  }

  // Additions and changes, in dependency order.
  for (const MapId m : kPlainMaps) {
    auto& have = plain_[static_cast<int>(m)];
    for (const auto& [key, value] : next[static_cast<int>(m)]) {
      const auto it = have.find(key);
      if (it != have.end() && it->second == value) {
        continue;
      }
      if (m == MapId::kPolicers) {
        // A changed policer starts from a full bucket, not from the old one's debt.
        uint32_t index;
        std::memcpy(&index, key.data(), sizeof(index));
        if (auto s = reset_per_cpu(maps, MapId::kBuckets, index, sizeof(vigil_bucket)); !s) {
          return s;
        }
      }
      policy_changed_ = policy_changed_ || is_policy(m);
      if (auto s = wrote(maps.update(m, key, value), m); !s) {
        return s;
      }
      have[key] = value;
    }
  }
  // Counters follow names: an index that now means another rule starts from zero.
  auto reset_renamed = [&](const std::vector<std::string>& old_names,
                           const std::vector<std::string>& new_names, MapId stats,
                           size_t value_size) -> Status {
    if (names_unknown_) {
      return Ok{};  // adopted maps: their counters carry on under the configured names
    }
    for (uint32_t i = 0; i < new_names.size(); ++i) {
      if (i < old_names.size() && old_names[i] == new_names[i]) {
        continue;
      }
      if (auto s = reset_per_cpu(maps, stats, i, value_size); !s) {
        return s;
      }
    }
    return Ok{};
  };
  if (auto s = reset_renamed(acl_names_, acl_names, MapId::kAclStats, sizeof(vigil_counter)); !s) {
    return s;
  }
  if (auto s = reset_renamed(policer_names_, policer_names, MapId::kPolicerStats,
                             sizeof(vigil_policer_counter));
      !s) {
    return s;
  }
  acl_names_ = std::move(acl_names);
  policer_names_ = std::move(policer_names);
  names_unknown_ = false;

  if (auto s = apply_vips(config, maps); !s) {
    return s;
  }

  // Removals, dependents first.
  for (auto m = std::rbegin(kPlainMaps); m != std::rend(kPlainMaps); ++m) {
    auto& have = plain_[static_cast<int>(*m)];
    const auto& want = next[static_cast<int>(*m)];
    for (auto it = have.begin(); it != have.end();) {
      if (want.contains(it->first)) {
        ++it;
        continue;
      }
      policy_changed_ = policy_changed_ || is_policy(*m);
      const Status s = is_array(*m) ? maps.update(*m, it->first, Bytes(it->second.size(), 0))
                                    : maps.remove(*m, it->first);
      if (auto w = wrote(s, *m); !w) {
        return w;
      }
      it = have.erase(it);
    }
  }
  return bump_policy_generation(maps);
}

Status ClassifierState::bump_policy_generation(MapAccess& maps) {
  if (!policy_changed_) {
    return Ok{};
  }
  auto& settings = plain_[static_cast<int>(MapId::kSettings)][index_key(0)];
  vigil_settings s{};
  if (settings.size() != sizeof(s)) {
    return fail("map settings: unexpected layout");
  }
  std::memcpy(&s, settings.data(), sizeof(s));
  const uint32_t next = policy_generation_ + 1 == 0 ? 1 : policy_generation_ + 1;
  s.policy_generation = next;
  if (auto w = wrote(maps.update(MapId::kSettings, index_key(0), bytes_of(s)), MapId::kSettings);
      !w) {
    return w;  // still changed: the next apply bumps it
  }
  settings = bytes_of(s);
  policy_generation_ = next;
  policy_changed_ = false;
  return Ok{};
}

Status ClassifierState::apply_vips(const ClassifierConfig& config, MapAccess& maps) {
  if (generations_.empty()) {
    generations_.assign(VIGIL_MAX_BACKENDS, 0);
  }
  std::map<Bytes, const Vip*> wanted;
  for (const auto& v : config.vips) {
    wanted[vip_key(v)] = &v;
  }
  // One backend entry: `address` as a backend of the VIP at `vip_index`.
  auto write_backend = [&](const net::IpAddress& address, const BackendState& b, uint32_t vip_index,
                           bool active, Encap encap) -> Status {
    vigil_backend entry{};
    std::memcpy(entry.addr, address.bytes.data(), 16);
    entry.family = static_cast<__u8>(address.family);
    entry.active = active ? 1 : 0;
    entry.vip = static_cast<__u16>(vip_index);
    entry.generation = b.generation;
    entry.encap = static_cast<__u8>(encap);
    return wrote(maps.update(MapId::kBackends, index_key(b.index), bytes_of(entry)),
                 MapId::kBackends);
  };

  // VIPs no longer configured go first: their traffic stops either way, and their slots and
  // indices become free for the new ones.
  for (auto it = vips_.begin(); it != vips_.end();) {
    if (wanted.contains(it->first)) {
      ++it;
      continue;
    }
    if (auto s = wrote(maps.remove(MapId::kVips, it->first), MapId::kVips); !s) {
      return s;
    }
    for (auto b = backends_.begin(); b != backends_.end();) {
      if (b->first.first != it->first) {
        ++b;
        continue;
      }
      if (auto s =
              write_backend(b->first.second, b->second, it->second.index, false, it->second.encap);
          !s) {
        return s;
      }
      b = backends_.erase(b);
    }
    it = vips_.erase(it);
  }

  for (const auto& [key, vip] : wanted) {
    std::set<uint32_t> vip_indices, slots, backend_indices;
    for (const auto& [k, st] : vips_) {
      vip_indices.insert(st.index);
      slots.insert(st.slot);
    }
    for (const auto& [k, b] : backends_) {
      backend_indices.insert(b.index);
    }
    auto found = vips_.find(key);
    const bool fresh = found == vips_.end();
    VipState st = fresh ? VipState{} : found->second;
    if (fresh) {
      const auto index = lowest_free(vip_indices, VIGIL_MAX_VIPS);
      if (!index) {
        return fail("vips: no free VIP index");
      }
      st.index = *index;
      st.slot = VIGIL_MAGLEV_SLOTS;
      if (auto s = wrote(restart_count(maps, CountedBy::kVip, st.index), MapId::kCounterBases);
          !s) {
        return s;
      }
    }
    st.name = vip->name.empty() ? vip_label(*reinterpret_cast<const vigil_vip_key*>(key.data()))
                                : vip->name;
    const auto backends = sorted(vip->backends);

    // New backends exist before any table points at them.
    for (const auto& b : backends) {
      const BackendKey bk{key, b.address};
      if (backends_.contains(bk)) {
        continue;
      }
      const auto index = lowest_free(backend_indices, VIGIL_MAX_BACKENDS);
      if (!index) {
        return fail("vips[" + st.name +
                    "]: no free backend index (remove backends in one "
                    "commit, add in the next)");
      }
      backend_indices.insert(*index);
      const BackendState state{.index = *index, .generation = ++generations_[*index]};
      if (auto s = wrote(restart_count(maps, CountedBy::kBackend, *index), MapId::kCounterBases);
          !s) {
        return s;
      }
      if (auto s = write_backend(b.address, state, st.index, true, vip->encap); !s) {
        return s;
      }
      backends_[bk] = state;
    }

    // A changed backend set gets a new table in a free slot; the VIP then moves to it at once.
    uint32_t slot = st.slot;
    if (fresh || !st.table_known || !same(st.backends, backends)) {
      std::vector<MaglevBackend> inputs;
      inputs.reserve(backends.size());
      for (const auto& b : backends) {
        inputs.push_back({.key = b.address.to_string(), .weight = b.weight});
      }
      auto table = build_maglev_table(inputs, VIGIL_MAGLEV_RING_SIZE, config.hash_seed);
      if (table.empty()) {
        slot = VIGIL_MAGLEV_SLOTS;  // all drained: established flows only
      } else {
        // The old table (in `slots`) stays in use until the switch.
        const auto free_slot = lowest_free(slots, VIGIL_MAGLEV_SLOTS);
        if (!free_slot) {
          return fail("maglev: no free table slot");
        }
        slot = *free_slot;
        for (auto& entry : table) {
          entry = backends_.at({key, backends[entry].address}).index;
        }
        if (auto s = wrote(maps.fill_array(MapId::kMaglev, slot * VIGIL_MAGLEV_STRIDE, table),
                           MapId::kMaglev);
            !s) {
          return s;
        }
      }
    }
    if (fresh || slot != st.slot || vip->encap != st.encap) {
      vigil_vip value{};
      value.index = st.index;
      value.ring = slot;
      value.encap = static_cast<__u8>(vip->encap);
      if (auto s = wrote(maps.update(MapId::kVips, key, bytes_of(value)), MapId::kVips); !s) {
        return s;
      }
    }
    // The program takes the encapsulation from the backend entry (a connection hit reads no
    // VIP entry), so a changed one is written into each of the VIP's backends: established
    // flows follow from their next packet, each entry changing in that one byte.
    if (!fresh && vip->encap != st.encap) {
      for (const auto& b : backends) {
        if (auto s = write_backend(b.address, backends_.at({key, b.address}), st.index, true,
                                   vip->encap);
            !s) {
          return s;
        }
      }
    }
    st.slot = slot;
    st.encap = vip->encap;
    st.backends = backends;
    st.table_known = true;
    vips_[key] = st;

    // Backends taken out of this VIP: after the switch, so no table points at them; their
    // connections pick again.
    for (auto b = backends_.begin(); b != backends_.end();) {
      const bool listed = std::any_of(backends.begin(), backends.end(),
                                      [&](const auto& x) { return x.address == b->first.second; });
      if (b->first.first != key || listed) {
        ++b;
        continue;
      }
      if (auto s = write_backend(b->first.second, b->second, st.index, false, st.encap); !s) {
        return s;
      }
      b = backends_.erase(b);
    }
  }
  return Ok{};
}

Status ClassifierState::adopt(MapAccess& maps) {
  *this = ClassifierState{};
  names_unknown_ = true;
  for (const MapId m : kPlainMaps) {
    auto& have = plain_[static_cast<int>(m)];
    for (auto& [key, value] : maps.dump(m)) {
      if (is_array(m) && std::all_of(value.begin(), value.end(), [](uint8_t b) { return !b; })) {
        continue;  // an array's unused entry
      }
      have[std::move(key)] = std::move(value);
    }
  }
  const auto& settings = plain_[static_cast<int>(MapId::kSettings)];
  if (const auto it = settings.find(index_key(0)); it != settings.end()) {
    if (it->second.size() != sizeof(vigil_settings)) {
      return fail("map settings: unexpected layout; not adopting");
    }
    vigil_settings s{};
    std::memcpy(&s, it->second.data(), sizeof(s));
    policy_generation_ = s.policy_generation;
  }
  // The last process may have died half way through an apply, after writing policy maps and
  // before bumping the generation; connections made meanwhile remembered a mix. The first
  // apply from here bumps it whatever it changes.
  policy_changed_ = true;
  std::map<uint32_t, Bytes> vip_by_index;
  for (const auto& [key, value] : maps.dump(MapId::kVips)) {
    if (key.size() != sizeof(vigil_vip_key) || value.size() != sizeof(vigil_vip)) {
      return fail("map vips: unexpected layout; not adopting");
    }
    vigil_vip v{};
    std::memcpy(&v, value.data(), sizeof(v));
    VipState st;
    st.name = vip_label(*reinterpret_cast<const vigil_vip_key*>(key.data()));
    st.index = v.index;
    st.slot = v.ring;
    st.encap = static_cast<Encap>(v.encap);
    vips_[key] = st;
    vip_by_index[v.index] = key;
  }
  generations_.assign(VIGIL_MAX_BACKENDS, 0);
  for (const auto& [key, value] : maps.dump(MapId::kBackends)) {
    if (key.size() != sizeof(uint32_t) || value.size() != sizeof(vigil_backend)) {
      return fail("map backends: unexpected layout; not adopting");
    }
    uint32_t index;
    std::memcpy(&index, key.data(), sizeof(index));
    vigil_backend b{};
    std::memcpy(&b, value.data(), sizeof(b));
    if (index >= generations_.size()) {
      continue;
    }
    generations_[index] = b.generation;
    const auto vip = vip_by_index.find(b.vip);
    if (!b.active || vip == vip_by_index.end()) {
      continue;
    }
    net::IpAddress address;
    address.family = b.family;
    std::memcpy(address.bytes.data(), b.addr, b.family == 4 ? 4 : 16);
    backends_[{vip->second, address}] = {.index = index, .generation = b.generation};
  }
  return Ok{};
}

std::vector<ClassifierState::VipInfo> ClassifierState::vips() const {
  std::vector<VipInfo> out;
  for (const auto& [key, st] : vips_) {
    out.push_back({.name = st.name, .index = st.index});
  }
  return out;
}

std::vector<ClassifierState::BackendInfo> ClassifierState::backends() const {
  std::vector<BackendInfo> out;
  for (const auto& [key, b] : backends_) {
    out.push_back({.vip = vips_.at(key.first).name, .address = key.second, .index = b.index});
  }
  return out;
}

}  // namespace vigil::ebpf
