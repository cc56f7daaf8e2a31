#include "src/server/admission/default_storage_class.h"

#include "src/server/json/json_util.h"

namespace kite::admission {
namespace {

using json::Member;
using json::StringMember;
using rapidjson::Value;

std::string_view Annotation(const Value& object, std::string_view key) {
  const Value* md = Member(object, "metadata");
  const Value* annotations = md ? Member(*md, "annotations") : nullptr;
  return annotations ? StringMember(*annotations, key) : std::string_view();
}

std::string_view MetaString(const Value& object, std::string_view field) {
  const Value* md = Member(object, "metadata");
  return md ? StringMember(*md, field) : std::string_view();
}

}  // namespace

bool IsDefaultStorageClass(const Value& storage_class) {
  return Annotation(storage_class, kIsDefaultClassAnnotation) == "true" ||
         Annotation(storage_class, kBetaIsDefaultClassAnnotation) == "true";
}

std::string DefaultStorageClassName(const std::vector<const Value*>& classes) {
  const Value* best = nullptr;
  for (const Value* c : classes) {
    if (!c || !c->IsObject() || !IsDefaultStorageClass(*c) || MetaString(*c, "name").empty()) continue;
    if (!best) {
      best = c;
      continue;
    }
    // RFC 3339 UTC timestamps of one format compare as strings.
    std::string_view created = MetaString(*c, "creationTimestamp");
    std::string_view best_created = MetaString(*best, "creationTimestamp");
    if (created > best_created || (created == best_created && MetaString(*c, "name") < MetaString(*best, "name"))) {
      best = c;
    }
  }
  return best ? std::string(MetaString(*best, "name")) : std::string();
}

bool AdmitDefaultStorageClass(Value& claim, const std::vector<const Value*>& classes,
                              rapidjson::Document::AllocatorType& allocator) {
  Value* spec = json::MutableMember(claim, "spec");
  if (!spec || !spec->IsObject()) return false;
  if (const Value* cls = Member(*spec, "storageClassName"); cls && !cls->IsNull()) return false;
  const Value* md = Member(claim, "metadata");
  const Value* annotations = md ? Member(*md, "annotations") : nullptr;
  if (annotations && Member(*annotations, "volume.beta.kubernetes.io/storage-class")) return false;
  std::string name = DefaultStorageClassName(classes);
  if (name.empty()) return false;
  json::SetStringMember(*spec, "storageClassName", name, allocator);
  return true;
}

}  // namespace kite::admission
