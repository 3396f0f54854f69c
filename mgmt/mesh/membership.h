// The mesh's membership as config: what a join, an announcement, a revocation or a leave
// changes in a site's config document. Pure functions from the running text to the text to
// commit, so each change is an ordinary commit (validated, recorded, audited, rolled back like
// any other) and testable without sockets.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/expected.h"
#include "config/config.h"
#include "sdwan/enrol/member.h"

namespace vigil::mgmt::mesh {

// The keepalive a joined peer gets: the tunnels stay up through NATs and their probes.
inline constexpr int kMemberKeepalive = 25;

// The shortest prefixes a member may claim: a site's networks, not a share of the internet.
inline constexpr int kMinMemberPrefixV4 = 8;
inline constexpr int kMinMemberPrefixV6 = 16;

// What the other sites route here: mesh.networks, else the networks of the lan interfaces'
// addresses.
std::vector<net::Prefix> site_networks(const config::Config& config);

// This site as the others should know it: its endpoints (mesh.advertise, else each wan
// interface's first address with listen_port), its networks (mesh.networks, else the
// networks of the lan interfaces' addresses), its keys and enrolment port.
Expected<enrol::Member> self_member(const config::Config& config, const std::string& site,
                                    const Key32& public_key, const Key32& identity);

// The members of the mesh this site knows (peers with an identity), this site excluded.
std::vector<enrol::Member> known_members(const config::Config& config);

// `text` with `member` as a peer. Nothing (std::nullopt) when it is one already, the same.
// An error when its name is a peer's already with another key, or (unless `about_itself`:
// the member announcing a change of its own endpoints or networks) with anything else
// different; when its key or identity is another peer's; when one of its networks is
// shorter than kMinMemberPrefixV4/V6, overlaps this site's networks or another peer's
// allowed_ips, or holds an address the tunnels travel between (this site's, an endpoint).
Expected<std::optional<std::string>> add_member(const std::string& text,
                                                const config::Config& running,
                                                const enrol::Member& member,
                                                bool about_itself = false);
// `text` without the peer `site`, when its key (or its previous key, during a rotation's
// grace) is `public_key`; nothing when there is no such peer; an error when the peer has
// another key (someone joined again under the name).
Expected<std::optional<std::string>> remove_member(const std::string& text,
                                                   const config::Config& running,
                                                   const std::string& site,
                                                   const Key32& public_key);
// A member's own word that it rotated its WireGuard key: peer `site`'s key becomes
// `public_key`, and `previous` (the one it had) is still taken until `until` (unix seconds).
// Nothing when that is so already; an error when `site` is no member here, or has neither
// key (it joined again since, or the announcement is stale).
Expected<std::optional<std::string>> rekey_member(const std::string& text,
                                                  const config::Config& running,
                                                  const std::string& site, const Key32& public_key,
                                                  const Key32& previous, int64_t until);
// This site's rotation: its key file becomes `new_key_file`, and the file it had is its
// previous key, answered until `until` (unix seconds).
Expected<std::string> rotate_own_key(const std::string& text, const config::Config& running,
                                     const std::string& new_key_file, int64_t until);
// The joining site's config: mesh.site set, and every member a peer (replacing any peer of
// the same name).
Expected<std::string> join_mesh(const std::string& text, const std::string& site,
                                const std::vector<enrol::Member>& members);
// A site leaving: mesh.site and every member peer gone (plain WireGuard peers stay).
Expected<std::string> leave_mesh(const std::string& text, const config::Config& running);

}  // namespace vigil::mgmt::mesh
