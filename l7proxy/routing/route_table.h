// Which route a request takes: routes match on host (exact or "*.suffix"), path (exact,
// prefix, or an RE2 regular expression over the whole path), method, fields and query
// parameters; the highest priority wins, and among equals the first given. Compiled once per
// config (regular expressions checked and built then, hosts lower-cased), matched per request
// without allocating. A config's routes are tens, not thousands: matching walks them in order,
// cheapest test first, the regex last.
#pragma once

#include <re2/re2.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/expected.h"
#include "l7proxy/routing/request_view.h"

namespace vigil::l7 {

enum class PathMatch { kAny, kExact, kPrefix, kRegex };

struct NameValueMatch {
  std::string name;                  // a field name (any case) or a query parameter (exact)
  std::optional<std::string> value;  // exact; nothing: present with any value
};

struct RouteSpec {
  std::string name;
  int priority = 0;                // higher wins
  std::vector<std::string> hosts;  // "a.example.com", "*.example.com"; empty: any host
  PathMatch path_match = PathMatch::kAny;
  std::string path;                  // for kExact, kPrefix, kRegex (RE2, the whole path)
  std::vector<std::string> methods;  // empty: any method
  std::vector<NameValueMatch> headers;
  std::vector<NameValueMatch> query;
  std::string upstream;
  size_t id = 0;  // the caller's own index for what goes with the route
};

class RouteTable {
 public:
  // The routes compiled, or the first that cannot be ("route api: path: missing ) ...").
  static Expected<RouteTable> compile(std::vector<RouteSpec> routes);

  // The route `request` takes; nullptr when none matches (a 404).
  const RouteSpec* match(const RequestView& request) const;
  size_t size() const { return routes_.size(); }
  // The i-th route in the order they are tried.
  const RouteSpec& at(size_t i) const { return routes_[i].spec; }

 private:
  struct Compiled {
    RouteSpec spec;
    std::vector<std::string> exact_hosts;    // lower case
    std::vector<std::string> host_suffixes;  // ".example.com" for "*.example.com"
    std::shared_ptr<const re2::RE2> regex;   // kRegex only
  };
  bool matches(const Compiled& route, const RequestView& request) const;

  std::vector<Compiled> routes_;  // in the order they are tried
};

}  // namespace vigil::l7
