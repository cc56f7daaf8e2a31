#include "src/server/client/event_recorder.h"

#include <cstdarg>
#include <cstdio>
#include <vector>

#include "src/server/client/event_broadcaster.h"
#include "src/server/json/json_util.h"

namespace kite::client {
namespace {

// Longer messages are cut: an Event is a note, not a log.
constexpr size_t kMaxMessageBytes = 1024;

std::string CutMessage(std::string_view message) {
  if (message.size() <= kMaxMessageBytes) return std::string(message);
  size_t end = kMaxMessageBytes;
  // Never split a UTF-8 sequence: back up over continuation bytes.
  while (end > 0 && (static_cast<unsigned char>(message[end]) & 0xC0) == 0x80) --end;
  return std::string(message.substr(0, end));
}

}  // namespace

std::string_view EventTypeName(EventType type) { return type == EventType::kWarning ? "Warning" : "Normal"; }

ObjectReference ReferenceTo(const rapidjson::Value& object, std::string_view field_path) {
  ObjectReference ref;
  if (!object.IsObject()) return ref;
  ref.kind = json::StringMember(object, "kind");
  ref.api_version = json::StringMember(object, "apiVersion");
  if (const rapidjson::Value* md = json::Member(object, "metadata"); md && md->IsObject()) {
    ref.ns = json::StringMember(*md, "namespace");
    ref.name = json::StringMember(*md, "name");
    ref.uid = json::StringMember(*md, "uid");
    ref.resource_version = json::StringMember(*md, "resourceVersion");
  }
  ref.field_path = field_path;
  return ref;
}

std::string ContainerFieldPath(std::string_view container_name, bool init_container) {
  std::string path = init_container ? "spec.initContainers{" : "spec.containers{";
  path += container_name;
  path += '}';
  return path;
}

ObjectReference ContainerReferenceTo(const rapidjson::Value& pod, std::string_view container_name) {
  bool init = false;
  const rapidjson::Value* spec = pod.IsObject() ? json::Member(pod, "spec") : nullptr;
  const rapidjson::Value* inits = spec && spec->IsObject() ? json::Member(*spec, "initContainers") : nullptr;
  if (inits && inits->IsArray()) {
    for (const rapidjson::Value& c : inits->GetArray()) {
      if (c.IsObject() && json::StringMember(c, "name") == container_name) init = true;
    }
  }
  return ReferenceTo(pod, ContainerFieldPath(container_name, init));
}

EventRecorder::EventRecorder(EventBroadcaster* broadcaster, EventSource source)
    : broadcaster_(broadcaster), source_(std::make_shared<const EventSource>(std::move(source))) {}

void EventRecorder::Event(const rapidjson::Value& object, EventType type, std::string_view reason,
                          std::string_view message) const {
  if (!broadcaster_) return;
  Event(ReferenceTo(object), type, reason, message);
}

void EventRecorder::Event(ObjectReference object, EventType type, std::string_view reason,
                          std::string_view message) const {
  if (!broadcaster_) return;
  EventRecord record;
  record.source = source_;
  record.object = std::move(object);
  record.type = type;
  record.reason = reason;
  record.message = CutMessage(message);
  record.time_ms = broadcaster_->clock()->NowMillis();
  broadcaster_->Enqueue(std::move(record));
}

void EventRecorder::Eventf(const rapidjson::Value& object, EventType type, std::string_view reason,
                           const char* format, ...) const {
  if (!broadcaster_) return;
  char small[256];
  va_list args;
  va_start(args, format);
  va_list again;
  va_copy(again, args);
  int n = std::vsnprintf(small, sizeof(small), format, args);
  va_end(args);
  std::string message;
  if (n >= 0 && static_cast<size_t>(n) < sizeof(small)) {
    message.assign(small, static_cast<size_t>(n));
  } else if (n >= 0) {
    std::vector<char> big(static_cast<size_t>(n) + 1);
    std::vsnprintf(big.data(), big.size(), format, again);
    message.assign(big.data(), static_cast<size_t>(n));
  }
  va_end(again);
  Event(object, type, reason, message);
}

}  // namespace kite::client
