// The dispatcher against the JSON-RPC 2.0 specification, one table row per request shape.
#include "common/json_rpc.h"

#include <gtest/gtest.h>
#include <unistd.h>

namespace vigil::rpc {
namespace {

using nlohmann::json;

Dispatcher make_dispatcher() {
  Dispatcher d;
  d.add("echo", [](const json& p, const CallContext&) -> CallResult { return p; });
  d.add("add", [](const json& p, const CallContext&) -> CallResult {
    return p.at("a").get<int>() + p.at("b").get<int>();
  });
  d.add("fail", [](const json&, const CallContext&) -> CallResult {
    return Error{kInvalidParams, "no such upstream", json{{"field", "upstream"}}};
  });
  d.add("throw",
        [](const json&, const CallContext&) -> CallResult { throw std::runtime_error("boom"); });
  d.add("whoami", [](const json&, const CallContext& ctx) -> CallResult {
    return json{{"uid", ctx.peer.uid}};
  });
  return d;
}

struct Case {
  const char* description;
  const char* request;
  const char* expected;  // nullptr: no response at all
};

class DispatcherTable : public ::testing::TestWithParam<Case> {};

TEST_P(DispatcherTable, Responds) {
  const Case& c = GetParam();
  Dispatcher d = make_dispatcher();
  auto got = d.handle_line(c.request, CallContext{});
  if (c.expected == nullptr) {
    EXPECT_FALSE(got.has_value()) << *got;
    return;
  }
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(json::parse(*got), json::parse(c.expected)) << *got;
}

INSTANTIATE_TEST_SUITE_P(
    Spec, DispatcherTable,
    ::testing::Values(
        Case{"call with named params",
             R"({"jsonrpc":"2.0","id":1,"method":"add","params":{"a":2,"b":3}})",
             R"({"jsonrpc":"2.0","id":1,"result":5})"},
        Case{"string id is echoed", R"({"jsonrpc":"2.0","id":"x7","method":"echo","params":[1]})",
             R"({"jsonrpc":"2.0","id":"x7","result":[1]})"},
        Case{"missing params means empty object", R"({"jsonrpc":"2.0","id":2,"method":"echo"})",
             R"({"jsonrpc":"2.0","id":2,"result":{}})"},
        Case{
            "invalid JSON", R"({"jsonrpc":"2.0","id":1,"method":"echo")",
            R"({"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"parse error: not valid JSON at byte 40"}})"},
        Case{
            "not an object", R"(42)",
            R"({"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"request must be a JSON object"}})"},
        Case{
            "wrong version", R"({"jsonrpc":"1.0","id":3,"method":"echo"})",
            R"({"jsonrpc":"2.0","id":3,"error":{"code":-32600,"message":"\"jsonrpc\" must be \"2.0\""}})"},
        Case{
            "method not a string", R"({"jsonrpc":"2.0","id":4,"method":7})",
            R"({"jsonrpc":"2.0","id":4,"error":{"code":-32600,"message":"\"method\" must be a string"}})"},
        Case{
            "id of a bad type", R"({"jsonrpc":"2.0","id":{},"method":"echo"})",
            R"({"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"\"id\" must be a string, a number or null"}})"},
        Case{
            "params of a bad type", R"({"jsonrpc":"2.0","id":5,"method":"echo","params":"x"})",
            R"({"jsonrpc":"2.0","id":5,"error":{"code":-32600,"message":"\"params\" must be an object or array"}})"},
        Case{
            "unknown method", R"({"jsonrpc":"2.0","id":6,"method":"reboot"})",
            R"({"jsonrpc":"2.0","id":6,"error":{"code":-32601,"message":"method not found: reboot"}})"},
        Case{
            "handler error with data", R"({"jsonrpc":"2.0","id":7,"method":"fail"})",
            R"({"jsonrpc":"2.0","id":7,"error":{"code":-32602,"message":"no such upstream","data":{"field":"upstream"}}})"},
        Case{"notification gets no response", R"({"jsonrpc":"2.0","method":"echo"})", nullptr},
        Case{"unknown-method notification gets no response", R"({"jsonrpc":"2.0","method":"nope"})",
             nullptr},
        Case{
            "batch mixes calls and notifications",
            R"([{"jsonrpc":"2.0","id":1,"method":"add","params":{"a":1,"b":1}},{"jsonrpc":"2.0","method":"echo"},{"jsonrpc":"2.0","id":2,"method":"nope"}])",
            R"([{"jsonrpc":"2.0","id":1,"result":2},{"jsonrpc":"2.0","id":2,"error":{"code":-32601,"message":"method not found: nope"}}])"},
        Case{"batch of notifications only", R"([{"jsonrpc":"2.0","method":"echo"}])", nullptr},
        Case{"empty batch", R"([])",
             R"({"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"empty batch"}})"},
        Case{
            "batch with a non-object", R"([1])",
            R"([{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"request must be a JSON object"}}])"}));

