#include "src/server/client/informer.h"

#include <algorithm>
#include <cstdlib>
#include <iostream>

#include "src/server/json/json_util.h"
#include "src/server/json/sized_document.h"

namespace kite::client {
namespace {

using rapidjson::Document;

constexpr auto kPollInterval = std::chrono::milliseconds(200);
// client-go's reflector backs off 800 ms doubling to 30 s.
constexpr auto kInitialBackOff = std::chrono::milliseconds(800);
constexpr auto kMaxBackOff = std::chrono::milliseconds(30000);
// Watches end after this long and start again from the last version, as client-go's
// reflector does, so a stuck stream cannot go unnoticed for ever.
constexpr int kWatchTimeoutSeconds = 300;

std::string_view ResourceVersionOf(const rapidjson::Value& object) {
  const rapidjson::Value* md = json::Member(object, "metadata");
  return md ? json::StringMember(*md, "resourceVersion") : std::string_view();
}

// The informer whose handlers this thread is running (its own thread, or a replay in
// AddHandlers): calls back into it would wait for themselves.
thread_local const Informer* tls_dispatching = nullptr;

// Sets tls_dispatching for a scope.
class DispatchingScope {
 public:
  explicit DispatchingScope(const Informer* informer) : outer_(tls_dispatching) { tls_dispatching = informer; }
  ~DispatchingScope() { tls_dispatching = outer_; }
  DispatchingScope(const DispatchingScope&) = delete;
  DispatchingScope& operator=(const DispatchingScope&) = delete;

