#include "src/server/patch/strategic_merge_patch.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "src/server/patch/json_helpers.h"

namespace kite::patch {
namespace {

using internal::Allocator;
using internal::FindMember;
using internal::KeyOf;
using internal::kMaxDepth;
using internal::Quote;
using internal::Render;
using internal::StringOf;
using rapidjson::SizeType;
using rapidjson::Value;
using Field = StrategicSchema::Field;

constexpr std::string_view kDirectiveMarker = "$patch";
constexpr std::string_view kRetainKeys = "$retainKeys";
constexpr std::string_view kDeleteFromPrimitiveList = "$deleteFromPrimitiveList";
constexpr std::string_view kSetElementOrder = "$setElementOrder";

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// Where the keys of an object get their schema from.
struct ObjectCtx {
  const StrategicSchema* schema = nullptr;  // the object's type; for a map, its values' type
  bool is_map = false;
};

ObjectCtx ChildCtx(const std::optional<Field>& field) {
  if (!field) return {};
  return {field->type, field->is_map};
}

// A list item and the string that identifies it: KeyOf its merge key's value for lists of
// objects, KeyOf the item itself otherwise.
struct Item {
  std::string key;
  Value value;
};

Status TooDeep() {
  return InvalidArgumentError("strategic merge patch nests deeper than " +
                              std::to_string(kMaxDepth) + " levels");
}

Status NoMergeKey(const Value& map, std::string_view merge_key) {
  return InvalidArgumentError("map: " + Render(map) +
                              " does not contain declared merge key: " + std::string(merge_key));
}

Status BadPatchType(const Value& directive, const Value& map) {
  return InvalidArgumentError("unknown patch type: " + Render(directive) +
                              " in map: " + Render(map));
}

// Orders a merged list. `patch_items` are sorted by `patch_order`, `server_only` by
// `server_order` (the live order), and the two are interleaved as upstream's
// mergeSortedSlice does: a server-only item goes before the next patch item when the live list
// has both and has it first; otherwise the patch item goes first.
std::vector<Item> Normalize(std::vector<Item> patch_items, std::vector<Item> server_only,
                            const std::vector<std::string>& patch_order,
                            const std::vector<std::string>& server_order) {
  auto positions = [](const std::vector<std::string>& order) {
    std::unordered_map<std::string_view, size_t> pos;
    for (size_t i = 0; i < order.size(); ++i) pos.emplace(order[i], i);
    return pos;
  };
  auto patch_pos = positions(patch_order);
  auto server_pos = positions(server_order);
  auto rank = [](const std::unordered_map<std::string_view, size_t>& pos, const Item& item) {
    auto it = pos.find(item.key);
    return it == pos.end() ? SIZE_MAX : it->second;
  };
  std::stable_sort(patch_items.begin(), patch_items.end(), [&](const Item& a, const Item& b) {
    return rank(patch_pos, a) < rank(patch_pos, b);
  });
  std::stable_sort(server_only.begin(), server_only.end(), [&](const Item& a, const Item& b) {
    return rank(server_pos, a) < rank(server_pos, b);
  });

  std::vector<Item> result;
  result.reserve(patch_items.size() + server_only.size());
  size_t i = 0;
  size_t j = 0;
  while (i < server_only.size() || j < patch_items.size()) {
    bool take_server;
    if (i >= server_only.size()) {
      take_server = false;
    } else if (j >= patch_items.size()) {
      take_server = true;
    } else {
      size_t l = rank(server_pos, server_only[i]);
      size_t r = rank(server_pos, patch_items[j]);
      take_server = l != SIZE_MAX && r != SIZE_MAX && l < r;
    }
    result.push_back(std::move(take_server ? server_only[i++] : patch_items[j++]));
  }
  return result;
}

// Splits `items` by whether their key is in `keys`.
void Partition(std::vector<Item>& items, const std::vector<std::string>& keys,
               std::vector<Item>& in, std::vector<Item>& out) {
  std::unordered_set<std::string_view> wanted(keys.begin(), keys.end());
  for (Item& item : items) {
    (wanted.count(item.key) != 0 ? in : out).push_back(std::move(item));
  }
}

enum class ListKind { kEmpty, kObjects, kPrimitives };

// The common kind of the items of two lists that are to be merged. Upstream requires one
// type for all items and rejects lists of lists.
Status KindOfLists(const Value& a, const Value& b, ListKind* kind) {
  // 0 none yet, then one code per JSON type (true and false are one type).
  int seen = 0;
  for (const Value* list : {&a, &b}) {
    for (const Value& item : list->GetArray()) {
      if (item.IsArray()) return InvalidArgumentError("lists of lists are not supported");
      int code = item.IsObject()   ? 1
                 : item.IsString() ? 2
                 : item.IsNumber() ? 3
                 : item.IsBool()   ? 4
                                   : 5;
      if (seen != 0 && seen != code) {
        return InvalidArgumentError("list element types are not identical: " + Render(a) + ", " +
                                    Render(b));
      }
      seen = code;
    }
  }
  *kind = seen == 0 ? ListKind::kEmpty : seen == 1 ? ListKind::kObjects : ListKind::kPrimitives;
  return Status::Ok();
}

// The merge. Recursion runs MergeObject -> MergeMembers -> MergeMember -> (MergeObject |
// MergeList | NewValue) -> ...; those frames are kept small (work that does not recurse, and
// error messages, live in separate functions) so that 1000 levels fit easily on a thread's
// stack even in sanitizer builds.
class Merger {
 public:
  explicit Merger(Allocator& alloc) : alloc_(alloc) {}

