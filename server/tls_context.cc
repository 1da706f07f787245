#include "server/tls_context.h"

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <set>
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

// What the verify callback checks beyond OpenSSL's chain verification; one per SSL_CTX, in its
// ex_data, freed with it (sessions may outlive the TlsContext that built their SSL_CTX).
struct VerifyPolicy {
  std::string allowed_cn;
  std::set<std::string> revoked_serials;  // big-endian serial number bytes, as in the CRL
  std::string crl_file;                   // for the refusal's message
  // Set when the CRL file could not be read or parsed at a reload: every certificate is then
  // refused (etcd's checkCRL reads the file at each handshake and fails the connection of any
  // client that presents a certificate when the read or the parse fails).
  std::string crl_error;
};

void free_verify_policy(void*, void* policy, CRYPTO_EX_DATA*, int, long, void*) {
  delete static_cast<VerifyPolicy*>(policy);
}

int verify_policy_index() {
  static const int index =
      SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, free_verify_policy);
  return index;
}

std::string serial_bytes(const X509* certificate) {
  BIGNUM* number = ASN1_INTEGER_to_BN(X509_get0_serialNumber(certificate), nullptr);
  if (number == nullptr) return "";
  std::string bytes(static_cast<size_t>(BN_num_bytes(number)), '\0');
  BN_bn2bin(number, reinterpret_cast<unsigned char*>(bytes.data()));
  BN_free(number);
  return bytes;
}

bool revoked(const VerifyPolicy& policy, X509_STORE_CTX* store) {
  if (!policy.crl_error.empty()) return true;
  if (policy.revoked_serials.empty()) return false;
  if (policy.revoked_serials.contains(serial_bytes(X509_STORE_CTX_get0_cert(store)))) return true;
  // Every certificate the other side sent (etcd checks ConnectionState().PeerCertificates).
  STACK_OF(X509)* sent = X509_STORE_CTX_get0_untrusted(store);
  for (int at = 0; sent != nullptr && at < sk_X509_num(sent); ++at) {
    if (policy.revoked_serials.contains(serial_bytes(sk_X509_value(sent, at)))) return true;
  }
  return false;
}

bool common_name_allowed(const VerifyPolicy& policy, X509_STORE_CTX* store) {
  if (policy.allowed_cn.empty()) return true;
  std::array<char, 256> common_name{};
  const int length = X509_NAME_get_text_by_NID(
      X509_get_subject_name(X509_STORE_CTX_get_current_cert(store)), NID_commonName,
      common_name.data(), static_cast<int>(common_name.size()));
  return length >= 0 &&
         std::string_view(common_name.data(), static_cast<size_t>(length)) == policy.allowed_cn;
}

// After OpenSSL verified the chain, at the leaf: the allowed CN (Go's VerifyPeerCertificate as
// etcd's TLSInfo sets it, which sees chains[0].Subject.CommonName) and the CRL.
int verify_policy(int preverified, X509_STORE_CTX* store) {
  if (preverified != 1 || X509_STORE_CTX_get_error_depth(store) != 0) return preverified;
  auto* ssl =
      static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  if (ssl == nullptr) return preverified;
  const auto* policy = static_cast<const VerifyPolicy*>(
      SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), verify_policy_index()));
  if (policy == nullptr) return preverified;
  if (!common_name_allowed(*policy, store)) {
    X509_STORE_CTX_set_error(store, X509_V_ERR_APPLICATION_VERIFICATION);
    return 0;
  }
  if (revoked(*policy, store)) {
    // "unable to get certificate CRL" in the refusal's log line when the list is unusable.
    X509_STORE_CTX_set_error(
        store, policy->crl_error.empty() ? X509_V_ERR_CERT_REVOKED : X509_V_ERR_UNABLE_TO_GET_CRL);
    return 0;
  }
  return 1;
}

