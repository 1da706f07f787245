#!/usr/bin/env bash
# A three-member `lockstep serve` cluster on 127.0.0.1 driven by Debian's etcdctl 3.4:
#   1. tests/etcdctl/etcdctl_compat.sh (put/get/prefix/limit/count/del/txn/compaction/lease/
#      watch, each checked against etcd 3.4's documented behaviour) through a follower;
#   2. sort, --rev, count-only, keys-only, serializable reads on every member, lease
#      keep-alive/timetolive/list through a follower;
#   3. operations: endpoint status and health, alarm list, defrag, hashkv, snapshot save,
#      move-leader, lock and elect;
#   4. membership: member add --learner, the learner joins, promote, remove; SIGTERM and a
#      restart from the data directory.
#
#   tests/daemon/daemon_etcdctl_test.sh <path to the lockstep binary>
#
# Exit 0 when every check holds, 1 with the failed check, 77 (skip) without etcdctl.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
lockstep=${1:?usage: daemon_etcdctl_test.sh <lockstep binary>}
source "$here/cluster_lib.sh"
require_etcdctl
cluster_init m1 m2 m3
for name in "${names[@]}"; do start_member "$name"; done
for name in "${names[@]}"; do wait_writable "$(endpoint "$name")"; done
leader=$(leader_name)
[[ -n "$leader" ]] || fail "endpoint status names no leader"
follower=m1; [[ "$leader" == m1 ]] && follower=m2
echo "cluster up: leader $leader, checking through follower $follower"

# 1. The shared etcdctl compatibility script, through a follower.
bash "$root/tests/etcdctl/etcdctl_compat.sh" --endpoints "$(endpoint "$follower")" \
  || fail "etcdctl_compat.sh through $follower"

# 2. More KV and lease behaviour.
at=$(endpoint "$follower")
for key in c b a; do ctl_at "$at" put "/sort/$key" "v$key" > /dev/null; done
expect_eq "sort descend by key" "$(printf '/sort/c\n/sort/b\n/sort/a')" \
  "$(ctl_at "$at" get /sort/ --prefix --keys-only --sort-by=KEY --order=DESCEND | sed '/^$/d')"
expect_eq "sort by create revision" "$(printf '/sort/c\n/sort/b\n/sort/a')" \
  "$(ctl_at "$at" get /sort/ --prefix --keys-only --sort-by=CREATE --order=ASCEND | sed '/^$/d')"
expect_eq "count ignores --limit" 3 "$(ctl_at "$at" get /sort/ --prefix --limit 1 -w json | json_field "['count']")"
rev=$(ctl_at "$at" put /rev/k old -w json | json_field "['header']['revision']")
ctl_at "$at" put /rev/k new > /dev/null
expect_eq "get --rev" "$(printf '/rev/k\nold')" "$(ctl_at "$at" get /rev/k --rev "$rev")"
expect_eq "del of one key" 1 "$(ctl_at "$at" del /rev/k)"
for name in "${names[@]}"; do  # every member applies the same writes (serializable: local)
  value=""
  for _ in $(seq 50); do
    value=$(ctl_at "$(endpoint "$name")" get /sort/a --print-value-only --consistency=s || true)
    [[ "$value" == va ]] && break
    sleep 0.1
  done
  expect_eq "serializable read on $name" va "$value"
done
lease=$(ctl_at "$at" lease grant 30 | awk '{print $2}')
ctl_at "$at" put /leased/k v --lease "$lease" > /dev/null
expect_eq "keep-alive through a follower" "lease $lease keepalived with TTL(30)" \
  "$(ctl_at "$at" lease keep-alive --once "$lease")"
expect_eq "timetolive --keys" "/leased/k" \
  "$(ctl_at "$at" lease timetolive "$lease" --keys -w json | json_field "['keys'][0]" | base64 -d)"
expect_eq "lease list" yes "$(ctl_at "$at" lease list | grep -qx "$lease" && echo yes)"
ctl_at "$at" lease revoke "$lease" > /dev/null
expect_eq "revoked lease" "lease $lease already expired" "$(ctl_at "$at" lease timetolive "$lease")"

