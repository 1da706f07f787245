#!/usr/bin/env bash
# Measures a reference etcd 3.4 (1 member, then 3 members) with `lockstep bench etcd`: put at 1
# and at 100 clients, linearizable and serializable range at 100 clients, txn-put and
# watch-latency. Prints one JSON line per run (with members, and the max VmRSS of every etcd
# process) to stdout; the human-readable output goes to stderr.
#
#   scripts/bench-etcd-reference.sh LOCKSTEP_BINARY [TOTAL]
#
# The same workloads pointed at the lockstep daemon are what docs/benchmarks/daemon.md compares.
set -euo pipefail
lockstep=${1:?usage: bench-etcd-reference.sh LOCKSTEP_BINARY [TOTAL]}
total=${2:-20000}
here=$(cd "$(dirname "$0")" && pwd)
readonly COMMON="--key-size 8 --val-size 256"

run_suite() {
  local members=$1 dir endpoints pid_flags=""
  dir=$(mktemp -d /tmp/lockstep-etcd-bench-XXXXXX)
  endpoints=$("$here/etcd-reference.sh" start --dir "$dir/cluster" --members "$members")
  while read -r pid; do pid_flags+=" --server-pid $pid"; done < "$dir/cluster/pids"
  trap '"$here/etcd-reference.sh" stop --dir "$dir/cluster"; rm -rf "$dir"' RETURN
  local runs=(
    "put --conns 1 --clients 1 --key-space-size 100000"
    "put --conns 10 --clients 100 --key-space-size 100000"
    "range --conns 10 --clients 100 --consistency l"
    "range --conns 10 --clients 100 --consistency s"
    "range --conns 1 --clients 1 --consistency l"
    "txn-put --conns 10 --clients 100 --key-space-size 100000"
    "watch-latency --conns 10 --watchers 100 --total-override 2000"
  )
  local run arguments
  for run in "${runs[@]}"; do
    arguments="$run"
    local run_total=$total
    if [[ "$arguments" == *"--total-override "* ]]; then
      run_total=${arguments##*--total-override }
      arguments=${arguments%% --total-override*}
    fi
    echo "== $members member(s): $arguments --total $run_total" >&2
    # shellcheck disable=SC2086
    "$lockstep" bench etcd $arguments $COMMON --total "$run_total" --endpoints "$endpoints" \
      $pid_flags | tee /dev/stderr | tail -n 1 | sed "s/^{/{\"members\":$members,/"
  done
}

run_suite 1
run_suite 3
