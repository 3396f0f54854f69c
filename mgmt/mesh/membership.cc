#include "mgmt/mesh/membership.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>

#include "common/utc_time.h"
#include "config/yaml_json.h"

namespace vigil::mgmt::mesh {
namespace {

Expected<YAML::Node> load(const std::string& text) {
  try {
    YAML::Node doc = YAML::Load(text);
    if (doc.IsNull()) {
      doc = YAML::Node(YAML::NodeType::Map);
    }
    if (!doc.IsMap()) {
      return fail("the running config is not a map");
    }
    return doc;
  } catch (const YAML::Exception& e) {
    return fail(std::string("the running config does not parse: ") + e.what());
  }
}

YAML::Node peer_node(const enrol::Member& m) {
  YAML::Node n(YAML::NodeType::Map);
  n["public_key"] = key_to_base64(m.public_key);
  n["identity"] = key_to_base64(m.identity);
  YAML::Node endpoints(YAML::NodeType::Sequence);
  for (const auto& e : m.endpoints) {
    endpoints.push_back(e.to_string());
  }
  n["endpoints"] = endpoints;
  YAML::Node networks(YAML::NodeType::Sequence);
  for (const auto& p : m.networks) {
    networks.push_back(p.to_string());
  }
  n["allowed_ips"] = networks;
  n["persistent_keepalive"] = kMemberKeepalive;
  if (m.enrolment_port != enrol::kDefaultEnrolmentPort) {
    n["enrolment_port"] = m.enrolment_port;
  }
  return n;
}

const config::MeshPeerConfig* peer_named(const config::Config& c, const std::string& name) {
  for (const auto& p : c.mesh.peers) {
    if (p.name == name) {
      return &p;
    }
  }
  return nullptr;
}

// The member as this site's config has it, to tell whether an announcement changes anything.
std::optional<enrol::Member> member_of(const config::MeshPeerConfig& p) {
  if (!p.identity) {
    return std::nullopt;
  }
  enrol::Member m{.site = p.name,
                  .public_key = p.public_key,
                  .identity = *p.identity,
                  .networks = p.allowed_ips,
                  .enrolment_port = p.enrolment_port};
  for (const auto& e : p.endpoints) {
    auto ip = net::IpAddress::parse(e.host);
    if (!ip) {
      return std::nullopt;  // a name: not as a member would have announced it
    }
    m.endpoints.push_back({.address = *ip, .port = e.port});
  }
  return m;
}

}  // namespace

std::vector<net::Prefix> site_networks(const config::Config& config) {
  std::vector<net::Prefix> out = config.mesh.networks;
  if (out.empty()) {
    for (const auto& i : config.interfaces) {
      if (i.role != config::InterfaceRole::kLan) {
        continue;
      }
      for (const auto& a : i.addresses) {
        if (std::find(out.begin(), out.end(), a.network()) == out.end() &&
            out.size() < enrol::kMaxMemberNetworks) {
          out.push_back(a.network());
        }
      }
    }
  }
  return out;
}

Expected<enrol::Member> self_member(const config::Config& config, const std::string& site,
                                    const Key32& public_key, const Key32& identity) {
  enrol::Member m{.site = site,
                  .public_key = public_key,
                  .identity = identity,
                  .enrolment_port = config.mesh.enrolment_port != 0 ? config.mesh.enrolment_port
                                                                    : enrol::kDefaultEnrolmentPort};
  for (const auto& e : config.mesh.advertise) {
    if (auto ip = net::IpAddress::parse(e.host)) {
      m.endpoints.push_back({.address = *ip, .port = e.port});
    }
  }
  if (m.endpoints.empty()) {
    for (const auto& i : config.interfaces) {
      if (i.role == config::InterfaceRole::kWan && i.enabled && !i.addresses.empty() &&
          m.endpoints.size() < enrol::kMaxMemberEndpoints) {
        m.endpoints.push_back(
            {.address = i.addresses.front().address, .port = config.mesh.listen_port});
      }
    }
  }
  if (m.endpoints.empty()) {
    return fail(
        "this site has no address to be reached at: give a wan interface an address, "
        "or set mesh.advertise");
  }
  m.networks = site_networks(config);
  return m;
}

std::vector<enrol::Member> known_members(const config::Config& config) {
  std::vector<enrol::Member> out;
  for (const auto& p : config.mesh.peers) {
    if (auto m = member_of(p)) {
      out.push_back(std::move(*m));
    }
  }
  return out;
}

Expected<std::optional<std::string>> add_member(const std::string& text,
                                                const config::Config& running,
                                                const enrol::Member& member, bool about_itself) {
  if (member.site == running.mesh.site) {
    return fail("site " + member.site + " is this site's own name");
  }
  const config::MeshPeerConfig* existing = peer_named(running, member.site);
  for (const auto& p : running.mesh.peers) {
    if (p.name != member.site &&
        (p.public_key == member.public_key || p.identity == member.identity)) {
      return fail("site " + member.site + "'s key is peer " + p.name + "'s already");
    }
  }
  if (existing != nullptr) {
    if (existing->public_key != member.public_key) {
      return fail("site " + member.site +
                  " is a peer here already, with another key: revoke it first (vigil mesh "
                  "revoke " +
                  member.site + ")");
    }
    if (member_of(*existing) == member) {
      return std::optional<std::string>();
    }
    if (!about_itself || existing->identity != member.identity) {
      return fail("site " + member.site +
                  " is a member here already: only it may change what "
                  "it says of itself");
    }
  }
  // A member's networks are routed to it and are the sources it may send: none may be
  // everything, this site's own, or part of another peer's.
  std::vector<std::pair<net::Prefix, std::string>> taken;
  for (const auto& p : running.mesh.peers) {
    if (p.name != member.site) {
      for (const auto& a : p.allowed_ips) {
        taken.emplace_back(a, "peer " + p.name + "'s");
      }
    }
  }
  for (const auto& n : site_networks(running)) {
    taken.emplace_back(n, "this site's");
  }
  // Addresses the tunnels themselves travel between: routed into a tunnel, they would loop.
  std::vector<std::pair<net::IpAddress, std::string>> underlay;
  for (const auto& i : running.interfaces) {
    for (const auto& a : i.addresses) {
      underlay.emplace_back(a.address, "this site's address");
    }
  }
  for (const auto& p : running.mesh.peers) {
    for (const auto& e : p.endpoints) {
      if (auto ip = net::IpAddress::parse(e.host)) {
        underlay.emplace_back(*ip, "peer " + p.name + "'s endpoint");
      }
    }
  }
  for (const auto& e : member.endpoints) {
    underlay.emplace_back(e.address, "its own endpoint");
  }
  for (const auto& n : member.networks) {
    if (n.length < (n.address.family == 4 ? kMinMemberPrefixV4 : kMinMemberPrefixV6)) {
      return fail("site " + member.site + " claims " + n.to_string() +
                  ": a member is given its own networks, not a share of the internet (at most "
                  "/8 in IPv4, /16 in IPv6)");
    }
    for (const auto& [address, whose] : underlay) {
      if (n.contains(address)) {
        return fail("site " + member.site + " claims " + n.to_string() + ", which holds " + whose +
                    " " + address.to_string() + ": the tunnels would carry themselves");
      }
    }
    for (const auto& [other, whose] : taken) {
      if (n.overlaps(other)) {
        return fail("site " + member.site + " claims " + n.to_string() + ", which overlaps " +
                    whose + " " + other.to_string());
      }
    }
  }
  auto doc = load(text);
  if (!doc) {
    return fail(doc.error());
  }
  YAML::Node node = (*doc)["mesh"]["peers"][member.site];
  if (existing == nullptr || !node.IsMap()) {
    (*doc)["mesh"]["peers"][member.site] = peer_node(member);
  } else {
    // What the member says of itself, and nothing else: a preshared key, a probe interval
    // or a keepalive set here by hand stay.
    const YAML::Node fresh = peer_node(member);
    for (const char* key : {"endpoints", "allowed_ips", "identity"}) {
      node[key] = fresh[key];
    }
    if (member.enrolment_port != enrol::kDefaultEnrolmentPort) {
      node["enrolment_port"] = member.enrolment_port;
    } else {
      node.remove("enrolment_port");
    }
  }
  return std::optional<std::string>(config::emit(*doc));
}

Expected<std::optional<std::string>> remove_member(const std::string& text,
                                                   const config::Config& running,
                                                   const std::string& site,
                                                   const Key32& public_key) {
  const auto* p = peer_named(running, site);
  if (p == nullptr) {
    return std::optional<std::string>();
  }
  // Its previous key too: a revocation sent before the site's rotation reached here.
  if (p->public_key != public_key && p->previous_public_key != public_key) {
    return fail("site " + site +
                " here has another key than the one to remove: it joined "
                "again since");
  }
  auto doc = load(text);
  if (!doc) {
    return fail(doc.error());
  }
  (*doc)["mesh"]["peers"].remove(site);
  return std::optional<std::string>(config::emit(*doc));
}

Expected<std::optional<std::string>> rekey_member(const std::string& text,
                                                  const config::Config& running,
                                                  const std::string& site, const Key32& public_key,
                                                  const Key32& previous, int64_t until) {
  const auto* p = peer_named(running, site);
  if (p == nullptr || !p->identity) {
    return fail("site " + site + " is no member here");
  }
  if (p->public_key == public_key &&
      (p->previous_public_key == previous || p->previous_public_key == std::nullopt)) {
    return std::optional<std::string>();  // told already (or its grace is over here)
  }
  if (p->public_key != previous) {
    return fail("site " + site +
                " has another key here than the one it rotated from: it joined again since, or "
                "rotated twice (revoke it and let it join anew if this persists)");
  }
  auto doc = load(text);
  if (!doc) {
    return fail(doc.error());
  }
  YAML::Node node = (*doc)["mesh"]["peers"][site];
  node["public_key"] = key_to_base64(public_key);
  node["previous_public_key"] = key_to_base64(previous);
  node["previous_key_until"] = utc_time_text(until);
  return std::optional<std::string>(config::emit(*doc));
}

Expected<std::string> rotate_own_key(const std::string& text, const config::Config& running,
                                     const std::string& new_key_file, int64_t until) {
  auto doc = load(text);
  if (!doc) {
    return fail(doc.error());
  }
  YAML::Node mesh = (*doc)["mesh"];
  mesh["private_key_file"] = new_key_file;
  mesh["previous_private_key_file"] = running.mesh.private_key_file;
  mesh["previous_key_until"] = utc_time_text(until);
  return config::emit(*doc);
}

Expected<std::string> join_mesh(const std::string& text, const std::string& site,
                                const std::vector<enrol::Member>& members) {
  auto doc = load(text);
  if (!doc) {
    return fail(doc.error());
  }
  YAML::Node mesh = (*doc)["mesh"];
  mesh["site"] = site;
  for (const enrol::Member& m : members) {
    if (m.site == site) {
      return fail("the mesh has a member named " + site + " already");
    }
    YAML::Node node = mesh["peers"][m.site];
    if (node.IsMap()) {
      // A peer of the same name configured by hand: what the mesh says of it, and the rest
      // (a preshared key, a probe interval) kept.
      const YAML::Node fresh = peer_node(m);
      for (const char* key : {"public_key", "identity", "endpoints", "allowed_ips"}) {
        node[key] = fresh[key];
      }
      if (m.enrolment_port != enrol::kDefaultEnrolmentPort) {
        node["enrolment_port"] = m.enrolment_port;
      } else {
        node.remove("enrolment_port");
      }
    } else {
      mesh["peers"][m.site] = peer_node(m);
    }
  }
  return config::emit(*doc);
}

Expected<std::string> leave_mesh(const std::string& text, const config::Config& running) {
  auto doc = load(text);
  if (!doc) {
    return fail(doc.error());
  }
  YAML::Node mesh = (*doc)["mesh"];
  mesh.remove("site");
  for (const auto& p : running.mesh.peers) {
    if (p.identity) {
      mesh["peers"].remove(p.name);
    }
  }
  if (mesh["peers"].IsMap() && mesh["peers"].size() == 0) {
    mesh.remove("peers");
  }
  return config::emit(*doc);
}

}  // namespace vigil::mgmt::mesh
