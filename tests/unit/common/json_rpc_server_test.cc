// The JSON-RPC server and client over a real UNIX socket in a temporary directory.
#include "common/json_rpc_server.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <atomic>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "common/json_rpc_client.h"
#include "common/unix_socket.h"

namespace vigil::rpc {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/vigil-rpc-test-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    path_ = dir_ + "/test.sock";
    dispatcher_.add("echo", [](const json& p, const CallContext&) -> CallResult { return p; });
    dispatcher_.add("slow", [](const json&, const CallContext&) -> CallResult {
      std::this_thread::sleep_for(300ms);
      return "late";
    });
    dispatcher_.add("whoami", [](const json&, const CallContext& ctx) -> CallResult {
      return json{{"pid", ctx.peer.pid}, {"uid", ctx.peer.uid}};
    });
    // Answers when the test says so (answer_later()), as vigild does after a component call.
    dispatcher_.add_deferred("later", [this](const json& p, const CallContext&, Reply reply) {
      std::lock_guard lock(later_mutex_);
      later_.push_back({p, std::move(reply)});
    });
  }

  size_t waiting_later() {
    std::lock_guard lock(later_mutex_);
    return later_.size();
  }
  // Gives the oldest "later" call its answer (its params), from the loop's thread.
  void answer_later() {
    std::pair<json, Reply> call;
    {
      std::lock_guard lock(later_mutex_);
      ASSERT_FALSE(later_.empty());
      call = std::move(later_.front());
      later_.erase(later_.begin());
    }
    loop_.post([call] { call.second(json{{"answered", call.first}}); });
  }
  void wait_for_later(size_t n) {
    for (int i = 0; i < 2000 && waiting_later() < n; ++i) {
      std::this_thread::sleep_for(1ms);
    }
    ASSERT_EQ(waiting_later(), n);
  }

  void start(ServerOptions options = {}) {
    options.path = path_;
    options.listen.group = "";  // the test runner's own group
    server_ = std::make_unique<Server>(loop_, dispatcher_, options);
    ASSERT_TRUE(server_->start()) << "cannot start";
    thread_ = std::thread([this] { loop_.run(); });
  }

  void TearDown() override {
    loop_.stop();
    if (thread_.joinable()) {
      thread_.join();
    }
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  // A raw connection for byte-level tests.
  UniqueFd raw_connect() {
    auto fd = connect_unix(path_, 1s);
    EXPECT_TRUE(fd.ok());
    return std::move(fd).value();
  }

  static void send_all(int fd, std::string_view bytes) {
    ASSERT_EQ(::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(bytes.size()));
  }

  // Reads until `lines` newlines arrived or the peer closed; returns what was read.
  static std::string read_lines(int fd, int lines, std::chrono::milliseconds timeout = 2s) {
    std::string out;
    int seen = 0;  // counted per chunk: rescanning `out` would be quadratic
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (seen < lines) {
      pollfd pfd{fd, POLLIN, 0};
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0 || ::poll(&pfd, 1, static_cast<int>(left.count())) != 1) {
        break;
      }
      char buf[4096];
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) {
        break;
      }
      seen += static_cast<int>(std::count(buf, buf + n, '\n'));
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }

  // Closed: an orderly end, or a reset, which is what the kernel sends instead when the server
  // closes with bytes of ours it never read (the budget tests close mid-request; which one
  // comes depends on how much the server had read: the test flaked on it).
  static bool peer_closed(int fd) {
    pollfd pfd{fd, POLLIN, 0};
    if (::poll(&pfd, 1, 2000) != 1) {
      return false;
    }
    char b;
    const ssize_t n = ::recv(fd, &b, 1, 0);
    return n == 0 || (n < 0 && errno == ECONNRESET);
  }

  std::string dir_;
  std::string path_;
  Dispatcher dispatcher_;
  EventLoop loop_;
  std::unique_ptr<Server> server_;
  std::thread thread_;
  std::mutex later_mutex_;
  std::vector<std::pair<json, Reply>> later_;
  std::atomic<int> counted_{0};
};

