// Writing a file so that a crash at any moment leaves either the old content or the new,
// never a mix: write a temporary file beside it, fsync it, rename it over the target, fsync
// the directory.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "common/expected.h"

namespace vigil::mgmt::store {

// Test hook, called after the temporary file is durable and before the rename.
using BeforeRenameHook = std::function<void(const std::filesystem::path& tmp)>;

Status write_file_atomically(const std::filesystem::path& path, std::string_view content,
                             const BeforeRenameHook& before_rename = {});
Status remove_file_durably(const std::filesystem::path& path);
Expected<std::string> read_file(const std::filesystem::path& path);

// Temporary files are named ".<name>.tmp.<pid>"; a crash can leave them behind.
bool is_temporary_file(const std::filesystem::path& path);

}  // namespace vigil::mgmt::store
