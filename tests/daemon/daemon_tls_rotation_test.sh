#!/usr/bin/env bash
# Certificate rotation and revocation as etcd offers them, driven by etcdctl and openssl:
#   1. a throwaway CA (openssl CLI) issues member, client and "revoked" certificates and a CRL
#      (openssl ca -gencrl) revoking the revoked client's and m3's peer certificates;
#   2. three members on https client and peer URLs with --client-cert-auth,
#      --client-crl-file, --peer-client-cert-auth and --peer-crl-file: m1 and m2 serve writes,
#      m3 (peer certificate revoked) never receives one; etcdctl with the revoked client
#      certificate is refused, with the good one served;
#   3. m1's client certificate rotated on disk (renamed over): a new connection is served the
#      new certificate (openssl s_client sees its subject) without a restart, and etcdctl keeps
#      working; a broken certificate file then keeps the rotated one in service, logged;
#   4. m1 stops cleanly on SIGTERM while a TLS client is connected, which is disconnected.
#
#   tests/daemon/daemon_tls_rotation_test.sh <path to the lockstep binary>
#
# Exit 0 when every check holds, 1 with the failed check, 77 (skip) without etcdctl or openssl.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
lockstep=${1:?usage: daemon_tls_rotation_test.sh <lockstep binary>}
source "$here/cluster_lib.sh"
require_etcdctl
require_tools openssl
cluster_init m1 m2 m3
cluster=${cluster//http:\/\//https://}
pki_init "$dir/pki"

# ---- 1. certificates and the CRL ----
for name in m1 m2 m3 client revoked; do issue "$name" "$name"; done
touch "$pki/index.txt"
echo 01 > "$pki/crlnumber"
printf '%s\n' "[ca]" "default_ca = test" "[test]" "database = $pki/index.txt" \
  "crlnumber = $pki/crlnumber" "default_md = sha256" "default_crl_days = 1" > "$pki/ca.cnf"
for revoked in revoked m3; do
  openssl ca -config "$pki/ca.cnf" -keyfile "$pki/ca-key.pem" -cert "$pki/ca.pem" \
    -revoke "$pki/$revoked.pem" 2> /dev/null
done
openssl ca -config "$pki/ca.cnf" -keyfile "$pki/ca-key.pem" -cert "$pki/ca.pem" -gencrl \
  -out "$pki/crl.pem" 2> /dev/null

# ---- 2. revoked certificates refused ----
start_tls_member() {  # start_tls_member <name>: its own certificate for both ports
  local name=$1
  client_scheme=https peer_scheme=https extra_serve_flags="\
    --cert-file $pki/$name.pem --key-file $pki/$name-key.pem --trusted-ca-file $pki/ca.pem \
    --client-cert-auth --client-crl-file $pki/crl.pem \
    --peer-cert-file $pki/$name.pem --peer-key-file $pki/$name-key.pem \
    --peer-trusted-ca-file $pki/ca.pem --peer-client-cert-auth --peer-crl-file $pki/crl.pem" \
    start_member "$name"
}
tls_ctl() {  # tls_ctl <member> <client certificate> etcdctl-args...
  local at=$1 cert=$2
  shift 2
  ETCDCTL_API=3 etcdctl --endpoints "https://$(endpoint "$at")" --command-timeout 3s \
    --dial-timeout 2s --cacert "$pki/ca.pem" --cert "$pki/$cert.pem" --key "$pki/$cert-key.pem" \
    "$@"
}
for name in m1 m2 m3; do start_tls_member "$name"; done
for _ in $(seq 100); do
  if tls_ctl m1 client put /crl/k written > /dev/null 2>&1; then break; fi
  sleep 0.2
done
expect_eq "the good client writes through m1" written \
  "$(tls_ctl m1 client get /crl/k --print-value-only 2> /dev/null || true)"
expect_eq "m2 replicates" written \
  "$(tls_ctl m2 client get /crl/k --print-value-only --consistency=s 2> /dev/null || true)"
if tls_ctl m1 revoked get /crl/k > /dev/null 2>&1; then fail "the revoked client was served"; fi
checks=$((checks + 1))
grep -q "certificate revoked" "$dir/m1.log" || fail "m1 logs no revoked client certificate"
value=""
for _ in $(seq 10); do
  value=$(tls_ctl m3 client get /crl/k --print-value-only --consistency=s 2> /dev/null || true)
  [[ -n "$value" ]] && break
  sleep 0.1
done
expect_eq "m3 (peer certificate revoked) receives nothing" "" "$value"

# ---- 3. rotation without a restart ----
served_subject() {  # the subject of the certificate m1's client port serves a new connection
  openssl s_client -connect "$(endpoint m1)" -CAfile "$pki/ca.pem" -cert "$pki/client.pem" \
    -key "$pki/client-key.pem" < /dev/null 2> /dev/null |
    sed -n 's/^subject=//p' | tr -d ' '
}
expect_eq "m1 serves its first certificate" "CN=m1" "$(served_subject)"
issue m1-rotated m1-rotated
mv "$pki/m1-rotated-key.pem" "$pki/m1-key.pem"
mv "$pki/m1-rotated.pem" "$pki/m1.pem"
expect_eq "m1 serves the rotated certificate to a new connection" "CN=m1-rotated" \
  "$(served_subject)"
tls_ctl m1 client put /crl/k rotated > /dev/null
expect_eq "writes go on after the rotation" rotated \
  "$(tls_ctl m1 client get /crl/k --print-value-only)"
echo "not a certificate" > "$pki/m1.pem"
expect_eq "a broken file keeps the rotated certificate" "CN=m1-rotated" "$(served_subject)"
checks=$((checks + 1))
grep -q "TLS files changed but cannot be loaded" "$dir/m1.log" || fail "m1 does not log the broken file"

# ---- 4. SIGTERM with a TLS client connected: the member stops, the client sees the end ----
openssl s_client -connect "$(endpoint m1)" -CAfile "$pki/ca.pem" -cert "$pki/client.pem" \
  -key "$pki/client-key.pem" -quiet < <(sleep 20 2> /dev/null) > "$dir/held.out" 2>&1 &
held=$!
sleep 0.5
kill -0 "$held" 2> /dev/null || fail "the held TLS connection ended before SIGTERM"
stop_member m1
for _ in $(seq 50); do kill -0 "$held" 2> /dev/null || break; sleep 0.1; done
checks=$((checks + 1))
kill -0 "$held" 2> /dev/null && fail "a TLS client of m1 was not disconnected by its SIGTERM"
echo "ok: $checks checks of certificate rotation and CRLs"
