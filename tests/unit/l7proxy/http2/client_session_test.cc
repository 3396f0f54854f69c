// The HTTP/2 client session against the server session (both sides of the proxy's HTTP/2,
// over bytes in memory): requests and responses with and without bodies, bodies past the
// flow-control windows, the server's stream limit and GOAWAY, resets, responses past the
// limits and bytes that are not HTTP/2.
#include "l7proxy/http2/client_session.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "l7proxy/http2/server_session.h"

namespace vigil::l7::http2 {
namespace {

struct ServerSide : ServerSession::Handler {
  void on_request(int32_t stream, RequestHead&& head) override {
    requests[stream] = std::move(head);
  }
  void on_request_data(int32_t stream, std::span<const char> data) override {
    bodies[stream].append(data.data(), data.size());
    session->consumed(stream, data.size());
  }
  void on_request_end(int32_t stream) override {
    if (!answer) {
      return;
    }
    const Header fields[] = {{"content-type", "text/plain"}, {"x-extra", extra}};
    ASSERT_TRUE(session->respond(stream, 200, fields, reply.empty()));
    if (!reply.empty()) {
      pending[stream] = reply;
    }
  }
  void on_stream_close(int32_t stream, uint32_t error) override { closed[stream] = error; }
  // Queues what the responses still owe, as far as the session takes it.
  void feed() {
    for (auto& [stream, left] : pending) {
      const size_t n = session->queue_body(stream, left, true);
      left.erase(0, n);
    }
    std::erase_if(pending, [](const auto& p) { return p.second.empty(); });
  }

  ServerSession* session = nullptr;
  bool answer = true;
  std::string reply = "hello";
  std::string extra = "x";
  std::map<int32_t, RequestHead> requests;
  std::map<int32_t, std::string> bodies;
  std::map<int32_t, std::string> pending;
  std::map<int32_t, uint32_t> closed;
};

struct ClientSide : ClientSession::Handler {
  void on_response(int32_t stream, ResponseHead&& head) override {
    responses[stream] = std::move(head);
  }
  void on_response_data(int32_t stream, std::span<const char> data) override {
    bodies[stream].append(data.data(), data.size());
    if (consume) {
      session->consumed(stream, data.size());
    }
  }
  void on_response_end(int32_t stream) override { ended[stream] = true; }
  void on_stream_close(int32_t stream, uint32_t error) override { closed[stream] = error; }

  ClientSession* session = nullptr;
  bool consume = true;
  std::map<int32_t, ResponseHead> responses;
  std::map<int32_t, std::string> bodies;
  std::map<int32_t, bool> ended;
  std::map<int32_t, uint32_t> closed;
};

struct Pair {
  explicit Pair(const Limits& server_limits = {}, const ClientLimits& client_limits = {})
      : server(server_side, server_limits), client(client_side, client_limits) {
    server_side.session = &server;
    client_side.session = &client;
  }
  // Bytes both ways until neither side has anything more to say; each round the server
  // queues what its responses still owe, and `body` (if any) more of the request's.
  void pump(int32_t stream = 0, std::string* body = nullptr) {
    for (int round = 0; round < 10000; ++round) {
      if (body != nullptr && !body->empty()) {
        body->erase(0, client.queue_body(stream, *body, true));
      }
      server_side.feed();
      ByteBuffer up(size_t{4} << 20);
      ASSERT_TRUE(client.send(up, size_t{4} << 20)) << client.error();
      if (!up.empty()) {
        ASSERT_TRUE(server.receive(up.view())) << server.error();
      }
      ByteBuffer down(size_t{4} << 20);
      ASSERT_TRUE(server.send(down, size_t{4} << 20)) << server.error();
      if (!down.empty()) {
        ASSERT_TRUE(client.receive(down.view())) << client.error();
      }
      if (up.empty() && down.empty() && (body == nullptr || body->empty()) &&
          server_side.pending.empty()) {
        return;
      }
    }
    FAIL() << "the two sides never went quiet";
  }

