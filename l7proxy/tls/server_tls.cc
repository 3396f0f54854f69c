#include "l7proxy/tls/server_tls.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cstring>
#include <ctime>

#include "common/small_file.h"
#include "l7proxy/tls/pem_files.h"

namespace vigil::l7 {
namespace {

struct CaNamesFree {
  void operator()(STACK_OF(X509_NAME) * names) const {
    sk_X509_NAME_pop_free(names, X509_NAME_free);
  }
};

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::vector<std::string> dns_names_of(X509* x) {
  std::vector<std::string> out;
  auto* names =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(x, NID_subject_alt_name, nullptr, nullptr));
  if (names != nullptr) {
    for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
      const GENERAL_NAME* g = sk_GENERAL_NAME_value(names, i);
      if (g->type == GEN_DNS) {
        const auto* data = ASN1_STRING_get0_data(g->d.dNSName);
        out.push_back(lower({reinterpret_cast<const char*>(data),
                             static_cast<size_t>(ASN1_STRING_length(g->d.dNSName))}));
      }
    }
    GENERAL_NAMES_free(names);
  }
  if (out.empty()) {
    // No subjectAltName: the common name, as clients of old did.
    X509_NAME* subject = X509_get_subject_name(x);
    const int at = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
    if (at >= 0) {
      const ASN1_STRING* cn = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, at));
      out.push_back(lower({reinterpret_cast<const char*>(ASN1_STRING_get0_data(cn)),
                           static_cast<size_t>(ASN1_STRING_length(cn))}));
    }
  }
  return out;
}

int64_t not_after_of(X509* x) {
  std::tm tm{};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) != 1) {
    return 0;
  }
  return static_cast<int64_t>(::timegm(&tm));
}

// Whether the client's ALPN list offers `protocol`; if so, `out` points at it in the list.
bool offered(std::string_view protocol, const unsigned char* in, unsigned int in_length,
             const unsigned char** out) {
  for (unsigned int i = 0; i < in_length;) {
    const unsigned int length = in[i];
    if (i + 1 + length > in_length) {
      return false;
    }
    if (length == protocol.size() && std::memcmp(in + i + 1, protocol.data(), length) == 0) {
      *out = in + i + 1;
      return true;
    }
    i += 1 + length;
  }
  return false;
}

// The server's preference: h2 where the listener speaks it and the client offers it, then
// http/1.1; neither offered, no protocol is (the client then speaks HTTP/1.1 or finds out it
// cannot). `arg`: whether the listener speaks HTTP/2 (non-null).
int select_alpn(SSL* /*ssl*/, const unsigned char** out, unsigned char* out_length,
                const unsigned char* in, unsigned int in_length, void* arg) {
  for (const std::string_view protocol : {std::string_view("h2"), std::string_view("http/1.1")}) {
    if (protocol == "h2" && arg == nullptr) {
      continue;
    }
    if (offered(protocol, in, in_length, out)) {
      *out_length = static_cast<unsigned char>(protocol.size());
      return SSL_TLSEXT_ERR_OK;
    }
  }
  return SSL_TLSEXT_ERR_NOACK;
}

int ex_index() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

// An OCSP response file: DER, successful, answering for `leaf` (issued by `issuer`) with
// "good", and current. What it is: the DER to staple and when it goes stale (0: never said).
struct Ocsp {
  std::string der;
  int64_t next_update = 0;
};

int64_t unix_time_of(const ASN1_GENERALIZEDTIME* t) {
  std::tm tm{};
  return t != nullptr && ASN1_TIME_to_tm(t, &tm) == 1 ? static_cast<int64_t>(::timegm(&tm)) : 0;
}

