#pragma once

#include <string>
#include <vector>

#include "core/base/error.h"

namespace lockstep::server {

// etcd's --auto-tls and --peer-auto-tls (pkg/transport SelfCert): a self-signed certificate
// and its key for the listener's hosts, made once and reused on every later start.
struct SelfSignedCertificate {
  std::string cert_file;  // etcd: <data-dir>/fixtures/client/cert.pem (peer: fixtures/peer)
  std::string key_file;   // etcd: <data-dir>/fixtures/client/key.pem, mode 0600
  // Hosts of the listen URLs: an IP literal becomes an IP subjectAltName, anything else a DNS
  // one, as etcd does.
  std::vector<std::string> hosts;
  // etcd 3.4: one year from now.
  int validity_days = 365;
};

// Writes the certificate and key unless both files already exist (then they are kept, as
// etcd keeps them, so clients that pinned the certificate keep working across restarts).
// Like etcd's: an ECDSA P-521 key, subject and issuer O=etcd, a random 128-bit serial,
// keyUsage digitalSignature+keyEncipherment, extendedKeyUsage serverAuth, CA:FALSE, signed
// with SHA-512. Creates the directories (mode 0700). kIoError naming the path on failure.
Status ensure_self_signed_certificate(const SelfSignedCertificate& wanted);

}  // namespace lockstep::server
