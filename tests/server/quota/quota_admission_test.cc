#include "src/server/quota/quota_admission.h"

#include <catch2/catch.hpp>

#include <functional>

#include "src/server/apiserver/object_codec.h"
#include "src/server/json/json_util.h"
#include "src/store/memory_store.h"

namespace kite::quota {
namespace {

rapidjson::Document Json(std::string_view text) {
  auto doc = json::ParseJson(text);
  REQUIRE(doc.ok());
  return std::move(doc).value();
}

// A store that runs a hook before the first conditional Update of a quota key: a writer
// that races with the admission check.
class RacingStore final : public store::KvStore {
 public:
  std::function<void()> before_quota_update;

  Result<int64_t> Create(std::string_view key, std::string_view value, store::WriteOptions options) override {
    return inner.Create(key, value, options);
  }
  Result<int64_t> Update(std::string_view key, std::string_view value, int64_t expected_revision,
                         store::WriteOptions options) override {
    if (before_quota_update && key.find("/resourcequotas/") != std::string_view::npos) {
      auto hook = std::move(before_quota_update);
      before_quota_update = nullptr;
      hook();
    }
    ++updates;
    return inner.Update(key, value, expected_revision, options);
  }
  Result<int64_t> Delete(std::string_view key, int64_t expected_revision) override {
    return inner.Delete(key, expected_revision);
  }
  Result<store::KeyValue> Get(std::string_view key, int64_t revision) override { return inner.Get(key, revision); }
  Result<store::RangeResult> Range(const store::RangeRequest& request) override { return inner.Range(request); }
  Result<std::unique_ptr<store::Watcher>> Watch(std::string_view prefix, int64_t after_revision) override {
    return inner.Watch(prefix, after_revision);
  }
  Status Compact(int64_t revision) override { return inner.Compact(revision); }
  int64_t CurrentRevision() override { return inner.CurrentRevision(); }
  int64_t CompactedRevision() override { return inner.CompactedRevision(); }
  Status ExpireKeys() override { return inner.ExpireKeys(); }

  store::MemoryStore inner;
  int updates = 0;
};

struct Fixture {
  RacingStore kv;
  FakeClock clock;
  QuotaAdmission admission{&kv, &clock};

  // Stores an object the way the API server does (EncodeForStorage).
  void Store(std::string_view resource, std::string_view ns, std::string_view name, std::string_view json_text,
             std::string_view group = "") {
    rapidjson::Document object = Json(json_text);
    std::string stored = apiserver::EncodeForStorage(object);
    REQUIRE(kv.inner.Create(apiserver::ObjectKey(group, resource, ns, name), stored).ok());
  }
  void Quota(std::string_view ns, std::string_view name, std::string_view spec_and_status) {
    Store("resourcequotas", ns, name,
          R"({"apiVersion":"v1","kind":"ResourceQuota","metadata":{"name":")" + std::string(name) +
              R"(","namespace":")" + std::string(ns) + R"(","resourceVersion":"7"},)" + std::string(spec_and_status) + "}");
  }
  store::KeyValue QuotaRecord(std::string_view ns, std::string_view name) {
    auto kv_result = kv.Get(apiserver::ObjectKey("", "resourcequotas", ns, name), 0);
    REQUIRE(kv_result.ok());
    return *kv_result;
  }
  // status.used of a stored quota as compact JSON ("" when absent).
  std::string Used(std::string_view ns, std::string_view name) {
    rapidjson::Document q = Json(QuotaRecord(ns, name).value);
    const rapidjson::Value* status = json::Member(q, "status");
    const rapidjson::Value* used = status ? json::Member(*status, "used") : nullptr;
    return used ? json::ToJson(*used) : "";
  }
  std::optional<std::string> AdmitPod(std::string_view ns, std::string_view pod_json, bool dry_run = false) {
    rapidjson::Document pod = Json(pod_json);
    return admission.Admit("", "pods", ns, pod, nullptr, dry_run);
  }
};

std::string Pod(std::string_view name, std::string_view resources = "") {
  std::string r = resources.empty() ? "" : R"(,"resources":)" + std::string(resources);
  return R"({"metadata":{"name":")" + std::string(name) + R"("},"spec":{"containers":[{"name":"app","image":"busybox")" +
         r + "}]}}";
}

