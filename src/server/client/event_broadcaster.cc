#include "src/server/client/event_broadcaster.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <list>
#include <unordered_map>
#include <vector>

#include "src/server/client/well_known_resources.h"
#include "src/server/json/json_util.h"

namespace kite::client {
namespace {

using rapidjson::Document;
using rapidjson::Value;

// The correlation key: everything that makes two records "the same Event".
std::string KeyOf(const EventRecord& r) {
  const ObjectReference& o = r.object;
  std::string key;
  key.reserve(64 + o.name.size() + r.reason.size() + r.message.size());
  for (std::string_view part : {std::string_view(r.source->component), std::string_view(r.source->host),
                                std::string_view(o.kind), std::string_view(o.api_version), std::string_view(o.ns),
                                std::string_view(o.name), std::string_view(o.uid), std::string_view(o.field_path),
                                EventTypeName(r.type), std::string_view(r.reason), std::string_view(r.message)}) {
    key += part;
    key += '\x1f';  // a separator no field contains
  }
  return key;
}

void SetIfNotEmpty(Value& object, std::string_view name, std::string_view value, Document::AllocatorType& a) {
  if (!value.empty()) json::SetStringMember(object, name, value, a);
}

}  // namespace

struct EventBroadcaster::Cache {
  struct Entry {
    std::string key;
    std::string ns;
    std::string name;
    int64_t count = 0;
    int64_t first_ms = 0;
    int64_t last_ms = 0;
  };
  explicit Cache(size_t capacity) : capacity(capacity) {}

  Entry* Find(const std::string& key) {
    auto it = index.find(key);
    if (it == index.end()) return nullptr;
    order.splice(order.begin(), order, it->second);  // most recently used first
    return &*it->second;
  }
  void Put(Entry entry) {
    if (capacity == 0) return;
    if (auto it = index.find(entry.key); it != index.end()) {
      order.erase(it->second);
      index.erase(it);
    }
    order.push_front(std::move(entry));
    index[order.front().key] = order.begin();
    while (order.size() > capacity) {
      index.erase(order.back().key);
      order.pop_back();
    }
  }

