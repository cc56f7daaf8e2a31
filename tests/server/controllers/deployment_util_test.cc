// Deployment arithmetic against the numbers Kubernetes' deployment/util produces.
#include "src/server/controllers/deployment_util.h"

#include <catch2/catch.hpp>

#include "src/server/controllers/controller_ref.h"
#include "src/server/json/json_util.h"

namespace kite::controllers {
namespace {

rapidjson::Document Json(std::string_view text) {
  auto doc = json::ParseJson(text);
  REQUIRE(doc.ok());
  return std::move(doc).value();
}

std::optional<std::string> AnnotationValue(const rapidjson::Value& object, const std::string& key) {
  std::optional<std::string_view> v = AnnotationOf(object, key);
  if (!v) return std::nullopt;
  return std::string(*v);
}

client::ObjectPtr Shared(std::string_view text) { return std::make_shared<const rapidjson::Document>(Json(text)); }

std::string RollingDeployment(int replicas, std::string_view surge, std::string_view unavailable) {
  return R"({"metadata":{"name":"web","generation":1},"spec":{"replicas":)" + std::to_string(replicas) +
         R"(,"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":)" + std::string(surge) +
         R"(,"maxUnavailable":)" + std::string(unavailable) + "}}}}";
}

TEST_CASE("the template hash is stable, short, safe, and follows content and collisions") {
  auto a = Json(R"({"metadata":{"labels":{"app":"web","tier":"fe"}},"spec":{"containers":[{"name":"c","image":"nginx:1"}]}})");
  auto reordered = Json(R"({"spec":{"containers":[{"image":"nginx:1","name":"c"}]},"metadata":{"labels":{"tier":"fe","app":"web"}}})");
  auto with_empty = Json(R"({"metadata":{"labels":{"app":"web","tier":"fe"},"annotations":{}},"spec":{"containers":[{"name":"c","image":"nginx:1","env":[]}]}})");
  auto b = Json(R"({"metadata":{"labels":{"app":"web","tier":"fe"}},"spec":{"containers":[{"name":"c","image":"nginx:2"}]}})");
  std::string h = ComputeTemplateHash(a, std::nullopt);
  CHECK(h == ComputeTemplateHash(reordered, std::nullopt));
  CHECK(h == ComputeTemplateHash(with_empty, std::nullopt));
  CHECK(h != ComputeTemplateHash(b, std::nullopt));
  CHECK(h != ComputeTemplateHash(a, 1));
  CHECK(ComputeTemplateHash(a, 1) != ComputeTemplateHash(a, 2));
  CHECK(!h.empty());
  CHECK(h.size() <= 10);
  CHECK(h.find_first_not_of("bcdfghjklmnpqrstvwxz2456789") == std::string::npos);
}

TEST_CASE("EqualIgnoreHash ignores only the pod-template-hash label and empty values") {
  auto d = Json(R"({"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"c","image":"nginx:1"}]}})");
  auto rs = Json(R"({"metadata":{"labels":{"app":"web","pod-template-hash":"abc"}},"spec":{"containers":[{"name":"c","image":"nginx:1","ports":null}]}})");
  auto other_label = Json(R"({"metadata":{"labels":{"app":"web","x":"y"}},"spec":{"containers":[{"name":"c","image":"nginx:1"}]}})");
  auto other_image = Json(R"({"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"c","image":"nginx:2"}]}})");
  CHECK(EqualIgnoreHash(d, rs));
  CHECK(EqualIgnoreHash(rs, d));
  CHECK_FALSE(EqualIgnoreHash(d, other_label));
  CHECK_FALSE(EqualIgnoreHash(d, other_image));
  CHECK(SemanticEqual(Json(R"({"a":{},"b":[]})"), Json(R"({})")));
  CHECK_FALSE(SemanticEqual(Json(R"({"a":0})"), Json(R"({})")));
  CHECK_FALSE(SemanticEqual(Json(R"([1,2])"), Json(R"([2,1])")));
}

