// The HTTP/1 head parser over tables: heads it takes (and what it makes of them), heads it
// waits for, and every malformed or smuggling shape it refuses, with the status it answers.
#include "l7proxy/http1/message_head.h"

#include <gtest/gtest.h>

#include <string>

namespace vigil::l7::http1 {
namespace {

ParseResult request(const std::string& text, RequestHead& head, const Limits& limits = {}) {
  return parse_request_head(std::span(text.data(), text.size()), limits, head);
}

TEST(RequestHeadTest, AWholeHeadIsTakenWithItsFields) {
  const std::string text =
      "GET /a/b?c=d HTTP/1.1\r\nHost: example.net\r\nX-Empty:\r\nAccept:  */* \t\r\n\r\nBODY";
  RequestHead head;
  const ParseResult r = request(text, head);
  ASSERT_EQ(r.outcome, Parsed::kComplete) << r.error;
  EXPECT_EQ(r.consumed, text.size() - 4);
  EXPECT_EQ(head.method, "GET");
  EXPECT_EQ(head.target, "/a/b?c=d");
  EXPECT_EQ(head.minor_version, 1);
  ASSERT_EQ(head.headers.size(), 3u);
  EXPECT_EQ(head.headers[0].name, "Host");
  EXPECT_EQ(head.headers[0].value, "example.net");
  EXPECT_EQ(head.headers[1].value, "");
  EXPECT_EQ(head.headers[2].value, "*/*") << "whitespace around a value is not part of it";
}

TEST(RequestHeadTest, EmptyLinesBeforeARequestAreSkippedAndHttp10IsTaken) {
  const std::string text = "\r\n\r\nPOST * HTTP/1.0\r\n\r\n";
  RequestHead head;
  const ParseResult r = request(text, head);
  ASSERT_EQ(r.outcome, Parsed::kComplete) << r.error;
  EXPECT_EQ(r.consumed, text.size());
  EXPECT_EQ(head.minor_version, 0);
  EXPECT_TRUE(head.headers.empty());
}

TEST(RequestHeadTest, EveryPrefixOfAGoodHeadWaitsForMore) {
  const std::string text = "GET / HTTP/1.1\r\nHost: a\r\nX: y\r\n\r\n";
  RequestHead head;
  for (size_t n = 0; n < text.size(); ++n) {
    EXPECT_EQ(request(text.substr(0, n), head).outcome, Parsed::kIncomplete) << n;
  }
  EXPECT_EQ(request(text, head).outcome, Parsed::kComplete);
}

struct Bad {
  const char* what;
  std::string text;
  int status;
};

class RequestHeadRefusals : public ::testing::TestWithParam<Bad> {};

TEST_P(RequestHeadRefusals, AnswerAndClose) {
  RequestHead head;
  Limits limits;
  limits.max_head_bytes = 1024;
  limits.max_headers = 4;
  limits.max_target_bytes = 64;
  const ParseResult r = request(GetParam().text, head, limits);
  EXPECT_EQ(r.outcome, Parsed::kError) << GetParam().what;
  EXPECT_EQ(r.status, GetParam().status) << GetParam().what << ": " << r.error;
  EXPECT_FALSE(r.error.empty());
}

INSTANTIATE_TEST_SUITE_P(
    Table, RequestHeadRefusals,
    ::testing::Values(
        Bad{"bare LF ends the request line", "GET / HTTP/1.1\nHost: a\r\n\r\n", 400},
        Bad{"bare LF ends a field", "GET / HTTP/1.1\r\nHost: a\n\r\n", 400},
        Bad{"bare CR in a field", "GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", 400},
        Bad{"obs-fold", "GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n  c\r\n\r\n", 400},
        Bad{"tab fold", "GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n\tc\r\n\r\n", 400},
        Bad{"space before the colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400},
        Bad{"tab before the colon", "GET / HTTP/1.1\r\nContent-Length\t: 5\r\n\r\n", 400},
        Bad{"no colon", "GET / HTTP/1.1\r\nHost a\r\n\r\n", 400},
        Bad{"empty name", "GET / HTTP/1.1\r\n: a\r\n\r\n", 400},
        Bad{"name not a token", "GET / HTTP/1.1\r\nX(y): a\r\n\r\n", 400},
        Bad{"NUL in a value", std::string("GET / HTTP/1.1\r\nX: a") + '\0' + "b\r\n\r\n", 400},
        Bad{"DEL in a value", "GET / HTTP/1.1\r\nX: a\x7f\r\n\r\n", 400},
        Bad{"two spaces in the request line", "GET  / HTTP/1.1\r\n\r\n", 400},
        Bad{"a tab for a space", "GET\t/ HTTP/1.1\r\n\r\n", 400},
        Bad{"no version", "GET /\r\n\r\n", 400},
        Bad{"a space in the target", "GET /a b HTTP/1.1\r\n\r\n", 400},
        Bad{"a high byte in the target", "GET /\xc3\xa9 HTTP/1.1\r\n\r\n", 400},
        Bad{"method not a token", "G@T / HTTP/1.1\r\n\r\n", 400},
        Bad{"lower-case version", "GET / http/1.1\r\n\r\n", 400},
        Bad{"version with three digits", "GET / HTTP/1.10\r\n\r\n", 400},
        Bad{"HTTP/2 on an HTTP/1 connection", "GET / HTTP/2.0\r\n\r\n", 505},
        Bad{"HTTP/1.2", "GET / HTTP/1.2\r\n\r\n", 505},
        Bad{"a target past its limit", "GET /" + std::string(100, 'a') + " HTTP/1.1\r\n\r\n", 414},
        Bad{"a target past its limit, still coming", "GET /" + std::string(200, 'a'), 414},
        Bad{"more fields than the limit",
            "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\n\r\n", 431},
        Bad{"a head past its limit", "GET / HTTP/1.1\r\nX: " + std::string(1100, 'a'), 431}));

ParseResult response(const std::string& text, ResponseHead& head) {
  return parse_response_head(std::span(text.data(), text.size()), Limits{}, head);
}

TEST(ResponseHeadTest, StatusLinesWithAndWithoutAReason) {
  ResponseHead head;  // its views point into the texts: they outlive it
  const std::string not_found = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
  const std::string ok = "HTTP/1.0 200\r\n\r\n";
  ParseResult r = response(not_found, head);
  ASSERT_EQ(r.outcome, Parsed::kComplete) << r.error;
  EXPECT_EQ(head.status, 404);
  EXPECT_EQ(head.reason, "Not Found");
  ASSERT_EQ(head.headers.size(), 1u);
  r = response(ok, head);
  ASSERT_EQ(r.outcome, Parsed::kComplete) << r.error;
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.minor_version, 0);
  EXPECT_EQ(head.reason, "");
  EXPECT_EQ(response("HTTP/1.1 204 \r\n\r\n", head).outcome, Parsed::kComplete);
}

TEST(ResponseHeadTest, AMalformedResponseIsABadGateway) {
  ResponseHead head;
  for (const char* bad : {"HTTP/1.1 20 OK\r\n\r\n", "HTTP/1.1 2000 OK\r\n\r\n",
                          "HTTP/1.1 099 Hm\r\n\r\n", "HTTP/2 200 OK\r\n\r\n", "ICY 200 OK\r\n\r\n",
                          "HTTP/1.1 200 OK\nX: y\r\n\r\n", "HTTP/1.1 200 OK\r\n X: y\r\n\r\n",
                          "HTTP/1.1 200 O\x01K\r\n\r\n", "HTTP/1.1 200 OK\r\nX : y\r\n\r\n"}) {
    const ParseResult r = response(bad, head);
    EXPECT_EQ(r.outcome, Parsed::kError) << bad;
    EXPECT_EQ(r.status, 502) << bad;
  }
}

TEST(MessageHeadTest, NamesCompareWithoutCase) {
  EXPECT_TRUE(iequals("Content-Length", "content-length"));
  EXPECT_FALSE(iequals("Content-Length", "content-lengthx"));
  EXPECT_FALSE(iequals("K", "\xcb"));  // no locale: only ASCII letters fold
  EXPECT_EQ(trim_ows(" \t a b \t"), "a b");
}

}  // namespace
}  // namespace vigil::l7::http1
