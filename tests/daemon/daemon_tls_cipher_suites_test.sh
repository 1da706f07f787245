#!/usr/bin/env bash
# etcd's --cipher-suites: one list of Go's TLS 1.2 cipher suite names for the client port
# (gRPC) and the peer port alike; TLS 1.3 is left alone, as Go leaves it.
#   1. an unknown name fails startup with etcd's message;
#   2. a member with ECDSA certificates and --cipher-suites
#      TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: a TLS 1.2 handshake (openssl s_client) offering
#      only that suite succeeds on both ports, one offering only AES-256-GCM fails on both;
#   3. etcdctl (TLS 1.3) still works.
#
#   tests/daemon/daemon_tls_cipher_suites_test.sh <path to the lockstep binary>
#
# Exit 0 when every check holds, 1 with the failed check, 77 (skip) without etcdctl or openssl.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
lockstep=${1:?usage: daemon_tls_cipher_suites_test.sh <lockstep binary>}
source "$here/cluster_lib.sh"
require_etcdctl
require_tools openssl
cluster_init m1
pki="$dir/pki"
mkdir -p "$pki"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
  -subj "/CN=lockstep test ca" -keyout "$pki/ca-key.pem" -out "$pki/ca.pem" 2> /dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=m1" \
  -keyout "$pki/m1-key.pem" -out "$pki/m1.csr" 2> /dev/null
printf '%s\n' "basicConstraints=CA:FALSE" "subjectAltName=IP:127.0.0.1,DNS:localhost" \
  "extendedKeyUsage=serverAuth,clientAuth" > "$pki/m1.ext"
openssl x509 -req -in "$pki/m1.csr" -CA "$pki/ca.pem" -CAkey "$pki/ca-key.pem" \
  -CAcreateserial -days 1 -extfile "$pki/m1.ext" -out "$pki/m1.pem" 2> /dev/null

serve_flags() {  # serve_flags <cipher suites>
  echo --name m1 --data-dir "$dir/m1" \
    --listen-client-urls "https://127.0.0.1:${client_port[m1]}" \
    --advertise-client-urls "https://127.0.0.1:${client_port[m1]}" \
    --listen-peer-urls "https://127.0.0.1:${peer_port[m1]}" \
    --initial-advertise-peer-urls "https://127.0.0.1:${peer_port[m1]}" \
    --initial-cluster "m1=https://127.0.0.1:${peer_port[m1]}" --initial-cluster-token "$token" \
    --cert-file "$pki/m1.pem" --key-file "$pki/m1-key.pem" \
    --peer-cert-file "$pki/m1.pem" --peer-key-file "$pki/m1-key.pem" \
    --peer-trusted-ca-file "$pki/ca.pem" --cipher-suites "$1"
}

# 1. etcd's startup error.
# shellcheck disable=SC2046
refused=$("$lockstep" serve $(serve_flags TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,TLS_BOGUS) 2>&1 || true)
expect_eq "unknown cipher suite" yes \
  "$(grep -qF 'unexpected TLS cipher suite "TLS_BOGUS"' <<< "$refused" && echo yes)"

# 2. Only the listed suite is negotiated under TLS 1.2, on the client and on the peer port.
# shellcheck disable=SC2046
"$lockstep" serve $(serve_flags TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256) >> "$dir/m1.log" 2>&1 &
pids[m1]=$!
ctl() { ctl_at "https://$(endpoint m1)" --cacert "$pki/ca.pem" "$@"; }
for _ in $(seq 100); do ctl put /tls/k v > /dev/null 2>&1 && break; sleep 0.1; done
negotiated() {  # negotiated <port> <openssl cipher>: the cipher the TLS 1.2 handshake chose
  timeout 5 openssl s_client -connect "127.0.0.1:$1" -tls1_2 -cipher "$2" \
    -CAfile "$pki/ca.pem" < /dev/null 2> /dev/null |
    sed -n 's/^New, TLSv1.2, Cipher is \(.*\)$/\1/p' | head -n 1
}
for port_name in client peer; do
  if [[ $port_name == client ]]; then port=${client_port[m1]}; else port=${peer_port[m1]}; fi
  expect_eq "$port_name port: the listed suite" ECDHE-ECDSA-AES128-GCM-SHA256 \
    "$(negotiated "$port" ECDHE-ECDSA-AES128-GCM-SHA256)"
  expect_eq "$port_name port: an unlisted suite is refused" "" \
    "$(negotiated "$port" ECDHE-ECDSA-AES256-GCM-SHA384)"
done

# 3. etcdctl negotiates TLS 1.3, which --cipher-suites does not restrict (as in Go).
expect_eq "etcdctl over TLS" v "$(ctl get /tls/k --print-value-only)"
echo "ok: $checks checks of --cipher-suites"
