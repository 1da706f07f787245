#!/usr/bin/env bash
# TLS for clients and peers, as etcd offers it, driven by Debian's etcdctl 3.4 and curl:
#   1. a throwaway CA (openssl CLI) issues member certificates (SANs 127.0.0.1 and localhost)
#      and a client certificate; a second, rogue CA issues an impostor's certificate;
#   2. three members on https client and peer URLs with --client-cert-auth and
#      --peer-client-cert-auth: etcdctl --cacert --cert --key put/get, member list, endpoint
#      health of all three; /health, /version, /metrics and the JSON gateway over https with
#      curl, on the client port (as etcd) and on --gateway-port;
#   3. refusals: etcdctl without a client certificate, plain http to the https port, curl
#      without a client certificate;
#   4. a fourth member added with `member add` but holding the rogue CA's certificate cannot
#      join: the members refuse its TLS handshakes (and it theirs), it never receives a write,
#      and the three others keep serving;
#   5. startup errors for an https URL without certificates carry etcd's messages.
#
#   tests/daemon/daemon_tls_test.sh <path to the lockstep binary>
#
# Exit 0 when every check holds, 1 with the failed check, 77 (skip) without etcdctl, openssl
# or curl.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
lockstep=${1:?usage: daemon_tls_test.sh <lockstep binary>}
source "$here/cluster_lib.sh"
require_etcdctl
require_tools openssl curl
cluster_init m1 m2 m3
cluster=${cluster//http:\/\//https://}
pki="$dir/pki"
mkdir -p "$pki"

# ---- 1. certificates ----
new_ca() {  # new_ca <name>: <name>.pem and <name>-key.pem, a self-signed CA
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
    -subj "/CN=lockstep test $1" -keyout "$pki/$1-key.pem" -out "$pki/$1.pem" 2> /dev/null
}
issue() {  # issue <ca> <name>: <name>.pem and <name>-key.pem signed by <ca>
  local ca=$1 name=$2
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$name" \
    -keyout "$pki/$name-key.pem" -out "$pki/$name.csr" 2> /dev/null
  printf '%s\n' "basicConstraints=CA:FALSE" "subjectAltName=IP:127.0.0.1,DNS:localhost" \
    "extendedKeyUsage=serverAuth,clientAuth" > "$pki/$name.ext"
  openssl x509 -req -in "$pki/$name.csr" -CA "$pki/$ca.pem" -CAkey "$pki/$ca-key.pem" \
    -CAcreateserial -days 1 -extfile "$pki/$name.ext" -out "$pki/$name.pem" 2> /dev/null
}
new_ca ca
new_ca rogue-ca
for name in m1 m2 m3 m4 client; do issue ca "$name"; done
issue rogue-ca impostor

declare -A gateway_port
# start_tls_member <name> <client cert> <peer cert> [new|existing] [initial-cluster]
start_tls_member() {
  local name=$1 cert=$2 peer_cert=$3 state=${4:-new} initial=${5:-$cluster}
  [[ -n "${gateway_port[$name]:-}" ]] || gateway_port[$name]=$(free_ports 1)
  "$lockstep" serve --name "$name" --data-dir "$dir/$name" \
    --listen-client-urls "https://127.0.0.1:${client_port[$name]}" \
    --advertise-client-urls "https://127.0.0.1:${client_port[$name]}" \
    --listen-peer-urls "https://127.0.0.1:${peer_port[$name]}" \
    --initial-advertise-peer-urls "https://127.0.0.1:${peer_port[$name]}" \
    --initial-cluster "$initial" --initial-cluster-state "$state" \
    --initial-cluster-token "$token" --gateway-port "${gateway_port[$name]}" \
    --heartbeat-interval 50 --election-timeout 500 \
    --cert-file "$pki/$cert.pem" --key-file "$pki/$cert-key.pem" \
    --trusted-ca-file "$pki/ca.pem" --client-cert-auth \
    --peer-cert-file "$pki/$peer_cert.pem" --peer-key-file "$pki/$peer_cert-key.pem" \
    --peer-trusted-ca-file "$pki/ca.pem" --peer-client-cert-auth \
    >> "$dir/$name.log" 2>&1 &
  pids[$name]=$!
}
https_endpoint() { echo "https://127.0.0.1:${client_port[$1]}"; }
tls_ctl() {  # tls_ctl <name> etcdctl-args...: etcdctl with the client certificate
  local at=$1
  shift
  ETCDCTL_API=3 etcdctl --endpoints "$(https_endpoint "$at")" --command-timeout 5s \
    --cacert "$pki/ca.pem" --cert "$pki/client.pem" --key "$pki/client-key.pem" "$@"
}
wait_tls_writable() {
  for _ in $(seq 100); do
    if tls_ctl "$1" put /tls-test/ready yes > /dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  fail "$1 never accepted a write over TLS"
}

# ---- 2. a TLS cluster serves etcdctl and curl ----
for name in "${names[@]}"; do start_tls_member "$name" "$name" "$name"; done
for name in "${names[@]}"; do wait_tls_writable "$name"; done
expect_eq "put over TLS" OK "$(tls_ctl m1 put /tls/greeting hello)"
expect_eq "get over TLS from another member" hello "$(tls_ctl m2 get /tls/greeting --print-value-only)"
members=$(tls_ctl m3 member list -w json | python3 -c '
import json, sys
print(",".join(sorted(m["name"] + "=" + m["peerURLs"][0] for m in json.load(sys.stdin)["members"])))')
expect_eq "member list names https peer URLs" "$cluster" "$members"
all_https=""
for name in "${names[@]}"; do all_https+="${all_https:+,}$(https_endpoint "$name")"; done
healthy=$(ETCDCTL_API=3 etcdctl --endpoints "$all_https" --cacert "$pki/ca.pem" \
  --cert "$pki/client.pem" --key "$pki/client-key.pem" endpoint health 2>&1 | grep -c "is healthy" || true)
expect_eq "endpoint health of all three over TLS" 3 "$healthy"

curl_tls() {  # curl_tls <name> <path> [curl args...]: HTTPS to the member's gateway port
  local name=$1 path=$2
  shift 2
  curl -sS --max-time 5 --cacert "$pki/ca.pem" "$@" "https://127.0.0.1:${gateway_port[$name]}$path"
}
client_cert=(--cert "$pki/client.pem" --key "$pki/client-key.pem")
expect_eq "curl /health over TLS" true \
  "$(curl_tls m1 /health "${client_cert[@]}" | json_field "['health']")"
key64=$(printf /tls/greeting | base64)
ranged=$(curl_tls m2 /v3/kv/range "${client_cert[@]}" -X POST -d "{\"key\": \"$key64\"}")
expect_eq "JSON gateway range over TLS" hello \
  "$(echo "$ranged" | json_field "['kvs'][0]['value']" | base64 -d)"

# etcd serves the gateway, /health, /version and /metrics on its TLS client port too (curl
# offers ALPN h2 and http/1.1 and is answered in HTTP/1.1 next to etcdctl's gRPC).
curl_client_port() {  # curl_client_port <name> <path> [curl args...]
  local name=$1 path=$2
  shift 2
  curl -sS --max-time 5 --cacert "$pki/ca.pem" "${client_cert[@]}" "$@" \
    "$(https_endpoint "$name")$path"
}
expect_eq "curl /health on the TLS client port" true \
  "$(curl_client_port m3 /health | json_field "['health']")"
expect_eq "curl /version on the TLS client port" 3.4.0 \
  "$(curl_client_port m3 /version | json_field "['etcdcluster']")"
expect_eq "curl /metrics on the TLS client port" yes \
  "$(curl_client_port m3 /metrics | grep -q '^# TYPE lockstep_gateway_requests_total counter' && echo yes)"
ranged=$(curl_client_port m1 /v3/kv/range -X POST -d "{\"key\": \"$key64\"}")
expect_eq "JSON gateway range on the TLS client port" hello \
  "$(echo "$ranged" | json_field "['kvs'][0]['value']" | base64 -d)"
value64=$(printf via-gateway | base64)
curl_client_port m2 /v3/kv/put -X POST -d "{\"key\": \"$key64\", \"value\": \"$value64\"}" > /dev/null
expect_eq "a put through the TLS gateway, read with etcdctl" via-gateway \
  "$(tls_ctl m1 get /tls/greeting --print-value-only)"

# ---- 3. refusals ----
if ETCDCTL_API=3 etcdctl --endpoints "$(https_endpoint m1)" --dial-timeout 1s --command-timeout 2s \
  --cacert "$pki/ca.pem" get /tls/greeting > "$dir/no-cert.out" 2>&1; then
  fail "etcdctl without a client certificate was served: $(cat "$dir/no-cert.out")"
fi
checks=$((checks + 1))
if ETCDCTL_API=3 etcdctl --endpoints "http://127.0.0.1:${client_port[m1]}" --dial-timeout 1s --command-timeout 2s \
  get /tls/greeting > "$dir/plain.out" 2>&1; then
  fail "plain gRPC to the https port was served: $(cat "$dir/plain.out")"
fi
checks=$((checks + 1))
if curl_tls m1 /health > "$dir/curl-no-cert.out" 2>&1; then
  fail "curl without a client certificate was served: $(cat "$dir/curl-no-cert.out")"
fi
checks=$((checks + 1))
if ETCDCTL_API=3 etcdctl --endpoints "$(https_endpoint m1)" --dial-timeout 1s --command-timeout 2s \
  --cacert "$pki/rogue-ca.pem" --cert "$pki/client.pem" --key "$pki/client-key.pem" \
  get /tls/greeting > "$dir/wrong-ca.out" 2>&1; then
  fail "etcdctl trusting another CA accepted the member's certificate"
fi
checks=$((checks + 1))

# ---- 4. an impostor cannot join ----
client_port[m4]=$(free_ports 1)
peer_port[m4]=$(free_ports 1)
added=$(tls_ctl m1 member add m4 --peer-urls "https://127.0.0.1:${peer_port[m4]}")
expect_eq "member add m4" yes "$(grep -q 'added to cluster' <<< "$added" && echo yes)"
initial=$(sed -n 's/^ETCD_INITIAL_CLUSTER="\(.*\)"$/\1/p' <<< "$added")
names+=(m4)
# Its client listener has a good certificate, its peer transport the rogue CA's.
start_tls_member m4 m4 impostor existing "$initial"
sleep 2
expect_eq "the three members still serve writes" OK "$(tls_ctl m2 put /tls/after-join yes)"
for name in m1 m2 m3; do
  applied=""
  for _ in $(seq 50); do
    applied=$(tls_ctl "$name" get /tls/after-join --print-value-only --consistency=s || true)
    [[ "$applied" == yes ]] && break
    sleep 0.2
  done
  expect_eq "$name applied the write" yes "$applied"
done
# m4 serves clients but has no data: it never completed a TLS handshake with a member.
m4_value=$(tls_ctl m4 get /tls/greeting --print-value-only --consistency=s 2>&1 || true)
expect_eq "the impostor received nothing" "" "$m4_value"
grep -q "net.inbound_closed.*TLS handshake" "$dir/m1.log" ||
  fail "m1 logged no refused TLS handshake from the impostor"
checks=$((checks + 1))
kill -TERM "${pids[m4]}"
wait "${pids[m4]}" 2> /dev/null || true
unset "pids[m4]"

# ---- 5. startup errors ----
startup_error() {  # startup_error <flags...>: the first line lockstep serve prints, which must fail
  local out status=0
  out=$("$lockstep" serve --name solo --data-dir "$dir/solo" "$@" 2>&1) || status=$?
  [[ $status == 2 ]] || fail "lockstep serve $* exited $status, not 2: $out"
  echo "$out" | head -n 1
}
expect_eq "https client URL without a key pair" \
  "lockstep serve: TLS key/cert (--cert-file, --key-file) must be provided for client url https://127.0.0.1:1 with HTTPS scheme" \
  "$(startup_error --listen-client-urls https://127.0.0.1:1)"
expect_eq "https peer URL without a key pair" \
  "lockstep serve: cannot listen on TLS for 127.0.0.1:2: KeyFile and CertFile are not presented" \
  "$(startup_error --listen-peer-urls https://127.0.0.1:2 --initial-advertise-peer-urls https://127.0.0.1:2)"
echo "PASS: $checks checks"
