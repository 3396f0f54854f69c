// Where a body ends, over tables: every head that could be framed two ways (the smuggling
// shapes: CL.TE, TE.CL, CL.CL, an unknown or obfuscated coding) is refused with its status;
// the rest framed as RFC 9112 section 6.3 says.
#include "l7proxy/http1/framing.h"

#include <gtest/gtest.h>

#include <string>

namespace vigil::l7::http1 {
namespace {

constexpr uint64_t kMaxBody = 1 << 20;

FramingResult frame_request(const std::string& text) {
  RequestHead head;
  const ParseResult p = parse_request_head(std::span(text.data(), text.size()), {}, head);
  EXPECT_EQ(p.outcome, Parsed::kComplete) << text << p.error;
  return request_framing(head, kMaxBody);
}

TEST(RequestFramingTest, BodiesAndConnections) {
  FramingResult r = frame_request("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.framing.body, Body::kNone);
  EXPECT_TRUE(r.framing.keep_alive);
  r = frame_request(
      "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 42\r\nConnection: close\r\n\r\n");
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.framing.body, Body::kLength);
  EXPECT_EQ(r.framing.length, 42u);
  EXPECT_FALSE(r.framing.keep_alive);
  r = frame_request(
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\nExpect: "
      "100-Continue\r\n\r\n");
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.framing.body, Body::kChunked);
  EXPECT_TRUE(r.framing.expect_continue);
  r = frame_request("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_TRUE(r.framing.keep_alive) << "HTTP/1.0 keeps the connection only when asked";
  r = frame_request("GET / HTTP/1.0\r\n\r\n");
  ASSERT_TRUE(r.ok);
  EXPECT_FALSE(r.framing.keep_alive);
  r = frame_request(
      "GET /chat HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Upgrade\r\n"
      "Upgrade: websocket\r\n\r\n");
  ASSERT_TRUE(r.ok);
  EXPECT_TRUE(r.framing.upgrade);
  r = frame_request("GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n");
  ASSERT_TRUE(r.ok);
  EXPECT_FALSE(r.framing.upgrade) << "only a WebSocket is passed on";
  r = frame_request("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.framing.body, Body::kNone);
}

struct Bad {
  const char* what;
  std::string fields;  // after "POST / HTTP/1.1\r\n"
  int status;
};

class RequestFramingRefusals : public ::testing::TestWithParam<Bad> {};

TEST_P(RequestFramingRefusals, AnswerAndClose) {
  const FramingResult r = frame_request("POST / HTTP/1.1\r\n" + GetParam().fields + "\r\n");
  EXPECT_FALSE(r.ok) << GetParam().what;
  EXPECT_EQ(r.status, GetParam().status) << GetParam().what << ": " << r.error;
}

INSTANTIATE_TEST_SUITE_P(
    Table, RequestFramingRefusals,
    ::testing::Values(
        Bad{"CL.TE", "Host: a\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n", 400},
        Bad{"TE.CL", "Host: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 6\r\n", 400},
        Bad{"CL.CL, different", "Host: a\r\nContent-Length: 6\r\nContent-Length: 5\r\n", 400},
        Bad{"CL.CL, the same", "Host: a\r\nContent-Length: 6\r\nContent-Length: 6\r\n", 400},
        Bad{"CL as a list", "Host: a\r\nContent-Length: 6, 6\r\n", 400},
        Bad{"CL with a sign", "Host: a\r\nContent-Length: +6\r\n", 400},
        Bad{"CL in hex", "Host: a\r\nContent-Length: 0x6\r\n", 400},
        Bad{"CL empty", "Host: a\r\nContent-Length:\r\n", 400},
        Bad{"CL past 64 bits", "Host: a\r\nContent-Length: 99999999999999999999\r\n", 400},
        Bad{"CL past the limit", "Host: a\r\nContent-Length: 1048577\r\n", 413},
        Bad{"TE obfuscated", "Host: a\r\nTransfer-Encoding: xchunked\r\n", 501},
        Bad{"TE with a quote", "Host: a\r\nTransfer-Encoding: \"chunked\"\r\n", 501},
        Bad{"TE chunked twice", "Host: a\r\nTransfer-Encoding: chunked, chunked\r\n", 501},
        Bad{"TE in two fields",
            "Host: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: "
            "chunked\r\n",
            501},
        Bad{"TE gzip then chunked", "Host: a\r\nTransfer-Encoding: gzip, chunked\r\n", 501},
        Bad{"TE identity", "Host: a\r\nTransfer-Encoding: identity\r\n", 501},
        Bad{"no Host", "Content-Length: 1\r\n", 400},
        Bad{"two Hosts", "Host: a\r\nHost: b\r\n", 400},
        Bad{"an expectation unknown", "Host: a\r\nExpect: 200-ok\r\n", 417}));

TEST(RequestFramingTest, TransferEncodingInHttp10IsRefused) {
  const FramingResult r = frame_request("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n");
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.status, 400);
}

FramingResult frame_response(const std::string& text, std::string_view method = "GET") {
  ResponseHead head;
  const ParseResult p = parse_response_head(std::span(text.data(), text.size()), {}, head);
  EXPECT_EQ(p.outcome, Parsed::kComplete) << text << p.error;
  return response_framing(head, method);
}

TEST(ResponseFramingTest, BodiesAsTheRequestAndStatusSay) {
  FramingResult r = frame_response("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.framing.body, Body::kLength);
  r = frame_response("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", "HEAD");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.framing.body, Body::kNone) << "a HEAD's response has no body";
  for (const char* no_body : {"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n",
                              "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n",
                              "HTTP/1.1 100 Continue\r\n\r\n"}) {
    r = frame_response(no_body);
    ASSERT_TRUE(r.ok) << no_body;
    EXPECT_EQ(r.framing.body, Body::kNone) << no_body;
  }
  r = frame_response("HTTP/1.1 200 OK\r\n\r\n");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.framing.body, Body::kUntilClose);
  EXPECT_FALSE(r.framing.keep_alive);
  ResponseHead switched;
  const std::string text = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n";
  ASSERT_EQ(parse_response_head(std::span(text.data(), text.size()), {}, switched).outcome,
            Parsed::kComplete);
  r = response_framing(switched, "GET", /*upgrade_asked=*/true);
  ASSERT_TRUE(r.ok);
  EXPECT_TRUE(r.framing.upgrade);
  r = response_framing(switched, "GET", /*upgrade_asked=*/false);
  EXPECT_FALSE(r.ok) << "a 101 to a request that asked no upgrade";
  EXPECT_EQ(r.status, 502);
  r = frame_response("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", "head");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.framing.body, Body::kLength) << "methods are case-sensitive: head is not HEAD";
  r = frame_response("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
  ASSERT_TRUE(r.ok);
  EXPECT_FALSE(r.framing.keep_alive) << "HTTP/1.0 with Transfer-Encoding is faulty";
  for (const char* bad :
       {"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"}) {
    r = frame_response(bad);
    EXPECT_FALSE(r.ok) << bad;
    EXPECT_EQ(r.status, 502) << bad;
  }
}

}  // namespace
}  // namespace vigil::l7::http1
