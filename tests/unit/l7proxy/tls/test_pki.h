// Certificates made in the test, so no test depends on files that expire: a CA, and
// certificates it issues for server names or a client, written as PEM into a directory (keys
// with mode 0600, as vigil-l7 demands).
#pragma once

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

namespace vigil::l7::test_pki {

struct Issued {
  std::shared_ptr<X509> certificate;
  std::shared_ptr<EVP_PKEY> key;
};

inline std::shared_ptr<EVP_PKEY> new_key() {
  return {EVP_EC_gen("P-256"), EVP_PKEY_free};
}

inline void add_extension(X509* x, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, x, nullptr, nullptr, 0);
  X509_EXTENSION* e = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  X509_add_ext(x, e, -1);
  X509_EXTENSION_free(e);
}

// Issued by `ca` (or self-signed when it has none) for `common_name`, with `dns_names` as
// subjectAltName (none: no such extension; "IP:..." an address), valid from an hour ago for
// `days`.
inline Issued issue(const std::string& common_name, const std::vector<std::string>& dns_names,
                    const Issued* ca = nullptr, bool is_ca = false, long days = 30) {
  static long serial = 1;
  Issued out{.certificate = {X509_new(), X509_free}, .key = new_key()};
  X509* x = out.certificate.get();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), ++serial);
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), days * 86400);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("Vigil test"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1,
                             0);
  X509* issuer = ca != nullptr ? ca->certificate.get() : x;
  X509_set_issuer_name(x, X509_get_subject_name(issuer));
  X509_set_pubkey(x, out.key.get());
  if (is_ca) {
    add_extension(x, issuer, NID_basic_constraints, "critical,CA:TRUE");
    add_extension(x, issuer, NID_key_usage, "critical,keyCertSign,cRLSign");
  }
  if (!dns_names.empty()) {
    std::string san;
    for (const auto& n : dns_names) {
      // "IP:127.0.0.1" is an address; anything else a DNS name.
      san += (san.empty() ? "" : ",") + (n.starts_with("IP:") ? n : "DNS:" + n);
    }
    add_extension(x, issuer, NID_subject_alt_name, san);
  }
  X509_sign(x, ca != nullptr ? ca->key.get() : out.key.get(), EVP_sha256());
  return out;
}

inline std::string pem_of(X509* x) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, x);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(n));
  BIO_free(bio);
  return out;
}

inline std::string pem_of(EVP_PKEY* k) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, k, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(n));
  BIO_free(bio);
  return out;
}

inline void write_file(const std::string& path, const std::string& content, mode_t mode) {
  std::FILE* f = std::fopen(path.c_str(), "w");
  std::fwrite(content.data(), 1, content.size(), f);
  std::fclose(f);
  ::chmod(path.c_str(), mode);
}

// `dir`/`stem`.pem (the certificate, then `chain`) and `dir`/`stem`.key (0600).
inline void write(const Issued& issued, const std::string& dir, const std::string& stem,
                  const std::vector<const Issued*>& chain = {}) {
  std::string pem = pem_of(issued.certificate.get());
  for (const Issued* c : chain) {
    pem += pem_of(c->certificate.get());
  }
  write_file(dir + "/" + stem + ".pem", pem, 0644);
  write_file(dir + "/" + stem + ".key", pem_of(issued.key.get()), 0600);
}

}  // namespace vigil::l7::test_pki
