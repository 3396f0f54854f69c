// A site's name in the mesh: this site's mesh.site, the name the other sites give it in their
// mesh.peers, the name in a join token. DNS-label-like so that it reads the same everywhere
// (a shell, a Prometheus label, a log line): 1-63 of a-z, 0-9 and '-', not '-' at either end.
#pragma once

#include <algorithm>
#include <string_view>

namespace vigil {

inline constexpr size_t kMaxSiteName = 63;

inline bool valid_site_name(std::string_view name) {
  return !name.empty() && name.size() <= kMaxSiteName && name.front() != '-' &&
         name.back() != '-' && std::all_of(name.begin(), name.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
         });
}

}  // namespace vigil