TEST_F(ServerTest, ClientCallsAndGetsResult) {
  start();
  Client client(path_);
  auto r = client.call("echo", json{{"x", 1}});
  ASSERT_FALSE(is_error(r)) << std::get<Error>(r).message;
  EXPECT_EQ(std::get<json>(r), (json{{"x", 1}}));
  // The same connection serves a second call.
  r = client.call("echo", json::array({2}));
  EXPECT_EQ(std::get<json>(r), json::array({2}));
}

TEST_F(ServerTest, SocketIsMode0660) {
  start();
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0660u);
}

TEST_F(ServerTest, ReportsPeerCredentials) {
  start();
  Client client(path_);
  auto r = client.call("whoami");
  ASSERT_FALSE(is_error(r));
  EXPECT_EQ(std::get<json>(r)["pid"], ::getpid());
  EXPECT_EQ(std::get<json>(r)["uid"], ::getuid());
}

TEST_F(ServerTest, RequestSplitAcrossWritesIsAnswered) {
  start();
  UniqueFd fd = raw_connect();
  const std::string req = R"({"jsonrpc":"2.0","id":9,"method":"echo","params":[1,2,3]})";
  for (size_t i = 0; i < req.size(); i += 7) {
    send_all(fd.get(), std::string_view(req).substr(i, 7));
    std::this_thread::sleep_for(2ms);
  }
  send_all(fd.get(), "\n");
  const std::string got = read_lines(fd.get(), 1);
  EXPECT_EQ(json::parse(got), json::parse(R"({"jsonrpc":"2.0","id":9,"result":[1,2,3]})"));
}

TEST_F(ServerTest, SeveralRequestsInOneWriteAreAnsweredInOrder) {
  start();
  UniqueFd fd = raw_connect();
  send_all(fd.get(),
           "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"echo\",\"params\":[1]}\n"
           "{\"jsonrpc\":\"2.0\",\"method\":\"echo\"}\n"  // notification: no answer
           "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"echo\",\"params\":[2]}\n");
  const std::string got = read_lines(fd.get(), 2);
  const auto nl = got.find('\n');
  EXPECT_EQ(json::parse(got.substr(0, nl))["id"], 1);
  EXPECT_EQ(json::parse(got.substr(nl + 1))["id"], 2);
}

TEST_F(ServerTest, InvalidJsonGetsParseErrorAndConnectionStaysUsable) {
  start();
  UniqueFd fd = raw_connect();
  send_all(fd.get(), "{not json\n{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"echo\"}\n");
  const std::string got = read_lines(fd.get(), 2);
  const auto nl = got.find('\n');
  EXPECT_EQ(json::parse(got.substr(0, nl))["error"]["code"], kParseError);
  EXPECT_EQ(json::parse(got.substr(nl + 1))["id"], 3);
}

TEST_F(ServerTest, OversizedRequestIsRejectedAndConnectionClosed) {
  start({.max_request_bytes = 1024});
  UniqueFd fd = raw_connect();
  send_all(fd.get(), std::string(4096, 'x'));  // no newline: the server must not wait for one
  const std::string got = read_lines(fd.get(), 1);
  ASSERT_FALSE(got.empty());
  const json err = json::parse(got);
  EXPECT_EQ(err["error"]["code"], kRequestTooLarge);
  EXPECT_EQ(err["error"]["message"], "request exceeds the limit of 1024 bytes");
  EXPECT_TRUE(peer_closed(fd.get()));
  // The server itself is unaffected.
  Client client(path_);
  EXPECT_FALSE(is_error(client.call("echo")));
}

TEST_F(ServerTest, PipelinedResponsesLargerThanTheSocketBufferAllArriveInOrder) {
  start();
  UniqueFd fd = raw_connect();
  constexpr int kRequests = 2000;
  const std::string pad(4000, 'p');  // ~8 MB of responses: far beyond the socket buffer
  std::thread writer([&] {
    for (int i = 0; i < kRequests; ++i) {
      send_all(fd.get(),
               json{{"jsonrpc", "2.0"}, {"id", i}, {"method", "echo"}, {"params", {{"pad", pad}}}}
                       .dump() +
                   "\n");
    }
  });
  std::string got = read_lines(fd.get(), kRequests, 20s);
  writer.join();
  int expected_id = 0;
  for (size_t pos = 0; pos < got.size();) {
    const size_t nl = got.find('\n', pos);
    ASSERT_NE(nl, std::string::npos);
    const json r = json::parse(got.substr(pos, nl - pos));
    ASSERT_EQ(r["id"], expected_id++);
    ASSERT_EQ(r["result"]["pad"].get<std::string>().size(), pad.size());
    pos = nl + 1;
  }
  EXPECT_EQ(expected_id, kRequests);
}

