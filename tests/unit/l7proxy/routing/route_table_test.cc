// Routes over a table of requests: exact and wildcard hosts, exact, prefix and regex paths,
// methods, fields and query parameters; priority first, then the order given; a bad regex or
// host fails the compile with the route's name.
#include "l7proxy/routing/route_table.h"

#include <gtest/gtest.h>

namespace vigil::l7 {
namespace {

RouteTable table() {
  std::vector<RouteSpec> routes;
  routes.push_back({.name = "catch-all", .priority = -1, .upstream = "default"});
  routes.push_back({.name = "api-v2",
                    .hosts = {"api.example.com"},
                    .path_match = PathMatch::kRegex,
                    .path = "/v2/[a-z]+/[0-9]+",
                    .upstream = "api2"});
  routes.push_back({.name = "api",
                    .hosts = {"API.example.com"},
                    .path_match = PathMatch::kPrefix,
                    .path = "/v",
                    .upstream = "api"});
  routes.push_back({.name = "wild",
                    .hosts = {"*.example.com"},
                    .path_match = PathMatch::kExact,
                    .path = "/health",
                    .methods = {"GET", "HEAD"},
                    .upstream = "health"});
  routes.push_back({.name = "canary",
                    .priority = 10,
                    .headers = {{"X-Canary", std::string("1")}},
                    .upstream = "canary"});
  routes.push_back(
      {.name = "debug", .priority = 10, .query = {{"debug", std::nullopt}}, .upstream = "debug"});
  auto t = RouteTable::compile(std::move(routes));
  EXPECT_TRUE(t) << t.error();
  return std::move(*t);
}

std::string route_of(const RouteTable& t, const std::string& method, const std::string& host,
                     const std::string& path, std::string_view query = {},
                     std::vector<http1::Header> headers = {}) {
  RequestView v{.host = host, .path = path, .query = query, .method = method, .headers = headers};
  const RouteSpec* r = t.match(v);
  return r == nullptr ? "none" : r->name;
}

TEST(RouteTableTest, EachRequestTakesTheRouteItShould) {
  const RouteTable t = table();
  EXPECT_EQ(route_of(t, "GET", "api.example.com", "/v2/users/42"), "api-v2");
  EXPECT_EQ(route_of(t, "GET", "api.example.com", "/v2/users/42/x"), "api")
      << "a regex matches the whole path";
  EXPECT_EQ(route_of(t, "GET", "api.example.com", "/vx"), "api");
  EXPECT_EQ(route_of(t, "GET", "www.example.com", "/health"), "wild");
  EXPECT_EQ(route_of(t, "GET", "a.b.example.com", "/health"), "wild");
  EXPECT_EQ(route_of(t, "GET", "example.com", "/health"), "catch-all")
      << "*.example.com is not example.com";
  EXPECT_EQ(route_of(t, "POST", "www.example.com", "/health"), "catch-all");
  EXPECT_EQ(route_of(t, "get", "www.example.com", "/health"), "catch-all")
      << "methods are case-sensitive";
  EXPECT_EQ(route_of(t, "GET", "badexample.com", "/health"), "catch-all");
  EXPECT_EQ(route_of(t, "GET", "api.example.com", "/v2/users/42", {}, {{"x-canary", "1"}}),
            "canary")
      << "priority first";
  EXPECT_EQ(route_of(t, "GET", "x", "/", {}, {{"X-Canary", "2"}}), "catch-all");
  EXPECT_EQ(route_of(t, "GET", "x", "/", "a=1&debug"), "debug");
  EXPECT_EQ(route_of(t, "GET", "x", "/", "a=1&debugx=1"), "catch-all");
}

TEST(RouteTableTest, AmongEqualPrioritiesTheFirstGivenWins) {
  auto t = RouteTable::compile(
      {{.name = "first", .upstream = "a"}, {.name = "second", .upstream = "b"}});
  ASSERT_TRUE(t);
  EXPECT_EQ(route_of(*t, "GET", "x", "/"), "first");
  auto none = RouteTable::compile({{.name = "only", .hosts = {"a.net"}, .upstream = "a"}});
  ASSERT_TRUE(none);
  EXPECT_EQ(route_of(*none, "GET", "b.net", "/"), "none");
}

TEST(RouteTableTest, ABadRouteFailsTheCompileByName) {
  auto bad_regex = RouteTable::compile(
      {{.name = "api", .path_match = PathMatch::kRegex, .path = "/v(1", .upstream = "a"}});
  ASSERT_FALSE(bad_regex);
  EXPECT_EQ(bad_regex.error(), "route api: path regex: missing ): /v(1");
  auto bad_host = RouteTable::compile({{.name = "h", .hosts = {"a b"}, .upstream = "a"}});
  ASSERT_FALSE(bad_host);
  EXPECT_EQ(bad_host.error(), "route h: host \"a b\" is neither a name nor *.name");
  auto bad_path = RouteTable::compile(
      {{.name = "p", .path_match = PathMatch::kPrefix, .path = "api", .upstream = "a"}});
  ASSERT_FALSE(bad_path);
  EXPECT_EQ(bad_path.error(), "route p: path \"api\" does not begin with /");
}

}  // namespace
}  // namespace vigil::l7
