// TLS listeners: loading (each bad file an error naming it), SNI's choice, and a real proxy on
// loopback with OpenSSL clients: the certificate a name gets, HTTPS seen upstream, client
// certificates required or refused, the verified subject passed up and a forged one dropped,
// resumption by ticket, old protocols refused, OCSP stapling, and a reload that swaps the
// certificate or, when a file is bad, changes nothing.
#include "l7proxy/tls/server_tls.h"

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdlib.h>

#include <filesystem>

#include "l7proxy/core/proxy.h"
#include "tests/unit/l7proxy/core/loopback_harness.h"
#include "tests/unit/l7proxy/tls/test_pki.h"

namespace vigil::l7 {
namespace {

using namespace std::chrono_literals;

class TempDir {
 public:
  TempDir() {
    char pattern[] = "/tmp/vigil-tls-XXXXXX";
    path_ = ::mkdtemp(pattern);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

std::string common_name_of(X509* x) {
  char text[256] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, text, sizeof text);
  return text;
}

// An OCSP response from `ca` saying `leaf` is good.
std::string ocsp_good(const test_pki::Issued& leaf, const test_pki::Issued& ca) {
  OCSP_BASICRESP* basic = OCSP_BASICRESP_new();
  OCSP_CERTID* id = OCSP_cert_to_id(EVP_sha1(), leaf.certificate.get(), ca.certificate.get());
  ASN1_TIME* now = X509_gmtime_adj(nullptr, 0);
  ASN1_TIME* next = X509_gmtime_adj(nullptr, 86400);
  OCSP_basic_add1_status(basic, id, V_OCSP_CERTSTATUS_GOOD, 0, nullptr, now, next);
  OCSP_basic_sign(basic, ca.certificate.get(), ca.key.get(), EVP_sha256(), nullptr, 0);
  OCSP_RESPONSE* response = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, basic);
  unsigned char* der = nullptr;
  const int n = i2d_OCSP_RESPONSE(response, &der);
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(n));
  OPENSSL_free(der);
  OCSP_RESPONSE_free(response);
  OCSP_CERTID_free(id);
  ASN1_TIME_free(now);
  ASN1_TIME_free(next);
  OCSP_BASICRESP_free(basic);
  return out;
}

// SSL_get_tlsext_status_ocsp_resp without its C cast.
long ocsp_staple(SSL* ssl, const unsigned char** staple) {
  return SSL_ctrl(ssl, SSL_CTRL_GET_TLSEXT_STATUS_REQ_OCSP_RESP, 0, static_cast<void*>(staple));
}

// A blocking OpenSSL client on loopback.
class TlsClient {
 public:
  struct Options {
    std::string server_name;
    const test_pki::Issued* certificate = nullptr;  // a client certificate
    SSL_SESSION* session = nullptr;                 // to resume
    int max_version = 0;                            // 0: any
    bool ask_ocsp = false;
  };

