#include "src/server/apply/field_set.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "src/server/json/json_util.h"

namespace kite::apply {
namespace {

using Node = FieldSet::Node;

// A node with no member at or below it, which the tree does not keep (except the root).
template <class N>
bool Hollow(const N& n) {
  return !n.member() && n.children().empty();
}

}  // namespace

const FieldSet::Node* FieldSet::Node::Find(const PathElement& element) const {
  auto it = std::lower_bound(children_.begin(), children_.end(), element,
                             [](const Node& n, const PathElement& e) { return n.element_.Compare(e) < 0; });
  return it != children_.end() && it->element_.Compare(element) == 0 ? &*it : nullptr;
}

const FieldSet::Node* FieldSet::Node::FindField(std::string_view name) const {
  auto it = std::lower_bound(children_.begin(), children_.end(), name,
                             [](const Node& n, std::string_view f) { return n.element_.CompareField(f) < 0; });
  return it != children_.end() && it->element_.CompareField(name) == 0 ? &*it : nullptr;
}

namespace {

// Lists are "far apart" in size when a lookup per item of the short one beats a walk over
// both.
bool FarApart(size_t small, size_t large) { return small * 8 < large; }

// Calls on_match(i, j) for each pair a[i] == b[j], in increasing order of both.
template <class F>
void ForEachMatch(const std::vector<Node>& a, const std::vector<Node>& b, F&& on_match) {
  if (a.empty() || b.empty()) return;
  auto less = [](const Node& n, const PathElement& e) { return n.element().Compare(e) < 0; };
  if (FarApart(a.size(), b.size())) {
    auto from = b.begin();
    for (size_t i = 0; i < a.size(); ++i) {
      from = std::lower_bound(from, b.end(), a[i].element(), less);
      if (from == b.end()) return;
      if (from->element().Compare(a[i].element()) == 0) on_match(i, static_cast<size_t>(from - b.begin()));
    }
    return;
  }
  if (FarApart(b.size(), a.size())) {
    auto from = a.begin();
    for (size_t j = 0; j < b.size(); ++j) {
      from = std::lower_bound(from, a.end(), b[j].element(), less);
      if (from == a.end()) return;
      if (from->element().Compare(b[j].element()) == 0) on_match(static_cast<size_t>(from - a.begin()), j);
    }
    return;
  }
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    int c = a[i].element().Compare(b[j].element());
    if (c < 0) {
      ++i;
    } else if (c > 0) {
      ++j;
    } else {
      on_match(i++, j++);
    }
  }
}

}  // namespace

// The node walks are static members so that they may touch the nodes' fields. Recursion
// depth is bounded by the paths' lengths (fieldsV1 and objects are depth-checked).
struct FieldSetOps {
  static Node& Root(FieldSet& s) { return s.root_; }
  static std::vector<Node>& Children(Node& n) { return n.children_; }
  static void SetMember(Node& n) { n.member_ = true; }

  // The child of `n` for `element` (made if missing). Appending is the common case: fieldsV1
  // and sets being copied come in order.
  template <class E>
  static Node& Child(Node& n, E&& element) {
    std::vector<Node>& c = n.children_;
    if (c.empty() || c.back().element_.Compare(element) < 0) return c.emplace_back(std::forward<E>(element));
    auto it = std::lower_bound(c.begin(), c.end(), element,
                               [](const Node& x, const PathElement& e) { return x.element_.Compare(e) < 0; });
    if (it->element_.Compare(element) == 0) return *it;
    return *c.emplace(it, std::forward<E>(element));
  }

  // dst ∪= src.
  static void Merge(Node& dst, const Node& src) {
    dst.member_ = dst.member_ || src.member_;
    MergeChildren(dst.children_, src.children_);
  }