# 3. Operations.
expect_eq "endpoint health" 3 "$(ctl_at "$(all_endpoints)" endpoint health 2>&1 | grep -c 'is healthy')"
status=$(ctl_at "$(all_endpoints)" endpoint status -w json)
expect_eq "one leader among the statuses" 1 "$(echo "$status" | python3 -c '
import json, sys
statuses = json.load(sys.stdin)
leaders = {s["Status"]["leader"] for s in statuses}
print(len(leaders) if all(s["Status"]["raftIndex"] > 0 for s in statuses) else 0)')"
expect_eq "alarm list is empty" "" "$(ctl_at "$at" alarm list)"
expect_eq "defrag" "Finished defragmenting etcd member[$at]" "$(ctl_at "$at" defrag)"
hashes=$(ctl_at "$(all_endpoints)" endpoint hashkv -w json | python3 -c '
import json, sys
print(len({h["HashKV"]["hash"] for h in json.load(sys.stdin)}))')
expect_eq "every member hashes the same keyspace" 1 "$hashes"
ctl_at "$at" snapshot save "$dir/snap.db" > "$dir/snapshot.out" 2>&1 || fail "snapshot save: $(cat "$dir/snapshot.out")"
expect_eq "snapshot is an SQLite database" "SQLite format 3" "$(head -c 15 "$dir/snap.db")"
expect_eq "snapshot ends with its SHA-256" "$(head -c -32 "$dir/snap.db" | sha256sum | cut -c1-64)" \
  "$(tail -c 32 "$dir/snap.db" | od -An -tx1 | tr -d ' \n')"

leader=$(leader_name)
target=m1; [[ "$leader" == m1 ]] && target=m2
target_id=$(ctl_at "$(endpoint "$target")" endpoint status -w json | json_field "[0]['Status']['header']['member_id']")
target_hex=$(printf '%x' "$target_id")
expect_eq "move-leader" "Leadership transferred from $(printf '%x' "$(ctl_at "$(endpoint "$leader")" endpoint status -w json | json_field "[0]['Status']['header']['member_id']")") to $target_hex" \
  "$(ctl_at "$(all_endpoints)" move-leader "$target_hex")"
# move-leader returns once the old leader handed over; the other members learn the new leader
# only from its first message (a voter reports leader 0 until then), so wait for them to agree.
new_leader=""
for _ in $(seq 50); do
  new_leader=$(leader_name)
  [[ "$new_leader" == "$target" ]] && break
  sleep 0.1
done
expect_eq "new leader after move-leader" "$target" "$new_leader"

# Lock: the second holder runs only after the first released.
(ctl_at "$at" lock /locks/a -- sh -c "echo first-in >> $dir/lock.out; sleep 1; echo first-out >> $dir/lock.out") &
first=$!
for _ in $(seq 150); do [[ -s "$dir/lock.out" ]] && break; sleep 0.1; done
ctl_at "$(endpoint m3)" lock /locks/a -- sh -c "echo second-in >> $dir/lock.out" > /dev/null
wait "$first"
expect_eq "lock is exclusive" "$(printf 'first-in\nfirst-out\nsecond-in')" "$(cat "$dir/lock.out")"

# Election: a campaigner leads; an observer sees its proposal.
ETCDCTL_API=3 etcdctl --endpoints "$at" elect /elections/e alice > "$dir/elect.out" 2>&1 &
campaigner=$!
# etcdctl prints the leader key and then the proposal as two writes: wait for the second line.
for _ in $(seq 150); do [[ -n "$(sed -n 2p "$dir/elect.out")" ]] && break; sleep 0.1; done
expect_eq "elected" alice "$(sed -n 2p "$dir/elect.out")"
observed=$(timeout 4 env ETCDCTL_API=3 etcdctl --endpoints "$(endpoint m3)" elect -l /elections/e || true)
expect_eq "observed leader" alice "$(echo "$observed" | sed -n 2p)"
kill "$campaigner"; wait "$campaigner" 2> /dev/null || true

# 4. Membership: a learner joins, catches up, is promoted, and is removed again.
# One call: two separate calls each close their socket, so they may return the same port.
read -r "client_port[m4]" "peer_port[m4]" <<< "$(free_ports 2)"
added=$(ctl_at "$at" member add m4 --learner --peer-urls "http://127.0.0.1:${peer_port[m4]}")
expect_eq "member add --learner" yes "$(grep -q 'added to cluster' <<< "$added" && echo yes)"
initial=$(sed -n 's/^ETCD_INITIAL_CLUSTER="\(.*\)"$/\1/p' <<< "$added")
expect_eq "ETCD_INITIAL_CLUSTER names m4" yes "$(grep -q "m4=http://127.0.0.1:${peer_port[m4]}" <<< "$initial" && echo yes)"
m4_id=$(ctl_at "$at" member list -w json | python3 -c '
import json, sys
for m in json.load(sys.stdin)["members"]:
    if m.get("isLearner"): print("%x" % m["ID"])')
[[ -n "$m4_id" ]] || fail "member list shows no learner"
names+=(m4)
start_member m4 existing "$initial"
promoted=""
for _ in $(seq 100); do
  promoted=$(ctl_at "$at" member promote "$m4_id" 2>&1) && break
  sleep 0.2
done
# etcdctl prints ids with Go's %16x: an id with leading zero digits is padded with spaces.
expect_eq "member promote" "$(printf 'Member %16x promoted in cluster' "0x$m4_id")" "$(head -n 1 <<< "$promoted" | sed 's/ in cluster .*/ in cluster/')"
expect_eq "four voters" 4 "$(ctl_at "$at" member list | grep -c ', false$')"
value=""
for _ in $(seq 50); do
  value=$(ctl_at "$(endpoint m4)" get /sort/a --print-value-only --consistency=s || true)
  [[ "$value" == va ]] && break
  sleep 0.1
done
expect_eq "m4 caught up" va "$value"
expect_eq "member remove" yes \
  "$(ctl_at "$at" member remove "$m4_id" | grep -qF "$(printf 'Member %16x removed' "0x$m4_id")" && echo yes)"
for _ in $(seq 100); do kill -0 "${pids[m4]}" 2> /dev/null || break; sleep 0.1; done
kill -0 "${pids[m4]}" 2> /dev/null && fail "m4 still runs after its removal"
wait "${pids[m4]}" 2> /dev/null || true
unset "pids[m4]"
names=(m1 m2 m3)
expect_eq "three members again" 3 "$(ctl_at "$at" member list | grep -c 'started')"

# etcd 3.4 serves its JSON gateway, /health and /version on the client port (HTTP/1.1 beside
# gRPC's HTTP/2); so does lockstep without --gateway-port.
if command -v curl > /dev/null; then
  at_url="http://$(endpoint m1)"
  expect_eq "gateway /health on the client port" '{"health":"true"}' "$(curl -sS "$at_url/health")"
  expect_eq "gateway /version names etcd 3.4" yes \
    "$(curl -sS "$at_url/version" | grep -q '"etcdserver":"3.4' && echo yes)"
  # /v3/kv/range with base64 key "/sort/a" answers the value "va" base64-encoded ("dmE=").
  expect_eq "gateway /v3/kv/range on the client port" yes \
    "$(curl -sS -X POST -d '{"key":"L3NvcnQvYQ=="}' "$at_url/v3/kv/range" | grep -q '"value":"dmE="' && echo yes)"
fi

# Graceful stop and restart from the data directory: the data is still there.
stop_member m3
ctl_at "$at" put /restart/k after-stop > /dev/null
start_member m3
value=""
for _ in $(seq 100); do
  value=$(ctl_at "$(endpoint m3)" get /restart/k --print-value-only --consistency=s 2> /dev/null || true)
  [[ "$value" == after-stop ]] && break
  sleep 0.1
done
expect_eq "restarted m3 caught up" after-stop "$value"
expect_eq "restarted m3 kept older data" vb "$(ctl_at "$(endpoint m3)" get /sort/b --print-value-only --consistency=s)"
echo "ok: $checks checks through etcdctl against a 3-member lockstep cluster"