  TlsClient(uint16_t port, const Options& o) : fd_(dial(port)) {
    ctx_ = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_NONE, nullptr);  // the tests look at what came
    if (o.max_version != 0) {
      SSL_CTX_set_min_proto_version(ctx_, TLS1_VERSION);
      SSL_CTX_set_max_proto_version(ctx_, o.max_version);
      SSL_CTX_set_security_level(ctx_, 0);
    }
    if (o.certificate != nullptr) {
      SSL_CTX_use_certificate(ctx_, o.certificate->certificate.get());
      SSL_CTX_use_PrivateKey(ctx_, o.certificate->key.get());
    }
    // TLS 1.3's tickets arrive after the handshake: kept as they come.
    SSL_CTX_set_session_cache_mode(ctx_, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL);
    SSL_CTX_sess_set_new_cb(ctx_, [](SSL* ssl, SSL_SESSION* s) {
      auto* self = static_cast<TlsClient*>(SSL_get_app_data(ssl));
      if (self->session_ != nullptr) {
        SSL_SESSION_free(self->session_);
      }
      self->session_ = s;
      return 1;
    });
    ssl_ = SSL_new(ctx_);
    SSL_set_app_data(ssl_, this);
    SSL_set_fd(ssl_, fd_.get());
    if (!o.server_name.empty()) {
      SSL_ctrl(ssl_, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
               const_cast<char*>(o.server_name.c_str()));
    }
    if (o.session != nullptr) {
      SSL_set_session(ssl_, o.session);
    }
    if (o.ask_ocsp) {
      SSL_ctrl(ssl_, SSL_CTRL_SET_TLSEXT_STATUS_REQ_TYPE, TLSEXT_STATUSTYPE_ocsp, nullptr);
    }
    static constexpr unsigned char kAlpn[] = "\x02h2\x08http/1.1";
    SSL_set_alpn_protos(ssl_, kAlpn, sizeof kAlpn - 1);
    connected_ = SSL_connect(ssl_) == 1;
    ERR_clear_error();
  }
  ~TlsClient() {
    // Shut down, not just freed: OpenSSL marks a session freed mid-connection unresumable.
    SSL_shutdown(ssl_);
    ERR_clear_error();
    SSL_free(ssl_);
    SSL_CTX_free(ctx_);
    if (session_ != nullptr) {
      SSL_SESSION_free(session_);
    }
  }

  bool connected() const { return connected_; }
  SSL* ssl() const { return ssl_; }
  SSL_SESSION* session() const { return session_; }
  std::string served_name() const {
    X509* peer = SSL_get0_peer_certificate(ssl_);
    return peer != nullptr ? common_name_of(peer) : "";
  }

  // Sends `request` and reads one whole response ("" if the connection failed first).
  std::string exchange(std::string_view request) {
    if (SSL_write(ssl_, request.data(), static_cast<int>(request.size())) <= 0) {
      ERR_clear_error();
      return "";
    }
    std::string got;
    char buf[16384];
    while (whole_responses(got) < 1) {
      const int n = SSL_read(ssl_, buf, sizeof buf);
      if (n <= 0) {
        ERR_clear_error();
        break;
      }
      got.append(buf, static_cast<size_t>(n));
    }
    return got;
  }

 private:
  UniqueFd fd_;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  SSL_SESSION* session_ = nullptr;
  bool connected_ = false;
};

constexpr std::string_view kGet = "GET /x HTTP/1.1\r\nHost: www.example.com\r\n\r\n";

class TlsTest : public testing::Test {
 protected:
  TlsTest() {
    ::signal(SIGPIPE, SIG_IGN);  // as the daemons do (common/signals): OpenSSL uses write(2)
    ca_ = test_pki::issue("Test CA", {}, nullptr, true);
    www_ = test_pki::issue("www", {"www.example.com", "example.com"}, &ca_);
    api_ = test_pki::issue("api", {"*.api.example.com"}, &ca_);
    client_ = test_pki::issue("alice", {}, &ca_);
    test_pki::write(www_, dir_.path(), "www", {&ca_});
    test_pki::write(api_, dir_.path(), "api");
    test_pki::write(ca_, dir_.path(), "ca");
  }

  CertificateSpec certificate(const std::string& stem) {
    return {.name = stem,
            .certificate_file = dir_ / (stem + ".pem"),
            .private_key_file = dir_ / (stem + ".key")};
  }
  ListenerTlsSpec spec() {
    ListenerTlsSpec s;
    s.certificates = {certificate("www"), certificate("api")};
    return s;
  }
  Expected<std::shared_ptr<const ServerTls>> load(const ListenerTlsSpec& s) {
    return ServerTls::load(s, std::make_shared<TicketKeyRing>(), "https");
  }

