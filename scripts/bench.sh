#!/usr/bin/env bash
# Runs the component benchmarks one after another (numbers, never pass/fail). The daemon
# vs etcd comparison needs servers and is run separately: scripts/bench-etcd-reference.sh.
set -euo pipefail
lockstep=${1:?usage: bench.sh PATH_TO_LOCKSTEP}
for name in raft mvcc store checker sim-world sim cluster real-runtime; do
  echo "== lockstep bench $name"
  "$lockstep" bench "$name" || echo "(bench $name exited $?)"
done
