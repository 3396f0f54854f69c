// vigild's config methods on its control socket, over the schema in config/.
#pragma once

#include "common/daemon.h"
#include "config/document.h"

namespace vigil::mgmt {

// `validate`: {"text": "<yaml>", "origin": "name"} -> {"valid": bool, "errors": [...]}.
// Each error: {"path", "line", "column", "message", "text"}.
void register_config_methods(rpc::Dispatcher& dispatcher, MetricsRegistry& metrics);

nlohmann::json errors_json(const config::ErrorList& errors);

}  // namespace vigil::mgmt
