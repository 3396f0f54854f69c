// Fuzzes the HTTP/2 server session with whatever a client might send after the connection
// preface, read in pieces whose sizes the input's first byte chooses, while a handler answers
// every request and takes every body byte: nothing may crash, the session's memory stays
// within its budget, the handler hears of a stream's body, end and close only after its head
// and never after its close, every stream it heard of is closed by the end (close_streams when
// the input ran out), and the frames the session writes are never more than asked for past the
// high-water mark (a frame, or a header block).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>

#include "l7proxy/http2/server_session.h"

using namespace vigil::l7;
using namespace vigil::l7::http2;

namespace {

struct Answerer : ServerSession::Handler {
  void on_request(int32_t stream, RequestHead&& head) override {
    if (!open.insert(stream).second || head.method.empty()) {
      std::abort();
    }
  }
  void on_request_data(int32_t stream, std::span<const char> data) override {
    if (!open.contains(stream)) {
      std::abort();
    }
    session->consumed(stream, data.size());
  }
  void on_request_end(int32_t stream) override {
    if (!open.contains(stream)) {
      std::abort();
    }
    const Header fields[] = {{"content-type", "text/plain"}};
    session->respond(stream, 200, fields, false);
    session->queue_body(stream, std::string_view("fuzzed"), true);
  }
  void on_stream_close(int32_t stream, uint32_t) override {
    if (open.erase(stream) != 1) {
      std::abort();
    }
  }
  ServerSession* session = nullptr;
  std::set<int32_t> open;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) {
    return 0;
  }
  const size_t piece = 1 + data[0] % 64;
  const std::string input =
      std::string(kClientPreface) + std::string(reinterpret_cast<const char*>(data) + 1, size - 1);
  Limits limits;
  limits.memory = 256 * 1024;
  limits.max_concurrent_streams = 16;
  Answerer handler;
  ServerSession session(handler, limits);
  handler.session = &session;
  constexpr size_t kHighWater = 4096;
  auto now = ServerSession::Clock::time_point() + std::chrono::hours(1);
  for (size_t at = 0; at < input.size(); at += piece) {
    const std::string_view next = std::string_view(input).substr(at, piece);
    now += std::chrono::milliseconds(piece);  // time passes as bytes come: the rate refills
    const bool ok = session.receive(std::span<const char>(next.data(), next.size()), now);
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
