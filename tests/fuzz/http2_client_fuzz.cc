// Fuzzes the HTTP/2 client session (the proxy's side toward an upstream) with whatever an
// upstream might send, read in pieces whose sizes the input's first byte chooses, after three
// requests went out (one still sending its body): nothing may crash, the session's memory
// stays within its budget, the handler hears of a response's data and end only after its head
// and never after its stream's close, each stream closes once, all are closed by the end, and
// the frames written are never more than asked for past the high-water mark.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>

#include "l7proxy/http2/client_session.h"

using namespace vigil::l7;
using namespace vigil::l7::http2;

namespace {

struct Taker : ClientSession::Handler {
  void on_response(int32_t stream, ResponseHead&& head) override {
    if (!open.contains(stream) || !answered.insert(stream).second || head.status < 200 ||
        head.status > 599) {
      std::abort();
    }
  }
  void on_response_data(int32_t stream, std::span<const char> data) override {
    if (!open.contains(stream) || !answered.contains(stream)) {
      std::abort();
    }
    session->consumed(stream, data.size());
  }
  void on_response_end(int32_t stream) override {
    if (!open.contains(stream) || !answered.contains(stream)) {
      std::abort();
    }
  }
  void on_stream_close(int32_t stream, uint32_t) override {
    if (open.erase(stream) != 1) {
      std::abort();
    }
  }
  ClientSession* session = nullptr;
  std::set<int32_t> open;
  std::set<int32_t> answered;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) {
    return 0;
  }
  const size_t piece = 1 + data[0] % 64;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  ClientLimits limits;
  limits.memory = 256 * 1024;
  Taker handler;
  ClientSession session(handler, limits);
  handler.session = &session;
  RequestHead head{"GET", "http", "upstream.example", "/", {{"accept", "*/*"}}, true};
  for (const char* path : {"/a", "/b"}) {
    head.path = path;
    handler.open.insert(session.submit(head));
  }
  head.method = "POST";
  head.end_stream = false;
  const int32_t upload = session.submit(head);
  handler.open.insert(upload);
  if (handler.open.contains(0)) {
    std::abort();
  }
  constexpr size_t kHighWater = 4096;
  for (size_t at = 0; at < input.size(); at += piece) {
    const std::string_view next = input.substr(at, piece);
    session.queue_body(upload, std::string_view("body bytes"), false);
    const bool ok = session.receive(std::span<const char>(next.data(), next.size()));
    ByteBuffer out(size_t{1} << 20);
    const bool sent = session.send(out, kHighWater);
    if (out.size() > kHighWater + 16384 + 9 + 64 * 1024 ||
        session.memory_in_use() > limits.memory) {
      std::abort();
    }
    if (!ok || !sent || session.finished()) {
      break;
    }
  }
  session.close_streams(NGHTTP2_CANCEL);
  if (!handler.open.empty() || session.open_streams() != 0) {
    std::abort();
  }
  return 0;
}
