// An upstream's TLS client context, loaded when a config is prepared and then immutable,
// shared by every worker and the health checker: TLS 1.2 and 1.3 (the listeners' modern
// ciphers), ALPN "http/1.1", no renegotiation, and unless told not to, each target's
// certificate verified: its chain against the CA file (or the system's trust store), its name
// against the server name (or the target's DNS name, or for a target given by address, its
// address). A client certificate is sent to a target that asks, if one is configured.
#pragma once

#include <openssl/ssl.h>
#include <sys/socket.h>

#include <memory>
#include <string>
#include <string_view>

#include "common/expected.h"
#include "l7proxy/tls/server_tls.h"
#include "l7proxy/tls/tls_spec.h"

namespace vigil::l7 {

class ClientTls {
 public:
  // Reads the CA file and the client certificate and key. Errors name the upstream and the
  // file, never a key's content.
  static Expected<std::shared_ptr<const ClientTls>> load(const UpstreamTlsSpec& spec,
                                                         std::string_view upstream);
  ~ClientTls();
  ClientTls(const ClientTls&) = delete;
  ClientTls& operator=(const ClientTls&) = delete;

  // A client session on connected socket `fd` toward a target reached at `address`, whose
  // DNS name is `target_name` ("": given by address). Null if OpenSSL cannot make one.
  SslPtr new_session(int fd, std::string_view target_name, const sockaddr_storage& address) const;

  const UpstreamTlsSpec& spec() const { return spec_; }

 private:
  ClientTls() = default;

  SSL_CTX* ctx_ = nullptr;
  UpstreamTlsSpec spec_;
};

}  // namespace vigil::l7
