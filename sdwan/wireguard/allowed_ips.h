// WireGuard's cryptokey routing (the whitepaper's section 2): each peer owns prefixes of both
// families. A packet to send goes to the peer whose prefix is the longest match for its
// destination; a packet that arrived from a peer is taken only if the longest match for its
// source is that same peer. A prefix belongs to one peer: giving it to another takes it away,
// as `wg set ... allowed-ips` does. Lookups walk a binary trie kept in one vector per family:
// no allocation, at most 32 or 128 steps.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "common/net/ip.h"

namespace vigil::wg {

using PeerId = uint32_t;

class AllowedIps {
 public:
  AllowedIps();

  void insert(const net::Prefix& prefix, PeerId peer);
  // Forgets every prefix of `peer`.
  void remove_peer(PeerId peer);
  // The peer owning the longest prefix that holds `address` (4 or 16 bytes by family).
  std::optional<PeerId> lookup(int family, const uint8_t* address) const;
  std::optional<PeerId> lookup(const net::IpAddress& a) const {
    return lookup(a.family, a.bytes.data());
  }
  // What `peer` owns, IPv4 first, each family in address order.
  std::vector<net::Prefix> prefixes_of(PeerId peer) const;
  size_t size() const { return count_; }

 private:
  struct Node {
    int32_t child[2] = {-1, -1};
    bool owned = false;
    PeerId peer = 0;
  };
  std::vector<Node>& trie(int family) { return family == 4 ? v4_ : v6_; }
  const std::vector<Node>& trie(int family) const { return family == 4 ? v4_ : v6_; }
  // Calls `visit(prefix, peer)` for every owned prefix of `family`, in address order.
  void visit_all(int family, const std::function<void(const net::Prefix&, PeerId)>& visit) const;

  std::vector<Node> v4_;
  std::vector<Node> v6_;
  size_t count_ = 0;
};

}  // namespace vigil::wg
