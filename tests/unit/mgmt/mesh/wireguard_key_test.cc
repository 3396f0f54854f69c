// This site's WireGuard key as vigild makes and reads it: the file is 0600, not replaced
// unless asked, and its public key is the one made.
#include "mgmt/mesh/wireguard_key.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

namespace vigil::mgmt::mesh {
namespace {

TEST(WireguardKey, MadeOnceReadBackReplacedOnlyWhenAsked) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("vigil-wg-key-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string file = dir / "mesh.key";
  EXPECT_FALSE(wireguard_public_key(file));
  auto made = write_new_wireguard_key(file, /*replace=*/false);
  ASSERT_TRUE(made) << made.error();
  struct stat st {};
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto read = wireguard_public_key(file);
  ASSERT_TRUE(read) << read.error();
  EXPECT_EQ(*read, *made);
  EXPECT_FALSE(write_new_wireguard_key(file, /*replace=*/false));
  auto again = write_new_wireguard_key(file, /*replace=*/true);
  ASSERT_TRUE(again);
  EXPECT_NE(*again, *made);
  EXPECT_EQ(*wireguard_public_key(file), *again);
  std::filesystem::remove_all(dir);
}

TEST(WireguardKey, ARotatedKeyGoesBesideTheOldNamedByItsTime) {
  constexpr int64_t kAt = 1796459400;  // 2026-12-05T08:30:00Z
  EXPECT_EQ(rotated_key_file("/etc/vigil/mesh.key", kAt), "/etc/vigil/mesh-20261205T083000Z.key");
  // Rotated again: one time in the name, the newest.
  EXPECT_EQ(rotated_key_file("/etc/vigil/mesh-20261205T083000Z.key", kAt + 3600),
            "/etc/vigil/mesh-20261205T093000Z.key");
  EXPECT_EQ(rotated_key_file("/var/lib/vigil/wg", kAt), "/var/lib/vigil/wg-20261205T083000Z.key");
}

}  // namespace
}  // namespace vigil::mgmt::mesh
