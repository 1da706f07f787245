# Sourced by the tests and benchmarks that need TLS (tests/daemon, scripts/bench-*-tls*.sh):
# a throwaway CA and certificates for 127.0.0.1, made with the openssl CLI.
#
# pki_init <directory>: a test CA (ca.pem, ca-key.pem) in <directory>, which becomes $pki.
pki_init() {
  pki=$1
  mkdir -p "$pki"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
    -subj "/CN=lockstep test ca" -keyout "$pki/ca-key.pem" -out "$pki/ca.pem" 2> /dev/null
}

# issue <file name> <common name>: $pki/<file>.pem and <file>-key.pem, signed by $pki's CA, for
# both server and client use on 127.0.0.1 and localhost.
issue() {
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$2" \
    -keyout "$pki/$1-key.pem" -out "$pki/$1.csr" 2> /dev/null
  printf '%s\n' "basicConstraints=CA:FALSE" "subjectAltName=IP:127.0.0.1,DNS:localhost" \
    "extendedKeyUsage=serverAuth,clientAuth" > "$pki/$1.ext"
  openssl x509 -req -in "$pki/$1.csr" -CA "$pki/ca.pem" -CAkey "$pki/ca-key.pem" \
    -CAcreateserial -days 1 -extfile "$pki/$1.ext" -out "$pki/$1.pem" 2> /dev/null
}
