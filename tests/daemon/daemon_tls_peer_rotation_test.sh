#!/usr/bin/env bash
# Peer certificate rotation end to end, as an etcd operator does it (etcd re-reads the peer
# key pair for every handshake, so new files take effect without a restart):
#   1. three members on https peer URLs with --peer-client-cert-auth, certificates from a
#      throwaway CA (tests/lib/test_pki.sh's pki_init/issue); a write through m1 reaches m3;
#   2. m2's peer certificate and key are rewritten in place (same files, new contents, CN
#      m2-rotated) while m2 runs; its peer port serves the new certificate to a new connection;
#   3. m1 and m3 are killed (-9) and restarted, so every peer connection of m2 is made anew,
#      with the rotated certificate on both sides of the handshake (m2 as server and as
#      client); a write through m2 commits and both m1 and m3 see it;
#   4. m3 restarted with a peer certificate from another CA (same CN, same files) is refused
#      by m1 and m2 (certificate verify failed) and receives no write; restarted with one from
#      the trusted CA, it catches up, so the CA alone kept it out.
#
#   tests/daemon/daemon_tls_peer_rotation_test.sh <path to the lockstep binary>
#
# Exit 0 when every check holds, 1 with the failed check, 77 (skip) without etcdctl or openssl.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
lockstep=${1:?usage: daemon_tls_peer_rotation_test.sh <lockstep binary>}
source "$here/cluster_lib.sh"
require_etcdctl
require_tools openssl
cluster_init m1 m2 m3
cluster=${cluster//http:\/\//https://}
pki_init "$dir/pki"
for name in m1 m2 m3; do issue "$name" "$name"; done

start_peer_tls_member() {  # start_peer_tls_member <name>: peer TLS from <name>.pem in $pki
  local name=$1
  peer_scheme=https extra_serve_flags="--peer-cert-file $pki/$name.pem \
    --peer-key-file $pki/$name-key.pem --peer-trusted-ca-file $pki/ca.pem \
    --peer-client-cert-auth" start_member "$name"
}
kill_member() {  # kill_member <name>: kill -9, no clean shutdown
  kill -9 "${pids[$1]}"
  wait "${pids[$1]}" 2> /dev/null || true
  unset "pids[$1]"
}
peer_subject() {  # peer_subject <name>: the certificate <name>'s peer port serves a new client
  openssl s_client -connect "127.0.0.1:${peer_port[$1]}" -CAfile "$pki/ca.pem" \
    -cert "$pki/m1.pem" -key "$pki/m1-key.pem" < /dev/null 2> /dev/null |
    sed -n 's/^subject=//p' | tr -d ' '
}
verify_failures() {  # handshakes m1 and m2 refused for an untrusted certificate, so far
  cat "$dir/m1.log" "$dir/m2.log" |
    grep -c "certificate verify failed: unable to get local issuer certificate" || true
}

# ---- 1. a peer-TLS cluster ----
for name in m1 m2 m3; do start_peer_tls_member "$name"; done
wait_writable "$(endpoint m1)"
put_until_acked "$(endpoint m1)" /rotation/k before
expect_eq "m3 replicates over peer TLS" before "$(read_on m3 /rotation/k 50)"

# ---- 2. m2's peer certificate rotated in place ----
expect_eq "m2's peer port serves its first certificate" "CN=m2" "$(peer_subject m2)"
issue m2-next m2-rotated
cat "$pki/m2-next-key.pem" > "$pki/m2-key.pem"
cat "$pki/m2-next.pem" > "$pki/m2.pem"
expect_eq "m2's peer port serves the rotated certificate" "CN=m2-rotated" "$(peer_subject m2)"

# ---- 3. every peer connection of m2 made anew: writes through m2 still replicate ----
kill_member m1
kill_member m3
start_peer_tls_member m1
start_peer_tls_member m3
wait_writable "$(endpoint m2)"
put_until_acked "$(endpoint m2)" /rotation/k after
expect_eq "m1 sees the write made through the rotated m2" after "$(read_on m1 /rotation/k 50)"
expect_eq "m3 sees the write made through the rotated m2" after "$(read_on m3 /rotation/k 50)"
checks=$((checks + 1))
grep -q "TLS files changed and were reloaded (certificate $pki/m2.pem) for dialling" \
  "$dir/m2.log" || fail "m2 did not reload its dialling certificate"
expect_eq "no peer handshake was refused so far" 0 "$(verify_failures)"

# ---- 4. a peer certificate from an untrusted CA is refused ----
(
  pki="$dir/rogue"
  mkdir -p "$pki"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
    -subj "/CN=lockstep test ca" -keyout "$pki/ca-key.pem" -out "$pki/ca.pem" 2> /dev/null
  issue m3 m3
)
kill_member m3
cp "$pki/m3.pem" "$pki/m3-trusted.pem"
cp "$pki/m3-key.pem" "$pki/m3-trusted-key.pem"
cat "$dir/rogue/m3.pem" > "$pki/m3.pem"
cat "$dir/rogue/m3-key.pem" > "$pki/m3-key.pem"
start_peer_tls_member m3
put_until_acked "$(endpoint m1)" /rotation/untrusted written
expect_eq "m3 (untrusted CA) receives nothing" "" "$(read_on m3 /rotation/untrusted 30)"
refused=0
for _ in $(seq 50); do
  refused=$(verify_failures)
  [[ "$refused" -gt 0 ]] && break
  sleep 0.1
done
checks=$((checks + 1))
[[ "$refused" -gt 0 ]] || fail "neither m1 nor m2 logged refusing m3's untrusted certificate"
kill_member m3
cat "$pki/m3-trusted-key.pem" > "$pki/m3-key.pem"
cat "$pki/m3-trusted.pem" > "$pki/m3.pem"
start_peer_tls_member m3
expect_eq "m3 with a trusted certificate catches up" written \
  "$(read_on m3 /rotation/untrusted 100)"
echo "ok: $checks checks of peer certificate rotation and an untrusted peer CA"
