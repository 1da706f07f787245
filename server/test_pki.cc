#include "server/test_pki.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <filesystem>
#include <memory>

#include "core/base/assert.h"

namespace lockstep::server {
namespace {

constexpr long kValiditySeconds = 24L * 60 * 60;

struct KeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct CertificateFree {
  void operator()(X509* certificate) const { X509_free(certificate); }
};
using Key = std::unique_ptr<EVP_PKEY, KeyFree>;
using Certificate = std::unique_ptr<X509, CertificateFree>;

void add_extension(X509* certificate, X509* issuer, int nid, const char* value) {
  X509V3_CTX context;
  X509V3_set_ctx(&context, issuer, certificate, nullptr, nullptr, 0);
  X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &context, nid, value);
  ASSERT(extension != nullptr, "a well-formed test certificate extension");
  X509_add_ext(certificate, extension, -1);
  X509_EXTENSION_free(extension);
}

// Signed by `issuer_key` (self-signed when `issuer` is null).
Certificate make_certificate(const std::string& common_name, EVP_PKEY* key, X509* issuer,
                             EVP_PKEY* issuer_key, long serial) {
  Certificate certificate(X509_new());
  X509_set_version(certificate.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(certificate.get()), serial);
  X509_gmtime_adj(X509_getm_notBefore(certificate.get()), -60);
  X509_gmtime_adj(X509_getm_notAfter(certificate.get()), kValiditySeconds);
  X509_set_pubkey(certificate.get(), key);
  X509_NAME* name = X509_get_subject_name(certificate.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1,
                             0);
  X509* signer = issuer != nullptr ? issuer : certificate.get();
  X509_set_issuer_name(certificate.get(), X509_get_subject_name(signer));
  if (issuer == nullptr) {
    add_extension(certificate.get(), signer, NID_basic_constraints, "critical,CA:TRUE");
    add_extension(certificate.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    add_extension(certificate.get(), signer, NID_basic_constraints, "critical,CA:FALSE");
    add_extension(certificate.get(), signer, NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost");
    add_extension(certificate.get(), signer, NID_ext_key_usage, "serverAuth,clientAuth");
  }
  const int signed_bytes = X509_sign(certificate.get(), issuer_key, EVP_sha256());
  ASSERT(signed_bytes > 0, "signing a test certificate");
  return certificate;
}

void write_pem(const std::string& path, X509* certificate, EVP_PKEY* key) {
  std::FILE* file = std::fopen(path.c_str(), "w");
  ASSERT(file != nullptr, "the test PKI directory is writable");
  const int written = certificate != nullptr
                          ? PEM_write_X509(file, certificate)
                          : PEM_write_PrivateKey(file, key, nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(file);
  ASSERT(written == 1, "writing a PEM file");
}

Key read_key(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "r");
  ASSERT(file != nullptr, "the CA key was written");
  Key key(PEM_read_PrivateKey(file, nullptr, nullptr, nullptr));
  std::fclose(file);
  return key;
}

Certificate read_certificate(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "r");
  ASSERT(file != nullptr, "the CA certificate was written");
  Certificate certificate(PEM_read_X509(file, nullptr, nullptr, nullptr));
  std::fclose(file);
  return certificate;
}

struct CrlFree {
  void operator()(X509_CRL* crl) const { X509_CRL_free(crl); }
};

}  // namespace

TestPki::TestPki(std::string directory, std::string ca_name)
    : directory_(std::move(directory)),
      ca_file_(directory_ + "/" + ca_name + ".pem"),
      ca_key_file_(directory_ + "/" + ca_name + "-key.pem") {
  std::filesystem::create_directories(directory_);
  Key key(EVP_EC_gen("P-256"));
  Certificate ca = make_certificate(ca_name, key.get(), nullptr, key.get(), 1);
  write_pem(ca_file_, ca.get(), nullptr);
  write_pem(ca_key_file_, nullptr, key.get());
}

TlsFiles TestPki::issue(const std::string& name) const {
  Key ca_key = read_key(ca_key_file_);
  Certificate ca = read_certificate(ca_file_);
  Key key(EVP_EC_gen("P-256"));
  static long serial = 1;
  Certificate leaf = make_certificate(name, key.get(), ca.get(), ca_key.get(), ++serial);
  TlsFiles files;
  files.cert_file = directory_ + "/" + name + ".pem";
  files.key_file = directory_ + "/" + name + "-key.pem";
  files.trusted_ca_file = ca_file_;
  write_pem(files.cert_file, leaf.get(), nullptr);
  write_pem(files.key_file, nullptr, key.get());
  return files;
}

void TestPki::write_crl(const std::string& path,
                        const std::vector<std::string>& revoked_cert_files) const {
  Key ca_key = read_key(ca_key_file_);
  Certificate ca = read_certificate(ca_file_);
  std::unique_ptr<X509_CRL, CrlFree> crl(X509_CRL_new());
  X509_CRL_set_version(crl.get(), 1);  // v2
  X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(ca.get()));
  ASN1_TIME* now = X509_gmtime_adj(nullptr, -60);
  ASN1_TIME* next = X509_gmtime_adj(nullptr, kValiditySeconds);
  X509_CRL_set1_lastUpdate(crl.get(), now);
  X509_CRL_set1_nextUpdate(crl.get(), next);
  for (const std::string& cert_file : revoked_cert_files) {
    Certificate revoked = read_certificate(cert_file);
    X509_REVOKED* entry = X509_REVOKED_new();
    X509_REVOKED_set_serialNumber(entry, X509_get_serialNumber(revoked.get()));
    X509_REVOKED_set_revocationDate(entry, now);
    X509_CRL_add0_revoked(crl.get(), entry);
  }
  ASN1_TIME_free(now);
  ASN1_TIME_free(next);
  X509_CRL_sort(crl.get());
  const int signed_bytes = X509_CRL_sign(crl.get(), ca_key.get(), EVP_sha256());
  ASSERT(signed_bytes > 0, "signing a test CRL");
  std::FILE* file = std::fopen(path.c_str(), "w");
  ASSERT(file != nullptr, "the CRL's directory is writable");
  const int written = PEM_write_X509_CRL(file, crl.get());
  std::fclose(file);
  ASSERT(written == 1, "writing a CRL");
}

}  // namespace lockstep::server
