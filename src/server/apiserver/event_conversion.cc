#include "src/server/apiserver/event_conversion.h"

#include "src/server/json/json_util.h"

namespace kite::apiserver {
namespace {

struct FieldPair {
  const char* core;
  const char* events_v1;
};

constexpr FieldPair kRenamed[] = {
    {"involvedObject", "regarding"},
    {"message", "note"},
    {"reportingComponent", "reportingController"},
    {"source", "deprecatedSource"},
    {"firstTimestamp", "deprecatedFirstTimestamp"},
    {"lastTimestamp", "deprecatedLastTimestamp"},
    {"count", "deprecatedCount"},
};

constexpr std::string_view kCoreApiVersion = "v1";
constexpr std::string_view kEventsV1ApiVersion = "events.k8s.io/v1";

// Renames each `from` member of every pair to its `to` name, after dropping members that
// already carry a `to` name (not fields of the object's version).
void Rename(rapidjson::Document& object, bool to_events_v1, std::string_view api_version) {
  if (!object.IsObject()) return;
  auto& a = object.GetAllocator();
  for (const FieldPair& p : kRenamed) {
    const char* stale = to_events_v1 ? p.events_v1 : p.core;
    while (object.HasMember(stale)) json::RemoveMember(object, stale);  // duplicates too
  }
  for (auto& m : object.GetObject()) {
    std::string_view name(m.name.GetString(), m.name.GetStringLength());
    for (const FieldPair& p : kRenamed) {
      std::string_view from = to_events_v1 ? p.core : p.events_v1;
      if (name != from) continue;
      m.name.SetString(rapidjson::StringRef(to_events_v1 ? p.events_v1 : p.core));
      break;
    }
  }
  json::SetStringMember(object, "apiVersion", api_version, a);
}

}  // namespace

void CoreEventToEventsV1(rapidjson::Document& object) { Rename(object, true, kEventsV1ApiVersion); }

void EventsV1EventToCore(rapidjson::Document& object) { Rename(object, false, kCoreApiVersion); }

Status ConvertEvent(rapidjson::Document& object, std::string_view from_api_version,
                    std::string_view to_api_version) {
  if (from_api_version == to_api_version) return Status::Ok();
  if (from_api_version == kCoreApiVersion && to_api_version == kEventsV1ApiVersion) {
    CoreEventToEventsV1(object);
    return Status::Ok();
  }
  if (from_api_version == kEventsV1ApiVersion && to_api_version == kCoreApiVersion) {
    EventsV1EventToCore(object);
    return Status::Ok();
  }
  return InvalidArgumentError("cannot convert an Event from \"" + std::string(from_api_version) + "\" to \"" +
                              std::string(to_api_version) + "\"");
}

}  // namespace kite::apiserver
