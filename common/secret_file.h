// Files only their owner may read: the mesh's private and preshared keys, and what vigil-dp
// hands itself across a restart. Written whole or not at all (a temporary file renamed over
// the old one) and never through a link planted where the file goes; read only when nobody
// else could have read or changed them, so a key another user saw is refused, not used.
#pragma once

#include <string>
#include <string_view>

#include "common/expected.h"

namespace vigil {

// Writes `content` to `path` with mode 0600. `replace`: an existing file is replaced (atomically);
// otherwise one there is an error and stays as it was.
Status write_private_file(const std::string& path, std::string_view content, bool replace);

// The content of `path` (at most `max_bytes`) if it is a regular file, not a link, owned by
// this process's user or root, and neither group nor others may read or write it. Errors name
// the file and what to do; they never quote what it holds.
Expected<std::string> read_private_file(const std::string& path, size_t max_bytes);

}  // namespace vigil
