#include "l7proxy/core/request_record.h"

#include "l7proxy/core/worker.h"

namespace vigil::l7 {

void RequestRecord::begin(Clock::time_point now) {
  open = true;
  started_at = now;
  status = 0;
  body_bytes = 0;
  route = {};
  method.clear();
  request_id.clear();
  host.clear();
  path.clear();
}

void RequestRecord::note_target(const Worker& worker, const RequestView& view,
                                std::string_view raw_target) {
  if (worker.access_log() == nullptr) {
    return;  // nobody reads them: not copied
  }
  host.assign(view.authority);
  path.assign(view.refuse_status != 0 ? raw_target : std::string_view(view.path));
  if (!view.query.empty()) {
    path.append("?").append(view.query);
  }
}

void RequestRecord::write(Worker& worker, std::string_view client, std::string_view listener,
                          std::string_view upstream, std::string_view target) {
  if (!open) {
    return;
  }
  open = false;
  const auto now = worker.reactor().now();
  worker.count_request(route, upstream, status,
                       std::chrono::duration<double>(now - started_at).count());
  AccessLog* log = worker.access_log();
  if (log == nullptr) {
    return;
  }
  const auto wall = std::chrono::system_clock::now().time_since_epoch();
  log->add({.unix_ms = std::chrono::duration_cast<std::chrono::milliseconds>(wall).count(),
            .client = client,
            .listener = listener,
            .method = method,
            .host = host,
            .path = path,
            .route = route,
            .upstream = upstream,
            .target = target,
            .request_id = request_id,
            .status = status,
            .bytes = body_bytes,
            .duration_ms = std::chrono::duration<double, std::milli>(now - started_at).count()});
}

}  // namespace vigil::l7
