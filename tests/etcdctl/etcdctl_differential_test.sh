#!/usr/bin/env bash
# The same etcdctl 3.4 script against a fresh single-member `lockstep serve` and a fresh
# single-member Debian etcd 3.4, both started here on free ports with temporary data dirs;
# the two transcripts (each command's stdout, stderr and exit status) must be equal once the
# values that etcd legitimately chooses differently are masked: member and cluster ids,
# raft terms and indexes, lease ids (random in both), database sizes and timings.
# Everything else must match byte for byte, error messages included, and hashkv values
# (etcd's crc32c over its key bucket, which lockstep computes over the same records).
# Beyond the KV, lease and watch commands: member add/update/promote/remove/list (errors
# included), endpoint status/health, alarm list, defrag, snapshot save, move-leader, lock and
# elect (both run briefly under `timeout`).
#
#   tests/etcdctl/etcdctl_differential_test.sh <path to the lockstep binary>
#
# Exit 0 when the transcripts match; 1 with a diff otherwise; 77 (skip) without etcd/etcdctl.
set -euo pipefail
lockstep=${1:?usage: etcdctl_differential_test.sh <lockstep binary>}
for tool in etcd etcdctl; do
  command -v "$tool" > /dev/null || {
    echo "SKIP: $tool is not installed (Debian: apt-get install etcd-server etcd-client)" >&2
    exit 77
  }
done
dir=$(mktemp -d /tmp/lockstep-etcdctl-diff-XXXXXX)
declare -a started=()
cleanup() {
  local pid
  for pid in "${started[@]}"; do kill -9 "$pid" 2> /dev/null || true; done
  wait 2> /dev/null || true
  [[ "${keep:-0}" == 1 ]] && echo "kept $dir" >&2 || rm -rf "$dir"
}
trap cleanup EXIT
# Free ports below the kernel's ephemeral range: a bind(0) port could be handed to any outgoing
# connection (e.g. a concurrently running daemon test) before etcd or lockstep binds it.
source "$(dirname "$0")/../lib/free_ports.sh"
read -r -a ports <<< "$(free_ports 6)"

flags() {  # flags <client port> <peer port> <data dir>
  echo --name solo --data-dir "$3" \
    --listen-client-urls "http://127.0.0.1:$1" --advertise-client-urls "http://127.0.0.1:$1" \
    --listen-peer-urls "http://127.0.0.1:$2" --initial-advertise-peer-urls "http://127.0.0.1:$2" \
    --initial-cluster "solo=http://127.0.0.1:$2" --initial-cluster-token diff \
    --initial-cluster-state new
}
# shellcheck disable=SC2046
etcd $(flags "${ports[0]}" "${ports[1]}" "$dir/etcd") > "$dir/etcd.log" 2>&1 &
started+=($!)
# shellcheck disable=SC2046
"$lockstep" serve $(flags "${ports[2]}" "${ports[3]}" "$dir/lockstep") > "$dir/lockstep.log" 2>&1 &
started+=($!)

wait_up() {
  for _ in $(seq 150); do
    ETCDCTL_API=3 etcdctl --endpoints "$1" get /nothing > /dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "FAIL: $1 did not answer within 15 s" >&2; keep=1; exit 1
}
wait_up "127.0.0.1:${ports[0]}"
wait_up "127.0.0.1:${ports[2]}"

