#include "core/base/known_bugs.h"

#include <array>

namespace lockstep {
namespace {

struct KnownBugName {
  KnownBug bug;
  std::string_view name;
};

constexpr std::array<KnownBugName, kKnownBugCount> kKnownBugNames = {{
    {KnownBug::kVoteNotRecorded, "vote-not-recorded"},
    {KnownBug::kCommitEarlierTermByCounting, "commit-earlier-term"},
    {KnownBug::kReadWithoutReadIndex, "read-without-read-index"},
    {KnownBug::kAckBeforeFsync, "ack-before-fsync"},
    {KnownBug::kWatchDropAtCompaction, "watch-drop-at-compaction"},
    {KnownBug::kLeaseExpiryOnFollowerClock, "lease-expiry-on-follower-clock"},
    {KnownBug::kStaleLogNotTruncated, "stale-log-not-truncated"},
}};

#ifdef LOCKSTEP_KNOWN_BUGS
// See set_active_known_bug(): written only before a run starts.
std::optional<KnownBug> active_bug;
#endif

}  // namespace

std::string_view known_bug_name(KnownBug bug) {
  for (const KnownBugName& entry : kKnownBugNames) {
    if (entry.bug == bug) return entry.name;
  }
  return "unknown";
}

std::optional<KnownBug> parse_known_bug(std::string_view name) {
  for (const KnownBugName& entry : kKnownBugNames) {
    if (entry.name == name) return entry.bug;
  }
  return std::nullopt;
}

std::vector<KnownBug> all_known_bugs() {
  std::vector<KnownBug> bugs;
  for (const KnownBugName& entry : kKnownBugNames) bugs.push_back(entry.bug);
  return bugs;
}

#ifdef LOCKSTEP_KNOWN_BUGS
bool known_bug_active(KnownBug bug) {
  return active_bug == bug;
}
void set_active_known_bug(std::optional<KnownBug> bug) {
  active_bug = bug;
}
std::optional<KnownBug> active_known_bug() {
  return active_bug;
}
#endif

}  // namespace lockstep
