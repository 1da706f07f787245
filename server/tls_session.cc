#include "server/tls_session.h"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace lockstep::server {
namespace {

// ---- A socket BIO that cannot raise SIGPIPE ----
// OpenSSL's own socket BIO writes with write(2); a peer that reset the connection would then
// kill the process with SIGPIPE. This one does the same I/O with send(MSG_NOSIGNAL).

int socket_of(BIO* bio) {
  return static_cast<int>(reinterpret_cast<intptr_t>(BIO_get_data(bio)));
}

bool would_block(int error_number) {
  return error_number == EAGAIN || error_number == EWOULDBLOCK || error_number == EINTR;
}

int bio_write(BIO* bio, const char* data, size_t length, size_t* written) {
  BIO_clear_retry_flags(bio);
  const ssize_t sent = ::send(socket_of(bio), data, length, MSG_NOSIGNAL);
  if (sent < 0) {
    if (would_block(errno)) BIO_set_retry_write(bio);
    return 0;
  }
  *written = static_cast<size_t>(sent);
  return 1;
}

int bio_read(BIO* bio, char* data, size_t length, size_t* read_bytes) {
  BIO_clear_retry_flags(bio);
  const ssize_t got = ::recv(socket_of(bio), data, length, 0);
  if (got < 0) {
    if (would_block(errno)) BIO_set_retry_read(bio);
    return 0;
  }
  if (got == 0) return 0;  // EOF: no retry flag, so OpenSSL sees the end of the stream
  *read_bytes = static_cast<size_t>(got);
  return 1;
}

long bio_control(BIO*, int command, long, void*) {
  // Nothing is buffered here, so a flush is always complete; other controls are unsupported.
  return command == BIO_CTRL_FLUSH ? 1 : 0;
}

int bio_create(BIO* bio) {
  BIO_set_init(bio, 1);
  return 1;
}

const BIO_METHOD* socket_method() {
  static BIO_METHOD* const method = [] {
    BIO_METHOD* created =
        BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "lockstep nosignal socket");
    BIO_meth_set_write_ex(created, bio_write);
    BIO_meth_set_read_ex(created, bio_read);
    BIO_meth_set_ctrl(created, bio_control);
    BIO_meth_set_create(created, bio_create);
    return created;
  }();
  return method;
}

bool is_ip_literal(std::string_view host) {
  const std::string text(host);
  unsigned char address[sizeof(in6_addr)];
  return inet_pton(AF_INET, text.c_str(), address) == 1 ||
         inet_pton(AF_INET6, text.c_str(), address) == 1;
}

}  // namespace

Result<std::unique_ptr<TlsSession>> TlsSession::create(const TlsContext& context, int fd,
                                                       std::string_view expected_host) {
  ERR_clear_error();
  SSL* ssl = context.new_session();
  if (ssl == nullptr) return Error(ErrorCode::kIoError, "SSL_new: " + take_openssl_errors());
  std::unique_ptr<TlsSession> session(new TlsSession(ssl));
  BIO* bio = BIO_new(socket_method());
  if (bio == nullptr) return Error(ErrorCode::kIoError, "BIO_new: " + take_openssl_errors());
  BIO_set_data(bio, reinterpret_cast<void*>(static_cast<intptr_t>(fd)));
  SSL_set_bio(ssl, bio, bio);  // the session owns the BIO from here on
  if (context.role() == TlsRole::kServer) {
    SSL_set_accept_state(ssl);
    return session;
  }
  SSL_set_connect_state(ssl);
  if (!expected_host.empty()) {
    const std::string host(expected_host);
    // Go checks an IP host against the certificate's IP SANs and a name against its DNS SANs;
    // OpenSSL needs to be told which of the two the host is.
    X509_VERIFY_PARAM* verify = SSL_get0_param(ssl);
    const bool set = is_ip_literal(host) ? X509_VERIFY_PARAM_set1_ip_asc(verify, host.c_str()) == 1
                                         : SSL_set1_host(ssl, host.c_str()) == 1;
    if (!set) return Error(ErrorCode::kInvalidInput, "cannot verify TLS host name " + host);
    if (!is_ip_literal(host)) SSL_set_tlsext_host_name(ssl, host.c_str());  // SNI
  }
  return session;
}

