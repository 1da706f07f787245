#include "server/tls_context.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string_view>
#include <utility>

namespace lockstep::server {
namespace {

// Plenty for a certificate chain or a CA bundle; a larger file is a mistake (a wrong path).
constexpr std::streamoff kMaxPemFileBytes = 16 * 1024 * 1024;

Error invalid(std::string message) {
  return Error(ErrorCode::kInvalidInput, std::move(message));
}

Status use_key_pair(SSL_CTX* context, const TlsFiles& files) {
  if (files.cert_file.empty()) return Status::ok();  // a client without a certificate
  // Both files are read first so that a missing one is reported as such, not as a PEM error.
  RETURN_IF_ERROR(read_pem_file(files.cert_file));
  RETURN_IF_ERROR(read_pem_file(files.key_file));
  // A chain file: the leaf first, then any intermediates, as Go's tls.LoadX509KeyPair reads.
  if (SSL_CTX_use_certificate_chain_file(context, files.cert_file.c_str()) != 1) {
    return invalid("cannot load certificate " + files.cert_file + ": " + take_openssl_errors());
  }
  if (SSL_CTX_use_PrivateKey_file(context, files.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    const bool mismatch = ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH;
    return invalid((mismatch
                        ? "key " + files.key_file + " does not match certificate " + files.cert_file
                        : "cannot load key " + files.key_file) +
                   ": " + take_openssl_errors());
  }
  if (SSL_CTX_check_private_key(context) != 1) {
    return invalid("key " + files.key_file + " does not match certificate " + files.cert_file +
                   ": " + take_openssl_errors());
  }
  return Status::ok();
}

Status use_trusted_cas(SSL_CTX* context, TlsRole role, const TlsFiles& files) {
  if (files.trusted_ca_file.empty()) {
    if (role == TlsRole::kServer) return Status::ok();
    // Go's crypto/tls verifies a server against the system's roots when no pool is given.
    SSL_CTX_set_default_verify_paths(context);
    return Status::ok();
  }
  RETURN_IF_ERROR(read_pem_file(files.trusted_ca_file));
  if (SSL_CTX_load_verify_locations(context, files.trusted_ca_file.c_str(), nullptr) != 1) {
    return invalid("cannot load trusted CA file " + files.trusted_ca_file + ": " +
                   take_openssl_errors());
  }
  if (role == TlsRole::kServer) {
    // Named in the CertificateRequest so that a client holding several certificates picks one
    // these CAs signed.
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(files.trusted_ca_file.c_str());
    if (names != nullptr) SSL_CTX_set_client_CA_list(context, names);
  }
  return Status::ok();
}

// The TLS 1.2 cipher suites etcd 3.4's --cipher-suites accepts (pkg/tlsutil: Go's crypto/tls
// constants by name) and OpenSSL's names for them.
constexpr std::pair<std::string_view, std::string_view> kGoCipherSuites[] = {
    {"TLS_RSA_WITH_RC4_128_SHA", "RC4-SHA"},
    {"TLS_RSA_WITH_3DES_EDE_CBC_SHA", "DES-CBC3-SHA"},
    {"TLS_RSA_WITH_AES_128_CBC_SHA", "AES128-SHA"},
    {"TLS_RSA_WITH_AES_256_CBC_SHA", "AES256-SHA"},
    {"TLS_RSA_WITH_AES_128_CBC_SHA256", "AES128-SHA256"},
    {"TLS_RSA_WITH_AES_128_GCM_SHA256", "AES128-GCM-SHA256"},
    {"TLS_RSA_WITH_AES_256_GCM_SHA384", "AES256-GCM-SHA384"},
    {"TLS_ECDHE_ECDSA_WITH_RC4_128_SHA", "ECDHE-ECDSA-RC4-SHA"},
    {"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "ECDHE-ECDSA-AES128-SHA"},
    {"TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", "ECDHE-ECDSA-AES256-SHA"},
    {"TLS_ECDHE_RSA_WITH_RC4_128_SHA", "ECDHE-RSA-RC4-SHA"},
    {"TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA", "ECDHE-RSA-DES-CBC3-SHA"},
    {"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "ECDHE-RSA-AES128-SHA"},
    {"TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", "ECDHE-RSA-AES256-SHA"},
    {"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", "ECDHE-ECDSA-AES128-SHA256"},
    {"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", "ECDHE-RSA-AES128-SHA256"},
    {"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA-AES128-GCM-SHA256"},
    {"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256"},
    {"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "ECDHE-RSA-AES256-GCM-SHA384"},
    {"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "ECDHE-ECDSA-AES256-GCM-SHA384"},
    {"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305", "ECDHE-RSA-CHACHA20-POLY1305"},
    {"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305", "ECDHE-ECDSA-CHACHA20-POLY1305"},
};

// The SSL_CTX ex_data slot that points at the context's allowed CommonName.
int allowed_cn_index() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

// After OpenSSL verified the chain: the leaf's subject CN must be the allowed one (Go's
// VerifyPeerCertificate as etcd's TLSInfo sets it, which sees chains[0].Subject.CommonName).
int verify_allowed_cn(int preverified, X509_STORE_CTX* store) {
  if (preverified != 1 || X509_STORE_CTX_get_error_depth(store) != 0) return preverified;
  auto* ssl =
      static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  if (ssl == nullptr) return preverified;
  const auto* allowed = static_cast<const std::string*>(
      SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), allowed_cn_index()));
  if (allowed == nullptr || allowed->empty()) return preverified;
  std::array<char, 256> common_name{};
  const int length = X509_NAME_get_text_by_NID(
      X509_get_subject_name(X509_STORE_CTX_get_current_cert(store)), NID_commonName,
      common_name.data(), static_cast<int>(common_name.size()));
  if (length >= 0 &&
      std::string_view(common_name.data(), static_cast<size_t>(length)) == *allowed) {
    return 1;
  }
  X509_STORE_CTX_set_error(store, X509_V_ERR_APPLICATION_VERIFICATION);
  return 0;
}

}  // namespace

Result<std::shared_ptr<const TlsContext>> TlsContext::create(TlsRole role, const TlsFiles& files) {
  // etcd's TLSInfo.ServerConfig/ClientConfig: a certificate needs its key and the other way.
  if (files.cert_file.empty() != files.key_file.empty()) {
    return invalid("KeyFile and CertFile must both be present[key: " + files.key_file +
                   ", cert: " + files.cert_file + "]");
  }
  if (role == TlsRole::kServer && files.cert_file.empty()) {
    return invalid("a TLS server needs a certificate and key (--cert-file, --key-file)");
  }
  ERR_clear_error();
  SSL_CTX* context =
      SSL_CTX_new(role == TlsRole::kServer ? TLS_server_method() : TLS_client_method());
  if (context == nullptr) return invalid("SSL_CTX_new: " + take_openssl_errors());
  std::shared_ptr<const TlsContext> owned(new TlsContext(role, context, files.allowed_cn));
  SSL_CTX_set_ex_data(context, allowed_cn_index(),
                      const_cast<std::string*>(&owned->allowed_cn_));  // read-only use
  SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION);
  // Non-blocking writers hand SSL_write whatever the socket can take next; after a WANT_WRITE
  // they retry with the same bytes, possibly from a reallocated buffer.
  SSL_CTX_set_mode(context, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  // A peer killed without close_notify is an ordinary hang-up here, as a FIN is in plain TCP:
  // every protocol on top (length-prefixed checksummed frames, Content-Length bodies) detects
  // truncation itself.
  SSL_CTX_set_options(context, SSL_OP_IGNORE_UNEXPECTED_EOF);
  // Read whole socket buffers rather than a record header and then its body: one recv for many
  // small Raft records instead of two per record. Readers drain TlsSession::has_buffered_input.
  SSL_CTX_set_read_ahead(context, 1);
  if (role == TlsRole::kServer) {
    // Connections are long-lived (peers) or cheap to redo (clients): no resumption tickets,
    // which also keeps a peer connection's dialling side free of unsolicited reads.
    SSL_CTX_set_num_tickets(context, 0);
    SSL_CTX_set_options(context, SSL_OP_NO_TICKET);
  }
  if (!files.cipher_list.empty() &&
      SSL_CTX_set_cipher_list(context, files.cipher_list.c_str()) != 1) {
    return invalid("no usable TLS cipher suite in " + files.cipher_list + ": " +
                   take_openssl_errors());
  }
  RETURN_IF_ERROR(use_key_pair(context, files));
  RETURN_IF_ERROR(use_trusted_cas(context, role, files));
  const auto callback = files.allowed_cn.empty() ? nullptr : verify_allowed_cn;
  if (role == TlsRole::kClient && files.insecure_skip_verify) {
    // The handshake still runs (and encrypts); only the server's certificate is not judged.
    SSL_CTX_set_verify(context, SSL_VERIFY_NONE, nullptr);
  } else if (role == TlsRole::kClient) {
    SSL_CTX_set_verify(context, SSL_VERIFY_PEER, callback);
  } else if (files.client_cert_auth || !files.allowed_cn.empty()) {
    // An allowed CN can only be checked on a verified certificate, so it asks for one.
    if (files.trusted_ca_file.empty()) {
      return invalid("client certificate authentication needs a trusted CA file to verify with");
    }
    SSL_CTX_set_verify(context, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, callback);
  }
  return owned;
}

TlsContext::~TlsContext() {
  SSL_CTX_free(context_);
}

Result<std::string> go_cipher_suites_to_openssl(const std::string& names) {
  std::string list;
  size_t start = 0;
  while (start <= names.size()) {
    size_t end = names.find(',', start);
    if (end == std::string::npos) end = names.size();
    const std::string_view name = std::string_view(names).substr(start, end - start);
    start = end + 1;
    if (name.empty()) continue;
    const auto* found = std::find_if(std::begin(kGoCipherSuites), std::end(kGoCipherSuites),
                                     [&](const auto& suite) { return suite.first == name; });
    if (found == std::end(kGoCipherSuites)) {
      return invalid("unexpected TLS cipher suite \"" + std::string(name) + "\"");
    }
    if (!list.empty()) list += ':';
    list += found->second;
  }
  return list;
}

Result<std::string> read_pem_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return invalid("open " + path + ": " + std::strerror(errno));
  std::ostringstream contents;
  contents << file.rdbuf();
  if (contents.tellp() > kMaxPemFileBytes) return invalid(path + " is too large for a PEM file");
  if (contents.str().find("-----BEGIN ") == std::string::npos) {
    return invalid(path + " holds no PEM block");
  }
  return contents.str();
}

std::string take_openssl_errors() {
  std::string text;
  while (const unsigned long code = ERR_get_error()) {
    char line[256];
    ERR_error_string_n(code, line, sizeof line);
    if (!text.empty()) text += "; ";
    text += line;
  }
  return text;
}

}  // namespace lockstep::server