  ServerSide server_side;
  ClientSide client_side;
  ServerSession server;
  ClientSession client;
};

RequestHead get(std::string path) {
  RequestHead head;
  head.method = "GET";
  head.scheme = "http";
  head.authority = "backend.example";
  head.path = std::move(path);
  head.end_stream = true;
  return head;
}

TEST(ClientSession, GetWithoutBodyAndTheResponseWithOne) {
  Pair p;
  RequestHead head = get("/a?b=c");
  // An HTTP/1.1 request's fields as they came: their case kept, the connection's own among
  // them. HTTP/2 takes neither.
  head.headers = {{"Accept", "text/plain"},    {"Connection", "keep-alive"},
                  {"Keep-Alive", "timeout=5"}, {"Transfer-Encoding", "chunked"},
                  {"Upgrade", "websocket"},    {"TE", "gzip"},
                  {"x-request-id", "42"}};
  const int32_t id = p.client.submit(head);
  ASSERT_GT(id, 0);
  p.pump();
  ASSERT_EQ(p.server_side.requests.count(id), 1u);
  const RequestHead& seen = p.server_side.requests[id];
  EXPECT_EQ(seen.method, "GET");
  EXPECT_EQ(seen.scheme, "http");
  EXPECT_EQ(seen.authority, "backend.example");
  EXPECT_EQ(seen.path, "/a?b=c");
  ASSERT_EQ(seen.headers.size(), 2u);
  EXPECT_EQ(seen.headers[0].name, "accept");
  EXPECT_EQ(seen.headers[1].name, "x-request-id");
  ASSERT_EQ(p.client_side.responses.count(id), 1u);
  EXPECT_EQ(p.client_side.responses[id].status, 200);
  EXPECT_FALSE(p.client_side.responses[id].end_stream);
  ASSERT_EQ(p.client_side.responses[id].headers.size(), 2u);
  EXPECT_EQ(p.client_side.responses[id].headers[0].name, "content-type");
  EXPECT_EQ(p.client_side.bodies[id], "hello");
  EXPECT_TRUE(p.client_side.ended[id]);
  ASSERT_EQ(p.client_side.closed.count(id), 1u);
  EXPECT_EQ(p.client_side.closed[id], 0u);
  EXPECT_EQ(p.client.open_streams(), 0u);
}

TEST(ClientSession, AResponseWithoutBodyEndsWithItsHead) {
  Pair p;
  p.server_side.reply.clear();
  const int32_t id = p.client.submit(get("/"));
  p.pump();
  ASSERT_EQ(p.client_side.responses.count(id), 1u);
  EXPECT_TRUE(p.client_side.responses[id].end_stream);
  EXPECT_TRUE(p.client_side.ended[id]);
  EXPECT_EQ(p.client_side.closed[id], 0u);
}

TEST(ClientSession, BodiesBothWaysPastTheWindows) {
  Limits server_limits;
  server_limits.stream_window = 65535;
  ClientLimits client_limits;
  client_limits.stream_window = 65535;
  client_limits.stream_output = size_t{16} * 1024;  // the request body goes up in pieces
  Pair p(server_limits, client_limits);
  std::string upload(size_t{3} << 20, 'u');
  for (size_t i = 0; i < upload.size(); i += 4096) {
    upload[i] = static_cast<char>('a' + i / 4096 % 26);
  }
  const std::string sent = upload;
  p.server_side.reply = std::string(size_t{2} << 20, 'd');
  RequestHead head = get("/upload");
  head.method = "POST";
  head.end_stream = false;
  const int32_t id = p.client.submit(head);
  ASSERT_GT(id, 0);
  p.pump(id, &upload);
  EXPECT_EQ(p.server_side.bodies[id].size(), sent.size());
  EXPECT_TRUE(p.server_side.bodies[id] == sent);
  EXPECT_EQ(p.client_side.bodies[id].size(), size_t{2} << 20);
  EXPECT_TRUE(p.client_side.ended[id]);
  EXPECT_EQ(p.client_side.closed[id], 0u);
}

TEST(ClientSession, AResponseBodyNotPassedOnHoldsTheServerToItsWindow) {
  ClientLimits client_limits;
  client_limits.stream_window = 65535;
  client_limits.connection_window = 65535;
  Pair p({}, client_limits);
  p.client_side.consume = false;
  p.server_side.reply = std::string(size_t{1} << 20, 'd');
  const int32_t id = p.client.submit(get("/big"));
  for (int i = 0; i < 50; ++i) {  // pump() would wait for the server's whole reply
    p.server_side.feed();
    ByteBuffer up(size_t{1} << 20), down(size_t{4} << 20);
    ASSERT_TRUE(p.client.send(up, size_t{1} << 20));
    ASSERT_TRUE(p.server.receive(up.view()));
    ASSERT_TRUE(p.server.send(down, size_t{4} << 20));
    ASSERT_TRUE(p.client.receive(down.view()));
  }
  EXPECT_EQ(p.client_side.bodies[id].size(), 65535u);
  EXPECT_FALSE(p.client_side.ended[id]);
  p.client.consumed(id, p.client_side.bodies[id].size());
  p.client_side.consume = true;
  p.pump();
  EXPECT_EQ(p.client_side.bodies[id].size(), size_t{1} << 20);
  EXPECT_TRUE(p.client_side.ended[id]);
}

TEST(ClientSession, OpensNoMoreStreamsThanTheServerTakes) {
  Limits server_limits;
  server_limits.max_concurrent_streams = 2;
  Pair p(server_limits);
  p.server_side.answer = false;
  EXPECT_EQ(p.client.stream_slots(), 100u);  // before the server's SETTINGS
  ByteBuffer first(size_t{1} << 16);
  ASSERT_TRUE(p.client.send(first, size_t{1} << 16));
  ASSERT_TRUE(p.server.receive(first.view()));
  p.pump();
  EXPECT_EQ(p.client.stream_slots(), 2u);
  const int32_t a = p.client.submit(get("/a"));
  const int32_t b = p.client.submit(get("/b"));
  EXPECT_GT(a, 0);
  EXPECT_GT(b, 0);
  EXPECT_EQ(p.client.stream_slots(), 0u);
  EXPECT_EQ(p.client.submit(get("/c")), 0);
  p.pump();
  EXPECT_EQ(p.server_side.requests.size(), 2u);
  p.client.reset(a, NGHTTP2_CANCEL);
  p.pump();
  EXPECT_EQ(p.client_side.closed[a], static_cast<uint32_t>(NGHTTP2_CANCEL));
  EXPECT_EQ(p.server_side.closed[a], static_cast<uint32_t>(NGHTTP2_CANCEL));
  EXPECT_EQ(p.client.stream_slots(), 1u);
}

TEST(ClientSession, TheServersGoawayEndsNewStreamsNotTheOpenOnes) {
  Pair p;
  p.server_side.answer = false;
  const int32_t id = p.client.submit(get("/slow"));
  p.pump();
  p.server.shut_down();
  p.pump();
  EXPECT_TRUE(p.client.going_away());
  EXPECT_EQ(p.client.stream_slots(), 0u);
  EXPECT_EQ(p.client.submit(get("/late")), 0);
  const Header none[] = {{"content-length", "0"}};
  ASSERT_TRUE(p.server.respond(id, 204, none, true));
  p.pump();
  EXPECT_EQ(p.client_side.responses[id].status, 204);
  EXPECT_EQ(p.client_side.closed[id], 0u);
  EXPECT_TRUE(p.client.finished());
}

TEST(ClientSession, AServerResetClosesTheStreamInError) {
  Pair p;
  p.server_side.answer = false;
  const int32_t id = p.client.submit(get("/"));
  p.pump();
  p.server.reset(id, NGHTTP2_REFUSED_STREAM);
  p.pump();
  EXPECT_EQ(p.client_side.responses.count(id), 0u);
  EXPECT_EQ(p.client_side.closed[id], static_cast<uint32_t>(NGHTTP2_REFUSED_STREAM));
}

TEST(ClientSession, AResponseHeadPastTheLimitsResetsItsStream) {
  ClientLimits client_limits;
  client_limits.max_header_bytes = 4096;
  Pair p({}, client_limits);
  p.server_side.extra = std::string(8000, 'x');
  const int32_t id = p.client.submit(get("/"));
  p.pump();
  EXPECT_EQ(p.client_side.responses.count(id), 0u);
  ASSERT_EQ(p.client_side.closed.count(id), 1u);
  EXPECT_NE(p.client_side.closed[id], 0u);
  // The session goes on: the next stream is answered.
  p.server_side.extra = "x";
  const int32_t next = p.client.submit(get("/next"));
  p.pump();
  EXPECT_EQ(p.client_side.responses[next].status, 200);
}

TEST(ClientSession, BytesThatAreNotHttp2FailTheSessionAndCloseItsStreams) {
  Pair p;
  const int32_t id = p.client.submit(get("/"));
  ByteBuffer up(size_t{1} << 16);
  ASSERT_TRUE(p.client.send(up, size_t{1} << 16));
  // A connection error: nghttp2 queues GOAWAY PROTOCOL_ERROR (or fails at once); once it is
  // out the session is over.
  if (p.client.receive(std::string_view("HTTP/1.1 200 OK\r\n\r\n"))) {
    ByteBuffer goaway(size_t{1} << 16);
    p.client.send(goaway, size_t{1} << 16);
  }
  EXPECT_TRUE(p.client.finished());
  EXPECT_TRUE(p.client.going_away());
  EXPECT_FALSE(p.client.error().empty());
  EXPECT_EQ(p.client_side.closed.count(id), 1u);
  EXPECT_NE(p.client_side.closed[id], 0u);
  EXPECT_EQ(p.client.open_streams(), 0u);
  EXPECT_EQ(p.client.submit(get("/again")), 0);
}

TEST(ClientSession, OurOwnGoawayLetsOpenStreamsFinish) {
  Pair p;
  p.server_side.answer = false;
  const int32_t id = p.client.submit(get("/"));
  p.pump();
  p.client.shut_down();
  EXPECT_EQ(p.client.stream_slots(), 0u);
  p.pump();
  EXPECT_FALSE(p.client.finished());
  const Header none[] = {{"content-length", "0"}};
  ASSERT_TRUE(p.server.respond(id, 200, none, true));
  p.pump();
  EXPECT_EQ(p.client_side.responses[id].status, 200);
  EXPECT_TRUE(p.client.finished());
}

// A bare nghttp2 server, for what the proxy's own server never sends: informational heads,
// a reset "without error" in the middle of a body, a reset of an answered stream as refused.
struct BareServer {
  BareServer() {
    nghttp2_session_callbacks* cb = nullptr;
    nghttp2_session_callbacks_new(&cb);
    nghttp2_session_callbacks_set_on_frame_recv_callback(
        cb, [](nghttp2_session*, const nghttp2_frame* f, void* self) {
          if (f->hd.type == NGHTTP2_HEADERS && f->headers.cat == NGHTTP2_HCAT_REQUEST) {
            static_cast<BareServer*>(self)->requests.push_back(f->hd.stream_id);
          }
          return 0;
        });
    nghttp2_session_server_new(&session, cb, this);
    nghttp2_session_callbacks_del(cb);
    nghttp2_submit_settings(session, NGHTTP2_FLAG_NONE, nullptr, 0);
  }
  ~BareServer() { nghttp2_session_del(session); }
  void head(int32_t stream, std::string_view status, bool end, std::string_view name = "",
            std::string_view value = "") {
    nghttp2_nv nv[2] = {{const_cast<uint8_t*>(reinterpret_cast<const uint8_t*>(":status")),
                         const_cast<uint8_t*>(reinterpret_cast<const uint8_t*>(status.data())), 7,
                         status.size(), NGHTTP2_NV_FLAG_NONE},
                        {const_cast<uint8_t*>(reinterpret_cast<const uint8_t*>(name.data())),
                         const_cast<uint8_t*>(reinterpret_cast<const uint8_t*>(value.data())),
                         name.size(), value.size(), NGHTTP2_NV_FLAG_NONE}};
    ASSERT_EQ(nghttp2_submit_headers(session, end ? NGHTTP2_FLAG_END_STREAM : NGHTTP2_FLAG_NONE,
                                     stream, nullptr, nv, name.empty() ? 1 : 2, nullptr),
              0);
  }
  void data(int32_t stream, std::string bytes) {
    body = std::move(bytes);
    nghttp2_data_provider provider{};
    provider.source.ptr = &body;
    provider.read_callback = [](nghttp2_session*, int32_t, uint8_t* buf, size_t length,
                                uint32_t* flags, nghttp2_data_source* source, void*) -> ssize_t {
      auto& left = *static_cast<std::string*>(source->ptr);
      const size_t n = std::min(length, left.size());
      left.copy(reinterpret_cast<char*>(buf), n);
      left.erase(0, n);
      if (left.empty()) {
        *flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
      }
      return static_cast<ssize_t>(n);
    };
    ASSERT_EQ(nghttp2_submit_data(session, NGHTTP2_FLAG_NONE, stream, &provider), 0);
  }
  // Both ways until quiet.
  void pump(ClientSession& client) {
    for (int round = 0; round < 100; ++round) {
      ByteBuffer up(size_t{1} << 20);
      ASSERT_TRUE(client.send(up, size_t{1} << 20));
      if (!up.empty()) {
        ASSERT_GE(nghttp2_session_mem_recv(
                      session, reinterpret_cast<const uint8_t*>(up.data().data()), up.size()),
                  0);
      }
      std::string down;
      const uint8_t* frames = nullptr;
      for (ssize_t n; (n = nghttp2_session_mem_send(session, &frames)) > 0;) {
        down.append(reinterpret_cast<const char*>(frames), static_cast<size_t>(n));
      }
      if (!down.empty()) {
        ASSERT_TRUE(client.receive(down));
      }
      if (up.empty() && down.empty()) {
        return;
      }
    }
  }