TEST_CASE("pods are counted against a quota and the third one is refused") {
  Fixture f;
  f.Quota("team", "q", R"("spec":{"hard":{"pods":"2","requests.cpu":"1"}})");
  std::string cpu = R"({"requests":{"cpu":"100m"}})";
  CHECK(f.AdmitPod("team", Pod("p1", cpu)) == std::nullopt);
  CHECK(f.Used("team", "q") == R"({"pods":"1","requests.cpu":"100m"})");
  CHECK(f.AdmitPod("team", Pod("p2", cpu)) == std::nullopt);
  CHECK(f.Used("team", "q") == R"({"pods":"2","requests.cpu":"200m"})");
  CHECK(f.AdmitPod("team", Pod("p3", cpu)) ==
        std::optional<std::string>("exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2"));
  CHECK(f.Used("team", "q") == R"({"pods":"2","requests.cpu":"200m"})");

  // The stored quota keeps the storage form: no resourceVersion inside, the rest intact.
  store::KeyValue record = f.QuotaRecord("team", "q");
  CHECK(record.value.find("resourceVersion") == std::string::npos);
  CHECK(record.value.rfind(R"({"apiVersion":"v1","kind":"ResourceQuota","metadata":{)", 0) == 0);
  CHECK(record.value.find(R"("spec":{"hard":{"pods":"2","requests.cpu":"1"}})") != std::string::npos);

  // Another namespace is not limited by it.
  CHECK(f.AdmitPod("other", Pod("p3", cpu)) == std::nullopt);
}

TEST_CASE("cpu beyond the quota is refused with the amounts") {
  Fixture f;
  f.Quota("team", "compute", R"("spec":{"hard":{"requests.cpu":"1","limits.memory":"1Gi"}},)"
                             R"("status":{"hard":{"requests.cpu":"1","limits.memory":"1Gi"},)"
                             R"("used":{"requests.cpu":"600m","limits.memory":"512Mi"}})");
  std::string big = R"({"requests":{"cpu":"500m"},"limits":{"cpu":"500m","memory":"256Mi"}})";
  CHECK(f.AdmitPod("team", Pod("p", big)) ==
        std::optional<std::string>(
            "exceeded quota: compute, requested: requests.cpu=500m, used: requests.cpu=600m, limited: requests.cpu=1"));
  std::string fits = R"({"requests":{"cpu":"400m"},"limits":{"memory":"512Mi"}})";
  CHECK(f.AdmitPod("team", Pod("p", fits)) == std::nullopt);
  CHECK(f.Used("team", "compute") == R"({"limits.memory":"1Gi","requests.cpu":"1"})");
}

TEST_CASE("a quota on cpu or memory refuses pods that do not say how much") {
  Fixture f;
  f.Quota("team", "q", R"("spec":{"hard":{"limits.cpu":"2","pods":"10"}})");
  CHECK(f.AdmitPod("team", Pod("p")) == std::optional<std::string>("failed quota: q: must specify limits.cpu for: app"));
  CHECK(f.Used("team", "q") == "");
  CHECK(f.AdmitPod("team", Pod("p", R"({"limits":{"cpu":"1"}})")) == std::nullopt);
  CHECK(f.Used("team", "q") == R"({"limits.cpu":"1","pods":"1"})");
}

TEST_CASE("a quota's status.hard wins over spec.hard once the controller wrote it") {
  Fixture f;
  f.Quota("team", "q", R"("spec":{"hard":{"pods":"5"}},"status":{"hard":{"pods":"1"},"used":{"pods":"1"}})");
  CHECK(f.AdmitPod("team", Pod("p")) ==
        std::optional<std::string>("exceeded quota: q, requested: pods=1, used: pods=1, limited: pods=1"));
}

TEST_CASE("usage the quota has not recorded yet is counted from the stored objects") {
  Fixture f;
  f.Store("pods", "team", "old-1", Pod("old-1"));
  f.Store("pods", "team", "old-2", Pod("old-2"));
  f.Store("pods", "team", "done", R"({"metadata":{"name":"done"},"spec":{"containers":[{"name":"a"}]},)"
                                  R"("status":{"phase":"Succeeded"}})");
  f.Store("pods", "elsewhere", "x", Pod("x"));
  f.Quota("team", "q", R"("spec":{"hard":{"pods":"3","count/pods":"10"}})");
  CHECK(f.AdmitPod("team", Pod("new")) == std::nullopt);
  CHECK(f.Used("team", "q") == R"({"count/pods":"4","pods":"3"})");
  CHECK(f.AdmitPod("team", Pod("newer")) ==
        std::optional<std::string>("exceeded quota: q, requested: pods=1, used: pods=3, limited: pods=3"));
}