Expected<Ocsp> read_ocsp(const std::string& file, X509* leaf, X509* issuer) {
  auto der = read_small_file(file, kMaxCertificateFileBytes);
  if (!der) {
    return fail(der.error());
  }
  if (issuer == nullptr) {
    return fail(file +
                ": to check it, the certificate file must carry the issuer's "
                "certificate after the certificate");
  }
  const auto* p = reinterpret_cast<const unsigned char*>(der->data());
  std::unique_ptr<OCSP_RESPONSE, decltype(&OCSP_RESPONSE_free)> response(
      d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(der->size())), &OCSP_RESPONSE_free);
  if (!response) {
    ERR_clear_error();
    return fail(file + " is not a DER OCSP response");
  }
  const int status = OCSP_response_status(response.get());
  if (status != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
    return fail(file + " is an unsuccessful OCSP response (" + OCSP_response_status_str(status) +
                ")");
  }
  std::unique_ptr<OCSP_BASICRESP, decltype(&OCSP_BASICRESP_free)> basic(
      OCSP_response_get1_basic(response.get()), &OCSP_BASICRESP_free);
  if (!basic) {
    ERR_clear_error();
    return fail(file + " is not a basic OCSP response");
  }
  // Responders name certificates by SHA-1 hashes mostly, SHA-256 sometimes: both are tried.
  int cert_status = -1, reason = 0;
  ASN1_GENERALIZEDTIME *revoked = nullptr, *this_update = nullptr, *next_update = nullptr;
  bool found = false;
  for (const EVP_MD* md : {EVP_sha1(), EVP_sha256()}) {
    OCSP_CERTID* id = OCSP_cert_to_id(md, leaf, issuer);
    found = id != nullptr && OCSP_resp_find_status(basic.get(), id, &cert_status, &reason, &revoked,
                                                   &this_update, &next_update) == 1;
    OCSP_CERTID_free(id);
    if (found) {
      break;
    }
  }
  ERR_clear_error();
  if (!found) {
    return fail(file + " does not answer for this certificate (is it the old certificate's?)");
  }
  if (cert_status != V_OCSP_CERTSTATUS_GOOD) {
    return fail(file + " says the certificate is " + OCSP_cert_status_str(cert_status));
  }
  if (OCSP_check_validity(this_update, next_update, 300, -1) != 1) {
    ERR_clear_error();
    return fail(file +
                " is out of date (its nextUpdate has passed, or its thisUpdate is to "
                "come): fetch a new response");
  }
  return Ocsp{.der = std::move(*der), .next_update = unix_time_of(next_update)};
}

}  // namespace

Expected<std::shared_ptr<const ServerTls>> ServerTls::load(const ListenerTlsSpec& spec,
                                                           std::shared_ptr<TicketKeyRing> tickets,
                                                           std::string_view listener) {
  std::shared_ptr<ServerTls> tls(new ServerTls());
  tls->tickets_ = std::move(tickets);
  tls->subject_header_ =
      spec.client_certificate != ClientCertificate::kNone ? spec.client_subject_header : "";
  std::unique_ptr<STACK_OF(X509_NAME), CaNamesFree> client_cas;
  std::string ca_pem;
  if (!spec.client_ca_file.empty()) {
    // Parsed here to fail early with a clear error; each context loads the file again below.
    auto pem = read_small_file(spec.client_ca_file, kMaxCertificateFileBytes);
    if (!pem) {
      return fail("client_ca: " + pem.error());
    }
    ca_pem = std::move(*pem);
    client_cas.reset(SSL_load_client_CA_file(spec.client_ca_file.c_str()));
    if (!client_cas) {
      ERR_clear_error();
      return fail("client_ca: " + spec.client_ca_file + " holds no PEM certificate");
    }
  }
  // The session ID context: a session resumes only on the listener it was made on and under
  // the same client-certificate policy (mode and CAs). A resumption asks for no certificate,
  // so a ticket made before a commit tightened the policy, or dropped a CA, must not open.
  std::string context_of = std::string(listener) + '\0' +
                           std::to_string(static_cast<int>(spec.client_certificate)) + '\0' +
                           ca_pem;
  unsigned char context_id[EVP_MAX_MD_SIZE];
  unsigned int context_id_length = 0;
  EVP_Digest(context_of.data(), context_of.size(), context_id, &context_id_length, EVP_sha256(),
             nullptr);
  context_id_length = std::min<unsigned int>(context_id_length, SSL_MAX_SID_CTX_LENGTH);

  for (const CertificateSpec& c : spec.certificates) {
    const auto where = [&](const std::string& why) { return "certificate " + c.name + ": " + why; };
    auto chain = read_chain(c.certificate_file);
    if (!chain) {
      return fail(where(chain.error()));
    }
    auto key = read_key(c.private_key_file);
    if (!key) {
      return fail(where(key.error()));
    }
    Ocsp ocsp;
    if (!c.ocsp_response_file.empty()) {
      auto read = read_ocsp(c.ocsp_response_file, chain->first.get(),
                            chain->second.empty() ? nullptr : chain->second.front().get());
      if (!read) {
        return fail(where(read.error()));
      }
      ocsp = std::move(*read);
    }
    SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == nullptr) {
      return fail(where("cannot make a TLS context: " + openssl_error()));
    }
    tls->contexts_.push_back(ctx);  // freed with tls from here on
    const auto bad = [&](const std::string& what) {
      return fail(where(what + ": " + openssl_error()));
    };
    if (SSL_CTX_use_certificate(ctx, chain->first.get()) != 1) {
      return bad(c.certificate_file + " cannot be used");
    }
    for (auto& intermediate : chain->second) {
      if (SSL_CTX_add1_chain_cert(ctx, intermediate.get()) != 1) {
        return bad(c.certificate_file + ": an intermediate cannot be used");
      }
    }
    if (SSL_CTX_use_PrivateKey(ctx, key->get()) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
      ERR_clear_error();
      return fail(where(c.private_key_file + " is not the key of " + c.certificate_file));
    }
    SSL_CTX_set_min_proto_version(ctx, spec.tls13_only ? TLS1_3_VERSION : TLS1_2_VERSION);
    if (SSL_CTX_set_cipher_list(
            ctx, spec.ciphers.empty() ? kDefaultTls12Ciphers : spec.ciphers.c_str()) != 1) {
      return bad("the cipher list is refused");
    }
    // No renegotiation (a client could make the server do handshakes at will), no compression
    // (CRIME).
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
    // Buffers go back to the allocator while a connection is idle: an idle TLS connection
    // costs its session, not 34 KiB of buffers.
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                              SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    // Resumption by ticket only: a server-side cache would be one more lock between workers.
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_session_id_context(ctx, context_id, context_id_length);
    if (spec.session_tickets) {
      SSL_CTX_set_timeout(
          ctx,
          static_cast<long>(
              std::chrono::duration_cast<std::chrono::seconds>(tls->tickets_->lifetime()).count()));
      SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, &ServerTls::on_ticket_key);
    } else {
      SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
      SSL_CTX_set_num_tickets(ctx, 0);
    }
    SSL_CTX_set_ex_data(ctx, ex_index(), tls.get());
