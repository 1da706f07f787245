#!/usr/bin/env bash
# kill -9 of the leader of a three-member `lockstep serve` cluster under write load:
#   - a writer runs etcdctl puts of /load/1.. against all three endpoints (etcdctl fails over)
#     and records every put etcdctl acknowledged;
#   - after 30 acknowledged puts the leader (as endpoint status names it) gets SIGKILL, and is
#     restarted from its data directory two seconds later, while the writer goes on;
#   - afterwards every acknowledged put must be present on every member (a linearizable read
#     through each), and the restarted member must have converged: its serializable (local)
#     read returns the same keys as the others and `endpoint hashkv` agrees at one revision.
#
#   tests/daemon/daemon_kill_leader_test.sh <path to the lockstep binary>
#
# Exit 0 when every check holds, 1 with the failed check, 77 (skip) without etcdctl.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
lockstep=${1:?usage: daemon_kill_leader_test.sh <lockstep binary>}
readonly writes=150
source "$here/cluster_lib.sh"
require_etcdctl
cluster_init m1 m2 m3
for name in "${names[@]}"; do start_member "$name"; done
for name in "${names[@]}"; do wait_writable "$(endpoint "$name")"; done

acked="$dir/acked"
: > "$acked"
(
  for i in $(seq 1 "$writes"); do
    if ETCDCTL_API=3 etcdctl --endpoints "$(all_endpoints)" --command-timeout 3s \
      put "/load/$i" "v$i" > /dev/null 2>&1; then
      echo "$i" >> "$acked"
    fi
  done
) &
writer=$!
for _ in $(seq 200); do [[ $(wc -l < "$acked") -ge 30 ]] && break; sleep 0.05; done
victim=$(leader_name)
[[ -n "$victim" ]] || fail "no leader before the kill"
kill -9 "${pids[$victim]}"
wait "${pids[$victim]}" 2> /dev/null || true
unset "pids[$victim]"
echo "killed leader $victim after $(wc -l < "$acked") acknowledged puts"
sleep 2
start_member "$victim"
wait "$writer"
acked_count=$(wc -l < "$acked")
(( acked_count >= writes * 2 / 3 )) || fail "only $acked_count of $writes puts were acknowledged"
wait_writable "$(endpoint "$victim")"

for name in "${names[@]}"; do
  present=$(ctl_at "$(endpoint "$name")" get /load/ --prefix --keys-only | sed '/^$/d' | sed 's#/load/##')
  missing=$(comm -23 <(sort "$acked") <(echo "$present" | sort))
  expect_eq "acknowledged puts present on $name" "" "$missing"
done
# Convergence: at one revision every member's own state hashes the same.
rev=$(ctl_at "$(endpoint m1)" put /load/done yes -w json | json_field "['header']['revision']")
reference=$(ctl_at "$(endpoint m1)" get /load/ --prefix --keys-only --rev "$rev" | sed '/^$/d' | sort)
for name in "${names[@]}"; do
  local_keys=""
  for _ in $(seq 50); do
    local_keys=$(ctl_at "$(endpoint "$name")" get /load/ --prefix --keys-only --consistency=s \
      --rev "$rev" 2> /dev/null | sed '/^$/d' | sort || true)
    [[ "$local_keys" == "$reference" ]] && break
    sleep 0.1
  done
  expect_eq "$name's local keys at revision $rev" "$reference" "$local_keys"
done
expect_eq "hashkv agrees at revision $rev" 1 "$(ctl_at "$(all_endpoints)" endpoint hashkv --rev "$rev" -w json \
  | python3 -c 'import json,sys; print(len({h["HashKV"]["hash"] for h in json.load(sys.stdin)}))')"
echo "ok: $checks checks; $acked_count acknowledged puts survived the kill -9 of leader $victim"
