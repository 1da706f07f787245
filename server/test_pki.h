#pragma once

#include <string>

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
  // <name>.pem and <name>-key.pem signed by this CA; TlsFiles trusting this CA.
  TlsFiles issue(const std::string& name) const;

 private:
  std::string directory_;
  std::string ca_file_;
  std::string ca_key_file_;
};

}  // namespace lockstep::server