// OpenSSL's macros for these two cast in C's way.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
    SSL_CTX_set_tlsext_servername_callback(ctx, &ServerTls::on_server_name);
    SSL_CTX_set_tlsext_status_cb(ctx, &ServerTls::on_status_request);
#pragma GCC diagnostic pop
    SSL_CTX_set_tlsext_servername_arg(ctx, tls.get());
    SSL_CTX_set_tlsext_status_arg(ctx, tls.get());
    SSL_CTX_set_alpn_select_cb(ctx, &select_alpn, spec.http2 ? tls.get() : nullptr);
    if (client_cas) {
      if (SSL_CTX_load_verify_file(ctx, spec.client_ca_file.c_str()) != 1) {
        return bad("client_ca: " + spec.client_ca_file + " cannot be used");
      }
      STACK_OF(X509_NAME)* names = SSL_dup_CA_list(client_cas.get());
      SSL_CTX_set_client_CA_list(ctx, names);  // takes it
      int mode = SSL_VERIFY_NONE;
      if (spec.client_certificate == ClientCertificate::kRequired) {
        mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
      } else if (spec.client_certificate == ClientCertificate::kOptional) {
        mode = SSL_VERIFY_PEER;
      }
      SSL_CTX_set_verify(ctx, mode, nullptr);
      SSL_CTX_set_verify_depth(ctx, 8);
    }
    const size_t index = tls->info_.size();
    CertificateInfo info{.name = c.name,
                         .dns_names = dns_names_of(chain->first.get()),
                         .not_after = not_after_of(chain->first.get()),
                         .ocsp = !ocsp.der.empty()};
    for (const std::string& n : info.dns_names) {
      if (n.starts_with("*.")) {
        tls->wildcard_.emplace(n.substr(2), index);  // the first listed keeps a name
      } else {
        tls->exact_.emplace(n, index);
      }
    }
    tls->ocsp_.push_back(std::move(ocsp.der));
    tls->ocsp_next_update_.push_back(ocsp.next_update);
    tls->info_.push_back(std::move(info));
  }
  if (tls->contexts_.empty()) {
    return fail("no certificate");
  }
  return std::shared_ptr<const ServerTls>(std::move(tls));
}

ServerTls::~ServerTls() {
  for (SSL_CTX* ctx : contexts_) {
    SSL_CTX_free(ctx);
  }
}

SslPtr ServerTls::new_session(int fd) const {
  SslPtr ssl(SSL_new(contexts_.front()));
  if (!ssl || SSL_set_fd(ssl.get(), fd) != 1) {
    ERR_clear_error();
    return nullptr;
  }
  SSL_set_accept_state(ssl.get());
  return ssl;
}

