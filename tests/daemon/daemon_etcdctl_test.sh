#!/usr/bin/env bash
# A three-member `lockstep serve` cluster on 127.0.0.1 driven by Debian's etcdctl 3.4:
#   1. tests/etcdctl/etcdctl_compat.sh (put/get/prefix/limit/count/del/txn/compaction/lease/
#      watch, each checked against etcd 3.4's documented behaviour) through one member;
#   2. more etcdctl checks: sort, --rev, count-only, keys-only, serializable reads on every
#      member, lease keep-alive/timetolive through a follower, endpoint health;
#   3. kill -9 of the leader under a loop of etcdctl puts, restart from its data dir, and no
#      acknowledged put may be missing on any member.
#
#   tests/daemon/daemon_etcdctl_test.sh <path to the lockstep binary>
#
# Exit 0 when every check holds, 1 with the failed check otherwise. etcdctl missing is a
# failure, not a skip.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
lockstep=${1:?usage: daemon_etcdctl_test.sh <lockstep binary>}
command -v etcdctl > /dev/null || { echo "FAIL: etcdctl is not installed (etcd-client)" >&2; exit 1; }
[[ -x "$lockstep" ]] || { echo "FAIL: $lockstep is not executable" >&2; exit 1; }

dir=$(mktemp -d /tmp/lockstep-daemon-test-XXXXXX)
declare -A pids
cleanup() {
  for name in "${!pids[@]}"; do kill -9 "${pids[$name]}" 2> /dev/null || true; done
  wait 2> /dev/null || true
  if [[ "${keep:-0}" == 1 ]]; then echo "logs kept in $dir" >&2; else rm -rf "$dir"; fi
}
trap cleanup EXIT

# Six free ports from the kernel.
read -r -a ports <<< "$(python3 -c '
import socket
socks = [socket.socket() for _ in range(6)]
for s in socks: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))')"
names=(m1 m2 m3)
declare -A client_port peer_port
cluster=""
for i in 0 1 2; do
  client_port[${names[$i]}]=${ports[$((2 * i))]}
  peer_port[${names[$i]}]=${ports[$((2 * i + 1))]}
  cluster+="${cluster:+,}${names[$i]}=http://127.0.0.1:${ports[$((2 * i + 1))]}"
done
all_endpoints="127.0.0.1:${client_port[m1]},127.0.0.1:${client_port[m2]},127.0.0.1:${client_port[m3]}"

start_member() {  # start_member <name>
  local name=$1
  "$lockstep" serve --name "$name" --data-dir "$dir/$name" \
    --listen-client-urls "http://127.0.0.1:${client_port[$name]}" \
    --advertise-client-urls "http://127.0.0.1:${client_port[$name]}" \
    --listen-peer-urls "http://127.0.0.1:${peer_port[$name]}" \
    --initial-advertise-peer-urls "http://127.0.0.1:${peer_port[$name]}" \
    --initial-cluster "$cluster" --initial-cluster-token daemon-test \
    --heartbeat-interval 50 --election-timeout 500 \
    >> "$dir/$name.log" 2>&1 &
  pids[$name]=$!
}

fail() { echo "FAIL: $*" >&2; keep=1; for n in "${names[@]}"; do echo "--- $n.log (tail)" >&2; tail -n 20 "$dir/$n.log" >&2 || true; done; exit 1; }
checks=0
expect_eq() {  # expect_eq <what> <expected> <actual>
  checks=$((checks + 1))
  [[ "$2" == "$3" ]] || fail "$1: expected [$2], got [$3]"
}
ctl_at() { local endpoint=$1; shift; ETCDCTL_API=3 etcdctl --endpoints "$endpoint" --command-timeout 5s "$@"; }
json_field() { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval('d' + sys.argv[1]))" "$1"; }

# The member whose newest role line says it leads in the highest term (member.role traces).
leader_name() {
  local best="" best_term=-1 name line term
  for name in "${names[@]}"; do
    line=$(grep ' member.role ' "$dir/$name.log" | tail -n 1 || true)
    [[ "$line" == *" member.role leader "* ]] || continue
    term=$(sed -E 's/.* term=([0-9]+).*/\1/' <<< "$line")
    if (( term > best_term )); then best=$name; best_term=$term; fi
  done
  echo "$best"
}

