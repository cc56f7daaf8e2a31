#include "src/server/apply/value_ops.h"

#include <map>
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

// ---------------------------------------------------------------------------------------
// AppliedFieldSet

Status Collect(const Value& v, const Shape& shape, Path& path, FieldSet& out) {
  const bool granular_list = shape.list != Shape::List::kAtomic;
  if (v.IsObject()) {
    if (granular_list) {
      return InvalidArgumentError(PathString(path) + ": expected list, got map");
    }
    if (shape.atomic) {
      out.Insert(path);
      return Status::Ok();
    }
    for (const auto& m : v.GetObject()) {
      path.push_back(PathElement::Field(NameOf(m.name)));
      KITE_RETURN_IF_ERROR(Collect(m.value, MemberShape(shape, NameOf(m.name)), path, out));
      bool empty_object = m.value.IsObject() && m.value.MemberCount() == 0;
      if (m.value.IsNull() || empty_object || shape.is_map) out.Insert(path);
      path.pop_back();
    }
    return Status::Ok();
  }
  if (v.IsArray()) {
    if (shape.is_map) return InvalidArgumentError(PathString(path) + ": expected map, got list");
    if (!granular_list) {
      out.Insert(path);
      return Status::Ok();
    }
    Result<std::vector<PathElement>> items = ItemElements(v, shape, path);
    if (!items.ok()) return items.status();
    const Shape item_shape = ItemShape(shape);
    for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
      path.push_back((*items)[i]);
      KITE_RETURN_IF_ERROR(Collect(v[i], item_shape, path, out));
      out.Insert(path);
      path.pop_back();
    }
    return Status::Ok();
  }
  if (!v.IsNull()) {
    if (granular_list) {
      return InvalidArgumentError(PathString(path) + ": expected list, got " + JsonKindName(v));
    }
    if (shape.is_map) {
      return InvalidArgumentError(PathString(path) + ": expected map, got " + JsonKindName(v));
    }
  }
  if (!path.empty()) out.Insert(path);
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------
// Merge

// Sets `out` to `rhs` merged into `lhs`; false when the result is absent (rhs is null).
bool MergeInto(const Value* lhs, const Value& rhs, const Shape& shape, Value& out, Allocator& a);

