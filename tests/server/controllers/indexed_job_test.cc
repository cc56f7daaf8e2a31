// The helpers of Indexed Jobs: completion indexes, the completedIndexes interval strings,
// pending indexes and duplicate pods.
#include "src/server/controllers/indexed_job.h"

#include <catch2/catch.hpp>

#include <set>
#include <string>

#include "src/server/json/json_util.h"

namespace kite::controllers {
namespace {

client::ObjectPtr PodWithIndex(std::string_view name, std::string_view index) {
  std::string annotations =
      index.empty() ? "{}" : R"({"batch.kubernetes.io/job-completion-index":")" + std::string(index) + R"("})";
  auto doc = json::ParseJson(R"({"metadata":{"name":")" + std::string(name) + R"(","uid":")" + std::string(name) +
                             R"(","annotations":)" + annotations + R"(},"status":{"phase":"Running"}})");
  REQUIRE(doc.ok());
  return std::make_shared<const rapidjson::Document>(std::move(doc).value());
}

TEST_CASE("CompletionIndexOf reads the annotation; anything else is unknown") {
  CHECK(CompletionIndexOf(*PodWithIndex("a", "3")) == 3);
  CHECK(CompletionIndexOf(*PodWithIndex("a", "0")) == 0);
  CHECK(CompletionIndexOf(*PodWithIndex("a", "")) == -1);
  CHECK(CompletionIndexOf(*PodWithIndex("a", "-1")) == -1);
  CHECK(CompletionIndexOf(*PodWithIndex("a", "x")) == -1);
  CHECK(CompletionIndexOf(*PodWithIndex("a", "2a")) == -1);
}

TEST_CASE("completed indexes are compressed into intervals") {
  CHECK(IndexIntervals().With({1, 3, 4, 5, 7}).ToString() == "1,3-5,7");
  CHECK(IndexIntervals().With({0, 1}).ToString() == "0,1");
  CHECK(IndexIntervals().With({5, 0, 1, 2, 2}).ToString() == "0-2,5");
  CHECK(IndexIntervals().ToString().empty());
  IndexIntervals parsed = IndexIntervals::Parse("1,3-5,7", 10);
  CHECK(parsed.ToString() == "1,3-5,7");
  CHECK(parsed.Total() == 5);
  CHECK(parsed.Has(4));
  CHECK_FALSE(parsed.Has(2));
  CHECK_FALSE(parsed.Has(8));
  CHECK(parsed.With({2, 6}).ToString() == "1-7");
  // Indexes at or past completions are dropped; malformed parts skipped.
  CHECK(IndexIntervals::Parse("0-9", 4).ToString() == "0-3");
  CHECK(IndexIntervals::Parse("1,x,2,5,9", 6).ToString() == "1,2,5");
  CHECK(IndexIntervals::Parse("", 6).Total() == 0);
}

TEST_CASE("the lowest indexes neither done nor running are pending") {
  std::vector<client::ObjectPtr> busy = {PodWithIndex("a", "0"), PodWithIndex("b", "4"), PodWithIndex("c", "")};
  IndexIntervals done = IndexIntervals().With({1, 2});
  CHECK(FirstPendingIndexes(busy, done, 3, 10) == std::vector<int64_t>{3, 5, 6});
  CHECK(FirstPendingIndexes(busy, done, 10, 6) == std::vector<int64_t>{3, 5});
  CHECK(FirstPendingIndexes(busy, done, 0, 6).empty());
  CHECK(FirstPendingIndexes({}, IndexIntervals(), 2, 5) == std::vector<int64_t>{0, 1});
}

TEST_CASE("duplicate pods of an index and pods without a valid index are to be deleted") {
  std::vector<client::ObjectPtr> active = {PodWithIndex("a", "0"), PodWithIndex("b", "1"), PodWithIndex("c", "1"),
                                           PodWithIndex("d", "1"), PodWithIndex("e", ""), PodWithIndex("f", "7")};
  std::vector<client::ObjectPtr> doomed = PodsWithDuplicateIndexes(active, 5, 0);
  std::set<std::string> names;
  for (const auto& p : doomed) names.insert(std::string(json::StringMember((*p)["metadata"], "name")));
  CHECK(doomed.size() == 4);
  CHECK(names.count("e"));
  CHECK(names.count("f"));
  CHECK_FALSE(names.count("a"));
  // Exactly one of the three pods of index 1 stays.
  CHECK(names.count("b") + names.count("c") + names.count("d") == 2);
}

