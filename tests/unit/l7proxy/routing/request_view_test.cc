// What routing sees of a request, and the upstream is sent: the host from the target or the
// Host field, checked and normalised; the path normalised (escapes, "//", dot segments also as
// %2e or with ;params), never above the root; the query apart; and every target that could be
// read two ways refused.
#include "l7proxy/routing/request_view.h"

#include <gtest/gtest.h>

namespace vigil::l7 {
namespace {

RequestView view_of(const std::string& text, http1::RequestHead& head) {
  const auto r = http1::parse_request_head(std::span(text.data(), text.size()), {}, head);
  EXPECT_EQ(r.outcome, http1::Parsed::kComplete) << r.error;
  return RequestView::from(head);
}

TEST(RequestViewTest, HostPathAndQuery) {
  http1::RequestHead head;
  const std::string text = "GET /a/./b/../c?x=1&y HTTP/1.1\r\nHost: WWW.Example.com:8443\r\n\r\n";
  const RequestView v = view_of(text, head);
  EXPECT_EQ(v.host, "www.example.com");
  EXPECT_EQ(v.path, "/a/c");
  EXPECT_EQ(v.query, "x=1&y");
  EXPECT_EQ(v.method, "GET");
}

TEST(RequestViewTest, AnAbsoluteTargetNamesTheHostOverTheHostField) {
  http1::RequestHead head;
  const std::string text = "GET http://API.example.net:8080/v1?q HTTP/1.1\r\nHost: other\r\n\r\n";
  const RequestView v = view_of(text, head);
  EXPECT_EQ(v.refuse_status, 0) << v.error;
  EXPECT_EQ(v.host, "api.example.net");
  EXPECT_EQ(v.authority, "API.example.net:8080") << "sent on as Host, port and all";
  EXPECT_EQ(v.path, "/v1");
  EXPECT_EQ(v.query, "q");
  const std::string bare = "GET https://b.example?x HTTP/1.1\r\nHost: b.example\r\n\r\n";
  const RequestView w = view_of(bare, head);
  EXPECT_EQ(w.path, "/");
  EXPECT_EQ(w.query, "x");
}

TEST(RequestViewTest, PathsAreNormalisedAsUpstreamsWouldReadThem) {
  std::string_view error;
  EXPECT_EQ(normalize_path("/%61dmin", error), "/admin");
  EXPECT_EQ(normalize_path("//admin", error), "/admin");
  EXPECT_EQ(normalize_path("/public/..;/admin", error), "/admin");
  EXPECT_EQ(normalize_path("/public/%2e%2e/admin", error), "/admin");
  EXPECT_EQ(normalize_path("/%7euser/a%3fb", error), "/~user/a%3Fb")
      << "unreserved decoded, reserved kept encoded in upper case";
}

struct Refused {
  const char* what;
  std::string text;
  int status;
};

class RequestViewRefusals : public ::testing::TestWithParam<Refused> {};

TEST_P(RequestViewRefusals, RouteNothing) {
  http1::RequestHead head;
  const RequestView v = view_of(GetParam().text, head);
  EXPECT_EQ(v.refuse_status, GetParam().status) << GetParam().what << ": " << v.error;
}

INSTANTIATE_TEST_SUITE_P(
    Table, RequestViewRefusals,
    ::testing::Values(
        Refused{"a target that is not a path or URI",
                "GET x?u=http://admin/y HTTP/1.1\r\nHost: a\r\n\r\n", 400},
        Refused{"another scheme", "GET ftp://a/x HTTP/1.1\r\nHost: a\r\n\r\n", 400},
        Refused{"userinfo", "GET http://u@a/x HTTP/1.1\r\nHost: a\r\n\r\n", 400},
        Refused{"an empty authority", "GET http:///x HTTP/1.1\r\nHost: a\r\n\r\n", 400},
        Refused{"CONNECT", "CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n", 501},
        Refused{"* for GET", "GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400},
        Refused{"an encoded slash", "GET /public/..%2fadmin HTTP/1.1\r\nHost: a\r\n\r\n", 400},
        Refused{"an encoded backslash", "GET /a%5Cb HTTP/1.1\r\nHost: a\r\n\r\n", 400},
        Refused{"a backslash", "GET /public\\..\\admin HTTP/1.1\r\nHost: a\r\n\r\n", 400},
        Refused{"an encoded NUL", "GET /a%00 HTTP/1.1\r\nHost: a\r\n\r\n", 400},
        Refused{"a bad escape", "GET /a%zz HTTP/1.1\r\nHost: a\r\n\r\n", 400},
        Refused{"a short escape", "GET /a%2 HTTP/1.1\r\nHost: a\r\n\r\n", 400},
        Refused{"a quote in Host", "GET / HTTP/1.1\r\nHost: a\", for=6.6.6.6;by=\"b\r\n\r\n", 400},
        Refused{"a port that is not one", "GET / HTTP/1.1\r\nHost: a:99999\r\n\r\n", 400},
        Refused{"an open bracket", "GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", 400}));

TEST(RequestViewTest, AFragmentIsNoTarget) {
  http1::RequestHead head;
  const std::string text = "GET /admin#/../public HTTP/1.1\r\nHost: a\r\n\r\n";
  EXPECT_EQ(http1::parse_request_head(std::span(text.data(), text.size()), {}, head).status, 400);
}

TEST(RequestViewTest, DotSegmentsNeverClimbAboveTheRoot) {
  EXPECT_EQ(remove_dot_segments("/a/b/c/./../../g"), "/a/g");
  EXPECT_EQ(remove_dot_segments("/../../etc/passwd"), "/etc/passwd");
  EXPECT_EQ(remove_dot_segments("/public/%2e%2E/admin"), "/admin");
  EXPECT_EQ(remove_dot_segments("/a/.."), "/");
  EXPECT_EQ(remove_dot_segments("/a/./"), "/a/");
  EXPECT_EQ(remove_dot_segments("/a/.../b"), "/a/.../b") << "three dots are a name";
  EXPECT_EQ(remove_dot_segments("/a/..b"), "/a/..b");
  EXPECT_EQ(remove_dot_segments(""), "/");
}

TEST(RequestViewTest, HostsAreNormalised) {
  EXPECT_EQ(normalize_host("Example.COM."), "example.com");
  EXPECT_EQ(normalize_host("[2001:DB8::1]:443"), "[2001:db8::1]");
  EXPECT_EQ(normalize_host("10.0.0.1:80"), "10.0.0.1");
  EXPECT_EQ(normalize_host("[::1"), "");
  EXPECT_TRUE(valid_authority(""));
  EXPECT_TRUE(valid_authority("[2001:db8::1]:443"));
  EXPECT_FALSE(valid_authority("a:"));
  EXPECT_FALSE(valid_authority("a b"));
}

}  // namespace
}  // namespace vigil::l7