  static void MergeChildren(std::vector<Node>& dst, const std::vector<Node>& src) {
    if (src.empty()) return;
    if (dst.empty()) {
      dst = src;
      return;
    }
    auto less = [](const Node& x, const PathElement& e) { return x.element_.Compare(e) < 0; };
    if (FarApart(src.size(), dst.size())) {
      for (const Node& s : src) {
        auto it = std::lower_bound(dst.begin(), dst.end(), s.element_, less);
        if (it != dst.end() && it->element_.Compare(s.element_) == 0) {
          Merge(*it, s);
        } else {
          dst.insert(it, s);
        }
      }
      return;
    }
    size_t missing = 0;
    size_t i = 0, j = 0;
    while (j < src.size()) {
      if (i == dst.size()) {
        missing += src.size() - j;
        break;
      }
      int c = dst[i].element_.Compare(src[j].element_);
      if (c < 0) {
        ++i;
      } else if (c > 0) {
        ++missing;
        ++j;
      } else {
        Merge(dst[i++], src[j++]);
      }
    }
    if (missing == 0) return;
    std::vector<Node> out;
    out.reserve(dst.size() + missing);
    i = j = 0;
    while (i < dst.size() || j < src.size()) {
      if (j == src.size()) {
        out.push_back(std::move(dst[i++]));
        continue;
      }
      if (i == dst.size()) {
        out.push_back(src[j++]);
        continue;
      }
      int c = dst[i].element_.Compare(src[j].element_);
      if (c < 0) {
        out.push_back(std::move(dst[i++]));
      } else if (c > 0) {
        out.push_back(src[j++]);
      } else {
        out.push_back(std::move(dst[i++]));  // merged above
        ++j;
      }
    }
    dst = std::move(out);
  }

  // Removes from `children` the nodes at `indexes` (increasing) that have become hollow.
  static void DropHollow(std::vector<Node>& children, const std::vector<size_t>& indexes) {
    if (indexes.empty()) return;
    if (indexes.size() == 1) {
      children.erase(children.begin() + static_cast<std::ptrdiff_t>(indexes[0]));
      return;
    }
    std::erase_if(children, [](const Node& n) { return Hollow(n); });
  }

  // dst −= src (members only; nodes left hollow are removed).
  static void Subtract(Node& dst, const Node& src) {
    if (src.member_) dst.member_ = false;
    std::vector<size_t> hollow;
    ForEachMatch(dst.children_, src.children_, [&](size_t i, size_t j) {
      Subtract(dst.children_[i], src.children_[j]);
      if (Hollow(dst.children_[i])) hollow.push_back(i);
    });
    DropHollow(dst.children_, hollow);
  }

  static void Intersect(const Node& a, const Node& b, Node& out) {
    out.member_ = a.member_ && b.member_;
    ForEachMatch(a.children_, b.children_, [&](size_t i, size_t j) {
      Node child(a.children_[i].element_);
      Intersect(a.children_[i], b.children_[j], child);
      if (!Hollow(child)) out.children_.push_back(std::move(child));
    });
  }

  // Drops from `dst` every subtree whose path is a member of the prefix tree `p` (whose own
  // node is not a member).
  static void DropPrefixed(Node& dst, const Node& p) {
    std::vector<size_t> hollow;
    ForEachMatch(dst.children_, p.children_, [&](size_t i, size_t j) {
      Node& d = dst.children_[i];
      if (p.children_[j].member_) {
        d.member_ = false;
        d.children_.clear();
      } else {
        DropPrefixed(d, p.children_[j]);
      }
      if (Hollow(d)) hollow.push_back(i);
    });
    DropHollow(dst.children_, hollow);
  }

  static void CollectLeaves(const Node& n, Node& out) {
    for (const Node& c : n.children_) {
      if (c.children_.empty()) {
        out.children_.push_back(c);  // a member (nodes are never hollow)
        continue;
      }
      Node copy(c.element_);
      CollectLeaves(c, copy);
      out.children_.push_back(std::move(copy));
    }
  }

  static bool Equal(const Node& a, const Node& b) {
    if (a.member_ != b.member_ || a.children_.size() != b.children_.size()) return false;
    for (size_t i = 0; i < a.children_.size(); ++i) {
      if (a.children_[i].element_.Compare(b.children_[i].element_) != 0) return false;
      if (!Equal(a.children_[i], b.children_[i])) return false;
    }
    return true;
  }

  static size_t Count(const Node& n) {
    size_t count = n.member_ ? 1 : 0;
    for (const Node& c : n.children_) count += Count(c);
    return count;
  }

  static void Walk(const Node& n, Path& path, const std::function<void(const Path&)>& fn) {
    for (const Node& c : n.children_) {
      path.push_back(c.element_);
      if (c.member_) fn(path);
      Walk(c, path, fn);
      path.pop_back();
    }
  }

