#include "src/server/crd/crd_status.h"

#include <algorithm>
#include <optional>
#include <set>
#include <string>

#include "src/server/json/json_util.h"

namespace kite::crd {
namespace {

using json::Member;
using json::StringMember;

struct Names {
  std::string plural, singular, kind, list_kind;
  std::vector<std::string> short_names, categories;
};

std::vector<std::string> Strings(const rapidjson::Value* obj, std::string_view name) {
  std::vector<std::string> out;
  const rapidjson::Value* arr = obj ? Member(*obj, name) : nullptr;
  if (!arr || !arr->IsArray()) return out;
  for (const auto& s : arr->GetArray()) {
    if (s.IsString()) out.emplace_back(s.GetString(), s.GetStringLength());
  }
  return out;
}

Names ReadNames(const rapidjson::Value* v) {
  Names n;
  if (!v || !v->IsObject()) return n;
  n.plural = std::string(StringMember(*v, "plural"));
  n.singular = std::string(StringMember(*v, "singular"));
  n.kind = std::string(StringMember(*v, "kind"));
  n.list_kind = std::string(StringMember(*v, "listKind"));
  n.short_names = Strings(v, "shortNames");
  n.categories = Strings(v, "categories");
  return n;
}

const rapidjson::Value* Object(const rapidjson::Value* v, std::string_view name) {
  if (!v || !v->IsObject()) return nullptr;
  const rapidjson::Value* m = Member(*v, name);
  return m && m->IsObject() ? m : nullptr;
}

rapidjson::Value Str(std::string_view s, rapidjson::Document::AllocatorType& a) {
  return rapidjson::Value(s.data(), static_cast<rapidjson::SizeType>(s.size()), a);
}

rapidjson::Value StrList(const std::vector<std::string>& list, rapidjson::Document::AllocatorType& a) {
  rapidjson::Value arr(rapidjson::kArrayType);
  for (const std::string& s : list) arr.PushBack(Str(s, a), a);
  return arr;
}

// equalToAcceptedOrFresh: the requested name is ours already, or nobody else has it.
std::optional<std::string> Conflict(const std::string& requested, const std::string& accepted,
                                    const std::set<std::string>& used) {
  if (requested == accepted || !used.count(requested)) return std::nullopt;
  return "\"" + requested + "\" is already in use";
}

struct Condition {
  std::string type, status, reason, message;
};

void SetCondition(rapidjson::Value& status, const Condition& c, std::string_view now,
                  rapidjson::Document::AllocatorType& a) {
  rapidjson::Value* conditions = json::MutableMember(status, "conditions");
  if (!conditions || !conditions->IsArray()) {
    json::SetMember(status, "conditions", rapidjson::Value(rapidjson::kArrayType), a);
    conditions = json::MutableMember(status, "conditions");
  }
  for (auto& existing : conditions->GetArray()) {
    if (!existing.IsObject() || StringMember(existing, "type") != c.type) continue;
    if (StringMember(existing, "status") != c.status || StringMember(existing, "lastTransitionTime").empty()) {
      json::SetStringMember(existing, "status", c.status, a);
      json::SetStringMember(existing, "lastTransitionTime", now, a);
    }
    json::SetStringMember(existing, "reason", c.reason, a);
    json::SetStringMember(existing, "message", c.message, a);
    return;
  }
  rapidjson::Value cond(rapidjson::kObjectType);
  cond.AddMember("type", Str(c.type, a), a);
  cond.AddMember("status", Str(c.status, a), a);
  cond.AddMember("lastTransitionTime", Str(now, a), a);
  cond.AddMember("reason", Str(c.reason, a), a);
  cond.AddMember("message", Str(c.message, a), a);
  conditions->PushBack(cond, a);
}

std::optional<Condition> FindCondition(const rapidjson::Value& status, std::string_view type) {
  const rapidjson::Value* conditions = Member(status, "conditions");
  if (!conditions || !conditions->IsArray()) return std::nullopt;
  for (const auto& c : conditions->GetArray()) {
    if (c.IsObject() && StringMember(c, "type") == type) {
      return Condition{std::string(type), std::string(StringMember(c, "status")), std::string(StringMember(c, "reason")),
                       std::string(StringMember(c, "message"))};
    }
  }
  return std::nullopt;
}

}  // namespace

void SetAcceptedStatus(rapidjson::Value& crd, rapidjson::Document::AllocatorType& a,
                       const std::vector<const rapidjson::Value*>& other_crds_in_group, std::string_view now) {
  if (!crd.IsObject()) return;
  const rapidjson::Value* spec = Object(&crd, "spec");
  std::string_view group = spec ? StringMember(*spec, "group") : "";
  const rapidjson::Value* metadata = Object(&crd, "metadata");
  std::string_view name = metadata ? StringMember(*metadata, "name") : "";

  // Names other CRDs of the group have accepted.
  std::set<std::string> used_resources, used_kinds;
  for (const rapidjson::Value* other : other_crds_in_group) {
    if (!other || !other->IsObject()) continue;
    const rapidjson::Value* ospec = Object(other, "spec");
    const rapidjson::Value* ometa = Object(other, "metadata");
    if (!ospec || StringMember(*ospec, "group") != group) continue;
    if (ometa && StringMember(*ometa, "name") == name) continue;
    Names n = ReadNames(Object(Object(other, "status"), "acceptedNames"));
    for (const std::string& s : {n.plural, n.singular}) {
      if (!s.empty()) used_resources.insert(s);
    }
    used_resources.insert(n.short_names.begin(), n.short_names.end());
    if (!n.kind.empty()) used_kinds.insert(n.kind);
    if (!n.list_kind.empty()) used_kinds.insert(n.list_kind);
  }

  rapidjson::Value& status = json::EnsureObjectMember(crd, "status", a);
  Names requested = ReadNames(spec ? Object(spec, "names") : nullptr);
  Names accepted = ReadNames(Object(&status, "acceptedNames"));
  Names result = accepted;
  Condition names_accepted{"NamesAccepted", "Unknown", "", ""};
  auto check = [&](const std::string& req, const std::string& acc, const std::set<std::string>& used,
                   const char* reason, std::string* target) {
    if (auto err = Conflict(req, acc, used)) {
      names_accepted.status = "False";
      names_accepted.reason = reason;
      names_accepted.message = *err;
    } else {
      *target = req;
    }
  };
  check(requested.plural, accepted.plural, used_resources, "PluralConflict", &result.plural);
  check(requested.singular, accepted.singular, used_resources, "SingularConflict", &result.singular);
  if (requested.short_names != accepted.short_names) {
    std::vector<std::string> errors;
    for (const std::string& s : requested.short_names) {
      if (std::find(accepted.short_names.begin(), accepted.short_names.end(), s) != accepted.short_names.end()) continue;
      if (auto err = Conflict(s, "", used_resources)) errors.push_back(*err);
    }
    if (!errors.empty()) {
      names_accepted.status = "False";
      names_accepted.reason = "ShortNamesConflict";
      if (errors.size() == 1) {
        names_accepted.message = errors[0];
      } else {  // utilerrors.NewAggregate's text
        std::string joined;
        for (const std::string& e : errors) joined += (joined.empty() ? "" : ", ") + e;
        names_accepted.message = "[" + joined + "]";
      }
    } else {
      result.short_names = requested.short_names;
    }
  }
  check(requested.kind, accepted.kind, used_kinds, "KindConflict", &result.kind);
  check(requested.list_kind, accepted.list_kind, used_kinds, "ListKindConflict", &result.list_kind);
  result.categories = requested.categories;
  if (names_accepted.status == "Unknown") {
    names_accepted = {"NamesAccepted", "True", "NoConflicts", "no conflicts found"};
  }

  rapidjson::Value names_json(rapidjson::kObjectType);
  names_json.AddMember("plural", Str(result.plural, a), a);
  if (!result.singular.empty()) names_json.AddMember("singular", Str(result.singular, a), a);
  if (!result.short_names.empty()) names_json.AddMember("shortNames", StrList(result.short_names, a), a);
  names_json.AddMember("kind", Str(result.kind, a), a);
  if (!result.list_kind.empty()) names_json.AddMember("listKind", Str(result.list_kind, a), a);
  if (!result.categories.empty()) names_json.AddMember("categories", StrList(result.categories, a), a);
  json::SetMember(status, "acceptedNames", std::move(names_json), a);

  Condition established{"Established", "False", "NotAccepted", "not all names are accepted"};
  if (std::optional<Condition> old = FindCondition(status, "Established")) established = *old;
  if (established.status != "True" && names_accepted.status == "True") {
    established = {"Established", "True", "InitialNamesAccepted", "the initial names have been accepted"};
  }
  SetCondition(status, names_accepted, now, a);
  SetCondition(status, established, now, a);

  // storedVersions: keep what is there, add the storage version.
  std::vector<std::string> stored = Strings(&status, "storedVersions");
  const rapidjson::Value* versions = spec ? Member(*spec, "versions") : nullptr;
  if (versions && versions->IsArray()) {
    for (const auto& v : versions->GetArray()) {
      const rapidjson::Value* storage = v.IsObject() ? Member(v, "storage") : nullptr;
      if (!storage || !storage->IsBool() || !storage->GetBool()) continue;
      std::string sv(StringMember(v, "name"));
      if (std::find(stored.begin(), stored.end(), sv) == stored.end()) stored.push_back(sv);
      break;
    }
  }
  json::SetMember(status, "storedVersions", StrList(stored, a), a);
}

bool IsEstablished(const rapidjson::Value& crd) {
  const rapidjson::Value* status = json::Member(crd, "status");
  const rapidjson::Value* conditions = status ? json::Member(*status, "conditions") : nullptr;
  if (!conditions || !conditions->IsArray()) return false;
  for (const rapidjson::Value& c : conditions->GetArray()) {
    if (json::StringMember(c, "type") == "Established" && json::StringMember(c, "status") == "True") return true;
  }
  return false;
}

}  // namespace kite::crd
