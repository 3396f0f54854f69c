#include "mgmt/config_api.h"

namespace vigil::mgmt {

using nlohmann::json;

json errors_json(const config::ErrorList& errors) {
  json out = json::array();
  for (const auto& e : errors.sorted()) {
    out.push_back({{"path", e.path},
                   {"line", e.line},
                   {"column", e.column},
                   {"message", e.message},
                   {"text", e.to_string()}});
  }
  return out;
}

Expected<ValidateRequest> validate_request(const json& params) {
  if (!params.is_object() || !params.contains("text") || !params["text"].is_string()) {
    return fail("validate needs {\"text\": \"<yaml document>\"}");
  }
  return ValidateRequest{.text = params["text"].get<std::string>(),
                         .origin = params.value("origin", std::string("candidate"))};
}

json validate_text(const ValidateRequest& request, size_t& error_count) {
  config::ParseResult r = config::parse_text(request.text, request.origin);
  error_count = r.errors.size();
  return json{
      {"valid", r.ok()}, {"errors", errors_json(r.errors)}, {"truncated", r.errors.truncated()}};
}

}  // namespace vigil::mgmt