  // A proxy with one TLS listener, "/" to the backend.
  void start(const ListenerTlsSpec& tls, uint16_t backend) {
    auto config = std::make_shared<ProxyConfig>();
    port_ = free_port();
    config->listeners.push_back(
        {.name = "https",
         .address = *net::HostPort::parse("127.0.0.1:" + std::to_string(port_)),
         .tls = tls});
    UpstreamSpec upstream{.name = "app"};
    upstream.targets.push_back(target(backend));
    config->upstreams.push_back(upstream);
    config->settings.header_timeout = 2000ms;
    run_routed_to_app(config, proxy_);
  }
  uint64_t stat(const char* name) { return proxy_->stats()[name].get<uint64_t>(); }
  // A commit to the running proxy: the same listener with `tls`.
  void commit(const ListenerTlsSpec& tls, uint16_t backend) {
    auto config = std::make_shared<ProxyConfig>(*proxy_->config());
    config->listeners[0].tls = tls;
    auto prepared = proxy_->prepare(config);
    ASSERT_TRUE(prepared) << prepared.error();
    ASSERT_TRUE(proxy_->activate(std::move(*prepared)));
    (void)backend;
  }

  TempDir dir_;
  test_pki::Issued ca_, www_, api_, client_;
  uint16_t port_ = 0;
  std::unique_ptr<Proxy> proxy_;
};

TEST_F(TlsTest, EachBadFileIsAnErrorNamingIt) {
  auto s = spec();
  s.certificates[0].certificate_file = dir_ / "missing.pem";
  auto r = load(s);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("certificate www: cannot read " + dir_ / "missing.pem"),
            std::string::npos)
      << r.error();

  s = spec();
  ::chmod((dir_ / "www.key").c_str(), 0644);
  r = load(s);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("has mode 0644"), std::string::npos) << r.error();
  ::chmod((dir_ / "www.key").c_str(), 0600);

  s = spec();
  s.certificates[0].private_key_file = dir_ / "api.key";
  r = load(s);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("api.key is not the key of " + dir_ / "www.pem"), std::string::npos)
      << r.error();

  test_pki::write_file(dir_ / "garbage.pem", "not a certificate\n", 0644);
  s = spec();
  s.certificates[0].certificate_file = dir_ / "garbage.pem";
  r = load(s);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("holds no PEM certificate"), std::string::npos) << r.error();

  s = spec();
  s.certificates[0].ocsp_response_file = dir_ / "garbage.pem";
  r = load(s);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("is not a DER OCSP response"), std::string::npos) << r.error();

  s = spec();
  s.client_ca_file = dir_ / "garbage.pem";
  s.client_certificate = ClientCertificate::kRequired;
  r = load(s);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("client_ca: "), std::string::npos) << r.error();

  EXPECT_TRUE(load(spec())) << "the files as they are load";
}

TEST_F(TlsTest, SniPicksExactThenWildcardThenTheFirst) {
  auto tls = load(spec());
  ASSERT_TRUE(tls) << tls.error();
  const ServerTls& t = **tls;
  EXPECT_EQ(t.pick("www.example.com"), 0u);
  EXPECT_EQ(t.pick("EXAMPLE.com"), 0u);
  EXPECT_EQ(t.pick("v2.api.example.com"), 1u);
  EXPECT_EQ(t.pick("a.v2.api.example.com"), 0u) << "a wildcard covers one label";
  EXPECT_EQ(t.pick("api.example.com"), 0u);
  EXPECT_EQ(t.pick("unknown.test"), 0u);
  EXPECT_EQ(t.pick(""), 0u);
  ASSERT_EQ(t.certificates().size(), 2u);
  EXPECT_EQ(t.certificates()[1].dns_names, std::vector<std::string>{"*.api.example.com"});
  EXPECT_GT(t.certificates()[0].not_after, 0);
}

