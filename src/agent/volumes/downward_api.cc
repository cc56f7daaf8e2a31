#include "src/agent/volumes/downward_api.h"

#include "src/server/admission/quantity.h"
#include "src/server/json/json_util.h"
#include "src/server/selection/label_validation.h"

namespace kite::agent::volumes {
namespace {

using admission::Quantity;

std::map<std::string, std::string> StringMap(const rapidjson::Value* object) {
  std::map<std::string, std::string> out;
  if (!object || !object->IsObject()) return out;
  for (const auto& m : object->GetObject()) {
    if (m.value.IsString()) {
      out[std::string(m.name.GetString(), m.name.GetStringLength())] =
          std::string(m.value.GetString(), m.value.GetStringLength());
    }
  }
  return out;
}

std::string Join(const std::vector<std::string>& parts, std::string_view separator) {
  std::string out;
  for (const std::string& p : parts) {
    if (!out.empty()) out += separator;
    out += p;
  }
  return out;
}

// fieldpath.SplitMaybeSubscriptedPath: "metadata.labels['k']" → ("metadata.labels", "k").
bool SplitSubscript(std::string_view path, std::string_view& base, std::string_view& key) {
  if (path.size() < 2 || path.substr(path.size() - 2) != "']") return false;
  std::string_view s = path.substr(0, path.size() - 2);
  size_t open = s.find("['");
  if (open == std::string_view::npos || open == 0) return false;
  base = s.substr(0, open);
  key = s.substr(open + 2);
  return true;
}

std::string ToLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The quantity of resources.<list>.<name>; nullopt when absent. An unparsable value is an
// error (the API server would have refused it).
Result<std::optional<Quantity>> ResourceQuantity(const rapidjson::Value& container, const char* list,
                                                 std::string_view name) {
  const rapidjson::Value* resources = json::Member(container, "resources");
  const rapidjson::Value* values = resources ? json::Member(*resources, list) : nullptr;
  const rapidjson::Value* value = values ? json::Member(*values, name) : nullptr;
  if (!value) return std::optional<Quantity>();
  std::string text;
  if (value->IsString()) {
    text = value->GetString();
  } else if (value->IsInt64()) {
    text = std::to_string(value->GetInt64());
  } else {
    return InvalidArgumentError("invalid quantity for " + std::string(list) + "." + std::string(name));
  }
  Result<Quantity> q = Quantity::Parse(text);
  if (!q.ok()) return q.status();
  return std::optional<Quantity>(*q);
}

int64_t CeilDiv(int64_t value, int64_t divisor) {
  if (divisor <= 0) divisor = 1;
  if (value <= 0) return value / divisor;
  return value / divisor + (value % divisor != 0 ? 1 : 0);
}

}  // namespace

std::string FormatMap(const std::map<std::string, std::string>& entries) {
  std::string out;
  for (const auto& [key, value] : entries) {
    if (!out.empty()) out += "\n";
    out += key + "=" + selection::GoQuote(value);
  }
  return out;
}

Result<std::string> MetadataFieldValue(const rapidjson::Value& pod, std::string_view field_path) {
  const rapidjson::Value* md = json::Member(pod, "metadata");
  std::string_view base, key;
  if (SplitSubscript(field_path, base, key)) {
    std::vector<std::string> errors;
    if (base == "metadata.annotations") {
      errors = selection::QualifiedNameErrors(ToLower(key));
    } else if (base == "metadata.labels") {
      errors = selection::QualifiedNameErrors(key);
    } else {
      return InvalidArgumentError("fieldPath \"" + std::string(field_path) + "\" does not support subscript");
    }
    if (!errors.empty()) {
      std::string joined;
      for (const std::string& e : errors) joined += (joined.empty() ? "" : ";") + e;
      return InvalidArgumentError("invalid key subscript in " + std::string(field_path) + ": " + joined);
    }
    const rapidjson::Value* map = md ? json::Member(*md, base.substr(9)) : nullptr;
    return std::string(map ? json::StringMember(*map, key) : std::string_view());
  }
  if (field_path == "metadata.annotations" || field_path == "metadata.labels") {
    return FormatMap(StringMap(md ? json::Member(*md, field_path.substr(9)) : nullptr));
  }
  if (field_path == "metadata.name" || field_path == "metadata.namespace" || field_path == "metadata.uid") {
    return std::string(md ? json::StringMember(*md, field_path.substr(9)) : std::string_view());
  }
  return InvalidArgumentError("unsupported fieldPath: " + std::string(field_path));
}

Result<std::string> PodFieldValue(const rapidjson::Value& pod, std::string_view field_path,
                                  const std::vector<std::string>& pod_ips,
                                  const std::vector<std::string>& host_ips) {
  const rapidjson::Value* spec = json::Member(pod, "spec");
  if (field_path == "spec.nodeName" || field_path == "spec.serviceAccountName") {
    return std::string(spec ? json::StringMember(*spec, field_path.substr(5)) : std::string_view());
  }
  if (field_path == "status.hostIP") return host_ips.empty() ? std::string() : host_ips.front();
  if (field_path == "status.hostIPs") return Join(host_ips, ",");
  if (field_path == "status.podIP") return pod_ips.empty() ? std::string() : pod_ips.front();
  if (field_path == "status.podIPs") return Join(pod_ips, ",");
  return MetadataFieldValue(pod, field_path);
}

Result<std::string> ResourceFieldValue(const rapidjson::Value& container, std::string_view resource,
                                       std::string_view divisor, const NodeAllocatable& node) {
  size_t dot = resource.find('.');
  std::string_view list = dot == std::string_view::npos ? "" : resource.substr(0, dot);
  std::string_view name = dot == std::string_view::npos ? "" : resource.substr(dot + 1);
  bool cpu = name == "cpu";
  int64_t allocatable = 0;
  if (name == "cpu") {
    allocatable = node.cpu_millis;
  } else if (name == "memory") {
    allocatable = node.memory_bytes;
  } else if (name == "ephemeral-storage") {
    allocatable = node.ephemeral_storage_bytes;
  } else {
    list = "";
  }
  if (list != "limits" && list != "requests") {
    return InvalidArgumentError("unsupported container resource : " + std::string(resource));
  }

  Quantity unit = Quantity::FromInt(1);
  if (!divisor.empty()) {
    Result<Quantity> d = Quantity::Parse(divisor);
    if (!d.ok()) return d.status();
    if (!d->IsZero()) unit = *d;
  }
  Result<std::optional<Quantity>> limit = ResourceQuantity(container, "limits", name);
  if (!limit.ok()) return limit.status();
  // The value in the unit that is divided: milli-units for cpu, units otherwise.
  int64_t amount = 0;
  if (list == "limits") {
    if (*limit) {
      amount = cpu ? (*limit)->MilliValue() : (*limit)->Value();
    } else {
      amount = allocatable;
    }
  } else {
    Result<std::optional<Quantity>> request = ResourceQuantity(container, "requests", name);
    if (!request.ok()) return request.status();
    const std::optional<Quantity>& q = *request ? *request : *limit;
    if (q) amount = cpu ? q->MilliValue() : q->Value();
  }
  return std::to_string(CeilDiv(amount, cpu ? unit.MilliValue() : unit.Value()));
}

const rapidjson::Value* FindContainer(const rapidjson::Value& pod, std::string_view name) {
  const rapidjson::Value* spec = json::Member(pod, "spec");
  if (!spec) return nullptr;
  for (const char* list : {"containers", "initContainers", "ephemeralContainers"}) {
    const rapidjson::Value* containers = json::Member(*spec, list);
    if (!containers || !containers->IsArray()) continue;
    for (const auto& c : containers->GetArray()) {
      if (c.IsObject() && json::StringMember(c, "name") == name) return &c;
    }
  }
  return nullptr;
}

}  // namespace kite::agent::volumes