void MergeLists(const Value& lhs, const std::vector<PathElement>& lpes, const Value& rhs,
                const std::vector<PathElement>& rpes, const Shape& item_shape, Value& out,
                Allocator& a) {
  std::map<PathElement, rapidjson::SizeType> lindex, rindex;
  for (rapidjson::SizeType i = 0; i < lpes.size(); ++i) lindex.emplace(lpes[i], i);
  for (rapidjson::SizeType i = 0; i < rpes.size(); ++i) rindex.emplace(rpes[i], i);
  // Shared items come out in the configuration's order; live-only items keep their place
  // relative to them; configuration-only items come where the configuration has them.
  std::vector<const PathElement*> shared;
  for (const PathElement& pe : rpes) {
    if (lindex.count(pe)) shared.push_back(&pe);
  }
  size_t next_shared = 0;
  auto emit = [&](const PathElement& pe) {
    auto l = lindex.find(pe);
    auto r = rindex.find(pe);
    Value item;
    bool present;
    if (r == rindex.end()) {
      item.CopyFrom(lhs[l->second], a);
      present = true;
    } else {
      present = MergeInto(l == lindex.end() ? nullptr : &lhs[l->second], rhs[r->second], item_shape,
                          item, a);
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
      if (rindex.count(pe) && next_shared < shared.size() && !(*shared[next_shared] == pe)) {
        ++li;  // a shared item the configuration puts later: emitted when it gets there
        continue;
      }
    }
    if (li < ln && !rindex.count(lpes[li])) {
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
      Result<std::vector<PathElement>> lpes = ItemElements(*lhs, shape, {});
      Result<std::vector<PathElement>> rpes = ItemElements(rhs, shape, {});
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

void CompareValues(const Value* lhs, const Value* rhs, const Shape& shape, Path& path,
                   Comparison& c) {
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

  auto leaf = [&] {
    if (path.empty()) return;
    if (lhs == nullptr) {
      c.added.Insert(path);
    } else if (rhs == nullptr) {
      c.removed.Insert(path);
    } else if (!JsonEqual(*lhs, *rhs)) {
      c.modified.Insert(path);
    }
  };
  auto post_item = [&] {
    if (path.empty()) return;
    if (lhs == nullptr) c.added.Insert(path);
    if (rhs == nullptr) c.removed.Insert(path);
  };
  auto absent_or = [](const Value* v, bool (Value::*is)() const) { return v == nullptr || (v->*is)(); };

  if (!shape.atomic && absent_or(lhs, &Value::IsObject) && absent_or(rhs, &Value::IsObject)) {
    bool lempty = lhs == nullptr || lhs->MemberCount() == 0;
    bool rempty = rhs == nullptr || rhs->MemberCount() == 0;
    if (lempty && rempty) return leaf();
    const MemberIndex lindex(lhs), rindex(rhs);
    if (lhs != nullptr) {
      for (const auto& m : lhs->GetObject()) {
        if (!lindex.IsFirst(m.name, m.value)) continue;
        std::string_view name = NameOf(m.name);
        path.push_back(PathElement::Field(name));
        CompareValues(&m.value, rindex.Find(name), MemberShape(shape, name), path, c);
        path.pop_back();
      }
    }
    if (rhs != nullptr) {
      for (const auto& m : rhs->GetObject()) {
        std::string_view name = NameOf(m.name);
        if (!rindex.IsFirst(m.name, m.value) || lindex.Find(name) != nullptr) continue;
        path.push_back(PathElement::Field(name));
        CompareValues(nullptr, &m.value, MemberShape(shape, name), path, c);
        path.pop_back();
      }
    }
    return post_item();
  }

  if (shape.list != Shape::List::kAtomic && absent_or(lhs, &Value::IsArray) &&
      absent_or(rhs, &Value::IsArray)) {
    Result<std::vector<PathElement>> lpes =
        lhs != nullptr ? ItemElements(*lhs, shape, path) : std::vector<PathElement>{};
    Result<std::vector<PathElement>> rpes =
        rhs != nullptr ? ItemElements(*rhs, shape, path) : std::vector<PathElement>{};
    if (!lpes.ok() || !rpes.ok() || (lpes->empty() && rpes->empty())) return leaf();
    std::map<PathElement, const Value*> litems, ritems;
    for (size_t i = 0; i < lpes->size(); ++i) litems.emplace((*lpes)[i], &(*lhs)[static_cast<rapidjson::SizeType>(i)]);
    for (size_t i = 0; i < rpes->size(); ++i) ritems.emplace((*rpes)[i], &(*rhs)[static_cast<rapidjson::SizeType>(i)]);
    const Shape item_shape = ItemShape(shape);
    for (const auto& [pe, l] : litems) {
      auto r = ritems.find(pe);
      path.push_back(pe);
      CompareValues(l, r == ritems.end() ? nullptr : r->second, item_shape, path, c);
      path.pop_back();
    }
    for (const auto& [pe, r] : ritems) {
      if (litems.count(pe)) continue;
      path.push_back(pe);
      CompareValues(nullptr, r, item_shape, path, c);
      path.pop_back();
    }
    return post_item();
  }
  leaf();
}

// ---------------------------------------------------------------------------------------
// RemovePaths

void RemoveIn(Value& v, const Shape& shape, Path& path, const FieldSet& paths) {
  if (v.IsObject() && !shape.atomic) {
    for (auto it = v.MemberBegin(); it != v.MemberEnd();) {
      std::string_view name = NameOf(it->name);
      path.push_back(PathElement::Field(name));
      if (paths.Has(path)) {
        it = v.EraseMember(it);
      } else {
        if (paths.HasDescendant(path)) RemoveIn(it->value, MemberShape(shape, name), path, paths);
        ++it;
      }
      path.pop_back();
    }
    return;
  }
  if (v.IsArray() && shape.list != Shape::List::kAtomic) {
    Result<std::vector<PathElement>> pes = ItemElements(v, shape, path);
    if (!pes.ok()) return;
    const Shape item_shape = ItemShape(shape);
    for (size_t i = pes->size(); i-- > 0;) {
      path.push_back((*pes)[i]);
      if (paths.Has(path)) {
        v.Erase(v.Begin() + i);
      } else if (paths.HasDescendant(path)) {
        RemoveIn(v[static_cast<rapidjson::SizeType>(i)], item_shape, path, paths);
      }
      path.pop_back();
    }
  }
}

}  // namespace

Result<FieldSet> AppliedFieldSet(const Value& config, const Shape& root) {
  FieldSet out;
  Path path;
  KITE_RETURN_IF_ERROR(Collect(config, root, path, out));
  return out;
}

Value Merge(const Value* live, const Value& config, const Shape& root, Allocator& allocator) {
  Value out;
  if (!MergeInto(live, config, root, out, allocator)) out.SetObject();
  return out;
}

Comparison Compare(const Value* lhs, const Value* rhs, const Shape& root) {
  Comparison c;
  Path path;
  CompareValues(lhs, rhs, root, path, c);
  return c;
}

void RemovePaths(Value& object, const Shape& root, const FieldSet& paths) {
  if (paths.empty()) return;
  Path path;
  RemoveIn(object, root, path, paths);
}

FieldSet WithNamedFieldParents(const FieldSet& set, const Shape& root) {
  FieldSet out = set;
  for (const Path& p : set.paths()) {
    Shape shape = root;
    for (size_t i = 0; i + 1 < p.size(); ++i) {
      const PathElement& pe = p[i];
      if (pe.kind == PathElement::Kind::kField) {
        bool named = !shape.is_map;
        shape = MemberShape(shape, pe.field);
        if (named) out.Insert(Path(p.begin(), p.begin() + static_cast<std::ptrdiff_t>(i) + 1));
      } else {
        shape = ItemShape(shape);
      }
    }
  }
  return out;
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