TEST(Dispatcher, MissingParamIsInvalidParams) {
  Dispatcher d = make_dispatcher();
  auto got = json::parse(
      *d.handle_line(R"({"jsonrpc":"2.0","id":1,"method":"add","params":{"a":1}})", CallContext{}));
  EXPECT_EQ(got["error"]["code"], kInvalidParams);
  EXPECT_EQ(got["id"], 1);
}

TEST(Dispatcher, HandlerExceptionBecomesInternalError) {
  Dispatcher d = make_dispatcher();
  auto got = json::parse(*d.handle_line(R"({"jsonrpc":"2.0","id":1,"method":"throw"})", {}));
  EXPECT_EQ(got["error"]["code"], kInternalError);
  EXPECT_EQ(got["error"]["message"], "internal error: boom");
}

TEST(Dispatcher, PassesCallerCredentials) {
  Dispatcher d = make_dispatcher();
  CallContext ctx;
  ctx.peer.uid = 1234;
  auto got = json::parse(*d.handle_line(R"({"jsonrpc":"2.0","id":1,"method":"whoami"})", ctx));
  EXPECT_EQ(got["result"]["uid"], 1234);
}

TEST(Dispatcher, ObserverSeesEveryCall) {
  Dispatcher d = make_dispatcher();
  std::vector<std::pair<std::string, bool>> seen;
  d.set_observer([&](std::string_view m, bool failed) { seen.emplace_back(m, failed); });
  d.handle_line(R"({"jsonrpc":"2.0","id":1,"method":"echo"})", {});
  d.handle_line(R"({"jsonrpc":"2.0","id":2,"method":"fail"})", {});
  d.handle_line(R"({"jsonrpc":"2.0","id":3,"method":"nope"})", {});
  EXPECT_EQ(seen, (std::vector<std::pair<std::string, bool>>{
                      {"echo", false}, {"fail", true}, {"(unknown)", true}}));
}

TEST(Dispatcher, InvalidUtf8InResultDoesNotThrow) {
  Dispatcher d;
  d.add("bad", [](const json&, const CallContext&) -> CallResult { return std::string("\xff"); });
  auto got = d.handle_line(R"({"jsonrpc":"2.0","id":1,"method":"bad"})", {});
  ASSERT_TRUE(got.has_value());
  EXPECT_TRUE(json::accept(*got));
}

TEST(Dispatcher, OversizedBatchIsRejected) {
  Dispatcher d = make_dispatcher();
  json batch = json::array();
  for (int i = 0; i < 129; ++i) {
    batch.push_back({{"jsonrpc", "2.0"}, {"id", i}, {"method", "echo"}});
  }
  auto got = json::parse(*d.handle_line(batch.dump(), {}));
  EXPECT_EQ(got["error"]["code"], kInvalidRequest);
}

// 75,000 nested arrays used to overflow the stack copying params, before any check ran.
TEST(Dispatcher, DeeplyNestedParamsAreAParseErrorNamingTheLimit) {
  Dispatcher d = make_dispatcher();
  const std::string deep = R"({"jsonrpc":"2.0","id":1,"method":"echo","params":)" +
                           std::string(75000, '[') + std::string(75000, ']') + "}";
  auto got = json::parse(*d.handle_line(deep, {}));
  EXPECT_EQ(got["error"]["code"], kParseError);
  EXPECT_EQ(got["error"]["message"], "parse error: nesting deeper than 64 levels at byte 113");
}

TEST(Dispatcher, ANumberOutOfRangeIsAParseErrorNotACrash) {
  Dispatcher d = make_dispatcher();
  auto got = json::parse(
      *d.handle_line(R"({"jsonrpc":"2.0","id":1,"method":"echo","params":[1e999]})", {}));
  EXPECT_EQ(got["error"]["code"], kParseError);
}

TEST(Dispatcher, OwnerOnlyMethodsRefuseOtherUsers) {
  Dispatcher d;
  int calls = 0;
  d.add(
      "prepare",
      [&calls](const json&, const CallContext&) -> CallResult {
        ++calls;
        return json::object();
      },
      Access::kOwner);
  const std::string request = R"({"jsonrpc":"2.0","id":1,"method":"prepare"})";
  CallContext stranger;
  stranger.peer.uid = ::geteuid() == 0 ? 4242 : ::geteuid() + 1;
  auto refused = json::parse(*d.handle_line(request, stranger));
  EXPECT_EQ(refused["error"]["code"], kPermissionDenied);
  EXPECT_EQ(calls, 0);
  CallContext owner;
  owner.peer.uid = ::geteuid();
  EXPECT_TRUE(json::parse(*d.handle_line(request, owner)).contains("result"));
  EXPECT_EQ(calls, 1);
}