TlsSession::~TlsSession() {
  SSL_free(ssl_);
}

void TlsSession::accept_alpn(std::vector<std::string> protocols) {
  server_alpn_ = std::move(protocols);
  SSL_set_ex_data(ssl_, server_alpn_index(), &server_alpn_);
}

std::string TlsSession::alpn() const {
  const unsigned char* chosen = nullptr;
  unsigned int length = 0;
  SSL_get0_alpn_selected(ssl_, &chosen, &length);
  return chosen == nullptr ? "" : std::string(reinterpret_cast<const char*>(chosen), length);
}

TlsResult TlsSession::handshake() {
  ERR_clear_error();
  const int returned = SSL_do_handshake(ssl_);
  if (returned == 1) return TlsResult{};
  return outcome(returned, "handshake");
}

TlsResult TlsSession::read(std::span<char> into) {
  ERR_clear_error();
  size_t got = 0;
  const int returned = SSL_read_ex(ssl_, into.data(), into.size(), &got);
  if (returned == 1) return TlsResult{TlsStatus::kDone, got, {}};
  return outcome(returned, "read");
}

TlsResult TlsSession::write(std::string_view bytes) {
  ERR_clear_error();
  size_t written = 0;
  const int returned = SSL_write_ex(ssl_, bytes.data(), bytes.size(), &written);
  if (returned == 1) return TlsResult{TlsStatus::kDone, written, {}};
  return outcome(returned, "write");
}

bool TlsSession::has_buffered_input() const {
  // SSL_has_pending, not SSL_pending: with read-ahead, bytes of records not yet decrypted are
  // buffered too, and the socket will not report them again.
  return SSL_has_pending(ssl_) == 1;
}

void TlsSession::close_notify() {
  ERR_clear_error();
  SSL_shutdown(ssl_);
  ERR_clear_error();
}

std::string TlsSession::peer_subject() const {
  X509* certificate = SSL_get1_peer_certificate(ssl_);
  if (certificate == nullptr) return "";
  char subject[256];
  X509_NAME_oneline(X509_get_subject_name(certificate), subject, sizeof subject);
  X509_free(certificate);
  return subject;
}

TlsResult TlsSession::outcome(int returned, const char* operation) {
  const int saved_errno = errno;
  switch (SSL_get_error(ssl_, returned)) {
    case SSL_ERROR_WANT_READ:
      return TlsResult{TlsStatus::kWantRead, 0, {}};
    case SSL_ERROR_WANT_WRITE:
      return TlsResult{TlsStatus::kWantWrite, 0, {}};
    case SSL_ERROR_ZERO_RETURN:
      return TlsResult{TlsStatus::kClosed, 0, {}};
    case SSL_ERROR_SYSCALL: {
      std::string why = take_openssl_errors();
      if (why.empty() && saved_errno == 0) return TlsResult{TlsStatus::kClosed, 0, {}};
      if (why.empty()) why = std::strerror(saved_errno);
      return TlsResult{TlsStatus::kFailed, 0, std::string("TLS ") + operation + ": " + why};
    }
    default: {
      const bool plain_http = ERR_GET_LIB(ERR_peek_error()) == ERR_LIB_SSL &&
                              ERR_GET_REASON(ERR_peek_error()) == SSL_R_HTTP_REQUEST;
      std::string why = take_openssl_errors();
      const long verified = SSL_get_verify_result(ssl_);
      if (verified != X509_V_OK) {
        why = std::string("certificate verify failed: ") + X509_verify_cert_error_string(verified) +
              (why.empty() ? "" : " (" + why + ")");
      }
      return TlsResult{TlsStatus::kFailed, 0, std::string("TLS ") + operation + ": " + why,
                       plain_http};
    }
  }
}

}  // namespace lockstep::server