TEST_CASE("an index's pod: annotation, label, hostname, generateName and env") {
  auto pod = json::ParseJson(R"({"metadata":{"labels":{"app":"x"}},"spec":{"subdomain":"svc",)"
                             R"("initContainers":[{"name":"i"}],)"
                             R"("containers":[{"name":"c","env":[{"name":"A","value":"1"}]},)"
                             R"({"name":"d","env":[{"name":"JOB_COMPLETION_INDEX","value":"mine"}]}]}})");
  REQUIRE(pod.ok());
  auto& a = pod->GetAllocator();
  AddCompletionIndexEnv(*pod, a);
  SetCompletionIndex(*pod, "work", 3, a);
  const rapidjson::Value& md = (*pod)["metadata"];
  CHECK(json::StringMember(md["annotations"], kJobCompletionIndexAnnotation) == "3");
  CHECK(json::StringMember(md["labels"], kJobCompletionIndexAnnotation) == "3");
  CHECK(json::StringMember(md["labels"], "app") == "x");
  CHECK(json::StringMember(md, "generateName") == "work-3-");
  CHECK(json::StringMember((*pod)["spec"], "hostname") == "work-3");
  CHECK(json::StringMember((*pod)["spec"], "subdomain") == "svc");
  const std::string env_var =
      R"({"name":"JOB_COMPLETION_INDEX","valueFrom":{"fieldRef":{"fieldPath":"metadata.labels['batch.kubernetes.io/job-completion-index']"}}})";
  CHECK(json::ToJson((*pod)["spec"]["initContainers"][0]["env"]) == "[" + env_var + "]");
  CHECK(json::ToJson((*pod)["spec"]["containers"][0]["env"]) == R"([{"name":"A","value":"1"},)" + env_var + "]");
  // A container that defines the variable keeps its own.
  CHECK(json::ToJson((*pod)["spec"]["containers"][1]["env"]) == R"([{"name":"JOB_COMPLETION_INDEX","value":"mine"}])");

  // A long name is cut so that the prefix fits 58 characters, keeping the index.
  auto other = json::ParseJson(R"({"spec":{}})");
  REQUIRE(other.ok());
  SetCompletionIndex(*other, std::string(70, 'j'), 12, other->GetAllocator());
  std::string prefix(json::StringMember((*other)["metadata"], "generateName"));
  CHECK(prefix.size() == 58);
  CHECK(prefix == std::string(54, 'j') + "-12-");
}

TEST_CASE("successPolicy rules: succeededIndexes, succeededCount, or both") {
  auto policy = json::ParseJson(R"({"rules":[{"succeededIndexes":"0,2-4"},)"
                                R"({"succeededIndexes":"5-9","succeededCount":2},{"succeededCount":6}]})");
  REQUIRE(policy.ok());
  CHECK_FALSE(MatchSuccessPolicy(&*policy, 10, IndexIntervals()));
  CHECK_FALSE(MatchSuccessPolicy(nullptr, 10, IndexIntervals().With({0})));
  CHECK_FALSE(MatchSuccessPolicy(&*policy, 10, IndexIntervals().With({0, 2, 3})));
  CHECK(MatchSuccessPolicy(&*policy, 10, IndexIntervals().With({0, 1, 2, 3, 4})) == "Matched rules at index 0");
  CHECK(MatchSuccessPolicy(&*policy, 10, IndexIntervals().With({5, 9})) == "Matched rules at index 1");
  CHECK_FALSE(MatchSuccessPolicy(&*policy, 10, IndexIntervals().With({1, 5})));
  CHECK(MatchSuccessPolicy(&*policy, 10, IndexIntervals().With({0, 1, 2, 5, 6})) == "Matched rules at index 1");
  CHECK(MatchSuccessPolicy(&*policy, 10, IndexIntervals().With({0, 1, 2, 3, 5, 7})) == "Matched rules at index 1");
  auto count_only = json::ParseJson(R"({"rules":[{"succeededCount":3}]})");
  REQUIRE(count_only.ok());
  CHECK_FALSE(MatchSuccessPolicy(&*count_only, 10, IndexIntervals().With({1, 7})));
  CHECK(MatchSuccessPolicy(&*count_only, 10, IndexIntervals().With({1, 4, 7})) == "Matched rules at index 0");
}

TEST_CASE("the union of two index sets") {
  IndexIntervals a = IndexIntervals().With({0, 1, 2, 7});
  IndexIntervals b = IndexIntervals().With({3, 5, 9});
  CHECK(a.Union(b).ToString() == "0-3,5,7,9");
  CHECK(b.Union(a).ToString() == "0-3,5,7,9");
  CHECK(a.Union(IndexIntervals()).ToString() == "0-2,7");
  CHECK(IndexIntervals().Union(IndexIntervals()).Total() == 0);
  CHECK(IndexIntervals().With({4, 6}).Union(IndexIntervals().With({5})).ToString() == "4-6");
}

