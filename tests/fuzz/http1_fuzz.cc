// Fuzzes the HTTP/1 head parser, the framing rules and the chunked decoder with whatever
// bytes come: nothing may crash or read out of bounds, every view points into the input, a
// head taken is taken the same when it arrives a byte short first (it waits, never errs), and
// the decoder consumes no more than it is given, the same data whole or byte by byte; the
// path routing sees begins at the root and has no dot segment left; the head written for the
// upstream parses back, whole, framed the same, with the path, query and host routed.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>

#include "l7proxy/http1/chunked.h"
#include "l7proxy/http1/forward_head.h"
#include "l7proxy/http1/framing.h"
#include "l7proxy/http1/message_head.h"
#include "l7proxy/routing/request_view.h"

using namespace vigil::l7::http1;

namespace {

void check_inside(std::string_view v, std::span<const char> in) {
  if (!v.empty() && (v.data() < in.data() || v.data() + v.size() > in.data() + in.size())) {
    std::abort();
  }
}

std::string decode(std::span<const char> in, size_t piece, bool& done, bool& failed,
                   size_t& consumed) {
  ChunkedDecoder d;
  std::string data;
  consumed = 0;
  size_t arrived = 0;
  done = failed = false;
  while (!done && !failed) {
    if (consumed == arrived) {
      if (arrived == in.size()) {
        break;
      }
      arrived += std::min(piece, in.size() - arrived);
    }
    const auto s = d.next(in.subspan(consumed, arrived - consumed));
    if (s.consumed > arrived - consumed) {
      std::abort();
    }
    data.append(s.data.data(), s.data.size());
    consumed += s.consumed;
    done = s.done;
    failed = !s.error.empty();
  }
  return data;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  const std::span<const char> in(reinterpret_cast<const char*>(bytes), size);
  Limits limits;
  limits.max_head_bytes = 4096;
  RequestHead request;
  const ParseResult r = parse_request_head(in, limits, request);
  if (r.consumed > size) {
    std::abort();
  }
  if (r.outcome == Parsed::kComplete) {
    check_inside(request.method, in);
    check_inside(request.target, in);
    for (const Header& h : request.headers) {
      check_inside(h.name, in);
      check_inside(h.value, in);
    }
    // One byte short of its end, the same head is still coming, not wrong.
    RequestHead shorter;
    if (parse_request_head(in.first(r.consumed - 1), limits, shorter).outcome !=
        Parsed::kIncomplete) {
      std::abort();
    }
    const vigil::l7::RequestView view = vigil::l7::RequestView::from(request);
    if (view.refuse_status == 0 && view.path != "*" &&
        (view.path.empty() || view.path.front() != '/' ||
         view.path.find("/../") != std::string::npos ||
         view.path.find("/./") != std::string::npos || view.path.ends_with("/..") ||
         view.path.ends_with("/."))) {
      std::abort();
    }
    const FramingResult f = request_framing(request, 1 << 20);
    if (f.ok && view.refuse_status == 0) {
      std::string written;
      write_upstream_request(request, f.framing,
                             {.client_address = "192.0.2.1",
                              .authority = view.authority,
                              .path = view.path,
                              .query = view.query},
                             written);
      // Read back as an upstream that takes the fields this proxy adds (a request at the
      // client limit of fields grows by up to kMaxFieldsAdded).
      Limits upstream;
      upstream.max_headers = limits.max_headers + kMaxFieldsAdded;
      RequestHead again;
      const ParseResult back =
          parse_request_head(std::span(written.data(), written.size()), upstream, again);
      const FramingResult f2 =
          back.outcome == Parsed::kComplete ? request_framing(again, 1 << 20) : FramingResult{};
      if (back.outcome != Parsed::kComplete || back.consumed != written.size() || !f2.ok ||
          f2.framing.body != f.framing.body || f2.framing.length != f.framing.length) {
        std::abort();
      }
      // And the upstream reads the path and host that were routed.
      const vigil::l7::RequestView seen = vigil::l7::RequestView::from(again);
      if (seen.refuse_status != 0 || seen.path != view.path || seen.authority != view.authority ||
          seen.query != view.query) {
        std::abort();
      }
    }
    if (f.ok && f.framing.body == Body::kChunked) {
      bool done_whole = false, failed_whole = false, done_bytes = false, failed_bytes = false;
      size_t used_whole = 0, used_bytes = 0;
      const auto body = in.subspan(r.consumed);
      const std::string whole = decode(body, SIZE_MAX, done_whole, failed_whole, used_whole);
      const std::string by_byte = decode(body, 1, done_bytes, failed_bytes, used_bytes);
      if (whole != by_byte || done_whole != done_bytes || failed_whole != failed_bytes ||
          (done_whole && used_whole != used_bytes)) {
        std::abort();
      }
    }
  } else if (r.outcome == Parsed::kError && r.status == 0) {
    std::abort();
  }
  ResponseHead response;
  const ParseResult rr = parse_response_head(in, limits, response);
  if (rr.outcome == Parsed::kComplete) {
    check_inside(response.reason, in);
    response_framing(response, "GET");
  }
  return 0;
}
