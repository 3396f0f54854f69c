#include "l7proxy/tls/tls_stream.h"

#include <openssl/err.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace vigil::l7 {
namespace {

constexpr size_t kMaxSubjectBytes = 1024;

}  // namespace

TlsStream::Status TlsStream::classify(int ret) {
  const int saved_errno = errno;
  const int e = SSL_get_error(ssl_.get(), ret);
  switch (e) {
    case SSL_ERROR_WANT_READ:
      return Status::kWantRead;
    case SSL_ERROR_WANT_WRITE:
      return Status::kWantWrite;
    case SSL_ERROR_ZERO_RETURN:
      return Status::kClosed;
    case SSL_ERROR_SYSCALL:
      if (ERR_peek_error() == 0 && saved_errno == 0) {
        return Status::kClosed;  // the connection ended without close_notify (OpenSSL 1.1)
      }
      error_ = saved_errno != 0 ? std::strerror(saved_errno) : "system call failed";
      ERR_clear_error();
      failed_ = true;
      return Status::kFailed;
    default: {
      const unsigned long code = ERR_peek_error();
      ERR_clear_error();
      if (e == SSL_ERROR_SSL && ERR_GET_REASON(code) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
        // The peer closed without close_notify (OpenSSL 3's way of saying it): an end, as a
        // FIN is in the clear. Whether what came was whole is HTTP framing's to say.
        return Status::kClosed;
      }
      const char* reason = code != 0 ? ERR_reason_error_string(code) : nullptr;
      error_ = reason != nullptr ? reason : "TLS error " + std::to_string(e);
      failed_ = true;
      return Status::kFailed;
    }
  }
}

TlsStream::Status TlsStream::handshake() {
  ERR_clear_error();
  errno = 0;
  const int ret = SSL_do_handshake(ssl_.get());
  if (ret != 1) {
    return classify(ret);
  }
  SSL_set_read_ahead(ssl_.get(), 1);
  return Status::kDone;
}

TlsStream::Io TlsStream::read(std::span<char> into) {
  ERR_clear_error();
  errno = 0;
  size_t n = 0;
  const int ret = SSL_read_ex(ssl_.get(), into.data(), into.size(), &n);
  if (ret == 1) {
    return {Status::kDone, n};
  }
  return {classify(ret), 0};
}

TlsStream::Io TlsStream::write(std::span<const char> from) {
  ERR_clear_error();
  errno = 0;
  size_t n = 0;
  const int ret = SSL_write_ex(ssl_.get(), from.data(), from.size(), &n);
  if (ret == 1) {
    return {Status::kDone, n};
  }
  return {classify(ret), 0};
}

std::string_view TlsStream::verify_failure() const {
  if (SSL_get_verify_mode(ssl_.get()) == SSL_VERIFY_NONE) {
    return {};  // nothing was checked: whatever the result says was not the failure
  }
  const long result = SSL_get_verify_result(ssl_.get());
  return result == X509_V_OK ? std::string_view() : X509_verify_cert_error_string(result);
}

void TlsStream::close_notify() {
  ERR_clear_error();
  // Never after a fatal error (OpenSSL forbids it), never before the handshake is done.
  if (!failed_ && SSL_is_init_finished(ssl_.get()) == 1) {
    SSL_shutdown(ssl_.get());  // one try: what cannot go now is not waited for
  }
  ERR_clear_error();
}

std::string_view TlsStream::server_name() const {
  const char* name = SSL_get_servername(ssl_.get(), TLSEXT_NAMETYPE_host_name);
  return name != nullptr ? name : "";
}

std::string_view TlsStream::alpn() const {
  const unsigned char* protocol = nullptr;
  unsigned int length = 0;
  SSL_get0_alpn_selected(ssl_.get(), &protocol, &length);
  return protocol != nullptr ? std::string_view(reinterpret_cast<const char*>(protocol), length)
                             : "";
}

std::string TlsStream::verified_subject() const {
  if (SSL_get_verify_result(ssl_.get()) != X509_V_OK) {
    return "";
  }
  X509* peer = SSL_get0_peer_certificate(ssl_.get());
  if (peer == nullptr) {
    return "";
  }
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  if (!bio || X509_NAME_print_ex(bio.get(), X509_get_subject_name(peer), 0, XN_FLAG_RFC2253) < 0) {
    ERR_clear_error();
    return "";
  }
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio.get(), &data);
  std::string subject(data, static_cast<size_t>(std::max<long>(length, 0)));
  if (subject.size() > kMaxSubjectBytes) {
    return "";  // cut short, two subjects could read the same: none is sent instead
  }
  // RFC 2253 escapes control characters, but the field must hold one line whatever the
  // certificate says: anything else goes as '?'.
  for (char& c : subject) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      c = '?';
    }
  }
  return subject;
}

}  // namespace vigil::l7
