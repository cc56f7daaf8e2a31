// FieldSet: a set of field paths of an object, as server-side apply records ownership in
// metadata.managedFields[].fieldsV1 (Kubernetes' structured-merge-diff "fieldpath.Set").
//
// A path is a sequence of path elements, each one of:
//   field  `f:<name>`    a field of an object, or a key of a map
//   key    `k:<json>`    an item of an associative list, named by its key fields: a JSON
//                        object of the key fields, names sorted (`k:{"name":"nginx"}`)
//   value  `v:<json>`    an item of a set (a list of primitives), by its value (`v:"x"`)
//   index  `i:<n>`       an item by position (read and written, never produced here)
// The set holds "member" paths. Encoded as fieldsV1 it is a tree of JSON objects keyed by
// the elements' strings; a member with nothing below it is `{}`, a member that also has
// members below it carries `".": {}` as its first key. Keys are in structured-merge-diff's
// order: fields (by name), then keys, then values, then indexes; values order numbers, then
// strings, then booleans, then lists, maps and null.
//
// Representation: a tree like fieldsV1 itself (a trie), one node per path element, each
// node's children sorted in the order above, a "member" flag per node. Every node but the
// root is a member or has a member below it, so a node's children are non-empty exactly
// when it has members below. The set operations are walks over two trees; fieldsV1 is read
// into and written from the tree directly.
//
// Thread-safety: plain values; no shared state (elements share their parsed key data
// immutably through reference counts, which copies on any thread may do concurrently).
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "src/base/status.h"
#include "src/server/apply/path_element.h"

namespace kite::apply {

struct FieldSetOps;  // the tree walks, in field_set.cc

class FieldSet {
 public:
  // A node of the tree, read-only for walks over a set (RemovePaths and the like): its
  // element (meaningless at the root, which stands for the empty path), whether its path is
  // a member, and its children in order.
  class Node {
   public:
    Node() = default;
    explicit Node(PathElement element) : element_(std::move(element)) {}

    const PathElement& element() const { return element_; }
    bool member() const { return member_; }
    const std::vector<Node>& children() const { return children_; }
    // The child for `element` (or the field `name`), or nullptr. Binary search.
    const Node* Find(const PathElement& element) const;
    const Node* FindField(std::string_view name) const;

   private:
    friend class FieldSet;
    friend struct FieldSetOps;
    PathElement element_;
    bool member_ = false;
    std::vector<Node> children_;
  };

  class Builder;  // below

  void Insert(const Path& path);
  void Erase(const Path& path);
  bool Has(const Path& path) const;
  // A member strictly below `path`.
  bool HasDescendant(const Path& path) const;
  // `path` is a member or has one below it.
  bool Touches(const Path& path) const { return Has(path) || HasDescendant(path); }
  bool empty() const { return !root_.member_ && root_.children_.empty(); }
  // The number of members (a walk over the tree).
  size_t size() const;

  FieldSet Union(const FieldSet& other) const;
  FieldSet Difference(const FieldSet& other) const;
  // In place: cheaper than the copies above (every write records its changes against each
  // manager's set). Where one side's node has far fewer children than the other's, its
  // children are looked up instead of both lists being walked.
  void InsertAll(const FieldSet& other);
  void EraseAll(const FieldSet& other);
  FieldSet Intersection(const FieldSet& other) const;
  // Without every member that has a member of `prefixes` as prefix (itself included).
  FieldSet RecursiveDifference(const FieldSet& prefixes) const;
  // Members with no member below them.
  FieldSet Leaves() const;
  // Keeps the members whose first element `keep` accepts (and the empty path).
  void RetainTopLevel(const std::function<bool(const PathElement&)>& keep);

  // Calls `fn` with each member in order (a path before the paths below it, siblings in the
  // element order).
  void ForEach(const std::function<void(const Path&)>& fn) const;
  // The members, in ForEach's order.
  std::vector<Path> Paths() const;
  const Node& root() const { return root_; }
  bool operator==(const FieldSet& other) const;

  // The fieldsV1 JSON object.
  rapidjson::Value ToFieldsV1(rapidjson::Document::AllocatorType& allocator) const;
  // Reads fieldsV1 (unknown element prefixes are skipped, as Kubernetes does). kInvalidArgument
  // for a value that is not a tree of objects, a malformed element or nesting deeper than
  // kMaxDepth.
  static Result<FieldSet> FromFieldsV1(const rapidjson::Value& fields);

  static constexpr int kMaxDepth = kMaxPathDepth;

 private:
  friend struct FieldSetOps;
  Node root_;
};

// Makes sets by a depth-first walk (as the value walks of value_ops.h do): Push descends
// by one element, Pop returns, MarkMember makes the current path a member of one of the
// `outputs` sets. Nodes are made only for paths at or above a member; siblings may come in
// any order and more than once (they are sorted and merged when the walk leaves their
// parent), so a walk costs about what it inserts, not a lookup per member.
// Elements and names passed to Push/PushField must stay valid until the matching Pop.
class FieldSet::Builder {
 public:
  explicit Builder(size_t outputs = 1);
  Builder(const Builder&) = delete;
  Builder& operator=(const Builder&) = delete;

  void Push(const PathElement& element);
  void PushField(std::string_view name);
  void Pop();
  size_t depth() const { return path_.size(); }
  void MarkMember(size_t output = 0);
  // PathString of the current path, for messages.
  std::string CurrentPath() const;
  // The set of `output`; call once per output, after every Push has been popped.
  FieldSet Finish(size_t output = 0);

 private:
  struct Step {
    const PathElement* element;  // nullptr: the field `field`
    std::string_view field;
  };
  struct Output {
    FieldSet set;
    std::vector<Node*> nodes;       // nodes[d]: the node of the path's first d elements
    std::vector<uint8_t> unsorted;  // per node: children came out of order or twice
  };
  std::vector<Step> path_;
  std::vector<Output> outputs_;
};

}  // namespace kite::apply
