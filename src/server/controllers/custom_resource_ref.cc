#include "src/server/controllers/custom_resource_ref.h"

#include <string>

#include "src/server/crd/crd_status.h"
#include "src/server/json/json_util.h"

namespace kite::controllers {
namespace {

using rapidjson::Value;

bool IsTrue(const Value& object, std::string_view field) {
  const Value* v = json::Member(object, field);
  return v && v->IsBool() && v->GetBool();
}

}  // namespace

std::string_view CrdGroup(const Value& crd) {
  const Value* spec = json::Member(crd, "spec");
  return spec ? json::StringMember(*spec, "group") : std::string_view();
}

std::string_view CrdPlural(const Value& crd) {
  const Value* status = json::Member(crd, "status");
  const Value* accepted = status ? json::Member(*status, "acceptedNames") : nullptr;
  std::string_view plural = accepted ? json::StringMember(*accepted, "plural") : std::string_view();
  if (!plural.empty()) return plural;
  const Value* spec = json::Member(crd, "spec");
  const Value* names = spec ? json::Member(*spec, "names") : nullptr;
  return names ? json::StringMember(*names, "plural") : std::string_view();
}

std::string_view CrdKind(const Value& crd) {
  const Value* status = json::Member(crd, "status");
  const Value* accepted = status ? json::Member(*status, "acceptedNames") : nullptr;
  std::string_view kind = accepted ? json::StringMember(*accepted, "kind") : std::string_view();
  if (!kind.empty()) return kind;
  const Value* spec = json::Member(crd, "spec");
  const Value* names = spec ? json::Member(*spec, "names") : nullptr;
  return names ? json::StringMember(*names, "kind") : std::string_view();
}

std::optional<client::ResourceRef> CustomResourceOf(const Value& crd) {
  std::optional<client::ResourceRef> ref = ServedCustomResourceOf(crd);
  if (!ref || !ref->namespaced) return std::nullopt;
  return ref;
}

std::optional<client::ResourceRef> ServedCustomResourceOf(const Value& crd) {
  const Value* spec = json::Member(crd, "spec");
  if (!spec || !crd::IsEstablished(crd)) return std::nullopt;
  std::string_view scope = json::StringMember(*spec, "scope");
  if (scope != "Namespaced" && scope != "Cluster") return std::nullopt;
  std::string_view version;
  if (const Value* versions = json::Member(*spec, "versions"); versions && versions->IsArray()) {
    for (const Value& v : versions->GetArray()) {
      if (!IsTrue(v, "served")) continue;
      if (version.empty() || IsTrue(v, "storage")) version = json::StringMember(v, "name");
    }
  }
  std::string_view group = CrdGroup(crd), plural = CrdPlural(crd);
  if (plural.empty() || version.empty() || group.empty()) return std::nullopt;
  return client::ResourceRef{std::string(group), std::string(version), std::string(plural), scope == "Namespaced"};
}

}  // namespace kite::controllers
