#include "src/server/apiserver/hpa_conversion.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "src/server/json/json_util.h"

namespace kite::apiserver {
namespace {

using rapidjson::Document;
using rapidjson::Value;
using Alloc = Document::AllocatorType;
using json::Member;

// One field of a metric source or status: its v1 name, and where v2 keeps it (a member of
// the source itself when `v2_parent` is empty, else of that nested object).
struct FieldMap {
  const char* v1;
  const char* v2_parent;
  const char* v2;
};

struct MetricShape {
  const char* type;    // MetricSpec.type
  const char* member;  // the member holding the source (same name in v1 and v2)
  std::vector<FieldMap> spec;
  std::vector<FieldMap> status;
};

const std::vector<MetricShape>& Shapes() {
  static const std::vector<MetricShape> shapes = {
      {"Object",
       "object",
       {{"target", "", "describedObject"},
        {"metricName", "metric", "name"},
        {"targetValue", "target", "value"},
        {"selector", "metric", "selector"},
        {"averageValue", "target", "averageValue"}},
       {{"target", "", "describedObject"},
        {"metricName", "metric", "name"},
        {"currentValue", "current", "value"},
        {"selector", "metric", "selector"},
        {"averageValue", "current", "averageValue"}}},
      {"Pods",
       "pods",
       {{"metricName", "metric", "name"},
        {"targetAverageValue", "target", "averageValue"},
        {"selector", "metric", "selector"}},
       {{"metricName", "metric", "name"},
        {"currentAverageValue", "current", "averageValue"},
        {"selector", "metric", "selector"}}},
      {"Resource",
       "resource",
       {{"name", "", "name"},
        {"targetAverageUtilization", "target", "averageUtilization"},
        {"targetAverageValue", "target", "averageValue"}},
       {{"name", "", "name"},
        {"currentAverageUtilization", "current", "averageUtilization"},
        {"currentAverageValue", "current", "averageValue"}}},
      {"ContainerResource",
       "containerResource",
       {{"name", "", "name"},
        {"container", "", "container"},
        {"targetAverageUtilization", "target", "averageUtilization"},
        {"targetAverageValue", "target", "averageValue"}},
       {{"name", "", "name"},
        {"container", "", "container"},
        {"currentAverageUtilization", "current", "averageUtilization"},
        {"currentAverageValue", "current", "averageValue"}}},
      {"External",
       "external",
       {{"metricName", "metric", "name"},
        {"metricSelector", "metric", "selector"},
        {"targetValue", "target", "value"},
        {"targetAverageValue", "target", "averageValue"}},
       {{"metricName", "metric", "name"},
        {"metricSelector", "metric", "selector"},
        {"currentValue", "current", "value"},
        {"currentAverageValue", "current", "averageValue"}}},
  };
  return shapes;
}

const MetricShape* ShapeOf(const Value& metric) {
  std::string_view type = json::StringMember(metric, "type");
  for (const MetricShape& s : Shapes()) {
    if (type == s.type) return &s;
  }
  return nullptr;
}

// Copies src[from] (when there) to dst[to].
void Copy(const Value* src, std::string_view from, Value& dst, std::string_view to, Alloc& a) {
  if (!src) return;
  if (const Value* v = Member(*src, from)) json::SetMember(dst, to, Value(*v, a), a);
}

// A v2 metric (spec or status) in v1 form.
Value MetricToV1(const Value& metric, bool status, Alloc& a) {
  Value out(rapidjson::kObjectType);
  Copy(&metric, "type", out, "type", a);
  const MetricShape* shape = ShapeOf(metric);
  const Value* source = shape ? Member(metric, shape->member) : nullptr;
  if (!source || !source->IsObject()) return out;
  Value v1(rapidjson::kObjectType);
  for (const FieldMap& f : status ? shape->status : shape->spec) {
    const Value* parent = *f.v2_parent ? Member(*source, f.v2_parent) : source;
    Copy(parent, f.v2, v1, f.v1, a);
  }
  json::SetMember(out, shape->member, std::move(v1), a);
  return out;
}

// The v2 target type a v1 metric source implies.
const char* TargetType(std::string_view type, const Value& v1) {
  if (type == "Object") return Member(v1, "averageValue") ? "AverageValue" : "Value";
  if (type == "Pods") return "AverageValue";
  if (type == "External") return Member(v1, "targetValue") ? "Value" : "AverageValue";
  return Member(v1, "targetAverageUtilization") ? "Utilization" : "AverageValue";  // (Container)Resource
}

// A v1 metric (spec or status) in v2 form.
Value MetricToV2(const Value& metric, bool status, Alloc& a) {
  Value out(rapidjson::kObjectType);
  Copy(&metric, "type", out, "type", a);
  const MetricShape* shape = ShapeOf(metric);
  const Value* v1 = shape ? Member(metric, shape->member) : nullptr;
  if (!v1 || !v1->IsObject()) return out;
  Value source(rapidjson::kObjectType);
  Value target(rapidjson::kObjectType);  // spec only; after the identifying members
  if (!status) target.AddMember("type", Value(TargetType(shape->type, *v1), a), a);
  for (const FieldMap& f : status ? shape->status : shape->spec) {
    const Value* v = Member(*v1, f.v1);
    if (!v) continue;
    std::string_view parent_name = f.v2_parent;
    Value& parent = parent_name.empty()       ? source
                    : parent_name == "target" ? target
                                              : json::EnsureObjectMember(source, parent_name, a);
    json::SetMember(parent, f.v2, Value(*v, a), a);
  }
  if (!status) source.AddMember("target", std::move(target), a);
  json::SetMember(out, shape->member, std::move(source), a);
  return out;
}

bool IsCpuResource(const Value& metric) {
  if (json::StringMember(metric, "type") != "Resource") return false;
  const Value* resource = Member(metric, "resource");
  return resource && json::StringMember(*resource, "name") == "cpu";
}

// metric.resource.<holder>.averageUtilization, or null.
const Value* CpuUtilization(const Value& metric, const char* holder) {
  if (!IsCpuResource(metric)) return nullptr;
  const Value* h = Member(*Member(metric, "resource"), holder);
  const Value* u = h ? Member(*h, "averageUtilization") : nullptr;
  return u && !u->IsNull() ? u : nullptr;
}

Value CpuUtilizationMetric(const Value& percent, bool status, Alloc& a) {
  Value holder(rapidjson::kObjectType);
  if (!status) holder.AddMember("type", "Utilization", a);
  holder.AddMember("averageUtilization", Value(percent, a), a);
  Value resource(rapidjson::kObjectType);
  resource.AddMember("name", "cpu", a);
  resource.AddMember(rapidjson::StringRef(status ? "current" : "target"), std::move(holder), a);
  Value metric(rapidjson::kObjectType);
  metric.AddMember("type", "Resource", a);
  metric.AddMember("resource", std::move(resource), a);
  return metric;
}

// Makes `built` (apiVersion, kind, metadata, spec, status) the object, followed by the
// other top-level members `doc` had.
void Finish(Document& doc, Value& built) {
  auto& a = doc.GetAllocator();
  for (auto& m : doc.GetObject()) {
    std::string_view name(m.name.GetString(), m.name.GetStringLength());
    if (name == "apiVersion" || name == "kind" || name == "metadata" || name == "spec" || name == "status") continue;
    built.AddMember(m.name, m.value, a);
  }
  static_cast<Value&>(doc).Swap(built);
}

// Removes annotation `key` and parses it; nullopt when absent.
Result<std::optional<Document>> TakeAnnotation(Value* annotations, std::string_view key) {
  if (!annotations) return std::optional<Document>();
  const Value* v = Member(*annotations, key);
  if (!v) return std::optional<Document>();
  std::string where = "metadata.annotations[" + std::string(key) + "]";
  if (!v->IsString()) return InvalidArgumentError(where + ": must be a string");
  Result<Document> parsed = json::ParseJson(std::string_view(v->GetString(), v->GetStringLength()));
  if (!parsed.ok()) return InvalidArgumentError(where + ": " + parsed.status().message());
  json::RemoveMember(*annotations, key);
  return std::optional<Document>(std::move(parsed).value());
}

// Parses an annotation that must hold an array of objects.
Result<std::optional<Document>> TakeObjectArray(Value* annotations, std::string_view key) {
  Result<std::optional<Document>> taken = TakeAnnotation(annotations, key);
  if (!taken.ok() || !taken->has_value()) return taken;
  const Document& d = **taken;
  bool ok = d.IsArray();
  if (ok) {
    for (const Value& e : d.GetArray()) ok = ok && e.IsObject();
  }
  if (!ok) {
    return InvalidArgumentError("metadata.annotations[" + std::string(key) + "]: must be a JSON array of objects");
  }
  return taken;
}

}  // namespace

Status HpaV2ToV1(Document& doc) {
  if (!doc.IsObject()) return InvalidArgumentError("a HorizontalPodAutoscaler must be a JSON object");
  auto& a = doc.GetAllocator();
  Value out(rapidjson::kObjectType);
  out.AddMember("apiVersion", "autoscaling/v1", a);
  Copy(&doc, "kind", out, "kind", a);
  const Value* md_in = Member(doc, "metadata");
  Value md(rapidjson::kObjectType);
  if (md_in && md_in->IsObject()) md.CopyFrom(*md_in, a);
  out.AddMember("metadata", Value(rapidjson::kObjectType), a);  // filled in at the end
  std::vector<std::pair<std::string_view, std::string>> notes;

  if (const Value* spec = Member(doc, "spec"); spec && spec->IsObject()) {
    Value s(rapidjson::kObjectType);
    for (const char* f : {"scaleTargetRef", "minReplicas", "maxReplicas"}) Copy(spec, f, s, f, a);
    if (const Value* metrics = Member(*spec, "metrics"); metrics && metrics->IsArray()) {
      Value others(rapidjson::kArrayType);
      bool cpu_seen = false;
      for (const Value& m : metrics->GetArray()) {
        if (!m.IsObject()) continue;
        const Value* util = CpuUtilization(m, "target");
        if (IsCpuResource(m) && !cpu_seen) {
          cpu_seen = true;
          if (util) json::SetMember(s, "targetCPUUtilizationPercentage", Value(*util, a), a);
        }
        if (util) continue;
        others.PushBack(MetricToV1(m, false, a), a);
      }
      if (!others.Empty()) notes.emplace_back(kHpaMetricsAnnotation, json::ToJson(others));
    }
    if (const Value* behavior = Member(*spec, "behavior"); behavior && !behavior->IsNull()) {
      notes.emplace_back(kHpaBehaviorAnnotation, json::ToJson(*behavior));
    }
    out.AddMember("spec", std::move(s), a);
  }

  if (const Value* status = Member(doc, "status"); status && status->IsObject()) {
    Value s(rapidjson::kObjectType);
    for (const char* f : {"observedGeneration", "lastScaleTime", "currentReplicas", "desiredReplicas"}) {
      Copy(status, f, s, f, a);
    }
    if (const Value* current = Member(*status, "currentMetrics"); current && current->IsArray()) {
      Value all(rapidjson::kArrayType);
      for (const Value& m : current->GetArray()) {
        if (!m.IsObject()) continue;
        if (const Value* util = CpuUtilization(m, "current")) {
          json::SetMember(s, "currentCPUUtilizationPercentage", Value(*util, a), a);
        }
        all.PushBack(MetricToV1(m, true, a), a);
      }
      if (!all.Empty()) notes.emplace_back(kHpaCurrentMetricsAnnotation, json::ToJson(all));
    }
    if (const Value* conditions = Member(*status, "conditions");
        conditions && conditions->IsArray() && !conditions->Empty()) {
      notes.emplace_back(kHpaConditionsAnnotation, json::ToJson(*conditions));
    }
    out.AddMember("status", std::move(s), a);
  }

  if (!notes.empty()) {
    Value& annotations = json::EnsureObjectMember(md, "annotations", a);
    if (!annotations.IsObject()) annotations.SetObject();
    for (auto& [key, value] : notes) json::SetStringMember(annotations, key, value, a);
  }
  *json::MutableMember(out, "metadata") = md;
  Finish(doc, out);
  return Status::Ok();
}

Status HpaV1ToV2(Document& doc) {
  if (!doc.IsObject()) return InvalidArgumentError("a HorizontalPodAutoscaler must be a JSON object");
  auto& a = doc.GetAllocator();
  Value out(rapidjson::kObjectType);
  out.AddMember("apiVersion", "autoscaling/v2", a);
  Copy(&doc, "kind", out, "kind", a);
  const Value* md_in = Member(doc, "metadata");
  Value md(rapidjson::kObjectType);
  if (md_in && md_in->IsObject()) md.CopyFrom(*md_in, a);
  Value* annotations = json::MutableMember(md, "annotations");
  if (annotations && !annotations->IsObject()) annotations = nullptr;

  Result<std::optional<Document>> metrics_note = TakeObjectArray(annotations, kHpaMetricsAnnotation);
  if (!metrics_note.ok()) return metrics_note.status();
  Result<std::optional<Document>> behavior_note = TakeAnnotation(annotations, kHpaBehaviorAnnotation);
  if (!behavior_note.ok()) return behavior_note.status();
  if (behavior_note->has_value() && !(**behavior_note).IsObject()) {
    return InvalidArgumentError("metadata.annotations[" + std::string(kHpaBehaviorAnnotation) +
                                "]: must be a JSON object");
  }
  Result<std::optional<Document>> current_note = TakeObjectArray(annotations, kHpaCurrentMetricsAnnotation);
  if (!current_note.ok()) return current_note.status();
  Result<std::optional<Document>> conditions_note = TakeObjectArray(annotations, kHpaConditionsAnnotation);
  if (!conditions_note.ok()) return conditions_note.status();
  if (annotations && annotations->ObjectEmpty()) json::RemoveMember(md, "annotations");
  out.AddMember("metadata", std::move(md), a);

  const Value* spec = Member(doc, "spec");
  Value s(rapidjson::kObjectType);
  for (const char* f : {"scaleTargetRef", "minReplicas", "maxReplicas"}) Copy(spec, f, s, f, a);
  Value metrics(rapidjson::kArrayType);
  if (metrics_note->has_value()) {
    for (const Value& m : (**metrics_note).GetArray()) metrics.PushBack(MetricToV2(m, false, a), a);
  }
  const Value* target = spec ? Member(*spec, "targetCPUUtilizationPercentage") : nullptr;
  if (target && !target->IsNull()) metrics.PushBack(CpuUtilizationMetric(*target, false, a), a);
  // v1 used to mean "80% cpu" when it named no target; v2 says so explicitly.
  if (metrics.Empty()) metrics.PushBack(CpuUtilizationMetric(Value(80), false, a), a);
  s.AddMember("metrics", std::move(metrics), a);
  if (behavior_note->has_value()) s.AddMember("behavior", Value(**behavior_note, a), a);
  out.AddMember("spec", std::move(s), a);

  const Value* status = Member(doc, "status");
  if ((status && status->IsObject()) || current_note->has_value() || conditions_note->has_value()) {
    Value st(rapidjson::kObjectType);
    for (const char* f : {"observedGeneration", "lastScaleTime", "currentReplicas", "desiredReplicas"}) {
      Copy(status, f, st, f, a);
    }
    Value current(rapidjson::kArrayType);
    const Value* cpu = status ? Member(*status, "currentCPUUtilizationPercentage") : nullptr;
    if (current_note->has_value()) {
      // The annotation has more than the cpu percentage: it wins.
      for (const Value& m : (**current_note).GetArray()) current.PushBack(MetricToV2(m, true, a), a);
    } else if (cpu && !cpu->IsNull()) {
      current.PushBack(CpuUtilizationMetric(*cpu, true, a), a);
    }
    if (!current.Empty()) st.AddMember("currentMetrics", std::move(current), a);
    if (conditions_note->has_value()) st.AddMember("conditions", Value(**conditions_note, a), a);
    out.AddMember("status", std::move(st), a);
  }
  Finish(doc, out);
  return Status::Ok();
}

Status ConvertHorizontalPodAutoscaler(Document& object, std::string_view from_version,
                                      std::string_view to_version) {
  if (from_version == to_version) return Status::Ok();
  if (from_version == "v2" && to_version == "v1") return HpaV2ToV1(object);
  if (from_version == "v1" && to_version == "v2") return HpaV1ToV2(object);
  return InvalidArgumentError("cannot convert HorizontalPodAutoscaler from autoscaling/" +
                              std::string(from_version) + " to autoscaling/" + std::string(to_version));
}

}  // namespace kite::apiserver
