// TLS toward upstreams, end to end on loopback: a real Proxy whose upstream is a small
// blocking OpenSSL server with certificates made here. The target's certificate is verified
// against the CA given (and the name it is reached by: the server name, the target's DNS
// name, or its address), a certificate that does not verify is a 502 and counted, `verify:
// false` takes any, a client certificate goes to a target that asks, connections are kept
// alive through TLS, and health checks speak TLS too. Loading: each file's error names it.
#include "l7proxy/tls/client_tls.h"

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "l7proxy/core/proxy.h"
#include "tests/unit/l7proxy/core/loopback_harness.h"
#include "tests/unit/l7proxy/tls/test_pki.h"

namespace vigil::l7 {
namespace {

using namespace std::chrono_literals;

// One TLS connection at a time, each served until it closes: a head in, "sni=<name>
// client=<subject>" out (HTTP/1.1, kept alive). A failed handshake is counted. Or, `until_close`,
// one answer whose body ends with the connection, closed with close_notify or (`notify` false)
// by a bare FIN, as a cut on the path would.
class TlsBackend {
 public:
  enum class Ending { kKeepAlive, kCloseNotify, kBareFin };
  explicit TlsBackend(const test_pki::Issued& certificate,
                      const test_pki::Issued* client_ca = nullptr,
                      Ending ending = Ending::kKeepAlive)
      : ending_(ending) {
    ctx_ = SSL_CTX_new(TLS_server_method());
    SSL_CTX_use_certificate(ctx_, certificate.certificate.get());
    SSL_CTX_use_PrivateKey(ctx_, certificate.key.get());
    if (client_ca != nullptr) {
      X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx_), client_ca->certificate.get());
      SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    }
    std::tie(listener_, port_) = listen_on();
    thread_ = std::thread([this] { serve(); });
  }
  ~TlsBackend() {
    stopping_ = true;
    ::shutdown(listener_.get(), SHUT_RDWR);
    {
      const std::lock_guard lock(mutex_);
      if (current_ >= 0) {
        ::shutdown(current_, SHUT_RDWR);
      }
    }
    thread_.join();
    SSL_CTX_free(ctx_);
  }
  uint16_t port() const { return port_; }
  int handshakes() const { return handshakes_.load(); }
  // The proxy answers 502 as soon as it refuses the certificate; this side counts the failure
  // only once the alert reaches it, so a test waits (up to 5 s) for the count it expects.
  int await_failed_handshakes(int expected) const {
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (failed_.load() < expected && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(1ms);
    }
    return failed_.load();
  }
  int requests() const { return requests_.load(); }

 private:
  void serve() {
    while (!stopping_) {
      const int fd = ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) {
        return;
      }
      {
        const std::lock_guard lock(mutex_);
        current_ = fd;
      }
      timeval tv{.tv_sec = 5, .tv_usec = 0};
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      SSL* ssl = SSL_new(ctx_);
      SSL_set_fd(ssl, fd);
      if (SSL_accept(ssl) == 1) {
        ++handshakes_;
        answer(ssl);
      } else {
        ++failed_;
      }
      ERR_clear_error();
      SSL_free(ssl);
      {
        const std::lock_guard lock(mutex_);
        current_ = -1;
      }
      ::close(fd);
    }
  }
  void answer(SSL* ssl) {
    std::string pending;
    char buf[4096];
    for (;;) {
      while (pending.find("\r\n\r\n") == std::string::npos) {
        const int n = SSL_read(ssl, buf, sizeof buf);
        if (n <= 0) {
          return;
        }
        pending.append(buf, static_cast<size_t>(n));
      }
      pending.erase(0, pending.find("\r\n\r\n") + 4);
      ++requests_;
      const char* sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
      std::string client = "none";
      if (X509* peer = SSL_get1_peer_certificate(ssl)) {
        char name[256] = {};
        X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, name, sizeof name);
        client = name;
        X509_free(peer);
      }
      const std::string text =
          "sni=" + std::string(sni != nullptr ? sni : "none") + " client=" + client;
      if (ending_ != Ending::kKeepAlive) {
        const std::string out = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + text;
        SSL_write(ssl, out.data(), static_cast<int>(out.size()));
        if (ending_ == Ending::kCloseNotify) {
          SSL_shutdown(ssl);
        }
        return;
      }
      const std::string out =
          "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(text.size()) + "\r\n\r\n" + text;
      if (SSL_write(ssl, out.data(), static_cast<int>(out.size())) <= 0) {
        return;
      }
    }
  }

  Ending ending_;
  SSL_CTX* ctx_ = nullptr;
  UniqueFd listener_;
  uint16_t port_ = 0;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  int current_ = -1;
  std::atomic<int> handshakes_{0}, failed_{0}, requests_{0};
};