client::ObjectPtr FailedPod(std::string_view annotations, int exit_code, std::string_view conditions = "[]") {
  auto doc = json::ParseJson(R"({"metadata":{"name":"p","namespace":"default","annotations":)" + std::string(annotations) +
                             R"(},"status":{"phase":"Failed","conditions":)" + std::string(conditions) +
                             R"(,"containerStatuses":[{"name":"c","state":{"terminated":{"exitCode":)" +
                             std::to_string(exit_code) + "}}}]}}");
  REQUIRE(doc.ok());
  return std::make_shared<const rapidjson::Document>(std::move(doc).value());
}

TEST_CASE("index failure counts are read leniently and carried on to a replacement") {
  CHECK(IndexFailureCountsOf(*FailedPod("{}", 1)).failed == 0);
  auto counted = FailedPod(R"({"batch.kubernetes.io/job-index-failure-count":"2",)"
                           R"("batch.kubernetes.io/job-index-ignored-failure-count":"1"})", 1);
  CHECK(IndexFailureCountsOf(*counted).failed == 2);
  CHECK(IndexFailureCountsOf(*counted).ignored == 1);
  // What a user may have written instead counts as 0.
  for (std::string_view bad : {"-1", "x", "2147483648", "1.5", ""}) {
    auto pod = FailedPod(R"({"batch.kubernetes.io/job-index-failure-count":")" + std::string(bad) + R"("})", 1);
    INFO(bad);
    CHECK(IndexFailureCountsOf(*pod).failed == 0);
  }
  CHECK(IndexFailureCountsOf(*FailedPod(R"({"batch.kubernetes.io/job-index-failure-count":"2147483647"})", 1)).failed ==
        2147483647);

  // The first pod of an index starts at 0; a replacement adds the failure it replaces.
  IndexFailureCounts first = ReplacementIndexFailureCounts(nullptr, nullptr);
  CHECK(first.failed == 0);
  CHECK(first.ignored == 0);
  IndexFailureCounts next = ReplacementIndexFailureCounts(nullptr, counted.get());
  CHECK(next.failed == 3);
  CHECK(next.ignored == 1);
  // A failure the policy Ignores goes to the other count.
  auto policy = json::ParseJson(R"({"rules":[{"action":"Ignore","onExitCodes":{"operator":"In","values":[7]}}]})");
  REQUIRE(policy.ok());
  auto ignored = FailedPod(R"({"batch.kubernetes.io/job-index-failure-count":"2"})", 7);
  IndexFailureCounts after_ignored = ReplacementIndexFailureCounts(&*policy, ignored.get());
  CHECK(after_ignored.failed == 2);
  CHECK(after_ignored.ignored == 1);

  auto pod = json::ParseJson(R"({"metadata":{"annotations":{"a":"b"}}})");
  REQUIRE(pod.ok());
  SetIndexFailureCounts(*pod, {0, 0}, pod->GetAllocator());
  CHECK(json::ToJson((*pod)["metadata"]["annotations"]) ==
        R"({"a":"b","batch.kubernetes.io/job-index-failure-count":"0"})");
  SetIndexFailureCounts(*pod, {3, 2}, pod->GetAllocator());
  CHECK(json::ToJson((*pod)["metadata"]["annotations"]) ==
        R"({"a":"b","batch.kubernetes.io/job-index-failure-count":"3",)"
        R"("batch.kubernetes.io/job-index-ignored-failure-count":"2"})");
}

TEST_CASE("a failed pod fails its index at the per-index limit or by a FailIndex rule") {
  auto first = FailedPod("{}", 1);
  auto second = FailedPod(R"({"batch.kubernetes.io/job-index-failure-count":"1"})", 1);
  CHECK(FailsIndex(nullptr, *first, 0));
  CHECK_FALSE(FailsIndex(nullptr, *first, 1));
  CHECK(FailsIndex(nullptr, *second, 1));
  CHECK_FALSE(FailsIndex(nullptr, *second, 2));
  auto policy = json::ParseJson(R"({"rules":[{"action":"FailIndex","onExitCodes":{"operator":"In","values":[42]}},)"
                                R"({"action":"Ignore","onPodConditions":[{"type":"DisruptionTarget","status":"True"}]}]})");
  REQUIRE(policy.ok());
  CHECK(FailsIndex(&*policy, *FailedPod("{}", 42), 5));
  CHECK_FALSE(FailsIndex(&*policy, *FailedPod("{}", 1), 5));
  // An ignored failure never fails the index, whatever the count.
  auto disrupted = FailedPod(R"({"batch.kubernetes.io/job-index-failure-count":"9"})", 1,
                             R"([{"type":"DisruptionTarget","status":"True"}])");
  CHECK_FALSE(FailsIndex(&*policy, *disrupted, 1));
}

}  // namespace
}  // namespace kite::controllers
