#include "l7proxy/routing/route_table.h"

#include <algorithm>

namespace vigil::l7 {
namespace {

bool host_pattern_ok(std::string_view h) {
  if (h.empty() || h.size() > 253) {
    return false;
  }
  if (h.starts_with("*.")) {
    h.remove_prefix(2);
  }
  if (h.find(':') != std::string_view::npos && (h.front() != '[' || h.back() != ']')) {
    return false;  // an IPv6 literal is written in brackets
  }
  return !h.empty() && std::all_of(h.begin(), h.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '[' ||
           c == ']' || c == ':';
  });
}

// The value of parameter `name` in a query ("a=1&b=2"), as sent; nothing when absent.
std::optional<std::string_view> query_value(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const size_t eq = pair.find('=');
    if (pair.substr(0, eq) == name) {
      return eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    }
    if (amp == std::string_view::npos) {
      break;
    }
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

}  // namespace

Expected<RouteTable> RouteTable::compile(std::vector<RouteSpec> routes) {
  RouteTable t;
  for (RouteSpec& spec : routes) {
    Compiled c;
    for (const std::string& host : spec.hosts) {
      const std::string h = normalize_host(host);
      if (!host_pattern_ok(h)) {
        return fail("route " + spec.name + ": host \"" + host + "\" is neither a name nor *.name");
      }
      if (h.starts_with("*.")) {
        c.host_suffixes.push_back(h.substr(1));
      } else {
        c.exact_hosts.push_back(h);
      }
    }
    if (spec.path_match == PathMatch::kRegex) {
      RE2::Options options;
      options.set_log_errors(false);
      options.set_max_mem(1 << 20);  // a pattern's automaton: bounded
      auto re = std::make_shared<const re2::RE2>(spec.path, options);
      if (!re->ok()) {
        return fail("route " + spec.name + ": path regex: " + re->error());
      }
      c.regex = std::move(re);
    } else if (spec.path_match != PathMatch::kAny &&
               (spec.path.empty() || spec.path.front() != '/')) {
      return fail("route " + spec.name + ": path \"" + spec.path + "\" does not begin with /");
    }
    c.spec = std::move(spec);
    t.routes_.push_back(std::move(c));
  }
  std::stable_sort(t.routes_.begin(), t.routes_.end(), [](const Compiled& a, const Compiled& b) {
    return a.spec.priority > b.spec.priority;
  });
  return t;
}

bool RouteTable::matches(const Compiled& r, const RequestView& q) const {
  const RouteSpec& s = r.spec;
  if (!s.methods.empty() &&
      std::find(s.methods.begin(), s.methods.end(), q.method) == s.methods.end()) {
    return false;  // methods are case-sensitive (RFC 9110 9.1)
  }
  if (!r.exact_hosts.empty() || !r.host_suffixes.empty()) {
    const bool exact =
        std::find(r.exact_hosts.begin(), r.exact_hosts.end(), q.host) != r.exact_hosts.end();
    const bool suffix =
        std::any_of(r.host_suffixes.begin(), r.host_suffixes.end(), [&](const std::string& sfx) {
          return q.host.size() > sfx.size() && q.host.ends_with(sfx);
        });
    if (!exact && !suffix) {
      return false;
    }
  }
  switch (s.path_match) {
    case PathMatch::kAny:
      break;
    case PathMatch::kExact:
      if (q.path != s.path) {
        return false;
      }
      break;
    case PathMatch::kPrefix:
      if (!q.path.starts_with(s.path)) {
        return false;
      }
      break;
    case PathMatch::kRegex:
      break;  // last: the dearest test
  }
  for (const NameValueMatch& m : s.headers) {
    const bool found = std::any_of(q.headers.begin(), q.headers.end(), [&](const auto& h) {
      return http1::iequals(h.name, m.name) && (!m.value || h.value == *m.value);
    });
    if (!found) {
      return false;
    }
  }
  for (const NameValueMatch& m : s.query) {
    const auto v = query_value(q.query, m.name);
    if (!v || (m.value && *v != *m.value)) {
      return false;
    }
  }
  return s.path_match != PathMatch::kRegex || RE2::FullMatch(q.path, *r.regex);
}

const RouteSpec* RouteTable::match(const RequestView& request) const {
  for (const Compiled& r : routes_) {
    if (matches(r, request)) {
      return &r.spec;
    }
  }
  return nullptr;
}

}  // namespace vigil::l7