TEST_F(ServerTest, ClientThatNeverReadsIsDisconnected) {
  start({.max_pending_output = size_t{256} * 1024});
  UniqueFd fd = raw_connect();
  const std::string request = json{{"jsonrpc", "2.0"},
                                   {"id", 1},
                                   {"method", "echo"},
                                   {"params", {{"pad", std::string(8000, 'p')}}}}
                                  .dump() +
                              "\n";
  // Keep sending without reading; the server must cut us off rather than buffer forever.
  bool cut_off = false;
  for (int i = 0; i < 20000 && !cut_off; ++i) {
    cut_off = ::send(fd.get(), request.data(), request.size(), MSG_NOSIGNAL) < 0;
  }
  ASSERT_TRUE(cut_off);
  EXPECT_TRUE(errno == EPIPE || errno == ECONNRESET) << std::strerror(errno);
  // Read the server's state on a quiet loop: it belongs to the loop thread.
  loop_.stop();
  thread_.join();
  EXPECT_EQ(server_->connection_count(), 0u);
}

TEST_F(ServerTest, ConcurrentClientsEachGetTheirOwnAnswers) {
  start();
  constexpr int kClients = 16;
  constexpr int kCalls = 100;
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  threads.reserve(kClients);
  for (int t = 0; t < kClients; ++t) {
    threads.emplace_back([&, t] {
      Client client(path_);
      for (int i = 0; i < kCalls; ++i) {
        auto r = client.call("echo", json{{"client", t}, {"call", i}});
        if (is_error(r) || std::get<json>(r) != json{{"client", t}, {"call", i}}) {
          ++wrong;
        }
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  EXPECT_EQ(wrong.load(), 0);
}

TEST_F(ServerTest, ConnectionsBeyondTheLimitAreRefusedWithAnError) {
  start({.max_connections = 2, .owner_reserved_connections = 0});
  Client a(path_), b(path_);
  ASSERT_FALSE(is_error(a.call("echo")));
  ASSERT_FALSE(is_error(b.call("echo")));
  UniqueFd third = raw_connect();
  const json err = json::parse(read_lines(third.get(), 1));
  EXPECT_EQ(err["error"]["code"], kTooManyConnections);
  EXPECT_TRUE(peer_closed(third.get()));
}

// The server sees every connection as coming from `uid` at the time it accepts it.
class ServerAsUserTest : public ServerTest {
 protected:
  void start_as_users(ServerOptions options) {
    options.peer_lookup = [this](int) {
      return PeerCredentials{.pid = 1, .uid = uid_.load(), .gid = 1};
    };
    start(std::move(options));
  }
  // Connects as `uid` and waits for the server's first word (an answer or a refusal).
  std::pair<UniqueFd, json> connect_as(uid_t uid) {
    uid_ = uid;
    UniqueFd fd = raw_connect();
    // A refused connection may be closed before the request goes out (EPIPE): its refusal is
    // waiting to be read all the same.
    const std::string_view request = R"({"jsonrpc":"2.0","id":1,"method":"echo"})"
                                     "\n";
    [[maybe_unused]] ssize_t n = ::send(fd.get(), request.data(), request.size(), MSG_NOSIGNAL);
    return {std::move(fd), json::parse(read_lines(fd.get(), 1))};
  }
  std::atomic<uid_t> uid_{4242};
};

// 64 idle connections of one user used to lock everyone out, vigild and the CLI included.
TEST_F(ServerAsUserTest, OneUserCannotTakeEverySlotAndTheOwnerAlwaysGetsIn) {
  start_as_users(
      {.max_connections = 6, .owner_reserved_connections = 2, .max_connections_per_user = 3});
  std::vector<UniqueFd> held;
  for (int i = 0; i < 3; ++i) {
    auto [fd, answer] = connect_as(4242);
    ASSERT_TRUE(answer.contains("result")) << answer;
    held.push_back(std::move(fd));
  }
  auto [refused_fd, refused] = connect_as(4242);
  EXPECT_EQ(refused["error"]["code"], kTooManyConnections);
  EXPECT_EQ(refused["error"]["message"], "too many connections from uid 4242 (limit 3 per user)");
  for (uid_t other : {4243u, 4243u, 4243u}) {
    auto [fd, answer] = connect_as(other);
    ASSERT_TRUE(answer.contains("result")) << answer;
    held.push_back(std::move(fd));
  }
  EXPECT_EQ(connect_as(4244).second["error"]["code"], kTooManyConnections) << "socket is full";
  for (int i = 0; i < 2; ++i) {
    auto [fd, answer] = connect_as(::geteuid());
    EXPECT_TRUE(answer.contains("result")) << "the owner has slots kept: " << answer;
    held.push_back(std::move(fd));
  }
}

TEST_F(ServerTest, IdleConnectionsAreClosedAndTheClientReconnectsByItself) {
  start({.idle_timeout = 150ms, .sweep_interval = 20ms});
  Client client(path_);
  ASSERT_FALSE(is_error(client.call("echo")));
  UniqueFd idle = raw_connect();
  EXPECT_TRUE(peer_closed(idle.get()));
  std::this_thread::sleep_for(300ms);  // the client's kept connection is gone too
  auto r = client.call("echo", json::array({2}));
  ASSERT_FALSE(is_error(r)) << std::get<Error>(r).message;
  EXPECT_EQ(std::get<json>(r), json::array({2}));
}

// A peer that asks for megabytes of answers and never reads them held them for ever.
TEST_F(ServerTest, APeerThatNeverTakesItsAnswersIsClosedWhenIdle) {
  start({.max_pending_output = 64 << 20, .idle_timeout = 200ms, .sweep_interval = 20ms});
  UniqueFd greedy = raw_connect();
  const std::string request = R"({"jsonrpc":"2.0","id":1,"method":"echo","params":[")" +
                              std::string(200'000, 'x') + "\"]}\n";
  for (int i = 0; i < 40; ++i) {
    send_all(greedy.get(), request);
  }
  std::this_thread::sleep_for(600ms);
  bool closed = false;
  const auto deadline = std::chrono::steady_clock::now() + 3s;
  char buf[65536];
  while (!closed && std::chrono::steady_clock::now() < deadline) {
    pollfd pfd{greedy.get(), POLLIN, 0};
    if (::poll(&pfd, 1, 100) == 1) {
      closed = ::recv(greedy.get(), buf, sizeof buf, 0) <= 0;
    }
  }
  EXPECT_TRUE(closed) << "what the socket buffers held, then the end";
}

TEST_F(ServerTest, ARequestThatNeverFinishesIsAnsweredWithATimeoutAndClosed) {
  start({.request_timeout = 100ms, .sweep_interval = 20ms});
  UniqueFd slow = raw_connect();
  send_all(slow.get(), R"({"jsonrpc":"2.0","id":1,"meth)");
  const json err = json::parse(read_lines(slow.get(), 1));
  EXPECT_EQ(err["error"]["code"], kRequestTimeout);
  EXPECT_TRUE(peer_closed(slow.get()));
}

// 8 connections each sending an unfinished 60 MB line held 532 MB.
TEST_F(ServerAsUserTest, UnfinishedRequestsShareOneBudget) {
  start_as_users({.max_request_bytes = 1 << 20, .max_buffered_input = 1 << 20});
  uid_ = 4242;
  UniqueFd first = raw_connect();
  const std::string part(700 << 10, ' ');
  send_all(first.get(), "[" + part);
  std::this_thread::sleep_for(50ms);
  uid_ = 4243;
  UniqueFd second = raw_connect();
  const std::string more = "[" + part;
  // The server may close before taking it all: that is the point.
  [[maybe_unused]] ssize_t sent = ::send(second.get(), more.data(), more.size(), MSG_NOSIGNAL);
  const json err = json::parse(read_lines(second.get(), 1));
  EXPECT_EQ(err["error"]["code"], kServerBusy);
  EXPECT_TRUE(peer_closed(second.get()));
  send_all(first.get(), "]\n");
  EXPECT_NE(read_lines(first.get(), 1), "") << "the first request still completes";
}

// Sixteen connections of one user each holding most of a request used to spend the budget
// every user shares: one user now holds at most one request's worth.
TEST_F(ServerAsUserTest, OneUserHoldsAtMostOneRequestsWorthOfUnfinishedInput) {
  start_as_users({.max_request_bytes = 1 << 20, .max_buffered_input = 8 << 20});
  uid_ = 4242;
  UniqueFd first = raw_connect();
  const std::string part = "[" + std::string(700 << 10, ' ');
  send_all(first.get(), part);
  std::this_thread::sleep_for(50ms);
  UniqueFd second = raw_connect();
  [[maybe_unused]] ssize_t sent = ::send(second.get(), part.data(), part.size(), MSG_NOSIGNAL);
  const json err = json::parse(read_lines(second.get(), 1));
  EXPECT_EQ(err["error"]["code"], kServerBusy);
  EXPECT_NE(err["error"]["message"].get<std::string>().find("one request's worth per user"),
            std::string::npos)
      << err;
  EXPECT_TRUE(peer_closed(second.get()));
  // Another user is not held back by it, and the first request still completes.
  uid_ = 4243;
  UniqueFd other = raw_connect();
  send_all(other.get(), part);
  send_all(other.get(), "]\n");
  // "[ ... ]" is an empty batch: answered as such, not refused as busy.
  EXPECT_EQ(json::parse(read_lines(other.get(), 1))["error"]["message"], "empty batch");
  send_all(first.get(), "]\n");
  EXPECT_NE(read_lines(first.get(), 1), "");
}

TEST_F(ServerTest, ClientTimesOutOnSlowHandler) {
  start();
  Client client(path_);
  auto r = client.call("slow", json::object(), 50ms);
  ASSERT_TRUE(is_error(r));
  EXPECT_EQ(std::get<Error>(r).code, kTimeout);
  // The client reconnects and is usable again.
  r = client.call("echo", json::array({1}), 2s);
  EXPECT_FALSE(is_error(r));
}

TEST_F(ServerTest, ClientReportsMissingSocket) {
  Client client(dir_ + "/absent.sock");
  auto r = client.call("echo");
  ASSERT_TRUE(is_error(r));
  EXPECT_EQ(std::get<Error>(r).code, kNotListening);
  EXPECT_NE(std::get<Error>(r).message.find("No such file or directory"), std::string::npos);
}

TEST_F(ServerTest, StaleSocketFileIsReplaced) {
  {
    // Leave a bound-but-dead socket behind, as a crashed daemon would.
    auto fd = listen_unix(path_, {.group = ""});
    ASSERT_TRUE(fd.ok());
  }
  start();
  Client client(path_);
  EXPECT_FALSE(is_error(client.call("echo")));
}

TEST_F(ServerTest, LiveSocketIsNeverStolen) {
  start();
  EventLoop other_loop;
  Server other(other_loop, dispatcher_, {.path = path_, .listen = {.group = ""}});
  auto st = other.start();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error(), "another process is already listening on " + path_);
}

TEST_F(ServerTest, RegularFileIsNotReplaced) {
  { std::ofstream(path_) << "precious"; }
  EventLoop loop;
  Server s(loop, dispatcher_, {.path = path_, .listen = {.group = ""}});
  auto st = s.start();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().find("is not a socket"), std::string::npos);
}

TEST_F(ServerTest, StopRemovesSocketFile) {
  start();
  loop_.stop();
  thread_.join();
  server_->stop();
  EXPECT_FALSE(std::filesystem::exists(path_));
}

// A stopped component held every vigild caller behind one `show`: a method that answers later
// holds only its own connection.
TEST_F(ServerTest, AnAnswerGivenLaterHoldsOnlyItsOwnConnection) {
  start();
  UniqueFd waiting = raw_connect();
  // Two requests pipelined: the second waits behind the first, so answers keep their order.
  send_all(waiting.get(), R"({"jsonrpc":"2.0","id":1,"method":"later","params":[1]})"
                          "\n"
                          R"({"jsonrpc":"2.0","id":2,"method":"echo","params":[2]})"
                          "\n");
  wait_for_later(1);
  // Meanwhile everyone else is served.
  Client other(path_);
  auto r = other.call("echo", json::array({3}));
  ASSERT_FALSE(is_error(r)) << std::get<Error>(r).message;
  EXPECT_EQ(std::get<json>(r), json::array({3}));
  pollfd pfd{waiting.get(), POLLIN, 0};
  EXPECT_EQ(::poll(&pfd, 1, 50), 0) << "nothing may be answered before the first request";
  answer_later();
  const std::string out = read_lines(waiting.get(), 2);
  const auto newline = out.find('\n');
  ASSERT_NE(newline, std::string::npos) << out;
  const json first = json::parse(out.substr(0, newline));
  const json second = json::parse(out.substr(newline + 1));
  EXPECT_EQ(first["id"], 1);
  EXPECT_EQ(first["result"], (json{{"answered", json::array({1})}}));
  EXPECT_EQ(second["id"], 2);
  EXPECT_EQ(second["result"], json::array({2}));
}

// A client that sends a change and a commit and hangs up: the work it asked for is done all the
// same (as when every line was handled at once), its answers dropped, and the connection goes
// after the last one.
TEST_F(ServerTest, ACallerThatHangsUpStillHasItsRequestsDone) {
  dispatcher_.add("count",
                  [this](const json&, const CallContext&) -> CallResult { return ++counted_; });
  start();
  {
    UniqueFd gone = raw_connect();
    send_all(gone.get(), R"({"jsonrpc":"2.0","id":1,"method":"later"})"
                         "\n"
                         R"({"jsonrpc":"2.0","id":2,"method":"count"})"
                         "\n");
    wait_for_later(1);
  }
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(server_->connection_count(), 1u) << "kept while its work is under way";
  EXPECT_EQ(counted_.load(), 0);
  answer_later();  // nobody to give it to: dropped; the line behind it runs
  for (int i = 0; i < 200 && server_->connection_count() != 0; ++i) {
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_EQ(server_->connection_count(), 0u);
  EXPECT_EQ(counted_.load(), 1);
  Client client(path_);
  EXPECT_FALSE(is_error(client.call("echo")));
}

// Lines held back while the answers ahead of them were over the output limit go on once those
// answers are sent (they waited for the idle timeout).
TEST_F(ServerTest, LinesHeldBehindALargeAnswerGoOnOnceItIsSent) {
  start({.max_pending_output = 1000});
  UniqueFd fd = raw_connect();
  const std::string big(5000, 'x');
  send_all(fd.get(), R"({"jsonrpc":"2.0","id":1,"method":"later","params":[")" + big +
                         R"("]})"
                         "\n"
                         R"({"jsonrpc":"2.0","id":2,"method":"echo"})"
                         "\n"
                         R"({"jsonrpc":"2.0","id":3,"method":"echo"})"
                         "\n");
  wait_for_later(1);
  answer_later();
  const std::string out = read_lines(fd.get(), 3);
  EXPECT_NE(out.find(R"("id":3)"), std::string::npos) << out.substr(0, 200);
}

