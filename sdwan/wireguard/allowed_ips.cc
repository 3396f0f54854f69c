#include "sdwan/wireguard/allowed_ips.h"

namespace vigil::wg {
namespace {

int bit_at(const uint8_t* address, int i) {
  return (address[i / 8] >> (7 - i % 8)) & 1;
}

}  // namespace

AllowedIps::AllowedIps() : v4_(1), v6_(1) {}

void AllowedIps::insert(const net::Prefix& prefix, PeerId peer) {
  const net::Prefix p = prefix.network();
  std::vector<Node>& t = trie(p.address.family);
  int32_t node = 0;
  for (int i = 0; i < p.length; ++i) {
    const int b = bit_at(p.address.bytes.data(), i);
    if (t[static_cast<size_t>(node)].child[b] < 0) {
      t[static_cast<size_t>(node)].child[b] = static_cast<int32_t>(t.size());
      t.emplace_back();  // may move t's storage: index again below
    }
    node = t[static_cast<size_t>(node)].child[b];
  }
  Node& n = t[static_cast<size_t>(node)];
  count_ += n.owned ? 0 : 1;
  n.owned = true;
  n.peer = peer;
}

void AllowedIps::remove_peer(PeerId peer) {
  // The others' prefixes, then the tries rebuilt: removal is rare (a commit).
  std::vector<std::pair<net::Prefix, PeerId>> keep;
  for (const int family : {4, 6}) {
    visit_all(family, [&](const net::Prefix& p, PeerId owner) {
      if (owner != peer) {
        keep.emplace_back(p, owner);
      }
    });
  }
  v4_.assign(1, Node{});
  v6_.assign(1, Node{});
  count_ = 0;
  for (const auto& [prefix, owner] : keep) {
    insert(prefix, owner);
  }
}

std::optional<PeerId> AllowedIps::lookup(int family, const uint8_t* address) const {
  const std::vector<Node>& t = trie(family);
  const int bits = family == 4 ? 32 : 128;
  std::optional<PeerId> best;
  int32_t node = 0;
  for (int i = 0;; ++i) {
    const Node& n = t[static_cast<size_t>(node)];
    if (n.owned) {
      best = n.peer;
    }
    if (i == bits) {
      break;
    }
    node = n.child[bit_at(address, i)];
    if (node < 0) {
      break;
    }
  }
  return best;
}

void AllowedIps::visit_all(int family,
                           const std::function<void(const net::Prefix&, PeerId)>& visit) const {
  const std::vector<Node>& t = trie(family);
  net::IpAddress at{.family = family};
  // Depth first, 0 before 1: address order. The path's bits are set and cleared in `at`.
  std::function<void(int32_t, int)> walk = [&](int32_t node, int depth) {
    const Node& n = t[static_cast<size_t>(node)];
    if (n.owned) {
      visit(net::Prefix{at, depth}, n.peer);
    }
    const auto byte = static_cast<size_t>(depth / 8);
    const auto mask = static_cast<uint8_t>(0x80 >> (depth % 8));
    if (n.child[0] >= 0) {
      walk(n.child[0], depth + 1);
    }
    if (n.child[1] >= 0) {
      at.bytes[byte] |= mask;
      walk(n.child[1], depth + 1);
      at.bytes[byte] &= static_cast<uint8_t>(~mask);
    }
  };
  walk(0, 0);
}

std::vector<net::Prefix> AllowedIps::prefixes_of(PeerId peer) const {
  std::vector<net::Prefix> out;
  for (const int family : {4, 6}) {
    visit_all(family, [&](const net::Prefix& p, PeerId owner) {
      if (owner == peer) {
        out.push_back(p);
      }
    });
  }
  return out;
}

}  // namespace vigil::wg
