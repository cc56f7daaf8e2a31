#include "src/server/client/informer.h"

#include "src/server/json/json_util.h"

namespace kite::client {
namespace {

using rapidjson::Document;

constexpr auto kPollInterval = std::chrono::milliseconds(200);
constexpr auto kRetryDelay = std::chrono::milliseconds(500);
// Watches end after this long and start again from the last version, as client-go's
// reflector does, so a stuck stream cannot go unnoticed for ever.
constexpr int kWatchTimeoutSeconds = 300;

std::string_view ResourceVersionOf(const rapidjson::Value& object) {
  const rapidjson::Value* md = json::Member(object, "metadata");
  return md ? json::StringMember(*md, "resourceVersion") : std::string_view();
}

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

void Informer::AddHandlers(InformerHandlers handlers) { handlers_.push_back(std::move(handlers)); }

void Informer::Start() { thread_ = std::thread([this] { Run(); }); }

void Informer::Stop() {
  stop_ = true;
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
  bool need_list = true;
  while (!stop_) {
    if (need_list) {
      if (!ListAndReplace()) {
        std::this_thread::sleep_for(kRetryDelay);  // back-off before asking again
        continue;
      }
      need_list = false;
    }
    need_list = !WatchOnce();
  }
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
      auto object = std::make_shared<Document>();
      object->CopyFrom(item, object->GetAllocator());
      std::string key = ObjectKey(*object);
      fresh[key] = std::move(object);
    }
  }
  std::string rv;
  if (const rapidjson::Value* md = json::Member(*list, "metadata")) rv = json::StringMember(*md, "resourceVersion");

  // Report the difference with what handlers saw before (nothing, on the first list).
  std::map<std::string, ObjectPtr, std::less<>> previous;
  {
    MutexLock lock(mu_);
    previous.swap(objects_);
    objects_ = fresh;
    last_rv_ = rv;
  }
  for (const auto& [key, old_object] : previous) {
    if (!fresh.count(key)) {
      for (auto& h : handlers_) if (h.on_delete) h.on_delete(old_object);
    }
  }
  for (const auto& [key, object] : fresh) {
    auto it = previous.find(key);
    if (it == previous.end()) {
      for (auto& h : handlers_) if (h.on_add) h.on_add(object);
    } else if (ResourceVersionOf(*it->second) != ResourceVersionOf(*object)) {
      for (auto& h : handlers_) if (h.on_update) h.on_update(it->second, object);
    }
  }
  if (!synced_) {
    MutexLock lock(mu_);
    synced_ = true;
    synced_cv_.NotifyAll();
  }
  return true;
}

bool Informer::WatchOnce() {
  ListOptions watch_options = options_;
  watch_options.resource_version = LastResourceVersion();
  watch_options.timeout_seconds = kWatchTimeoutSeconds;
  Result<std::unique_ptr<WatchReader>> reader = client_.Watch(namespace_, watch_options);
  if (!reader.ok()) {
    if (reader.status().code() != StatusCode::kCompacted) std::this_thread::sleep_for(kRetryDelay);
    return false;
  }
  while (!stop_) {
    Result<std::vector<std::string>> lines = (*reader)->Next(kPollInterval);
    if (!lines.ok()) return true;  // the watch ended: watch again from the last version
    for (const std::string& line : *lines) {
      Result<Document> parsed = json::ParseJsonObject(line);
      if (!parsed.ok()) return false;
      auto doc = std::make_shared<Document>(std::move(*parsed));
      rapidjson::Value* object = json::MutableMember(*doc, "object");
      if (!object || !object->IsObject()) return false;
      std::string type(json::StringMember(*doc, "type"));
      if (type == "ERROR") return false;  // 410 Expired or worse: list again
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
      if (type == "DELETED") {
        Remove(ObjectKey(*doc), doc);
      } else {
        Upsert(doc);
      }
      MutexLock lock(mu_);
      last_rv_ = rv;
    }
  }
  return true;
}

void Informer::Upsert(ObjectPtr object) {
  std::string key = ObjectKey(*object);
  ObjectPtr old;
  {
    MutexLock lock(mu_);
    ObjectPtr& slot = objects_[key];
    old = slot;
    slot = object;
  }
  for (auto& h : handlers_) {
    if (old) {
      if (h.on_update) h.on_update(old, object);
    } else if (h.on_add) {
      h.on_add(object);
    }
  }
}

void Informer::Remove(const std::string& key, ObjectPtr last_state) {
  {
    MutexLock lock(mu_);
    objects_.erase(key);
  }
  for (auto& h : handlers_) if (h.on_delete) h.on_delete(last_state);
}

}  // namespace kite::client
