#pragma once

#include "checker/model.h"

namespace lockstep::checker {

// etcd's v3 key-value API as a sequential object, written from etcd's documented behaviour
// (not from its code, nor from lockstep's store): one global revision that starts at 1 on an
// empty store and grows by one per write transaction; per key, create_revision, mod_revision
// and version (the number of puts since creation; a delete removes the key). Checked:
// - put(k, v): response revision = the new revision.
// - delete(k[, end)): deletes the keys present in the range; the revision grows only when
//   something was deleted; `deleted` counts them.
// - get/range: header revision = the current revision; kvs (value, create, mod, version)
//   exactly the keys present in the range, in key order.
// - txn: compares as etcd applies them (a value compare on a missing key is false; version
//   and revision compares read 0 for a missing key); the branch taken runs atomically under
//   one new revision, later ops seeing earlier ones; `succeeded` and the inner responses
//   (kvs, value, deleted) are checked.
// Revisions form one total order over all keys, so a history in which some operation observes
// them (reports a revision or kvs, or compares a create or mod revision) is not split per key;
// otherwise the keys are independent objects and partition() splits the history into groups
// of keys that no operation spans (P-compositionality).
// Two more things the search relies on: the model keeps only what some operation of the
// partition observes (keys and values; versions if a txn compares one; revisions if anything
// reads them), since stores that differ only in the rest are indistinguishable and merging
// them keeps n pending timed-out writes from making n! states; and revisions never go back,
// so a store already past the revision a pending response reports can never explain it
// (may_still_take_effect).
// The store is assumed empty at revision History::initial_revision when the history begins.
class EtcdModel final : public Model {
 public:
  std::string_view name() const override { return "etcd"; }
  std::vector<Partition> partition(const History& history) const override;
  bool is_read_only(const Operation& operation) const override;
  Result<std::unique_ptr<ModelInstance>> instantiate(
      const History& history, std::span<const uint32_t> operations) const override;
};

}  // namespace lockstep::checker
