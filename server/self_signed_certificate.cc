#include "server/self_signed_certificate.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <system_error>

#include "server/tls_context.h"

namespace lockstep::server {
namespace {

constexpr int kSerialBytes = 16;  // Go's serial: a random number below 2^128
constexpr long kSecondsPerDay = 24 * 60 * 60;

struct OpenSslFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
  void operator()(X509* certificate) const { X509_free(certificate); }
  void operator()(BIGNUM* number) const { BN_free(number); }
  void operator()(X509_EXTENSION* extension) const { X509_EXTENSION_free(extension); }
  void operator()(BIO* bio) const { BIO_free(bio); }
};
template <typename T>
using Owned = std::unique_ptr<T, OpenSslFree>;

Error failed(const std::string& what) {
  return Error(ErrorCode::kIoError,
               "self-signed certificate: " + what + ": " + take_openssl_errors());
}

bool is_ip_literal(const std::string& host) {
  unsigned char address[sizeof(in6_addr)];
  return inet_pton(AF_INET, host.c_str(), address) == 1 ||
         inet_pton(AF_INET6, host.c_str(), address) == 1;
}

// "IP:127.0.0.1,DNS:localhost" for X509V3_EXT_conf_nid; "" without hosts.
std::string subject_alt_names(const std::vector<std::string>& hosts) {
  std::string names;
  for (const std::string& host : hosts) {
    if (host.empty()) continue;
    names += (names.empty() ? "" : ",") + std::string(is_ip_literal(host) ? "IP:" : "DNS:") + host;
  }
  return names;
}

Status add_extension(X509* certificate, X509V3_CTX& context, int nid, const std::string& value) {
  Owned<X509_EXTENSION> extension(X509V3_EXT_conf_nid(nullptr, &context, nid, value.c_str()));
  if (extension == nullptr || X509_add_ext(certificate, extension.get(), -1) != 1) {
    return failed("extension " + value);
  }
  return Status::ok();
}

Status set_random_serial(X509* certificate) {
  unsigned char bytes[kSerialBytes];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return failed("random serial");
  Owned<BIGNUM> serial(BN_bin2bn(bytes, sizeof bytes, nullptr));  // unsigned: never negative
  if (serial == nullptr ||
      BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(certificate)) == nullptr) {
    return failed("serial number");
  }
  return Status::ok();
}

Result<Owned<X509>> make_certificate(EVP_PKEY* key, const SelfSignedCertificate& wanted) {
  Owned<X509> certificate(X509_new());
  if (certificate == nullptr || X509_set_version(certificate.get(), X509_VERSION_3) != 1) {
    return failed("X509_new");
  }
  RETURN_IF_ERROR(set_random_serial(certificate.get()));
  X509_gmtime_adj(X509_getm_notBefore(certificate.get()), 0);
  X509_gmtime_adj(X509_getm_notAfter(certificate.get()), wanted.validity_days * kSecondsPerDay);
  X509_NAME* name = X509_get_subject_name(certificate.get());
  const auto* organization = reinterpret_cast<const unsigned char*>("etcd");
  if (X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, organization, -1, -1, 0) != 1 ||
      X509_set_issuer_name(certificate.get(), name) != 1 ||
      X509_set_pubkey(certificate.get(), key) != 1) {
    return failed("subject");
  }
  X509V3_CTX context;
  X509V3_set_ctx_nodb(&context);
  X509V3_set_ctx(&context, certificate.get(), certificate.get(), nullptr, nullptr, 0);
  RETURN_IF_ERROR(add_extension(certificate.get(), context, NID_key_usage,
                                "critical,digitalSignature,keyEncipherment"));
  RETURN_IF_ERROR(add_extension(certificate.get(), context, NID_ext_key_usage, "serverAuth"));
  RETURN_IF_ERROR(
      add_extension(certificate.get(), context, NID_basic_constraints, "critical,CA:FALSE"));
  const std::string alt_names = subject_alt_names(wanted.hosts);
  if (!alt_names.empty()) {
    RETURN_IF_ERROR(add_extension(certificate.get(), context, NID_subject_alt_name, alt_names));
  }
  if (X509_sign(certificate.get(), key, EVP_sha512()) == 0) return failed("sign");
  return certificate;
}

// Writes `pem` to `path` through a temporary file renamed into place, so that a crash leaves
// either no file or a whole one (a half-written key would fail every later start).
Status write_file(const std::string& path, const std::string& pem, mode_t mode) {
  const std::string temporary = path + ".tmp";
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) {
    return Error(ErrorCode::kIoError, "open " + temporary + ": " + std::strerror(errno));
  }
  size_t written = 0;
  while (written < pem.size()) {
    const ssize_t wrote = ::write(fd, pem.data() + written, pem.size() - written);
    if (wrote < 0 && errno == EINTR) continue;
    if (wrote <= 0) {
      const std::string why = std::strerror(errno);
      ::close(fd);
      return Error(ErrorCode::kIoError, "write " + temporary + ": " + why);
    }
    written += static_cast<size_t>(wrote);
  }
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!synced || ::rename(temporary.c_str(), path.c_str()) != 0) {
    return Error(ErrorCode::kIoError, "write " + path + ": " + std::strerror(errno));
  }
  return Status::ok();
}

template <typename Write>
Result<std::string> to_pem(Write write) {
  Owned<BIO> bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr || write(bio.get()) != 1) return failed("PEM encoding");
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(length));
}

}  // namespace

Status ensure_self_signed_certificate(const SelfSignedCertificate& wanted) {
  std::error_code exists_error;
  if (std::filesystem::exists(wanted.cert_file, exists_error) &&
      std::filesystem::exists(wanted.key_file, exists_error)) {
    return Status::ok();
  }
  for (const std::string& file : {wanted.cert_file, wanted.key_file}) {
    const std::filesystem::path directory = std::filesystem::path(file).parent_path();
    if (directory.empty()) continue;
    std::error_code error;
    std::filesystem::create_directories(directory, error);
    if (error)
      return Error(ErrorCode::kIoError, "mkdir " + directory.string() + ": " + error.message());
    std::filesystem::permissions(directory, std::filesystem::perms::owner_all, error);
  }
  ERR_clear_error();
  Owned<EVP_PKEY> key(EVP_EC_gen("P-521"));
  if (key == nullptr) return failed("ECDSA P-521 key");
  Result<Owned<X509>> certificate = make_certificate(key.get(), wanted);
  if (!certificate.is_ok()) return certificate.error();
  // The key in SEC 1 form ("EC PRIVATE KEY"), as Go's x509.MarshalECPrivateKey writes it.
  Result<std::string> key_pem = to_pem([&](BIO* bio) {
    return PEM_write_bio_PrivateKey_traditional(bio, key.get(), nullptr, nullptr, 0, nullptr,
                                                nullptr);
  });
  if (!key_pem.is_ok()) return key_pem.error();
  Result<std::string> certificate_pem =
      to_pem([&](BIO* bio) { return PEM_write_bio_X509(bio, certificate->get()); });
  if (!certificate_pem.is_ok()) return certificate_pem.error();
  // The key first: a certificate on disk always has its key.
  RETURN_IF_ERROR(write_file(wanted.key_file, *key_pem, 0600));
  return write_file(wanted.cert_file, *certificate_pem, 0644);
}

}  // namespace lockstep::server
