#!/usr/bin/env bash
# Runs the component benchmarks one after another (numbers, never pass/fail), then the daemon
# against etcd 3.4 side by side (scripts/bench-daemon-vs-etcd.sh: needs Debian's etcd-server
# and etcd-client; skipped with a note when etcd is missing or BENCH_DAEMON=0; BENCH_EXTENDED=1
# adds its lease, txn, watch, 1-client range and 1000-client put workloads).
set -euo pipefail
lockstep=${1:?usage: bench.sh PATH_TO_LOCKSTEP}
here=$(cd "$(dirname "$0")" && pwd)
for name in raft mvcc store checker sim-world sim cluster real-runtime; do
  echo "== lockstep bench $name"
  "$lockstep" bench "$name" || echo "(bench $name exited $?)"
done
echo "== daemon-vs-etcd"
if [[ "${BENCH_DAEMON:-1}" == 0 ]]; then
  echo "(skipped: BENCH_DAEMON=0)"
elif ! command -v etcd > /dev/null || ! command -v etcdctl > /dev/null; then
  echo "(skipped: etcd/etcdctl not installed; apt-get install etcd-server etcd-client)"
elif ! "$lockstep" serve --help > /dev/null 2>&1; then
  echo "(skipped: this lockstep binary was built without the daemon)"
else
  "$here/bench-daemon-vs-etcd.sh" "$lockstep" "${BENCH_DAEMON_TOTAL:-20000}" 1 3 ||
    echo "(daemon-vs-etcd exited $?)"
fi
