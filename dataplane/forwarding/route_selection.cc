#include "dataplane/forwarding/route_selection.h"

#include <utility>

namespace vigil::dp {

bool RouteSelection::bgp_wins(const net::Prefix& prefix) const {
  if (!bgp_.contains(prefix)) {
    return false;
  }
  const auto config = config_.find(prefix);
  return config == config_.end() || kBgpDistance < config->second.distance;
}

std::vector<Route> RouteSelection::set_config(std::vector<Route> routes) {
  config_.clear();
  for (Route& r : routes) {
    const net::Prefix prefix = r.prefix;
    config_.insert_or_assign(prefix, std::move(r));
  }
  std::vector<Route> fib;
  fib.reserve(config_.size() + bgp_.size());
  bgp_selected_ = 0;
  // Both maps in prefix order: one merge pass.
  auto c = config_.begin();
  auto b = bgp_.begin();
  while (c != config_.end() || b != bgp_.end()) {
    if (b == bgp_.end() || (c != config_.end() && c->first < b->first)) {
      fib.push_back(c->second);
      ++c;
    } else if (c == config_.end() || b->first < c->first) {
      fib.push_back({.prefix = b->first,
                     .target = b->second,
                     .source = RouteSource::kBgp,
                     .distance = kBgpDistance});
      ++bgp_selected_;
      ++b;
    } else {
      if (kBgpDistance < c->second.distance) {
        fib.push_back({.prefix = b->first,
                       .target = b->second,
                       .source = RouteSource::kBgp,
                       .distance = kBgpDistance});
        ++bgp_selected_;
      } else {
        fib.push_back(c->second);
      }
      ++c;
      ++b;
    }
  }
  return fib;
}

std::optional<RouteUpdate> RouteSelection::set_bgp(const net::Prefix& prefix,
                                                   std::optional<NextHopGroup> target) {
  const bool was_selected = bgp_wins(prefix);
  const auto held = bgp_.find(prefix);
  if (!target) {
    if (held == bgp_.end()) {
      return std::nullopt;
    }
    bgp_.erase(held);
  } else if (held != bgp_.end() && held->second == *target) {
    return std::nullopt;  // the same next hops again (zebra resends on every replay)
  } else {
    bgp_.insert_or_assign(prefix, *target);
  }
  const bool selected = bgp_wins(prefix);
  bgp_selected_ = bgp_selected_ - (was_selected ? 1 : 0) + (selected ? 1 : 0);
  if (selected) {
    return RouteUpdate{.prefix = prefix, .target = std::move(target)};
  }
  if (!was_selected) {
    return std::nullopt;  // the config's route stays
  }
  // BGP's route went: the config's, if there is one, takes the prefix back.
  const auto config = config_.find(prefix);
  if (config == config_.end()) {
    return RouteUpdate{.prefix = prefix};
  }
  return RouteUpdate{.prefix = prefix, .target = config->second.target};
}

std::vector<RouteUpdate> RouteSelection::clear_bgp() {
  std::vector<RouteUpdate> updates;
  std::vector<net::Prefix> prefixes;
  prefixes.reserve(bgp_.size());
  for (const auto& [prefix, group] : bgp_) {
    prefixes.push_back(prefix);
  }
  for (const net::Prefix& prefix : prefixes) {
    if (auto u = set_bgp(prefix, std::nullopt)) {
      updates.push_back(std::move(*u));
    }
  }
  return updates;
}

std::optional<RouteSource> RouteSelection::selected_source(const net::Prefix& prefix) const {
  if (bgp_wins(prefix)) {
    return RouteSource::kBgp;
  }
  const auto config = config_.find(prefix);
  if (config == config_.end()) {
    return std::nullopt;
  }
  return config->second.source;
}

}  // namespace vigil::dp
