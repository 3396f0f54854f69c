// docs/config.md must be exactly what the schema generates.
#include "config/reference.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace vigil::config {
namespace {

TEST(ConfigReference, CheckedInDocMatchesTheSchema) {
  std::ifstream in(VIGIL_SOURCE_ROOT "/docs/config.md");
  ASSERT_TRUE(in) << "cannot read docs/config.md";
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_TRUE(text.str() == config_reference_markdown())
      << "docs/config.md is out of date: run build/config/vigil-config-reference > "
         "docs/config.md";
}

TEST(ConfigReference, DocumentsEverySectionAndMarksReservedOnes) {
  const std::string doc = config_reference_markdown();
  for (const char* s : {"## `system`", "## `interfaces.<name>`", "## `routing.static[]`",
                        "## `monitoring.prometheus`", "## `system.users.<unix user>`"}) {
    EXPECT_NE(doc.find(s), std::string::npos) << s;
  }
  EXPECT_NE(doc.find("| `qos` | mapping |  | Shaping per WAN link. **Not supported yet**"),
            std::string::npos);
}

}  // namespace
}  // namespace vigil::config
