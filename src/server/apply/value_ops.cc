#include "src/server/apply/value_ops.h"

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "src/server/json/json_util.h"

namespace kite::apply {
namespace {

using rapidjson::Value;
using Allocator = rapidjson::Document::AllocatorType;

std::string_view NameOf(const Value& name) { return {name.GetString(), name.GetStringLength()}; }

// Finds members by name: linearly in small objects, through a hash index in large ones, so
// that merging and comparing big maps (a ConfigMap's data) stays linear. With duplicate
// names the first member wins.
class MemberIndex {
 public:
  explicit MemberIndex(const Value* object) : object_(object) {
    if (object_ == nullptr || object_->MemberCount() <= kLinear) return;
    index_.reserve(object_->MemberCount());
    for (const auto& m : object_->GetObject()) index_.emplace(NameOf(m.name), &m.value);
  }
  const Value* Find(std::string_view name) const {
    if (object_ == nullptr) return nullptr;
    if (object_->MemberCount() <= kLinear) return json::Member(*object_, name);
    auto it = index_.find(name);
    return it == index_.end() ? nullptr : it->second;
  }
  // Whether `member` is the first one with its name (later duplicates are ignored).
  bool IsFirst(const Value& name, const Value& member) const { return Find(NameOf(name)) == &member; }

 private:
  static constexpr rapidjson::SizeType kLinear = 16;
  const Value* object_;
  std::unordered_map<std::string_view, const Value*> index_;
};

// The items of a keyed list by element: a sorted index over the list's elements (no copies).
// With equal elements the first one wins.
class ElementIndex {
 public:
  explicit ElementIndex(const std::vector<PathElement>& elements) : elements_(elements) {
    order_.reserve(elements.size());
    for (rapidjson::SizeType i = 0; i < elements.size(); ++i) order_.push_back(i);
    std::stable_sort(order_.begin(), order_.end(),
                     [&](rapidjson::SizeType a, rapidjson::SizeType b) { return elements_[a] < elements_[b]; });
  }
  std::optional<rapidjson::SizeType> Find(const PathElement& e) const {
    auto it = std::lower_bound(order_.begin(), order_.end(), e,
                               [&](rapidjson::SizeType i, const PathElement& x) { return elements_[i] < x; });
    if (it == order_.end() || !(elements_[*it] == e)) return std::nullopt;
    return *it;
  }
  bool Has(const PathElement& e) const { return Find(e).has_value(); }
  // Item indexes in element order.
  const std::vector<rapidjson::SizeType>& order() const { return order_; }

