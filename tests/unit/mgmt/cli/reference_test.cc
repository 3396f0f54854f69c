// docs/cli.md must be exactly what the CLI's tables generate, and those tables must describe
// what the CLI accepts.
#include "mgmt/cli/reference.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "mgmt/cli/commands/commands.h"
#include "mgmt/cli/pipes.h"

namespace vigil::mgmt::cli {
namespace {

TEST(CliReference, CheckedInDocMatchesTheCommandTable) {
  std::ifstream in(VIGIL_SOURCE_ROOT "/docs/cli.md");
  ASSERT_TRUE(in) << "cannot read docs/cli.md";
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_TRUE(text.str() == cli_reference_markdown(build_table()))
      << "docs/cli.md is out of date: run build/mgmt/cli/vigil-cli-reference > docs/cli.md";
}

TEST(CliReference, ListsEveryCommandAndExitCode) {
  const CommandTable table = build_table();
  const std::string doc = cli_reference_markdown(table);
  for (const Command& c : table.commands()) {
    std::string words;
    for (const auto& w : c.words) {
      words += (words.empty() ? "" : " ") + w;
    }
    EXPECT_NE(doc.find("| `" + words + "` |"), std::string::npos) << words;
  }
  for (const ExitCode& e : exit_codes()) {
    EXPECT_NE(doc.find("| " + std::to_string(e.code) + " | `" + std::string(e.kind) + "` |"),
              std::string::npos)
        << e.code;
  }
  EXPECT_NE(doc.find("| `\\| display set` |"), std::string::npos) << doc;
}

TEST(CliReference, EveryDocumentedModifierParses) {
  for (const PipeModifier& m : pipe_modifiers()) {
    std::vector<std::string> words = {"show", "configuration"};
    std::istringstream syntax{std::string(m.syntax)};
    for (std::string w; syntax >> w;) {
      words.push_back(w == "RE" ? "static" : w == "N" ? "1" : w);
    }
    const auto parsed = parse_pipeline(words);
    EXPECT_TRUE(std::holds_alternative<Pipeline>(parsed)) << m.syntax;
  }
}

TEST(CliReference, JsonErrorsNameTheirKindFromTheTable) {
  for (const ExitCode& e : exit_codes()) {
    if (e.code == kExitOk) {
      continue;
    }
    const Output o = json_error(failure("x", e.code));
    EXPECT_EQ(nlohmann::json::parse(o.out)["error"]["kind"], e.kind) << e.code;
  }
}

}  // namespace
}  // namespace vigil::mgmt::cli
