#!/usr/bin/env bash
# The JSON gateway over TLS (etcd's https client URLs, /v3/kv/*), lockstep and etcd 3.4 side
# by side: one member each on 127.0.0.1 (the HTTP/1.1-over-TLS path, not Raft, is measured),
# started one after the other and interleaved RUNS times, driven by wrk (Debian: apt-get
# install wrk) with keep-alive connections. wrk has no client certificates, so the members run
# --cert-file/--key-file without --client-cert-auth. Workloads: a serializable range of one
# key and a put of 8-byte keys/values, each at every connection count in CONNECTIONS (1000 is
# more than the thread-per-connection gateway allowed: it answered 503 past 256). Each line
# prints requests/s, latency percentiles, errors and the member's CPU time during the run.
#
#   scripts/bench-gateway-https.sh LOCKSTEP_BINARY [SECONDS] [RUNS]
#   env: SYSTEMS="lockstep etcd"  CONNECTIONS="10 300 1000"  WORKLOADS="range put"  PORT=26790
#   (a SYSTEMS entry LABEL=PATH is another lockstep binary, e.g. before=/tmp/lockstep-old)
#
# Example: scripts/bench-gateway-https.sh build-api/cli/lockstep 10 3
set -euo pipefail
lockstep=${1:?usage: bench-gateway-https.sh LOCKSTEP_BINARY [SECONDS] [RUNS]}
seconds=${2:-10}
runs=${3:-3}
read -r -a systems <<< "${SYSTEMS:-lockstep etcd}"
read -r -a connection_counts <<< "${CONNECTIONS:-10 300 1000}"
read -r -a workloads <<< "${WORKLOADS:-range put}"
readonly PORT=${PORT:-26790}
command -v wrk > /dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }
ulimit -n "$(ulimit -Hn)"  # 1000 connections on each side
work=$(mktemp -d /tmp/lockstep-bench-gateway-XXXXXX)
pid=""
stop_member() {
  [[ -n "$pid" ]] || return 0
  kill -TERM "$pid" 2> /dev/null || true
  wait "$pid" 2> /dev/null || true
  pid=""
}
trap 'stop_member; rm -rf "$work"' EXIT

source "$(cd "$(dirname "$0")" && pwd)/../tests/lib/test_pki.sh"
pki_init "$work/pki"
issue member member

# base64: "foo" = Zm9v, 8-byte key "key00001" = a2V5MDAwMDE=, value "value001" = dmFsdWUwMDE=
cat > "$work/range.lua" << 'EOF'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"key":"a2V5MDAwMDE=","serializable":true}'
EOF
cat > "$work/put.lua" << 'EOF'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"key":"a2V5MDAwMDE=","value":"dmFsdWUwMDE="}'
EOF
path_of() { [[ $1 == range ]] && echo /v3/kv/range || echo /v3/kv/put; }

start_member() {  # start_member lockstep|etcd|LABEL=PATH
  local binary=("$lockstep" serve)
  [[ $1 == etcd ]] && binary=(etcd)
  [[ $1 == *=* ]] && binary=("${1#*=}" serve)
  rm -rf "$work/data"
  "${binary[@]}" --name m0 --data-dir "$work/data" \
    --listen-client-urls "https://127.0.0.1:$PORT" \
    --advertise-client-urls "https://127.0.0.1:$PORT" \
    --listen-peer-urls "http://127.0.0.1:$((PORT + 100))" \
    --initial-advertise-peer-urls "http://127.0.0.1:$((PORT + 100))" \
    --initial-cluster "m0=http://127.0.0.1:$((PORT + 100))" --initial-cluster-state new \
    --heartbeat-interval 100 --election-timeout 1000 --snapshot-count 100000 \
    --cert-file "$pki/member.pem" --key-file "$pki/member-key.pem" \
    > "$work/${1%%=*}.log" 2>&1 &
  pid=$!
  for _ in $(seq 150); do
    if curl -s --cacert "$pki/ca.pem" -X POST "https://127.0.0.1:$PORT/v3/kv/put" \
      -d '{"key":"a2V5MDAwMDE=","value":"dmFsdWUwMDE="}' | grep -q revision; then
      return 0
    fi
    sleep 0.2
  done
  echo "$1 never accepted a write through the gateway" >&2
  tail -n 5 "$work/${1%%=*}.log" >&2
  exit 1
}

cpu_seconds() {  # the member's utime + stime so far
  python3 -c "print($(awk '{print $14 + $15}' "/proc/$pid/stat") / $(getconf CLK_TCK))"
}

for run in $(seq "$runs"); do
  for system in "${systems[@]}"; do
    echo "# run $run, $system, load average $(cut -d' ' -f1-3 /proc/loadavg)"
    start_member "$system"
    for workload in "${workloads[@]}"; do
      for connections in "${connection_counts[@]}"; do
        before=$(cpu_seconds)
        output=$(wrk -t 2 -c "$connections" -d "${seconds}s" --latency -s "$work/$workload.lua" \
          "https://127.0.0.1:$PORT$(path_of "$workload")")
        after=$(cpu_seconds)
        echo "$output" | python3 -c '
import re, sys
text = sys.stdin.read()
rate = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
def percentile(p):
    m = re.search(r"^\s+%s%%\s+([\d.]+)(us|ms|s)" % p, text, re.M)
    if not m: return float("nan")
    return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]
non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
errors = re.search(r"Socket errors: (.*)", text)
cpu = float(sys.argv[5]) - float(sys.argv[4])
print("%-8s %-5s %5s conns %9.0f req/s  p50 %7.2f ms  p99 %7.2f ms  member CPU %5.2f s (%.0f us/req)  non-2xx %s  %s"
      % (sys.argv[1], sys.argv[2], sys.argv[3], rate, percentile(50), percentile(99), cpu,
         1e6 * cpu / max(1.0, rate * float(sys.argv[6])),
         non2xx.group(1) if non2xx else 0, ("socket errors: " + errors.group(1)) if errors else ""))
'  "${system%%=*}" "$workload" "$connections" "$before" "$after" "$seconds"
      done
    done
    stop_member
  done
done
