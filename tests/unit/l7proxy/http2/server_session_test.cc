// The HTTP/2 server session against nghttp2's own client (what a real client sends and reads),
// and against frames written by hand for what no well-behaved client sends: resets faster than
// the limit, CONTINUATION and PING floods, header blocks past the limits, no preface.
#include "l7proxy/http2/server_session.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "tests/unit/l7proxy/http2/h2_test_client.h"

namespace vigil::l7::http2 {
namespace {

// A handler that writes down what it hears, and answers each request once it has ended (with
// "hello " and its path) when told to.
struct Recorder : ServerSession::Handler {
  void on_request(int32_t stream, RequestHead&& head) override {
    requests[stream] = std::move(head);
  }
  void on_request_data(int32_t stream, std::span<const char> data) override {
    bodies[stream].append(data.data(), data.size());
    if (consume) {
      session->consumed(stream, data.size());
    }
  }
  void on_request_end(int32_t stream) override {
    ended.insert(stream);
    if (answer) {
      const std::string body = "hello " + requests[stream].path;
      const Header fields[] = {{"content-type", "text/plain"}};
      ASSERT_TRUE(session->respond(stream, 200, fields, false));
      ASSERT_EQ(session->queue_body(stream, body, true), body.size());
    }
  }
  void on_stream_close(int32_t stream, uint32_t error) override { closed[stream] = error; }

  ServerSession* session = nullptr;
  bool answer = true;
  bool consume = true;
  std::map<int32_t, RequestHead> requests;
  std::map<int32_t, std::string> bodies;
  std::set<int32_t> ended;
  std::map<int32_t, uint32_t> closed;
};

using Client = test::H2Client;

// Bytes back and forth until neither side has anything more to say.
void pump(Client& client, ServerSession& server) {
  for (int round = 0; round < 1000; ++round) {
    const std::string up = client.output();
    if (!up.empty()) {
      ASSERT_TRUE(server.receive(up)) << server.error();
    }
    ByteBuffer down(size_t{4} << 20);
    ASSERT_TRUE(server.send(down, size_t{4} << 20)) << server.error();
    if (up.empty() && down.empty()) {
      return;
    }
    client.input(down.view());
  }
  FAIL() << "the two sides never went quiet";
}

// Frames by hand.
constexpr uint8_t kData = 0, kHeaders = 1, kRstStream = 3, kSettings = 4, kPing = 6,
                  kWindowUpdate = 8, kContinuation = 9;
constexpr uint8_t kEndStream = 0x1, kEndHeaders = 0x4;

std::string frame(uint8_t type, uint8_t flags, uint32_t stream, std::string_view payload) {
  std::string f;
  const size_t n = payload.size();
  f.push_back(static_cast<char>(n >> 16));
  f.push_back(static_cast<char>(n >> 8));
  f.push_back(static_cast<char>(n));
  f.push_back(static_cast<char>(type));
  f.push_back(static_cast<char>(flags));
  f.push_back(static_cast<char>(stream >> 24));
  f.push_back(static_cast<char>(stream >> 16));
  f.push_back(static_cast<char>(stream >> 8));
  f.push_back(static_cast<char>(stream));
  return f + std::string(payload);
}

// HPACK: GET, http, "/" from the static table; :authority "a" as a literal.
const std::string kGet = std::string("\x82\x86\x84\x01\x01", 5) + "a";

// A literal field with a new name, not indexed (names and values under 127 bytes).
std::string literal(std::string_view name, std::string_view value) {
  std::string f(1, '\0');
  f.push_back(static_cast<char>(name.size()));
  f += name;
  f.push_back(static_cast<char>(value.size()));
  f += value;
  return f;
}

std::string opening() {
  return std::string(kClientPreface) + frame(kSettings, 0, 0, "");
}

std::string rst(uint32_t stream) {
  return frame(kRstStream, 0, stream, std::string("\0\0\0\x8", 4));  // CANCEL
}

// The opening, then `count` GETs on streams 1, 3, 5...: HEADERS with `flags`, each followed
// by what `then` adds on its stream.
std::string gets(uint32_t count, uint8_t flags = kEndHeaders | kEndStream,
                 const std::function<std::string(uint32_t)>& then = {}) {
  std::string out = opening();
  for (uint32_t id = 1; id < 2 * count; id += 2) {
    out += frame(kHeaders, flags, id, kGet);
    if (then) {
      out += then(id);
    }
  }
  return out;
}

class ServerSessionTest : public ::testing::Test {
 protected:
  void make(const Limits& limits = {}) {
    server_ = std::make_unique<ServerSession>(handler_, limits);
    handler_.session = server_.get();
  }
  std::string drain() {
    ByteBuffer out(size_t{16} << 20);
    server_->send(out, size_t{16} << 20);
    return std::string(out.view());
  }

