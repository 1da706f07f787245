#!/usr/bin/env bash
# etcd's space quota on a three-member `lockstep serve` cluster with a small
# --quota-backend-bytes, written through a follower,
# driven by Debian's etcdctl 3.4 (etcd's documented recovery, docs/op-guide/maintenance.md
# "Space quota"):
#   1. puts of 64 KiB values until one fails with etcd's "etcdserver: mvcc: database space
#      exceeded";
#   2. `etcdctl alarm list` on every member names the member that raised it and NOSPACE;
#      further puts are refused, reads and deletes still work;
#   3. delete the keys, compact to the current revision, defrag, `alarm disarm`: the alarm list
#      is empty and puts succeed again.
#
#   tests/daemon/daemon_quota_test.sh <path to the lockstep binary>
#
# Exit 0 when every check holds, 1 with the failed check, 77 (skip) without etcdctl.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
lockstep=${1:?usage: daemon_quota_test.sh <lockstep binary>}
readonly quota_bytes=$((2 * 1024 * 1024))
readonly max_puts=200  # 64 KiB each: 12.5 MiB, far past the quota
source "$here/cluster_lib.sh"
require_etcdctl
cluster_init m1 m2 m3
extra_serve_flags="--quota-backend-bytes $quota_bytes"
for name in "${names[@]}"; do start_member "$name"; done
for name in "${names[@]}"; do wait_writable "$(endpoint "$name")"; done
leader=$(leader_name)
[[ -n "$leader" ]] || fail "endpoint status names no leader"
follower=m1; [[ "$leader" == m1 ]] && follower=m2
at=$(endpoint "$follower")
member_id() {
  ctl_at "$(endpoint "$1")" endpoint status -w json | json_field "[0]['Status']['header']['member_id']"
}
# etcdctl prints each alarm as its protobuf text, with a trailing space.
alarms_at() { ctl_at "$(endpoint "$1")" alarm list | sed 's/ *$//'; }

# 1. Fill until the quota refuses.
value=$(head -c 65536 /dev/zero | tr '\0' v)
refused=""
for i in $(seq "$max_puts"); do
  if ! output=$(ctl_at "$at" put "/fill/$i" "$value" 2>&1); then
    refused=$(tail -n 1 <<< "$output")  # after clientv3's retry warnings
    break
  fi
done
expect_eq "a put past the quota fails with etcd's error" \
  "Error: etcdserver: mvcc: database space exceeded" "$refused"
echo "quota reached after $((i - 1)) puts of 64 KiB"

# 2. The alarm is raised through the log and listed by every member; writes stay refused,
#    reads do not. The member that raises it is the one whose backend outgrew the quota first.
raised_by=""
for _ in $(seq 50); do  # the activation is proposed when the put is refused; wait for its apply
  raised_by=$(alarms_at "$follower")
  [[ -n "$raised_by" ]] && break
  sleep 0.1
done
[[ "$raised_by" =~ ^memberID:([0-9]+)\ alarm:NOSPACE$ ]] || fail "alarm list: [$raised_by]"
raised_id=${BASH_REMATCH[1]}
ids=""
for name in "${names[@]}"; do ids+=" $(member_id "$name")"; done
expect_eq "the alarm names a member of the cluster" yes \
  "$([[ " $ids " == *" $raised_id "* ]] && echo yes)"
for name in "${names[@]}"; do
  alarm=""
  for _ in $(seq 50); do
    alarm=$(alarms_at "$name")
    [[ "$alarm" == "$raised_by" ]] && break
    sleep 0.1
  done
  expect_eq "alarm list on $name" "$raised_by" "$alarm"
done
expect_eq "a small put is refused while the alarm stands" \
  "Error: etcdserver: mvcc: database space exceeded" "$(ctl_at "$at" put /small v 2>&1 | tail -n 1 || true)"
expect_eq "reads work under the alarm" "$value" "$(ctl_at "$at" get /fill/1 --print-value-only)"

# 3. etcd's recovery: free the space, then disarm.
expect_eq "deletes work under the alarm" "$((i - 1))" "$(ctl_at "$at" del /fill/ --prefix)"
revision=$(ctl_at "$at" get /fill/1 -w json | json_field "['header']['revision']")
expect_eq "compact" "compacted revision $revision" "$(ctl_at "$at" compact "$revision" --physical)"
for name in "${names[@]}"; do  # etcd defragments one member per endpoint
  expect_eq "defrag $name" "Finished defragmenting etcd member[$(endpoint "$name")]" \
    "$(ctl_at "$(endpoint "$name")" defrag)"
done
expect_eq "alarm disarm answers the alarm it removed" "$raised_by" \
  "$(ctl_at "$at" alarm disarm | sed 's/ *$//')"
for name in "${names[@]}"; do
  alarm="x"
  for _ in $(seq 50); do
    alarm=$(alarms_at "$name")
    [[ -z "$alarm" ]] && break
    sleep 0.1
  done
  expect_eq "alarm list on $name is empty after disarm" "" "$alarm"
done
expect_eq "puts succeed again" OK "$(ctl_at "$at" put /after v)"
expect_eq "the new key is there" v "$(ctl_at "$at" get /after --print-value-only)"

for name in "${names[@]}"; do stop_member "$name"; done
echo "PASS: $checks checks"