TEST_CASE("scoped quotas count only the pods in their scopes") {
  Fixture f;
  f.Quota("team", "best-effort", R"("spec":{"hard":{"pods":"1"},"scopes":["BestEffort"]})");
  CHECK(f.AdmitPod("team", Pod("a")) == std::nullopt);
  CHECK(f.AdmitPod("team", Pod("b")) ==
        std::optional<std::string>("exceeded quota: best-effort, requested: pods=1, used: pods=1, limited: pods=1"));
  CHECK(f.AdmitPod("team", Pod("c", R"({"requests":{"memory":"1Mi"}})")) == std::nullopt);
  CHECK(f.Used("team", "best-effort") == R"({"pods":"1"})");
}

TEST_CASE("every matching quota is checked and charged") {
  Fixture f;
  f.Quota("team", "a", R"("spec":{"hard":{"pods":"5"}})");
  f.Quota("team", "b", R"("spec":{"hard":{"count/pods":"5","secrets":"1"}})");
  CHECK(f.AdmitPod("team", Pod("p")) == std::nullopt);
  CHECK(f.Used("team", "a") == R"({"pods":"1"})");
  CHECK(f.Used("team", "b") == R"({"count/pods":"1"})");
  rapidjson::Document secret = Json(R"({"metadata":{"name":"s"},"type":"Opaque"})");
  CHECK(f.admission.Admit("", "secrets", "team", secret, nullptr) == std::nullopt);
  CHECK(f.Used("team", "b") == R"({"count/pods":"1","secrets":"1"})");
  CHECK(f.admission.Admit("", "secrets", "team", secret, nullptr) ==
        std::optional<std::string>("exceeded quota: b, requested: secrets=1, used: secrets=1, limited: secrets=1"));
}

TEST_CASE("any kind is counted as count/<resource>.<group>, on create only") {
  Fixture f;
  f.Quota("team", "q", R"("spec":{"hard":{"count/deployments.apps":"1"}})");
  rapidjson::Document d = Json(R"({"metadata":{"name":"web"}})");
  CHECK(f.admission.Admit("apps", "deployments", "team", d, nullptr) == std::nullopt);
  CHECK(f.admission.Admit("apps", "deployments", "team", d, &d) == std::nullopt);  // an update
  CHECK(f.Used("team", "q") == R"({"count/deployments.apps":"1"})");
  CHECK(f.admission.Admit("apps", "deployments", "team", d, nullptr) ==
        std::optional<std::string>(
            "exceeded quota: q, requested: count/deployments.apps=1, used: count/deployments.apps=1, "
            "limited: count/deployments.apps=1"));
  // Cluster-scoped objects are never limited.
  CHECK(f.admission.Admit("", "namespaces", "", d, nullptr) == std::nullopt);
}

TEST_CASE("updates charge only the increase: service type changes, claims that grow") {
  Fixture f;
  f.Quota("team", "q", R"("spec":{"hard":{"services":"5","services.nodeports":"2","requests.storage":"10Gi"}})");
  rapidjson::Document cluster_ip = Json(R"({"metadata":{"name":"s"},"spec":{"ports":[{"port":80},{"port":81}]}})");
  rapidjson::Document node_port =
      Json(R"({"metadata":{"name":"s"},"spec":{"type":"NodePort","ports":[{"port":80},{"port":81}]}})");
  rapidjson::Document node_port_3 =
      Json(R"({"metadata":{"name":"s"},"spec":{"type":"NodePort","ports":[{"port":80},{"port":81},{"port":82}]}})");
  CHECK(f.admission.Admit("", "services", "team", cluster_ip, nullptr) == std::nullopt);
  CHECK(f.Used("team", "q") == R"({"services":"1","services.nodeports":"0"})");
  CHECK(f.admission.Admit("", "services", "team", node_port, &cluster_ip) == std::nullopt);
  CHECK(f.Used("team", "q") == R"({"services":"1","services.nodeports":"2"})");
  CHECK(f.admission.Admit("", "services", "team", node_port_3, &node_port) ==
        std::optional<std::string>(
            "exceeded quota: q, requested: services.nodeports=1, used: services.nodeports=2, limited: services.nodeports=2"));
  // Going back down charges nothing (the controller gives it back).
  CHECK(f.admission.Admit("", "services", "team", cluster_ip, &node_port) == std::nullopt);
  CHECK(f.Used("team", "q") == R"({"services":"1","services.nodeports":"2"})");

  rapidjson::Document small = Json(R"({"metadata":{"name":"c"},"spec":{"resources":{"requests":{"storage":"4Gi"}}}})");
  rapidjson::Document large = Json(R"({"metadata":{"name":"c"},"spec":{"resources":{"requests":{"storage":"8Gi"}}}})");
  CHECK(f.admission.Admit("", "persistentvolumeclaims", "team", small, nullptr) == std::nullopt);
  CHECK(f.Used("team", "q") == R"({"requests.storage":"4Gi","services":"1","services.nodeports":"2"})");
  CHECK(f.admission.Admit("", "persistentvolumeclaims", "team", large, &small) == std::nullopt);
  CHECK(f.Used("team", "q") == R"({"requests.storage":"8Gi","services":"1","services.nodeports":"2"})");
  CHECK(f.admission.Admit("", "persistentvolumeclaims", "team", large, nullptr) ==
        std::optional<std::string>(
            "exceeded quota: q, requested: requests.storage=8Gi, used: requests.storage=8Gi, limited: requests.storage=10Gi"));
}