  // Sorts the children a builder appended and merges equal ones (the earlier one's element
  // stays).
  static void SortChildren(Node& n) {
    std::vector<Node>& c = n.children_;
    std::stable_sort(c.begin(), c.end(), [](const Node& x, const Node& y) { return x.element_.Compare(y.element_) < 0; });
    size_t out = 0;
    for (size_t i = 0; i < c.size(); ++i) {
      if (out > 0 && c[out - 1].element_.Compare(c[i].element_) == 0) {
        Merge(c[out - 1], c[i]);
        continue;
      }
      if (out != i) c[out] = std::move(c[i]);
      ++out;
    }
    c.erase(c.begin() + static_cast<std::ptrdiff_t>(out), c.end());
  }

  static void Emit(const Node& n, rapidjson::Value& object, rapidjson::Document::AllocatorType& a,
                   std::string& key) {
    for (const Node& c : n.children_) {
      rapidjson::Value child(rapidjson::kObjectType);
      if (!c.children_.empty()) {
        if (c.member_) child.AddMember(".", rapidjson::Value(rapidjson::kObjectType), a);
        Emit(c, child, a, key);
      }
      key.clear();
      c.element_.AppendSerialized(key);
      object.AddMember(rapidjson::Value(key.data(), static_cast<rapidjson::SizeType>(key.size()), a), child, a);
    }
  }

  // Reads the tree below `node` (at path `path`); returns whether it named any child (a node
  // that names none is a member, as structured-merge-diff reads it).
  static Result<bool> Read(const rapidjson::Value& object, Node& node, std::vector<const PathElement*>& path) {
    if (!object.IsObject()) {
      std::string where;
      for (const PathElement* e : path) where += e->ToString();
      return InvalidArgumentError("fieldsV1: expected an object at \"" + where + "\"");
    }
    if (path.size() > static_cast<size_t>(FieldSet::kMaxDepth)) {
      return InvalidArgumentError("fieldsV1: nested too deeply");
    }
    bool has_children = false;
    node.children_.reserve(node.children_.size() + object.MemberCount());
    for (const auto& m : object.GetObject()) {
      std::string_view key(m.name.GetString(), m.name.GetStringLength());
      if (key == ".") {
        if (!path.empty()) node.member_ = true;
        continue;
      }
      Result<PathElement> pe = PathElement::Parse(key);
      if (!pe.ok()) {
        if (pe.status().code() == StatusCode::kNotFound) continue;  // a future element type
        return InvalidArgumentError("fieldsV1: " + pe.status().message());
      }
      has_children = true;
      Node& child = Child(node, std::move(pe).value());
      path.push_back(&child.element_);
      Result<bool> below = Read(m.value, child, path);
      if (!below.ok()) return below.status();
      if (!*below) child.member_ = true;
      path.pop_back();
    }
    return has_children;
  }
};

void FieldSet::Insert(const Path& path) {
  Node* n = &root_;
  for (const PathElement& e : path) n = &FieldSetOps::Child(*n, e);
  n->member_ = true;
}

void FieldSet::Erase(const Path& path) {
  std::vector<Node*> chain{&root_};
  for (const PathElement& e : path) {
    std::vector<Node>& c = chain.back()->children_;
    auto it = std::lower_bound(c.begin(), c.end(), e,
                               [](const Node& x, const PathElement& y) { return x.element_.Compare(y) < 0; });
    if (it == c.end() || it->element_.Compare(e) != 0) return;
    chain.push_back(&*it);
  }
  chain.back()->member_ = false;
  // Nodes left without members go, up to the first one that still has some.
  for (size_t i = chain.size() - 1; i > 0 && Hollow(*chain[i]); --i) {
    std::vector<Node>& siblings = chain[i - 1]->children_;
    siblings.erase(siblings.begin() + (chain[i] - siblings.data()));
  }
}

bool FieldSet::Has(const Path& path) const {
  const Node* n = &root_;
  for (const PathElement& e : path) {
    n = n->Find(e);
    if (n == nullptr) return false;
  }
  return n->member_;
}

bool FieldSet::HasDescendant(const Path& path) const {
  const Node* n = &root_;
  for (const PathElement& e : path) {
    n = n->Find(e);
    if (n == nullptr) return false;
  }
  return !n->children_.empty();  // every node below is a member or has one below it
}

size_t FieldSet::size() const { return FieldSetOps::Count(root_); }

FieldSet FieldSet::Union(const FieldSet& other) const {
  FieldSet out = *this;
  out.InsertAll(other);
  return out;
}

FieldSet FieldSet::Difference(const FieldSet& other) const {
  FieldSet out = *this;
  out.EraseAll(other);
  return out;
}

void FieldSet::InsertAll(const FieldSet& other) { FieldSetOps::Merge(root_, other.root_); }