TEST_CASE("maxSurge rounds up and maxUnavailable down; both zero becomes one unavailable") {
  rapidjson::Value pct("25%");
  CHECK(*ScaledValueFromIntOrPercent(&pct, 10, true) == 3);
  CHECK(*ScaledValueFromIntOrPercent(&pct, 10, false) == 2);
  rapidjson::Value three(3);
  CHECK(*ScaledValueFromIntOrPercent(&three, 10, true) == 3);
  rapidjson::Value bare("5");
  CHECK(ScaledValueFromIntOrPercent(&bare, 10, true).status().code() == StatusCode::kInvalidArgument);
  rapidjson::Value junk("x%");
  CHECK_FALSE(ScaledValueFromIntOrPercent(&junk, 10, true).ok());

  // Defaults: 25% / 25%.
  auto defaulted = Json(R"({"spec":{"replicas":5}})");
  CHECK(MaxSurge(defaulted) == 2);
  CHECK(MaxUnavailable(defaulted) == 1);
  auto d = Json(RollingDeployment(2, "0", R"("1%")"));
  auto f = ResolveFenceposts(d, 2);
  REQUIRE(f.ok());
  CHECK(f->max_surge == 0);
  CHECK(f->max_unavailable == 1);
  // maxUnavailable never exceeds replicas; Recreate has neither.
  CHECK(MaxUnavailable(Json(RollingDeployment(2, "1", "5"))) == 2);
  auto recreate = Json(R"({"spec":{"replicas":3,"strategy":{"type":"Recreate"}}})");
  CHECK(MaxSurge(recreate) == 0);
  CHECK(MaxUnavailable(recreate) == 0);
  CHECK(NewRsNewReplicas(recreate, 3, 0) == 3);
}

TEST_CASE("the new ReplicaSet grows within replicas + maxSurge and never beyond replicas") {
  auto d = Json(RollingDeployment(10, "3", "2"));
  CHECK(NewRsNewReplicas(d, 10, 0) == 3);   // 13 allowed, 10 there
  CHECK(NewRsNewReplicas(d, 13, 3) == 3);   // full
  CHECK(NewRsNewReplicas(d, 11, 3) == 5);
  CHECK(NewRsNewReplicas(d, 2, 9) == 10);   // capped at replicas
}

TEST_CASE("a scaling event is shared in proportion to max-replicas, leftovers to the largest") {
  // Kubernetes' example: a rollout paused at old 8 / new 5 (max 13) scaled from 10 to 20.
  auto d = Json(R"({"spec":{"replicas":20,"strategy":{"rollingUpdate":{"maxSurge":3,"maxUnavailable":2}}},"status":{"replicas":13}})");
  auto old_rs = Json(R"({"metadata":{"annotations":{"deployment.kubernetes.io/max-replicas":"13"}},"spec":{"replicas":8}})");
  auto new_rs = Json(R"({"metadata":{"annotations":{"deployment.kubernetes.io/max-replicas":"13"}},"spec":{"replicas":5}})");
  int32_t to_add = 23 - 13;
  int32_t first = ReplicaSetProportion(old_rs, d, to_add, 0);
  CHECK(first == 6);
  CHECK(ReplicaSetProportion(new_rs, d, to_add, first) == 4);
  // Scaling to zero takes everything.
  auto zero = Json(R"({"spec":{"replicas":0}})");
  CHECK(ReplicaSetProportion(old_rs, zero, -13, 0) == -8);
  // Nothing for an empty ReplicaSet.
  CHECK(ReplicaSetProportion(Json(R"({"spec":{"replicas":0}})"), d, 10, 0) == 0);
}

TEST_CASE("new ReplicaSet annotations: copied ones, the revision, and the history of a rollback") {
  auto d = Json(R"({"metadata":{"annotations":{"kubernetes.io/change-cause":"v2",
      "kubectl.kubernetes.io/last-applied-configuration":"{}","deployment.kubernetes.io/revision":"7"}},
      "spec":{"replicas":4}})");
  rapidjson::Document rs = Json(R"({"metadata":{"name":"web-1"}})");
  CHECK(SetNewReplicaSetAnnotations(d, rs, 1, false));
  CHECK(AnnotationValue(rs, "kubernetes.io/change-cause") == "v2");
  CHECK_FALSE(AnnotationValue(rs, "kubectl.kubernetes.io/last-applied-configuration"));
  CHECK(AnnotationValue(rs, std::string(kRevisionAnnotation)) == "1");
  CHECK(AnnotationValue(rs, std::string(kDesiredReplicasAnnotation)) == "4");
  CHECK(AnnotationValue(rs, std::string(kMaxReplicasAnnotation)) == "5");
  CHECK_FALSE(AnnotationValue(rs, std::string(kRevisionHistoryAnnotation)));
  CHECK_FALSE(SetNewReplicaSetAnnotations(d, rs, 1, true));  // nothing new

  // Reused as the newest revision twice: the old numbers pile up in revision-history.
  CHECK(SetNewReplicaSetAnnotations(d, rs, 3, true));
  CHECK(AnnotationValue(rs, std::string(kRevisionAnnotation)) == "3");
  CHECK(AnnotationValue(rs, std::string(kRevisionHistoryAnnotation)) == "1");
  CHECK(SetNewReplicaSetAnnotations(d, rs, 5, true));
  CHECK(AnnotationValue(rs, std::string(kRevisionHistoryAnnotation)) == "1,3");
  // A lower revision never replaces a higher one.
  CHECK_FALSE(SetNewReplicaSetAnnotations(d, rs, 4, true));
  CHECK(AnnotationValue(rs, std::string(kRevisionAnnotation)) == "5");
}

