#!/usr/bin/env bash
# What TLS costs, lockstep and etcd 3.4 side by side: 3-member clusters on 127.0.0.1, started
# one after the other and interleaved RUNS times (system x mode), so that a shared machine's
# load falls on every column alike. Modes:
#   plain   http client and peer URLs;
#   client  https client URLs (--cert-file/--key-file/--trusted-ca-file --client-cert-auth),
#           peers plain: the client TLS path alone;
#   all     client TLS as above plus https peer URLs (--peer-cert-file/--peer-key-file/
#           --peer-trusted-ca-file --peer-client-cert-auth).
# Both systems get the same flags (heartbeat 100 ms, election 1000 ms, snapshot count 100000)
# and the same client, `lockstep bench etcd` (--cacert --cert --cert-key for TLS). One EC P-256
# certificate from a throwaway CA (openssl CLI). Each workload prints one line; each cluster
# the CPU time its members used (utime + stime, startup included); the load average is printed
# before every cluster; a table of medians ends the output.
#
#   scripts/bench-daemon-tls.sh LOCKSTEP_BINARY [TOTAL] [RUNS]
#   env: SYSTEMS="lockstep etcd"  MODES="plain client"  CLIENT_PORT=25790  PEER_PORT=25890
#
# Workloads (8-byte keys, 256-byte values): put at 1 client (TOTAL/10 puts), at 100 clients
# over 10 connections (TOTAL), and at 300 clients over 300 connections (TOTAL): more TLS
# connections than the old thread-per-connection relay allowed.
#
# Example: scripts/bench-daemon-tls.sh build-daemon/cli/lockstep 20000 3
set -euo pipefail
lockstep=${1:?usage: bench-daemon-tls.sh LOCKSTEP_BINARY [TOTAL] [RUNS]}
total=${2:-20000}
runs=${3:-3}
read -r -a systems <<< "${SYSTEMS:-lockstep etcd}"
read -r -a modes <<< "${MODES:-plain client}"
readonly CLIENT_PORT=${CLIENT_PORT:-25790} PEER_PORT=${PEER_PORT:-25890}
readonly COMMON="--key-size 8 --val-size 256 --key-space-size 100000"
WORKLOADS=(
  "1:1:$((total / 10))"
  "10:100:$total"
  "300:300:$total"
)
work=$(mktemp -d /tmp/lockstep-bench-tls-XXXXXX)
results="$work/results.txt"
pids=()
stop_cluster() {
  local pid
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2> /dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2> /dev/null || true; done
  pids=()
}
trap 'stop_cluster; rm -rf "$work"' EXIT

source "$(cd "$(dirname "$0")" && pwd)/../tests/lib/test_pki.sh"
pki_init "$work/pki"
issue member member

client_tls=()
start_cluster() {  # start_cluster lockstep|etcd plain|client|all
  local system=$1 mode=$2 scheme=http client_scheme=http i cluster="" tls=() binary
  client_tls=()
  if [[ $mode == all ]]; then
    scheme=https
    tls=(--peer-cert-file "$pki/member.pem" --peer-key-file "$pki/member-key.pem"
      --peer-trusted-ca-file "$pki/ca.pem" --peer-client-cert-auth)
  fi
  if [[ $mode != plain ]]; then
    client_scheme=https
    tls+=(--cert-file "$pki/member.pem" --key-file "$pki/member-key.pem"
      --trusted-ca-file "$pki/ca.pem" --client-cert-auth)
    client_tls=(--cacert "$pki/ca.pem" --cert "$pki/member.pem" --cert-key "$pki/member-key.pem")
  fi
  binary=("$lockstep" serve)
  [[ $system == etcd ]] && binary=(etcd)
  for i in 0 1 2; do cluster+="${cluster:+,}m$i=$scheme://127.0.0.1:$((PEER_PORT + i))"; done
  local token="bench-tls-$$-$RANDOM"  # one per cluster: member ids derive from it
  rm -rf "$work/data"
  for i in 0 1 2; do
    "${binary[@]}" --name "m$i" --data-dir "$work/data/m$i" \
      --listen-client-urls "$client_scheme://127.0.0.1:$((CLIENT_PORT + i))" \
      --advertise-client-urls "$client_scheme://127.0.0.1:$((CLIENT_PORT + i))" \
      --listen-peer-urls "$scheme://127.0.0.1:$((PEER_PORT + i))" \
      --initial-advertise-peer-urls "$scheme://127.0.0.1:$((PEER_PORT + i))" \
      --initial-cluster "$cluster" --initial-cluster-state new \
      --initial-cluster-token "$token" \
      --heartbeat-interval 100 --election-timeout 1000 --snapshot-count 100000 \
      "${tls[@]}" > "$work/m$i-$system-$mode.log" 2>&1 &
    pids+=($!)
  done
  for _ in $(seq 150); do
    "$lockstep" bench etcd put --endpoints "127.0.0.1:$CLIENT_PORT" --total 1 "${client_tls[@]}" \
      > /dev/null 2>&1 &&
      return 0
    sleep 0.2
  done
  echo "the $system $mode cluster never accepted a write" >&2
  tail -n 5 "$work"/m*-"$system-$mode".log >&2
  exit 1
}

