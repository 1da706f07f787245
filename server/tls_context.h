#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/base/error.h"

struct ssl_ctx_st;  // OpenSSL's SSL_CTX and SSL, kept out of every includer
struct ssl_st;

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
  // etcd's --client-crl-file / --peer-crl-file (TLSInfo.CRLFile): a PEM (or DER) certificate
  // revocation list. A server refuses a handshake in which the other side presents a
  // certificate whose serial number the list revokes; like etcd (pkg/transport's checkCRL) the
  // serial numbers decide, every certificate the other side sent is checked, and the list's
  // own signature is not (the operator's file is trusted as the CA file is). Dialling sides
  // ignore it, as etcd's do.
  std::string crl_file;

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

// The OpenSSL configuration (SSL_CTX) built from TlsFiles and shared by every connection of a
// listener or dialler. TLS 1.2 at least, as etcd 3.4 (Go's default minimum for servers is TLS
// 1.0, but etcd's clients and peers all speak 1.2+, and 1.0/1.1 are deprecated by RFC 8996).
//
// Certificate rotation as etcd does it: etcd's GetCertificate/GetClientCertificate callbacks
// re-read the key pair for every handshake, so a rotated certificate is served without a
// restart. Here every new session first compares the files' identity (device, inode, size,
// mtime, ctime) with the ones loaded; when any changed, the whole configuration (key pair, CA,
// CRL) is rebuilt for this and later sessions. Sessions already running keep the configuration
// they started with (OpenSSL reference-counts it). A rebuild that fails (a half-written or
// mismatched file) keeps the previous configuration and logs why, once per change of the files.
// Except for the CRL: like etcd, whose checkCRL reads the file at every handshake and refuses
// the connection when it cannot read or parse it, a reload that finds the CRL unreadable or
// corrupt refuses every connection that presents a certificate (not the old list: revocations
// added since would silently not apply) until the file is fixed, and logs why, naming the file.
// Connections that present none (no --client-cert-auth) are served, as etcd serves them.
// Thread-safe.
class TlsContext {
 public:
  // Loads and checks the files now, so a bad path, a key that does not match its certificate
  // or an unreadable CA fails startup with a message naming the file. kInvalidInput.
  static Result<std::shared_ptr<const TlsContext>> create(TlsRole role, const TlsFiles& files);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  TlsRole role() const { return role_; }
  // A new OpenSSL session (SSL) for one connection, from the files as they are now (see
  // above); null when OpenSSL cannot allocate one. The caller owns it (SSL_free).
  ssl_st* new_session() const;
  // How many times changed files were loaded since create(), and how many loads failed.
  uint64_t reloads() const;
  uint64_t failed_reloads() const;
  // Why the CRL loaded last cannot be used ("" when it can, or none is configured): while this
  // is set, every certificate is refused. And how often a reload found it so.
  std::string crl_error() const;
  uint64_t crl_failures() const;

 private:
  // What tells a rewritten or replaced file from the one loaded (a rename gives a new inode,
  // an in-place rewrite a new mtime/ctime and usually size); `exists` false when stat failed.
  struct FileIdentity {
    bool exists = false;
    uint64_t device = 0, inode = 0, size = 0;
    int64_t modified_ns = 0, changed_ns = 0;
    bool operator==(const FileIdentity&) const = default;
  };
  TlsContext(TlsRole role, TlsFiles files, ssl_ctx_st* context);
  std::vector<FileIdentity> identify_files() const;
  void reload_if_changed_locked() const;

  const TlsRole role_;
  const TlsFiles files_;
  mutable std::mutex mutex_;
  mutable ssl_ctx_st* current_;               // guarded by mutex_
  mutable std::vector<FileIdentity> loaded_;  // what current_ (or a failed load) was built from
  mutable uint64_t reloads_ = 0;
  mutable uint64_t failed_reloads_ = 0;
  mutable std::string crl_error_;
  mutable uint64_t crl_failures_ = 0;
};

// etcd's --cipher-suites value (Go's names, comma-separated, e.g.
// "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256") as an OpenSSL cipher list; etcd's error for a
// name Go does not know: unexpected TLS cipher suite "NAME" (kInvalidInput).
Result<std::string> go_cipher_suites_to_openssl(const std::string& names);

// The whole of a PEM file, for APIs that take contents rather than paths (gRPC's). Errors are
// kInvalidInput naming the path, like Go's "open ca.pem: no such file or directory".
Result<std::string> read_pem_file(const std::string& path);

// For TlsSession: the SSL ex_data slot holding a server session's acceptable ALPN protocols
// (a const std::vector<std::string>*, in the server's order of preference).
int server_alpn_index();

// Drains OpenSSL's per-thread error queue into one line ("" when it is empty).
std::string take_openssl_errors();

}  // namespace lockstep::server
