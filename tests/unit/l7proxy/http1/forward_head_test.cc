// The heads vigil-l7 writes: hop-by-hop fields (and those Connection names) gone, framing its
// own, the forwarding fields set (a client's own trusted only when told), the route's fields
// added and removed; responses likewise; chunks encoded.
#include "l7proxy/http1/forward_head.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "l7proxy/routing/request_view.h"

namespace vigil::l7::http1 {
namespace {

// The head for the upstream as vigil-l7 writes it: the target and Host from what routing saw.
std::string upstream_request(const std::string& text, ForwardContext c) {
  RequestHead head;
  const auto p = parse_request_head(std::span(text.data(), text.size()), {}, head);
  EXPECT_EQ(p.outcome, Parsed::kComplete) << p.error;
  const auto f = request_framing(head, 1 << 20);
  EXPECT_TRUE(f.ok) << f.error;
  const RequestView view = RequestView::from(head);
  EXPECT_EQ(view.refuse_status, 0) << view.error;
  c.authority = view.authority;
  c.path = view.path;
  c.query = view.query;
  std::string out;
  write_upstream_request(head, f.framing, c, out);
  return out;
}

TEST(ForwardHeadTest, ARequestLosesItsHopByHopFieldsAndGainsTheForwardingOnes) {
  const std::string out = upstream_request(
      "POST /submit?x=1 HTTP/1.1\r\nHost: shop.example\r\nConnection: keep-alive, X-Secret\r\n"
      "X-Secret: s\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\nProxy-Authorization: Basic x\r\n"
      "Transfer-Encoding: chunked\r\nExpect: 100-continue\r\nX-Forwarded-For: 6.6.6.6\r\n"
      "Forwarded: for=6.6.6.6\r\nX-Forwarded-Proto: https\r\nAccept: */*\r\n\r\n",
      {.client_address = "192.0.2.7", .scheme = "https", .request_id = "r-1"});
  EXPECT_EQ(out,
            "POST /submit?x=1 HTTP/1.1\r\nAccept: */*\r\nHost: shop.example\r\n"
            "Transfer-Encoding: chunked\r\nX-Forwarded-For: 192.0.2.7\r\n"
            "X-Forwarded-Proto: https\r\nX-Forwarded-Host: shop.example\r\n"
            "Forwarded: for=192.0.2.7;proto=https;host=\"shop.example\"\r\n"
            "X-Request-Id: r-1\r\n\r\n")
      << "an untrusted client's X-Forwarded-For and Forwarded are not passed on";
}

TEST(ForwardHeadTest, TrustedForwardingIsAppendedToAndAnIpv6ClientQuoted) {
  const std::string out = upstream_request(
      "GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 198.51.100.1\r\nX-Forwarded-For: 10.9.9.9\r\n"
      "Forwarded: for=198.51.100.1\r\nX-Request-Id: theirs\r\n\r\n",
      {.client_address = "2001:db8::7", .trust_forwarded = true, .request_id = "ours"});
  EXPECT_NE(out.find("X-Forwarded-For: 198.51.100.1, 10.9.9.9, 2001:db8::7\r\n"), std::string::npos)
      << "every line, in order: " << out;
  EXPECT_NE(
      out.find("Forwarded: for=198.51.100.1, for=\"[2001:db8::7]\";proto=http;host=\"a\"\r\n"),
      std::string::npos)
      << out;
  EXPECT_NE(out.find("X-Request-Id: theirs\r\n"), std::string::npos) << "kept";
  EXPECT_EQ(out.find("ours"), std::string::npos);
}

TEST(ForwardHeadTest, TheUpstreamGetsThePathAndHostRoutingSaw) {
  // An absolute-form's authority wins over a Host that says otherwise (RFC 9112 3.2.2).
  const std::string out = upstream_request(
      "GET http://api.example:8080/v1?q HTTP/1.1\r\nHost: internal.example\r\n\r\n",
      {.client_address = "10.0.0.1"});
  EXPECT_TRUE(out.starts_with("GET /v1?q HTTP/1.1\r\nHost: api.example:8080\r\n")) << out;
  EXPECT_EQ(out.find("internal"), std::string::npos) << out;
  const std::string http10 =
      upstream_request("GET http://b.example HTTP/1.0\r\n\r\n", {.client_address = "10.0.0.1"});
  EXPECT_TRUE(http10.starts_with("GET / HTTP/1.1\r\nHost: b.example\r\n")) << http10;
  const std::string no_host =
      upstream_request("GET /x HTTP/1.0\r\n\r\n", {.client_address = "10.0.0.1"});
  EXPECT_TRUE(no_host.starts_with("GET /x HTTP/1.1\r\nHost: \r\n"))
      << "an empty Host (RFC 9112 3.2): " << no_host;
  // The normalised path, not the bytes as sent.
  const std::string odd = upstream_request("GET /public/..;/%61dmin//x HTTP/1.1\r\nHost: a\r\n\r\n",
                                           {.client_address = "10.0.0.1"});
  EXPECT_TRUE(odd.starts_with("GET /admin/x HTTP/1.1\r\n")) << odd;
  // Fields with "_" go: CGI-style servers would read them as the forwarding fields.
  const std::string underscore =
      upstream_request("GET / HTTP/1.1\r\nHost: a\r\nX_Forwarded_For: 6.6.6.6\r\n\r\n",
                       {.client_address = "10.0.0.1"});
  EXPECT_EQ(underscore.find("6.6.6.6"), std::string::npos) << underscore;
}

TEST(ForwardHeadTest, TheRoutesFieldsAreAddedAndRemovedAndAnUpgradeKept) {
  const std::vector<Header> add = {{"X-Env", "prod"}, {"Host", "backend.internal"}};
  const std::vector<std::string> remove = {"cookie"};
  const std::string out = upstream_request(
      "GET /ws HTTP/1.1\r\nHost: a\r\nX-Env: test\r\nCookie: c=1\r\nConnection: Upgrade\r\n"
      "Upgrade: websocket\r\nContent-Length: 0\r\n\r\n",
      {.client_address = "10.0.0.1", .add = add, .remove = remove});
  EXPECT_NE(out.find("X-Env: prod\r\n"), std::string::npos) << out;
  EXPECT_EQ(out.find("test"), std::string::npos) << out;
  EXPECT_EQ(out.find("Cookie"), std::string::npos) << out;
  EXPECT_NE(out.find("Host: backend.internal\r\n"), std::string::npos) << out;
  EXPECT_EQ(out.find("\r\nHost: a\r\n"), std::string::npos) << "one Host, the route's: " << out;
  EXPECT_NE(out.find("Upgrade: websocket\r\nConnection: upgrade\r\n"), std::string::npos) << out;
  EXPECT_EQ(out.find("Content-Length"), std::string::npos) << "no body: no framing field";
}

std::string client_response(const std::string& text, bool close, std::string_view method = "GET") {
  ResponseHead head;
  const auto p = parse_response_head(std::span(text.data(), text.size()), {}, head);
  EXPECT_EQ(p.outcome, Parsed::kComplete) << p.error;
  const auto f = response_framing(head, method, /*upgrade_asked=*/true);
  EXPECT_TRUE(f.ok) << f.error;
  std::string out;
  write_client_response(head, f.framing, close, out);
  return out;
}

TEST(ForwardHeadTest, AResponseIsWrittenAnew) {
  EXPECT_EQ(client_response("HTTP/1.0 200 OK\r\nConnection: keep-alive, X-Internal\r\n"
                            "X-Internal: 1\r\nContent-Length: 5\r\nServer: x\r\n\r\n",
                            false),
            "HTTP/1.1 200 OK\r\nServer: x\r\nContent-Length: 5\r\n\r\n");
  EXPECT_EQ(client_response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", true),
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(client_response("HTTP/1.1 200 OK\r\nContent-Length: 42\r\n\r\n", false, "HEAD"),
            "HTTP/1.1 200 OK\r\nContent-Length: 42\r\n\r\n")
      << "a HEAD's length describes the body not sent";
  EXPECT_EQ(client_response("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                            "Connection: upgrade\r\nSec-WebSocket-Accept: k\r\n\r\n",
                            false),
            "HTTP/1.1 101 Switching Protocols\r\nSec-WebSocket-Accept: k\r\nUpgrade: websocket\r\n"
            "Connection: upgrade\r\n\r\n");
}

TEST(ForwardHeadTest, ChunksAreEncodedAndTheBodyEnded) {
  std::string out;
  write_chunk(std::string_view("hello"), out);
  write_chunk(std::string_view(""), out);  // nothing: an empty chunk would end the body
  write_chunk(std::string(26, 'x'), out);
  write_last_chunk(out);
  EXPECT_EQ(out, "5\r\nhello\r\n1a\r\n" + std::string(26, 'x') + "\r\n0\r\n\r\n");
}

}  // namespace
}  // namespace vigil::l7::http1
