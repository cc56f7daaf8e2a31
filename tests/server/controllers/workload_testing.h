// What the ReplicaSet and Deployment controller tests share: an API server with those
// controllers running, a stand-in kubelet that reports pods Running and Ready, and a
// transport that can refuse pod creates (a quota, say).
#pragma once

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "src/base/clock.h"
#include "src/base/mutex.h"
#include "src/server/client/well_known_resources.h"
#include "src/server/controllers/controller_manager.h"
#include "src/server/controllers/controller_ref.h"
#include "src/server/controllers/deployment_controller.h"
#include "src/server/controllers/pod_control.h"
#include "src/server/controllers/replica_set_controller.h"
#include "src/server/json/json_util.h"
#include "tests/testing/api_fixture.h"

namespace kite::controllers::workload_testing {

// Passes everything through, except pod creates while `fail_pod_creates` is set: those get
// the 403 a ResourceQuota would give.
class FaultyTransport final : public client::ApiTransport {
 public:
  explicit FaultyTransport(client::ApiTransport* inner) : inner_(inner) {}
  std::atomic<bool> fail_pod_creates{false};

  client::ClientResponse Do(const client::ClientRequest& request) override {
    if (fail_pod_creates && request.method == "POST" && request.path.ends_with("/pods")) {
      return {403, R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",)"
                   R"("message":"pods \"web\" is forbidden: exceeded quota: pods, requested: pods=1, used: pods=2, limited: pods=2",)"
                   R"("reason":"Forbidden","code":403})"};
    }
    return inner_->Do(request);
  }
  Result<std::unique_ptr<client::WatchReader>> Watch(const client::ClientRequest& request) override {
    return inner_->Watch(request);
  }

 private:
  client::ApiTransport* inner_;
};

// The API server with the ReplicaSet and Deployment controllers running (through a
// FaultyTransport).
struct WorkloadFixture {
  testing::ApiFixture api;
  FaultyTransport transport{api.transport()};
  ControllerManager manager{&transport};
  client::ResourceClient pods = api.Client(client::kPods);
  client::ResourceClient replica_sets = api.Client(client::kReplicaSets);
  client::ResourceClient deployments = api.Client(client::kDeployments);

  WorkloadFixture() {
    manager.Add(std::make_unique<ReplicaSetController>());
    manager.Add(std::make_unique<DeploymentController>());
    REQUIRE(manager.Start().ok());
  }
  ~WorkloadFixture() { manager.Stop(); }

  // Pods of `ns` matching `selector` ("" = all), active ones only unless `all`.
  std::vector<rapidjson::Document> Pods(std::string_view selector, bool all = false, std::string_view ns = "default") {
    client::ListOptions options;
    options.label_selector = std::string(selector);
    auto list = pods.List(ns, options);
    REQUIRE(list.ok());
    std::vector<rapidjson::Document> out;
    for (const rapidjson::Value& item : (*list)["items"].GetArray()) {
      if (!all && !IsPodActive(item)) continue;
      rapidjson::Document d;
      d.CopyFrom(item, d.GetAllocator());
      out.push_back(std::move(d));
    }
    return out;
  }
  std::vector<rapidjson::Document> ReplicaSets(std::string_view selector, std::string_view ns = "default") {
    client::ListOptions options;
    options.label_selector = std::string(selector);
    auto list = replica_sets.List(ns, options);
    REQUIRE(list.ok());
    std::vector<rapidjson::Document> out;
    for (const rapidjson::Value& item : (*list)["items"].GetArray()) {
      rapidjson::Document d;
      d.CopyFrom(item, d.GetAllocator());
      out.push_back(std::move(d));
    }
    return out;
  }
  rapidjson::Document Get(client::ResourceClient& client, std::string_view name, std::string_view ns = "default") {
    auto got = client.Get(ns, name);
    REQUIRE(got.ok());
    return std::move(got).value();
  }
  Status MergePatch(client::ResourceClient& client, std::string_view name, std::string_view patch,
                    std::string_view ns = "default") {
    auto patched = client.Patch(ns, name, client::PatchType::kMerge, patch);
    return patched.ok() ? Status() : patched.status();
  }
};

// What a kubelet reports for a started pod: Running, Ready since `ready_since_ms`.
inline Status MarkReady(client::ResourceClient& pods, const rapidjson::Value& pod,
                        int64_t ready_since_ms = SystemClock::Get()->NowMillis(), int restarts = 0) {
  rapidjson::Document d;
  d.CopyFrom(pod, d.GetAllocator());
  auto& a = d.GetAllocator();
  std::string since = FormatRfc3339Seconds(ready_since_ms);
  auto status = json::ParseJson(R"({"phase":"Running","conditions":[{"type":"Ready","status":"True","lastTransitionTime":")" +
                                since + R"("}],"containerStatuses":[{"name":"c","ready":true,"restartCount":)" +
                                std::to_string(restarts) + "}]}");
  if (!status.ok()) return status.status();
  json::SetMember(d, "status", rapidjson::Value(*status, a), a);
  auto updated = pods.UpdateStatus(d);
  return updated.ok() ? Status() : updated.status();
}

inline Status SetPhase(client::ResourceClient& pods, const rapidjson::Value& pod, std::string_view phase) {
  rapidjson::Document d;
  d.CopyFrom(pod, d.GetAllocator());
  auto& a = d.GetAllocator();
  json::SetStringMember(json::EnsureObjectMember(d, "status", a), "phase", phase, a);
  auto updated = pods.UpdateStatus(d);
  return updated.ok() ? Status() : updated.status();
}

