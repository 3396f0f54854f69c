// A TLS listener's contexts, loaded when a config is prepared (or reloaded on SIGHUP) and then
// immutable, shared by every worker: one OpenSSL context per certificate, each set up the same
// way (protocols, ciphers, client certificates, tickets, ALPN), and SNI switching a handshake
// to the certificate whose name matches: exactly first, then by wildcard, else the first one.
// A connection holds it by shared pointer, so a reload never pulls a context from under a
// handshake. OpenSSL writes to sockets with write(2), not send(MSG_NOSIGNAL): the process
// must ignore SIGPIPE, as every Vigil daemon does (common/signals.h).
#pragma once

#include <openssl/ssl.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/expected.h"
#include "l7proxy/tls/ticket_keys.h"
#include "l7proxy/tls/tls_spec.h"

namespace vigil::l7 {

struct SslFree {
  void operator()(SSL* s) const { SSL_free(s); }
};
using SslPtr = std::unique_ptr<SSL, SslFree>;

class ServerTls {
 public:
  struct CertificateInfo {
    std::string name;                    // in l7.certificates
    std::vector<std::string> dns_names;  // what SNI picks it by, lower case
    int64_t not_after = 0;               // Unix time
    bool ocsp = false;                   // a response is stapled
  };

  // Reads and checks every certificate, key and OCSP response of `spec`, and the client CA.
  // Errors name the certificate and the file, never a key's content.
  static Expected<std::shared_ptr<const ServerTls>> load(const ListenerTlsSpec& spec,
                                                         std::shared_ptr<TicketKeyRing> tickets,
                                                         std::string_view listener);
  ~ServerTls();
  ServerTls(const ServerTls&) = delete;
  ServerTls& operator=(const ServerTls&) = delete;

  // A server session on accepted socket `fd`, its certificate still to be picked by SNI.
  SslPtr new_session(int fd) const;

  // The field carrying a verified client certificate's subject upstream ("": none asked for).
  std::string_view subject_header() const { return subject_header_; }
  const std::vector<CertificateInfo>& certificates() const { return info_; }
  // Which of certificates() a server name picks.
  size_t pick(std::string_view server_name) const;

 private:
  ServerTls() = default;
  static int on_server_name(SSL* ssl, int* alert, void* arg);
  static int on_ticket_key(SSL* ssl, unsigned char* name, unsigned char* iv, EVP_CIPHER_CTX* cipher,
                           EVP_MAC_CTX* mac, int encrypt);
  static int on_status_request(SSL* ssl, void* arg);

  std::vector<SSL_CTX*> contexts_;         // by certificate, owned
  std::vector<std::string> ocsp_;          // DER, by certificate; "": none
  std::vector<int64_t> ocsp_next_update_;  // when each goes stale (Unix time); 0: never said
  std::vector<CertificateInfo> info_;      // by certificate
  std::unordered_map<std::string, size_t> exact_;     // "www.example.com" → certificate
  std::unordered_map<std::string, size_t> wildcard_;  // "example.com" for "*.example.com"
  std::shared_ptr<TicketKeyRing> tickets_;
  std::string subject_header_;
};

}  // namespace vigil::l7
