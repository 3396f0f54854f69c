// A TLS listener's and a TLS upstream's settings as vigil-l7 takes them from the config
// (config_adapter.h): files and choices only. server_tls.h and client_tls.h load them when a
// config is prepared.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace vigil::l7 {

struct CertificateSpec {
  std::string name;
  std::string certificate_file;
  std::string private_key_file;
  std::string ocsp_response_file;  // "": none
  bool operator==(const CertificateSpec&) const = default;
};

enum class ClientCertificate { kNone, kOptional, kRequired };

struct ListenerTlsSpec {
  std::vector<CertificateSpec> certificates;  // the first: when SNI matches none
  bool tls13_only = false;
  std::string ciphers;  // TLS 1.2's; "": kDefaultTls12Ciphers
  std::string client_ca_file;
  ClientCertificate client_certificate = ClientCertificate::kNone;
  std::string client_subject_header = "X-Client-Subject";
  bool session_tickets = true;
  bool http2 = false;  // h2 offered by ALPN, before http/1.1
};

// How an upstream's targets are spoken to over TLS.
struct UpstreamTlsSpec {
  // SNI and the name verified; "": each target's DNS name, or for a target given by address
  // no SNI and the address verified.
  std::string server_name;
  bool verify = true;
  std::string ca_file;                         // "": the system's trust store
  std::optional<CertificateSpec> certificate;  // sent when a target asks for one
  bool tls13_only = false;
  bool http2 = false;  // ALPN offers h2 alone (the pool speaks HTTP/2), else http/1.1 alone
  bool operator==(const UpstreamTlsSpec&) const = default;
};

// Mozilla's "intermediate" TLS 1.2 list without DHE: forward-secret AEAD ciphers only.
inline constexpr const char* kDefaultTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

}  // namespace vigil::l7
