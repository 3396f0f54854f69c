// Reading a whole file that is known to be small (a certificate, an OCSP response) with a
// bound, so a file swapped for something huge, a FIFO or a device is an error, not a hang or an
// exhausted memory.
#pragma once

#include <sys/stat.h>

#include <string>

#include "common/expected.h"

namespace vigil {

// The content of `path`, a regular file of at most `max_bytes` (links followed). Errors name
// the file.
Expected<std::string> read_small_file(const std::string& path, size_t max_bytes);

// What fstat says of open file `fd` (named `path` in errors), which must be a regular file.
Expected<struct stat> stat_regular_file(int fd, const std::string& path);

// The rest of open file `fd` (named `path` in errors), at most `max_bytes`.
Expected<std::string> read_to_end(int fd, const std::string& path, size_t max_bytes);

}  // namespace vigil