class ClientTlsTest : public testing::Test {
 protected:
  void SetUp() override {
    ::signal(SIGPIPE, SIG_IGN);  // as the daemons do (common/signals): OpenSSL uses write(2)
    dir_ = testing::TempDir() + "client_tls_" + std::to_string(::getpid());
    std::filesystem::create_directories(dir_);
    ca_ = test_pki::issue("Test CA", {}, nullptr, true);
    test_pki::write(ca_, dir_, "ca");
    other_ca_ = test_pki::issue("Other CA", {}, nullptr, true);
    test_pki::write(other_ca_, dir_, "other-ca");
    client_ = test_pki::issue("edge-1", {}, &ca_);
    test_pki::write(client_, dir_, "client");
  }
  void TearDown() override {
    proxy_.reset();
    std::filesystem::remove_all(dir_);
  }

  // A proxy on a free port, "/" to one target at `backend_port`, its upstream over `tls`.
  void start(uint16_t backend_port, const UpstreamTlsSpec& tls, const std::string& name = "",
             const std::function<void(UpstreamSpec&)>& tweak = {}) {
    auto config = std::make_shared<ProxyConfig>();
    port_ = free_port();
    config->listeners.push_back(
        {.name = "web", .address = *net::HostPort::parse("127.0.0.1:" + std::to_string(port_))});
    UpstreamSpec upstream{.name = "app"};
    TargetSpec t = target(backend_port);
    t.name = name;
    upstream.targets.push_back(t);
    upstream.connect_timeout = 1000ms;
    upstream.response_timeout = 1000ms;
    upstream.retries = 0;
    upstream.tls = tls;
    if (tweak) {
      tweak(upstream);
    }
    config->upstreams.push_back(upstream);
    run_routed_to_app(config, proxy_);
  }
  // The running proxy takes the same config with its upstream over `tls`, as a commit would.
  void reapply(uint16_t backend_port, const UpstreamTlsSpec& tls) {
    auto config = std::make_shared<ProxyConfig>(*proxy_->config());
    config->upstreams[0].tls = tls;
    config->upstreams[0].client_tls = nullptr;
    config->upstreams[0].targets = {target(backend_port)};
    auto prepared = proxy_->prepare(config);
    ASSERT_TRUE(prepared) << prepared.error();
    ASSERT_TRUE(proxy_->activate(std::move(*prepared)));
  }
  std::string get() { return exchange(port_, "GET / HTTP/1.1\r\nHost: a\r\n\r\n"); }
  uint64_t stat(const char* name) { return proxy_->stats()[name].get<uint64_t>(); }
  UpstreamTlsSpec verified_by(const std::string& ca_stem, const std::string& server_name = "") {
    return {.server_name = server_name, .ca_file = dir_ + "/" + ca_stem + ".pem"};
  }

  std::string dir_;
  test_pki::Issued ca_, other_ca_, client_;
  uint16_t port_ = 0;
  std::unique_ptr<Proxy> proxy_;
};

TEST_F(ClientTlsTest, ATargetWhoseCertificateVerifiesIsSpokenToOverTlsAndKeptAlive) {
  const auto server = test_pki::issue("backend.test", {"backend.test"}, &ca_);
  TlsBackend backend(server);
  start(backend.port(), verified_by("ca", "backend.test"));
  for (int i = 0; i < 3; ++i) {
    const std::string got = get();
    EXPECT_TRUE(got.starts_with("HTTP/1.1 200 OK\r\n")) << got;
    EXPECT_NE(got.find("sni=backend.test client=none"), std::string::npos) << got;
  }
  EXPECT_EQ(backend.handshakes(), 1) << "one connection, kept alive through TLS";
  EXPECT_EQ(backend.requests(), 3);
  EXPECT_EQ(stat("upstream_reused"), 2u);
  EXPECT_EQ(stat("upstream_tls_failures"), 0u);
}

