#!/bin/sh
# The property suite's shrunk counterexample replays from the command line: with a planted
# bug switched on, the known-bugs property test saves the scenario file and seed it printed,
# and `lockstep sim hunt --bug NAME --scenario FILE --seeds N..N` must fail the same way on
# that seed (caught) and pass without the bug.
#   usage: counterexample_replay_test.sh KNOWN_BUGS_TESTS LOCKSTEP_HUNT
set -eu
tests_binary=$1
hunt_binary=$2
bug=lease-expiry-on-follower-clock
directory=$(mktemp -d)
trap 'rm -rf "$directory"' EXIT
LOCKSTEP_COUNTEREXAMPLE_DIR=$directory "$tests_binary" \
  --gtest_filter='KnownBugsCaught.property_catches_lease_expiry_on_follower_clock_and_replays' \
  >"$directory/property.log" 2>&1 || { cat "$directory/property.log"; exit 1; }
test -s "$directory/counterexample.json" || { echo "no counterexample saved"; exit 1; }
seed=$(cat "$directory/seed")
"$hunt_binary" sim hunt --bug "$bug" --scenario "$directory/counterexample.json" \
  --seeds "$seed..$seed" >"$directory/hunt.log" 2>&1 || { cat "$directory/hunt.log"; exit 1; }
cat "$directory/hunt.log"
grep -q "| $bug | yes | counterexample.json | 1 |" "$directory/hunt.log" || exit 1
grep -q "| pass |$" "$directory/hunt.log" || exit 1
