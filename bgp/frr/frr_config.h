// frr.conf from routing.bgp: what Vigil's FRR instance (zebra with dplane_fpm_nl, bgpd, bfdd)
// runs. One function per block, each pure, so the file is golden-tested block by block and
// whole. Written as FRR 8.4 prints its running config (frr-reload.py diffs the two: what is
// written differently would be deleted and added again on every commit), with what makes FRR
// behave as the config reads (bgp_8_4_notes.md):
//   - `no bgp default ipv4-unicast` and explicit `activate` lines: only the families given;
//   - `no bgp network import-check`: the site's networks live in vigil-dp, not in zebra's RIB;
//   - `no fpm use-next-hop-groups`: routes carry their next hops inline, whatever zebra's
//     kernel next-hop support;
//   - policies: a rule matching a prefix list becomes one route-map entry per family the list
//     has rules for (FRR keeps IPv4 and IPv6 prefix lists apart, and one entry matching both
//     would match nothing).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/expected.h"
#include "common/net/ip.h"
#include "config/config.h"

namespace vigil::bgp {

struct FrrInput {
  std::string hostname = "vigil";
  const config::BgpConfig* bgp = nullptr;  // nullptr: no routing.bgp
  // Neighbours' TCP MD5 passwords by address (as IpAddress::to_string writes it), read by
  // the caller from their 0600 files.
  std::map<std::string, std::string> passwords;
  // L4 VIPs to announce now (announce_vips: those with a healthy backend).
  std::vector<net::Prefix> vips;
};

// The whole file (without routing.bgp, only the header). Fails on what cannot be written safely (a
// password that is not one word of printable ASCII, or a neighbour's password missing).
Expected<std::string> render_frr_conf(const FrrInput& input);

// The blocks, in the file's order.
std::string render_header(const std::string& hostname);
std::string render_fpm();
std::string render_prefix_lists(const config::BgpConfig& bgp);
std::string render_as_path_lists(const config::BgpConfig& bgp);
std::string render_community_lists(const config::BgpConfig& bgp);
std::string render_route_maps(const config::BgpConfig& bgp);
Expected<std::string> render_router_bgp(const FrrInput& input);
std::string render_bfd_profiles(const config::BgpConfig& bgp);

// The BFD profile a neighbour's settings use (one per distinct setting).
std::string bfd_profile_name(const config::BgpBfd& bfd);

}  // namespace vigil::bgp