// The serial numbers a CRL file revokes. PEM (one or more X509 CRL blocks) or DER, as Go's
// x509.ParseCRL accepts both.
Result<std::set<std::string>> read_revoked_serials(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return invalid("open " + path + ": " + std::strerror(errno));
  std::ostringstream contents;
  contents << file.rdbuf();
  const std::string bytes = contents.str();
  std::set<std::string> serials;
  auto add = [&](X509_CRL* crl) {
    STACK_OF(X509_REVOKED)* entries = X509_CRL_get_REVOKED(crl);
    for (int at = 0; entries != nullptr && at < sk_X509_REVOKED_num(entries); ++at) {
      const ASN1_INTEGER* serial =
          X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(entries, at));
      BIGNUM* number = ASN1_INTEGER_to_BN(serial, nullptr);
      if (number == nullptr) continue;
      std::string big_endian(static_cast<size_t>(BN_num_bytes(number)), '\0');
      BN_bn2bin(number, reinterpret_cast<unsigned char*>(big_endian.data()));
      BN_free(number);
      serials.insert(std::move(big_endian));
    }
    X509_CRL_free(crl);
  };
  size_t crls = 0;
  if (bytes.find("-----BEGIN X509 CRL-----") != std::string::npos) {
    BIO* memory = BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size()));
    while (X509_CRL* crl = PEM_read_bio_X509_CRL(memory, nullptr, nullptr, nullptr)) {
      add(crl);
      ++crls;
    }
    BIO_free(memory);
    ERR_clear_error();  // the end of the PEM blocks
  } else {
    const auto* der = reinterpret_cast<const unsigned char*>(bytes.data());
    if (X509_CRL* crl = d2i_X509_CRL(nullptr, &der, static_cast<long>(bytes.size()))) {
      add(crl);
      ++crls;
    }
  }
  if (crls == 0) {
    std::string why = bytes.empty() ? "empty file" : take_openssl_errors();
    if (why.empty()) why = "no valid X509 CRL in it";  // PEM's errors were cleared above
    return invalid("cannot parse certificate revocation list " + path + ": " + why);
  }
  return serials;
}

// ALPN (RFC 7301) for a server: the first of the session's acceptable protocols (in the
// server's order of preference, TlsSession::accept_alpn) that the client offers; none (and no
// ALPN extension in the reply) when the session set no list or the client offers none of it.
int select_alpn(SSL* ssl, const unsigned char** selected, unsigned char* selected_length,
                const unsigned char* offered, unsigned int offered_length, void*) {
  const auto* acceptable =
      static_cast<const std::vector<std::string>*>(SSL_get_ex_data(ssl, server_alpn_index()));
  if (acceptable == nullptr) return SSL_TLSEXT_ERR_NOACK;
  for (const std::string& wanted : *acceptable) {
    for (unsigned int at = 0; at < offered_length;) {
      const unsigned int length = offered[at];
      if (at + 1 + length > offered_length) return SSL_TLSEXT_ERR_NOACK;  // malformed list
      const std::string_view name(reinterpret_cast<const char*>(offered + at + 1), length);
      if (name == wanted) {
        *selected = offered + at + 1;
        *selected_length = static_cast<unsigned char>(length);
        return SSL_TLSEXT_ERR_OK;
      }
      at += 1 + length;
    }
  }
  return SSL_TLSEXT_ERR_NOACK;
}

struct ContextFree {
  void operator()(SSL_CTX* context) const { SSL_CTX_free(context); }
};
using OwnedContext = std::unique_ptr<SSL_CTX, ContextFree>;

// What a CRL that cannot be read or parsed does to the configuration being built.
enum class UnusableCrl {
  kFail,               // at startup: the daemon refuses to start, naming the file
  kRefuseCertificates  // at a reload: built anyway, refusing every certificate (etcd)
};

