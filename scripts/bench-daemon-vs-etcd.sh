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
#
# Example: scripts/bench-daemon-vs-etcd.sh build/cli/lockstep 20000 1 3
# The workloads are those of docs/benchmarks/daemon.md (put at 1 and 100 clients, linearizable
# and serializable range at 100 clients).
set -euo pipefail
lockstep=${1:?usage: bench-daemon-vs-etcd.sh LOCKSTEP_BINARY [TOTAL] [MEMBERS...]}
total=${2:-20000}
shift $(( $# >= 2 ? 2 : 1 ))
member_counts=("$@")
[[ ${#member_counts[@]} -gt 0 ]] || member_counts=(1 3)
here=$(cd "$(dirname "$0")" && pwd)
readonly COMMON="--key-size 8 --val-size 256"
readonly ETCD_CLIENT_PORT=23790 ETCD_PEER_PORT=23890
readonly LOCKSTEP_CLIENT_PORT=24790 LOCKSTEP_PEER_PORT=24890
readonly HEALTH_TIMEOUT_SECONDS=30
readonly WORKLOADS=(
  "put --conns 1 --clients 1 --key-space-size 100000"
  "put --conns 10 --clients 100 --key-space-size 100000"
  "range --conns 10 --clients 100 --consistency l"
  "range --conns 10 --clients 100 --consistency s"
)

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

# run_one <server> <members> <endpoints> <pid flags> <workload>: one JSON line into $results.
run_one() {
  local server=$1 members=$2 endpoints=$3 pid_flags=$4 workload=$5 pids cpu_before summary
  read -r -a pids <<< "${pid_flags//--server-pid/}"
  cpu_before=$(cpu_ticks "${pids[@]}")
  echo "== $server, $members member(s): $workload --total $total (load: $(cut -d' ' -f1-3 /proc/loadavg))" >&2
  # shellcheck disable=SC2086
  # A run with failed requests exits non-zero; its line (with the failure count) still counts.
  summary=$({ "$lockstep" bench etcd $workload $COMMON --total "$total" --endpoints "$endpoints" \
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

python3 - "$results" "$total" <<'EOF'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
def key(r): return (r["members"], r["workload"])
by = {}
for r in rows: by.setdefault(key(r), {})[r["server"]] = r
def rss(r):  # the largest member's max VmRSS, MiB
    values = list(r.get("server_max_rss_kib", {}).values())
    return max(values) / 1024 if values else float("nan")
print(f"total {sys.argv[2]} requests per run, key 8 B, value 256 B; ratio = lockstep / etcd")
def cpu_per_10k(r):  # server CPU seconds (all members) per 10000 requests
    return r["server_cpu_s"] * 10000 / r["total"] if r.get("total") else float("nan")
print("| members | workload | etcd ops/s | lockstep ops/s | ratio | etcd p99 ms | lockstep p99 ms "
      "| etcd max RSS MiB | lockstep max RSS MiB | server CPU s / 10k etcd/lockstep "
      "| failed etcd/lockstep | load etcd/lockstep |")
print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for (members, workload), pair in by.items():
    e, l = pair.get("etcd"), pair.get("lockstep")
    if not e or not l: continue
    name = workload.split(" --key-space")[0]
    print(f"| {members} | {name} | {e['ops_per_s']:.0f} | {l['ops_per_s']:.0f} "
          f"| {l['ops_per_s'] / e['ops_per_s']:.2f}x | {e['latency_ms']['p99']:.2f} "
          f"| {l['latency_ms']['p99']:.2f} | {rss(e):.1f} | {rss(l):.1f} "
          f"| {cpu_per_10k(e):.2f}/{cpu_per_10k(l):.2f} | {e['failed']}/{l['failed']} "
          f"| {e['load']:.1f}/{l['load']:.1f} |")
EOF
