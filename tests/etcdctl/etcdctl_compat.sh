#!/usr/bin/env bash
# etcdctl (the official etcd v3 client) against an endpoint: every check is etcd 3.4's
# documented behaviour, so the same script judges etcd itself and the lockstep daemon.
#
#   tests/etcdctl/etcdctl_compat.sh [--endpoints host:port]
#
# Without --endpoints it starts a fresh single-member etcd 3.4 with scripts/etcd-reference.sh
# on ports from the environment (ETCDCTL_COMPAT_CLIENT_PORT / _PEER_PORT, defaults 25790 /
# 25890) and stops it afterwards. Exit 0 when every check holds; 1 with the failed check
# otherwise; etcd/etcdctl missing is a failure, not a skip.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
endpoints=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --endpoints) endpoints=${2:?--endpoints needs a value}; shift 2 ;;
    *) echo "etcdctl_compat.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
command -v etcdctl > /dev/null || { echo "FAIL: etcdctl is not installed (etcd-client)" >&2; exit 1; }

if [[ -z "$endpoints" ]]; then
  dir=$(mktemp -d /tmp/lockstep-etcdctl-compat-XXXXXX)
  trap '"$root/scripts/etcd-reference.sh" stop --dir "$dir/cluster"; rm -rf "$dir"' EXIT
  endpoints=$("$root/scripts/etcd-reference.sh" start --dir "$dir/cluster" \
    --client-port "${ETCDCTL_COMPAT_CLIENT_PORT:-25790}" \
    --peer-port "${ETCDCTL_COMPAT_PEER_PORT:-25890}")
fi

ctl() { ETCDCTL_API=3 etcdctl --endpoints "$endpoints" --command-timeout 10s "$@"; }
checks=0
expect_eq() {  # expect_eq <what> <expected> <actual>
  checks=$((checks + 1))
  if [[ "$2" != "$3" ]]; then
    echo "FAIL: $1: expected [$2], got [$3]" >&2
    exit 1
  fi
}
json_field() { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval('d' + sys.argv[1]))" "$1"; }
b64() { printf '%s' "$1" | base64; }

# put / get: revisions grow by one per write; version counts writes since creation.
first=$(ctl put /compat/a one -w json | json_field "['header']['revision']")
ctl put /compat/a two > /dev/null
got=$(ctl get /compat/a -w json)
expect_eq "value after two puts" "$(b64 two)" "$(echo "$got" | json_field "['kvs'][0]['value']")"
expect_eq "version after two puts" 2 "$(echo "$got" | json_field "['kvs'][0]['version']")"
expect_eq "create_revision" "$first" "$(echo "$got" | json_field "['kvs'][0]['create_revision']")"
expect_eq "mod_revision" "$((first + 1))" "$(echo "$got" | json_field "['kvs'][0]['mod_revision']")"

# --prev-kv returns the pair before the write.
expect_eq "put --prev-kv" "$(printf 'OK\n/compat/a\ntwo')" "$(ctl put /compat/a three --prev-kv)"

# Prefix get, limit and count.
for i in 1 2 3; do ctl put "/compat/list/$i" "v$i" > /dev/null; done
expect_eq "prefix keys" "$(printf '/compat/list/1\n/compat/list/2\n/compat/list/3')" \
  "$(ctl get /compat/list/ --prefix --keys-only | sed '/^$/d')"
limited=$(ctl get /compat/list/ --prefix --limit 2 -w json)
expect_eq "limit sets more" True "$(echo "$limited" | json_field "['more']")"
expect_eq "count ignores limit" 3 "$(echo "$limited" | json_field "['count']")"

# Delete with a prefix reports how many keys went.
expect_eq "del --prefix" 3 "$(ctl del /compat/list/ --prefix)"

# Txn: create-if-absent succeeds once, then the failure branch runs.
txn_script=$'version("/compat/lock") = "0"\n\nput /compat/lock mine\n\nget /compat/lock\n\n'
expect_eq "txn first" "$(printf 'SUCCESS\n\nOK')" "$(echo "$txn_script" | ctl txn)"
expect_eq "txn second" "$(printf 'FAILURE\n\n/compat/lock\nmine')" "$(echo "$txn_script" | ctl txn)"

# Compaction: reading below it is ErrCompacted with etcd's message.
rev=$(ctl put /compat/h v1 -w json | json_field "['header']['revision']")
ctl put /compat/h v2 > /dev/null
ctl compaction "$((rev + 1))" > /dev/null
set +e
compacted=$(ctl get /compat/h --rev "$rev" 2>&1)
set -e
expect_eq "read below compaction" yes \
  "$(echo "$compacted" | grep -q 'etcdserver: mvcc: required revision has been compacted' && echo yes)"

# Leases: attached keys vanish on revoke.
lease=$(ctl lease grant 60 | awk '{print $2}')
ctl put /compat/leased v --lease "$lease" > /dev/null
expect_eq "leased key present" 1 "$(ctl get /compat/leased -w json | json_field ".get('count', 0)")"
ctl lease revoke "$lease" > /dev/null
# (JSON output omits zero values, so a count of 0 is an absent field.)
expect_eq "leased key gone" 0 "$(ctl get /compat/leased -w json | json_field ".get('count', 0)")"

# Watch from a past revision replays history in order.
wrev=$(ctl put /compat/w w1 -w json | json_field "['header']['revision']")
ctl put /compat/w w2 > /dev/null
ctl del /compat/w > /dev/null
watch_output=$(mktemp)
# etcdctl itself, not the ctl function: $! must be etcdctl's pid, or killing it would leave
# an orphaned watcher holding the caller's output open.
ETCDCTL_API=3 etcdctl --endpoints "$endpoints" watch /compat/w --rev "$wrev" \
  > "$watch_output" 2>&1 < /dev/null &
watcher=$!
for _ in $(seq 100); do  # up to 10 s for the 8 lines of 3 events; normally immediate
  [[ $(wc -l < "$watch_output") -ge 8 ]] && break
  sleep 0.1
done
kill "$watcher" 2> /dev/null || true
wait "$watcher" 2> /dev/null || true
expect_eq "watch --rev replays" "$(printf 'PUT\n/compat/w\nw1\nPUT\n/compat/w\nw2\nDELETE\n/compat/w')" \
  "$(head -n 8 "$watch_output")"
rm -f "$watch_output"

echo "ok: $checks etcdctl checks against $endpoints"
