#!/usr/bin/env bash
# `etcdctl member update` against a three-member `lockstep serve` cluster, as etcd 3.4 does it:
#   1. etcd's errors: an unknown id (etcdserver: member not found) and a peer URL that another
#      member already has (etcdserver: Peer URLs already exists);
#   2. m3 moves its peer URL: every member lists the new URL, and m3, restarted to listen only
#      on the new port, catches up (its peers dial the new URL, not the old one);
#   3. persistence: with --snapshot-count small enough that the update is compacted out of the
#      Raft log, m1 restarts with its original --initial-cluster (naming m3's old URL), still
#      lists m3's new URL and, with m2 stopped, commits writes together with m3 alone.
#
#   tests/daemon/daemon_member_update_test.sh <path to the lockstep binary>
#
# Exit 0 when every check holds, 1 with the failed check, 77 (skip) without etcdctl.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
lockstep=${1:?usage: daemon_member_update_test.sh <lockstep binary>}
source "$here/cluster_lib.sh"
require_etcdctl
# A Raft snapshot (and WAL compaction) every 10 entries, so that step 3 restarts from one.
extra_serve_flags="--snapshot-count 10"
cluster_init m1 m2 m3
for name in "${names[@]}"; do start_member "$name"; done
for name in "${names[@]}"; do wait_writable "$(endpoint "$name")"; done
at=$(endpoint m1)

member_id() {  # member_id <name>: the member's id in hex, from its own status
  printf '%x' "$(ctl_at "$(endpoint "$1")" endpoint status -w json | json_field "[0]['Status']['header']['member_id']")"
}
peer_urls_of() {  # peer_urls_of <endpoint> <hex id>: that member's peer URLs as <endpoint> lists them
  ctl_at "$1" member list -w json | python3 -c '
import json, sys
for m in json.load(sys.stdin)["members"]:
    if "%x" % m["ID"] == sys.argv[1]: print(",".join(m.get("peerURLs", [])))' "$2"
}
wait_value() {  # wait_value <name> <key> <value>: a serializable read on <name> sees it within 20 s
  local value=""
  for _ in $(seq 200); do
    value=$(ctl_at "$(endpoint "$1")" get "$2" --print-value-only --consistency=s 2> /dev/null || true)
    [[ "$value" == "$3" ]] && break
    sleep 0.1
  done
  expect_eq "$1 reads $2" "$3" "$value"
}
m3_id=$(member_id m3)
old_url="http://127.0.0.1:${peer_port[m3]}"
new_port=$(free_ports 1)
new_url="http://127.0.0.1:$new_port"

# 1. etcd's errors (etcdctl also logs its client's retry warning; the last line is the error).
expect_eq "unknown member" "Error: etcdserver: member not found" \
  "$(ctl_at "$at" member update 1234 --peer-urls=http://127.0.0.1:1 2>&1 | tail -n 1)"
expect_eq "another member's peer URL" "Error: etcdserver: Peer URLs already exists" \
  "$(ctl_at "$at" member update "$m3_id" --peer-urls="http://127.0.0.1:${peer_port[m1]}" 2>&1 | tail -n 1)"
expect_eq "nothing changed" "$old_url" "$(peer_urls_of "$at" "$m3_id")"

# 2. m3 moves to a new peer port. Its peers dial the new URL from then on, so m3, still on the
# old one, hears nothing until it restarts there (as with etcd); m1 leads meanwhile.
leader=$(leader_name)
if [[ "$leader" != m1 ]]; then
  ctl_at "$(endpoint "$leader")" move-leader "$(member_id m1)" > /dev/null
fi
updated=$(ctl_at "$(endpoint m2)" member update "$m3_id" --peer-urls="$new_url")
expect_eq "member update" "Member $m3_id updated" "$(sed 's/ in cluster .*//; s/  */ /g' <<< "$updated")"
for name in m1 m2; do
  urls=""
  for _ in $(seq 50); do
    urls=$(peer_urls_of "$(endpoint "$name")" "$m3_id")
    [[ "$urls" == "$new_url" ]] && break
    sleep 0.1
  done
  expect_eq "$name lists m3's new peer URL" "$new_url" "$urls"
done
stop_member m3
# Restarted as etcd would be: the same identity flags, listening on the new port only.
"$lockstep" serve --name m3 --data-dir "$dir/m3" \
  --listen-client-urls "http://127.0.0.1:${client_port[m3]}" \
  --advertise-client-urls "http://127.0.0.1:${client_port[m3]}" \
  --listen-peer-urls "$new_url" --initial-advertise-peer-urls "$old_url" \
  --initial-cluster "$cluster" --initial-cluster-token "$token" \
  --heartbeat-interval 50 --election-timeout 500 $extra_serve_flags >> "$dir/m3.log" 2>&1 &
pids[m3]=$!
ctl_at "$at" put /moved/k one > /dev/null
wait_value m3 /moved/k one
expect_eq "restarted m3 lists its new peer URL" "$new_url" "$(peer_urls_of "$(endpoint m3)" "$m3_id")"

# 3. Enough writes for a Raft snapshot past the update, then m1 restarts from its data dir.
for i in $(seq 30); do ctl_at "$at" put "/fill/$i" "$i" > /dev/null; done
stop_member m1
start_member m1
wait_value m1 /fill/30 30
expect_eq "restarted m1 still lists m3's new peer URL" "$new_url" "$(peer_urls_of "$at" "$m3_id")"
stop_member m2
wrote=no
for _ in $(seq 100); do
  if ctl_at "$at" put /moved/k two > /dev/null 2>&1; then wrote=yes; break; fi
  sleep 0.2
done
expect_eq "m1 and m3 alone commit a write" yes "$wrote"
wait_value m3 /moved/k two
echo "ok: $checks checks of etcdctl member update against a 3-member lockstep cluster"