  const size_t capacity;
  std::list<Entry> order;
  std::unordered_map<std::string, std::list<Entry>::iterator> index;
};

EventBroadcaster::EventBroadcaster(ApiTransport* transport, EventBroadcasterOptions options)
    : options_(options),
      clock_(options.clock ? options.clock : SystemClock::Get()),
      events_(transport, kEvents),
      cache_(std::make_unique<Cache>(options.cache_entries)) {}

EventBroadcaster::~EventBroadcaster() { Stop(); }

EventRecorder EventBroadcaster::NewRecorder(EventSource source) { return EventRecorder(this, std::move(source)); }

void EventBroadcaster::Start() {
  MutexLock lock(mu_);
  if (started_ || stopping_) return;
  started_ = true;
  writer_ = std::thread([this] { Run(); });
}

void EventBroadcaster::Stop() {
  {
    MutexLock lock(mu_);
    if (stopping_) return;
    stopping_ = true;
    work_cv_.NotifyAll();
  }
  if (writer_.joinable()) writer_.join();
  MutexLock lock(mu_);
  // What the writer never took (or everything, when it never started) is dropped.
  dropped_ += queue_.size();
  finished_ += queue_.size();
  queue_.clear();
  done_cv_.NotifyAll();
}

bool EventBroadcaster::Enqueue(EventRecord record) {
  MutexLock lock(mu_);
  if (stopping_ || queue_.size() >= options_.queue_capacity) {
    ++dropped_;
    return false;
  }
  queue_.push_back(std::move(record));
  ++accepted_;
  if (queue_.size() == 1) work_cv_.NotifyOne();  // the writer waits only on an empty queue
  return true;
}

bool EventBroadcaster::Flush(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  MutexLock lock(mu_);
  uint64_t target = accepted_;
  while (finished_ < target) {
    auto left = deadline - std::chrono::steady_clock::now();
    if (left <= std::chrono::steady_clock::duration::zero()) return false;
    done_cv_.WaitFor(mu_, left);
  }
  return true;
}

EventBroadcaster::Stats EventBroadcaster::stats() const {
  Stats s;
  {
    MutexLock lock(mu_);
    s.queued = accepted_;
  }
  s.created = created_.load();
  s.patched = patched_.load();
  s.dropped = dropped_.load();
  s.failed = failed_.load();
  return s;
}

bool EventBroadcaster::TakeToken() {
  if (options_.writes_per_second <= 0) return true;
  while (true) {
    auto now = std::chrono::steady_clock::now();
    double elapsed = std::chrono::duration<double>(now - refilled_).count();
    tokens_ = std::min<double>(options_.burst, tokens_ + elapsed * options_.writes_per_second);
    refilled_ = now;
    if (tokens_ >= 1) {
      tokens_ -= 1;
      return true;
    }
    auto wait = std::chrono::duration<double>((1 - tokens_) / options_.writes_per_second);
    MutexLock lock(mu_);
    if (stopping_) return false;
    work_cv_.WaitFor(mu_, std::chrono::duration_cast<std::chrono::microseconds>(wait) + std::chrono::microseconds(1));
    if (stopping_) return false;
  }
}

void EventBroadcaster::Run() {
  tokens_ = std::max(1, options_.burst);
  refilled_ = std::chrono::steady_clock::now();
  std::deque<EventRecord> batch;
  while (true) {
    {
      MutexLock lock(mu_);
      while (queue_.empty() && !stopping_) work_cv_.Wait(mu_);
      if (stopping_) return;  // Stop counts what is left
      batch.swap(queue_);
    }
    // Repeats in this batch become one write: first and last occurrence, and how many.
    struct Group {
      size_t first;
      size_t last;
      int64_t count;
    };
    std::vector<Group> groups;
    std::unordered_map<std::string, size_t> by_key;
    for (size_t i = 0; i < batch.size(); ++i) {
      auto [it, fresh] = by_key.try_emplace(KeyOf(batch[i]), groups.size());
      if (fresh) {
        groups.push_back({i, i, 1});
      } else {
        groups[it->second].last = i;
        ++groups[it->second].count;
      }
    }
    size_t written = 0;
    for (const Group& g : groups) {
      if (!TakeToken()) break;  // stopping: Stop counts the rest as dropped
      Write(batch[g.first], batch[g.last], g.count);
      written += static_cast<size_t>(g.count);
    }
    MutexLock lock(mu_);
    finished_ += written;
    if (written < batch.size()) {
      dropped_ += batch.size() - written;
      finished_ += batch.size() - written;
    }
    batch.clear();
    done_cv_.NotifyAll();
  }
}

std::string EventBroadcaster::NewName(const std::string& object_name) {
  // Real time, not the (possibly fake) clock: the name only has to be unique.
  int64_t nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  if (nanos <= last_nanos_) nanos = last_nanos_ + 1;
  last_nanos_ = nanos;
  char hex[24];
  std::snprintf(hex, sizeof(hex), ".%" PRIx64, static_cast<uint64_t>(nanos));
  return object_name + hex;
}

void EventBroadcaster::Write(const EventRecord& r, const EventRecord& last, int64_t occurrences) {
  std::string key = KeyOf(r);
  if (Cache::Entry* seen = cache_->Find(key);
      seen && r.time_ms - seen->last_ms < options_.aggregation_window.count()) {
    Document patch(rapidjson::kObjectType);
    auto& a = patch.GetAllocator();
    json::SetMember(patch, "count", Value(seen->count + occurrences), a);
    json::SetStringMember(patch, "lastTimestamp", FormatRfc3339Seconds(last.time_ms), a);
    Result<Document> patched = events_.Patch(seen->ns, seen->name, PatchType::kMerge, json::ToJson(patch));
    if (patched.ok()) {
      seen->count += occurrences;
      seen->last_ms = last.time_ms;
      ++patched_;
      return;
    }
    if (patched.status().code() != StatusCode::kNotFound) {
      ++failed_;
      return;
    }
    // The Event expired or was deleted: start a new one.
  }

  const ObjectReference& o = r.object;
  std::string ns = o.ns.empty() ? "default" : o.ns;
  std::string name = NewName(o.name.empty() ? "event" : o.name);
  std::string when = FormatRfc3339Seconds(r.time_ms);
  Document event(rapidjson::kObjectType);
  auto& a = event.GetAllocator();
  json::SetStringMember(event, "apiVersion", "v1", a);
  json::SetStringMember(event, "kind", "Event", a);
  Value md(rapidjson::kObjectType);
  json::SetStringMember(md, "name", name, a);
  json::SetStringMember(md, "namespace", ns, a);
  json::SetMember(event, "metadata", std::move(md), a);
  Value involved(rapidjson::kObjectType);
  SetIfNotEmpty(involved, "kind", o.kind, a);
  SetIfNotEmpty(involved, "namespace", o.ns, a);
  SetIfNotEmpty(involved, "name", o.name, a);
  SetIfNotEmpty(involved, "uid", o.uid, a);
  SetIfNotEmpty(involved, "apiVersion", o.api_version, a);
  SetIfNotEmpty(involved, "resourceVersion", o.resource_version, a);
  SetIfNotEmpty(involved, "fieldPath", o.field_path, a);
  json::SetMember(event, "involvedObject", std::move(involved), a);
  json::SetStringMember(event, "reason", r.reason, a);
  json::SetStringMember(event, "message", r.message, a);
  Value source(rapidjson::kObjectType);
  SetIfNotEmpty(source, "component", r.source->component, a);
  SetIfNotEmpty(source, "host", r.source->host, a);
  json::SetMember(event, "source", std::move(source), a);
  json::SetStringMember(event, "firstTimestamp", when, a);
  json::SetStringMember(event, "lastTimestamp", FormatRfc3339Seconds(last.time_ms), a);
  json::SetMember(event, "count", Value(occurrences), a);
  json::SetStringMember(event, "type", EventTypeName(r.type), a);
  json::SetStringMember(event, "reportingComponent", r.source->component, a);
  json::SetStringMember(event, "reportingInstance", r.source->host, a);
  Result<Document> created = events_.Create(ns, event);
  if (!created.ok()) {
    ++failed_;
    return;
  }
  ++created_;
  cache_->Put({std::move(key), std::move(ns), std::move(name), occurrences, r.time_ms, last.time_ms});
}

}  // namespace kite::client
