// vigild's `validate` method over the schema in config/: the document checked, nothing kept.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "common/expected.h"
#include "common/json_rpc.h"
#include "config/document.h"

namespace vigil::mgmt {

// {"text": "<yaml>", "origin": "name"}: the text and origin, or the error to answer.
struct ValidateRequest {
  std::string text;
  std::string origin;
};
Expected<ValidateRequest> validate_request(const nlohmann::json& params);

// {"valid": bool, "errors": [...], "truncated": bool}; each error {"path", "line", "column",
// "message", "text"}. Runs on any thread (vigild parses off its loop). `error_count` gets how
// many errors were found.
nlohmann::json validate_text(const ValidateRequest& request, size_t& error_count);

nlohmann::json errors_json(const config::ErrorList& errors);

}  // namespace vigil::mgmt
