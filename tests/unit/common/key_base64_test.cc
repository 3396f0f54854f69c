// Keys in wireguard-tools' base64, from a key `wg genkey` made.
#include "common/key_base64.h"

#include <gtest/gtest.h>

namespace vigil {
namespace {

TEST(KeyBase64, AWgGenkeyKeyReadsAndWritesBackTheSame) {
  const auto private_key = key_from_base64("IKj+vxjv1gyjsMIdISrN++fie7K5u3XrV2yqIf4fY28=\n");
  ASSERT_TRUE(private_key.has_value());
  EXPECT_EQ(key_to_base64(*private_key), "IKj+vxjv1gyjsMIdISrN++fie7K5u3XrV2yqIf4fY28=");
}

TEST(KeyBase64, AnythingButOneCanonicalKeyIsRefused) {
  for (const char* bad : {"", "IKj+vxjv1gyjsMIdISrN++fie7K5u3XrV2yqIf4fY28",  // 43
                          "IKj+vxjv1gyjsMIdISrN++fie7K5u3XrV2yqIf4fY28==",    // 45
                          "IKj+vxjv1gyjsMIdISrN++fie7K5u3XrV2yqIf4fY29=",     // padding bits
                          "IKj+vxjv1gyjsMIdISrN++fie7K5u3XrV2yqIf4fY2*=",     // not base64
                          "IKj+vxjv1gyjsMIdISrN++fie7K5u3XrV2yqIf4fY2==",     // 31 bytes
                          "IKj+vxjv1gyjs MIdISrN++fie7K5u3XrV2yqIf4fY28="}) {
    EXPECT_FALSE(key_from_base64(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace vigil
