#!/usr/bin/env bash
# What TLS costs: a 3-member `lockstep serve` cluster on 127.0.0.1 in three modes, alternating
# RUNS times: `plain`; `peer`, TLS between members (--peer-cert-file/--peer-key-file/
# --peer-trusted-ca-file --peer-client-cert-auth); `all`, TLS between members and for clients
# too (https client URLs, --cert-file/--key-file/--trusted-ca-file --client-cert-auth, and
# `lockstep bench etcd --cacert --cert --cert-key`). One EC P-256 certificate from a throwaway CA made
# with the openssl CLI. Each run prints one line: mode, workload, ops/s, p50 and p99 in ms, and
# each cluster the CPU time its members used (startup included).
#
#   scripts/bench-daemon-tls.sh LOCKSTEP_BINARY [TOTAL] [RUNS]
#
# Example: scripts/bench-daemon-tls.sh build/cli/lockstep 20000 3
set -euo pipefail
lockstep=${1:?usage: bench-daemon-tls.sh LOCKSTEP_BINARY [TOTAL] [RUNS]}
total=${2:-20000}
runs=${3:-3}
readonly CLIENT_PORT=25790 PEER_PORT=25890
readonly COMMON="--key-size 8 --val-size 256 --key-space-size 100000"
work=$(mktemp -d /tmp/lockstep-bench-tls-XXXXXX)
pids=()
stop_cluster() {
  local pid
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2> /dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2> /dev/null || true; done
  pids=()
}
trap 'stop_cluster; rm -rf "$work"' EXIT

pki="$work/pki"
mkdir -p "$pki"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=bench-ca \
  -keyout "$pki/ca-key.pem" -out "$pki/ca.pem" 2> /dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=member \
  -keyout "$pki/member-key.pem" -out "$pki/member.csr" 2> /dev/null
printf '%s\n' basicConstraints=CA:FALSE subjectAltName=IP:127.0.0.1,DNS:localhost \
  extendedKeyUsage=serverAuth,clientAuth > "$pki/member.ext"
openssl x509 -req -in "$pki/member.csr" -CA "$pki/ca.pem" -CAkey "$pki/ca-key.pem" \
  -CAcreateserial -days 1 -extfile "$pki/member.ext" -out "$pki/member.pem" 2> /dev/null

client_tls=()
start_cluster() {  # start_cluster plain|peer|all
  local mode=$1 scheme=http client_scheme=http i cluster="" tls=()
  client_tls=()
  if [[ $mode != plain ]]; then
    scheme=https
    tls=(--peer-cert-file "$pki/member.pem" --peer-key-file "$pki/member-key.pem"
      --peer-trusted-ca-file "$pki/ca.pem" --peer-client-cert-auth)
  fi
  if [[ $mode == all ]]; then
    client_scheme=https
    tls+=(--cert-file "$pki/member.pem" --key-file "$pki/member-key.pem"
      --trusted-ca-file "$pki/ca.pem" --client-cert-auth)
    client_tls=(--cacert "$pki/ca.pem" --cert "$pki/member.pem" --cert-key "$pki/member-key.pem")
  fi
  for i in 0 1 2; do cluster+="${cluster:+,}m$i=$scheme://127.0.0.1:$((PEER_PORT + i))"; done
  rm -rf "$work/data"
  for i in 0 1 2; do
    "$lockstep" serve --name "m$i" --data-dir "$work/data/m$i" \
      --listen-client-urls "$client_scheme://127.0.0.1:$((CLIENT_PORT + i))" \
      --advertise-client-urls "$client_scheme://127.0.0.1:$((CLIENT_PORT + i))" \
      --listen-peer-urls "$scheme://127.0.0.1:$((PEER_PORT + i))" \
      --initial-advertise-peer-urls "$scheme://127.0.0.1:$((PEER_PORT + i))" \
      --initial-cluster "$cluster" "${tls[@]}" > "$work/m$i-$mode.log" 2>&1 &
    pids+=($!)
  done
  for _ in $(seq 150); do
    "$lockstep" bench etcd put --endpoints "127.0.0.1:$CLIENT_PORT" --total 1 "${client_tls[@]}" \
      > /dev/null 2>&1 &&
      return 0
    sleep 0.2
  done
  echo "the $mode cluster never accepted a write" >&2
  exit 1
}

report() {  # report <mode> <workload> <bench output>
  echo "$3" | tail -n 1 | python3 -c '
import json, sys
r = json.loads(sys.stdin.read())
latency = r["latency_ms"]
print("%-5s %-16s %9.1f ops/s  p50 %7.3f ms  p99 %7.3f ms"
      % (sys.argv[1], sys.argv[2], r["ops_per_s"], latency["p50"], latency["p99"]))' "$1" "$2"
}

# CPU time the members used so far (utime + stime from /proc/<pid>/stat): on a shared machine
# a steadier measure of TLS's cost than throughput.
server_cpu_seconds() {
  local pid ticks=0
  for pid in "${pids[@]}"; do
    ticks=$((ticks + $(awk '{print $14 + $15}' "/proc/$pid/stat")))
  done
  python3 -c "print(round($ticks / $(getconf CLK_TCK), 2))"
}

endpoints="127.0.0.1:$CLIENT_PORT,127.0.0.1:$((CLIENT_PORT + 1)),127.0.0.1:$((CLIENT_PORT + 2))"
for run in $(seq "$runs"); do
  for mode in plain peer all; do
    start_cluster "$mode"
    # shellcheck disable=SC2086
    report "$mode" "put 100 clients" "$("$lockstep" bench etcd put --endpoints "$endpoints" \
      --conns 10 --clients 100 --total "$total" $COMMON "${client_tls[@]}")"
    # shellcheck disable=SC2086
    report "$mode" "put 1 client" "$("$lockstep" bench etcd put --endpoints "127.0.0.1:$CLIENT_PORT" \
      --conns 1 --clients 1 --total $((total / 10)) $COMMON "${client_tls[@]}")"
    echo "$mode  server CPU for both runs: $(server_cpu_seconds) s (user + system, three members)"
    stop_cluster
  done
done
