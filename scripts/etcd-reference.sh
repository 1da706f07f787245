#!/usr/bin/env bash
# Starts and stops a reference etcd (Debian's etcd 3.4) on 127.0.0.1 for benchmarks and the
# wire-compatibility tests: one member or a three-member cluster, each member with its own
# ports and a data directory under --dir.
#
#   scripts/etcd-reference.sh start --dir DIR [--members 1|3] [--client-port P] [--peer-port Q]
#       Member i (0-based) listens for clients on P+i and for peers on Q+i. Waits until every
#       member reports healthy, then prints the client endpoints (comma-separated) on stdout.
#       DIR/pids holds one etcd pid per line, DIR/member-i.log each member's log.
#   scripts/etcd-reference.sh stop --dir DIR
#       Stops the members started with DIR (SIGTERM, then SIGKILL after 10 s) and removes DIR.
#   scripts/etcd-reference.sh endpoints --dir DIR
#       Prints the client endpoints again.
#
# Exit codes: 0 ok, 1 etcd failed to start or become healthy, 2 bad usage, 3 etcd not installed.
# Example:
#   dir=$(mktemp -d) && endpoints=$(scripts/etcd-reference.sh start --dir "$dir" --members 3)
#   lockstep bench etcd put --endpoints "$endpoints" --total 20000
#   scripts/etcd-reference.sh stop --dir "$dir"
set -euo pipefail

readonly HEALTH_TIMEOUT_SECONDS=30
readonly STOP_TIMEOUT_SECONDS=10
readonly DEFAULT_CLIENT_PORT=23790
readonly DEFAULT_PEER_PORT=23890

usage() {
  sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

command=${1:-}
[[ -n "$command" ]] || usage
shift
dir=""
members=1
client_port=$DEFAULT_CLIENT_PORT
peer_port=$DEFAULT_PEER_PORT
while [[ $# -gt 0 ]]; do
  case "$1" in
    --dir) dir=${2:?--dir needs a value}; shift 2 ;;
    --members) members=${2:?--members needs a value}; shift 2 ;;
    --client-port) client_port=${2:?--client-port needs a value}; shift 2 ;;
    --peer-port) peer_port=${2:?--peer-port needs a value}; shift 2 ;;
    -h|--help) usage ;;
    *) echo "etcd-reference.sh: unknown argument '$1'" >&2; usage ;;
  esac
done
[[ -n "$dir" ]] || { echo "etcd-reference.sh: --dir is required" >&2; exit 2; }
[[ "$members" == 1 || "$members" == 3 ]] || {
  echo "etcd-reference.sh: --members must be 1 or 3" >&2; exit 2; }
[[ "$client_port" =~ ^[0-9]+$ && "$peer_port" =~ ^[0-9]+$ ]] || {
  echo "etcd-reference.sh: ports must be numbers" >&2; exit 2; }

require_etcd() {
  local tool
  for tool in etcd etcdctl; do
    if ! command -v "$tool" > /dev/null; then
      echo "etcd-reference.sh: '$tool' is not installed (Debian: apt-get install etcd-server etcd-client)" >&2
      exit 3
    fi
  done
}

endpoints() {
  [[ -f "$dir/endpoints" ]] || { echo "etcd-reference.sh: no cluster in $dir" >&2; exit 1; }
  cat "$dir/endpoints"
}

stop() {
  [[ -d "$dir" ]] || return 0
  if [[ -f "$dir/pids" ]]; then
    local pid waited=0
    while read -r pid; do kill -TERM "$pid" 2> /dev/null || true; done < "$dir/pids"
    while read -r pid; do
      while kill -0 "$pid" 2> /dev/null && (( waited < STOP_TIMEOUT_SECONDS * 10 )); do
        sleep 0.1; waited=$((waited + 1))
      done
      kill -KILL "$pid" 2> /dev/null || true
    done < "$dir/pids"
  fi
  rm -rf "$dir"
}

start() {
  require_etcd
  mkdir -p "$dir"
  if [[ -f "$dir/pids" ]]; then
    echo "etcd-reference.sh: $dir already has a running cluster; stop it first" >&2
    exit 2
  fi
  local i cluster="" client_urls=()
  for (( i = 0; i < members; i++ )); do
    cluster+="${cluster:+,}member-$i=http://127.0.0.1:$((peer_port + i))"
    client_urls+=("http://127.0.0.1:$((client_port + i))")
  done
  # etcd refuses to run on an architecture it does not list as supported unless told to.
  export ETCD_UNSUPPORTED_ARCH=${ETCD_UNSUPPORTED_ARCH:-$(uname -m | sed 's/x86_64/amd64/;s/aarch64/arm64/')}
  : > "$dir/pids"
  for (( i = 0; i < members; i++ )); do
    # A unique cluster token per start keeps members of an earlier run from joining.
    etcd --name "member-$i" --data-dir "$dir/member-$i.etcd" \
      --listen-client-urls "${client_urls[$i]}" --advertise-client-urls "${client_urls[$i]}" \
      --listen-peer-urls "http://127.0.0.1:$((peer_port + i))" \
      --initial-advertise-peer-urls "http://127.0.0.1:$((peer_port + i))" \
      --initial-cluster "$cluster" --initial-cluster-state new \
      --initial-cluster-token "lockstep-reference-$$-$client_port" \
      > "$dir/member-$i.log" 2>&1 &
    echo $! >> "$dir/pids"
  done
  local joined
  joined=$(IFS=,; echo "${client_urls[*]}")
  echo "$joined" | sed 's#http://##g' > "$dir/endpoints"
  local deadline=$((SECONDS + HEALTH_TIMEOUT_SECONDS))
  until ETCDCTL_API=3 etcdctl --endpoints "$joined" --dial-timeout 1s --command-timeout 2s \
      endpoint health > /dev/null 2>&1; do
    if (( SECONDS >= deadline )); then
      echo "etcd-reference.sh: cluster not healthy after ${HEALTH_TIMEOUT_SECONDS}s; logs in $dir" >&2
      tail -n 5 "$dir"/member-*.log >&2 || true
      local pid
      while read -r pid; do kill -KILL "$pid" 2> /dev/null || true; done < "$dir/pids"
      rm -f "$dir/pids"
      exit 1
    fi
    require_members_running "during startup"
    sleep 0.2
  done
  # A process already on one of the ports would have answered the health check in etcd's
  # place, while etcd itself exits for the port it could not bind.
  require_members_running "(port in use?)"
  endpoints
}

require_members_running() {  # require_members_running <why>: exit 1 if an etcd of $dir died
  local pid other
  while read -r pid; do
    if ! kill -0 "$pid" 2> /dev/null; then
      echo "etcd-reference.sh: etcd pid $pid exited $1; logs in $dir" >&2
      tail -n 5 "$dir"/member-*.log >&2 || true
      while read -r other; do kill -KILL "$other" 2> /dev/null || true; done < "$dir/pids"
      rm -f "$dir/pids"
      exit 1
    fi
  done < "$dir/pids"
}

case "$command" in
  start) start ;;
  stop) stop ;;
  endpoints) endpoints ;;
  *) echo "etcd-reference.sh: unknown command '$command'" >&2; usage ;;
esac