void FieldSet::EraseAll(const FieldSet& other) {
  if (empty() || other.empty()) return;
  FieldSetOps::Subtract(root_, other.root_);
}

FieldSet FieldSet::Intersection(const FieldSet& other) const {
  FieldSet out;
  FieldSetOps::Intersect(root_, other.root_, out.root_);
  return out;
}

FieldSet FieldSet::RecursiveDifference(const FieldSet& prefixes) const {
  if (prefixes.root_.member_) return {};  // the empty path is everyone's prefix
  FieldSet out = *this;
  FieldSetOps::DropPrefixed(out.root_, prefixes.root_);
  return out;
}

FieldSet FieldSet::Leaves() const {
  FieldSet out;
  out.root_.member_ = root_.member_ && root_.children_.empty();
  FieldSetOps::CollectLeaves(root_, out.root_);
  return out;
}

void FieldSet::RetainTopLevel(const std::function<bool(const PathElement&)>& keep) {
  std::erase_if(root_.children_, [&](const Node& n) { return !keep(n.element_); });
}

void FieldSet::ForEach(const std::function<void(const Path&)>& fn) const {
  Path path;
  if (root_.member_) fn(path);
  FieldSetOps::Walk(root_, path, fn);
}

std::vector<Path> FieldSet::Paths() const {
  std::vector<Path> out;
  ForEach([&](const Path& p) { out.push_back(p); });
  return out;
}

bool FieldSet::operator==(const FieldSet& other) const { return FieldSetOps::Equal(root_, other.root_); }

rapidjson::Value FieldSet::ToFieldsV1(rapidjson::Document::AllocatorType& allocator) const {
  rapidjson::Value out(rapidjson::kObjectType);
  std::string key;
  FieldSetOps::Emit(root_, out, allocator, key);  // the empty path has no fieldsV1 form
  return out;
}

Result<FieldSet> FieldSet::FromFieldsV1(const rapidjson::Value& fields) {
  FieldSet out;
  std::vector<const PathElement*> path;
  Result<bool> read = FieldSetOps::Read(fields, out.root_, path);
  if (!read.ok()) return read.status();
  return out;
}

// ---------------------------------------------------------------------------------------
// FieldSet::Builder

FieldSet::Builder::Builder(size_t outputs) : outputs_(outputs) {
  for (Output& o : outputs_) {
    o.nodes.push_back(&FieldSetOps::Root(o.set));
    o.unsorted.push_back(0);
  }
}

void FieldSet::Builder::Push(const PathElement& element) { path_.push_back({&element, {}}); }

void FieldSet::Builder::PushField(std::string_view name) { path_.push_back({nullptr, name}); }

void FieldSet::Builder::Pop() {
  const size_t d = path_.size();
  for (Output& o : outputs_) {
    if (o.nodes.size() <= d) continue;
    if (o.unsorted.back()) FieldSetOps::SortChildren(*o.nodes.back());
    o.nodes.pop_back();
    o.unsorted.pop_back();
  }
  path_.pop_back();
}

void FieldSet::Builder::MarkMember(size_t output) {
  Output& o = outputs_[output];
  while (o.nodes.size() <= path_.size()) {
    std::vector<Node>& siblings = FieldSetOps::Children(*o.nodes.back());
    const Step& step = path_[o.nodes.size() - 1];
    if (!siblings.empty()) {
      const PathElement& last = siblings.back().element();
      int c = step.element != nullptr ? last.Compare(*step.element) : last.CompareField(step.field);
      if (c >= 0) o.unsorted.back() = 1;
    }
    Node& n = step.element != nullptr ? siblings.emplace_back(*step.element)
                                       : siblings.emplace_back(PathElement::Field(step.field));
    o.nodes.push_back(&n);
    o.unsorted.push_back(0);
  }
  FieldSetOps::SetMember(*o.nodes.back());
}

std::string FieldSet::Builder::CurrentPath() const {
  std::string out;
  for (const Step& s : path_) {
    if (s.element != nullptr) {
      out += s.element->ToString();
    } else {
      out += ".";
      out += s.field;
    }
  }
  return out;
}

FieldSet FieldSet::Builder::Finish(size_t output) {
  Output& o = outputs_[output];
  if (o.unsorted.front()) FieldSetOps::SortChildren(FieldSetOps::Root(o.set));
  o.unsorted.front() = 0;
  return std::move(o.set);
}

}  // namespace kite::apply