TEST_F(TlsTest, HttpsIsProxiedWithTheCertificateSniAskedFor) {
  Backend backend;
  start(spec(), backend.port());
  {
    TlsClient c(port_, {.server_name = "www.example.com"});
    ASSERT_TRUE(c.connected());
    EXPECT_EQ(c.served_name(), "www");
    const std::string answer = c.exchange(kGet);
    EXPECT_TRUE(answer.starts_with("HTTP/1.1 200")) << answer;
    EXPECT_EQ(std::string(SSL_get_version(c.ssl())), "TLSv1.3");
    const unsigned char* alpn = nullptr;
    unsigned int alpn_length = 0;
    SSL_get0_alpn_selected(c.ssl(), &alpn, &alpn_length);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(alpn), alpn_length), "http/1.1");
    EXPECT_EQ(c.exchange(kGet).substr(0, 12), "HTTP/1.1 200") << "kept alive";
  }
  {
    TlsClient c(port_, {.server_name = "v2.api.example.com"});
    ASSERT_TRUE(c.connected());
    EXPECT_EQ(c.served_name(), "api");
    EXPECT_TRUE(c.exchange(kGet).starts_with("HTTP/1.1 200"));
  }
  {
    TlsClient c(port_, {});
    ASSERT_TRUE(c.connected());
    EXPECT_EQ(c.served_name(), "www") << "no name: the first certificate";
    EXPECT_TRUE(c.exchange(kGet).starts_with("HTTP/1.1 200"));
  }
  ASSERT_FALSE(backend.heads().empty());
  EXPECT_NE(backend.heads()[0].find("X-Forwarded-Proto: https\r\n"), std::string::npos);
  EXPECT_NE(backend.heads()[0].find("proto=https"), std::string::npos);
  EXPECT_EQ(stat("tls_handshakes"), 3u);

  // Plain HTTP to a TLS listener fails the handshake and is counted.
  const std::string plain = exchange(port_, kGet);
  EXPECT_FALSE(plain.starts_with("HTTP/1.1")) << plain;
  EXPECT_EQ(stat("tls_handshake_failures"), 1u);
}

TEST_F(TlsTest, OldProtocolsAreRefusedAndTls13OnlyRefusesTls12) {
  Backend backend;
  auto s = spec();
  start(s, backend.port());
  for (const int old : {TLS1_VERSION, TLS1_1_VERSION}) {
    TlsClient c(port_, {.max_version = old});
    EXPECT_FALSE(c.connected()) << "version " << old;
  }
  {
    TlsClient c(port_, {.max_version = TLS1_2_VERSION});
    ASSERT_TRUE(c.connected());
    const std::string cipher = SSL_get_cipher_name(c.ssl());
    EXPECT_TRUE(cipher.starts_with("ECDHE-ECDSA-") && cipher.find("GCM") != std::string::npos)
        << cipher;
  }
  s.tls13_only = true;
  start(s, backend.port());
  TlsClient c(port_, {.max_version = TLS1_2_VERSION});
  EXPECT_FALSE(c.connected());
}

TEST_F(TlsTest, ARequiredClientCertificateIsCheckedAndItsSubjectGoesUp) {
  Backend backend;
  auto s = spec();
  s.client_ca_file = dir_ / "ca.pem";
  s.client_certificate = ClientCertificate::kRequired;
  start(s, backend.port());
  {
    // TLS 1.3: the server's refusal arrives after the client's handshake is done, so it shows
    // on the first exchange.
    TlsClient c(port_, {});
    EXPECT_EQ(c.exchange(kGet), "");
  }
  {
    const test_pki::Issued stranger = test_pki::issue("mallory", {});  // self-signed
    TlsClient c(port_, {.certificate = &stranger});
    EXPECT_EQ(c.exchange(kGet), "");
  }
  EXPECT_TRUE(backend.heads().empty());
  TlsClient c(port_, {.certificate = &client_});
  ASSERT_TRUE(c.connected());
  const std::string answer =
      c.exchange("GET / HTTP/1.1\r\nHost: a\r\nX-Client-Subject: CN=admin\r\n\r\n");
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 200")) << answer;
  ASSERT_EQ(backend.heads().size(), 1u);
  const std::string head = backend.heads()[0];
  EXPECT_NE(head.find("X-Client-Subject: CN=alice,O=Vigil test\r\n"), std::string::npos) << head;
  EXPECT_EQ(head.find("CN=admin"), std::string::npos) << "the client's own field is dropped";
  EXPECT_EQ(stat("tls_handshake_failures"), 2u);
}

