#pragma once

#include <memory>
#include <string>

#include "core/base/error.h"

struct ssl_ctx_st;  // OpenSSL's SSL_CTX, kept out of every includer

namespace lockstep::server {

// etcd's transport.TLSInfo: the files behind --cert-file, --key-file, --trusted-ca-file and
// --client-cert-auth (and their --peer-* twins).
struct TlsFiles {
  std::string cert_file;
  std::string key_file;
  std::string trusted_ca_file;
  bool client_cert_auth = false;
  // etcd's TLSInfo.AllowedCN (--peer-cert-allowed-cn): when set, the other side's certificate
  // must also carry this subject CommonName, on accepting and on dialling alike (etcd sets
  // VerifyPeerCertificate in the config both use); etcd's error: "CommonName authentication
  // failed".
  std::string allowed_cn;
  // etcd's --cipher-suites, as an OpenSSL cipher list (go_cipher_suites_to_openssl): the TLS 1.2
  // suites offered; empty keeps OpenSSL's defaults. Like Go's, it leaves TLS 1.3 alone.
  std::string cipher_list;
  // etcd's TLSInfo.InsecureSkipVerify, which etcd sets for a self-signed certificate
  // (--peer-auto-tls): a dialling side accepts any server certificate. No effect on servers.
  bool insecure_skip_verify = false;

  // etcd's TLSInfo.Empty(): neither a certificate nor a key was given.
  bool empty() const { return cert_file.empty() && key_file.empty(); }
};

enum class TlsRole {
  // Accepts connections: presents cert_file/key_file; with client_cert_auth, requires a
  // client certificate that chains to trusted_ca_file (Go's RequireAndVerifyClientCert).
  kServer,
  // Dials: presents cert_file/key_file as its client certificate (when given) and verifies the
  // server's certificate against trusted_ca_file (the system's roots when empty), as etcd's
  // peer transport does.
  kClient,
};

// One OpenSSL SSL_CTX built from TlsFiles, immutable once built and shared by every
// connection of a listener or dialler (OpenSSL allows that across threads). TLS 1.2 at least,
// as etcd 3.4 (Go's default minimum for servers is TLS 1.0, but etcd's clients and peers all
// speak 1.2+, and 1.0/1.1 are deprecated by RFC 8996).
class TlsContext {
 public:
  // Loads and checks the files now, so a bad path, a key that does not match its certificate
  // or an unreadable CA fails startup with a message naming the file. kInvalidInput.
  static Result<std::shared_ptr<const TlsContext>> create(TlsRole role, const TlsFiles& files);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  TlsRole role() const { return role_; }
  ssl_ctx_st* native() const { return context_; }

 private:
  TlsContext(TlsRole role, ssl_ctx_st* context, std::string allowed_cn)
      : role_(role), context_(context), allowed_cn_(std::move(allowed_cn)) {}

  TlsRole role_;
  ssl_ctx_st* context_;
  const std::string allowed_cn_;  // read by the verify callback through the SSL_CTX's ex_data
};

// etcd's --cipher-suites value (Go's names, comma-separated, e.g.
// "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256") as an OpenSSL cipher list; etcd's error for a
// name Go does not know: unexpected TLS cipher suite "NAME" (kInvalidInput).
Result<std::string> go_cipher_suites_to_openssl(const std::string& names);

// The whole of a PEM file, for APIs that take contents rather than paths (gRPC's). Errors are
// kInvalidInput naming the path, like Go's "open ca.pem: no such file or directory".
Result<std::string> read_pem_file(const std::string& path);

// Drains OpenSSL's per-thread error queue into one line ("" when it is empty).
std::string take_openssl_errors();

}  // namespace lockstep::server
