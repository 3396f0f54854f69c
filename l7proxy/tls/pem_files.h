// The PEM files a TLS context is made from, read within bounds: a certificate with its chain,
// and a private key from a file only root may read (common/secret_file.h), its text wiped once
// parsed. Shared by the listeners' contexts (server_tls.h) and the upstreams' (client_tls.h).
#pragma once

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/expected.h"

namespace vigil::l7 {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;
using KeyPtr = std::unique_ptr<EVP_PKEY, KeyFree>;

// The most bytes of a certificate chain's (or an OCSP response's, or a CA bundle's) file read.
inline constexpr size_t kMaxCertificateFileBytes = size_t{1} << 20;
inline constexpr size_t kMaxChain = 16;
inline constexpr size_t kMaxKeyFileBytes = size_t{64} * 1024;

// The first error OpenSSL queued, in its words (without file and line), the queue emptied.
std::string openssl_error();

// A certificate's chain file: the certificate, then up to kMaxChain intermediates.
Expected<std::pair<X509Ptr, std::vector<X509Ptr>>> read_chain(const std::string& file);

// A private key's file: mode 0600 and owned by root, unencrypted PEM.
Expected<KeyPtr> read_key(const std::string& file);

}  // namespace vigil::l7
