#!/usr/bin/env bash
# etcd 3.4 and the lockstep daemon side by side, in one run: both clusters are started with the
# same settings (1 or 3 members on 127.0.0.1, data directories on the same filesystem, etcd's
# default heartbeat 100 ms / election 1000 ms / snapshot-count 100000; both fsync their Raft WAL
# before acknowledging a write), and each workload runs against etcd and then at once against
# lockstep with the same `lockstep bench etcd` client. Each server's max VmRSS is sampled by the
# client (--server-pid) and its CPU time (all members) is read from /proc before and after each
# run. Prints a side-by-side table with lockstep/etcd ratios on stdout (and
# the JSON lines to $OUT if set). LOCKSTEP_SERVE_FLAGS adds flags to every `lockstep serve`.
#
#   scripts/bench-daemon-vs-etcd.sh LOCKSTEP_BINARY [TOTAL] [MEMBERS...]
#   scripts/bench-daemon-vs-etcd.sh --table RUN.jsonl...   # medians over saved runs ($OUT files)
#
# Example: scripts/bench-daemon-vs-etcd.sh build/cli/lockstep 20000 1 3
# The standard workloads are those of docs/benchmarks/daemon.md (put at 1 and 100 clients,
# linearizable and serializable range at 100 clients). BENCH_EXTENDED=1 adds linearizable range
# at 1 client, put at 1000 clients on 100 connections, txn-put, watch-latency (TOTAL/10 puts,
# 100 watchers), lease keep-alive at 1 and 100 clients, and lease grant+revoke; about three
# times as long.
#
# --table prints, per cluster size and workload, the median over the runs of each column and
# every run's ratio, so that runs on a loaded machine can be read together.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

# print_table <results.jsonl>...: the side-by-side table, medians over the files (runs).
print_table() {
  python3 - "$@" << 'EOF'
import json, statistics, sys
runs = [[json.loads(line) for line in open(path) if line.strip()] for path in sys.argv[1:]]
order, pairs = [], {}  # (members, workload) -> one {server: row} per run
for run in runs:
    by = {}
    for r in run:
        by.setdefault((r["members"], r["workload"]), {})[r["server"]] = r
    for key, pair in by.items():
        if "etcd" not in pair or "lockstep" not in pair: continue
        if key not in pairs: order.append(key)
        pairs.setdefault(key, []).append(pair)
def rss(r):  # the largest member's max VmRSS, MiB
    values = list(r.get("server_max_rss_kib", {}).values())
    return max(values) / 1024 if values else float("nan")
def cpu_per_10k(r):  # server CPU seconds (all members) per 10000 requests
    return r["server_cpu_s"] * 10000 / r["total"] if r.get("total") else float("nan")
def median(values): return statistics.median(values)
totals = sorted({r["total"] for run in runs for r in run})
print(f"{len(runs)} run(s); total requests per run {'/'.join(map(str, totals))}, key 8 B, "
      "value 256 B; ratio = lockstep / etcd ops/s; other columns are medians over the runs")
print("| members | workload | etcd ops/s | lockstep ops/s | ratio (median; each run) "
      "| etcd p99 ms | lockstep p99 ms | server CPU s / 10k etcd/lockstep "
      "| max RSS MiB etcd/lockstep | failed etcd/lockstep | load |")
print("|---|---|---:|---:|---|---:|---:|---:|---:|---:|---:|")
for members, workload in order:
    runs_of = pairs[(members, workload)]
    def col(server, f): return median([f(p[server]) for p in runs_of])
    ratios = [p["lockstep"]["ops_per_s"] / p["etcd"]["ops_per_s"] for p in runs_of]
    loads = [p[s]["load"] for p in runs_of for s in ("etcd", "lockstep")]
    name = workload.split(" --key-space")[0]
    print(f"| {members} | {name} | {col('etcd', lambda r: r['ops_per_s']):.0f} "
          f"| {col('lockstep', lambda r: r['ops_per_s']):.0f} "
          f"| **{median(ratios):.2f}x** ({', '.join(f'{x:.2f}' for x in ratios)}) "
          f"| {col('etcd', lambda r: r['latency_ms']['p99']):.2f} "
          f"| {col('lockstep', lambda r: r['latency_ms']['p99']):.2f} "
          f"| {col('etcd', cpu_per_10k):.2f}/{col('lockstep', cpu_per_10k):.2f} "
          f"| {col('etcd', rss):.0f}/{col('lockstep', rss):.0f} "
          f"| {sum(p['etcd']['failed'] for p in runs_of)}/"
          f"{sum(p['lockstep']['failed'] for p in runs_of)} "
          f"| {min(loads):.1f}-{max(loads):.1f} |")
EOF
}