 private:
  const std::vector<PathElement>& elements_;
  std::vector<rapidjson::SizeType> order_;
};

// ---------------------------------------------------------------------------------------
// AppliedFieldSet

Status Collect(const Value& v, const Shape& shape, FieldSet::Builder& out) {
  const bool granular_list = shape.list != Shape::List::kAtomic;
  if (v.IsObject()) {
    if (granular_list) {
      return InvalidArgumentError(out.CurrentPath() + ": expected list, got map");
    }
    if (shape.atomic) {
      out.MarkMember();
      return Status::Ok();
    }
    for (const auto& m : v.GetObject()) {
      out.PushField(NameOf(m.name));
      KITE_RETURN_IF_ERROR(Collect(m.value, MemberShape(shape, NameOf(m.name)), out));
      bool empty_object = m.value.IsObject() && m.value.MemberCount() == 0;
      if (m.value.IsNull() || empty_object || shape.is_map) out.MarkMember();
      out.Pop();
    }
    return Status::Ok();
  }
  if (v.IsArray()) {
    if (shape.is_map) return InvalidArgumentError(out.CurrentPath() + ": expected map, got list");
    if (!granular_list) {
      out.MarkMember();
      return Status::Ok();
    }
    Result<std::vector<PathElement>> items = ItemElements(v, shape);
    if (!items.ok()) return InvalidArgumentError(out.CurrentPath() + ": " + items.status().message());
    const Shape item_shape = ItemShape(shape);
    for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
      out.Push((*items)[i]);
      KITE_RETURN_IF_ERROR(Collect(v[i], item_shape, out));
      out.MarkMember();
      out.Pop();
    }
    return Status::Ok();
  }
  if (!v.IsNull()) {
    if (granular_list) {
      return InvalidArgumentError(out.CurrentPath() + ": expected list, got " + JsonKindName(v));
    }
    if (shape.is_map) {
      return InvalidArgumentError(out.CurrentPath() + ": expected map, got " + JsonKindName(v));
    }
  }
  if (out.depth() > 0) out.MarkMember();
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------
// Merge

// Sets `out` to `rhs` merged into `lhs`; false when the result is absent (rhs is null).
bool MergeInto(const Value* lhs, const Value& rhs, const Shape& shape, Value& out, Allocator& a);

void MergeLists(const Value& lhs, const std::vector<PathElement>& lpes, const Value& rhs,
                const std::vector<PathElement>& rpes, const Shape& item_shape, Value& out,
                Allocator& a) {
  const ElementIndex lindex(lpes), rindex(rpes);
  // Shared items come out in the configuration's order; live-only items keep their place
  // relative to them; configuration-only items come where the configuration has them.
  std::vector<const PathElement*> shared;
  for (const PathElement& pe : rpes) {
    if (lindex.Has(pe)) shared.push_back(&pe);
  }
  size_t next_shared = 0;
  auto emit = [&](const PathElement& pe) {
    const std::optional<rapidjson::SizeType> l = lindex.Find(pe);
    const std::optional<rapidjson::SizeType> r = rindex.Find(pe);
    Value item;
    bool present;
    if (!r) {
      item.CopyFrom(lhs[*l], a);
      present = true;
    } else {
      present = MergeInto(l ? &lhs[*l] : nullptr, rhs[*r], item_shape, item, a);
    }
    if (present) out.PushBack(item, a);
    if (next_shared < shared.size() && *shared[next_shared] == pe) ++next_shared;
  };
  size_t li = 0, ri = 0;
  const size_t ln = lpes.size(), rn = rpes.size();
  while (li < ln || ri < rn) {
    const size_t before = li + ri;
    if (li < ln && ri < rn) {
      const PathElement& pe = lpes[li];
      if (pe == rpes[ri]) {
        emit(pe);
        ++li;
        ++ri;
        continue;
      }
      if (rindex.Has(pe) && next_shared < shared.size() && !(*shared[next_shared] == pe)) {
        ++li;  // a shared item the configuration puts later: emitted when it gets there
        continue;
      }
    }
    if (li < ln && !rindex.Has(lpes[li])) {
      emit(lpes[li]);
      ++li;
      continue;
    }
    if (ri < rn) {
      emit(rpes[ri]);
      ++ri;
    }
    if (li + ri == before) ++li;  // a shared item already emitted: skip it
  }
}

bool MergeInto(const Value* lhs, const Value& rhs, const Shape& shape, Value& out, Allocator& a) {
  if (rhs.IsNull()) return false;
  if (rhs.IsObject()) {
    // Members keep the live object's order; new ones follow in the configuration's order.
    const Value* base = (!shape.atomic && lhs != nullptr && lhs->IsObject()) ? lhs : nullptr;
    const MemberIndex live(base), config(&rhs);
    out.SetObject();
    auto add = [&](const Value& name, const Value* l, const Value* r) {
      Value merged;
      if (r == nullptr) {
        merged.CopyFrom(*l, a);
      } else if (!MergeInto(l, *r, MemberShape(shape, NameOf(name)), merged, a)) {
        return;  // set to null: removed
      }
      out.AddMember(Value(name, a), merged, a);
    };
    if (base != nullptr) {
      for (const auto& m : base->GetObject()) {
        if (live.IsFirst(m.name, m.value)) add(m.name, &m.value, config.Find(NameOf(m.name)));
      }
    }
    for (const auto& m : rhs.GetObject()) {
      if (config.IsFirst(m.name, m.value) && live.Find(NameOf(m.name)) == nullptr) {
        add(m.name, nullptr, &m.value);
      }
    }
    return true;
  }
  if (rhs.IsArray()) {
    out.SetArray();
    const Shape item_shape = ItemShape(shape);
    if (shape.list != Shape::List::kAtomic && lhs != nullptr && lhs->IsArray()) {
      Result<std::vector<PathElement>> lpes = ItemElements(*lhs, shape);
      Result<std::vector<PathElement>> rpes = ItemElements(rhs, shape);
      if (lpes.ok() && rpes.ok()) {
        MergeLists(*lhs, *lpes, rhs, *rpes, item_shape, out, a);
        return true;
      }
    }
    for (const Value& item : rhs.GetArray()) {
      Value merged;
      if (!MergeInto(nullptr, item, item_shape, merged, a)) merged.SetNull();
      out.PushBack(merged, a);
    }
    return true;
  }
  out.CopyFrom(rhs, a);
  return true;
}

// ---------------------------------------------------------------------------------------
// Compare

const Value& EmptyObject() {
  static const Value* const empty = new Value(rapidjson::kObjectType);
  return *empty;
}

const Value& EmptyArray() {
  static const Value* const empty = new Value(rapidjson::kArrayType);
  return *empty;
}

// The outputs of the comparison's builder.
enum Change : size_t { kAdded = 0, kModified = 1, kRemoved = 2 };

// Equal with members in the same order: what an unchanged part of an updated object is. No
// allocation and no schema lookups, so comparing it first is cheaper than walking it.
bool SameInOrder(const Value& a, const Value& b) {
  if (a.IsObject() && b.IsObject()) {
    if (a.MemberCount() != b.MemberCount()) return false;
    for (auto i = a.MemberBegin(), j = b.MemberBegin(); i != a.MemberEnd(); ++i, ++j) {
      if (NameOf(i->name) != NameOf(j->name) || !SameInOrder(i->value, j->value)) return false;
    }
    return true;
  }
  if (a.IsArray() && b.IsArray()) {
    if (a.Size() != b.Size()) return false;
    for (rapidjson::SizeType i = 0; i < a.Size(); ++i) {
      if (!SameInOrder(a[i], b[i])) return false;
    }
    return true;
  }
  return !a.IsObject() && !b.IsObject() && !a.IsArray() && !b.IsArray() && JsonEqual(a, b);
}

// `skip` is a member of lhs (at any depth) compared as if absent.
void CompareValues(const Value* lhs, const Value* rhs, const Shape& shape, const Value* skip,
                   FieldSet::Builder& c) {
  if (shape.always_present) {
    // Typed objects always carry this field: an absent struct is {} there, an absent list
    // null (present, so the list itself is neither added nor removed).
    auto stand_in = [](const Value* other) -> const Value* {
      if (other == nullptr) return nullptr;
      if (other->IsObject()) return &EmptyObject();
      return other->IsArray() ? &EmptyArray() : nullptr;
    };
    if (lhs == nullptr) lhs = stand_in(rhs);
    if (rhs == nullptr) rhs = stand_in(lhs);
  }
  if (lhs == nullptr && rhs == nullptr) return;
  // Nothing inside an identical part can have changed.
  if (lhs != nullptr && rhs != nullptr && SameInOrder(*lhs, *rhs)) return;

  auto leaf = [&] {
    if (c.depth() == 0) return;
    if (lhs == nullptr) {
      c.MarkMember(kAdded);
    } else if (rhs == nullptr) {
      c.MarkMember(kRemoved);
    } else if (!JsonEqual(*lhs, *rhs)) {
      c.MarkMember(kModified);
    }
  };
  auto post_item = [&] {
    if (c.depth() == 0) return;
    if (lhs == nullptr) c.MarkMember(kAdded);
    if (rhs == nullptr) c.MarkMember(kRemoved);
  };
  auto absent_or = [](const Value* v, bool (Value::*is)() const) { return v == nullptr || (v->*is)(); };

  if (!shape.atomic && absent_or(lhs, &Value::IsObject) && absent_or(rhs, &Value::IsObject)) {
    bool lempty = lhs == nullptr || lhs->MemberCount() == 0;
    bool rempty = rhs == nullptr || rhs->MemberCount() == 0;
    if (lempty && rempty) return leaf();
    const MemberIndex lindex(lhs), rindex(rhs);
    if (lhs != nullptr) {
      for (const auto& m : lhs->GetObject()) {
        if (&m.value == skip || !lindex.IsFirst(m.name, m.value)) continue;
        std::string_view name = NameOf(m.name);
        c.PushField(name);
        CompareValues(&m.value, rindex.Find(name), MemberShape(shape, name), skip, c);
        c.Pop();
      }
    }
    if (rhs != nullptr) {
      for (const auto& m : rhs->GetObject()) {
        std::string_view name = NameOf(m.name);
        const Value* in_lhs = lindex.Find(name);
        if (!rindex.IsFirst(m.name, m.value) || (in_lhs != nullptr && in_lhs != skip)) continue;
        c.PushField(name);
        CompareValues(nullptr, &m.value, MemberShape(shape, name), skip, c);
        c.Pop();
      }
    }
    return post_item();
  }

  if (shape.list != Shape::List::kAtomic && absent_or(lhs, &Value::IsArray) &&
      absent_or(rhs, &Value::IsArray)) {
    Result<std::vector<PathElement>> lpes =
        lhs != nullptr ? ItemElements(*lhs, shape) : std::vector<PathElement>{};
    Result<std::vector<PathElement>> rpes =
        rhs != nullptr ? ItemElements(*rhs, shape) : std::vector<PathElement>{};
    if (!lpes.ok() || !rpes.ok() || (lpes->empty() && rpes->empty())) return leaf();
    // Items matched by element: one walk over both lists in element order.
    const ElementIndex lindex(*lpes), rindex(*rpes);
    const std::vector<rapidjson::SizeType>& lorder = lindex.order();
    const std::vector<rapidjson::SizeType>& rorder = rindex.order();
    const Shape item_shape = ItemShape(shape);
    size_t i = 0, j = 0;
    while (i < lorder.size() || j < rorder.size()) {
      int order = i == lorder.size() ? 1 : j == rorder.size() ? -1 : (*lpes)[lorder[i]].Compare((*rpes)[rorder[j]]);
      if (order <= 0) {
        const PathElement& pe = (*lpes)[lorder[i]];
        c.Push(pe);
        CompareValues(&(*lhs)[lorder[i]], order == 0 ? &(*rhs)[rorder[j]] : nullptr, item_shape, skip, c);
        c.Pop();
        ++i;
        if (order == 0) ++j;
      } else {
        c.Push((*rpes)[rorder[j]]);
        CompareValues(nullptr, &(*rhs)[rorder[j]], item_shape, skip, c);
        c.Pop();
        ++j;
      }
    }
    return post_item();
  }
  leaf();
}

// ---------------------------------------------------------------------------------------
// RemovePaths

void RemoveIn(Value& v, const Shape& shape, const FieldSet::Node& node) {
  if (v.IsObject() && !shape.atomic) {
    for (auto it = v.MemberBegin(); it != v.MemberEnd();) {
      std::string_view name = NameOf(it->name);
      const FieldSet::Node* child = node.FindField(name);
      if (child != nullptr && child->member()) {
        it = v.EraseMember(it);
        continue;
      }
      if (child != nullptr && !child->children().empty()) RemoveIn(it->value, MemberShape(shape, name), *child);
      ++it;
    }
    return;
  }
  if (v.IsArray() && shape.list != Shape::List::kAtomic) {
    Result<std::vector<PathElement>> pes = ItemElements(v, shape);
    if (!pes.ok()) return;
    const Shape item_shape = ItemShape(shape);
    for (size_t i = pes->size(); i-- > 0;) {
      const FieldSet::Node* child = node.Find((*pes)[i]);
      if (child == nullptr) continue;
      if (child->member()) {
        v.Erase(v.Begin() + i);
      } else if (!child->children().empty()) {
        RemoveIn(v[static_cast<rapidjson::SizeType>(i)], item_shape, *child);
      }
    }
  }
}

// Copies `node`'s children into `out`, marking struct fields that have members below them.
void AddNamedParents(const FieldSet::Node& node, const Shape& shape, FieldSet::Builder& out) {
  for (const FieldSet::Node& child : node.children()) {
    const PathElement& pe = child.element();
    out.Push(pe);
    if (child.member()) out.MarkMember();
    if (!child.children().empty()) {
      if (pe.kind() == PathElement::Kind::kField) {
        if (!shape.is_map) out.MarkMember();
        AddNamedParents(child, MemberShape(shape, pe.field()), out);
      } else {
        AddNamedParents(child, ItemShape(shape), out);
      }
    }
    out.Pop();
  }
}

// `root` with a cache for one walk.
Shape Cached(const Shape& root, ShapeCache& cache) {
  Shape s = root;
  if (s.cache == nullptr) s.cache = &cache;
  return s;
}

}  // namespace

Result<FieldSet> AppliedFieldSet(const Value& config, const Shape& root) {
  ShapeCache cache;
  FieldSet::Builder out;
  KITE_RETURN_IF_ERROR(Collect(config, Cached(root, cache), out));
  return out.Finish();
}

Value Merge(const Value* live, const Value& config, const Shape& root, Allocator& allocator) {
  ShapeCache cache;
  Value out;
  if (!MergeInto(live, config, Cached(root, cache), out, allocator)) out.SetObject();
  return out;
}

Comparison Compare(const Value* lhs, const Value* rhs, const Shape& root, const Value* lhs_skipped) {
  ShapeCache cache;
  FieldSet::Builder builder(3);
  CompareValues(lhs, rhs, Cached(root, cache), lhs_skipped, builder);
  Comparison c;
  c.added = builder.Finish(kAdded);
  c.modified = builder.Finish(kModified);
  c.removed = builder.Finish(kRemoved);
  return c;
}

void RemovePaths(Value& object, const Shape& root, const FieldSet& paths) {
  if (paths.empty()) return;
  ShapeCache cache;
  RemoveIn(object, Cached(root, cache), paths.root());
}

FieldSet WithNamedFieldParents(const FieldSet& set, const Shape& root) {
  ShapeCache cache;
  FieldSet::Builder out;
  if (set.root().member()) out.MarkMember();
  AddNamedParents(set.root(), Cached(root, cache), out);
  return out.Finish();
}

bool JsonEqual(const Value& a, const Value& b) {
  if (a.IsNumber() && b.IsNumber()) {
    if (a.IsInt64() && b.IsInt64()) return a.GetInt64() == b.GetInt64();
    if (a.IsUint64() && b.IsUint64()) return a.GetUint64() == b.GetUint64();
    return a.GetDouble() == b.GetDouble();
  }
  if (a.GetType() != b.GetType()) {
    // rapidjson types true and false apart.
    return a.IsBool() && b.IsBool() && a.GetBool() == b.GetBool();
  }
  if (a.IsString()) return NameOf(a) == NameOf(b);
  if (a.IsArray()) {
    if (a.Size() != b.Size()) return false;
    for (rapidjson::SizeType i = 0; i < a.Size(); ++i) {
      if (!JsonEqual(a[i], b[i])) return false;
    }
    return true;
  }
  if (a.IsObject()) {
    if (a.MemberCount() != b.MemberCount()) return false;
    const MemberIndex index(&b);
    for (const auto& m : a.GetObject()) {
      const Value* o = index.Find(NameOf(m.name));
      if (o == nullptr || !JsonEqual(m.value, *o)) return false;
    }
    return true;
  }
  return true;  // null (and equal booleans, same type)
}

}  // namespace kite::apply
