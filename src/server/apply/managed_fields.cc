#include "src/server/apply/managed_fields.h"

#include <algorithm>
#include <cstdio>
#include <vector>

#include "src/server/json/json_util.h"

namespace kite::apply {
namespace {

using rapidjson::Value;

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void SetString(Value& object, const char* name, const std::string& value,
               rapidjson::Document::AllocatorType& a) {
  object.AddMember(rapidjson::StringRef(name),
                   Value(value.c_str(), static_cast<rapidjson::SizeType>(value.size()), a), a);
}

}  // namespace

int64_t UnixSeconds(const std::string& t) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0, n = 0;
  if (std::sscanf(t.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s, &n) != 6) {
    return 0;
  }
  size_t i = static_cast<size_t>(n);
  if (i < t.size() && t[i] == '.') {
    ++i;
    while (i < t.size() && t[i] >= '0' && t[i] <= '9') ++i;
  }
  int64_t offset = 0;
  if (i < t.size() && (t[i] == '+' || t[i] == '-')) {
    int oh = 0, om = 0;
    if (std::sscanf(t.c_str() + i + 1, "%2d:%2d", &oh, &om) == 2) {
      offset = (t[i] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
    }
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31) return 0;
  return DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * 86400 + h * 3600 +
         mi * 60 + s - offset;
}

std::string IdentityKey(const std::string& manager, const std::string& operation,
                        const std::string& api_version, const std::string& subresource) {
  // The JSON of a ManagedFieldsEntry holding only these, as Kubernetes builds it (its fields
  // are omitempty, in the Go struct's order).
  std::string out = "{";
  auto add = [&](const char* name, const std::string& value) {
    if (value.empty()) return;
    if (out.size() > 1) out.push_back(',');
    out += "\"";
    out += name;
    out += "\":";
    out += GoJsonString(value);
  };
  add("manager", manager);
  add("operation", operation);
  if (operation != kOperationApply) add("apiVersion", api_version);
  add("subresource", subresource);
  out.push_back('}');
  return out;
}

Result<ManagedFields> DecodeManagedFields(const Value& list) {
  if (!list.IsArray()) return InvalidArgumentError("managedFields must be a list");
  ManagedFields out;
  rapidjson::SizeType i = 0;
  for (const Value& item : list.GetArray()) {
    const std::string index = std::to_string(i++);
    if (!item.IsObject()) return InvalidArgumentError("managed fields entry " + index + " is not an object");
    ManagedEntry e;
    e.manager = std::string(json::StringMember(item, "manager"));
    e.operation = std::string(json::StringMember(item, "operation"));
    e.api_version = std::string(json::StringMember(item, "apiVersion"));
    e.subresource = std::string(json::StringMember(item, "subresource"));
    if (e.operation != kOperationApply && e.operation != kOperationUpdate) {
      return InvalidArgumentError("operation must be `Apply` or `Update`");
    }
    if (e.api_version.empty()) return InvalidArgumentError("apiVersion must not be empty");
    std::string_view fields_type = json::StringMember(item, "fieldsType");
    if (fields_type.empty()) {
      return InvalidArgumentError("missing fieldsType in managed fields entry " + index);
    }
    if (fields_type != "FieldsV1") {
      return InvalidArgumentError("invalid fieldsType " + GoJsonString(fields_type) +
                                  " in managed fields entry " + index);
    }
    if (const Value* fields = json::Member(item, "fieldsV1"); fields != nullptr && !fields->IsNull()) {
      Result<FieldSet> set = FieldSet::FromFieldsV1(*fields);
      if (!set.ok()) {
        return InvalidArgumentError("error decoding managed fields entry " + index + ": " +
                                    set.status().message());
      }
      e.fields = std::move(set).value();
    }
    if (const Value* t = json::Member(item, "time"); t != nullptr && t->IsString()) {
      e.time = std::string(t->GetString(), t->GetStringLength());
    }
    out[IdentityKey(e)] = std::move(e);
  }
  return out;
}

Value EncodeManagedFields(const ManagedFields& managed, rapidjson::Document::AllocatorType& a) {
  std::vector<const ManagedEntry*> entries;
  for (const auto& [key, e] : managed) entries.push_back(&e);
  std::stable_sort(entries.begin(), entries.end(), [](const ManagedEntry* p, const ManagedEntry* q) {
    if (p->operation != q->operation) return p->operation < q->operation;
    int64_t ps = p->time ? UnixSeconds(*p->time) : 0;
    int64_t qs = q->time ? UnixSeconds(*q->time) : 0;
    if (ps != qs) return ps < qs;
    if (p->manager != q->manager) return p->manager < q->manager;
    if (p->api_version != q->api_version) return p->api_version < q->api_version;
    return p->subresource < q->subresource;
  });
  Value list(rapidjson::kArrayType);
  for (const ManagedEntry* e : entries) {
    Value entry(rapidjson::kObjectType);
    if (!e->manager.empty()) SetString(entry, "manager", e->manager, a);
    SetString(entry, "operation", e->operation, a);
    SetString(entry, "apiVersion", e->api_version, a);
    if (e->time) SetString(entry, "time", *e->time, a);
    entry.AddMember("fieldsType", "FieldsV1", a);
    entry.AddMember("fieldsV1", e->fields.ToFieldsV1(a), a);
    if (!e->subresource.empty()) SetString(entry, "subresource", e->subresource, a);
    list.PushBack(entry, a);
  }
  return list;
}

void CapUpdateManagers(ManagedFields& managed, size_t max_updaters) {
  std::vector<std::string> updaters;
  for (const auto& [key, e] : managed) {
    if (e.operation == kOperationUpdate) updaters.push_back(key);
  }
  if (updaters.size() <= max_updaters) return;
  auto seconds = [&](const std::string& key) {
    const ManagedEntry& e = managed.at(key);
    return e.time ? UnixSeconds(*e.time) : 0;
  };
  std::stable_sort(updaters.begin(), updaters.end(), [&](const std::string& p, const std::string& q) {
    int64_t ps = seconds(p), qs = seconds(q);
    if (ps != qs) return ps < qs;
    return p < q;
  });
  // Oldest first: the first entry of each apiVersion stays until a second one of that
  // version comes; then both go into that version's bucket.
  std::map<std::string, std::string> first_of_version;
  size_t length = updaters.size();
  for (size_t i = 0; i < updaters.size() && length > max_updaters; ++i) {
    const std::string& key = updaters[i];
    ManagedEntry entry = managed.at(key);
    const std::string bucket = IdentityKey("ancient-changes", kOperationUpdate, entry.api_version, "");
    auto first = first_of_version.find(entry.api_version);
    if (first == first_of_version.end()) {
      first_of_version.emplace(entry.api_version, key);
      continue;
    }
    if (!managed.count(bucket)) {
      ManagedEntry moved = managed.at(first->second);
      managed.erase(first->second);
      moved.manager = "ancient-changes";
      moved.operation = kOperationUpdate;
      moved.subresource.clear();
      managed[bucket] = std::move(moved);
    }
    ManagedEntry& b = managed[bucket];
    b.fields = b.fields.Union(entry.fields);
    b.api_version = entry.api_version;
    b.time = entry.time;  // the more recent of the two
    if (key != bucket) managed.erase(key);
    --length;
  }
}

}  // namespace kite::apply