TEST_F(TlsTest, AnOptionalClientCertificateMayBeAbsentButNotForged) {
  Backend backend;
  auto s = spec();
  s.client_ca_file = dir_ / "ca.pem";
  s.client_certificate = ClientCertificate::kOptional;
  start(s, backend.port());
  TlsClient c(port_, {});
  ASSERT_TRUE(c.connected());
  const std::string answer =
      c.exchange("GET / HTTP/1.1\r\nHost: a\r\nX-Client-Subject: CN=admin\r\n\r\n");
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 200")) << answer;
  ASSERT_EQ(backend.heads().size(), 1u);
  EXPECT_EQ(backend.heads()[0].find("X-Client-Subject"), std::string::npos) << backend.heads()[0];
}

TEST_F(TlsTest, ASessionResumesByTicketUnlessTicketsAreOff) {
  Backend backend;
  auto s = spec();
  start(s, backend.port());
  SSL_SESSION* saved = nullptr;
  {
    TlsClient c(port_, {.server_name = "www.example.com"});
    ASSERT_TRUE(c.connected());
    c.exchange(kGet);  // TLS 1.3 tickets come after the handshake: read with the response
    ASSERT_NE(c.session(), nullptr);
    saved = SSL_get1_session(c.ssl());
  }
  // A TLS 1.3 ticket is for one use: each resumption hands out the next one.
  const auto resume = [&](SSL_SESSION*& session) {
    TlsClient c(port_, {.server_name = "www.example.com", .session = session});
    EXPECT_TRUE(c.connected());
    const bool reused = SSL_session_reused(c.ssl()) == 1;
    EXPECT_TRUE(c.exchange(kGet).starts_with("HTTP/1.1 200"));
    SSL_SESSION_free(session);
    // The ticket this connection was given (the one it resumed by is spent).
    session = c.session();
    if (session != nullptr) {
      SSL_SESSION_up_ref(session);
    }
    return reused;
  };
  EXPECT_TRUE(resume(saved));
  EXPECT_EQ(stat("tls_resumed"), 1u);
  EXPECT_TRUE(resume(saved)) << "and again, with the ticket the resumption gave";

  // A commit that keeps the policy keeps sessions resuming (the ticket keys are the proxy's,
  // not the config's)...
  commit(s, backend.port());
  std::this_thread::sleep_for(50ms);  // taken at the worker's next turn
  EXPECT_TRUE(resume(saved)) << "a commit that changed nothing of TLS broke resumption";
  // ...but one that asks for client certificates does not: a resumption asks for none.
  auto strict = s;
  strict.client_ca_file = dir_ / "ca.pem";
  strict.client_certificate = ClientCertificate::kOptional;
  commit(strict, backend.port());
  std::this_thread::sleep_for(50ms);
  EXPECT_FALSE(resume(saved)) << "resumed across a client-certificate change";
  SSL_SESSION_free(saved);

  s.session_tickets = false;
  commit(s, backend.port());
  std::this_thread::sleep_for(50ms);
  TlsClient c(port_, {.server_name = "www.example.com"});
  ASSERT_TRUE(c.connected());
  EXPECT_TRUE(c.exchange(kGet).starts_with("HTTP/1.1 200"));
  EXPECT_EQ(c.session(), nullptr) << "no ticket is issued";
}

TEST_F(TlsTest, AnOptionalClientCertificateThatFailsIsRefused) {
  Backend backend;
  auto s = spec();
  s.client_ca_file = dir_ / "ca.pem";
  s.client_certificate = ClientCertificate::kOptional;
  start(s, backend.port());
  const test_pki::Issued stranger = test_pki::issue("mallory", {});  // self-signed
  TlsClient c(port_, {.certificate = &stranger});
  EXPECT_EQ(c.exchange(kGet), "");
  EXPECT_TRUE(backend.heads().empty());
}

TEST_F(TlsTest, NoListenerLetsAClientForgeTheSubjectField) {
  Backend backend;
  start(spec(), backend.port());  // TLS without client certificates
  TlsClient c(port_, {});
  ASSERT_TRUE(c.connected());
  EXPECT_TRUE(c.exchange("GET / HTTP/1.1\r\nHost: a\r\nx-client-subject: CN=admin\r\n\r\n")
                  .starts_with("HTTP/1.1 200"));
  ASSERT_EQ(backend.heads().size(), 1u);
  EXPECT_EQ(backend.heads()[0].find("CN=admin"), std::string::npos) << backend.heads()[0];
}

