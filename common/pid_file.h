// Who runs a daemon that keeps a lock on its pid file (FRR's daemons: lib/pid_output.c takes a
// write lock on the whole file for as long as they live), asked of the kernel (F_GETLK) rather
// than read from the file: the file may be stale, or written by whoever can write its
// directory. Opened without following a link or blocking on a FIFO planted in its place.
#pragma once

#include <sys/types.h>

#include <string>

namespace vigil {

// The pid holding a write-conflicting lock on `path`, or 0 when nobody does (no file, not a
// regular file, not locked).
pid_t pid_file_lock_holder(const std::string& path);

// The program `pid` runs (its /proc exe link), without the " (deleted)" the kernel adds once
// the file was replaced (a package upgrade); "" when it cannot be read.
std::string process_executable(pid_t pid);

}  // namespace vigil