  // Merges the patch object `patch` into the object `target`. Values are moved out of
  // `patch` (which shares the allocator). `*deleted` is set for `$patch: delete`, after
  // which `target` is {}.
  Status MergeObject(Value& target, Value& patch, ObjectCtx ctx, int depth, bool* deleted);

 private:
  std::optional<Field> FieldFor(ObjectCtx ctx, std::string_view name) const {
    if (ctx.is_map) {
      Field f;
      f.type = ctx.schema;
      return f;
    }
    if (ctx.schema == nullptr) return std::nullopt;
    return ctx.schema->Lookup(name);
  }

  Status MergeMembers(Value& target, Value& patch, ObjectCtx ctx, int depth);
  Status MergeMember(Value& target, Value::Member& member, ObjectCtx ctx, int depth,
                     const std::vector<std::string>& consumed);
  [[gnu::noinline]] Status ReplaceMember(Value& target, std::string_view name, bool exists,
                                         Value& value, const std::optional<Field>& field,
                                         int depth);
  Status NewValue(Value& patch, const std::optional<Field>& field, int depth, Value& out,
                  bool* present);
  // Merges or replaces the list `target` with `patch` by the field's strategy. For merging
  // lists, `server_order` (if given) receives the live order that $setElementOrder uses.
  Status MergeList(Value& target, Value& patch, const std::optional<Field>& field, int depth,
                   std::vector<std::string>* server_order);
  Status ReplaceList(Value& target, Value& patch, const std::optional<Field>& field, int depth);
  Status MergePrimitiveList(Value& target, Value& patch, std::vector<std::string>* server_order);
  Status MergeObjectList(Value& target, Value& patch, const Field& field, int depth,
                         std::vector<std::string>* server_order);
  Status ApplyElementOrders(Value& target, Value& patch, ObjectCtx ctx, int depth,
                            std::vector<std::string>* consumed);
  Status ApplyElementOrder(Value& target, Value& patch, const std::string& name, Value& order,
                           ObjectCtx ctx, int depth);
  Status ApplyDeletions(Value& target, Value& patch);
  Status DeleteFromPrimitiveList(Value& target, std::string_view directive, const Value& values);

  // What MergeObjectList works on, prepared without recursion.
  struct ObjectListPlan {
    size_t live_size = 0;
    std::vector<Item> items;              // live items left after deletions
    std::vector<std::string> live_keys;   // their keys, in live order
    std::vector<Value*> plain;            // patch items without $patch
    std::vector<std::string> patch_keys;  // their keys
    bool replace = false;
  };
  [[gnu::noinline]] static Status PlanObjectList(Value& target, Value& patch,
                                                 const std::string& merge_key,
                                                 ObjectListPlan* plan);
  [[gnu::noinline]] void FinishObjectList(Value& target, ObjectListPlan& plan,
                                          const std::vector<std::string>& appended,
                                          std::vector<std::string>* server_order);

