// The mesh's keys come from 0600 files and are checked at prepare.
#include "dataplane/mesh/mesh_target.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/key_base64.h"
#include "common/secret_file.h"

namespace vigil::dp {
namespace {

namespace fs = std::filesystem;

// A pair `wg genkey | wg pubkey` made.
constexpr const char* kPrivate = "IKj+vxjv1gyjsMIdISrN++fie7K5u3XrV2yqIf4fY28=";
constexpr const char* kPublic = "KgWYky3MH3oUY+IBO7LfL8ObVypjHG6Dte0jrq4giTU=";

class MeshKeysTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/vigil-mesh-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
    mesh_.enabled = true;
    mesh_.private_key_file = dir_ + "/mesh.key";
  }
  void TearDown() override { fs::remove_all(dir_); }
  void write(const std::string& name, const std::string& text) {
    ASSERT_TRUE(write_private_file(dir_ + "/" + name, text, true));
  }
  config::Config with_mesh() const {
    config::Config c;
    c.mesh = mesh_;
    return c;
  }
  std::string dir_;
  config::MeshConfig mesh_;
};

TEST_F(MeshKeysTest, TheKeyFileGivesThePublicKeyWgPubkeyGives) {
  write("mesh.key", std::string(kPrivate) + "\n");
  auto keys = load_mesh_keys(mesh_, 0);
  ASSERT_TRUE(keys) << keys.error();
  EXPECT_EQ(key_to_base64(keys->public_key), kPublic);
  EXPECT_EQ(key_to_base64(keys->private_key), kPrivate);
  EXPECT_TRUE(keys->preshared.empty());
}

TEST_F(MeshKeysTest, AMissingKeyPointsAtKeygen) {
  auto keys = load_mesh_keys(mesh_, 0);
  ASSERT_FALSE(keys);
  EXPECT_EQ(keys.error(), "mesh.private_key_file: cannot read " + dir_ +
                              "/mesh.key: No such file or directory (`vigil mesh keygen` "
                              "makes one)");
}

TEST_F(MeshKeysTest, AnExposedOrBadKeyFileFailsWithoutQuotingIt) {
  write("mesh.key", std::string(kPrivate) + "\n");
  ::chmod(mesh_.private_key_file.c_str(), 0644);
  auto keys = load_mesh_keys(mesh_, 0);
  ASSERT_FALSE(keys);
  EXPECT_TRUE(keys.error().starts_with("mesh.private_key_file: " + dir_ +
                                       "/mesh.key has mode 0644: others could read it"))
      << keys.error();
  EXPECT_EQ(keys.error().find(kPrivate), std::string::npos);

  write("mesh.key", "not a key at all\n");
  keys = load_mesh_keys(mesh_, 0);
  ASSERT_FALSE(keys);
  EXPECT_EQ(keys.error(), "mesh.private_key_file: " + dir_ +
                              "/mesh.key holds no key: one key in base64, as `wg genkey` "
                              "writes it");
}

TEST_F(MeshKeysTest, PresharedKeysAreReadPerPeerAndOurOwnKeyIsNoPeer) {
  write("mesh.key", kPrivate);
  write("psk", "FpCyhws9cxwWoV4xELtfJvjJN+zQVRPISllRWgeopVE=\n");
  config::MeshPeerConfig peer{.name = "b", .preshared_key_file = dir_ + "/psk"};
  peer.public_key = *key_from_base64("5rIcK4isLYsZgkYRWPhY6I30S+u71xTdJWd9kJcWQkA=");
  mesh_.peers.push_back(peer);
  auto keys = load_mesh_keys(mesh_, 0);
  ASSERT_TRUE(keys) << keys.error();
  ASSERT_EQ(keys->preshared.count("b"), 1u);
  EXPECT_EQ(key_to_base64(keys->preshared.at("b")), "FpCyhws9cxwWoV4xELtfJvjJN+zQVRPISllRWgeopVE=");

  mesh_.peers[0].preshared_key_file = dir_ + "/none";
  keys = load_mesh_keys(mesh_, 0);
  ASSERT_FALSE(keys);
  EXPECT_EQ(keys.error(), "mesh.peers.b.preshared_key_file: cannot read " + dir_ +
                              "/none: No such file or directory");

  mesh_.peers[0].preshared_key_file.clear();
  mesh_.peers[0].public_key = *key_from_base64(kPublic);
  keys = load_mesh_keys(mesh_, 0);
  ASSERT_FALSE(keys);
  EXPECT_EQ(keys.error(),
            "mesh.peers.b.public_key: is this site's own public key: a peer is another site");
}

TEST_F(MeshKeysTest, TheTargetChecksTheKeysAtPrepareAndAgainAtActivate) {
  MeshTarget target;
  EXPECT_TRUE(target.check(config::Config{}));
  write("mesh.key", kPrivate);
  ASSERT_TRUE(target.check(with_mesh()));
  ASSERT_TRUE(target.apply(with_mesh()));

  ::chmod(mesh_.private_key_file.c_str(), 0640);
  for (const Status& refused : {target.check(with_mesh()), target.apply(with_mesh())}) {
    ASSERT_FALSE(refused);
    EXPECT_TRUE(refused.error().starts_with("mesh.private_key_file: ")) << refused.error();
  }
  ASSERT_TRUE(target.apply(config::Config{}));
}

}  // namespace
}  // namespace vigil::dp