  Recorder handler_;
  std::unique_ptr<ServerSession> server_;
};

TEST_F(ServerSessionTest, ARequestIsHeardWholeAndAnswered) {
  make();
  Client client;
  const int32_t id = client.request("GET", "/index?x=1",
                                    {{"cookie", "a=1"}, {"user-agent", "t/1"}, {"cookie", "b=2"}});
  pump(client, *server_);
  ASSERT_TRUE(handler_.requests.contains(id));
  const RequestHead& head = handler_.requests[id];
  EXPECT_EQ(head.method, "GET");
  EXPECT_EQ(head.scheme, "http");
  EXPECT_EQ(head.authority, "example.test");
  EXPECT_EQ(head.path, "/index?x=1");
  EXPECT_TRUE(head.end_stream);
  ASSERT_EQ(head.headers.size(), 2u);
  EXPECT_EQ(head.headers[0].name, "cookie");
  EXPECT_EQ(head.headers[0].value, "a=1; b=2");  // one field, as HTTP/1.1 wants it
  EXPECT_EQ(head.headers[1].name, "user-agent");
  EXPECT_EQ(client.responses[id].status, 200);
  EXPECT_EQ(client.responses[id].body, "hello /index?x=1");
  EXPECT_TRUE(client.responses[id].closed);
  EXPECT_EQ(handler_.closed.at(id), 0u);
  EXPECT_EQ(server_->open_streams(), 0u);
  EXPECT_FALSE(server_->finished());  // the client may send more requests
}

TEST_F(ServerSessionTest, TheSettingsTellTheClientItsLimits) {
  Limits limits;
  limits.max_concurrent_streams = 7;
  limits.stream_window = 32768;
  limits.max_header_bytes = 8192;
  make(limits);
  Client client;
  pump(client, *server_);
  EXPECT_EQ(client.remote_setting(NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS), 7u);
  EXPECT_EQ(client.remote_setting(NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE), 32768u);
  EXPECT_EQ(client.remote_setting(NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE), 8192u);
  EXPECT_EQ(client.remote_setting(NGHTTP2_SETTINGS_ENABLE_PUSH), 0u);
}

TEST_F(ServerSessionTest, ARequestBodyComesOnlyAsFastAsTheHandlerPassesItOn) {
  Limits limits;
  limits.stream_window = 16384;
  make(limits);
  handler_.consume = false;
  Client client;
  // Until the client has the server's settings, its window is the protocol's first 65535.
  pump(client, *server_);
  const std::string body(100000, 'b');
  const int32_t id = client.request("POST", "/up", {}, &body);
  pump(client, *server_);
  // The client may send its window's worth, and no more until the handler takes it.
  EXPECT_EQ(handler_.bodies[id].size(), 16384u);
  server_->consumed(id, 16384);
  pump(client, *server_);
  EXPECT_EQ(handler_.bodies[id].size(), 32768u);
  handler_.consume = true;
  server_->consumed(id, 16384);
  pump(client, *server_);
  EXPECT_TRUE(handler_.bodies[id] == body) << handler_.bodies[id].size();
  EXPECT_TRUE(handler_.ended.contains(id));
  EXPECT_EQ(client.responses[id].status, 200);
}

TEST_F(ServerSessionTest, AResponseBodyIsQueuedWithinItsRoomAndDrainsAsItIsSent) {
  Limits limits;
  limits.stream_output = 16384;
  make(limits);
  handler_.answer = false;
  Client client;
  const int32_t id = client.request("GET", "/big");
  pump(client, *server_);
  ASSERT_TRUE(handler_.ended.contains(id));
  ASSERT_TRUE(server_->respond(id, 200, {}, false));
  const std::string body(100000, 'x');
  size_t queued = 0;
  int rounds = 0;
  while (queued < body.size() && rounds++ < 100) {
    const size_t room = server_->body_room(id);
    ASSERT_LE(room, 16384u);
    const size_t n = server_->queue_body(id, std::span(body).subspan(queued), true);
    EXPECT_LE(n, room);
    queued += n;
    EXPECT_EQ(server_->body_room(id), queued == body.size() ? 0u : 16384u - n);
    pump(client, *server_);
  }
  EXPECT_TRUE(client.responses[id].body == body) << client.responses[id].body.size();
  EXPECT_TRUE(client.responses[id].closed);
  EXPECT_EQ(client.responses[id].error, 0u);
  EXPECT_FALSE(server_->respond(id, 200, {}, true));  // gone
  EXPECT_EQ(server_->queue_body(id, body, true), 0u);
}

TEST_F(ServerSessionTest, TooManyHeaderFieldsAnswer431AndTheHandlerNeverHears) {
  Limits limits;
  limits.max_header_fields = 10;
  make(limits);
  Client client;
  std::vector<std::pair<std::string, std::string>> many;
  many.reserve(20);
  for (int i = 0; i < 20; ++i) {
    many.emplace_back("x-field-" + std::to_string(i), "v");
  }
  const int32_t id = client.request("GET", "/", many);
  const int32_t next = client.request("GET", "/after");
  pump(client, *server_);
  EXPECT_EQ(client.responses[id].status, 431);
  EXPECT_FALSE(handler_.requests.contains(id));
  // The connection goes on: the next request is answered.
  EXPECT_EQ(client.responses[next].status, 200);
}

TEST_F(ServerSessionTest, AHeaderBlockPastItsBytesIsAnswered431EvenWithABodyComing) {
  Limits limits;
  limits.max_header_bytes = 1000;
  make(limits);
  Client client;
  std::vector<std::pair<std::string, std::string>> big;
  big.reserve(10);
  for (int i = 0; i < 10; ++i) {
    big.emplace_back("x-big-" + std::to_string(i), std::string(100, 'v'));
  }
  const std::string body(50000, 'b');
  const int32_t id = client.request("POST", "/upload", big, &body);
  pump(client, *server_);
  EXPECT_EQ(client.responses[id].status, 431);
  EXPECT_TRUE(client.responses[id].closed);
  EXPECT_EQ(client.responses[id].error, 0u);  // told to stop sending, without an error
  EXPECT_TRUE(handler_.requests.empty());
  EXPECT_EQ(server_->open_streams(), 0u);
  // The connection goes on, its window whole: a body as large is taken on the next stream.
  handler_.consume = false;
  const int32_t next = client.request("POST", "/next", {}, &body);
  pump(client, *server_);
  EXPECT_EQ(handler_.bodies[next].size(), body.size());
}

TEST_F(ServerSessionTest, AClientResettingStreamsPastTheRateIsCutOff) {
  Limits limits;
  limits.reset_burst = 50;
  limits.reset_rate = 1;
  make(limits);
  server_->receive(gets(200, kEndHeaders | kEndStream, rst));
  drain();
  EXPECT_EQ(server_->goaway_sent(), static_cast<uint32_t>(NGHTTP2_ENHANCE_YOUR_CALM));
  EXPECT_NE(server_->error().find("ended streams in error"), std::string::npos) << server_->error();
  // Nothing after the line was read: the handler heard the burst's requests, no more.
  EXPECT_LE(handler_.requests.size(), 52u);
  EXPECT_TRUE(server_->finished());
  EXPECT_EQ(server_->open_streams(), 0u);
}

TEST_F(ServerSessionTest, StreamsTheClientMakesTheServerResetCountToo) {
  // CVE-2025-8671: the client never sends RST_STREAM; it breaks a rule on each stream (here
  // a window overflowed) so that the server resets it, freeing the slot for the next.
  Limits limits;
  limits.reset_burst = 50;
  limits.reset_rate = 1;
  make(limits);
  server_->receive(gets(200, kEndHeaders | kEndStream, [](uint32_t id) {
    return frame(kWindowUpdate, 0, id, std::string("\x7f\xff\xff\xff", 4));
  }));
  drain();
  EXPECT_EQ(server_->goaway_sent(), static_cast<uint32_t>(NGHTTP2_ENHANCE_YOUR_CALM));
  // The server's resets close their streams as they go out, so within one read the client
  // gets as far as the concurrent streams allow; past the rate, nothing more.
  EXPECT_LE(handler_.requests.size(), 128u);
  for (auto& [id, error] : handler_.closed) {
    EXPECT_NE(error, 0u) << id;
  }
  const size_t heard = handler_.requests.size();
  server_->receive(frame(kHeaders, kEndHeaders | kEndStream, 1001, kGet));
  EXPECT_EQ(handler_.requests.size(), heard);
  EXPECT_TRUE(server_->finished());
}

TEST_F(ServerSessionTest, StreamsTheProxyResetsAreNotHeldAgainstTheClient) {
  Limits limits;
  limits.reset_burst = 5;
  limits.reset_rate = 1;
  make(limits);
  handler_.answer = false;
  ASSERT_TRUE(server_->receive(gets(20)));
  std::vector<int32_t> ids;
  for (const auto& [id, head] : handler_.requests) {
    ids.push_back(id);
  }
  for (const int32_t id : ids) {
    server_->reset(id, NGHTTP2_INTERNAL_ERROR);  // the upstream failed, say
  }
  drain();
  EXPECT_EQ(handler_.closed.size(), 20u);
  EXPECT_EQ(server_->goaway_sent(), 0u);
  EXPECT_FALSE(server_->finished());
}

TEST_F(ServerSessionTest, AConnectionErrorClosesEveryStreamTheHandlerKnew) {
  make();
  handler_.answer = false;
  ASSERT_TRUE(server_->receive(gets(3)));
  ASSERT_EQ(handler_.requests.size(), 3u);
  // DATA on stream 0: a connection error; nghttp2 sends GOAWAY and reads no more.
  server_->receive(frame(kData, 0, 0, "x"));
  drain();
  EXPECT_TRUE(server_->finished());
  EXPECT_EQ(server_->goaway_sent(), static_cast<uint32_t>(NGHTTP2_PROTOCOL_ERROR));
  EXPECT_EQ(handler_.closed.size(), 3u);
  EXPECT_EQ(server_->open_streams(), 0u);
}

TEST_F(ServerSessionTest, ClosingTheStreamsTellsTheHandlerOfEachOnce) {
  make();
  handler_.answer = false;
  Client client;
  const int32_t a = client.request("GET", "/a");
  const int32_t b = client.request("GET", "/b");
  pump(client, *server_);
  server_->close_streams(NGHTTP2_CANCEL);
  EXPECT_EQ(handler_.closed.at(a), static_cast<uint32_t>(NGHTTP2_CANCEL));
  EXPECT_EQ(handler_.closed.at(b), static_cast<uint32_t>(NGHTTP2_CANCEL));
  server_->close_streams(NGHTTP2_CANCEL);
  EXPECT_EQ(handler_.closed.size(), 2u);
  EXPECT_FALSE(server_->respond(a, 200, {}, true));
  pump(client, *server_);
  EXPECT_TRUE(client.responses[a].closed);
  EXPECT_EQ(client.responses[a].error, static_cast<uint32_t>(NGHTTP2_CANCEL));
}

TEST_F(ServerSessionTest, AStreamClosedWithItsBodyUnconsumedGivesTheWindowBack) {
  Limits limits;
  limits.connection_window = 65535;
  limits.stream_window = 65535;
  make(limits);
  handler_.consume = false;
  handler_.answer = false;
  Client client;
  pump(client, *server_);
  const std::string body(60000, 'b');
  const int32_t first = client.request("POST", "/one", {}, &body);
  pump(client, *server_);
  EXPECT_EQ(handler_.bodies[first].size(), body.size());
  client.cancel(first);  // nothing of it was passed on
  pump(client, *server_);
  ASSERT_TRUE(handler_.closed.contains(first));
  const int32_t second = client.request("POST", "/two", {}, &body);
  pump(client, *server_);
  EXPECT_EQ(handler_.bodies[second].size(), body.size());
}

TEST_F(ServerSessionTest, AResponseIsGivenOnceAndOnlyAFinalOne) {
  make();
  handler_.answer = false;
  Client client;
  const int32_t id = client.request("GET", "/");
  pump(client, *server_);
  EXPECT_FALSE(server_->respond(id, 101, {}, true));
  EXPECT_FALSE(server_->respond(id, 600, {}, true));
  EXPECT_EQ(server_->body_room(id), 0u);  // no body before a head
  EXPECT_TRUE(server_->respond(id, 200, {}, false));
  EXPECT_FALSE(server_->respond(id, 200, {}, true));
  EXPECT_EQ(server_->queue_body(id, std::string_view("ok"), true), 2u);
  pump(client, *server_);
  EXPECT_EQ(client.responses[id].status, 200);
  EXPECT_EQ(client.responses[id].body, "ok");
}

TEST_F(ServerSessionTest, TrailersPastTheLimitsResetTheStream) {
  Limits limits;
  limits.max_header_fields = 10;
  make(limits);
  handler_.answer = false;
  std::string trailers;
  for (int i = 0; i < 20; ++i) {
    trailers += literal("x-t" + std::to_string(i), "v");
  }
  ASSERT_TRUE(server_->receive(opening() + frame(kHeaders, kEndHeaders, 1, kGet) +
                               frame(kData, 0, 1, "body") +
                               frame(kHeaders, kEndHeaders | kEndStream, 1, trailers)));
  drain();
  ASSERT_TRUE(handler_.requests.contains(1));
  EXPECT_FALSE(handler_.ended.contains(1));
  ASSERT_TRUE(handler_.closed.contains(1));
  EXPECT_NE(handler_.closed.at(1), 0u);
}

TEST_F(ServerSessionTest, ResetsWithinTheRateAreNoOffence) {
  Limits limits;
  limits.reset_burst = 50;
  make(limits);
  ASSERT_TRUE(server_->receive(gets(20, kEndHeaders | kEndStream, rst)));
  drain();
  EXPECT_EQ(server_->goaway_sent(), 0u);
  EXPECT_EQ(handler_.requests.size(), 20u);
  for (auto& [id, error] : handler_.closed) {
    EXPECT_EQ(error, static_cast<uint32_t>(NGHTTP2_CANCEL)) << id;
  }
  EXPECT_EQ(server_->open_streams(), 0u);
  EXPECT_FALSE(server_->finished());
  EXPECT_EQ(server_->goaway_sent(), 0u);
}

TEST_F(ServerSessionTest, AContinuationFloodEndsTheConnection) {
  Limits limits;
  limits.max_continuations = 8;
  make(limits);
  std::string flood = opening() + frame(kHeaders, 0, 1, kGet);
  for (int i = 0; i < 20; ++i) {
    flood += frame(kContinuation, 0, 1, literal("x-c" + std::to_string(i), "v"));
  }
  EXPECT_FALSE(server_->receive(flood));
  EXPECT_NE(server_->error().find("CONTINUATION flood"), std::string::npos) << server_->error();
  EXPECT_TRUE(handler_.requests.empty());
  EXPECT_TRUE(server_->finished());
  EXPECT_FALSE(server_->receive(frame(kPing, 0, 0, std::string(8, 'p'))));
}

TEST_F(ServerSessionTest, PingsFasterThanTheClientReadsTheirAnswersAreAFlood) {
  Limits limits;
  limits.max_outbound_ack = 100;
  make(limits);
  std::string flood = opening();
  for (int i = 0; i < 300; ++i) {
    flood += frame(kPing, 0, 0, std::string(8, 'p'));
  }
  // Nothing sent meanwhile: the acknowledgements pile up.
  EXPECT_FALSE(server_->receive(flood));
  EXPECT_NE(server_->error().find("flood"), std::string::npos) << server_->error();
}

TEST_F(ServerSessionTest, ASettingsFrameWithTooManyEntriesIsRefused) {
  Limits limits;
  limits.max_settings = 4;
  make(limits);
  std::string entries;
  for (int i = 0; i < 10; ++i) {
    entries += std::string("\x00\x04\x00\x00\xff\xff", 6);  // INITIAL_WINDOW_SIZE, again
  }
  server_->receive(opening() + frame(kSettings, 0, 0, entries));
  drain();
  EXPECT_EQ(server_->goaway_sent(), static_cast<uint32_t>(NGHTTP2_ENHANCE_YOUR_CALM));
  EXPECT_TRUE(server_->finished());
}

TEST_F(ServerSessionTest, BytesThatAreNotHttp2FailAtOnce) {
  make();
  EXPECT_FALSE(server_->receive(std::string_view("GET / HTTP/1.1\r\nHost: a\r\n\r\n")));
  EXPECT_NE(server_->error().find("preface"), std::string::npos) << server_->error();
  EXPECT_TRUE(server_->finished());
}

TEST_F(ServerSessionTest, TheSessionStaysWithinItsMemoryBudget) {
  Limits limits;
  limits.memory = size_t{48} * 1024;
  limits.max_concurrent_streams = 1000;
  make(limits);
  // Streams opened and never ended: each costs nghttp2 memory until the budget is spent.
  EXPECT_FALSE(server_->receive(gets(1000, kEndHeaders)));
  EXPECT_NE(server_->error().find("memory budget of 49152 bytes"), std::string::npos)
      << server_->error();
  EXPECT_LE(server_->memory_in_use(), limits.memory);
}

TEST_F(ServerSessionTest, AGracefulShutDownLetsBegunStreamsFinish) {
  make();
  handler_.answer = false;
  Client client;
  const int32_t id = client.request("GET", "/slow");
  pump(client, *server_);
  server_->shut_down();
  pump(client, *server_);
  EXPECT_EQ(client.goaway, NGHTTP2_NO_ERROR);
  EXPECT_FALSE(server_->finished());
  ASSERT_TRUE(server_->respond(id, 204, {}, true));
  pump(client, *server_);
  EXPECT_EQ(client.responses[id].status, 204);
  EXPECT_TRUE(server_->finished());
}

TEST(PrefaceTest, ThePrefaceAndItsBeginningsAreTold) {
  EXPECT_TRUE(could_be_preface(""));
  EXPECT_TRUE(could_be_preface("PRI * HT"));
  EXPECT_TRUE(could_be_preface(kClientPreface));
  EXPECT_TRUE(could_be_preface(std::string(kClientPreface) + "more"));
  EXPECT_FALSE(could_be_preface("GET / HTTP/1.1\r\n"));
  EXPECT_FALSE(could_be_preface("PRI * HTTP/1.1"));
}

}  // namespace
}  // namespace vigil::l7::http2