size_t ServerTls::pick(std::string_view server_name) const {
  if (server_name.empty() || server_name.size() > 253) {
    return 0;
  }
  const std::string name = lower(server_name);
  if (auto it = exact_.find(name); it != exact_.end()) {
    return it->second;
  }
  // A wildcard stands for one label: "*.example.com" covers "www.example.com" only.
  if (const size_t dot = name.find('.'); dot != std::string::npos && dot > 0) {
    if (auto it = wildcard_.find(name.substr(dot + 1)); it != wildcard_.end()) {
      return it->second;
    }
  }
  return 0;
}

int ServerTls::on_server_name(SSL* ssl, int* /*alert*/, void* arg) {
  const auto* self = static_cast<const ServerTls*>(arg);
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  const size_t index = name != nullptr ? self->pick(name) : 0;
  if (index != 0) {
    SSL_set_SSL_CTX(ssl, self->contexts_[index]);
  }
  return SSL_TLSEXT_ERR_OK;  // an unknown name gets the first certificate, as no name does
}

int ServerTls::on_status_request(SSL* ssl, void* arg) {
  const auto* self = static_cast<const ServerTls*>(arg);
  const SSL_CTX* ctx = SSL_get_SSL_CTX(ssl);
  const auto it = std::find(self->contexts_.begin(), self->contexts_.end(), ctx);
  if (it == self->contexts_.end()) {
    return SSL_TLSEXT_ERR_NOACK;
  }
  const auto index = static_cast<size_t>(it - self->contexts_.begin());
  const std::string& der = self->ocsp_[index];
  const int64_t stale_at = self->ocsp_next_update_[index];
  if (der.empty() || (stale_at != 0 && std::time(nullptr) > stale_at)) {
    // None, or gone stale before a new one came (browsers refuse an expired staple outright,
    // but take none).
    return SSL_TLSEXT_ERR_NOACK;
  }
  // OpenSSL frees what it is given: a copy each time.
  auto* copy = static_cast<unsigned char*>(OPENSSL_memdup(der.data(), der.size()));
  if (copy == nullptr ||
      SSL_set_tlsext_status_ocsp_resp(ssl, copy, static_cast<long>(der.size())) != 1) {
    OPENSSL_free(copy);
    return SSL_TLSEXT_ERR_NOACK;
  }
  return SSL_TLSEXT_ERR_OK;
}

int ServerTls::on_ticket_key(SSL* ssl, unsigned char* name, unsigned char* iv,
                             EVP_CIPHER_CTX* cipher, EVP_MAC_CTX* mac, int encrypt) {
  const auto* self =
      static_cast<const ServerTls*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ex_index()));
  if (self == nullptr) {
    return -1;
  }
  const auto keys = self->tickets_->at(TicketKeyRing::Clock::now());
  if (!keys || keys->keys.empty()) {
    return 0;  // no ticket made, none opened: the handshake goes on without
  }
  const TicketKeyRing::Key* key = nullptr;
  if (encrypt == 1) {
    key = &keys->keys.front();
    std::memcpy(name, key->name.data(), key->name.size());
    if (RAND_bytes(iv, EVP_MAX_IV_LENGTH) != 1) {
      return 0;
    }
  } else {
    for (size_t i = 0; i < keys->keys.size(); ++i) {
      if (std::memcmp(name, keys->keys[i].name.data(), keys->keys[i].name.size()) == 0) {
        key = &keys->keys[i];
        break;
      }
    }
    if (key == nullptr) {
      return 0;  // sealed under a key long gone (or another process's): a full handshake
    }
  }
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, const_cast<uint8_t*>(key->hmac.data()),
                                        key->hmac.size()),
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>("SHA256"), 0),
      OSSL_PARAM_construct_end()};
  if (EVP_MAC_CTX_set_params(mac, params) != 1) {
    return -1;
  }
  const int ok = encrypt == 1
                     ? EVP_EncryptInit_ex(cipher, EVP_aes_256_cbc(), nullptr, key->aes.data(), iv)
                     : EVP_DecryptInit_ex(cipher, EVP_aes_256_cbc(), nullptr, key->aes.data(), iv);
  if (ok != 1) {
    return -1;
  }
  // Opened: 2, so the client gets a new ticket (under the newest key). TLS 1.3 clients use a
  // ticket once (RFC 8446 C.4), and OpenSSL issues none after a resumption told 1: each client
  // would fall back to a full handshake every other connection.
  return encrypt == 1 ? 1 : 2;
}

}  // namespace vigil::l7