TEST_F(ClientTlsTest, TheTargetsDnsNameIsSentAndVerifiedWhenNoServerNameIsGiven) {
  const auto server = test_pki::issue("app.internal", {"app.internal"}, &ca_);
  TlsBackend backend(server);
  start(backend.port(), verified_by("ca"), "app.internal");
  const std::string got = get();
  EXPECT_NE(got.find("sni=app.internal"), std::string::npos) << got;
}

TEST_F(ClientTlsTest, ATargetGivenByAddressMustHaveItInItsCertificate) {
  const auto by_address = test_pki::issue("127.0.0.1", {"IP:127.0.0.1"}, &ca_);
  {
    TlsBackend backend(by_address);
    start(backend.port(), verified_by("ca"));
    const std::string got = get();
    EXPECT_NE(got.find("sni=none"), std::string::npos) << got;  // no name to send
  }
  const auto by_name_only = test_pki::issue("backend.test", {"backend.test"}, &ca_);
  TlsBackend backend(by_name_only);
  start(backend.port(), verified_by("ca"));
  EXPECT_TRUE(get().starts_with("HTTP/1.1 502")) << "its address is not in the certificate";
  EXPECT_EQ(stat("upstream_tls_failures"), 1u);
}

TEST_F(ClientTlsTest, ACertificateThatDoesNotVerifyIsA502AndCounted) {
  const auto server = test_pki::issue("backend.test", {"backend.test"}, &ca_);
  TlsBackend backend(server);
  start(backend.port(), verified_by("other-ca", "backend.test"));  // another CA
  EXPECT_TRUE(get().starts_with("HTTP/1.1 502"));
  start(backend.port(), verified_by("ca", "elsewhere.test"));  // the right CA, another name
  EXPECT_TRUE(get().starts_with("HTTP/1.1 502"));
  EXPECT_EQ(stat("upstream_tls_failures"), 1u);
  EXPECT_EQ(stat("upstream_connect_failures"), 1u);
  EXPECT_EQ(backend.await_failed_handshakes(2), 2);
  EXPECT_EQ(backend.requests(), 0);
}

// A warm connection made under other TLS settings is never reused: a commit that changes the
// CA must not leave requests on a session the new CA would refuse.
TEST_F(ClientTlsTest, AWarmConnectionMadeUnderOtherTlsSettingsIsNotReused) {
  const auto server = test_pki::issue("backend.test", {"backend.test"}, &ca_);
  TlsBackend backend(server);
  start(backend.port(), verified_by("ca", "backend.test"));
  EXPECT_TRUE(get().starts_with("HTTP/1.1 200 OK\r\n"));
  reapply(backend.port(), verified_by("other-ca", "backend.test"));
  EXPECT_TRUE(get().starts_with("HTTP/1.1 502")) << "the warm connection was reused";
  EXPECT_EQ(stat("upstream_reused"), 0u);
  reapply(backend.port(), verified_by("ca", "backend.test"));
  EXPECT_TRUE(get().starts_with("HTTP/1.1 200 OK\r\n"));
}