// Marks every pod of a namespace Ready once it has existed (as far as this thread saw) for
// `delay`, while `enabled`. Stops with the object.
class FakeKubelet {
 public:
  FakeKubelet(client::ResourceClient pods, std::chrono::milliseconds delay, std::string ns = "default")
      : pods_(std::move(pods)), delay_(delay), ns_(std::move(ns)), thread_([this] { Run(); }) {}
  ~FakeKubelet() {
    stop_ = true;
    thread_.join();
  }
  std::atomic<bool> enabled{true};

 private:
  void Run() {
    std::map<std::string, std::chrono::steady_clock::time_point> first_seen;
    while (!stop_) {
      auto list = pods_.List(ns_);
      if (list.ok() && enabled) {
        auto now = std::chrono::steady_clock::now();
        for (const rapidjson::Value& pod : (*list)["items"].GetArray()) {
          if (!IsPodActive(pod) || IsPodReady(pod)) continue;
          std::string uid(UidOf(pod));
          auto [it, fresh] = first_seen.emplace(uid, now);
          if (!fresh && now - it->second >= delay_) (void)MarkReady(pods_, pod);
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  client::ResourceClient pods_;
  const std::chrono::milliseconds delay_;
  const std::string ns_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// Every state the set of pods (of one label selector) goes through, from a list and a watch
// from its resourceVersion: each event is one store revision, so a check run after every
// event sees every moment, not a sample of them.
class PodHistory {
 public:
  using Check = std::function<void(const std::vector<const rapidjson::Value*>& active_pods)>;

  PodHistory(client::ResourceClient& pods, std::string selector, std::string ns = "default") {
    client::ListOptions options;
    options.label_selector = std::move(selector);
    auto list = pods.List(ns, options);
    REQUIRE(list.ok());
    for (const rapidjson::Value& item : (*list)["items"].GetArray()) Put(item);
    options.resource_version = std::string(json::StringMember((*list)["metadata"], "resourceVersion"));
    auto watch = pods.Watch(ns, options);
    REQUIRE(watch.ok());
    watch_ = std::move(watch).value();
  }

  // Applies the events that arrive within `wait`, running `check` on the active pods
  // before the first and after each event.
  void Drain(std::chrono::milliseconds wait, const Check& check) {
    if (!checked_once_) {
      check(Active());
      checked_once_ = true;
    }
    auto lines = watch_->Next(wait);
    if (!lines.ok()) return;
    for (const std::string& line : *lines) {
      auto event = json::ParseJson(line);
      REQUIRE(event.ok());
      std::string_view type = json::StringMember(*event, "type");
      const rapidjson::Value* object = json::Member(*event, "object");
      if (!object || type == "BOOKMARK") continue;
      if (type == "DELETED") {
        pods_.erase(std::string(NameOf(*object)));
      } else {
        Put(*object);
      }
      check(Active());
    }
  }

 private:
  void Put(const rapidjson::Value& pod) {
    rapidjson::Document copy;
    copy.CopyFrom(pod, copy.GetAllocator());
    pods_[std::string(NameOf(pod))] = std::move(copy);
  }
  std::vector<const rapidjson::Value*> Active() const {
    std::vector<const rapidjson::Value*> out;
    for (const auto& [name, pod] : pods_) {
      if (IsPodActive(pod)) out.push_back(&pod);
    }
    return out;
  }

  std::map<std::string, rapidjson::Document> pods_;
  std::unique_ptr<client::WatchReader> watch_;
  bool checked_once_ = false;
};

inline std::string_view StatusString(const rapidjson::Value& object, std::string_view field) {
  const rapidjson::Value* status = json::Member(object, "status");
  return status ? json::StringMember(*status, field) : std::string_view();
}

inline int64_t StatusInt(const rapidjson::Value& object, std::string_view field) {
  const rapidjson::Value* status = json::Member(object, "status");
  const rapidjson::Value* v = status ? json::Member(*status, field) : nullptr;
  return v && v->IsInt64() ? v->GetInt64() : 0;
}

inline int64_t SpecInt(const rapidjson::Value& object, std::string_view field) {
  const rapidjson::Value* spec = json::Member(object, "spec");
  const rapidjson::Value* v = spec ? json::Member(*spec, field) : nullptr;
  return v && v->IsInt64() ? v->GetInt64() : -1;
}

// The condition of `type` in status.conditions, or nullptr.
inline const rapidjson::Value* Condition(const rapidjson::Value& object, std::string_view type) {
  const rapidjson::Value* status = json::Member(object, "status");
  const rapidjson::Value* conditions = status ? json::Member(*status, "conditions") : nullptr;
  if (!conditions || !conditions->IsArray()) return nullptr;
  for (const rapidjson::Value& c : conditions->GetArray()) {
    if (json::StringMember(c, "type") == type) return &c;
  }
  return nullptr;
}

inline std::string Label(const rapidjson::Value& object, std::string_view key) {
  const rapidjson::Value* labels = LabelsOf(object);
  return labels ? std::string(json::StringMember(*labels, key)) : std::string();
}

inline std::string Annotation(const rapidjson::Value& object, std::string_view key) {
  return std::string(AnnotationOf(object, key).value_or(""));
}

}  // namespace kite::controllers::workload_testing