# Mask what legitimately differs (ids, terms, indexes, sizes, timings).
normalise() {
  sed -E \
    -e 's/"(cluster_id|member_id|leader|raft_term|raftTerm|raftIndex|raftAppliedIndex|dbSize|dbSizeInUse|ID)":[0-9]+/"\1":N/g' \
    -e 's/127\.0\.0\.1:[0-9]+/ENDPOINT/g' \
    -e 's/"ts":"[^"]*"/"ts":T/g' \
    -e 's/client-[0-9a-f-]+/client-UUID/g' \
    -e 's/took = [0-9.]+(µs|ms|s)/took = T/g' \
    -e 's/(Member|cluster) +[0-9a-f]{1,16}\b/\1 HEXID/g' \
    -e 's/\b[0-9a-f]{12,16}\b/HEXID/g' \
    -e 's/"ts":[0-9.]+/"ts":T/g' \
    -e 's/^(ENDPOINT, HEXID, 3\.4\.23), [^,]+, (true|false), (true|false), [0-9]+, [0-9]+, [0-9]+,/\1, SIZE, \2, \3, N, N, N,/' \
    -e 's/"(size|took)":("[^"]*"|[0-9.]+)/"\1":X/g' \
    "$1"
}
# One transcript: each step prints "$ command", then its output and exit status.
transcript() {
  local at=$1
  step() {
    echo "\$ $*"
    local status=0
    ETCDCTL_API=3 etcdctl --endpoints "$at" --command-timeout 5s "$@" 2>&1 || status=$?
    echo "[exit $status]"
  }
  step_head() {  # step_head <args...>: the first line only (etcd orders the rest by member id)
    echo "\$ $*"
    local status=0
    ETCDCTL_API=3 etcdctl --endpoints "$at" --command-timeout 5s "$@" > "$dir/step.out" 2>&1 || status=$?
    head -n 1 "$dir/step.out"
    echo "[exit $status]"
  }
  step_sorted() {  # step_sorted <args...>: lines sorted once ids are masked (etcd orders by id)
    echo "\$ $* (sorted)"
    local status=0
    ETCDCTL_API=3 etcdctl --endpoints "$at" --command-timeout 5s "$@" > "$dir/step.out" 2>&1 || status=$?
    normalise "$dir/step.out" | sort
    echo "[exit $status]"
  }
  step_timeout() {  # step_timeout <seconds> <args...>: a command that runs until stopped
    local seconds=$1; shift
    echo "\$ $* (stopped after $seconds s)"
    local status=0
    timeout "$seconds" env ETCDCTL_API=3 etcdctl --endpoints "$at" "$@" 2>&1 || status=$?
    echo "[exit $status]"
  }
  step_in() {  # step_in <stdin text> <args...>
    local input=$1; shift
    echo "\$ $* <<< $(printf '%q' "$input")"
    local status=0
    printf '%s' "$input" | ETCDCTL_API=3 etcdctl --endpoints "$at" --command-timeout 5s "$@" 2>&1 || status=$?
    echo "[exit $status]"
  }
  step put /d/a 1
  step put /d/b 2
  step put /d/a 3 --prev-kv
  step get /d/a
  step get /d/a -w json
  step get /d/ --prefix
  step get /d/ --prefix --keys-only
  step get /d/ --prefix --limit 1 -w json
  step get /d/ --prefix --keys-only -w json
  step get /d/ --prefix --sort-by=MODIFY --order=DESCEND
  step get /d/a --rev 2
  step get /d/a --rev 100
  step get /d/missing
  step get /d/a /d/c
  step del /d/missing
  step del /d/b --prev-kv
  step_in $'value("/d/a") = "3"\n\nput /d/t yes\n\nget /d/zzz\n\n' txn
  step_in $'value("/d/a") = "4"\n\nput /d/t yes\n\ndel /d/a\n\n' txn -w json
  step endpoint hashkv -w json
  step endpoint hashkv --rev 4 -w json
  step compaction 3
  step get /d/a --rev 2
  step endpoint hashkv -w json
  step endpoint hashkv --rev 3 -w json
  step compaction 2
  step lease revoke 1234
  step lease timetolive 1234
  step lease keep-alive --once 1234
  step put /d/x y --lease 1234
  step lease grant 100000000000
  step watch /d/a --rev 1
  step endpoint health
  step alarm list
  step endpoint status -w json
  step move-leader 1234
  step member remove 1234
  step member promote 1234
  step put "" empty
  step get /d/ --prefix --rev 0 -w json
  # Membership on one member: a learner that never starts, then the member moves its own peer
  # URL (ports[4] and ports[5] are never listened on; one member needs no peers).
  local self_id spare_id spare_url="http://127.0.0.1:${ports[4]}"
  self_id=$(ETCDCTL_API=3 etcdctl --endpoints "$at" endpoint status -w json | python3 -c '
import json, sys
print("%x" % json.load(sys.stdin)[0]["Status"]["header"]["member_id"])')
  step member update 1234 --peer-urls=http://127.0.0.1:1
  step_head member add spare --learner --peer-urls="$spare_url"
  spare_id=$(ETCDCTL_API=3 etcdctl --endpoints "$at" member list -w json | python3 -c '
import json, sys
print(*["%x" % m["ID"] for m in json.load(sys.stdin)["members"] if m.get("isLearner")])')
  step_sorted member list
  step member update "$self_id" --peer-urls="$spare_url"
  step member promote "$spare_id"
  step member remove "$spare_id"
  step member update "$self_id" --peer-urls="http://127.0.0.1:${ports[5]}"
  step member list -w json
  step put /d/after-update yes
  step defrag
  step snapshot save "$dir/snapshot.db"
  step lock /d/lock -- sh -c 'echo "holding $ETCD_LOCK_KEY"'
  step_timeout 2 elect /d/e alice
  step_timeout 1 elect -l /d/e
  step alarm list
  step endpoint status
}

transcript "127.0.0.1:${ports[0]}" > "$dir/etcd.out"
transcript "127.0.0.1:${ports[2]}" > "$dir/lockstep.out"

if ! diff -u <(normalise "$dir/etcd.out") <(normalise "$dir/lockstep.out") > "$dir/diff"; then
  cat "$dir/diff" >&2
  keep=1
  echo "FAIL: etcdctl transcripts differ (etcd -, lockstep +)" >&2
  exit 1
fi
echo "ok: $(grep -c '^\$ ' "$dir/etcd.out") etcdctl commands give the same output on lockstep and etcd 3.4"