TEST_CASE("pod updates are not charged") {
  Fixture f;
  f.Quota("team", "q", R"("spec":{"hard":{"pods":"1"}},"status":{"hard":{"pods":"1"},"used":{"pods":"1"}})");
  rapidjson::Document pod = Json(Pod("p"));
  CHECK(f.admission.Admit("", "pods", "team", pod, &pod) == std::nullopt);
  CHECK_FALSE(QuotaAdmission::Handles("", "pods", true));
  CHECK(QuotaAdmission::Handles("", "pods", false));
}

TEST_CASE("a dry run is checked but not charged") {
  Fixture f;
  f.Quota("team", "q", R"("spec":{"hard":{"pods":"1"}})");
  CHECK(f.AdmitPod("team", Pod("p"), /*dry_run=*/true) == std::nullopt);
  CHECK(f.Used("team", "q") == "");
  CHECK(f.kv.updates == 0);
  CHECK(f.AdmitPod("team", Pod("p")) == std::nullopt);
  CHECK(f.AdmitPod("team", Pod("p2"), /*dry_run=*/true) ==
        std::optional<std::string>("exceeded quota: q, requested: pods=1, used: pods=1, limited: pods=1"));
}

TEST_CASE("a quota changed under the check is read again and the charge lands on top") {
  Fixture f;
  f.Quota("team", "a", R"("spec":{"hard":{"pods":"3"}},"status":{"hard":{"pods":"3"},"used":{"pods":"1"}})");
  f.Quota("team", "b", R"("spec":{"hard":{"pods":"10"}},"status":{"hard":{"pods":"10"},"used":{"pods":"0"}})");
  // Just before the first quota write, another server charges quota "a" for a pod of its own.
  int64_t before = f.QuotaRecord("team", "a").mod_revision;
  f.kv.before_quota_update = [&] {
    rapidjson::Document q = Json(f.QuotaRecord("team", "a").value);
    json::MutableMember(*json::MutableMember(q, "status"), "used")->operator[]("pods").SetString("2");
    REQUIRE(f.kv.inner.Update(apiserver::ObjectKey("", "resourcequotas", "team", "a"), apiserver::EncodeForStorage(q),
                              0)
                .ok());
  };
  CHECK(f.AdmitPod("team", Pod("p")) == std::nullopt);
  CHECK(f.Used("team", "a") == R"({"pods":"3"})");  // 2 from the other writer + ours
  CHECK(f.Used("team", "b") == R"({"pods":"1"})");  // charged once, not again on the retry
  CHECK(f.kv.updates == 3);                          // a (conflict), b, a again
  CHECK(f.QuotaRecord("team", "a").mod_revision > before);

  // Now full: the re-check after a conflict refuses too.
  f.kv.before_quota_update = nullptr;
  CHECK(f.AdmitPod("team", Pod("p2")) ==
        std::optional<std::string>("exceeded quota: a, requested: pods=1, used: pods=3, limited: pods=3"));
}

TEST_CASE("a conflict that turns the request away refuses it") {
  Fixture f;
  f.Quota("team", "a", R"("spec":{"hard":{"pods":"2"}},"status":{"hard":{"pods":"2"},"used":{"pods":"1"}})");
  f.kv.before_quota_update = [&] {
    rapidjson::Document q = Json(f.QuotaRecord("team", "a").value);
    json::MutableMember(*json::MutableMember(q, "status"), "used")->operator[]("pods").SetString("2");
    REQUIRE(f.kv.inner.Update(apiserver::ObjectKey("", "resourcequotas", "team", "a"), apiserver::EncodeForStorage(q),
                              0)
                .ok());
  };
  CHECK(f.AdmitPod("team", Pod("p")) ==
        std::optional<std::string>("exceeded quota: a, requested: pods=1, used: pods=2, limited: pods=2"));
  CHECK(f.Used("team", "a") == R"({"pods":"2"})");
}

}  // namespace
}  // namespace kite::quota
