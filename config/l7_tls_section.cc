// l7's TLS: the certificates (files, never their contents: the keys are secrets only
// vigil-l7 reads) and what a listener does with them. vigild checks what it can without
// reading a key: paths, names, the cipher list (OpenSSL parses it here, so a typo is an error
// with its line rather than a failed commit); vigil-l7 loads the files when it prepares.
#include <openssl/ssl.h>

#include <algorithm>
#include <memory>

#include "common/net/ip.h"
#include "config/l7_text.h"
#include "config/l7_tls.h"

namespace vigil::config {
namespace {

constexpr size_t kMaxCertificates = 256;
constexpr size_t kMaxListenerCertificates = 64;

constexpr Field kCertificateFields[] = {
    {.key = "certificate",
     .type = "path",
     .description = "PEM: the certificate, then the intermediates up to (not including) the "
                    "root. Its DNS names (subjectAltName, else the common name) are the names "
                    "SNI picks it by, wildcards included",
     .required = true},
    {.key = "private_key",
     .type = "path",
     .description = "PEM, a file of mode 0600 owned by root: vigil-l7 refuses one others "
                    "could read",
     .required = true},
    {.key = "ocsp_response",
     .type = "path",
     .description = "A DER OCSP response for the certificate (`openssl ocsp -respout`), "
                    "stapled to handshakes that ask; reloaded with the certificate"},
};

constexpr Field kListenerTlsFields[] = {
    {.key = "certificates",
     .type = "list of name",
     .description = "Names in l7.certificates. SNI picks the one whose name matches exactly, "
                    "then by wildcard; the first when none does or the client sends no name",
     .required = true},
    {.key = "min_version",
     .type = "tls1.2 | tls1.3",
     .description = "The oldest protocol accepted (nothing before TLS 1.2 ever is)",
     .default_value = "tls1.2"},
    {.key = "ciphers",
     .type = "string",
     .description = "TLS 1.2's cipher list in OpenSSL's syntax (TLS 1.3's suites are all "
                    "AEAD and always on)",
     .default_value = "ECDHE with AES-GCM or ChaCha20-Poly1305"},
    {.key = "client_ca",
     .type = "path",
     .description = "PEM: the CAs client certificates must chain to; absent: none is asked for"},
    {.key = "client_certificate",
     .type = "none | optional | required",
     .description = "required: a client without a certificate the CA signed fails the "
                    "handshake; optional: one that sends a bad certificate does",
     .default_value = "required with client_ca, none without"},
    {.key = "client_subject_header",
     .type = "field name",
     .description = "The field that carries the verified client certificate's subject "
                    "upstream (RFC 2253 form); a client's own field of that name is removed",
     .default_value = "X-Client-Subject"},
    {.key = "session_tickets",
     .type = "boolean",
     .description = "Resumption by ticket, under keys vigil-l7 rotates hourly and keeps for "
                    "two hours more",
     .default_value = "true"},
};

constexpr Field kUpstreamTlsFields[] = {
    {.key = "server_name",
     .type = "host name",
     .description = "Sent by SNI and checked against each target's certificate",
     .default_value = "the target's DNS name; for a target given by address, no SNI and its "
                      "address checked (an IP subjectAltName)"},
    {.key = "verify",
     .type = "boolean",
     .description = "Check the target's certificate chain and name; false takes any "
                    "certificate: encrypted, but to whoever answers",
     .default_value = "true"},
    {.key = "ca",
     .type = "path",
     .description = "PEM: the CAs a target's certificate must chain to",
     .default_value = "the system's trust store (/usr/lib/ssl/cert.pem: Debian's "
                      "ca-certificates bundle)"},
    {.key = "certificate",
     .type = "name",
     .description = "A name in l7.certificates: the client certificate sent to a target that "
                    "asks for one (mutual TLS)"},
    {.key = "min_version",
     .type = "tls1.2 | tls1.3",
     .description = "The oldest protocol spoken (nothing before TLS 1.2 ever is)",
     .default_value = "tls1.2"},
};

// Fields vigil-l7 writes or drops itself: a subject field by one of these names would clash.
bool is_proxy_field(std::string_view name) {
  static constexpr std::string_view kOwn[] = {"host",
                                              "content-length",
                                              "transfer-encoding",
                                              "connection",
                                              "keep-alive",
                                              "proxy-connection",
                                              "te",
                                              "trailer",
                                              "upgrade",
                                              "expect",
                                              "forwarded",
                                              "x-forwarded-for",
                                              "x-forwarded-proto",
                                              "x-forwarded-host",
                                              "x-request-id",
                                              "proxy-authorization"};
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return std::find(std::begin(kOwn), std::end(kOwn), lower) != std::end(kOwn);
}

}  // namespace

const Schema kL7CertificateSchema{
    .path = "l7.certificates.<name>",
    .description = "A certificate with its key, for listeners' tls to name.",
    .fields = kCertificateFields};

const Schema kL7ListenerTlsSchema{.path = "l7.listeners.<name>.tls",
                                  .description = "HTTPS on the listener: TLS 1.2 and 1.3.",
                                  .fields = kListenerTlsFields};

const Schema kL7UpstreamTlsSchema{
    .path = "l7.upstreams.<name>.tls",
    .description =
        "HTTPS to the upstream's targets, the certificate of each verified: TLS 1.2 "
        "and 1.3, HTTP/1.1 inside.",
    .fields = kUpstreamTlsFields};

bool valid_tls12_ciphers(const std::string& list) {
  struct CtxFree {
    void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
  };
  std::unique_ptr<SSL_CTX, CtxFree> ctx(SSL_CTX_new(TLS_server_method()));
  return ctx && SSL_CTX_set_cipher_list(ctx.get(), list.c_str()) == 1;
}

void parse_l7_certificate(const std::string& name, const YAML::Node& node, const std::string& path,
                          L7Config& l7, ErrorList& errors) {
  MapReader r(node, path, kL7CertificateSchema, errors);
  if (!r.ok()) {
    return;
  }
  L7CertificateConfig c{.name = name};
  auto certificate = read_absolute_path(r.get("certificate"), r.path_of("certificate"), errors);
  auto key = read_absolute_path(r.get("private_key"), r.path_of("private_key"), errors);
  bool ok = certificate && key;
  if (ok) {
    c.certificate_file = *certificate;
    c.private_key_file = *key;
  }
  if (r.has("ocsp_response")) {
    auto ocsp = read_absolute_path(r.get("ocsp_response"), r.path_of("ocsp_response"), errors);
    ok &= ocsp.has_value();
    c.ocsp_response_file = ocsp.value_or("");
  }
  if (l7.certificates.size() == kMaxCertificates) {
    errors.add(path, node, "is one certificate too many: at most 256");
    ok = false;
  }
  if (ok) {
    l7.certificates.push_back(std::move(c));
  }
}

std::optional<L7ListenerTlsConfig> parse_l7_listener_tls(const YAML::Node& node,
                                                         const std::string& path,
                                                         const L7Config& l7, ErrorList& errors) {
  MapReader r(node, path, kL7ListenerTlsSchema, errors);
  if (!r.ok()) {
    return std::nullopt;
  }
  L7ListenerTlsConfig tls;
  bool ok = true;
  for_each_item(r.get("certificates"), r.path_of("certificates"), errors,
                [&](const YAML::Node& n, const std::string& p) {
                  auto name = read_string(n, p, errors);
                  if (!name) {
                    ok = false;
                    return;
                  }
                  const bool known = std::any_of(l7.certificates.begin(), l7.certificates.end(),
                                                 [&](const auto& c) { return c.name == *name; });
                  if (!known) {
                    errors.add_value_error(
                        p, n, "names no certificate: \"" + *name + "\" is not in l7.certificates");
                    ok = false;
                  } else if (std::find(tls.certificates.begin(), tls.certificates.end(), *name) !=
                             tls.certificates.end()) {
                    errors.add_value_error(p, n, "lists \"" + *name + "\" twice");
                    ok = false;
                  } else if (tls.certificates.size() == kMaxListenerCertificates) {
                    errors.add(p, n, "is one too many: at most 64");
                    ok = false;
                  } else {
                    tls.certificates.push_back(std::move(*name));
                  }
                });
  if (ok && tls.certificates.empty() && r.has("certificates")) {  // absent: said already
    errors.add(r.path_of("certificates"), r.get("certificates"), "needs at least one certificate");
    ok = false;
  }
  if (r.has("min_version")) {
    auto v = read_enum(r.get("min_version"), r.path_of("min_version"), errors, kL7TlsVersionNames);
    ok &= v.has_value();
    tls.min_version = static_cast<L7TlsVersion>(v.value_or(0));
  }
  if (r.has("ciphers")) {
    auto list = read_string(r.get("ciphers"), r.path_of("ciphers"), errors);
    if (list && (list->empty() || list->size() > 4096 || !valid_tls12_ciphers(*list))) {
      errors.add_value_error(r.path_of("ciphers"), r.get("ciphers"),
                             "is not a cipher list OpenSSL knows (see `openssl ciphers`)");
      ok = false;
    } else if (list) {
      tls.ciphers = std::move(*list);
    } else {
      ok = false;
    }
  }
  if (r.has("client_ca")) {
    auto file = read_absolute_path(r.get("client_ca"), r.path_of("client_ca"), errors);
    ok &= file.has_value();
    tls.client_ca_file = file.value_or("");
    tls.client_certificate = L7ClientCertificate::kRequired;
  }
  if (r.has("client_certificate")) {
    auto v = read_enum(r.get("client_certificate"), r.path_of("client_certificate"), errors,
                       kL7ClientCertificateNames);
    ok &= v.has_value();
    tls.client_certificate = static_cast<L7ClientCertificate>(v.value_or(0));
    if (v && *v != 0 && !r.has("client_ca")) {
      errors.add(r.path_of("client_certificate"), r.get("client_certificate"),
                 "needs client_ca: the CAs a client certificate is checked against");
      ok = false;
    }
  }
  if (r.has("client_subject_header")) {
    auto field =
        read_string(r.get("client_subject_header"), r.path_of("client_subject_header"), errors);
    if (field && !is_token(*field)) {
      errors.add_value_error(r.path_of("client_subject_header"), r.get("client_subject_header"),
                             "is not a field name (a token: letters, digits and "
                             "!#$%&'*+-.^_`|~)");
      ok = false;
    } else if (field && is_proxy_field(*field)) {
      errors.add_value_error(r.path_of("client_subject_header"), r.get("client_subject_header"),
                             "is a field the proxy writes itself (framing, Host, forwarding or "
                             "hop-by-hop): name one of its own, such as X-Client-Subject");
      ok = false;
    } else if (field) {
      tls.client_subject_header = std::move(*field);
    } else {
      ok = false;
    }
  }
  if (r.has("session_tickets")) {
    auto v = read_bool(r.get("session_tickets"), r.path_of("session_tickets"), errors);
    ok &= v.has_value();
    tls.session_tickets = v.value_or(true);
  }
  if (!ok) {
    return std::nullopt;
  }
  return tls;
}

std::optional<L7UpstreamTlsConfig> parse_l7_upstream_tls(const YAML::Node& node,
                                                         const std::string& path,
                                                         const L7Config& l7, ErrorList& errors) {
  MapReader r(node, path, kL7UpstreamTlsSchema, errors);
  if (!r.ok()) {
    return std::nullopt;
  }
  L7UpstreamTlsConfig tls;
  bool ok = true;
  if (r.has("server_name")) {
    auto name = read_string(r.get("server_name"), r.path_of("server_name"), errors);
    if (name && net::IpAddress::parse(*name)) {
      errors.add_value_error(r.path_of("server_name"), r.get("server_name"),
                             "is an address, which SNI cannot carry: a target given by address "
                             "is verified by its address without it");
      ok = false;
    } else if (name && valid_dns_name(*name)) {
      std::transform(name->begin(), name->end(), name->begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      tls.server_name = std::move(*name);
    } else {
      if (name) {
        errors.add_value_error(r.path_of("server_name"), r.get("server_name"),
                               "is not a host name (\"backend.example.com\")");
      }
      ok = false;
    }
  }
  if (r.has("verify")) {
    auto v = read_bool(r.get("verify"), r.path_of("verify"), errors);
    ok &= v.has_value();
    tls.verify = v.value_or(true);
  }
  if (r.has("ca")) {
    auto file = read_absolute_path(r.get("ca"), r.path_of("ca"), errors);
    ok &= file.has_value();
    tls.ca_file = file.value_or("");
    if (!tls.verify) {
      errors.add(r.path_of("ca"), r.get("ca"), "is for verify: true");
      ok = false;
    }
  }
  if (r.has("certificate")) {
    auto name = read_string(r.get("certificate"), r.path_of("certificate"), errors);
    const bool known = name && std::any_of(l7.certificates.begin(), l7.certificates.end(),
                                           [&](const auto& c) { return c.name == *name; });
    if (name && !known) {
      errors.add_value_error(r.path_of("certificate"), r.get("certificate"),
                             "names no certificate: \"" + *name + "\" is not in l7.certificates");
    }
    ok &= known;
    tls.certificate = name.value_or("");
  }
  if (r.has("min_version")) {
    auto v = read_enum(r.get("min_version"), r.path_of("min_version"), errors, kL7TlsVersionNames);
    ok &= v.has_value();
    tls.min_version = static_cast<L7TlsVersion>(v.value_or(0));
  }
  if (!ok) {
    return std::nullopt;
  }
  return tls;
}

}  // namespace vigil::config
