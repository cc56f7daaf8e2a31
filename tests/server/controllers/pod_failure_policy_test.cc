// spec.podFailurePolicy matched against failed pods.
#include "src/server/controllers/pod_failure_policy.h"

#include <catch2/catch.hpp>

#include "src/server/json/json_util.h"

namespace kite::controllers {
namespace {

rapidjson::Document Parse(const std::string& text) {
  auto doc = json::ParseJson(text);
  REQUIRE(doc.ok());
  return std::move(doc).value();
}

// A failed pod ns/p whose containers exited with the given codes ("c0", "c1", ...), and an
// init container "init" that exited with `init_code`.
rapidjson::Document FailedPod(std::vector<int> codes, int init_code = 0, std::string conditions = "[]") {
  std::string statuses;
  for (size_t i = 0; i < codes.size(); ++i) {
    if (i) statuses += ",";
    statuses += R"({"name":"c)" + std::to_string(i) + R"(","state":{"terminated":{"exitCode":)" +
                std::to_string(codes[i]) + "}}}";
  }
  return Parse(R"({"metadata":{"namespace":"ns","name":"p"},"status":{"phase":"Failed","conditions":)" + conditions +
               R"(,"containerStatuses":[)" + statuses +
               R"(],"initContainerStatuses":[{"name":"init","state":{"terminated":{"exitCode":)" +
               std::to_string(init_code) + "}}}]}}");
}

TEST_CASE("without a policy every failure counts") {
  rapidjson::Document pod = FailedPod({1});
  PodFailurePolicyMatch m = MatchPodFailurePolicy(nullptr, pod);
  CHECK(m.count_failed);
  CHECK_FALSE(m.action);
  CHECK_FALSE(m.fail_job_message);
}

TEST_CASE("the first matching rule decides; FailJob carries Kubernetes' message") {
  rapidjson::Document policy = Parse(R"({"rules":[
      {"action":"Ignore","onPodConditions":[{"type":"DisruptionTarget","status":"True"}]},
      {"action":"Count","onExitCodes":{"operator":"In","values":[3]}},
      {"action":"FailJob","onExitCodes":{"containerName":"c1","operator":"In","values":[42]}},
      {"action":"FailJob","onExitCodes":{"operator":"NotIn","values":[1,2]}}]})");

  rapidjson::Document fail_named = FailedPod({1, 42});
  PodFailurePolicyMatch m = MatchPodFailurePolicy(&policy, fail_named);
  CHECK(m.action == "FailJob");
  CHECK(m.count_failed);
  CHECK(m.fail_job_message == "Container c1 for pod ns/p failed with exit code 42 matching FailJob rule at index 2");

  // 42 in c0 does not match the containerName rule, but NotIn [1,2].
  m = MatchPodFailurePolicy(&policy, FailedPod({42}));
  CHECK(m.fail_job_message == "Container c0 for pod ns/p failed with exit code 42 matching FailJob rule at index 3");

  m = MatchPodFailurePolicy(&policy, FailedPod({3}));
  CHECK(m.action == "Count");
  CHECK(m.count_failed);
  CHECK_FALSE(m.fail_job_message);

  m = MatchPodFailurePolicy(&policy, FailedPod({42}, 0, R"([{"type":"DisruptionTarget","status":"True"}])"));
  CHECK(m.action == "Ignore");
  CHECK_FALSE(m.count_failed);

  // A False DisruptionTarget does not match that rule.
  m = MatchPodFailurePolicy(&policy, FailedPod({1}, 0, R"([{"type":"DisruptionTarget","status":"False"}])"));
  CHECK_FALSE(m.action);
  CHECK(m.count_failed);
}

TEST_CASE("exit code 0 never matches, neither In nor NotIn; init containers are checked too") {
  rapidjson::Document not_in = Parse(R"({"rules":[{"action":"FailJob","onExitCodes":{"operator":"NotIn","values":[1]}}]})");
  rapidjson::Document in_zero = Parse(R"({"rules":[{"action":"FailJob","onExitCodes":{"operator":"In","values":[0]}}]})");
  CHECK_FALSE(MatchPodFailurePolicy(&not_in, FailedPod({0, 1})).action);
  CHECK_FALSE(MatchPodFailurePolicy(&in_zero, FailedPod({0})).action);
  PodFailurePolicyMatch m = MatchPodFailurePolicy(&not_in, FailedPod({1}, 7));
  CHECK(m.fail_job_message == "Container init for pod ns/p failed with exit code 7 matching FailJob rule at index 0");
  // A container still running has no exit code to match.
  rapidjson::Document running = Parse(R"({"metadata":{"namespace":"ns","name":"p"},"status":{"phase":"Failed",)"
                                      R"("containerStatuses":[{"name":"c","state":{"running":{}}}]}})");
  CHECK_FALSE(MatchPodFailurePolicy(&not_in, running).action);
}

TEST_CASE("FailJob on a pod condition names the condition") {
  rapidjson::Document policy =
      Parse(R"({"rules":[{"action":"FailJob","onPodConditions":[{"type":"DisruptionTarget","status":"True"}]}]})");
  PodFailurePolicyMatch m =
      MatchPodFailurePolicy(&policy, FailedPod({1}, 0, R"([{"type":"DisruptionTarget","status":"True"}])"));
  CHECK(m.fail_job_message == "Pod ns/p has condition DisruptionTarget matching FailJob rule at index 0");
}

}  // namespace
}  // namespace kite::controllers
