#!/usr/bin/env bash
# Checks the include rules of DESIGN.md: dependencies point downward only, core/raft and
# core/mvcc are pure state machines, and checker/ keeps a model independent of the store.
set -u
root=${1:?usage: layering_test.sh SOURCE_DIR}
cd "$root" || exit 2
failures=0
# Library code only: a folder's *_test.cc files may use higher layers as test fixtures (for
# example store/'s crash tests run on sim/'s simulated disk), since no library links them.
forbid() {  # forbid <folders> <pattern> <rule>
  local hits
  hits=$(grep -rn -E "$2" $1 --include='*.h' --include='*.cc' --exclude='*_test.cc' 2>/dev/null)
  if [ -n "$hits" ]; then
    echo "layering violation ($3):"
    echo "$hits"
    failures=$((failures + 1))
  fi
}
forbid "core" '#include *"(sim|server|cli|reports|checker|store)/' "core/ includes a higher layer"
forbid "core/raft core/mvcc" '#include *"core/(env|node)/' "core/raft and core/mvcc are pure state machines"
forbid "core/base" '#include *"core/(env|raft|mvcc|node)/' "core/base is the bottom layer"
forbid "core/env" '#include *"core/(raft|mvcc|node)/' "core/env holds interfaces only"
forbid "checker" '#include *"(store|core/mvcc|core/node|core/raft|sim|server)/' "checker/ keeps its own model"
forbid "store" '#include *"(sim|server|cli|reports|checker)/' "store/ sits below sim, server and checker"
forbid "sim" '#include *"(server|cli|reports)/' "sim/ does not use the real runtime or the cli"
forbid "server" '#include *"(sim|cli|reports)/' "server/ does not use the simulated world"
forbid "core sim store checker" 'std::rand\(|srand\(|std::random_device|system_clock::now|steady_clock::now|std::thread' "nondeterminism reachable from simulated code"
exit $((failures > 0))