if [[ "${1:-}" == --table ]]; then
  shift
  print_table "$@"
  exit 0
fi

lockstep=${1:?usage: bench-daemon-vs-etcd.sh LOCKSTEP_BINARY [TOTAL] [MEMBERS...]}
total=${2:-20000}
shift $(( $# >= 2 ? 2 : 1 ))
member_counts=("$@")
[[ ${#member_counts[@]} -gt 0 ]] || member_counts=(1 3)
readonly COMMON="--key-size 8 --val-size 256"
readonly ETCD_CLIENT_PORT=23790 ETCD_PEER_PORT=23890
readonly LOCKSTEP_CLIENT_PORT=24790 LOCKSTEP_PEER_PORT=24890
readonly HEALTH_TIMEOUT_SECONDS=30
WORKLOADS=(
  "put --conns 1 --clients 1 --key-space-size 100000"
  "put --conns 10 --clients 100 --key-space-size 100000"
  "range --conns 10 --clients 100 --consistency l"
  "range --conns 10 --clients 100 --consistency s"
)
if [[ "${BENCH_EXTENDED:-0}" == 1 ]]; then
  WORKLOADS+=(
    "range --conns 1 --clients 1 --consistency l"
    "put --conns 100 --clients 1000 --key-space-size 100000"
    "txn-put --conns 10 --clients 100 --key-space-size 100000"
    "watch-latency --conns 10 --watchers 100"
    "lease-keepalive --conns 1 --clients 1"
    "lease-keepalive --conns 10 --clients 100"
    "lease-grant-revoke --conns 10 --clients 100"
  )
fi
readonly WORKLOADS

work=$(mktemp -d /tmp/lockstep-vs-etcd-XXXXXX)
results="$work/results.jsonl"
lockstep_pids=()
cleanup() {
  local pid
  for pid in "${lockstep_pids[@]}"; do kill -TERM "$pid" 2> /dev/null || true; done
  for pid in "${lockstep_pids[@]}"; do wait "$pid" 2> /dev/null || true; done
  "$here/etcd-reference.sh" stop --dir "$work/etcd" > /dev/null 2>&1 || true
  [[ -n "${OUT:-}" ]] && cp "$results" "$OUT"
  rm -rf "$work"
}
trap cleanup EXIT

# start_lockstep <members>: the same layout as etcd-reference.sh; sets lockstep_endpoints and
# lockstep_pids (not in a subshell, so that cleanup knows the pids).
start_lockstep() {
  local members=$1 i cluster="" endpoints=""
  for (( i = 0; i < members; i++ )); do
    cluster+="${cluster:+,}member-$i=http://127.0.0.1:$((LOCKSTEP_PEER_PORT + i))"
    endpoints+="${endpoints:+,}127.0.0.1:$((LOCKSTEP_CLIENT_PORT + i))"
  done
  mkdir -p "$work/lockstep"
  for (( i = 0; i < members; i++ )); do
    "$lockstep" serve --name "member-$i" --data-dir "$work/lockstep/member-$i" \
      --listen-client-urls "http://127.0.0.1:$((LOCKSTEP_CLIENT_PORT + i))" \
      --advertise-client-urls "http://127.0.0.1:$((LOCKSTEP_CLIENT_PORT + i))" \
      --listen-peer-urls "http://127.0.0.1:$((LOCKSTEP_PEER_PORT + i))" \
      --initial-advertise-peer-urls "http://127.0.0.1:$((LOCKSTEP_PEER_PORT + i))" \
      --initial-cluster "$cluster" --initial-cluster-token "lockstep-bench-$$" \
      --heartbeat-interval 100 --election-timeout 1000 --snapshot-count 100000 \
      ${LOCKSTEP_SERVE_FLAGS:-} > "$work/lockstep/member-$i.log" 2>&1 &
    lockstep_pids+=($!)
  done
  local deadline=$((SECONDS + HEALTH_TIMEOUT_SECONDS))
  until ETCDCTL_API=3 etcdctl --endpoints "$endpoints" --dial-timeout 1s --command-timeout 2s \
      put lockstep-bench-ready 1 > /dev/null 2>&1; do
    if (( SECONDS >= deadline )) || ! kill -0 "${lockstep_pids[@]}" 2> /dev/null; then
      echo "bench-daemon-vs-etcd.sh: lockstep not ready after ${HEALTH_TIMEOUT_SECONDS}s" >&2
      tail -n 5 "$work"/lockstep/member-*.log >&2
      exit 1
    fi
    sleep 0.2
  done
  # Another process on one of the ports would have answered the readiness put instead.
  if ! kill -0 "${lockstep_pids[@]}" 2> /dev/null; then
    echo "bench-daemon-vs-etcd.sh: a lockstep member exited (port in use?)" >&2
    tail -n 5 "$work"/lockstep/member-*.log >&2
    exit 1
  fi
  lockstep_endpoints=$endpoints
}

stop_lockstep() {
  local pid
  for pid in "${lockstep_pids[@]}"; do kill -TERM "$pid" 2> /dev/null || true; done
  for pid in "${lockstep_pids[@]}"; do wait "$pid" 2> /dev/null || true; done
  lockstep_pids=()
  rm -rf "$work/lockstep"
}

# cpu_ticks <pid...>: user + system CPU time of the processes so far, in clock ticks. On a shared
# machine the CPU a server spends per request is a fairer comparison than its throughput.
cpu_ticks() {
  local pid total=0
  for pid in "$@"; do
    total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat")))
  done
  echo "$total"
}

# workload_total <workload>: requests for one run. watch-latency's --total counts puts, each of
# which 100 watchers receive, so a tenth of TOTAL already gives 10x TOTAL events.
workload_total() {
  if [[ $1 == watch-latency* ]]; then echo $(((total + 9) / 10)); else echo "$total"; fi
}

# run_one <server> <members> <endpoints> <pid flags> <workload>: one JSON line into $results.
run_one() {
  local server=$1 members=$2 endpoints=$3 pid_flags=$4 workload=$5 pids cpu_before summary
  local run_total
  run_total=$(workload_total "$workload")
  read -r -a pids <<< "${pid_flags//--server-pid/}"
  cpu_before=$(cpu_ticks "${pids[@]}")
  echo "== $server, $members member(s): $workload --total $run_total (load: $(cut -d' ' -f1-3 /proc/loadavg))" >&2
  # shellcheck disable=SC2086
  # A run with failed requests exits non-zero; its line (with the failure count) still counts.
  summary=$({ "$lockstep" bench etcd $workload $COMMON --total "$run_total" --endpoints "$endpoints" \
    $pid_flags || true; } | tee >(cat >&2) | tail -n 1)
  echo "$summary" \
    | jq -c --arg server "$server" --argjson members "$members" --arg workload "$workload" \
        --arg load "$(cut -d' ' -f1 /proc/loadavg)" \
        --argjson cpu_before "$cpu_before" --argjson cpu_after "$(cpu_ticks "${pids[@]}")" \
        --argjson ticks "$(getconf CLK_TCK)" \
        '. + {server: $server, members: $members, workload: $workload, load: ($load | tonumber),
              server_cpu_s: (($cpu_after - $cpu_before) / $ticks)}' \
    >> "$results"
}

for members in "${member_counts[@]}"; do
  etcd_endpoints=$("$here/etcd-reference.sh" start --dir "$work/etcd" --members "$members" \
    --client-port $ETCD_CLIENT_PORT --peer-port $ETCD_PEER_PORT)
  etcd_pid_flags=$(sed 's/^/--server-pid /' "$work/etcd/pids" | tr '\n' ' ')
  start_lockstep "$members"
  lockstep_pid_flags=$(printf -- '--server-pid %s ' "${lockstep_pids[@]}")
  for workload in "${WORKLOADS[@]}"; do
    run_one etcd "$members" "$etcd_endpoints" "$etcd_pid_flags" "$workload"
    run_one lockstep "$members" "$lockstep_endpoints" "$lockstep_pid_flags" "$workload"
  done
  stop_lockstep
  "$here/etcd-reference.sh" stop --dir "$work/etcd"
done

print_table "$results"
