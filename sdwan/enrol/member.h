// A site of the mesh as sites tell each other about it, in a join's answer and in an
// announcement: its name, WireGuard key, identity, where it listens and the networks behind
// it. What a site hears is checked like config (bounded counts, real keys, addresses and
// networks) before anything of it is committed.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/expected.h"
#include "common/key_base64.h"
#include "common/net/host_port.h"
#include "common/net/ip.h"

namespace vigil::enrol {

inline constexpr size_t kMaxMemberEndpoints = 8;
inline constexpr size_t kMaxMemberNetworks = 64;
inline constexpr size_t kMaxMembers = 256;
inline constexpr uint16_t kDefaultEnrolmentPort = 51821;

struct Member {
  std::string site;
  Key32 public_key{};                    // WireGuard
  Key32 identity{};                      // Ed25519, of its enrolment service
  std::vector<net::HostPort> endpoints;  // its WireGuard endpoints, one per WAN link
  std::vector<net::Prefix> networks;     // what the others route to it
  uint16_t enrolment_port = kDefaultEnrolmentPort;
  bool operator==(const Member&) const = default;

  // "host:port" of its enrolment service, one per endpoint address.
  std::vector<std::string> contacts() const;
};

nlohmann::json to_json(const Member& m);
// The member, or what is wrong with it ("endpoints[2]: ...").
Expected<Member> member_from_json(const nlohmann::json& j);

}  // namespace vigil::enrol