  nghttp2_session* session = nullptr;
  std::vector<int32_t> requests;
  std::string body;
};

TEST(ClientSession, InformationalHeadsAreDroppedAndTheFinalOneComesWhole) {
  BareServer server;
  ClientSide side;
  ClientSession client(side, {});
  side.session = &client;
  const int32_t id = client.submit(get("/"));
  server.pump(client);
  ASSERT_EQ(server.requests.size(), 1u);
  // Many 103s, each with a large field: none is kept once the next head begins.
  for (int i = 0; i < 50; ++i) {
    server.head(id, "103", false, "link", std::string(3000, 'l'));
  }
  server.head(id, "100", false);
  server.head(id, "200", false, "x-final", "yes");
  server.data(id, "hello");
  server.pump(client);
  EXPECT_LT(client.memory_in_use(), size_t{256} * 1024);
  ASSERT_EQ(side.responses.count(id), 1u);
  EXPECT_EQ(side.responses[id].status, 200);
  ASSERT_EQ(side.responses[id].headers.size(), 1u);
  EXPECT_EQ(side.responses[id].headers[0].name, "x-final");
  EXPECT_EQ(side.bodies[id], "hello");
}

TEST(ClientSession, AResetWithoutErrorBeforeTheEndIsNotAWholeResponse) {
  BareServer server;
  ClientSide side;
  ClientSession client(side, {});
  side.session = &client;
  const int32_t id = client.submit(get("/"));
  server.pump(client);
  server.head(id, "200", false);
  server.data(id, "partial");
  server.pump(client);
  nghttp2_submit_rst_stream(server.session, NGHTTP2_FLAG_NONE, id, NGHTTP2_NO_ERROR);
  server.pump(client);
  EXPECT_EQ(side.bodies[id], "partial");
  EXPECT_FALSE(side.ended[id]);
  EXPECT_EQ(side.closed[id], static_cast<uint32_t>(NGHTTP2_INTERNAL_ERROR));
}

TEST(ClientSession, AnAnsweredStreamRefusedIsNotOneToSendAgain) {
  BareServer server;
  ClientSide side;
  ClientSession client(side, {});
  side.session = &client;
  const int32_t id = client.submit(get("/"));
  server.pump(client);
  server.head(id, "200", false);
  server.pump(client);
  nghttp2_submit_rst_stream(server.session, NGHTTP2_FLAG_NONE, id, NGHTTP2_REFUSED_STREAM);
  server.pump(client);
  EXPECT_EQ(side.closed[id], static_cast<uint32_t>(NGHTTP2_INTERNAL_ERROR));
}

TEST(ClientSession, AStreamStillQueuedInNghttp2ClosesAtOnceWhenReset) {
  Limits server_limits;
  server_limits.max_concurrent_streams = 1;
  Pair p(server_limits);
  p.server_side.answer = false;
  // Both opened before the server's SETTINGS came: the second waits in nghttp2's queue.
  const int32_t a = p.client.submit(get("/a"));
  const int32_t b = p.client.submit(get("/b"));
  ASSERT_GT(b, 0);
  ByteBuffer down(size_t{1} << 16);
  ASSERT_TRUE(p.server.send(down, size_t{1} << 16));
  ASSERT_TRUE(p.client.receive(down.view()));
  p.pump();
  EXPECT_EQ(p.server_side.requests.count(b), 0u);
  p.client.reset(b, NGHTTP2_CANCEL);
  EXPECT_EQ(p.client_side.closed.count(b), 1u);
  EXPECT_EQ(p.client.open_streams(), 1u);
  p.pump();
  EXPECT_EQ(p.client_side.closed.count(a), 0u);
}

TEST(ClientSession, AHandlerClosingEveryStreamInsideAResponseIsSafe) {
  Pair p;
  p.server_side.reply.clear();
  struct Closer : ClientSide {
    void on_response(int32_t stream, ResponseHead&& head) override {
      ClientSide::on_response(stream, std::move(head));
      session->close_streams(NGHTTP2_CANCEL);
    }
  } closer;
  ClientSession client(closer, {});
  closer.session = &client;
  ServerSide server_side;
  ServerSession server(server_side, {});
  server_side.session = &server;
  server_side.reply.clear();
  const int32_t id = client.submit(get("/"));
  for (int i = 0; i < 10; ++i) {
    ByteBuffer up(size_t{1} << 16), down(size_t{1} << 16);
    ASSERT_TRUE(client.send(up, size_t{1} << 16));
    ASSERT_TRUE(server.receive(up.view()));
    ASSERT_TRUE(server.send(down, size_t{1} << 16));
    ASSERT_TRUE(client.receive(down.view()));
  }
  EXPECT_EQ(closer.responses.count(id), 1u);
  EXPECT_FALSE(closer.ended[id]);  // closed inside the response: no end after the close
  EXPECT_EQ(closer.closed[id], static_cast<uint32_t>(NGHTTP2_CANCEL));
  EXPECT_EQ(client.submit(get("/again")), 0);
}

}  // namespace
}  // namespace vigil::l7::http2
