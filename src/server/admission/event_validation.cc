#include "src/server/admission/event_validation.h"

#include <iterator>
#include <optional>
#include <string>

#include "src/server/admission/json_fields.h"
#include "src/server/admission/value_checks.h"
#include "src/server/selection/label_validation.h"

namespace kite::admission {
namespace {

using selection::GoQuote;

constexpr size_t kReportingInstanceLengthLimit = 128;
constexpr size_t kActionLengthLimit = 128;
constexpr size_t kReasonLengthLimit = 128;
constexpr size_t kNoteLengthLimit = 1024;

// The fields the rules read, each read (and its type checked) once.
struct EventFields {
  std::string_view ns;
  std::string_view involved_ns;
  std::string_view event_time;
  std::string_view reporting_controller;  // core v1 JSON: reportingComponent
  std::string_view reporting_instance;
  std::string_view action;
  std::string_view reason;
  std::string_view message;
  std::string_view type;
  std::string_view first_timestamp;
  std::string_view last_timestamp;
  int64_t count = 0;
  std::string_view source_component;
  std::string_view source_host;
  const Value* series = nullptr;
  int64_t series_count = 0;
  std::string_view series_last_observed;
};

std::string_view String(Causes* c, const Value* parent, std::string_view name, const std::string& path) {
  return GetString(c, parent, name, path).value_or(std::string_view());
}

EventFields Read(Causes* c, const Value& event) {
  EventFields f;
  const Value* md = Get(&event, "metadata");
  f.ns = String(nullptr, md, "namespace", "metadata.namespace");
  const Value* involved = GetObject(c, &event, "involvedObject", "involvedObject");
  f.involved_ns = String(c, involved, "namespace", "involvedObject.namespace");
  f.event_time = String(c, &event, "eventTime", "eventTime");
  f.reporting_controller = String(c, &event, "reportingComponent", "reportingController");
  f.reporting_instance = String(c, &event, "reportingInstance", "reportingInstance");
  f.action = String(c, &event, "action", "action");
  f.reason = String(c, &event, "reason", "reason");
  f.message = String(c, &event, "message", "message");
  f.type = String(c, &event, "type", "type");
  f.first_timestamp = String(c, &event, "firstTimestamp", "firstTimestamp");
  f.last_timestamp = String(c, &event, "lastTimestamp", "lastTimestamp");
  f.count = GetInt32(c, &event, "count", "count").value_or(0);
  const Value* source = GetObject(c, &event, "source", "source");
  f.source_component = String(c, source, "component", "source.component");
  f.source_host = String(c, source, "host", "source.host");
  f.series = GetObject(c, &event, "series", "series");
  f.series_count = GetInt32(c, f.series, "count", "series.count").value_or(0);
  f.series_last_observed = String(c, f.series, "lastObservedTime", "series.lastObservedTime");
  return f;
}


void CheckLimit(Causes& c, const char* path, std::string_view value, size_t limit) {
  if (value.size() > limit) c.Invalid(path, "", "can have at most " + std::to_string(limit) + " characters");
}

void LegacyRules(Causes& c, const EventFields& f) {
  // Events without eventTime are from old clients: only the namespaces must agree.
  if (IsZeroTime(f.event_time)) {
    bool agree = f.involved_ns.empty() ? (f.ns.empty() || f.ns == "default") : f.ns == f.involved_ns;
    if (!agree) c.Invalid("involvedObject.namespace", f.involved_ns, "does not match event.namespace");
  } else {
    if (f.involved_ns.empty() && f.ns != "default" && f.ns != "kube-system") {
      c.Invalid("involvedObject.namespace", f.involved_ns, "does not match event.namespace");
    }
    if (f.reporting_controller.empty()) c.Required("reportingController");
    c.InvalidEach("reportingController", f.reporting_controller, QualifiedNameErrors(f.reporting_controller));
    if (f.reporting_instance.empty()) c.Required("reportingInstance");
    CheckLimit(c, "reportingInstance", f.reporting_instance, kReportingInstanceLengthLimit);
    if (f.action.empty()) c.Required("action");
    CheckLimit(c, "action", f.action, kActionLengthLimit);
    if (f.reason.empty()) c.Required("reason");
    CheckLimit(c, "reason", f.reason, kReasonLengthLimit);
    CheckLimit(c, "message", f.message, kNoteLengthLimit);
  }
  c.InvalidEach("namespace", f.ns, Dns1123SubdomainErrors(f.ns));
}

void SeriesRules(Causes& c, const EventFields& f) {
  if (!f.series) return;
  if (f.series_count < 2) c.Invalid("series.count", "", "should be at least 2");
  if (IsZeroTime(f.series_last_observed)) c.Required("series.lastObservedTime");
}

void StrictCreateRules(Causes& c, const EventFields& f) {
  SeriesRules(c, f);
  if (IsZeroTime(f.event_time)) c.Required("eventTime");
  if (f.type != "Normal" && f.type != "Warning") c.Invalid("type", "", "has invalid value: " + std::string(f.type));
  if (!IsZeroTime(f.first_timestamp)) c.Invalid("firstTimestamp", "", "needs to be unset");
  if (!IsZeroTime(f.last_timestamp)) c.Invalid("lastTimestamp", "", "needs to be unset");
  if (f.count != 0) c.Invalid("count", "", "needs to be unset");
  if (!f.source_component.empty() || !f.source_host.empty()) c.Invalid("source", "", "needs to be unset");
}

// ---- Values as Go prints them in "field is immutable" messages ------------------------

// %#v of a core.ObjectReference.
std::string GoObjectReference(const Value* ref) {
  static constexpr std::pair<const char*, const char*> kFields[] = {
      {"Kind", "kind"}, {"Namespace", "namespace"}, {"Name", "name"}, {"UID", "uid"},
      {"APIVersion", "apiVersion"}, {"ResourceVersion", "resourceVersion"}, {"FieldPath", "fieldPath"}};
  std::string out = "core.ObjectReference{";
  for (size_t i = 0; i < std::size(kFields); ++i) {
    if (i) out += ", ";
    out += std::string(kFields[i].first) + ":" + GoQuote(String(nullptr, ref, kFields[i].second, ""));
  }
  return out + "}";
}

// %#v of a core.EventSource.
std::string GoEventSource(const Value* source) {
  return "core.EventSource{Component:" + GoQuote(String(nullptr, source, "component", "")) +
         ", Host:" + GoQuote(String(nullptr, source, "host", "")) + "}";
}

void StrictUpdateRules(Causes& c, const Value& event, const Value& old, const EventFields& f) {
  const Value* series = Get(&event, "series");
  const Value* old_series = Get(&old, "series");
  if ((series == nullptr) != (old_series == nullptr) || !SemanticEqual(series, old_series)) SeriesRules(c, f);

  auto changed = [&](const char* name) { return !SemanticEqual(Get(&event, name), Get(&old, name)); };
  auto immutable_string = [&](const char* name, const char* path, std::string_view value) {
    if (changed(name)) c.Invalid(path, value, kFieldImmutableErrorMsg);
  };
  auto immutable_time = [&](const char* name, std::string_view value) {
    if (changed(name)) c.InvalidRaw(name, GoTime(value), kFieldImmutableErrorMsg);
  };
  if (changed("involvedObject")) {
    c.InvalidRaw("involvedObject", GoObjectReference(Get(&event, "involvedObject")), kFieldImmutableErrorMsg);
  }
  immutable_string("reason", "reason", f.reason);
  immutable_string("message", "message", f.message);
  if (changed("source")) c.InvalidRaw("source", GoEventSource(Get(&event, "source")), kFieldImmutableErrorMsg);
  immutable_time("firstTimestamp", f.first_timestamp);
  immutable_time("lastTimestamp", f.last_timestamp);
  if (changed("count")) c.InvalidInt("count", f.count, kFieldImmutableErrorMsg);
  // Kubernetes checks reason twice, so a changed reason is reported twice.
  immutable_string("reason", "reason", f.reason);
  immutable_string("type", "type", f.type);
  immutable_time("eventTime", f.event_time);
  immutable_string("action", "action", f.action);
  if (changed("related")) {
    const Value* related = Get(&event, "related");
    // A nil pointer prints as the string "null", quoted.
    c.InvalidRaw("related", related ? GoObjectReference(related) : GoQuote("null"), kFieldImmutableErrorMsg);
  }
  immutable_string("reportingComponent", "reportingController", f.reporting_controller);
  immutable_string("reportingInstance", "reportingInstance", f.reporting_instance);
}

}  // namespace

std::vector<validation::StatusCause> ValidateEvent(const rapidjson::Value& event, const rapidjson::Value* old,
                                                   std::string_view request_api_version) {
  Causes c;
  if (!event.IsObject()) {
    c.TypeInvalid("", event, "object");
    return std::move(c.list());
  }
  EventFields f = Read(&c, event);
  LegacyRules(c, f);
  // Core v1 (and events.k8s.io/v1beta1) writes keep the old, lax rules.
  if (request_api_version == "v1" || request_api_version == "events.k8s.io/v1beta1") return std::move(c.list());
  if (old && old->IsObject()) {
    StrictUpdateRules(c, event, *old, f);
  } else {
    StrictCreateRules(c, f);
  }
  return std::move(c.list());
}

}  // namespace kite::admission
