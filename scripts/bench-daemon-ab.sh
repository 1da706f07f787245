#!/usr/bin/env bash
# Two lockstep daemon binaries (before/after a change) and etcd 3.4 side by side, every client
# on its cluster's leader: the three clusters (1 or 3 members each) run at once and take turns
# per workload (etcd, old, new; then etcd, new, old), so that a loaded machine weighs on each
# pair alike. One JSON line per run into OUT (ops/s, p50/p99 ms, failures, server CPU ticks of
# all members from /proc); --table prints medians and every pair's new/old ratio.
#
#   scripts/bench-daemon-ab.sh OLD_BINARY NEW_BINARY MEMBERS ROUNDS OUT.jsonl "NAME|ARGS|TOTAL"...
#   scripts/bench-daemon-ab.sh --table OUT.jsonl...
#
# Example (docs/benchmarks/daemon.md, batched ReadIndex rounds):
#   scripts/bench-daemon-ab.sh /tmp/lockstep-before build/cli/lockstep 3 4 /tmp/ab3.jsonl \
#     "keepalive@100|lease-keepalive --conns 10 --clients 100|10000" \
#     "range-l@100|range --conns 10 --clients 100 --consistency l|10000"
# Ports: etcd 33790+/33890+, old 34790+/34890+, new 35790+/35890+ (client/peer).
set -euo pipefail
if [[ "${1:-}" == --table ]]; then
  shift
  python3 - "$@" << 'PYEOF'
import json,sys,statistics as st
rows=[json.loads(l) for f in sys.argv[1:] for l in open(f) if l.strip()]
keys=[]
for r in rows:
    k=(r["members"],r["workload"])
    if k not in keys: keys.append(k)
print("| members | workload | etcd ops/s | old ops/s | new ops/s | new/old (median of pairs) | new/etcd | p50 ms etcd/old/new | p99 ms etcd/old/new | CPU s/10k etcd/old/new | load |")
print("|---|---|---:|---:|---:|---|---:|---:|---:|---:|---:|")
for k in keys:
    by={}
    for r in rows:
        if (r["members"],r["workload"])==k: by.setdefault(r["round"],{})[r["server"]]=r
    rounds=[v for v in by.values() if len(v)==3]
    med=lambda s,f: st.median([v[s][f] for v in rounds])
    cpu=lambda s: st.median([v[s]["cpu_ticks"]/100*10000/v[s]["total"] for v in rounds])
    pair=[v["new"]["ops_per_s"]/v["old"]["ops_per_s"] for v in rounds]
    ne=[v["new"]["ops_per_s"]/v["etcd"]["ops_per_s"] for v in rounds]
    loads=[v[s]["load"] for v in rounds for s in v]
    print(f"| {k[0]} | {k[1]} | {med('etcd','ops_per_s'):.0f} | {med('old','ops_per_s'):.0f} | {med('new','ops_per_s'):.0f} | **{st.median(pair):.2f}x** ({', '.join(f'{x:.2f}' for x in pair)}) | {st.median(ne):.2f}x | {med('etcd','p50'):.3f}/{med('old','p50'):.3f}/{med('new','p50'):.3f} | {med('etcd','p99'):.2f}/{med('old','p99'):.2f}/{med('new','p99'):.2f} | {cpu('etcd'):.2f}/{cpu('old'):.2f}/{cpu('new'):.2f} | {min(loads):.1f}-{max(loads):.1f} |")
PYEOF
  exit 0
fi
old=$1 new=$2 members=$3 rounds=$4 out=$5; shift 5
workloads=("$@")
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/lockstep-ab-XXXXXX)
cleanup() {
  [[ -f "$work/ls.pids" ]] && for p in $(cat "$work/ls.pids"); do kill -TERM "$p" 2>/dev/null || true; done
  sleep 1
  "$here/etcd-reference.sh" stop --dir "$work/etcd" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
start_ls() { # bin cport pport name -> endpoints
  local bin=$1 cp=$2 pp=$3 name=$4 i cluster="" eps=""
  for ((i=0;i<members;i++)); do
    cluster+="${cluster:+,}m$i=http://127.0.0.1:$((pp+i))"; eps+="${eps:+,}127.0.0.1:$((cp+i))"
  done
  for ((i=0;i<members;i++)); do
    "$bin" serve --name m$i --data-dir "$work/$name/m$i" --listen-client-urls http://127.0.0.1:$((cp+i)) \
      --advertise-client-urls http://127.0.0.1:$((cp+i)) --listen-peer-urls http://127.0.0.1:$((pp+i)) \
      --initial-advertise-peer-urls http://127.0.0.1:$((pp+i)) --initial-cluster "$cluster" \
      --initial-cluster-token rb-$name-$$ --heartbeat-interval 100 --election-timeout 1000 \
      --snapshot-count 100000 > "$work/$name-m$i.log" 2>&1 &
    echo $! >> "$work/ls.pids"; echo $! >> "$work/$name.pids"
  done
  until ETCDCTL_API=3 etcdctl --endpoints "$eps" --dial-timeout 1s --command-timeout 2s put ready 1 >/dev/null 2>&1; do sleep 0.2; done
  echo "$eps"
}
leader_of() { # endpoints -> leader endpoint
  ETCDCTL_API=3 etcdctl --endpoints "$1" endpoint status -w json | python3 -c '
import json,sys
s=json.load(sys.stdin)
print([e["Endpoint"] for e in s if e["Status"]["leader"]==e["Status"]["header"]["member_id"]][0])'
}
cpu() { # server -> CPU ticks of all its members
  local pidfile t=0 p
  case $1 in etcd) pidfile="$work/etcd/pids";; old) pidfile="$work/old.pids";; new) pidfile="$work/new.pids";; esac
  for p in $(cat "$pidfile"); do t=$((t + $(awk '{print $14 + $15}' /proc/$p/stat))); done
  echo $t
}
etcd_eps=$("$here/etcd-reference.sh" start --dir "$work/etcd" --members "$members" --client-port 33790 --peer-port 33890)
old_eps=$(start_ls "$old" 34790 34890 old)
new_eps=$(start_ls "$new" 35790 35890 new)
sleep 1
declare -A leader
leader[etcd]=$(leader_of "$etcd_eps"); leader[old]=$(leader_of "$old_eps"); leader[new]=$(leader_of "$new_eps")
echo "leaders: ${leader[etcd]} ${leader[old]} ${leader[new]}" >&2
for ((r=1;r<=rounds;r++)); do
  for w in "${workloads[@]}"; do
    IFS='|' read -r name args total <<< "$w"
    order=(etcd old new); ((r % 2 == 0)) && order=(etcd new old)
    for s in "${order[@]}"; do
      load=$(cut -d' ' -f1 /proc/loadavg)
      cpu0=$(cpu "$s"); line=$("$old" bench etcd $args --key-size 8 --val-size 256 --total "$total" --endpoints "${leader[$s]}" 2>/dev/null | tail -n 1 || true)
      echo "$line" | jq -c --arg s "$s" --arg w "$name" --argjson m "$members" --argjson r "$r" --argjson load "$load" \
        --argjson cpu "$(( $(cpu "$s") - cpu0 ))" '{server:$s, workload:$w, members:$m, round:$r, load:$load, ops_per_s, p50:.latency_ms.p50, p99:.latency_ms.p99, failed, cpu_ticks:$cpu, total}' >> "$out"
      tail -n1 "$out" >&2
    done
  done
done
