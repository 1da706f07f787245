#include "core/mvcc/key_range_index.h"

#include <utility>
#include <vector>

#include "core/base/assert.h"
#include "core/base/random.h"

namespace lockstep::mvcc {
namespace {

// A range end; "\0" (etcd's "to the end of the key space") is larger than every key.
struct End {
  bool unbounded = false;
  std::string key;

  static End of(const KeyRange& range) {
    return range.is_unbounded() ? End{true, {}} : End{false, range.range_end};
  }
  // Does the end lie after `candidate` (so a range with this end can contain it)?
  bool after(std::string_view candidate) const { return unbounded || candidate < key; }
  bool operator<(const End& other) const {
    if (unbounded != other.unbounded) return other.unbounded;
    return !unbounded && key < other.key;
  }
};

bool before(const std::string& start, int64_t id, const std::string& other_start,
            int64_t other_id) {
  if (start != other_start) return start < other_start;
  return id < other_id;
}

}  // namespace

struct KeyRangeIndex::Node {
  std::string start;
  End end;
  int64_t id = 0;
  uint64_t priority = 0;
  End max_end;
  NodePtr left;
  NodePtr right;
};

KeyRangeIndex::KeyRangeIndex() = default;

KeyRangeIndex::~KeyRangeIndex() {
  // Tear down iteratively: a recursive destructor could be deep for an unlucky shape.
  std::vector<NodePtr> pending;
  if (root_) pending.push_back(std::move(root_));
  while (!pending.empty()) {
    NodePtr node = std::move(pending.back());
    pending.pop_back();
    if (node->left) pending.push_back(std::move(node->left));
    if (node->right) pending.push_back(std::move(node->right));
  }
}

void KeyRangeIndex::update(Node& node) {
  node.max_end = node.end;
  if (node.left && node.max_end < node.left->max_end) node.max_end = node.left->max_end;
  if (node.right && node.max_end < node.right->max_end) node.max_end = node.right->max_end;
}

void KeyRangeIndex::split(NodePtr tree, const std::string& start, int64_t id, NodePtr& less,
                          NodePtr& greater_or_equal) {
  if (!tree) {
    less.reset();
    greater_or_equal.reset();
    return;
  }
  if (before(tree->start, tree->id, start, id)) {
    NodePtr right = std::move(tree->right);
    split(std::move(right), start, id, tree->right, greater_or_equal);
    update(*tree);
    less = std::move(tree);
  } else {
    NodePtr left = std::move(tree->left);
    split(std::move(left), start, id, less, tree->left);
    update(*tree);
    greater_or_equal = std::move(tree);
  }
}

KeyRangeIndex::NodePtr KeyRangeIndex::merge(NodePtr left, NodePtr right) {
  if (!left) return right;
  if (!right) return left;
  if (left->priority > right->priority) {
    left->right = merge(std::move(left->right), std::move(right));
    update(*left);
    return left;
  }
  right->left = merge(std::move(left), std::move(right->left));
  update(*right);
  return right;
}

void KeyRangeIndex::insert(const KeyRange& range, int64_t id) {
  ASSERT(!range.is_single_key(), "single keys are indexed by exact match elsewhere");
  auto node = std::make_unique<Node>();
  node->start = range.key;
  node->end = End::of(range);
  node->id = id;
  uint64_t seed = static_cast<uint64_t>(id);
  node->priority = splitmix64(seed);
  update(*node);
  NodePtr less;
  NodePtr rest;
  split(std::move(root_), range.key, id, less, rest);
  root_ = merge(merge(std::move(less), std::move(node)), std::move(rest));
  ++size_;
}

bool KeyRangeIndex::erase(const KeyRange& range, int64_t id) {
  NodePtr less;
  NodePtr rest;
  split(std::move(root_), range.key, id, less, rest);
  NodePtr match;
  NodePtr greater;
  ASSERT(id < INT64_MAX, "ids leave room for a successor");
  split(std::move(rest), range.key, id + 1, match, greater);
  const bool found = match != nullptr;
  if (found) {
    ASSERT(!match->left && !match->right, "(start, id) pairs are unique");
    --size_;
  }
  root_ = merge(std::move(less), std::move(greater));
  return found;
}

void KeyRangeIndex::visit(const Node* node, std::string_view key,
                          const std::function<void(int64_t)>& visit_id) {
  // No range in this subtree reaches past `key`: nothing here can contain it.
  if (node == nullptr || !node->max_end.after(key)) return;
  visit(node->left.get(), key, visit_id);
  if (std::string_view(node->start) > key) return;  // this node and its right side start later
  if (node->end.after(key)) visit_id(node->id);
  visit(node->right.get(), key, visit_id);
}

void KeyRangeIndex::for_each_containing(std::string_view key,
                                        const std::function<void(int64_t)>& visit_id) const {
  visit(root_.get(), key, visit_id);
}

}  // namespace lockstep::mvcc