TEST_CASE("revisions, sums and orderings over ReplicaSets") {
  std::vector<client::ObjectPtr> rss{
      Shared(R"({"metadata":{"name":"b","creationTimestamp":"2024-01-01T00:00:02Z","annotations":{"deployment.kubernetes.io/revision":"2"}},"spec":{"replicas":3},"status":{"availableReplicas":2}})"),
      Shared(R"({"metadata":{"name":"a","creationTimestamp":"2024-01-01T00:00:01Z","annotations":{"deployment.kubernetes.io/revision":"9"}},"spec":{"replicas":0}})"),
      Shared(R"({"metadata":{"name":"c","creationTimestamp":"2024-01-01T00:00:01Z","annotations":{"deployment.kubernetes.io/revision":"bad"}}})"),
  };
  CHECK(MaxRevision(rss) == 9);
  CHECK_FALSE(Revision(*rss[2]).has_value());
  CHECK(SpecReplicaSum(rss) == 4);  // absent replicas is 1
  CHECK(StatusSum(rss, "availableReplicas") == 2);
  CHECK(ActiveReplicaSets(rss).size() == 2);
  std::vector<client::ObjectPtr> by_age = rss;
  SortByCreation(by_age);
  CHECK(NameOf(*by_age[0]) == "a");
  CHECK(NameOf(*by_age[1]) == "c");
  CHECK(NameOf(*by_age[2]) == "b");
  std::vector<client::ObjectPtr> by_revision = rss;
  SortByRevision(by_revision);
  CHECK(NameOf(*by_revision[0]) == "c");  // unparsable counts as 0
  CHECK(NameOf(*by_revision[2]) == "a");
}

TEST_CASE("conditions change only when status or reason does; transitions keep their time") {
  DeploymentStatus s;
  SetCondition(s, NewCondition("Progressing", "True", "NewReplicaSetCreated", "created", 1'000'000));
  SetCondition(s, NewCondition("Available", "False", "MinimumReplicasUnavailable", "no", 1'000'000));
  SetCondition(s, NewCondition("Progressing", "True", "NewReplicaSetCreated", "again", 9'000'000));
  REQUIRE(FindCondition(s, "Progressing"));
  CHECK(FindCondition(s, "Progressing")->message == "created");
  SetCondition(s, NewCondition("Progressing", "True", "ReplicaSetUpdated", "moving", 9'000'000));
  const DeploymentCondition* p = FindCondition(s, "Progressing");
  CHECK(p->reason == "ReplicaSetUpdated");
  CHECK(p->last_transition_time == "1970-01-01T00:16:40Z");  // status unchanged: old transition
  CHECK(p->last_update_time == "1970-01-01T02:30:00Z");
  CHECK(s.conditions.back().type == "Progressing");  // replaced conditions move last
  RemoveCondition(s, "Available");
  CHECK(s.conditions.size() == 1);

  // Round trip through JSON, zero counts omitted.
  s.replicas = 3;
  s.collision_count = 1;
  rapidjson::Document doc;
  rapidjson::Value v = s.ToJson(doc.GetAllocator());
  CHECK_FALSE(v.HasMember("readyReplicas"));
  CHECK(DeploymentStatus::FromJson(&v) == s);
}

TEST_CASE("complete, progressing and timed out, as Kubernetes judges them") {
  auto d = Json(R"({"metadata":{"generation":2},"spec":{"replicas":3,"progressDeadlineSeconds":10}})");
  DeploymentStatus s;
  s.observed_generation = 2;
  s.replicas = s.updated_replicas = s.available_replicas = 3;
  CHECK(DeploymentComplete(d, s));
  s.observed_generation = 1;
  CHECK_FALSE(DeploymentComplete(d, s));

  DeploymentStatus before;
  before.replicas = 4;
  before.updated_replicas = 1;
  DeploymentStatus after = before;
  CHECK_FALSE(DeploymentProgressing(before, after));
  after.replicas = 3;  // an old one went
  CHECK(DeploymentProgressing(before, after));

  DeploymentStatus stuck;
  SetCondition(stuck, NewCondition("Progressing", "True", "ReplicaSetUpdated", "m", 100'000));
  CHECK_FALSE(DeploymentTimedOut(d, stuck, 105'000));
  CHECK(DeploymentTimedOut(d, stuck, 111'000));
  auto no_deadline = Json(R"({"spec":{"progressDeadlineSeconds":2147483647}})");
  CHECK_FALSE(DeploymentTimedOut(no_deadline, stuck, 999'999'999));
}

}  // namespace
}  // namespace kite::controllers
