#include "l7proxy/tls/pem_files.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "common/secret_file.h"
#include "common/small_file.h"

namespace vigil::l7 {

std::string openssl_error() {
  const unsigned long code = ERR_peek_error();
  ERR_clear_error();
  if (code == 0) {
    return "no reason given";
  }
  const char* reason = ERR_reason_error_string(code);
  return reason != nullptr ? reason : "error " + std::to_string(code);
}

Expected<std::pair<X509Ptr, std::vector<X509Ptr>>> read_chain(const std::string& file) {
  auto pem = read_small_file(file, kMaxCertificateFileBytes);
  if (!pem) {
    return fail(pem.error());
  }
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem->data(), static_cast<int>(pem->size())));
  X509Ptr leaf(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!leaf) {
    ERR_clear_error();
    return fail(file + " holds no PEM certificate");
  }
  std::vector<X509Ptr> chain;
  while (X509Ptr next{PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)}) {
    if (chain.size() == kMaxChain) {
      return fail(file + " has more than 16 intermediate certificates");
    }
    chain.push_back(std::move(next));
  }
  ERR_clear_error();  // the end of the file, said as an error
  return std::pair{std::move(leaf), std::move(chain)};
}

Expected<KeyPtr> read_key(const std::string& file) {
  auto pem = read_private_file(file, kMaxKeyFileBytes);
  if (!pem) {
    return fail(pem.error());
  }
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem->data(), static_cast<int>(pem->size())));
  // A passphrase is never asked for: an encrypted key cannot be loaded unattended.
  KeyPtr key(PEM_read_bio_PrivateKey(
      bio.get(), nullptr, [](char*, int, int, void*) { return -1; }, nullptr));
  OPENSSL_cleanse(pem->data(), pem->size());
  if (!key) {
    ERR_clear_error();
    return fail(file + " holds no PEM private key (an encrypted one cannot be used)");
  }
  return key;
}

}  // namespace vigil::l7