TEST_F(TlsTest, ALargeResponseToASlowReaderArrivesWhole) {
  // 8 MiB against a client that waits before reading: the proxy's writes block on a full
  // socket (OpenSSL's want-write) and must resume on EPOLLOUT.
  const std::string body(size_t{8} << 20, 'z');
  Backend backend([&](const std::string&, const std::string&) {
    return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  });
  start(spec(), backend.port());
  TlsClient c(port_, {});
  ASSERT_TRUE(c.connected());
  ASSERT_GT(SSL_write(c.ssl(), kGet.data(), static_cast<int>(kGet.size())), 0);
  std::this_thread::sleep_for(300ms);
  std::string got;
  char buf[65536];
  while (got.size() < body.size() + 40) {
    const int n = SSL_read(c.ssl(), buf, sizeof buf);
    if (n <= 0) {
      break;
    }
    got.append(buf, static_cast<size_t>(n));
  }
  const size_t head_end = got.find("\r\n\r\n");
  ASSERT_NE(head_end, std::string::npos);
  EXPECT_EQ(got.size() - head_end - 4, body.size());
}

TEST_F(TlsTest, AnOcspResponseIsStapledWhenAskedFor) {
  Backend backend;
  test_pki::write_file(dir_ / "www.ocsp", ocsp_good(www_, ca_), 0644);
  auto s = spec();
  s.certificates[0].ocsp_response_file = dir_ / "www.ocsp";
  start(s, backend.port());
  {
    TlsClient c(port_, {.server_name = "www.example.com", .ask_ocsp = true});
    ASSERT_TRUE(c.connected());
    const unsigned char* staple = nullptr;
    const long length = ocsp_staple(c.ssl(), &staple);
    ASSERT_GT(length, 0);
    OCSP_RESPONSE* r = d2i_OCSP_RESPONSE(nullptr, &staple, length);
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(OCSP_response_status(r), OCSP_RESPONSE_STATUS_SUCCESSFUL);
    OCSP_RESPONSE_free(r);
  }
  TlsClient c(port_, {.server_name = "x.api.example.com", .ask_ocsp = true});
  ASSERT_TRUE(c.connected());
  const unsigned char* staple = nullptr;
  EXPECT_LE(ocsp_staple(c.ssl(), &staple), 0) << "api has none";
}

TEST_F(TlsTest, AReloadSwapsTheCertificateAndABadOneChangesNothing) {
  Backend backend;
  start(spec(), backend.port());
  TlsClient before(port_, {.server_name = "www.example.com"});
  ASSERT_TRUE(before.connected());
  EXPECT_EQ(before.served_name(), "www");

  const test_pki::Issued renewed = test_pki::issue("www-renewed", {"www.example.com"}, &ca_);
  test_pki::write(renewed, dir_.path(), "www");
  ASSERT_TRUE(proxy_->reload());
  auto served = [&] {
    // The worker takes the reload at its next turn: asked until it shows (a second at most).
    for (int i = 0; i < 100; ++i) {
      TlsClient c(port_, {.server_name = "www.example.com"});
      if (c.served_name() != "www") {
        return c.served_name();
      }
      std::this_thread::sleep_for(10ms);
    }
    return std::string("www");
  };
  EXPECT_EQ(served(), "www-renewed");
  EXPECT_TRUE(before.exchange(kGet).starts_with("HTTP/1.1 200")) << "an open connection stays";

  test_pki::write_file(dir_ / "www.pem", "truncated\n", 0644);
  const auto st = proxy_->reload();
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().find("listener https: certificate www: "), std::string::npos) << st.error();
  TlsClient after(port_, {.server_name = "www.example.com"});
  ASSERT_TRUE(after.connected());
  EXPECT_EQ(after.served_name(), "www-renewed");
}

}  // namespace
}  // namespace vigil::l7