// `crl_error` receives why the CRL is unusable under kRefuseCertificates ("" when it is fine).
Status use_verify_policy(SSL_CTX* context, TlsRole role, const TlsFiles& files,
                         UnusableCrl unusable_crl, std::string& crl_error) {
  auto policy = std::make_unique<VerifyPolicy>();
  policy->allowed_cn = files.allowed_cn;
  if (role == TlsRole::kServer && !files.crl_file.empty()) {
    policy->crl_file = files.crl_file;
    Result<std::set<std::string>> serials = read_revoked_serials(files.crl_file);
    if (serials.is_ok()) {
      policy->revoked_serials = std::move(serials).value();
    } else if (unusable_crl == UnusableCrl::kFail) {
      return serials.error();
    } else {
      policy->crl_error = serials.error().detail();
      crl_error = policy->crl_error;
    }
  }
  SSL_CTX_set_ex_data(context, verify_policy_index(), policy.release());  // freed with context
  return Status::ok();
}

// One SSL_CTX from the files: every check create() promises, run again on every reload.
Result<OwnedContext> build_context(TlsRole role, const TlsFiles& files, UnusableCrl unusable_crl,
                                   std::string& crl_error) {
  ERR_clear_error();
  OwnedContext owned(
      SSL_CTX_new(role == TlsRole::kServer ? TLS_server_method() : TLS_client_method()));
  SSL_CTX* context = owned.get();
  if (context == nullptr) return invalid("SSL_CTX_new: " + take_openssl_errors());
  SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION);
  // Non-blocking writers hand SSL_write whatever the socket can take next; after a WANT_WRITE
  // they retry with the same bytes, possibly from a reallocated buffer.
  SSL_CTX_set_mode(context, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  // A peer killed without close_notify is an ordinary hang-up here, as a FIN is in plain TCP:
  // every protocol on top (length-prefixed checksummed frames, Content-Length bodies) detects
  // truncation itself. Renegotiation (TLS 1.2) is refused: Go's servers never renegotiate, and
  // it would make a write wait for the other side's handshake bytes.
  SSL_CTX_set_options(context, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_RENEGOTIATION);
  // Read whole socket buffers rather than a record header and then its body: one recv for many
  // small Raft records instead of two per record. Readers drain TlsSession::has_buffered_input.
  SSL_CTX_set_read_ahead(context, 1);
  if (role == TlsRole::kServer) {
    // Connections are long-lived (peers) or cheap to redo (clients): no resumption tickets,
    // which also keeps a peer connection's dialling side free of unsolicited reads.
    SSL_CTX_set_num_tickets(context, 0);
    SSL_CTX_set_options(context, SSL_OP_NO_TICKET);
    SSL_CTX_set_alpn_select_cb(context, select_alpn, nullptr);
  }
  if (!files.cipher_list.empty() &&
      SSL_CTX_set_cipher_list(context, files.cipher_list.c_str()) != 1) {
    return invalid("no usable TLS cipher suite in " + files.cipher_list + ": " +
                   take_openssl_errors());
  }
  RETURN_IF_ERROR(use_key_pair(context, files));
  RETURN_IF_ERROR(use_trusted_cas(context, role, files));
  RETURN_IF_ERROR(use_verify_policy(context, role, files, unusable_crl, crl_error));
  // A CRL only judges certificates a server asked for (etcd: --client-crl-file without
  // --client-cert-auth checks nothing, since clients then send none).
  const bool checks_more =
      !files.allowed_cn.empty() || (role == TlsRole::kServer && !files.crl_file.empty());
  const auto callback = checks_more ? verify_policy : nullptr;
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

int64_t nanoseconds(const timespec& time) {
  return static_cast<int64_t>(time.tv_sec) * 1'000'000'000 + time.tv_nsec;
}

}  // namespace

int server_alpn_index() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

