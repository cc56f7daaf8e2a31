// LimitRanger admission: expected objects, annotations and messages are what
// kube-apiserver 1.32's LimitRanger plugin produces for the same input.
#include "src/server/admission/limit_ranger.h"

#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <rapidjson/document.h>

#include "src/server/json/json_util.h"

using kite::admission::ApplyLimitRangeDefaults;
using kite::admission::DefaultLimitRangeItems;
using kite::admission::LimitRangeForbiddenMessage;
using kite::admission::LimitRangeViolations;

namespace {

rapidjson::Document Json(const std::string& text) {
  auto parsed = kite::json::ParseJson(text);
  REQUIRE(parsed.ok());
  return std::move(*parsed);
}

// A LimitRange whose spec.limits is `items` (a JSON array).
rapidjson::Document Range(const std::string& items) {
  return Json(R"({"apiVersion":"v1","kind":"LimitRange","metadata":{"name":"lr","namespace":"ns"},)"
              R"("spec":{"limits":)" + items + "}}");
}

std::string Dump(const rapidjson::Value& v) { return kite::json::ToJson(v); }

// The member at a dotted path ("spec.containers.0.resources"), or nullptr.
const rapidjson::Value* At(const rapidjson::Value& root, const std::string& path) {
  const rapidjson::Value* v = &root;
  size_t start = 0;
  while (v && start <= path.size()) {
    size_t dot = path.find('.', start);
    std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (v->IsArray()) {
      size_t i = std::stoul(part);
      v = i < v->Size() ? &(*v)[static_cast<rapidjson::SizeType>(i)] : nullptr;
    } else {
      v = kite::json::Member(*v, part);
    }
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return v;
}

std::string Str(const rapidjson::Value& root, const std::string& path) {
  const rapidjson::Value* v = At(root, path);
  return v && v->IsString() ? std::string(v->GetString(), v->GetStringLength()) : "<absent>";
}

std::string Annotation(const rapidjson::Value& pod) {
  const rapidjson::Value* a = At(pod, "metadata.annotations");
  if (!a) return "<absent>";
  const rapidjson::Value* v = kite::json::Member(*a, "kubernetes.io/limit-ranger");
  return v && v->IsString() ? v->GetString() : "<absent>";
}

void Default(rapidjson::Document& object, const std::vector<const rapidjson::Value*>& ranges,
             std::string_view kind = "Pod") {
  ApplyLimitRangeDefaults(kind, object, ranges, object.GetAllocator());
}

std::vector<std::string> Violations(const std::string& object, const std::vector<const rapidjson::Value*>& ranges,
                                    std::string_view kind = "Pod") {
  rapidjson::Document d = Json(object);
  return LimitRangeViolations(kind, d, ranges);
}

using Strings = std::vector<std::string>;

}  // namespace

TEST_CASE("default limit only: the limit, and the request from it", "[limit_ranger]") {
  auto lr = Range(R"([{"type":"Container","default":{"cpu":"500m"}}])");
  auto pod = Json(R"({"metadata":{"name":"p"},"spec":{"containers":[{"name":"app","image":"nginx"}]}})");
  Default(pod, {&lr});
  INFO(Dump(pod));
  CHECK(Str(pod, "spec.containers.0.resources.limits.cpu") == "500m");
  CHECK(Str(pod, "spec.containers.0.resources.requests.cpu") == "500m");
  CHECK(Annotation(pod) == "LimitRanger plugin set: cpu request for container app; cpu limit for container app");
}

TEST_CASE("default request only sets requests", "[limit_ranger]") {
  auto lr = Range(R"([{"type":"Container","defaultRequest":{"memory":"128Mi"}}])");
  auto pod = Json(R"({"metadata":{"name":"p"},"spec":{"containers":[{"name":"app"}]}})");
  Default(pod, {&lr});
  INFO(Dump(pod));
  CHECK(Str(pod, "spec.containers.0.resources.requests.memory") == "128Mi");
  CHECK(At(pod, "spec.containers.0.resources.limits") == nullptr);
  CHECK(Annotation(pod) == "LimitRanger plugin set: memory request for container app");
}

TEST_CASE("defaults for both, several resources, sorted in the annotation", "[limit_ranger]") {
  auto lr = Range(R"([{"type":"Container","default":{"memory":"512Mi","cpu":"1"},)"
                  R"("defaultRequest":{"memory":"256Mi","cpu":"0.1"}}])");
  auto pod = Json(R"({"metadata":{"name":"p","annotations":{"keep":"me"}},)"
                  R"("spec":{"containers":[{"name":"a"},{"name":"b"}]}})");
  Default(pod, {&lr});
  INFO(Dump(pod));
  for (std::string c : {"0", "1"}) {
    CHECK(Str(pod, "spec.containers." + c + ".resources.limits.cpu") == "1");
    CHECK(Str(pod, "spec.containers." + c + ".resources.limits.memory") == "512Mi");
    CHECK(Str(pod, "spec.containers." + c + ".resources.requests.cpu") == "100m");  // canonical
    CHECK(Str(pod, "spec.containers." + c + ".resources.requests.memory") == "256Mi");
  }
  CHECK(Annotation(pod) ==
        "LimitRanger plugin set: cpu, memory request for container a; cpu, memory limit for container a; "
        "cpu, memory request for container b; cpu, memory limit for container b");
  CHECK(Str(pod, "metadata.annotations.keep") == "me");
}

TEST_CASE("max and min stand in for missing defaults (SetDefaults_LimitRangeItem)", "[limit_ranger]") {
  auto lr = Range(R"([{"type":"Container","max":{"cpu":"2"},"min":{"memory":"64Mi"}}])");
  auto pod = Json(R"({"spec":{"containers":[{"name":"c"}]}})");
  Default(pod, {&lr});
  INFO(Dump(pod));
  CHECK(Str(pod, "spec.containers.0.resources.limits.cpu") == "2");
  CHECK(Str(pod, "spec.containers.0.resources.requests.cpu") == "2");
  CHECK(Str(pod, "spec.containers.0.resources.requests.memory") == "64Mi");
  CHECK(At(pod, "spec.containers.0.resources.limits.memory") == nullptr);
  CHECK(Annotation(pod) == "LimitRanger plugin set: cpu, memory request for container c; cpu limit for container c");
}

TEST_CASE("init containers are defaulted and named as such", "[limit_ranger]") {
  auto lr = Range(R"([{"type":"Container","default":{"cpu":"300m"}}])");
  auto pod = Json(R"({"spec":{"initContainers":[{"name":"init"}],)"
                  R"("containers":[{"name":"app","resources":{"limits":{"cpu":"1"},"requests":{"cpu":"1"}}}]}})");
  Default(pod, {&lr});
  INFO(Dump(pod));
  CHECK(Str(pod, "spec.initContainers.0.resources.limits.cpu") == "300m");
  CHECK(Str(pod, "spec.initContainers.0.resources.requests.cpu") == "300m");
  CHECK(Str(pod, "spec.containers.0.resources.limits.cpu") == "1");
  CHECK(Annotation(pod) ==
        "LimitRanger plugin set: cpu request for init container init; cpu limit for init container init");
}

TEST_CASE("existing values are kept, only missing entries are added", "[limit_ranger]") {
  auto lr = Range(R"([{"type":"Container","default":{"cpu":"500m","memory":"1Gi"},)"
                  R"("defaultRequest":{"cpu":"100m","memory":"256Mi"}}])");
  auto pod = Json(R"({"spec":{"containers":[{"name":"app","resources":)"
                  R"({"limits":{"cpu":"2"},"requests":{"memory":"300Mi","cpu":null}}}]}})");
  Default(pod, {&lr});
  INFO(Dump(pod));
  CHECK(Str(pod, "spec.containers.0.resources.limits.cpu") == "2");
  CHECK(Str(pod, "spec.containers.0.resources.limits.memory") == "1Gi");
  CHECK(Str(pod, "spec.containers.0.resources.requests.memory") == "300Mi");
  // A present entry (even null) counts as set, as Go's map lookup does.
  REQUIRE(At(pod, "spec.containers.0.resources.requests.cpu") != nullptr);
  CHECK(At(pod, "spec.containers.0.resources.requests.cpu")->IsNull());
  CHECK(Annotation(pod) == "LimitRanger plugin set: memory limit for container app");
}

TEST_CASE("nothing to set: no annotation and no resources object", "[limit_ranger]") {
  auto lr = Range(R"([{"type":"Container","default":{"cpu":"1"}},{"type":"Pod","max":{"cpu":"4"}}])");
  auto pod = Json(R"({"metadata":{"name":"p"},"spec":{"containers":[{"name":"app","resources":)"
                  R"({"limits":{"cpu":"1"},"requests":{"cpu":"1"}}}]}})");
  Default(pod, {&lr});
  CHECK(Annotation(pod) == "<absent>");
  auto none = Json(R"({"spec":{"containers":[{"name":"app"}]}})");
  auto pod_only = Range(R"([{"type":"Pod","max":{"cpu":"4"}},{"type":"PersistentVolumeClaim","min":{"storage":"1Gi"}}])");
  Default(none, {&pod_only});
  CHECK(Dump(none) == R"({"spec":{"containers":[{"name":"app"}]}})");
}

TEST_CASE("later Container items override earlier ones within a LimitRange", "[limit_ranger]") {
  auto lr = Range(R"([{"type":"Container","default":{"cpu":"1"}},{"type":"Container","default":{"cpu":"2"}}])");
  auto pod = Json(R"({"spec":{"containers":[{"name":"c"}]}})");
  Default(pod, {&lr});
  CHECK(Str(pod, "spec.containers.0.resources.limits.cpu") == "2");
  CHECK(Str(pod, "spec.containers.0.resources.requests.cpu") == "2");
}

TEST_CASE("several LimitRanges: each fills what is left; the last one that set something annotates",
          "[limit_ranger]") {
  auto first = Range(R"([{"type":"Container","default":{"cpu":"1"}}])");
  auto second = Range(R"([{"type":"Container","default":{"cpu":"3","memory":"1Gi"}}])");
  auto third = Range(R"([{"type":"Container","default":{"cpu":"5"}}])");
  auto pod = Json(R"({"spec":{"containers":[{"name":"c"}]}})");
  Default(pod, {&first, &second, &third});
  INFO(Dump(pod));
  CHECK(Str(pod, "spec.containers.0.resources.limits.cpu") == "1");
  CHECK(Str(pod, "spec.containers.0.resources.limits.memory") == "1Gi");
  CHECK(Annotation(pod) == "LimitRanger plugin set: memory request for container c; memory limit for container c");
}

TEST_CASE("claims and other kinds are never defaulted", "[limit_ranger]") {
  auto lr = Range(R"([{"type":"Container","default":{"cpu":"1"}},{"type":"PersistentVolumeClaim","min":{"storage":"1Gi"}}])");
  const std::string claim = R"({"metadata":{"name":"c"},"spec":{"resources":{}}})";
  auto pvc = Json(claim);
  Default(pvc, {&lr}, "PersistentVolumeClaim");
  CHECK(Dump(pvc) == Dump(Json(claim)));
  const std::string deployment = R"({"spec":{"containers":[{"name":"c"}]}})";
  auto other = Json(deployment);
  Default(other, {&lr}, "Deployment");
  CHECK(Dump(other) == deployment);
}

TEST_CASE("container min, max and ratio messages", "[limit_ranger]") {
  auto lr = Range(R"([{"type":"Container","min":{"cpu":"100m"},"max":{"memory":"1Gi"},)"
                  R"("maxLimitRequestRatio":{"cpu":"2"}}])");
  SECTION("request below min") {
    CHECK(Violations(R"({"spec":{"containers":[{"name":"a","resources":)"
                     R"({"requests":{"cpu":"50m","memory":"1Gi"},"limits":{"cpu":"100m","memory":"1Gi"}}}]}})",
                     {&lr}) == Strings{"minimum cpu usage per Container is 100m, but request is 50m"});
  }
  SECTION("limit above max, ratio exceeded") {
    CHECK(Violations(R"({"spec":{"containers":[{"name":"a","resources":)"
                     R"({"requests":{"cpu":"250m","memory":"1Gi"},"limits":{"cpu":"1","memory":"2Gi"}}}]}})",
                     {&lr}) ==
          Strings{"maximum memory usage per Container is 1Gi, but limit is 2Gi",
                  "cpu max limit to request ratio per Container is 2, but provided ratio is 4.000000"});
  }
  SECTION("nothing specified") {
    CHECK(Violations(R"({"spec":{"containers":[{"name":"a"}]}})", {&lr}) ==
          Strings{"minimum cpu usage per Container is 100m.  No request is specified",
                  "maximum memory usage per Container is 1Gi.  No limit is specified",
                  "cpu max limit to request ratio per Container is 2, but no request is specified or request is 0"});
  }
  SECTION("request in range, limit below min; request above max; zero limit") {
    CHECK(Violations(R"({"spec":{"containers":[{"name":"a","resources":)"
                     R"({"requests":{"cpu":"200m","memory":"1.5Gi"},"limits":{"cpu":"0","memory":"1Gi"}}}]}})",
                     {&lr}) ==
          Strings{"minimum cpu usage per Container is 100m, but limit is 0",
                  "maximum memory usage per Container is 1Gi, but request is 1536Mi",
                  "cpu max limit to request ratio per Container is 2, but no limit is specified or limit is 0"});
  }
  SECTION("all within bounds") {
    CHECK(Violations(R"({"spec":{"containers":[{"name":"a","resources":)"
                     R"({"requests":{"cpu":"0.5","memory":"1Gi"},"limits":{"cpu":"1","memory":"1024Mi"}}}]}})",
                     {&lr})
              .empty());
  }
}

TEST_CASE("ratio shows six decimals and compares at milli precision", "[limit_ranger]") {
  auto lr = Range(R"([{"type":"Container","maxLimitRequestRatio":{"cpu":"1500m"}}])");
  CHECK(Violations(R"({"spec":{"containers":[{"name":"a","resources":)"
                   R"({"requests":{"cpu":"300m"},"limits":{"cpu":"1"}}}]}})",
                   {&lr}) ==
        Strings{"cpu max limit to request ratio per Container is 1500m, but provided ratio is 3.333333"});
  CHECK(Violations(R"({"spec":{"containers":[{"name":"a","resources":)"
                   R"({"requests":{"cpu":"2"},"limits":{"cpu":"3"}}}]}})",
                   {&lr})
            .empty());
}

TEST_CASE("Container items check init containers too, after the containers", "[limit_ranger]") {
  auto lr = Range(R"([{"type":"Container","max":{"cpu":"1"}}])");
  CHECK(Violations(R"({"spec":{"initContainers":[{"name":"i","resources":{"limits":{"cpu":"3"}}}],)"
                   R"("containers":[{"name":"a","resources":{"limits":{"cpu":"2"}}}]}})",
                   {&lr}) == Strings{"maximum cpu usage per Container is 1, but limit is 2",
                                      "maximum cpu usage per Container is 1, but limit is 3"});
}

TEST_CASE("Pod items compare against the pod's totals", "[limit_ranger]") {
  auto lr = Range(R"([{"type":"Pod","max":{"memory":"1Gi","cpu":"2"},"min":{"cpu":"1"}}])");
  SECTION("containers add up, keeping the first's format") {
    CHECK(Violations(R"({"spec":{"containers":[)"
                     R"({"name":"a","resources":{"requests":{"cpu":"500m"},"limits":{"memory":"512Mi","cpu":"1"}}},)"
                     R"({"name":"b","resources":{"requests":{"cpu":"0.25"},"limits":{"memory":"1536Mi","cpu":"1"}}}]}})",
                     {&lr}) == Strings{"minimum cpu usage per Pod is 1, but request is 750m",
                                        "maximum memory usage per Pod is 1Gi, but limit is 2Gi"});
  }
  SECTION("a resource missing from one container is still summed over the others") {
    CHECK(Violations(R"({"spec":{"containers":[)"
                     R"({"name":"a","resources":{"requests":{"cpu":"1"},"limits":{"cpu":"2"}}},)"
                     R"({"name":"b","resources":{"requests":{"cpu":"1"},"limits":{"cpu":"1","memory":"2Gi"}}}]}})",
                     {&lr}) == Strings{"maximum memory usage per Pod is 1Gi, but limit is 2Gi",
                                        "maximum cpu usage per Pod is 2, but limit is 3"});
  }
  SECTION("the largest init container counts when it exceeds the sum") {
    CHECK(Violations(R"({"spec":{"initContainers":[{"name":"i","resources":{"requests":{"cpu":"1"},)"
                     R"("limits":{"cpu":"3","memory":"1Gi"}}}],)"
                     R"("containers":[{"name":"a","resources":{"requests":{"cpu":"1"},"limits":{"cpu":"1","memory":"1Gi"}}}]}})",
                     {&lr}) == Strings{"maximum cpu usage per Pod is 2, but limit is 3"});
  }
  SECTION("sidecars (restartPolicy Always) add to the containers") {
    CHECK(Violations(R"({"spec":{"initContainers":[{"name":"s","restartPolicy":"Always","resources":)"
                     R"({"requests":{"cpu":"1"},"limits":{"cpu":"1500m","memory":"512Mi"}}}],)"
                     R"("containers":[{"name":"a","resources":{"requests":{"cpu":"1"},"limits":{"cpu":"1","memory":"512Mi"}}}]}})",
                     {&lr}) == Strings{"maximum cpu usage per Pod is 2, but limit is 2500m"});
  }
  SECTION("within bounds") {
    CHECK(Violations(R"({"spec":{"containers":[{"name":"a","resources":)"
                     R"({"requests":{"cpu":"1"},"limits":{"cpu":"2","memory":"1Gi"}}}]}})",
                     {&lr})
              .empty());
  }
}

TEST_CASE("Pod ratio and missing totals", "[limit_ranger]") {
  auto lr = Range(R"([{"type":"Pod","maxLimitRequestRatio":{"memory":"2"},"max":{"cpu":"4"}}])");
  CHECK(Violations(R"({"spec":{"containers":[)"
                   R"({"name":"a","resources":{"requests":{"memory":"100Mi"},"limits":{"memory":"300Mi"}}},)"
                   R"({"name":"b","resources":{"requests":{"memory":"100Mi"},"limits":{"memory":"300Mi"}}}]}})",
                   {&lr}) == Strings{"maximum cpu usage per Pod is 4.  No limit is specified",
                                      "memory max limit to request ratio per Pod is 2, but provided ratio is 3.000000"});
}

TEST_CASE("claim storage min and max, against requests only", "[limit_ranger]") {
  auto lr = Range(R"([{"type":"PersistentVolumeClaim","min":{"storage":"1Gi"},"max":{"storage":"10Gi"}},)"
                  R"({"type":"Container","max":{"cpu":"1"}}])");
  auto claim = [](const std::string& resources) {
    return R"({"metadata":{"name":"c"},"spec":{"accessModes":["ReadWriteOnce"],"resources":)" + resources + "}}";
  };
  CHECK(Violations(claim(R"({"requests":{"storage":"500Mi"}})"), {&lr}, "PersistentVolumeClaim") ==
        Strings{"minimum storage usage per PersistentVolumeClaim is 1Gi, but request is 500Mi"});
  CHECK(Violations(claim(R"({"requests":{"storage":"20Gi"},"limits":{"storage":"1Gi"}})"), {&lr},
                   "PersistentVolumeClaim") ==
        Strings{"maximum storage usage per PersistentVolumeClaim is 10Gi, but request is 20Gi"});
  CHECK(Violations(claim("{}"), {&lr}, "PersistentVolumeClaim") ==
        Strings{"minimum storage usage per PersistentVolumeClaim is 1Gi.  No request is specified",
                "maximum storage usage per PersistentVolumeClaim is 10Gi.  No request is specified"});
  CHECK(Violations(claim(R"({"requests":{"storage":"5Gi"}})"), {&lr}, "PersistentVolumeClaim").empty());
  // Claim items do not apply to pods, nor container items to claims.
  CHECK(Violations(R"({"spec":{"containers":[{"name":"a","resources":{"limits":{"cpu":"1"}}}]}})", {&lr}).empty());
}

TEST_CASE("several LimitRanges: the first one with violations is reported", "[limit_ranger]") {
  auto ok = Range(R"([{"type":"Container","max":{"cpu":"8"}}])");
  auto cpu = Range(R"([{"type":"Container","max":{"cpu":"1"}}])");
  auto memory = Range(R"([{"type":"Container","max":{"memory":"1Mi"}}])");
  const std::string pod =
      R"({"spec":{"containers":[{"name":"a","resources":{"limits":{"cpu":"2","memory":"1Gi"}}}]}})";
  CHECK(Violations(pod, {&ok, &cpu, &memory}) == Strings{"maximum cpu usage per Container is 1, but limit is 2"});
  CHECK(Violations(pod, {&memory, &cpu}) == Strings{"maximum memory usage per Container is 1Mi, but limit is 1Gi"});
  CHECK(Violations(pod, {&ok}).empty());
  CHECK(Violations(pod, {}).empty());
}

TEST_CASE("forbidden message: utilerrors aggregate formatting", "[limit_ranger]") {
  CHECK(LimitRangeForbiddenMessage({}) == "");
  CHECK(LimitRangeForbiddenMessage({"a"}) == "a");
  CHECK(LimitRangeForbiddenMessage({"a", "b"}) == "[a, b]");
  CHECK(LimitRangeForbiddenMessage({"a", "b", "a", "c"}) == "[a, b, c]");
  CHECK(LimitRangeForbiddenMessage({"a", "a"}) == "a");
}

TEST_CASE("defaulting then validating, as the API server runs them", "[limit_ranger]") {
  auto lr = Range(R"([{"type":"Container","default":{"cpu":"200m"},"min":{"cpu":"100m"},"max":{"cpu":"1"}}])");
  auto pod = Json(R"({"spec":{"containers":[{"name":"a"},{"name":"b","resources":{"limits":{"cpu":"2"}}}]}})");
  Default(pod, {&lr});
  std::vector<std::string> v = LimitRangeViolations("Pod", pod, {&lr});
  CHECK(v == Strings{"maximum cpu usage per Container is 1, but limit is 2"});
  CHECK(LimitRangeForbiddenMessage(v) == "maximum cpu usage per Container is 1, but limit is 2");
}

TEST_CASE("wrong-typed input is ignored, never fatal", "[limit_ranger]") {
  auto good = Range(R"([{"type":"Container","default":{"cpu":"1"},"min":{"cpu":"100m"}}])");
  std::vector<rapidjson::Document> ranges;
  for (const char* text :
       {R"("not an object")", R"({"spec":"x"})", R"({"spec":{"limits":{"a":1}}})",
        R"({"spec":{"limits":[1,"x",null,{"type":7,"min":"x"},{"type":"Container","default":[1],"min":{"cpu":{}}},)"
        R"({"type":"Container","default":{"memory":"lots","cpu":true}},{"type":"Pod","max":{"cpu":"x"}}]}})"}) {
    ranges.push_back(Json(text));
  }
  std::vector<const rapidjson::Value*> ptrs = {nullptr};
  for (const auto& r : ranges) ptrs.push_back(&r);

  SECTION("bad LimitRanges contribute nothing") {
    auto pod = Json(R"({"spec":{"containers":[{"name":"a"}]}})");
    Default(pod, ptrs);
    CHECK(Dump(pod) == R"({"spec":{"containers":[{"name":"a"}]}})");
    CHECK(LimitRangeViolations("Pod", pod, ptrs).empty());
    CHECK(LimitRangeViolations("PersistentVolumeClaim", pod, ptrs).empty());
  }
  SECTION("bad pods are left alone where unreadable") {
    ptrs.push_back(&good);
    for (const char* text :
         {R"("pod")", R"({"spec":7})", R"({"spec":{"containers":"x","initContainers":{}}})",
          R"({"metadata":"m","spec":{"containers":[1,null,{"name":5,"resources":"r"},{"resources":{"limits":[],"requests":3}}]}})"}) {
      auto pod = Json(text);
      const std::string before = Dump(pod);
      Default(pod, ptrs);
      CHECK(Dump(pod) == before);
      CHECK_NOTHROW(LimitRangeViolations("Pod", pod, ptrs));
    }
  }
  SECTION("unparsable quantities read as absent; a container name of the wrong type reads as empty") {
    ptrs.push_back(&good);
    auto pod = Json(R"({"spec":{"containers":[{"name":5,"resources":{"requests":{"cpu":"abc"},"limits":{"cpu":[]}}}]}})");
    Default(pod, ptrs);
    // Present entries are kept (whatever they hold); the annotation says nothing was set.
    CHECK(Annotation(pod) == "<absent>");
    CHECK(LimitRangeViolations("Pod", pod, ptrs) ==
          Strings{"minimum cpu usage per Container is 100m.  No request is specified"});
    auto named = Json(R"({"spec":{"containers":[{"name":5}]}})");
    Default(named, ptrs);
    CHECK(Annotation(named) == "LimitRanger plugin set: cpu request for container ; cpu limit for container ");
  }
  SECTION("wrong-typed claim fields") {
    ptrs.push_back(&good);
    auto lr = Range(R"([{"type":"PersistentVolumeClaim","max":{"storage":"1Gi"}}])");
    ptrs.push_back(&lr);
    CHECK(Violations(R"({"spec":{"resources":{"requests":{"storage":7e99}}}})", ptrs, "PersistentVolumeClaim") ==
          Strings{"maximum storage usage per PersistentVolumeClaim is 1Gi, but request is 7e99"});
    CHECK(Violations(R"({"spec":{"resources":"r"}})", ptrs, "PersistentVolumeClaim") ==
          Strings{"maximum storage usage per PersistentVolumeClaim is 1Gi.  No request is specified"});
  }
}

TEST_CASE("DefaultLimitRangeItems writes SetDefaults_LimitRangeItem's defaults", "[limit_ranger]") {
  auto lr = Range(R"([{"type":"Container","max":{"cpu":"2000m","memory":"1Gi"},"min":{"cpu":"100m","memory":"bad"},)"
                  R"("default":{"memory":"512Mi"}},{"type":"Pod","max":{"cpu":"4"}}])");
  DefaultLimitRangeItems(lr, lr.GetAllocator());
  INFO(Dump(lr));
  CHECK(Str(lr, "spec.limits.0.default.cpu") == "2");
  CHECK(Str(lr, "spec.limits.0.default.memory") == "512Mi");
  CHECK(Str(lr, "spec.limits.0.defaultRequest.cpu") == "2");
  CHECK(Str(lr, "spec.limits.0.defaultRequest.memory") == "512Mi");
  CHECK(At(lr, "spec.limits.1.default") == nullptr);
  CHECK(At(lr, "spec.limits.1.defaultRequest") == nullptr);
  // Idempotent.
  const std::string once = Dump(lr);
  DefaultLimitRangeItems(lr, lr.GetAllocator());
  CHECK(Dump(lr) == once);
  // Min fills what default left: a copy as written when unparsable.
  auto min_only = Range(R"([{"type":"Container","min":{"memory":"bad"}}])");
  DefaultLimitRangeItems(min_only, min_only.GetAllocator());
  CHECK(Str(min_only, "spec.limits.0.defaultRequest.memory") == "bad");
  auto junk = Json(R"({"spec":{"limits":[1,{"type":"Container","max":"x","default":3}]}})");
  const std::string before = Dump(junk);
  DefaultLimitRangeItems(junk, junk.GetAllocator());
  CHECK(Dump(junk) == before);
}
