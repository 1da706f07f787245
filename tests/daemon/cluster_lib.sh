# Shared by the daemon's integration tests (sourced, not run): a `lockstep serve` cluster of
# three members on 127.0.0.1 with kernel-chosen free ports, driven by etcdctl 3.4.
#
# The sourcing script sets `lockstep` (the binary) and then calls cluster_init; flags in
# `extra_serve_flags` are added to every `lockstep serve` that start_member runs, whose URLs use
# `client_scheme` and `peer_scheme` (http unless the script sets https). Logs and data
# live under $dir, removed on exit unless a check failed (then kept and their tails printed).
# Exit code 77 (ctest SKIP_RETURN_CODE) when etcdctl is not installed.

require_etcdctl() {
  if ! command -v etcdctl > /dev/null; then
    echo "SKIP: etcdctl is not installed (Debian: apt-get install etcd-client)" >&2
    exit 77
  fi
  [[ -x "$lockstep" ]] || { echo "FAIL: $lockstep is not executable" >&2; exit 1; }
}

require_tools() {  # require_tools <tool...>: exit 77 (skip) naming the first one not installed
  local tool
  for tool in "$@"; do
    command -v "$tool" > /dev/null || { echo "SKIP: $tool is not installed" >&2; exit 77; }
  done
}

# pki_init <directory> and issue <file> <common name>: a throwaway CA and certificates (tests/lib).
source "$(dirname "${BASH_SOURCE[0]}")/../lib/test_pki.sh"

# free_ports <count>: free TCP ports below the kernel's ephemeral range (tests/lib).
source "$(dirname "${BASH_SOURCE[0]}")/../lib/free_ports.sh"

declare -A pids client_port peer_port
names=(m1 m2 m3)
cluster=""
token=daemon-test

# A command that fails outside a check (set -e) is named, and the logs are kept and shown
# as for a failed check, so a failure in CI can be diagnosed from its output alone.
failed_command=""
cluster_note_error() { failed_command="line ${BASH_LINENO[0]}: $BASH_COMMAND"; }

cluster_cleanup() {
  local status=$?
  if [[ $status -ne 0 && "${keep:-0}" != 1 && $status -ne 77 ]]; then
    echo "FAIL: exit status $status${failed_command:+ after $failed_command}" >&2
    keep=1
    print_log_tails 30
  fi
  for name in "${!pids[@]}"; do kill -9 "${pids[$name]}" 2> /dev/null || true; done
  wait 2> /dev/null || true
  if [[ "${keep:-0}" == 1 ]]; then echo "logs kept in $dir" >&2; else rm -rf "$dir"; fi
}

cluster_init() {  # cluster_init <names...>: ports and --initial-cluster for these members
  dir=$(mktemp -d /tmp/lockstep-daemon-test-XXXXXX)
  trap cluster_cleanup EXIT
  set -E
  trap cluster_note_error ERR
  names=("$@")
  local ports i
  read -r -a ports <<< "$(free_ports $((2 * ${#names[@]})))"
  cluster=""
  for i in "${!names[@]}"; do
    client_port[${names[$i]}]=${ports[$((2 * i))]}
    peer_port[${names[$i]}]=${ports[$((2 * i + 1))]}
    cluster+="${cluster:+,}${names[$i]}=http://127.0.0.1:${ports[$((2 * i + 1))]}"
  done
}

endpoint() { echo "127.0.0.1:${client_port[$1]}"; }
all_endpoints() {
  local name list=""
  for name in "${names[@]}"; do list+="${list:+,}$(endpoint "$name")"; done
  echo "$list"
}