report() {  # report <system> <mode> <workload> <bench output>
  echo "$4" | tail -n 1 | python3 -c '
import json, sys
r = json.loads(sys.stdin.read())
latency = r["latency_ms"]
print("%-8s %-6s %-22s %9.1f ops/s  p50 %7.3f ms  p99 %7.3f ms"
      % (sys.argv[1], sys.argv[2], sys.argv[3], r["ops_per_s"], latency["p50"], latency["p99"]))
' "$1" "$2" "$3" | tee -a "$results"
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
  for system in "${systems[@]}"; do
    for mode in "${modes[@]}"; do
      echo "# run $run $system $mode: load average $(cut -d' ' -f1-3 /proc/loadavg)"
      start_cluster "$system" "$mode"
      for workload in "${WORKLOADS[@]}"; do
        IFS=: read -r conns clients count <<< "$workload"
        # shellcheck disable=SC2086
        report "$system" "$mode" "put ${clients}c/${conns}conn" "$("$lockstep" bench etcd put \
          --endpoints "$endpoints" --conns "$conns" --clients "$clients" --total "$count" \
          $COMMON "${client_tls[@]}")"
      done
      echo "$system $mode cpu $(server_cpu_seconds)" | tee -a "$results"
      stop_cluster
    done
  done
done
echo "# end: load average $(cut -d' ' -f1-3 /proc/loadavg)"

# Medians over the runs: ops/s and p99 per workload, member CPU per cluster.
python3 - "$results" << 'EOF'
import re, statistics, sys
ops, p99, cpu = {}, {}, {}
for line in open(sys.argv[1]):
    parts = line.split()
    if parts[2] == "cpu":
        cpu.setdefault((parts[0], parts[1]), []).append(float(parts[3]))
        continue
    m = re.match(r"(\S+)\s+(\S+)\s+(put \S+)\s+([\d.]+) ops/s\s+p50\s+[\d.]+ ms\s+p99\s+([\d.]+)", line)
    key = (m.group(1), m.group(2), m.group(3))
    ops.setdefault(key, []).append(float(m.group(4)))
    p99.setdefault(key, []).append(float(m.group(5)))
print("\n| system | mode | workload | ops/s median (runs) | p99 ms median |")
print("|---|---|---|---|---|")
for key in ops:
    runs = ", ".join("%.0f" % v for v in ops[key])
    print("| %s | %s | %s | %.0f (%s) | %.2f |" % (key + (statistics.median(ops[key]), runs,
                                                     statistics.median(p99[key]))))
print("\n| system | mode | member CPU s per cluster, median (runs) |")
print("|---|---|---|")
for key, values in cpu.items():
    print("| %s | %s | %.2f (%s) |" % (key + (statistics.median(values),
                                             ", ".join("%.2f" % v for v in values))))
EOF