// A client that sends its request and shuts its side (as `echo ... | socat`) still gets the
// answer that comes later, and the connection closes after it.
TEST_F(ServerTest, AHalfClosedCallerStillGetsItsLaterAnswer) {
  start();
  UniqueFd fd = raw_connect();
  send_all(fd.get(), R"({"jsonrpc":"2.0","id":7,"method":"later","params":["x"]})"
                     "\n");
  ASSERT_EQ(::shutdown(fd.get(), SHUT_WR), 0);
  wait_for_later(1);
  answer_later();
  const std::string out = read_lines(fd.get(), 1);
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(json::parse(out)["id"], 7);
  EXPECT_TRUE(peer_closed(fd.get()));
}

TEST_F(ServerAsUserTest, RequestsPiledUpBehindALaterAnswerAreBounded) {
  start_as_users({});
  UniqueFd fd = raw_connect();  // as uid 4242, not the daemon's own user
  std::string burst = R"({"jsonrpc":"2.0","id":0,"method":"later"})"
                      "\n";
  for (int i = 1; i <= 100; ++i) {
    burst += R"({"jsonrpc":"2.0","id":)" + std::to_string(i) + R"(,"method":"echo"})" + "\n";
  }
  send_all(fd.get(), burst);
  wait_for_later(1);
  answer_later();
  const std::string out = read_lines(fd.get(), 3);
  EXPECT_NE(out.find("more than 64 requests wait behind one being answered"), std::string::npos)
      << out;
  EXPECT_TRUE(peer_closed(fd.get()));
}

}  // namespace
}  // namespace vigil::rpc