  // What ApplyElementOrder works on, prepared without recursion.
  struct OrderPlan {
    std::optional<Field> field;
    std::string merge_key;
    Value* current = nullptr;     // the live list, if any
    Value* patch_list = nullptr;  // the patch's list, if any
    std::vector<std::string> order_keys;
    std::vector<std::string> live_order;
  };
  [[gnu::noinline]] Status PlanElementOrder(Value& target, Value& patch, const std::string& name,
                                            const Value& order, ObjectCtx ctx,
                                            OrderPlan* plan) const;
  [[gnu::noinline]] Status FinishElementOrder(Value& target, const std::string& name, Value& merged,
                                              OrderPlan& plan);

  void StoreItems(Value& target, std::vector<Item>& items) {
    Value list(rapidjson::kArrayType);
    list.Reserve(static_cast<SizeType>(items.size()), alloc_);
    for (Item& item : items) list.PushBack(item.value, alloc_);
    target = list;
  }

  Allocator& alloc_;
  bool ignored_ = false;  // a `deleted` result nobody needs, kept off the recursive frames
};

// Reads and removes an object's `$patch`.
[[gnu::noinline]] Status TakeDirective(Value& patch, bool* replace, bool* remove) {
  *replace = false;
  *remove = false;
  Value* directive = FindMember(patch, kDirectiveMarker);
  if (directive == nullptr) return Status::Ok();
  std::string_view kind = directive->IsString() ? StringOf(*directive) : std::string_view();
  if (kind == "replace") {
    *replace = true;
  } else if (kind == "delete") {
    *remove = true;
    return Status::Ok();
  } else if (kind != "merge") {
    return BadPatchType(*directive, patch);
  }
  internal::EraseMember(patch, kDirectiveMarker);
  return Status::Ok();
}

// $retainKeys: clears the fields not listed, after checking the patch sets only listed ones.
[[gnu::noinline]] Status ApplyRetainKeys(Value& target, Value& patch) {
  Value* retain = FindMember(patch, kRetainKeys);
  if (retain == nullptr) return Status::Ok();
  if (!retain->IsArray()) {
    return InvalidArgumentError("invalid patch format of retainKeys: " + Render(*retain) +
                                " is not a list of field names");
  }
  std::unordered_set<std::string> keep;
  for (const Value& name : retain->GetArray()) {
    if (!name.IsString()) {
      return InvalidArgumentError("invalid patch format of retainKeys: " + Render(name) +
                                  " is not a field name");
    }
    keep.emplace(StringOf(name));
  }
  for (auto& m : patch.GetObject()) {
    std::string_view name = StringOf(m.name);
    if (name == kRetainKeys || m.value.IsNull() || StartsWith(name, kDeleteFromPrimitiveList) ||
        StartsWith(name, kSetElementOrder)) {
      continue;
    }
    if (keep.count(std::string(name)) == 0) {
      return InvalidArgumentError("invalid patch format of retainKeys: the patch sets " +
                                  Quote(name) + ", which $retainKeys does not list");
    }
  }
  for (auto it = target.MemberBegin(); it != target.MemberEnd();) {
    if (keep.count(std::string(StringOf(it->name))) == 0) {
      it = target.EraseMember(it);
    } else {
      ++it;
    }
  }
  internal::EraseMember(patch, kRetainKeys);
  return Status::Ok();
}

[[gnu::noinline]] Status UnknownDirective(std::string_view name) {
  return InvalidArgumentError("unknown strategic merge patch directive " + Quote(name));
}

// A list item with `$patch` in a list that is replaced whole: checked, then dropped.
[[gnu::noinline]] Status CheckDirectiveItem(const Value& directive, const Value& item) {
  std::string_view kind = directive.IsString() ? StringOf(directive) : "";
  if (kind != "replace" && kind != "delete" && kind != "merge") {
    return BadPatchType(directive, item);
  }
  return Status::Ok();
}

[[gnu::noinline]] Status ListKindMismatch(const Field& field, const Value& patch, ListKind kind) {
  if (kind == ListKind::kPrimitives) {
    return InvalidArgumentError("list items must be maps with the merge key " +
                                Quote(field.merge_key) + ", got " + Render(patch));
  }
  return InvalidArgumentError("cannot merge lists without merge key for type map: " +
                              Render(patch));
}

Status Merger::MergeObject(Value& target, Value& patch, ObjectCtx ctx, int depth, bool* deleted) {
  *deleted = false;
  if (depth > kMaxDepth) return TooDeep();
  bool replace;
  KITE_RETURN_IF_ERROR(TakeDirective(patch, &replace, deleted));
  if (*deleted) {
    target.SetObject();
    return Status::Ok();
  }
  if (!replace) return MergeMembers(target, patch, ctx, depth);
  // The rest of the patch, with its own nulls and directives applied to nothing.
  Value fresh(rapidjson::kObjectType);
  KITE_RETURN_IF_ERROR(MergeMembers(fresh, patch, ctx, depth));
  target = fresh;
  return Status::Ok();
}

Status Merger::MergeMembers(Value& target, Value& patch, ObjectCtx ctx, int depth) {
  KITE_RETURN_IF_ERROR(ApplyRetainKeys(target, patch));
  // $setElementOrder/<field> merges that field's list and orders it in one go.
  std::vector<std::string> consumed;
  KITE_RETURN_IF_ERROR(ApplyElementOrders(target, patch, ctx, depth, &consumed));
  // Every other field, in the patch's order; deletions from primitive lists come last.
  for (SizeType i = 0; i < patch.MemberCount(); ++i) {
    KITE_RETURN_IF_ERROR(MergeMember(target, patch.MemberBegin()[i], ctx, depth, consumed));
  }
  return ApplyDeletions(target, patch);
}

Status Merger::MergeMember(Value& target, Value::Member& member, ObjectCtx ctx, int depth,
                           const std::vector<std::string>& consumed) {
  // The name stays valid: the patch object is not resized while its members are merged.
  std::string_view name = StringOf(member.name);
  if (StartsWith(name, kSetElementOrder) || StartsWith(name, kDeleteFromPrimitiveList) ||
      std::find(consumed.begin(), consumed.end(), name) != consumed.end()) {
    return Status::Ok();
  }
  std::optional<Field> field = FieldFor(ctx, name);
  if (!name.empty() && name[0] == '$' && !field) return UnknownDirective(name);
  Value* current = FindMember(target, name);
  Value& value = member.value;
  if (value.IsNull()) {
    if (current != nullptr) internal::EraseMember(target, name);
    return Status::Ok();
  }
  if (current != nullptr && current->IsObject() && value.IsObject()) {
    return MergeObject(*current, value, ChildCtx(field), depth + 1, &ignored_);
  }
  if (current != nullptr && current->IsArray() && value.IsArray()) {
    return MergeList(*current, value, field, depth + 1, nullptr);
  }
  return ReplaceMember(target, name, current != nullptr, value, field, depth + 1);
}

// The target lacks the field, or holds a value of another type: the patch value replaces it.
Status Merger::ReplaceMember(Value& target, std::string_view name, bool exists, Value& value,
                             const std::optional<Field>& field, int depth) {
  Value fresh;
  bool present = true;
  if (value.IsObject()) {
    // NewValue inlined for objects: one frame less per level of a deep new value.
    fresh.SetObject();
    bool deleted;
    KITE_RETURN_IF_ERROR(MergeObject(fresh, value, ChildCtx(field), depth, &deleted));
    present = !deleted;
  } else {
    KITE_RETURN_IF_ERROR(NewValue(value, field, depth, fresh, &present));
  }
  if (present) {
    internal::SetMember(target, name, fresh, alloc_);
  } else if (exists) {
    internal::EraseMember(target, name);
  }
  return Status::Ok();
}

Status Merger::ApplyDeletions(Value& target, Value& patch) {
  for (auto& m : patch.GetObject()) {
    std::string_view name = StringOf(m.name);
    if (!StartsWith(name, kDeleteFromPrimitiveList)) continue;
    KITE_RETURN_IF_ERROR(DeleteFromPrimitiveList(target, name, m.value));
  }
  return Status::Ok();
}

Status Merger::NewValue(Value& patch, const std::optional<Field>& field, int depth, Value& out,
                        bool* present) {
  *present = true;
  if (patch.IsObject()) {
    Value fresh(rapidjson::kObjectType);
    bool deleted;
    KITE_RETURN_IF_ERROR(MergeObject(fresh, patch, ChildCtx(field), depth, &deleted));
    if (deleted) {
      *present = false;
      return Status::Ok();
    }
    out = fresh;
    return Status::Ok();
  }
  if (patch.IsArray()) {
    Value fresh(rapidjson::kArrayType);
    KITE_RETURN_IF_ERROR(MergeList(fresh, patch, field, depth, nullptr));
    out = fresh;
    return Status::Ok();
  }
  out = patch;  // a scalar; same allocator, so moving is safe
  return Status::Ok();
}

Status Merger::MergeList(Value& target, Value& patch, const std::optional<Field>& field, int depth,
                         std::vector<std::string>* server_order) {
  if (depth > kMaxDepth) return TooDeep();
  if (!field || !field->merge_list) return ReplaceList(target, patch, field, depth);
  ListKind kind;
  KITE_RETURN_IF_ERROR(KindOfLists(target, patch, &kind));
  if (kind == ListKind::kEmpty) {
    if (server_order != nullptr) server_order->clear();
    return Status::Ok();
  }
  if ((kind == ListKind::kPrimitives) != field->merge_key.empty()) {
    return ListKindMismatch(*field, patch, kind);
  }
  if (kind == ListKind::kPrimitives) return MergePrimitiveList(target, patch, server_order);
  return MergeObjectList(target, patch, *field, depth, server_order);
}

Status Merger::ReplaceList(Value& target, Value& patch, const std::optional<Field>& field,
                           int depth) {
  if (depth > kMaxDepth) return TooDeep();
  Value list(rapidjson::kArrayType);
  for (Value& item : patch.GetArray()) {
    if (item.IsObject()) {
      // Directive items mean nothing in a list that is replaced whole; drop them.
      if (const Value* directive = FindMember(item, kDirectiveMarker)) {
        KITE_RETURN_IF_ERROR(CheckDirectiveItem(*directive, item));
        continue;
      }
      Value fresh;
      bool present;
      KITE_RETURN_IF_ERROR(NewValue(item, field, depth + 1, fresh, &present));
      if (present) list.PushBack(fresh, alloc_);
    } else if (item.IsArray()) {
      Value fresh(rapidjson::kArrayType);
      KITE_RETURN_IF_ERROR(ReplaceList(fresh, item, std::nullopt, depth + 1));
      list.PushBack(fresh, alloc_);
    } else {
      list.PushBack(item, alloc_);
    }
  }
  target = list;
  return Status::Ok();
}

Status Merger::MergePrimitiveList(Value& target, Value& patch,
                                  std::vector<std::string>* server_order) {
  std::vector<std::string> live_keys;
  for (const Value& item : target.GetArray()) live_keys.push_back(KeyOf(item));
  std::vector<std::string> patch_keys;
  for (const Value& item : patch.GetArray()) patch_keys.push_back(KeyOf(item));

  // Union, first occurrence wins.
  std::vector<Item> merged;
  std::unordered_set<std::string> seen;
  for (SizeType i = 0; i < target.Size(); ++i) {
    if (seen.insert(live_keys[i]).second) merged.push_back({live_keys[i], std::move(target[i])});
  }
  for (SizeType i = 0; i < patch.Size(); ++i) {
    if (seen.insert(patch_keys[i]).second) merged.push_back({patch_keys[i], std::move(patch[i])});
  }
  std::vector<Item> in_patch;
  std::vector<Item> server_only;
  Partition(merged, patch_keys, in_patch, server_only);
  std::vector<Item> ordered =
      Normalize(std::move(in_patch), std::move(server_only), patch_keys, live_keys);
  StoreItems(target, ordered);
  if (server_order != nullptr) *server_order = std::move(live_keys);
  return Status::Ok();
}

Status Merger::PlanObjectList(Value& target, Value& patch, const std::string& merge_key,
                              ObjectListPlan* plan) {
  // The live items, keyed by their merge key. One without the key can only be replaced.
  plan->live_size = target.Size();
  plan->items.reserve(plan->live_size);
  bool keyless = false;
  for (Value& item : target.GetArray()) {
    const Value* key = FindMember(item, merge_key);
    keyless = keyless || key == nullptr;
    // KeyOf never starts with "-", so keyless items match nothing.
    plan->items.push_back({key != nullptr ? KeyOf(*key) : "-", Value()});
    plan->items.back().value = item;
  }
  // Directive items: deletions by key, and the replace marker.
  for (Value& item : patch.GetArray()) {
    const Value* directive = FindMember(item, kDirectiveMarker);
    if (directive == nullptr) {
      const Value* key = FindMember(item, merge_key);
      if (key == nullptr) return NoMergeKey(item, merge_key);
      plan->plain.push_back(&item);
      plan->patch_keys.push_back(KeyOf(*key));
      continue;
    }
    std::string_view kind = directive->IsString() ? StringOf(*directive) : "";
    if (kind == "delete") {
      const Value* key = FindMember(item, merge_key);
      if (key == nullptr) return NoMergeKey(item, merge_key);
      std::string k = KeyOf(*key);
      plan->items.erase(std::remove_if(plan->items.begin(), plan->items.end(),
                                       [&](const Item& live) { return live.key == k; }),
                        plan->items.end());
    } else if (kind == "replace") {
      plan->replace = true;
    } else if (kind == "merge") {
      return InvalidArgumentError("merging lists cannot yet be specified in the patch");
    } else {
      return BadPatchType(*directive, item);
    }
  }
  for (const Item& item : plan->items) plan->live_keys.push_back(item.key);
  if (plan->replace) {
    plan->items.clear();  // the list becomes the other patch items
    return Status::Ok();
  }
  if (keyless) {
    for (const Item& item : plan->items) {
      if (item.key == "-") return NoMergeKey(item.value, merge_key);
    }
  }
  return Status::Ok();
}

Status Merger::MergeObjectList(Value& target, Value& patch, const Field& field, int depth,
                               std::vector<std::string>* server_order) {
  ObjectListPlan plan;
  KITE_RETURN_IF_ERROR(PlanObjectList(target, patch, field.merge_key, &plan));
  ObjectCtx item_ctx{field.type, field.is_map};
  std::unordered_map<std::string, size_t> index;
  for (size_t i = 0; i < plan.items.size(); ++i) index.emplace(plan.items[i].key, i);
  std::vector<std::string> appended;
  for (size_t j = 0; j < plan.plain.size(); ++j) {
    bool deleted;  // never: plain items carry no $patch
    auto found = index.find(plan.patch_keys[j]);
    if (found != index.end()) {
      KITE_RETURN_IF_ERROR(MergeObject(plan.items[found->second].value, *plan.plain[j], item_ctx,
                                       depth + 1, &deleted));
      continue;
    }
    Value fresh(rapidjson::kObjectType);
    KITE_RETURN_IF_ERROR(MergeObject(fresh, *plan.plain[j], item_ctx, depth + 1, &deleted));
    plan.items.push_back({plan.patch_keys[j], std::move(fresh)});
    index.emplace(plan.patch_keys[j], plan.items.size() - 1);
    appended.push_back(plan.patch_keys[j]);
  }
  FinishObjectList(target, plan, appended, server_order);
  return Status::Ok();
}

void Merger::FinishObjectList(Value& target, ObjectListPlan& plan,
                              const std::vector<std::string>& appended,
                              std::vector<std::string>* server_order) {
  if (plan.replace) {
    StoreItems(target, plan.items);  // the patch's items, in the patch's order
  } else {
    std::vector<Item> in_patch;
    std::vector<Item> server_only;
    Partition(plan.items, plan.patch_keys, in_patch, server_only);
    std::vector<Item> ordered =
        Normalize(std::move(in_patch), std::move(server_only), plan.patch_keys, plan.live_keys);
    StoreItems(target, ordered);
  }
  if (server_order != nullptr) {
    // What upstream uses as the live order when it then applies $setElementOrder: its live
    // list shares storage with the merge, so the first new items land in the slots that
    // deletions freed. Reproducing that keeps the resulting order identical to upstream's.
    *server_order = std::move(plan.live_keys);
    size_t freed = plan.live_size - server_order->size();
    if (plan.replace) freed = 0;
    for (size_t i = 0; i < appended.size() && i < freed; ++i) server_order->push_back(appended[i]);
  }
}

// The fields named by the patch's $setElementOrder/<field> keys, in the patch's order.
[[gnu::noinline]] Status OrderedFields(const Value& patch, std::vector<std::string>* fields) {
  for (auto& m : patch.GetObject()) {
    std::string_view name = StringOf(m.name);
    if (!StartsWith(name, kSetElementOrder)) continue;
    if (name.size() <= kSetElementOrder.size() || name[kSetElementOrder.size()] != '/') {
      return InvalidArgumentError("invalid patch format of setElementOrder list: " + Quote(name));
    }
    std::string field(name.substr(kSetElementOrder.size() + 1));
    if (std::find(fields->begin(), fields->end(), field) == fields->end()) {
      fields->push_back(std::move(field));
    }
  }
  return Status::Ok();
}

[[gnu::noinline]] Value* FindOrder(Value& patch, const std::string& field) {
  return FindMember(patch, std::string(kSetElementOrder) + "/" + field);
}

Status Merger::ApplyElementOrders(Value& target, Value& patch, ObjectCtx ctx, int depth,
                                  std::vector<std::string>* consumed) {
  KITE_RETURN_IF_ERROR(OrderedFields(patch, consumed));
  for (const std::string& field : *consumed) {
    KITE_RETURN_IF_ERROR(
        ApplyElementOrder(target, patch, field, *FindOrder(patch, field), ctx, depth));
  }
  return Status::Ok();
}

Status Merger::ApplyElementOrder(Value& target, Value& patch, const std::string& name, Value& order,
                                 ObjectCtx ctx, int depth) {
  OrderPlan plan;
  KITE_RETURN_IF_ERROR(PlanElementOrder(target, patch, name, order, ctx, &plan));
  if (plan.current == nullptr && plan.patch_list == nullptr) return Status::Ok();
  // Merge the list, remembering the live order to place items the directive does not name.
  Value merged(rapidjson::kArrayType);
  if (plan.current != nullptr) merged = *plan.current;
  if (plan.patch_list != nullptr) {
    std::vector<std::string> merge_order;
    KITE_RETURN_IF_ERROR(MergeList(merged, *plan.patch_list, plan.field, depth + 1, &merge_order));
    if (plan.current != nullptr && plan.field && plan.field->merge_list) {
      plan.live_order = std::move(merge_order);
    }
  }
  return FinishElementOrder(target, name, merged, plan);
}

Status Merger::PlanElementOrder(Value& target, Value& patch, const std::string& name,
                                const Value& order, ObjectCtx ctx, OrderPlan* plan) const {
  std::string directive = std::string(kSetElementOrder) + "/" + name;
  if (!order.IsArray()) {
    return InvalidArgumentError(
        "invalid patch format of setElementOrder list: " + Quote(directive) + " is not a list");
  }
  plan->field = FieldFor(ctx, name);
  plan->merge_key = plan->field ? plan->field->merge_key : "";
  const std::string& merge_key = plan->merge_key;
  plan->current = FindMember(target, name);
  if (plan->current != nullptr && plan->current->IsNull()) plan->current = nullptr;
  if (plan->current != nullptr && !plan->current->IsArray()) {
    return InvalidArgumentError("invalid patch format of setElementOrder list: " + Quote(name) +
                                " is not a list in the object");
  }
  plan->patch_list = FindMember(patch, name);
  if (plan->patch_list != nullptr && !plan->patch_list->IsArray()) {
    return InvalidArgumentError("invalid patch format of setElementOrder list: " + Quote(name) +
                                " is not a list in the patch");
  }

  // The key of an item: its merge key's value for lists of objects, itself otherwise.
  auto key_of = [&](const Value& item, std::string* key) -> Status {
    if (merge_key.empty()) {
      *key = KeyOf(item);
      return Status::Ok();
    }
    const Value* k = item.IsObject() ? FindMember(item, merge_key) : nullptr;
    if (k == nullptr) return NoMergeKey(item, merge_key);
    *key = KeyOf(*k);
    return Status::Ok();
  };
  for (const Value& entry : order.GetArray()) {
    std::string key;
    KITE_RETURN_IF_ERROR(key_of(entry, &key));
    plan->order_keys.push_back(std::move(key));
  }

  // The patch list must name its items in the order the directive gives (deletions aside).
  const Value* patch_list = plan->patch_list;
  if (patch_list != nullptr && !patch_list->Empty() && !plan->order_keys.empty()) {
    std::vector<const Value*> items;
    for (const Value& item : patch_list->GetArray()) {
      if (!merge_key.empty()) {
        if (!item.IsObject()) return NoMergeKey(item, merge_key);
        const Value* d = FindMember(item, kDirectiveMarker);
        if (d != nullptr && d->IsString() && StringOf(*d) == "delete") continue;
      }
      items.push_back(&item);
    }
    size_t p = 0;
    size_t o = 0;
    while (p < items.size() && o < plan->order_keys.size()) {
      if (items[p]->IsObject() && FindMember(*items[p], kDirectiveMarker) != nullptr) {
        ++p;
        continue;
      }
      std::string key;
      KITE_RETURN_IF_ERROR(key_of(*items[p], &key));
      if (key == plan->order_keys[o]) ++p;
      ++o;
    }
    if (p < items.size()) {
      return InvalidArgumentError("The order in patch list: " + Render(*patch_list) +
                                  " doesn't match " + std::string(kSetElementOrder) +
                                  " list: " + Render(order));
    }
  }

  if (plan->current != nullptr) {
    for (const Value& item : plan->current->GetArray()) {
      const Value* k =
          !merge_key.empty() && item.IsObject() ? FindMember(item, merge_key) : nullptr;
      plan->live_order.push_back(KeyOf(k != nullptr ? *k : item));
    }
  }
  return Status::Ok();
}

Status Merger::FinishElementOrder(Value& target, const std::string& name, Value& merged,
                                  OrderPlan& plan) {
  std::vector<Item> items;
  for (Value& item : merged.GetArray()) {
    const Value* k = nullptr;
    if (!plan.merge_key.empty()) {
      k = item.IsObject() ? FindMember(item, plan.merge_key) : nullptr;
      if (k == nullptr) return NoMergeKey(item, plan.merge_key);
    }
    items.push_back({KeyOf(k != nullptr ? *k : item), std::move(item)});
  }
  std::vector<Item> in_order;
  std::vector<Item> others;
  Partition(items, plan.order_keys, in_order, others);
  std::vector<Item> ordered =
      Normalize(std::move(in_order), std::move(others), plan.order_keys, plan.live_order);
  Value list;
  StoreItems(list, ordered);
  internal::SetMember(target, name, list, alloc_);
  return Status::Ok();
}

Status Merger::DeleteFromPrimitiveList(Value& target, std::string_view directive,
                                       const Value& values) {
  if (directive.size() <= kDeleteFromPrimitiveList.size() ||
      directive[kDeleteFromPrimitiveList.size()] != '/') {
    return InvalidArgumentError("invalid patch format of primitive list: " + Quote(directive));
  }
  std::string_view name = directive.substr(kDeleteFromPrimitiveList.size() + 1);
  if (!values.IsArray()) {
    return InvalidArgumentError("invalid patch format of primitive list: " + Quote(directive) +
                                " is not a list");
  }
  std::unordered_set<std::string> remove;
  for (const Value& v : values.GetArray()) {
    if (v.IsObject() || v.IsArray()) {
      return InvalidArgumentError("invalid patch format of primitive list: " + Quote(directive) +
                                  " lists " + Render(v) + ", which is not a primitive value");
    }
    remove.insert(KeyOf(v));
  }
  Value* current = FindMember(target, name);
  if (current == nullptr || current->IsNull()) return Status::Ok();
  if (!current->IsArray()) {
    return InvalidArgumentError("invalid patch format of primitive list: " + Quote(name) +
                                " is not a list in the object");
  }
  Value kept(rapidjson::kArrayType);
  for (Value& item : current->GetArray()) {
    if (remove.count(KeyOf(item)) == 0) kept.PushBack(item, alloc_);
  }
  *current = kept;
  return Status::Ok();
}

}  // namespace

Status ApplyStrategicMergePatch(rapidjson::Document& target, std::string_view patch,
                                const StrategicSchema* schema) {
  if (!target.IsObject()) {
    return InvalidArgumentError("strategic merge patch applies only to a JSON object");
  }
  if (internal::Depth(target) > kMaxDepth) {
    return InvalidArgumentError("the object to patch nests deeper than " +
                                std::to_string(kMaxDepth) + " levels");
  }
  // Work on a copy so that an error leaves `target` as it was.
  rapidjson::Document result;
  result.CopyFrom(target, result.GetAllocator());
  rapidjson::Document patch_doc(&result.GetAllocator());
  KITE_RETURN_IF_ERROR(internal::ParseJson(patch, "strategic merge patch", patch_doc));
  if (!patch_doc.IsObject()) {
    return InvalidArgumentError("strategic merge patch must be a JSON object, got " +
                                Render(patch_doc, 60));
  }
  Merger merger(result.GetAllocator());
  bool deleted;
  KITE_RETURN_IF_ERROR(
      merger.MergeObject(result, patch_doc, ObjectCtx{schema, false}, 1, &deleted));
  target.Swap(result);
  return Status::Ok();
}

}  // namespace kite::patch