TEST(Dispatcher, TheGuardRunsBeforeEveryHandler) {
  Dispatcher d = make_dispatcher();
  std::vector<std::string> seen;
  d.set_guard([&seen](std::string_view method, const CallContext&) -> std::optional<Error> {
    seen.emplace_back(method);
    if (method == "add") {
      return Error{kPermissionDenied, "no"};
    }
    return std::nullopt;
  });
  auto denied = json::parse(*d.handle_line(R"({"jsonrpc":"2.0","id":1,"method":"add"})", {}));
  EXPECT_EQ(denied["error"]["message"], "no");
  auto echoed = json::parse(*d.handle_line(R"({"jsonrpc":"2.0","id":2,"method":"echo"})", {}));
  EXPECT_EQ(echoed["result"], json::object());
  EXPECT_EQ(seen, (std::vector<std::string>{"add", "echo"}));
}

TEST(Dispatcher, ListsMethods) {
  Dispatcher d = make_dispatcher();
  EXPECT_EQ(d.methods(), (std::vector<std::string>{"add", "echo", "fail", "throw", "whoami"}));
  EXPECT_TRUE(d.has("echo"));
  EXPECT_FALSE(d.has("ech"));
}

TEST(Dispatcher, ADeferredMethodAnswersThroughDoneWithItsIdAndIsGuarded) {
  Dispatcher d;
  std::vector<Reply> waiting;
  d.add_deferred("later", [&waiting](const json& p, const CallContext&, Reply reply) {
    if (p.contains("bad")) {
      p.at("missing").get<int>();  // a params error before the work starts: answered at once
    }
    waiting.push_back(std::move(reply));
  });
  std::vector<std::string> observed;
  d.set_observer([&observed](std::string_view method, bool failed) {
    observed.push_back(std::string(method) + (failed ? ":failed" : ":ok"));
  });
  std::vector<std::optional<std::string>> answers;
  const Dispatcher::Done done = [&answers](std::optional<std::string> a) {
    answers.push_back(std::move(a));
  };
  EXPECT_FALSE(d.handle_line(R"({"jsonrpc":"2.0","id":"a","method":"later"})", {}, done));
  EXPECT_TRUE(answers.empty());
  ASSERT_EQ(waiting.size(), 1u);
  EXPECT_TRUE(observed.empty()) << "observed when answered, not when started";
  waiting[0](json{{"done", true}});
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(json::parse(*answers[0]),
            json::parse(R"({"jsonrpc":"2.0","id":"a","result":{"done":true}})"));
  EXPECT_EQ(observed, (std::vector<std::string>{"later:ok"}));

  // A notification owes nothing, even later.
  EXPECT_FALSE(d.handle_line(R"({"jsonrpc":"2.0","method":"later"})", {}, done));
  waiting[1](Error{kInternalError, "x"});
  ASSERT_EQ(answers.size(), 2u);
  EXPECT_FALSE(answers[1].has_value());

  // Bad params: answered at once.
  EXPECT_TRUE(
      d.handle_line(R"({"jsonrpc":"2.0","id":3,"method":"later","params":{"bad":1}})", {}, done));
  EXPECT_EQ(json::parse(*answers[2])["error"]["code"], kInvalidParams);

  // The guard refuses before the handler runs.
  d.set_guard([](std::string_view, const CallContext&) -> std::optional<Error> {
    return Error{kPermissionDenied, "no"};
  });
  EXPECT_TRUE(d.handle_line(R"({"jsonrpc":"2.0","id":4,"method":"later"})", {}, done));
  EXPECT_EQ(json::parse(*answers[3])["error"]["message"], "no");
  EXPECT_EQ(waiting.size(), 2u);
}

TEST(Dispatcher, ADeferredMethodIsRefusedInABatchAndWithoutAServer) {
  Dispatcher d = make_dispatcher();
  int started = 0;
  d.add_deferred("later", [&started](const json&, const CallContext&, Reply) { ++started; });
  auto batch = json::parse(*d.handle_line(
      R"([{"jsonrpc":"2.0","id":1,"method":"later"},{"jsonrpc":"2.0","id":2,"method":"echo"}])",
      {}));
  ASSERT_EQ(batch.size(), 2u);
  EXPECT_EQ(batch[0]["error"]["code"], kInvalidRequest);
  EXPECT_EQ(batch[0]["error"]["message"], "later answers later and cannot be part of a batch");
  EXPECT_EQ(batch[1]["result"], json::object());
  auto alone = json::parse(*d.handle_line(R"({"jsonrpc":"2.0","id":1,"method":"later"})", {}));
  EXPECT_EQ(alone["error"]["code"], kInvalidRequest);
  EXPECT_EQ(started, 0);
}

}  // namespace
}  // namespace vigil::rpc