Result<std::shared_ptr<const TlsContext>> TlsContext::create(TlsRole role, const TlsFiles& files) {
  // etcd's TLSInfo.ServerConfig/ClientConfig: a certificate needs its key and the other way.
  if (files.cert_file.empty() != files.key_file.empty()) {
    return invalid("KeyFile and CertFile must both be present[key: " + files.key_file +
                   ", cert: " + files.cert_file + "]");
  }
  if (role == TlsRole::kServer && files.cert_file.empty()) {
    return invalid("a TLS server needs a certificate and key (--cert-file, --key-file)");
  }
  // Identified before loading: a file replaced while it is read is then loaded again.
  std::shared_ptr<TlsContext> owned(new TlsContext(role, files, nullptr));
  owned->loaded_ = owned->identify_files();
  std::string crl_error;
  Result<OwnedContext> context = build_context(role, files, UnusableCrl::kFail, crl_error);
  if (!context.is_ok()) return context.error();
  owned->current_ = std::move(context).value().release();
  return std::shared_ptr<const TlsContext>(std::move(owned));
}

TlsContext::TlsContext(TlsRole role, TlsFiles files, ssl_ctx_st* context)
    : role_(role), files_(std::move(files)), current_(context) {}

TlsContext::~TlsContext() {
  SSL_CTX_free(current_);
}

std::vector<TlsContext::FileIdentity> TlsContext::identify_files() const {
  std::vector<FileIdentity> identities;
  for (const std::string* path :
       {&files_.cert_file, &files_.key_file, &files_.trusted_ca_file, &files_.crl_file}) {
    FileIdentity identity;
    struct stat status {};
    if (!path->empty() && ::stat(path->c_str(), &status) == 0) {
      identity.exists = true;
      identity.device = status.st_dev;
      identity.inode = status.st_ino;
      identity.size = static_cast<uint64_t>(status.st_size);
      identity.modified_ns = nanoseconds(status.st_mtim);
      identity.changed_ns = nanoseconds(status.st_ctim);
    }
    identities.push_back(identity);
  }
  return identities;
}

void TlsContext::reload_if_changed_locked() const {
  std::vector<FileIdentity> now = identify_files();
  if (now == loaded_) return;
  // Remembered even when the load fails, so that a broken file is reported once, not on
  // every handshake, and tried again as soon as it changes.
  loaded_ = std::move(now);
  const char* what = role_ == TlsRole::kServer ? "serving" : "dialling";
  std::string crl_error;
  Result<OwnedContext> rebuilt =
      build_context(role_, files_, UnusableCrl::kRefuseCertificates, crl_error);
  if (!rebuilt.is_ok()) {
    ++failed_reloads_;
    std::fprintf(stderr,
                 "lockstep: TLS files changed but cannot be loaded, keeping the previous "
                 "certificate for %s: %s\n",
                 what, rebuilt.error().to_string().c_str());
    return;
  }
  ++reloads_;
  SSL_CTX_free(current_);  // sessions started from it hold their own references
  current_ = std::move(rebuilt).value().release();
  if (crl_error_.empty() && !crl_error.empty()) ++crl_failures_;
  crl_error_ = crl_error;
  if (!crl_error.empty()) {
    // The detail names the file ("open PATH: ..." or "cannot parse certificate revocation
    // list PATH: ...").
    std::fprintf(stderr,
                 "lockstep: TLS files changed; refusing every connection that presents a "
                 "certificate (%s) until the certificate revocation list is fixed: %s\n",
                 what, crl_error.c_str());
    return;
  }
  std::fprintf(stderr, "lockstep: TLS files changed and were reloaded (certificate %s) for %s\n",
               files_.cert_file.c_str(), what);
}

ssl_st* TlsContext::new_session() const {
  std::lock_guard lock(mutex_);
  reload_if_changed_locked();
  return SSL_new(current_);
}

uint64_t TlsContext::reloads() const {
  std::lock_guard lock(mutex_);
  return reloads_;
}

uint64_t TlsContext::failed_reloads() const {
  std::lock_guard lock(mutex_);
  return failed_reloads_;
}

std::string TlsContext::crl_error() const {
  std::lock_guard lock(mutex_);
  return crl_error_;
}

uint64_t TlsContext::crl_failures() const {
  std::lock_guard lock(mutex_);
  return crl_failures_;
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
