#include "l7proxy/tls/client_tls.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "common/small_file.h"
#include "l7proxy/tls/pem_files.h"

namespace vigil::l7 {
namespace {

// A CA bundle larger than this many certificates is not a deliberate choice.
constexpr size_t kMaxCaCertificates = 1000;

// The CAs of `file` into `ctx`'s store: every PEM certificate in it, at least one.
Status load_cas(SSL_CTX* ctx, const std::string& file) {
  auto pem = read_small_file(file, kMaxCertificateFileBytes);
  if (!pem) {
    return fail("ca: " + pem.error());
  }
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem->data(), static_cast<int>(pem->size())));
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  size_t count = 0;
  ERR_clear_error();
  while (X509Ptr ca{PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)}) {
    if (++count > kMaxCaCertificates) {
      return fail("ca: " + file + " has more than 1000 certificates");
    }
    if (X509_STORE_add_cert(store, ca.get()) != 1) {
      return fail("ca: " + file + ": " + openssl_error());
    }
  }
  // The loop ends at the file's end (no further PEM start line) or at a block that does not
  // parse: the second must not pass for the first, leaving the CAs after it out unseen.
  const unsigned long last = ERR_peek_last_error();
  ERR_clear_error();
  if (last != 0 &&
      !(ERR_GET_LIB(last) == ERR_LIB_PEM && ERR_GET_REASON(last) == PEM_R_NO_START_LINE)) {
    return fail("ca: " + file + ": certificate " + std::to_string(count + 1) + " cannot be read");
  }
  if (count == 0) {
    return fail("ca: " + file + " holds no PEM certificate");
  }
  return Ok{};
}

}  // namespace

Expected<std::shared_ptr<const ClientTls>> ClientTls::load(const UpstreamTlsSpec& spec,
                                                           std::string_view upstream) {
  const auto where = [&](const std::string& what) {
    return "upstream " + std::string(upstream) + ": tls: " + what;
  };
  std::shared_ptr<ClientTls> tls(new ClientTls());
  tls->spec_ = spec;
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (ctx == nullptr) {
    return fail(where("cannot make a TLS context: " + openssl_error()));
  }
  tls->ctx_ = ctx;  // freed with tls from here on
  SSL_CTX_set_min_proto_version(ctx, spec.tls13_only ? TLS1_3_VERSION : TLS1_2_VERSION);
  if (SSL_CTX_set_cipher_list(ctx, kDefaultTls12Ciphers) != 1) {
    return fail(where("the cipher list is refused: " + openssl_error()));
  }
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                            SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  // No resumption yet: a kept-alive connection makes few full handshakes.
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  static constexpr unsigned char kHttp1[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  static constexpr unsigned char kH2[] = {2, 'h', '2'};
  const bool ok = spec.http2 ? SSL_CTX_set_alpn_protos(ctx, kH2, sizeof kH2) == 0
                             : SSL_CTX_set_alpn_protos(ctx, kHttp1, sizeof kHttp1) == 0;
  if (!ok) {  // 0 is success here
    return fail(where("ALPN: " + openssl_error()));
  }
  if (spec.verify) {
    if (!spec.ca_file.empty()) {
      if (auto st = load_cas(ctx, spec.ca_file); !st) {
        return fail(where(st.error()));
      }
    } else if (auto st = load_cas(ctx, X509_get_default_cert_file()); !st) {
      // Read here, whole, rather than looked up on a worker when a target is met: a box
      // without one fails the commit, not every handshake.
      return fail(where("the system's trust store: " + st.error() +
                        " (install ca-certificates, or give ca)"));
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    SSL_CTX_set_verify_depth(ctx, 8);
  } else {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  }
  if (spec.certificate) {
    const CertificateSpec& c = *spec.certificate;
    const auto about = [&](const std::string& what) {
      return where("certificate " + c.name + ": " + what);
    };
    auto chain = read_chain(c.certificate_file);
    if (!chain) {
      return fail(about(chain.error()));
    }
    auto key = read_key(c.private_key_file);
    if (!key) {
      return fail(about(key.error()));
    }
    if (SSL_CTX_use_certificate(ctx, chain->first.get()) != 1) {
      return fail(about(c.certificate_file + " cannot be used: " + openssl_error()));
    }
    for (auto& intermediate : chain->second) {
      if (SSL_CTX_add1_chain_cert(ctx, intermediate.get()) != 1) {
        return fail(
            about(c.certificate_file + ": an intermediate cannot be used: " + openssl_error()));
      }
    }
    if (SSL_CTX_use_PrivateKey(ctx, key->get()) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
      ERR_clear_error();
      return fail(about(c.private_key_file + " is not the key of " + c.certificate_file));
    }
  }
  return std::shared_ptr<const ClientTls>(std::move(tls));
}

ClientTls::~ClientTls() {
  SSL_CTX_free(ctx_);
}

SslPtr ClientTls::new_session(int fd, std::string_view target_name,
                              const sockaddr_storage& address) const {
  SslPtr ssl(SSL_new(ctx_));
  if (!ssl || SSL_set_fd(ssl.get(), fd) != 1) {
    ERR_clear_error();
    return nullptr;
  }
  const std::string name(!spec_.server_name.empty() ? std::string_view(spec_.server_name)
                                                    : target_name);
  bool ok = true;
  if (!name.empty()) {
// OpenSSL's macro casts in C's way.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
    ok = SSL_set_tlsext_host_name(ssl.get(), name.c_str()) == 1;
#pragma GCC diagnostic pop
    if (spec_.verify) {
      // The subjectAltName only, as browsers and Go check: a common name is not a host name.
      SSL_set_hostflags(ssl.get(),
                        X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS | X509_CHECK_FLAG_NEVER_CHECK_SUBJECT);
      ok = ok && SSL_set1_host(ssl.get(), name.c_str()) == 1;
    }
  } else if (spec_.verify) {
    // No name to ask for or check: the certificate must name the address (an IP SAN).
    char text[INET6_ADDRSTRLEN] = {};
    const void* raw =
        address.ss_family == AF_INET6
            ? static_cast<const void*>(&reinterpret_cast<const sockaddr_in6*>(&address)->sin6_addr)
            : static_cast<const void*>(&reinterpret_cast<const sockaddr_in*>(&address)->sin_addr);
    ok = ::inet_ntop(address.ss_family, raw, text, sizeof text) != nullptr &&
         X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl.get()), text) == 1;
  }
  if (!ok) {
    ERR_clear_error();
    return nullptr;
  }
  SSL_set_connect_state(ssl.get());
  return ssl;
}

}  // namespace vigil::l7
