#!/usr/bin/env bash
# etcd's --peer-cert-allowed-cn: members on https peer URLs accept (and dial) only peers whose
# certificate, from the trusted CA, carries that CommonName.
#   1. a throwaway CA (openssl CLI) issues m1 and m2 certificates with CN "etcd-peer" and m3 one
#      with CN "intruder" (same CA, same SANs);
#   2. with --peer-cert-allowed-cn etcd-peer everywhere, m1 and m2 form a quorum and serve
#      writes, but m3's handshakes fail both ways: it never receives a write;
#   3. m3 restarted with a CN "etcd-peer" certificate catches up, so the CN alone kept it out.
#
#   tests/daemon/daemon_tls_allowed_cn_test.sh <path to the lockstep binary>
#
# Exit 0 when every check holds, 1 with the failed check, 77 (skip) without etcdctl or openssl.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
lockstep=${1:?usage: daemon_tls_allowed_cn_test.sh <lockstep binary>}
source "$here/cluster_lib.sh"
require_etcdctl
command -v openssl > /dev/null || { echo "SKIP: openssl is not installed" >&2; exit 77; }
cluster_init m1 m2 m3
cluster=${cluster//http:\/\//https://}
pki_init "$dir/pki"
issue m1 etcd-peer
issue m2 etcd-peer
issue m3 etcd-peer
issue intruder intruder

start_peer_tls_member() {  # start_peer_tls_member <name> <certificate file name>
  local name=$1 cert=$2
  peer_scheme=https extra_serve_flags="--peer-cert-file $pki/$cert.pem \
    --peer-key-file $pki/$cert-key.pem --peer-trusted-ca-file $pki/ca.pem \
    --peer-client-cert-auth --peer-cert-allowed-cn etcd-peer" start_member "$name"
}

start_peer_tls_member m1 m1
start_peer_tls_member m2 m2
start_peer_tls_member m3 intruder
wait_writable "$(endpoint m1)"
ctl_at "$(endpoint m1)" put /cn/k written > /dev/null
expect_eq "m2 (CN etcd-peer) replicates" written "$(read_on m2 /cn/k 50)"
expect_eq "m3 (CN intruder) receives nothing" "" "$(read_on m3 /cn/k 20)"
stop_member m3
start_peer_tls_member m3 m3
expect_eq "m3 with CN etcd-peer catches up" written "$(read_on m3 /cn/k 200)"
echo "ok: $checks checks of --peer-cert-allowed-cn"
