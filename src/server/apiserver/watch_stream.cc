#include "src/server/apiserver/watch_stream.h"

#include "src/server/apiserver/api_error.h"
#include "src/server/json/json_util.h"
#include "src/server/apiserver/object_codec.h"

namespace kite::apiserver {
using namespace kite::json;  // NOLINT: the JSON helpers are this layer's vocabulary
namespace {

// Bytes handed to the server per Poll before yielding, so one watch with a large initial
// state cannot hold a network thread for long.
constexpr size_t kPollBudgetBytes = 256 * 1024;

}  // namespace

WatchStream::WatchStream(std::unique_ptr<store::Watcher> watcher, WatchOptions options)
    : watcher_(std::move(watcher)), options_(std::move(options)) {
  last_sent_ = std::chrono::steady_clock::now();
}

WatchStream::~WatchStream() { Cancel(); }

void WatchStream::Start(std::function<void()> wake) {
  {
    MutexLock lock(mu_);
    if (cancelled_) return;
    wake_ = std::move(wake);
  }
  watcher_->SetReadyCallback([this] { Wake(); });
  Wake();  // history replay and initial objects do not signal readiness by themselves
}

void WatchStream::Wake() {
  MutexLock lock(mu_);
  if (!cancelled_ && wake_) wake_();
}

void WatchStream::Cancel() {
  {
    MutexLock lock(mu_);
    if (cancelled_) return;
    cancelled_ = true;
    wake_ = nullptr;
  }
  // After this returns the store no longer calls back into us.
  watcher_->SetReadyCallback(nullptr);
}

bool WatchStream::Matches(const std::string& object_json, bool& parsed_ok) {
  parsed_ok = true;
  if (!options_.filter) return true;
  Result<rapidjson::Document> doc = ParseJson(object_json);
  if (!doc.ok()) {
    parsed_ok = false;
    return false;
  }
  return options_.filter(*doc);
}

bool WatchStream::PrevMatched(const store::KeyValue& prev) {
  auto it = recent_matches_.find(prev.key);
  if (it != recent_matches_.end() && it->second.revision == prev.mod_revision) return it->second.matched;
  bool ok = true;
  return Matches(prev.value, ok);
}

void WatchStream::AppendEvent(std::string& out, std::string_view type,
                              const std::string& object_json) {
  out.append("{\"type\":\"");
  out.append(type);
  out.append("\",\"object\":");
  if (options_.transform) {
    out.append(options_.transform(object_json));
  } else {
    out.append(object_json);
  }
  out.append("}\n");
  last_sent_ = std::chrono::steady_clock::now();
}

void WatchStream::AppendBookmark(std::string& out, int64_t revision, bool initial_events_end) {
  out.append("{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"");
  out.append(options_.kind);
  out.append("\",\"apiVersion\":\"");
  out.append(options_.api_version);
  out.append("\",\"metadata\":{\"resourceVersion\":\"");
  out.append(std::to_string(revision));
  out.append("\"");
  if (initial_events_end) {
    out.append(",\"annotations\":{\"k8s.io/initial-events-end\":\"true\"}");
  }
  out.append("}}}\n");
  last_sent_ = std::chrono::steady_clock::now();
}

bool WatchStream::Poll(std::string& out) {
  // 1. The initial state, as ADDED events.
  while (next_initial_ < options_.initial_objects.size()) {
    if (out.size() >= kPollBudgetBytes) {
      Wake();
      return true;
    }
    const auto& [stored, revision] = options_.initial_objects[next_initial_++];
    std::string object = WithResourceVersion(stored, revision);
    bool parsed_ok = true;
    if (Matches(object, parsed_ok)) AppendEvent(out, "ADDED", object);
  }
  if (!options_.initial_objects.empty()) {
    options_.initial_objects.clear();
    options_.initial_objects.shrink_to_fit();
  }
  if (options_.initial_events_end_bookmark && !initial_end_sent_) {
    initial_end_sent_ = true;
    AppendBookmark(out, options_.initial_events_revision, true);
    last_revision_ = std::max(last_revision_, options_.initial_events_revision);
  }

  // 2. Changes.
  while (out.size() < kPollBudgetBytes) {
    Result<std::vector<store::EventPtr>> events = watcher_->Next(std::chrono::milliseconds(0));
    if (!events.ok()) {
      if (events.status().code() == StatusCode::kCompacted) {
        ApiError expired = ExpiredError("too old resource version: " + events.status().message());
        out.append("{\"type\":\"ERROR\",\"object\":");
        out.append(expired.ToJson());
        out.append("}\n");
      }
      return false;  // fell behind or the store closed: the client re-watches
    }
    if (events->empty()) break;
    for (const store::EventPtr& event : *events) {
      last_revision_ = event->revision();
      bool is_put = event->type == store::Event::Type::kPut;
      // A delete carries the value just before it; Kubernetes reports the deleted object
      // at the delete's revision.
      std::string object = WithResourceVersion(event->kv.value, event->revision());
      bool ok = true;
      bool now_matches = Matches(object, ok);
      bool was_matching = false;
      bool existed_before = is_put ? event->kv.create_revision != event->kv.mod_revision : true;
      if (is_put && existed_before) {
        if (!options_.filter) {
          was_matching = true;
        } else if (event->prev) {
          was_matching = PrevMatched(*event->prev);
        } else {
          was_matching = now_matches;  // history no longer holds it: assume unchanged
        }
      }
      if (options_.filter) {
        if (recent_matches_.size() >= kMaxRecentMatches) recent_matches_.clear();
        if (is_put) {
          recent_matches_.insert_or_assign(event->kv.key, RecentMatch{event->revision(), now_matches});
        } else {
          recent_matches_.erase(event->kv.key);
        }
      }
      if (!is_put) {
        if (now_matches) AppendEvent(out, "DELETED", object);
      } else if (now_matches) {
        AppendEvent(out, was_matching ? "MODIFIED" : "ADDED", object);
      } else if (was_matching) {
        // Left the selection: Kubernetes reports the last state that matched, at this
        // change's resource version.
        AppendEvent(out, "DELETED",
                    event->prev ? WithResourceVersion(event->prev->value, event->revision()) : object);
      }
    }
  }
  if (out.size() >= kPollBudgetBytes) Wake();

  auto now = std::chrono::steady_clock::now();
  if (options_.allow_bookmarks && last_revision_ > 0 &&
      now - last_sent_ >= options_.bookmark_interval) {
    AppendBookmark(out, last_revision_, false);
  }
  if (options_.deadline != std::chrono::steady_clock::time_point{} && now >= options_.deadline) {
    return false;
  }
  return true;
}

WatchTicker::WatchTicker() : thread_([this] { Run(); }) {}

WatchTicker::~WatchTicker() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
  }
  cv_.NotifyOne();
  thread_.join();
}

void WatchTicker::Add(std::weak_ptr<WatchStream> stream) {
  MutexLock lock(mu_);
  streams_.push_back(std::move(stream));
}

size_t WatchTicker::LiveCount() {
  MutexLock lock(mu_);
  size_t n = 0;
  for (const auto& s : streams_) n += s.expired() ? 0 : 1;
  return n;
}

void WatchTicker::Run() {
  while (true) {
    std::vector<std::shared_ptr<WatchStream>> live;
    {
      MutexLock lock(mu_);
      if (!stopping_) cv_.WaitFor(mu_, std::chrono::seconds(1));
      if (stopping_) return;
      std::vector<std::weak_ptr<WatchStream>> kept;
      for (auto& weak : streams_) {
        if (auto s = weak.lock()) {
          live.push_back(std::move(s));
          kept.push_back(std::move(weak));
        }
      }
      streams_.swap(kept);
    }
    // Outside the lock: waking posts work, and dropping the last reference destroys a stream.
    for (auto& s : live) s->Wake();
  }
}

}  // namespace kite::apiserver