 private:
  const Informer* outer_;
};

}  // namespace

std::string ObjectKey(std::string_view ns, std::string_view name) {
  return ns.empty() ? std::string(name) : std::string(ns) + "/" + std::string(name);
}

std::string ObjectKey(const rapidjson::Value& object) {
  const rapidjson::Value* md = json::Member(object, "metadata");
  if (!md) return "";
  return ObjectKey(json::StringMember(*md, "namespace"), json::StringMember(*md, "name"));
}

std::pair<std::string, std::string> SplitObjectKey(std::string_view key) {
  size_t slash = key.find('/');
  if (slash == std::string_view::npos) return {"", std::string(key)};
  return {std::string(key.substr(0, slash)), std::string(key.substr(slash + 1))};
}

Informer::Informer(ResourceClient client, std::string ns, ListOptions options)
    : client_(std::move(client)), namespace_(std::move(ns)), options_(std::move(options)) {}

Informer::~Informer() { Stop(); }

void Informer::CheckNotInHandler(const char* what) const {
  if (tls_dispatching != this) return;
  std::cerr << "kite: Informer::" << what << " called from a handler of the same informer ("
            << client_.ref().resource << "): it would wait for itself\n";
  std::abort();
}

Informer::HandlerId Informer::AddHandlers(InformerHandlers handlers) {
  CheckNotInHandler("AddHandlers");
  MutexLock dispatch(dispatch_mu_);
  // The cache changes only under dispatch_mu_, so it holds exactly what the other handlers
  // have been told: replaying it leaves nothing out and repeats nothing.
  if (handlers.on_add) {
    std::vector<ObjectPtr> cached = List();
    DispatchingScope scope(this);
    for (const ObjectPtr& object : cached) handlers.on_add(object);
  }
  HandlerId id = next_id_++;
  handlers_.push_back({id, std::move(handlers)});
  return id;
}

void Informer::RemoveHandlers(HandlerId id) {
  CheckNotInHandler("RemoveHandlers");
  InformerHandlers removed;  // destroyed after the lock: its captures may be anything
  MutexLock dispatch(dispatch_mu_);
  auto it = std::find_if(handlers_.begin(), handlers_.end(), [id](const Registration& r) { return r.id == id; });
  if (it == handlers_.end()) return;
  removed = std::move(it->handlers);
  handlers_.erase(it);
}

void Informer::Start() {
  MutexLock lock(thread_mu_);
  if (started_) return;
  started_ = true;
  thread_ = std::thread([this] { Run(); });
}

void Informer::RequestStop() {
  {
    MutexLock lock(mu_);
    stop_ = true;
  }
  stop_cv_.NotifyAll();
}

void Informer::Stop() {
  CheckNotInHandler("Stop");
  RequestStop();
  MutexLock lock(thread_mu_);
  if (thread_.joinable()) thread_.join();
}

bool Informer::WaitForSync(std::chrono::milliseconds timeout) const {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  MutexLock lock(mu_);
  while (!synced_) {
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return false;
    synced_cv_.WaitFor(mu_, deadline - now);
  }
  return true;
}

ObjectPtr Informer::Get(std::string_view key) const {
  MutexLock lock(mu_);
  auto it = objects_.find(key);
  return it == objects_.end() ? nullptr : it->second;
}

std::vector<ObjectPtr> Informer::List(std::string_view ns) const {
  std::vector<ObjectPtr> out;
  MutexLock lock(mu_);
  if (ns.empty()) {
    for (const auto& [key, object] : objects_) out.push_back(object);
    return out;
  }
  std::string prefix = std::string(ns) + "/";
  for (auto it = objects_.lower_bound(prefix); it != objects_.end(); ++it) {
    if (it->first.compare(0, prefix.size(), prefix) != 0) break;
    out.push_back(it->second);
  }
  return out;
}

std::string Informer::LastResourceVersion() const {
  MutexLock lock(mu_);
  return last_rv_;
}

void Informer::Run() {
  tls_dispatching = this;
  bool need_list = true;
  std::chrono::milliseconds backoff = kInitialBackOff;
  auto back_off = [&] {
    bool go_on = SleepUnlessStopped(backoff);
    backoff = std::min(backoff * 2, kMaxBackOff);
    return go_on;
  };
  while (!stop_) {
    if (need_list) {
      if (!ListAndReplace()) {
        if (!back_off()) break;
        continue;
      }
      backoff = kInitialBackOff;
      need_list = false;
    }
    switch (WatchOnce()) {
      case WatchEnd::kEnded:
        backoff = kInitialBackOff;
        break;
      case WatchEnd::kRelist:
        need_list = true;
        break;
      case WatchEnd::kFailed:
        need_list = true;
        if (!back_off()) return;
        break;
    }
  }
}

bool Informer::SleepUnlessStopped(std::chrono::milliseconds delay) {
  auto deadline = std::chrono::steady_clock::now() + delay;
  MutexLock lock(mu_);
  while (!stop_) {
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return true;
    stop_cv_.WaitFor(mu_, deadline - now);
  }
  return false;
}

bool Informer::ListAndReplace() {
  ListOptions list_options = options_;
  list_options.resource_version.clear();
  Result<Document> list = client_.List(namespace_, list_options);
  if (!list.ok() || stop_) return false;
  const rapidjson::Value* items = json::Member(*list, "items");
  std::map<std::string, ObjectPtr, std::less<>> fresh;
  if (items && items->IsArray()) {
    for (const auto& item : items->GetArray()) {
      ObjectPtr object = json::CopySized(item);  // not a 64 KiB pool per cached object
      std::string key = ObjectKey(*object);
      fresh[key] = std::move(object);
    }
  }
  std::string rv;
  if (const rapidjson::Value* md = json::Member(*list, "metadata")) rv = json::StringMember(*md, "resourceVersion");

  // Report the difference with what handlers saw before (nothing, on the first list).
  MutexLock dispatch(dispatch_mu_);
  std::map<std::string, ObjectPtr, std::less<>> previous;
  {
    MutexLock lock(mu_);
    previous.swap(objects_);
    objects_ = fresh;
    last_rv_ = rv;
  }
  for (const auto& [key, old_object] : previous) {
    if (!fresh.count(key)) {
      for (auto& r : handlers_) {
        if (r.handlers.on_delete) r.handlers.on_delete(old_object);
      }
    }
  }
  for (const auto& [key, object] : fresh) {
    auto it = previous.find(key);
    if (it == previous.end()) {
      for (auto& r : handlers_) {
        if (r.handlers.on_add) r.handlers.on_add(object);
      }
    } else if (ResourceVersionOf(*it->second) != ResourceVersionOf(*object)) {
      for (auto& r : handlers_) {
        if (r.handlers.on_update) r.handlers.on_update(it->second, object);
      }
    }
  }
  if (!synced_) {
    MutexLock lock(mu_);
    synced_ = true;
    synced_cv_.NotifyAll();
  }
  return true;
}

Informer::WatchEnd Informer::WatchOnce() {
  ListOptions watch_options = options_;
  watch_options.resource_version = LastResourceVersion();
  watch_options.timeout_seconds = kWatchTimeoutSeconds;
  Result<std::unique_ptr<WatchReader>> reader = client_.Watch(namespace_, watch_options);
  if (!reader.ok()) {
    return reader.status().code() == StatusCode::kCompacted ? WatchEnd::kRelist : WatchEnd::kFailed;
  }
  while (!stop_) {
    Result<std::vector<std::string>> lines = (*reader)->Next(kPollInterval);
    if (!lines.ok()) return WatchEnd::kEnded;  // the watch ended: watch again from the last version
    for (const std::string& line : *lines) {
      Result<std::shared_ptr<Document>> parsed = json::ParseSized(line);  // see ListAndReplace
      if (!parsed.ok() || !(*parsed)->IsObject()) return WatchEnd::kRelist;
      std::shared_ptr<Document> doc = std::move(parsed).value();
      rapidjson::Value* object = json::MutableMember(*doc, "object");
      if (!object || !object->IsObject()) return WatchEnd::kRelist;
      std::string type(json::StringMember(*doc, "type"));
      if (type == "ERROR") return WatchEnd::kRelist;  // 410 Expired or worse: list again
      std::string rv(ResourceVersionOf(*object));
      if (type == "BOOKMARK") {
        MutexLock lock(mu_);
        last_rv_ = rv;
        continue;
      }
      // The event's object becomes the document's root without a copy: both live in the
      // document's allocator, which frees them together.
      rapidjson::Value taken;
      taken.Swap(*object);
      static_cast<rapidjson::Value&>(*doc).Swap(taken);
      MutexLock dispatch(dispatch_mu_);
      if (type == "DELETED") {
        Remove(ObjectKey(*doc), doc, std::move(rv));
      } else {
        Upsert(doc, std::move(rv));
      }
    }
  }
  return WatchEnd::kEnded;
}

void Informer::Upsert(ObjectPtr object, std::string rv) {
  std::string key = ObjectKey(*object);
  ObjectPtr old;
  {
    MutexLock lock(mu_);
    ObjectPtr& slot = objects_[key];
    old = slot;
    slot = object;
    last_rv_ = std::move(rv);
  }
  for (auto& r : handlers_) {
    if (old) {
      if (r.handlers.on_update) r.handlers.on_update(old, object);
    } else if (r.handlers.on_add) {
      r.handlers.on_add(object);
    }
  }
}

void Informer::Remove(const std::string& key, ObjectPtr last_state, std::string rv) {
  {
    MutexLock lock(mu_);
    objects_.erase(key);
    last_rv_ = std::move(rv);
  }
  for (auto& r : handlers_) {
    if (r.handlers.on_delete) r.handlers.on_delete(last_state);
  }
}

}  // namespace kite::client
