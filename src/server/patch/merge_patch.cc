#include "src/server/patch/merge_patch.h"

#include <string>

#include "src/server/patch/json_helpers.h"

namespace kite::patch {
namespace {

using internal::Allocator;
using rapidjson::Value;

// RFC 7386 section 2, MergePatch(Target, Patch). `patch` shares `target`'s allocator and is
// consumed (values are moved out of it). Recursion follows the patch, whose depth is capped.
void Merge(Value& target, Value& patch, Allocator& alloc) {
  if (!patch.IsObject()) {
    target = patch;
    return;
  }
  if (!target.IsObject()) target.SetObject();
  for (auto& member : patch.GetObject()) {
    std::string_view name = internal::StringOf(member.name);
    if (member.value.IsNull()) {
      internal::EraseMember(target, name);
      continue;
    }
    if (Value* existing = internal::FindMember(target, name)) {
      Merge(*existing, member.value, alloc);
      continue;
    }
    // A new member still goes through Merge, which drops nulls nested in it.
    Value fresh;
    Merge(fresh, member.value, alloc);
    internal::SetMember(target, name, fresh, alloc);
  }
}

}  // namespace

Status ApplyMergePatch(rapidjson::Document& target, std::string_view patch) {
  if (internal::Depth(target) > internal::kMaxDepth) {
    return InvalidArgumentError("the object to patch nests deeper than " +
                                std::to_string(internal::kMaxDepth) + " levels");
  }
  rapidjson::Document result;
  result.CopyFrom(target, result.GetAllocator());
  rapidjson::Document patch_doc(&result.GetAllocator());
  KITE_RETURN_IF_ERROR(internal::ParseJson(patch, "merge patch", patch_doc));
  Merge(result, patch_doc, result.GetAllocator());
  target.Swap(result);
  return Status::Ok();
}

}  // namespace kite::patch
