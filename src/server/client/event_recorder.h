// EventRecorder: how a component says "this happened to that object" as a core/v1 Event
// (what `kubectl describe` lists under Events and `kubectl get events` shows), in the
// manner of client-go's record.EventRecorder.
//
// A recorder is a small value: the component it speaks for (EventSource) and the
// EventBroadcaster (event_broadcaster.h) that writes the Events in the background. Event()
// copies the few fields it needs from the object (kind, apiVersion, namespace, name, uid,
// resourceVersion), stamps the time and hands the record to the broadcaster's bounded
// queue: it never waits for the API and never fails; when the queue is full the record is
// dropped and counted. A default-constructed recorder records nothing, so components built
// without one (unit tests) need no special case.
//
// Thread-safety: const methods, callable from any thread. The broadcaster must outlive
// every recorder it made (copies included).
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace kite::client {

class EventBroadcaster;

enum class EventType { kNormal, kWarning };
std::string_view EventTypeName(EventType type);  // "Normal", "Warning"

// What an Event is about: core/v1 ObjectReference (involvedObject).
struct ObjectReference {
  std::string kind;
  std::string api_version;
  std::string ns;  // "" for cluster-scoped objects (their Events go to "default")
  std::string name;
  std::string uid;
  std::string resource_version;
  std::string field_path;  // "spec.containers{app}" when about one container, else ""
};

// The reference to `object` (an API object as served: kind, apiVersion, metadata).
// `field_path` names a part of it ("spec.containers{name}").
ObjectReference ReferenceTo(const rapidjson::Value& object, std::string_view field_path = "");
// "spec.containers{name}" / "spec.initContainers{name}": the fieldPath of a container.
std::string ContainerFieldPath(std::string_view container_name, bool init_container = false);
// The reference to container `container_name` of `pod`: its fieldPath says
// spec.initContainers when the pod lists it there, else spec.containers.
ObjectReference ContainerReferenceTo(const rapidjson::Value& pod, std::string_view container_name);

// Who reports: source.component ("default-scheduler", "replicaset-controller", "kubelet")
// and, for node agents, source.host (the node name). Also reportingComponent and
// reportingInstance (the host, when set).
struct EventSource {
  std::string component;
  std::string host;
};

// One recorded occurrence, as queued for the broadcaster.
struct EventRecord {
  std::shared_ptr<const EventSource> source;
  ObjectReference object;
  EventType type = EventType::kNormal;
  std::string reason;
  std::string message;
  int64_t time_ms = 0;  // when it happened (the broadcaster's clock)
};

class EventRecorder {
 public:
  // Records nothing.
  EventRecorder() = default;
  // Records through `broadcaster` (null = nothing) as `source`.
  EventRecorder(EventBroadcaster* broadcaster, EventSource source);

  bool enabled() const { return broadcaster_ != nullptr; }
  const EventSource* source() const { return source_.get(); }

  // `reason` is a short CamelCase word ("Scheduled", "BackOff"); `message` a sentence for
  // people. Messages longer than 1 KiB are cut (as upstream's recorder does).
  void Event(const rapidjson::Value& object, EventType type, std::string_view reason,
             std::string_view message) const;
  void Event(ObjectReference object, EventType type, std::string_view reason, std::string_view message) const;
  // Event with a printf-style message; the compiler checks the arguments.
  void Eventf(const rapidjson::Value& object, EventType type, std::string_view reason, const char* format, ...) const
      __attribute__((format(printf, 5, 6)));

 private:
  EventBroadcaster* broadcaster_ = nullptr;
  std::shared_ptr<const EventSource> source_;
};

}  // namespace kite::client