// A body that ends with the connection is whole only if the target said so (close_notify):
// a bare FIN through TLS may be a cut on the path, so the client's connection is closed as
// after a reset, never with the end of a chunked body.
TEST_F(ClientTlsTest, ABodyEndedByABareFinIsNotPassedOnAsWhole) {
  const auto server = test_pki::issue("backend.test", {"backend.test"}, &ca_);
  {
    TlsBackend backend(server, nullptr, TlsBackend::Ending::kCloseNotify);
    start(backend.port(), verified_by("ca", "backend.test"));
    const std::string got = get();
    EXPECT_NE(got.find("sni=backend.test client=none\r\n0\r\n\r\n"), std::string::npos) << got;
  }
  TlsBackend backend(server, nullptr, TlsBackend::Ending::kBareFin);
  start(backend.port(), verified_by("ca", "backend.test"));
  UniqueFd c = dial(port_);
  send_all(c.get(), "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  const std::string got = read_until(c.get(), [](const std::string&) { return false; });
  EXPECT_EQ(backend.requests(), 1) << "answered, then cut";
  EXPECT_EQ(got.find("0\r\n\r\n"), std::string::npos) << "told whole: " << got;
}

TEST_F(ClientTlsTest, WithoutVerificationAnyCertificateIsTaken) {
  const auto self_signed = test_pki::issue("whatever", {"whatever"});
  TlsBackend backend(self_signed);
  start(backend.port(), {.server_name = "backend.test", .verify = false});
  EXPECT_TRUE(get().starts_with("HTTP/1.1 200 OK\r\n"));
}

TEST_F(ClientTlsTest, AClientCertificateGoesToATargetThatAsksForIt) {
  const auto server = test_pki::issue("backend.test", {"backend.test"}, &ca_);
  TlsBackend backend(server, &ca_);
  UpstreamTlsSpec tls = verified_by("ca", "backend.test");
  start(backend.port(), tls);
  EXPECT_TRUE(get().starts_with("HTTP/1.1 502")) << "no certificate: the target refuses";
  // Under TLS 1.3 the refusal comes after the handshake, with the first read: still a TLS
  // failure, counted as one.
  EXPECT_EQ(stat("upstream_tls_failures"), 1u);
  tls.certificate = CertificateSpec{.name = "edge",
                                    .certificate_file = dir_ + "/client.pem",
                                    .private_key_file = dir_ + "/client.key"};
  start(backend.port(), tls);
  const std::string got = get();
  EXPECT_NE(got.find("client=edge-1"), std::string::npos) << got;
}

TEST_F(ClientTlsTest, HealthChecksSpeakTlsAndAFailedHandshakeSaysSo) {
  const auto server = test_pki::issue("backend.test", {"backend.test"}, &ca_);
  TlsBackend backend(server);
  const auto checked = [](UpstreamSpec& u) {
    u.health_check = HealthCheckSettings{
        .path = "/healthz", .interval = 100ms, .timeout = 100ms, .thresholds = {1, 1}};
  };
  const auto health = [&] { return proxy_->show().upstreams[0].targets[0]; };
  start(backend.port(), verified_by("ca", "backend.test"), "", checked);
  for (int i = 0; i < 300 && health().health != "healthy"; ++i) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(health().health, "healthy");
  start(backend.port(), verified_by("other-ca", "backend.test"), "", checked);
  for (int i = 0; i < 300 && health().health != "unhealthy"; ++i) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(health().health, "unhealthy");
  EXPECT_EQ(health().last_failure, "TLS handshake failed");
}

TEST_F(ClientTlsTest, EachFileThatCannotBeUsedIsNamed) {
  const auto load = [](const UpstreamTlsSpec& spec) { return ClientTls::load(spec, "app"); };
  auto missing = load({.ca_file = dir_ + "/nowhere.pem"});
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().find("upstream app: tls: ca: "), std::string::npos) << missing.error();
  EXPECT_NE(missing.error().find("nowhere.pem"), std::string::npos) << missing.error();
  test_pki::write_file(dir_ + "/empty.pem", "not a certificate\n", 0644);
  auto empty = load({.ca_file = dir_ + "/empty.pem"});
  ASSERT_FALSE(empty);
  EXPECT_NE(empty.error().find("holds no PEM certificate"), std::string::npos) << empty.error();
  auto wrong_key = load({.certificate = CertificateSpec{.name = "edge",
                                                        .certificate_file = dir_ + "/client.pem",
                                                        .private_key_file = dir_ + "/ca.key"}});
  ASSERT_FALSE(wrong_key);
  EXPECT_NE(wrong_key.error().find("is not the key of"), std::string::npos) << wrong_key.error();
  ::chmod((dir_ + "/client.key").c_str(), 0644);
  auto readable = load({.certificate = CertificateSpec{.name = "edge",
                                                       .certificate_file = dir_ + "/client.pem",
                                                       .private_key_file = dir_ + "/client.key"}});
  ASSERT_FALSE(readable) << "a key others may read is refused";
  test_pki::write_file(dir_ + "/broken.pem",
                       test_pki::pem_of(ca_.certificate.get()) +
                           "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n" +
                           test_pki::pem_of(other_ca_.certificate.get()),
                       0644);
  auto broken = load({.ca_file = dir_ + "/broken.pem"});
  ASSERT_FALSE(broken) << "a CA after a broken block would be left out unseen";
  EXPECT_NE(broken.error().find("certificate 2 cannot be read"), std::string::npos)
      << broken.error();
  EXPECT_TRUE(load({.ca_file = dir_ + "/ca.pem"}));
  EXPECT_TRUE(load({}));  // the system's store
}

}  // namespace
}  // namespace vigil::l7
