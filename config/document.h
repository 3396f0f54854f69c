// Parsing and validating a whole config document.
#pragma once

#include <yaml-cpp/yaml.h>

#include <nlohmann/json.hpp>
#include <string>

#include "common/expected.h"
#include "config/config.h"
#include "config/errors.h"

namespace vigil::config {

struct ParseResult {
  Config config;     // meaningful only when errors is empty
  ErrorList errors;  // everything wrong, with paths and positions
  bool ok() const { return errors.empty(); }
};

ParseResult parse_document(const YAML::Node& document);
// The check every daemon applies to its config file at start and on reload, so vigil-dp
// started by hand refuses what vigild would: every error, one per line.
Status validate_document(const YAML::Node& document);
// YAML syntax errors come back as one error with the origin's line and column.
ParseResult parse_text(const std::string& text, const std::string& origin);
// A component's sections of a commit ({section: content, or null when removed}), through the
// same schema code vigild validated them with (JSON is YAML); removed sections are left out,
// as if never written. Every error, one per line.
Expected<Config> parse_sections(const nlohmann::json& sections);

}  // namespace vigil::config