start_member() {  # start_member <name> [new|existing] [initial-cluster]
  local name=$1 state=${2:-new} initial=${3:-$cluster}
  local client=${client_scheme:-http} peer=${peer_scheme:-http}
  "$lockstep" serve --name "$name" --data-dir "$dir/$name" \
    --listen-client-urls "$client://127.0.0.1:${client_port[$name]}" \
    --advertise-client-urls "$client://127.0.0.1:${client_port[$name]}" \
    --listen-peer-urls "$peer://127.0.0.1:${peer_port[$name]}" \
    --initial-advertise-peer-urls "$peer://127.0.0.1:${peer_port[$name]}" \
    --initial-cluster "$initial" --initial-cluster-state "$state" \
    --initial-cluster-token "$token" \
    --heartbeat-interval 50 --election-timeout 500 ${extra_serve_flags:-} \
    >> "$dir/$name.log" 2>&1 &
  pids[$name]=$!
}

stop_member() {  # stop_member <name>: SIGTERM, and the member must exit by itself
  local name=$1 pid=${pids[$1]}
  kill -TERM "$pid"
  for _ in $(seq 100); do kill -0 "$pid" 2> /dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2> /dev/null && fail "$name did not stop within 10 s of SIGTERM"
  local status=0
  wait "$pid" || status=$?
  unset "pids[$name]"
  [[ $status == 0 ]] || fail "$name exited with status $status after SIGTERM"
}

print_log_tails() {  # print_log_tails <lines>: the end of every member's log, on stderr
  local name
  for name in "${names[@]}"; do
    echo "--- $name.log (tail)" >&2
    tail -n "$1" "$dir/$name.log" >&2 2> /dev/null || true
  done
}

fail() {
  echo "FAIL: $*" >&2
  keep=1
  print_log_tails 15
  exit 1
}

checks=0
expect_eq() {  # expect_eq <what> <expected> <actual>
  checks=$((checks + 1))
  [[ "$2" == "$3" ]] || fail "$1: expected [$2], got [$3]"
}
ctl_at() { local at=$1; shift; ETCDCTL_API=3 etcdctl --endpoints "$at" --command-timeout 5s "$@"; }
json_field() { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval('d' + sys.argv[1]))" "$1"; }

wait_writable() {  # wait_writable <endpoint>: a put succeeds through it within 20 s
  for _ in $(seq 100); do
    if ctl_at "$1" put /daemon-test/ready yes > /dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  fail "$1 never accepted a write"
}

read_on() {  # read_on <name> <key> <tries>: a serializable read on <name>, retried until not empty
  local value="" try
  for try in $(seq "$3"); do
    value=$(ctl_at "$(endpoint "$1")" get "$2" --print-value-only --consistency=s 2> /dev/null || true)
    [[ -n "$value" ]] && break
    sleep 0.1
  done
  echo "$value"
}

put_until_acked() {  # put_until_acked <endpoint> <key> <value>: retried until acknowledged
  # A put that a follower forwarded to a leader which then died is lost with it; as with etcd
  # ("request timed out, possibly due to previous leader failure"), the client hears only at
  # its deadline. Tests that kill members, or run on a loaded machine where elections happen,
  # write through this: the same value written again is harmless.
  local try
  for try in $(seq 6); do
    if ctl_at "$1" put "$2" "$3" > /dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  fail "$1 did not acknowledge put $2 in 6 tries"
}

# The leader as the members see it: endpoint status of every member, the id that leads.
leader_name() {
  local name status leader_id=""
  for name in "${names[@]}"; do
    [[ -n "${pids[$name]:-}" ]] || continue
    status=$(ctl_at "$(endpoint "$name")" endpoint status -w json 2> /dev/null) || continue
    leader_id=$(echo "$status" | json_field "[0]['Status']['leader']") && break
  done
  [[ -n "$leader_id" && "$leader_id" != 0 ]] || return 0
  for name in "${names[@]}"; do
    [[ -n "${pids[$name]:-}" ]] || continue
    status=$(ctl_at "$(endpoint "$name")" endpoint status -w json 2> /dev/null) || continue
    if [[ "$(echo "$status" | json_field "[0]['Status']['header']['member_id']")" == "$leader_id" ]]; then
      echo "$name"
      return 0
    fi
  done
}
