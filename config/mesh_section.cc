// mesh: this site's WireGuard interface in vigil-dp's fast path and its peers, the other
// sites. Keys are files (mode 0600) the config names, never values in it: what the config holds
// is shown, compared, audited and kept for rollback, and none of that may carry a secret.
#include <map>
#include <set>

#include "common/site_name.h"
#include "common/utc_time.h"
#include "config/sections.h"

namespace vigil::config {
namespace {

constexpr size_t kMaxPeers = 256;
constexpr size_t kMaxEndpoints = 8;      // per peer: one per WAN link
constexpr size_t kMaxAllowedIps = 4096;  // over all peers

constexpr Field kPeerFields[] = {
    {.key = "public_key",
     .type = "WireGuard key (base64)",
     .description = "The peer's public key, as `wg pubkey` or `vigil mesh keygen` prints it",
     .required = true},
    {.key = "preshared_key_file",
     .type = "absolute path",
     .description = "A file holding a preshared key (`wg genpsk`), mode 0600; the peer must "
                    "use the same one"},
    {.key = "endpoints",
     .type = "list of host:port",
     .description = "Where the peer listens, in order of preference, up to 8 (one per WAN "
                    "link); an IP address (IPv6 in brackets) or a DNS name, re-resolved every "
                    "mesh.resolve_interval and after a handshake goes unanswered. Empty: the "
                    "peer initiates and is answered where it came from"},
    {.key = "allowed_ips",
     .type = "list of IPv4/IPv6 prefix",
     .description = "Networks behind the peer: routed into its tunnel (routes of source mesh) "
                    "and the only sources accepted from it"},
    {.key = "persistent_keepalive",
     .type = "integer 0-65535",
     .description = "Seconds between keepalives that hold a NAT mapping open; 0 is off",
     .default_value = "0"},
    {.key = "probe_interval",
     .type = "integer 0-10000",
     .description = "Milliseconds between path probes on each path to the peer (each WAN link "
                    "toward each endpoint; a path is down after 3 missed). The peer must be a "
                    "Vigil site; 0 is off, for a plain WireGuard peer: its traffic then follows "
                    "the routes",
     .default_value = "10"},
    {.key = "identity",
     .type = "Ed25519 key (base64)",
     .description = "The peer site's mesh identity (`vigil show mesh` on it): makes it a member "
                    "that may announce sites joining and leaving here. Set by `vigil mesh join` "
                    "and by announcements"},
    {.key = "enrolment_port",
     .type = "integer 1-65535",
     .description = "The TCP port of the peer's enrolment service, on its endpoints' addresses",
     .default_value = "51821"},
    {.key = "previous_public_key",
     .type = "WireGuard key (base64)",
     .description = "The key the peer had before it rotated (`vigil mesh rotate-key` there): "
                    "its handshakes made with it are taken until previous_key_until. Set by "
                    "the peer's announcement"},
    {.key = "previous_key_until",
     .type = "UTC time (YYYY-MM-DDTHH:MM:SSZ)",
     .description = "When previous_public_key stops being taken; given with it"},
};
constexpr Schema kPeerSchema{.path = "mesh.peers.<name>",
                             .description = "Another site: a WireGuard peer.",
                             .fields = kPeerFields};

constexpr Field kMeshFields[] = {
    {.key = "private_key_file",
     .type = "absolute path",
     .description = "This site's private key: a file of mode 0600 owned by root, written by "
                    "`vigil mesh keygen` or `wg genkey`",
     .default_value = "/etc/vigil/mesh.key"},
    {.key = "listen_port",
     .type = "integer 1-65535",
     .description = "The UDP port of the tunnels on the wan interfaces' addresses; the XDP "
                    "classifier steers it to the fast path",
     .default_value = "51820"},
    {.key = "cookie_threshold",
     .type = "integer 1-1000000",
     .description = "Handshake messages a second above which the interface is under load: "
                    "initiators must then prove their address with a cookie first",
     .default_value = "1000"},
    {.key = "resolve_interval",
     .type = "integer 5-86400",
     .description = "Seconds between DNS lookups of endpoints given by name",
     .default_value = "60"},
    {.key = "site",
     .type = "site name",
     .description = "This site's name in the mesh, as the other sites name it in their peers: "
                    "1-63 of a-z, 0-9 and '-'. Needed to make join tokens; `vigil mesh join` "
                    "sets it"},
    {.key = "identity_key_file",
     .type = "absolute path",
     .description = "This site's mesh identity: an Ed25519 key (PEM, mode 0600) its "
                    "enrolment service proves in TLS; made when first needed",
     .default_value = "/etc/vigil/mesh-identity.key"},
    {.key = "enrolment_port",
     .type = "integer 0-65535",
     .description = "The TCP port where vigild answers joins and announcements (TLS, both "
                    "sides proving their identity) on the wan interfaces' addresses, once "
                    "site is set; 0 turns the service off",
     .default_value = "51821"},
    {.key = "previous_private_key_file",
     .type = "absolute path",
     .description = "This site's key before `vigil mesh rotate-key` (mode 0600): handshakes "
                    "sealed to it are still answered until previous_key_until, for peers not "
                    "yet told the new one. Set by rotate-key"},
    {.key = "previous_key_until",
     .type = "UTC time (YYYY-MM-DDTHH:MM:SSZ)",
     .description = "When previous_private_key_file stops being answered; given with it"},
    {.key = "networks",
     .type = "list of IPv4/IPv6 prefix",
     .description = "This site's networks, which the other sites route into its tunnel when it "
                    "joins (their allowed_ips for it); empty: the networks of the lan "
                    "interfaces' addresses"},
    {.key = "advertise",
     .type = "list of address:port",
     .description = "Where the other sites reach this one, told them when it joins, up to 8 "
                    "(a NAT's public address, say); empty: each wan interface's first address "
                    "with listen_port"},
    {.key = "peers",
     .type = "map of peer",
     .description = "Up to 256, with up to 4,096 allowed IPs in all",
     .children = &kPeerSchema},
};

std::optional<int64_t> read_utc_time(const YAML::Node& n, const std::string& path,
                                     ErrorList& errors) {
  auto text = read_string(n, path, errors);
  auto t = text ? parse_utc_time(*text) : std::nullopt;
  if (text && !t) {
    errors.add(path, n, "is not a UTC time: give YYYY-MM-DDTHH:MM:SSZ, as 2026-12-05T08:30:00Z");
  }
  return t;
}

// A previous key and its end are given together or not at all.
bool previous_key_whole(MapReader& r, const char* key_field, ErrorList& errors) {
  const bool has_key = r.has(key_field);
  if (has_key == r.has("previous_key_until")) {
    return true;
  }
  const char* given = has_key ? key_field : "previous_key_until";
  errors.add(r.path_of(given), r.get(given),
             std::string("needs ") + (has_key ? "previous_key_until" : key_field) +
                 " too: a previous key is taken until a time");
  return false;
}

void parse_peer(const std::string& name, const YAML::Node& node, const std::string& path,
                MeshConfig& mesh, ErrorList& errors) {
  MapReader r(node, path, kPeerSchema, errors);
  if (!r.ok()) {
    return;
  }
  MeshPeerConfig peer;
  peer.name = name;
  bool ok = r.has("public_key");
  if (auto text = r.has("public_key")
                      ? read_string(r.get("public_key"), r.path_of("public_key"), errors)
                      : std::nullopt) {
    if (auto key = key_from_base64(*text)) {
      peer.public_key = *key;
    } else {
      ok = false;
      errors.add(r.path_of("public_key"), r.get("public_key"),
                 "is not a WireGuard key: 44 characters of base64, as `wg pubkey` prints");
    }
  }
  if (r.has("preshared_key_file")) {
    auto file =
        read_absolute_path(r.get("preshared_key_file"), r.path_of("preshared_key_file"), errors);
    ok &= file.has_value();
    peer.preshared_key_file = file.value_or("");
  }
  for_each_item(r.get("endpoints"), r.path_of("endpoints"), errors,
                [&](const YAML::Node& n, const std::string& ipath) {
                  auto e = read_endpoint(n, ipath, errors);
                  if (!e) {
                    ok = false;
                  } else if (std::find(peer.endpoints.begin(), peer.endpoints.end(), *e) !=
                             peer.endpoints.end()) {
                    ok = false;
                    errors.add(ipath, n, "lists " + e->to_string() + " twice");
                  } else if (peer.endpoints.size() == kMaxEndpoints) {
                    ok = false;
                    errors.add(ipath, n, "is one endpoint too many: at most 8 per peer");
                  } else {
                    peer.endpoints.push_back(*e);
                  }
                });
  for_each_item(r.get("allowed_ips"), r.path_of("allowed_ips"), errors,
                [&](const YAML::Node& n, const std::string& ipath) {
                  auto p = read_network(n, ipath, errors);
                  if (!p) {
                    ok = false;
                  } else if (std::find(peer.allowed_ips.begin(), peer.allowed_ips.end(), *p) !=
                             peer.allowed_ips.end()) {
                    ok = false;
                    errors.add(ipath, n, "lists " + p->to_string() + " twice");
                  } else {
                    peer.allowed_ips.push_back(*p);
                  }
                });
  if (r.has("persistent_keepalive")) {
    auto k = read_int(r.get("persistent_keepalive"), r.path_of("persistent_keepalive"), errors, 0,
                      65535);
    ok &= k.has_value();
    peer.persistent_keepalive = static_cast<uint32_t>(k.value_or(0));
  }
  if (r.has("probe_interval")) {
    auto k = read_int(r.get("probe_interval"), r.path_of("probe_interval"), errors, 0, 10000);
    ok &= k.has_value();
    peer.probe_interval_ms = static_cast<uint32_t>(k.value_or(10));
  }
  if (r.has("identity")) {
    auto text = read_string(r.get("identity"), r.path_of("identity"), errors);
    auto key = text ? key_from_base64(*text) : std::nullopt;
    if (text && !key) {
      errors.add(r.path_of("identity"), r.get("identity"),
                 "is not a mesh identity: 44 characters of base64, as `vigil show mesh` prints");
    }
    ok &= key.has_value();
    peer.identity = key;
  }
  if (r.has("enrolment_port")) {
    auto k = read_int(r.get("enrolment_port"), r.path_of("enrolment_port"), errors, 1, 65535);
    ok &= k.has_value();
    peer.enrolment_port = static_cast<uint16_t>(k.value_or(51821));
  }
  ok &= previous_key_whole(r, "previous_public_key", errors);
  if (r.has("previous_public_key")) {
    auto text = read_string(r.get("previous_public_key"), r.path_of("previous_public_key"), errors);
    auto key = text ? key_from_base64(*text) : std::nullopt;
    if (text && !key) {
      errors.add(r.path_of("previous_public_key"), r.get("previous_public_key"),
                 "is not a WireGuard key: 44 characters of base64, as `wg pubkey` prints");
    } else if (key && *key == peer.public_key) {
      errors.add(r.path_of("previous_public_key"), r.get("previous_public_key"),
                 "is public_key itself: the previous key is the one the peer had before");
      key.reset();
    }
    ok &= key.has_value();
    peer.previous_public_key = key;
  }
  if (r.has("previous_key_until")) {
    auto t = read_utc_time(r.get("previous_key_until"), r.path_of("previous_key_until"), errors);
    ok &= t.has_value();
    peer.previous_key_until = t.value_or(0);
  }
  if (ok) {
    mesh.peers.push_back(std::move(peer));
  }
}

}  // namespace

const Schema kMeshSchema{.path = "mesh",
                         .description =
                             "WireGuard tunnels to the other sites, carried by "
                             "vigil-dp's fast path (dataplane.forwarding: true).",
                         .fields = kMeshFields};

void parse_mesh(const YAML::Node& node, const std::string& path, Config& config,
                ErrorList& errors) {
  if (!node.IsDefined() || node.IsNull()) {
    return;
  }
  MapReader r(node, path, kMeshSchema, errors);
  if (!r.ok()) {
    return;
  }
  MeshConfig& mesh = config.mesh;
  mesh.enabled = true;
  if (r.has("private_key_file")) {
    mesh.private_key_file =
        read_absolute_path(r.get("private_key_file"), r.path_of("private_key_file"), errors)
            .value_or(mesh.private_key_file);
  }
  if (r.has("listen_port")) {
    mesh.listen_port = static_cast<uint16_t>(
        read_int(r.get("listen_port"), r.path_of("listen_port"), errors, 1, 65535)
            .value_or(mesh.listen_port));
  }
  if (r.has("cookie_threshold")) {
    mesh.cookie_threshold = static_cast<uint32_t>(
        read_int(r.get("cookie_threshold"), r.path_of("cookie_threshold"), errors, 1, 1000000)
            .value_or(mesh.cookie_threshold));
  }
  if (r.has("resolve_interval")) {
    mesh.resolve_interval = static_cast<uint32_t>(
        read_int(r.get("resolve_interval"), r.path_of("resolve_interval"), errors, 5, 86400)
            .value_or(mesh.resolve_interval));
  }
  if (r.has("site")) {
    auto site = read_string(r.get("site"), r.path_of("site"), errors);
    if (site && !valid_site_name(*site)) {
      errors.add(r.path_of("site"), r.get("site"),
                 "is not a site name: 1-63 of a-z, 0-9 and '-', not '-' at either end");
    } else if (site) {
      mesh.site = *site;
    }
  }
  if (r.has("identity_key_file")) {
    mesh.identity_key_file =
        read_absolute_path(r.get("identity_key_file"), r.path_of("identity_key_file"), errors)
            .value_or(mesh.identity_key_file);
  }
  if (r.has("enrolment_port")) {
    mesh.enrolment_port = static_cast<uint16_t>(
        read_int(r.get("enrolment_port"), r.path_of("enrolment_port"), errors, 0, 65535)
            .value_or(mesh.enrolment_port));
  }
  if (previous_key_whole(r, "previous_private_key_file", errors) &&
      r.has("previous_private_key_file")) {
    mesh.previous_private_key_file =
        read_absolute_path(r.get("previous_private_key_file"),
                           r.path_of("previous_private_key_file"), errors)
            .value_or("");
    mesh.previous_key_until =
        read_utc_time(r.get("previous_key_until"), r.path_of("previous_key_until"), errors)
            .value_or(0);
    if (mesh.previous_private_key_file == mesh.private_key_file ||
        mesh.previous_private_key_file == mesh.identity_key_file) {
      errors.add(r.path_of("previous_private_key_file"), r.get("previous_private_key_file"),
                 "is private_key_file or identity_key_file: the previous key is a file of its "
                 "own");
    }
  }
  for_each_item(
      r.get("networks"), r.path_of("networks"), errors,
      [&](const YAML::Node& n, const std::string& ipath) {
        auto p = read_network(n, ipath, errors);
        if (p && std::find(mesh.networks.begin(), mesh.networks.end(), *p) != mesh.networks.end()) {
          errors.add(ipath, n, "lists " + p->to_string() + " twice");
        } else if (p && mesh.networks.size() == 64) {
          errors.add(ipath, n, "is one network too many: at most 64");
        } else if (p) {
          mesh.networks.push_back(*p);
        }
      });
  for_each_item(r.get("advertise"), r.path_of("advertise"), errors,
                [&](const YAML::Node& n, const std::string& ipath) {
                  auto e = read_endpoint(n, ipath, errors);
                  if (e && !net::IpAddress::parse(e->host)) {
                    errors.add(ipath, n,
                               "needs an IP address, not a name: the others are told "
                               "it as it is");
                  } else if (e && (mesh.advertise.size() == 8 ||
                                   std::find(mesh.advertise.begin(), mesh.advertise.end(), *e) !=
                                       mesh.advertise.end())) {
                    errors.add(ipath, n, "is a repeat or one too many: at most 8");
                  } else if (e) {
                    mesh.advertise.push_back(*e);
                  }
                });
  for_each_named(r.get("peers"), r.path_of("peers"), errors,
                 [&](const std::string& name, const YAML::Node& n, const std::string& ppath) {
                   parse_peer(name, n, ppath, mesh, errors);
                 });
  if (mesh.peers.size() > kMaxPeers) {
    errors.add(r.path_of("peers"), r.get("peers"),
               "has " + std::to_string(mesh.peers.size()) + " peers: at most 256");
  }
  // One key is one peer; one prefix belongs to one peer (WireGuard moves a prefix given twice
  // to the last peer, which a config must not leave to its order).
  std::map<Key32, std::string> keys;
  std::map<Key32, std::string> identities;
  std::map<Prefix, std::string> owners;
  size_t allowed = 0;
  for (const MeshPeerConfig& p : mesh.peers) {
    const std::string ppath = r.path_of("peers") + "." + p.name;
    const YAML::Node pnode = r.get("peers")[p.name];
    if (p.identity) {
      if (auto [it, fresh] = identities.try_emplace(*p.identity, p.name); !fresh) {
        errors.add(ppath + ".identity", pnode["identity"],
                   "is peer " + it->second + "'s identity too: one identity is one site");
      }
    }
    if (auto [it, fresh] = keys.try_emplace(p.public_key, p.name); !fresh) {
      errors.add(ppath + ".public_key", pnode["public_key"],
                 "is peer " + it->second + "'s key too: one key is one peer");
    }
    if (p.previous_public_key) {
      if (auto [it, fresh] = keys.try_emplace(*p.previous_public_key, p.name); !fresh) {
        errors.add(ppath + ".previous_public_key", pnode["previous_public_key"],
                   "is peer " + it->second + "'s key too: one key is one peer");
      }
    }
    for (const Prefix& prefix : p.allowed_ips) {
      if (auto [it, fresh] = owners.try_emplace(prefix, p.name); !fresh) {
        errors.add(ppath + ".allowed_ips", pnode["allowed_ips"],
                   "gives " + prefix.to_string() + ", which peer " + it->second +
                       " has: a prefix belongs to one peer");
      }
    }
    allowed += p.allowed_ips.size();
    if (p.name == mesh.site) {
      errors.add(ppath, pnode, "is this site's own name (mesh.site): a site is not its own peer");
    }
  }
  if (allowed > kMaxAllowedIps) {
    errors.add(r.path_of("peers"), r.get("peers"),
               "lists " + std::to_string(allowed) + " allowed IPs: at most 4,096 in all");
  }
  if (mesh.identity_key_file == mesh.private_key_file) {
    errors.add(r.path_of("identity_key_file"), r.get("identity_key_file"),
               "is private_key_file too: the identity (Ed25519) and the WireGuard key are two "
               "keys in two files");
  }
  if (!mesh.peers.empty() && !config.dataplane.forwarding) {
    errors.add(path, node,
               "has peers, and the tunnels run in vigil-dp's fast path: set dataplane.forwarding: "
               "true");
  }
  const bool has_wan =
      std::any_of(config.interfaces.begin(), config.interfaces.end(),
                  [](const InterfaceConfig& i) { return i.role == InterfaceRole::kWan; });
  if (!mesh.peers.empty() && !has_wan) {
    errors.add(path, node,
               "has peers, and the tunnels listen on wan interfaces: give an interface role: wan");
  }
}

}  // namespace vigil::config
