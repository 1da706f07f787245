#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/mvcc/key_range.h"

namespace lockstep::mvcc {

// The ranges of range watchers, for "which ranges contain this key?" in O(log n + matches)
// (etcd keeps range watchers in an interval tree for the same reason). A treap ordered by
// (range start, id), each node knowing the largest range end in its subtree; priorities
// come from a hash of the id, so the shape is deterministic.
class KeyRangeIndex {
 public:
  KeyRangeIndex();
  ~KeyRangeIndex();
  KeyRangeIndex(const KeyRangeIndex&) = delete;
  KeyRangeIndex& operator=(const KeyRangeIndex&) = delete;

  // `range` must be a real range (not a single key). An (range.key, id) pair is unique.
  void insert(const KeyRange& range, int64_t id);
  // Removes the entry inserted with the same range and id; returns whether it was there.
  bool erase(const KeyRange& range, int64_t id);

  // Calls `visit(id)` for every range containing `key`, in (range start, id) order.
  void for_each_containing(std::string_view key, const std::function<void(int64_t)>& visit) const;

  size_t size() const { return size_; }

 private:
  struct Node;
  using NodePtr = std::unique_ptr<Node>;

  static void update(Node& node);
  static void split(NodePtr tree, const std::string& start, int64_t id, NodePtr& less,
                    NodePtr& greater_or_equal);
  static NodePtr merge(NodePtr left, NodePtr right);
  static void visit(const Node* node, std::string_view key,
                    const std::function<void(int64_t)>& visit);

  NodePtr root_;
  size_t size_ = 0;
};

}  // namespace lockstep::mvcc