wait_healthy() {  # wait_healthy <endpoint>: up to 20 s
  for _ in $(seq 100); do
    if ctl_at "$1" put /daemon-test/ready yes > /dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  fail "$1 never accepted a write"
}

for name in "${names[@]}"; do start_member "$name"; done
for name in "${names[@]}"; do wait_healthy "127.0.0.1:${client_port[$name]}"; done
leader=$(leader_name)
[[ -n "$leader" ]] || fail "no member logged itself leader"
follower=m1; [[ "$leader" == m1 ]] && follower=m2
echo "cluster up: leader $leader, checking through follower $follower"

# 1. The shared etcdctl compatibility script, through a follower.
bash "$root/tests/etcdctl/etcdctl_compat.sh" --endpoints "127.0.0.1:${client_port[$follower]}" \
  || fail "etcdctl_compat.sh through $follower"

# 2. More etcdctl behaviour.
at=127.0.0.1:${client_port[$follower]}
for key in c b a; do ctl_at "$at" put "/sort/$key" "v$key" > /dev/null; done
expect_eq "sort descend by key" "$(printf '/sort/c\n/sort/b\n/sort/a')" \
  "$(ctl_at "$at" get /sort/ --prefix --keys-only --sort-by=KEY --order=DESCEND | sed '/^$/d')"
expect_eq "sort by create revision" "$(printf '/sort/c\n/sort/b\n/sort/a')" \
  "$(ctl_at "$at" get /sort/ --prefix --keys-only --sort-by=CREATE --order=ASCEND | sed '/^$/d')"
expect_eq "count-only" 3 "$(ctl_at "$at" get /sort/ --prefix --count-only -w json | json_field "['count']")"
rev=$(ctl_at "$at" put /rev/k old -w json | json_field "['header']['revision']")
ctl_at "$at" put /rev/k new > /dev/null
expect_eq "get --rev" "$(printf '/rev/k\nold')" "$(ctl_at "$at" get /rev/k --rev "$rev")"
expect_eq "del of one key" 1 "$(ctl_at "$at" del /rev/k)"
for name in "${names[@]}"; do  # every member applies the same writes (serializable: local)
  value=""
  for _ in $(seq 50); do
    value=$(ctl_at "127.0.0.1:${client_port[$name]}" get /sort/a --print-value-only \
      --consistency=s || true)
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
ctl_at "$at" lease revoke "$lease" > /dev/null
expect_eq "revoked lease" "lease $lease already expired" \
  "$(ctl_at "$at" lease timetolive "$lease")"
expect_eq "endpoint health" yes \
  "$(ctl_at "$all_endpoints" endpoint health 2>&1 | grep -c 'is healthy' | sed 's/^3$/yes/')"

# 3. kill -9 the leader under write load; every acknowledged put must survive.
acked="$dir/acked"
: > "$acked"
(
  for i in $(seq 1 150); do
    if ETCDCTL_API=3 etcdctl --endpoints "$all_endpoints" --command-timeout 3s \
      put "/load/$i" "v$i" > /dev/null 2>&1; then
      echo "$i" >> "$acked"
    fi
  done
) &
writer=$!
for _ in $(seq 100); do [[ $(wc -l < "$acked") -ge 30 ]] && break; sleep 0.1; done
victim=$(leader_name)
[[ -n "$victim" ]] || fail "no leader before the kill"
kill -9 "${pids[$victim]}"
wait "${pids[$victim]}" 2> /dev/null || true
echo "killed leader $victim after $(wc -l < "$acked") acknowledged puts"
sleep 2
start_member "$victim"
wait "$writer"
acked_count=$(wc -l < "$acked")
(( acked_count >= 100 )) || fail "only $acked_count of 150 puts were acknowledged"
wait_healthy "127.0.0.1:${client_port[$victim]}"
for name in "${names[@]}"; do
  present=$(ctl_at "127.0.0.1:${client_port[$name]}" get /load/ --prefix --keys-only \
    | sed '/^$/d' | sed 's#/load/##' | sort -n)
  missing=$(comm -23 <(sort -n "$acked" | sort) <(echo "$present" | sort))
  expect_eq "acknowledged puts present on $name" "" "$missing"
done
echo "ok: $checks checks; $acked_count acknowledged puts survived the leader's kill -9 on every member"
