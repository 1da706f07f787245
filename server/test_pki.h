#pragma once

#include <string>
#include <vector>

#include "server/tls_context.h"

namespace lockstep::server {

// Tests only: a throwaway certificate authority in a directory, issuing EC P-256 leaf
// certificates for 127.0.0.1 and localhost (IP and DNS subject alternative names, usable for
// both server and client authentication), written as PEM files.
class TestPki {
 public:
  // Creates `directory` if needed and a CA named `ca_name` in it.
  TestPki(std::string directory, std::string ca_name);

  const std::string& ca_file() const { return ca_file_; }
  // <name>.pem and <name>-key.pem signed by this CA; TlsFiles trusting this CA. Issuing a
  // name again replaces its files in place (a certificate rotation), with a new serial number.
  TlsFiles issue(const std::string& name) const;
  // A PEM certificate revocation list at `path`, signed by this CA, revoking the certificates
  // in `revoked_cert_files` (by serial number, as CRLs do); empty revokes none.
  void write_crl(const std::string& path, const std::vector<std::string>& revoked_cert_files) const;

 private:
  std::string directory_;
  std::string ca_file_;
  std::string ca_key_file_;
};

}  // namespace lockstep::server
