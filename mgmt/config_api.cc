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

void register_config_methods(rpc::Dispatcher& dispatcher, MetricsRegistry& metrics) {
  auto& invalid = metrics.counter("vigil_mgmt_validation_errors_total",
                                  "Config errors reported by the validate method");
  dispatcher.add(
      "validate", [&invalid](const json& params, const rpc::CallContext&) -> rpc::CallResult {
        if (!params.is_object() || !params.contains("text") || !params["text"].is_string()) {
          return rpc::invalid_params("validate needs {\"text\": \"<yaml document>\"}");
        }
        const std::string origin = params.value("origin", std::string("candidate"));
        config::ParseResult r = config::parse_text(params["text"].get<std::string>(), origin);
        invalid.Add({}).Increment(static_cast<double>(r.errors.size()));
        return json{{"valid", r.ok()},
                    {"errors", errors_json(r.errors)},
                    {"truncated", r.errors.truncated()}};
      });
}

}  // namespace vigil::mgmt
