#!/usr/bin/env bash
# etcd's --auto-tls and --peer-auto-tls: no certificate files, https client and peer URLs.
#   1. three members each make a self-signed certificate at startup under
#      <data-dir>/fixtures/{client,peer} (cert.pem, key.pem mode 0600; subject O=etcd, the
#      listen host 127.0.0.1 as an IP SAN), and the members reach each other over TLS without
#      verifying each other's certificates, as etcd's peers do;
#   2. etcdctl --insecure-skip-tls-verify --insecure-transport=false writes through one member
#      and reads through another; etcdctl verifying the certificate is refused; curl -k gets
#      /health on the client port;
#   3. a restarted member keeps its certificate (etcd reuses the fixtures) and its data.
#
#   tests/daemon/daemon_auto_tls_test.sh <path to the lockstep binary>
#
# Exit 0 when every check holds, 1 with the failed check, 77 (skip) without etcdctl, openssl
# or curl.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
lockstep=${1:?usage: daemon_auto_tls_test.sh <lockstep binary>}
source "$here/cluster_lib.sh"
require_etcdctl
require_tools openssl curl
cluster_init m1 m2 m3
cluster=${cluster//http:\/\//https://}

client_scheme=https peer_scheme=https
extra_serve_flags="--auto-tls --peer-auto-tls"
start_auto_tls_member() { start_member "$1"; }  # start_auto_tls_member <name>
insecure_ctl() {  # insecure_ctl <name> etcdctl-args...: etcd's documented auto-TLS client
  local at=$1
  shift
  ctl_at "https://$(endpoint "$at")" --insecure-skip-tls-verify --insecure-transport=false "$@"
}
wait_auto_tls_writable() {
  for _ in $(seq 100); do
    insecure_ctl "$1" put /auto-tls/ready yes > /dev/null 2>&1 && return 0
    sleep 0.2
  done
  fail "$1 never accepted a write over auto TLS"
}
fingerprint() { openssl x509 -in "$dir/$1/fixtures/client/cert.pem" -noout -fingerprint -sha256; }

# ---- 1. certificates made at startup, members joined over TLS ----
for name in "${names[@]}"; do start_auto_tls_member "$name"; done
for name in "${names[@]}"; do wait_auto_tls_writable "$name"; done
for name in "${names[@]}"; do
  for kind in client peer; do
    fixtures="$dir/$name/fixtures/$kind"
    expect_eq "$name $kind key mode" 600 "$(stat -c %a "$fixtures/key.pem")"
    expect_eq "$name $kind certificate subject" "subject=O = etcd" \
      "$(openssl x509 -in "$fixtures/cert.pem" -noout -subject)"
    expect_eq "$name $kind certificate names the listen host" "IPAddress:127.0.0.1" \
      "$(openssl x509 -in "$fixtures/cert.pem" -noout -ext subjectAltName | sed -n 2p | tr -d ' ')"
  done
done
# The peer port speaks TLS with the member's own peer certificate.
served=$(openssl s_client -connect "127.0.0.1:${peer_port[m1]}" < /dev/null 2> /dev/null |
  openssl x509 -noout -fingerprint -sha256)
expect_eq "the peer port serves the peer certificate" \
  "$(openssl x509 -in "$dir/m1/fixtures/peer/cert.pem" -noout -fingerprint -sha256)" "$served"

# ---- 2. clients as etcd documents them ----
expect_eq "put over auto TLS" OK "$(insecure_ctl m1 put /auto-tls/greeting hello)"
expect_eq "get from another member" hello "$(insecure_ctl m3 get /auto-tls/greeting --print-value-only)"
if ctl_at "https://$(endpoint m2)" --dial-timeout 1s --command-timeout 2s get /auto-tls/greeting \
  > "$dir/verifying.out" 2>&1; then
  fail "etcdctl verifying the certificate accepted a self-signed one"
fi
checks=$((checks + 1))
expect_eq "curl -k /health on the client port" true \
  "$(curl -sS -k --max-time 5 "https://$(endpoint m2)/health" | json_field "['health']")"

# ---- 3. a restart keeps the certificate and the data ----
before=$(fingerprint m2)
stop_member m2
start_auto_tls_member m2
wait_auto_tls_writable m2
expect_eq "the restarted member kept its certificate" "$before" "$(fingerprint m2)"
expect_eq "the restarted member kept its data" hello \
  "$(insecure_ctl m2 get /auto-tls/greeting --print-value-only)"
echo "PASS: $checks checks"
