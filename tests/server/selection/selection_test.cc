// Tests for label selectors, field selectors and the per-resource field tables.
// Expected error texts are Kubernetes' own (apimachinery labels/fields packages).
#include <string>

#include <catch2/catch.hpp>
#include <rapidjson/document.h>

#include "src/server/selection/field_selector.h"
#include "src/server/selection/label_selector.h"
#include "src/server/selection/label_validation.h"

using kite::StatusCode;
using kite::selection::FieldSelector;
using kite::selection::FieldSet;
using kite::selection::FieldValueAtPath;
using kite::selection::LabelSelector;
using kite::selection::SupportedFieldSelectors;

namespace {

rapidjson::Document Json(const char* text) {
  rapidjson::Document doc;
  doc.Parse(text);
  REQUIRE_FALSE(doc.HasParseError());
  return doc;
}

const char kNameRegexError[] =
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and "
    "end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex "
    "used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

// Parses `selector` (which must be valid) and matches it against `labels` JSON.
bool LabelsMatch(const char* selector, const rapidjson::Value& labels) {
  auto s = LabelSelector::Parse(selector);
  INFO(selector << ": " << s.status().ToString());
  REQUIRE(s.ok());
  return s->Matches(&labels);
}

std::string LabelParseError(const char* selector) {
  auto s = LabelSelector::Parse(selector);
  INFO(selector);
  REQUIRE_FALSE(s.ok());
  CHECK(s.status().code() == StatusCode::kInvalidArgument);
  return s.status().message();
}

std::string FieldParseError(const char* selector, const FieldSet& set) {
  auto s = FieldSelector::Parse(selector, set);
  INFO(selector);
  REQUIRE_FALSE(s.ok());
  CHECK(s.status().code() == StatusCode::kInvalidArgument);
  return s.status().message();
}

bool FieldsMatch(const char* selector, const FieldSet& set, const rapidjson::Value& object) {
  auto s = FieldSelector::Parse(selector, set);
  INFO(selector << ": " << s.status().ToString());
  REQUIRE(s.ok());
  return s->Matches(object);
}

}  // namespace

// ---- Label selectors ---------------------------------------------------------------------

TEST_CASE("label selector: every operator matches as Kubernetes does", "[labels]") {
  auto labels = Json(R"({"app":"web","tier":"front","n":"5","empty":""})");

  CHECK(LabelsMatch("app=web", labels));
  CHECK_FALSE(LabelsMatch("app=db", labels));
  CHECK_FALSE(LabelsMatch("missing=web", labels));
  CHECK(LabelsMatch("app==web", labels));
  CHECK_FALSE(LabelsMatch("app==db", labels));
  CHECK(LabelsMatch("app!=db", labels));
  CHECK_FALSE(LabelsMatch("app!=web", labels));
  CHECK(LabelsMatch("missing!=x", labels));  // != also holds when the label is absent

  CHECK(LabelsMatch("app in (db,web)", labels));
  CHECK_FALSE(LabelsMatch("app in (db)", labels));
  CHECK_FALSE(LabelsMatch("missing in (x)", labels));
  CHECK(LabelsMatch("app notin (db)", labels));
  CHECK_FALSE(LabelsMatch("app notin (db,web)", labels));
  CHECK(LabelsMatch("missing notin (x)", labels));

  CHECK(LabelsMatch("app", labels));
  CHECK_FALSE(LabelsMatch("missing", labels));
  CHECK(LabelsMatch("!missing", labels));
  CHECK_FALSE(LabelsMatch("!app", labels));

  CHECK(LabelsMatch("n>4", labels));
  CHECK_FALSE(LabelsMatch("n>5", labels));
  CHECK(LabelsMatch("n<6", labels));
  CHECK_FALSE(LabelsMatch("n<5", labels));
  CHECK_FALSE(LabelsMatch("app>1", labels));      // label value is not an integer
  CHECK_FALSE(LabelsMatch("missing<10", labels));  // absent label never compares

  CHECK(LabelsMatch("empty=", labels));  // "key=" selects the empty value
  CHECK_FALSE(LabelsMatch("app=", labels));
  CHECK(LabelsMatch("empty in ()", labels));
  CHECK(LabelsMatch("empty in (,x)", labels));

  CHECK(LabelsMatch("app=web,tier=front", labels));
  CHECK_FALSE(LabelsMatch("app=web,tier=back", labels));
  CHECK(LabelsMatch("  app = web ,\ttier in ( front , back ) , !missing ", labels));
}

TEST_CASE("label selector: in/notin are values inside a value list", "[labels]") {
  auto labels = Json(R"({"x":"in"})");
  CHECK(LabelsMatch("x in (in,notin)", labels));
  CHECK(LabelsMatch("x=in", labels));
}

TEST_CASE("label selector: labels absent or malformed", "[labels]") {
  auto s = LabelSelector::Parse("!app,tier notin (x)");
  REQUIRE(s.ok());
  CHECK(s->Matches(nullptr));
  auto not_object = Json(R"(["app"])");
  CHECK(s->Matches(&not_object));
  // A non-string value counts as an absent label.
  auto numeric = Json(R"({"app": 5})");
  CHECK(s->Matches(&numeric));
  auto exists = LabelSelector::Parse("app");
  REQUIRE(exists.ok());
  CHECK_FALSE(exists->Matches(nullptr));
  CHECK_FALSE(exists->Matches(&numeric));
}

TEST_CASE("label selector: canonical string is sorted by key", "[labels]") {
  auto s = LabelSelector::Parse("tier in (b,a), app=web, !z, y, n>5, m==x, k notin (q)");
  REQUIRE(s.ok());
  CHECK(s->ToString() == "app=web,k notin (q),m==x,n>5,tier in (a,b),y,!z");
  CHECK_FALSE(s->Empty());
  auto empty = LabelSelector::Parse("   ");
  REQUIRE(empty.ok());
  CHECK(empty->Empty());
  CHECK(empty->ToString().empty());
  CHECK(empty->Matches(nullptr));
}

TEST_CASE("label selector: bad keys are rejected with Kubernetes' message", "[labels]") {
  CHECK(LabelParseError("app_=x") ==
        std::string("unable to parse requirement: <nil>: Invalid value: \"app_\": ") +
            kNameRegexError);
  CHECK(LabelParseError("app:monolith") ==
        std::string("unable to parse requirement: <nil>: Invalid value: \"app:monolith\": ") +
            kNameRegexError);
  CHECK_THAT(LabelParseError("a/b/c=x"),
             Catch::StartsWith("unable to parse requirement: <nil>: Invalid value: \"a/b/c\": "
                               "a qualified name must consist of") &&
                 Catch::EndsWith("with an optional DNS subdomain prefix and '/' (e.g. "
                                 "'example.com/MyName')"));
  CHECK_THAT(LabelParseError("Example.com/app=x"),
             Catch::Contains("Invalid value: \"Example.com/app\": prefix part a lowercase RFC "
                             "1123 subdomain must consist of"));
  CHECK_THAT(LabelParseError("/app"), Catch::Contains("prefix part must be non-empty"));
  std::string long_name(64, 'k');
  CHECK_THAT(LabelParseError((long_name + "=v").c_str()),
             Catch::EndsWith("name part must be no more than 63 characters"));
  REQUIRE(LabelSelector::Parse((std::string(63, 'k') + "=v").c_str()).ok());
}

TEST_CASE("label selector: bad operators and values", "[labels]") {
  CHECK(LabelParseError("app ~ web") ==
        "unable to parse requirement: found '~', expected: in, notin, =, ==, !=, gt, lt");
  CHECK(LabelParseError("app in web") ==
        "unable to parse requirement: found 'web' expected: '('");
  CHECK(LabelParseError("!app=web") == "found '=', expected: ',' or 'end of string'");
  CHECK(LabelParseError("app=web,") == "found '', expected: identifier after ','");
  CHECK(LabelParseError(",app") == "found ',', expected: !, identifier, or 'end of string'");
  CHECK(LabelParseError("app=we b") == "found 'b', expected: ',' or 'end of string'");
  CHECK(LabelParseError("n>abc") ==
        "unable to parse requirement: values[0]: Invalid value: \"abc\": for 'Gt', 'Lt' "
        "operators, the value must be an integer");
  CHECK_THAT(LabelParseError("app=-web"),
             Catch::StartsWith("unable to parse requirement: values[0][app]: Invalid value: "
                               "\"-web\": a valid label must be an empty string or consist of"));
}

TEST_CASE("label selector: unbalanced parentheses", "[labels]") {
  CHECK(LabelParseError("app in (a,b") ==
        "unable to parse requirement: found '', expected: ',' or ')'");
  CHECK(LabelParseError("app in (a,") ==
        "unable to parse requirement: found '', expected: ',', or identifier");
  CHECK(LabelParseError("app in (") ==
        "unable to parse requirement: found '', expected: ',', ')' or identifier");
  CHECK(LabelParseError("app in a)") == "unable to parse requirement: found 'a' expected: '('");
  CHECK(LabelParseError("app in (a))") == "found ')', expected: ',' or 'end of string'");
  CHECK(LabelParseError("app=web)") == "found ')', expected: ',' or 'end of string'");
}

TEST_CASE("label selector: value length limit is 63", "[labels]") {
  std::string ok_value(63, 'v');
  REQUIRE(LabelSelector::Parse(("app=" + ok_value).c_str()).ok());
  std::string long_value(64, 'v');
  CHECK(LabelParseError(("app=" + long_value).c_str()) ==
        "unable to parse requirement: values[0][app]: Invalid value: \"" + long_value +
            "\": must be no more than 63 characters");
  CHECK_THAT(LabelParseError(("app in (a," + long_value + ")").c_str()),
             Catch::Contains("must be no more than 63 characters"));
}

TEST_CASE("label selector: FromJson with matchLabels and matchExpressions", "[labels]") {
  auto selector = Json(R"({
      "matchLabels": {"app": "web"},
      "matchExpressions": [
        {"key": "tier", "operator": "In", "values": ["front", "back"]},
        {"key": "env", "operator": "NotIn", "values": ["prod"]},
        {"key": "team", "operator": "Exists"},
        {"key": "legacy", "operator": "DoesNotExist", "values": []}
      ]})");
  auto s = LabelSelector::FromJson(selector);
  REQUIRE(s.ok());
  CHECK(s->ToString() == "app=web,env notin (prod),!legacy,team,tier in (back,front)");

  auto good = Json(R"({"app":"web","tier":"back","team":"a","env":"dev"})");
  CHECK(s->Matches(&good));
  auto no_env = Json(R"({"app":"web","tier":"front","team":"a"})");
  CHECK(s->Matches(&no_env));
  auto prod = Json(R"({"app":"web","tier":"back","team":"a","env":"prod"})");
  CHECK_FALSE(s->Matches(&prod));
  auto no_team = Json(R"({"app":"web","tier":"back"})");
  CHECK_FALSE(s->Matches(&no_team));
  auto legacy = Json(R"({"app":"web","tier":"back","team":"a","legacy":"1"})");
  CHECK_FALSE(s->Matches(&legacy));
  auto other_tier = Json(R"({"app":"web","tier":"middle","team":"a"})");
  CHECK_FALSE(s->Matches(&other_tier));
  auto other_app = Json(R"({"app":"db","tier":"back","team":"a"})");
  CHECK_FALSE(s->Matches(&other_app));
}

TEST_CASE("label selector: Everything and Nothing", "[labels]") {
  auto empty_object = Json("{}");
  auto everything = LabelSelector::FromJson(empty_object);
  REQUIRE(everything.ok());
  CHECK(everything->Empty());
  CHECK_FALSE(everything->IsNothing());
  CHECK(everything->Matches(nullptr));
  auto labels = Json(R"({"a":"b"})");
  CHECK(everything->Matches(&labels));

  auto empty_lists = Json(R"({"matchLabels": {}, "matchExpressions": []})");
  auto also_everything = LabelSelector::FromJson(empty_lists);
  REQUIRE(also_everything.ok());
  CHECK(also_everything->Empty());

  auto null = Json("null");
  auto nothing = LabelSelector::FromJson(null);
  REQUIRE(nothing.ok());
  CHECK(nothing->IsNothing());
  CHECK_FALSE(nothing->Empty());
  CHECK_FALSE(nothing->Matches(nullptr));
  CHECK_FALSE(nothing->Matches(&labels));
  CHECK(nothing->ToString().empty());

  CHECK(LabelSelector::Everything().Empty());
  CHECK(LabelSelector::Everything().Matches(&labels));
  CHECK(LabelSelector::Nothing().IsNothing());
  CHECK_FALSE(LabelSelector::Nothing().Matches(&labels));
  CHECK_FALSE(LabelSelector::Nothing().Matches(nullptr));
}

TEST_CASE("label selector: FromJson errors", "[labels]") {
  auto check_error = [](const char* json, const std::string& expected) {
    auto doc = Json(json);
    auto s = LabelSelector::FromJson(doc);
    INFO(json);
    REQUIRE_FALSE(s.ok());
    CHECK(s.status().code() == StatusCode::kInvalidArgument);
    if (!expected.empty()) CHECK(s.status().message() == expected);
  };
  check_error(R"({"matchExpressions":[{"key":"a","operator":"Foo","values":["x"]}]})",
              "\"Foo\" is not a valid label selector operator");
  check_error(R"({"matchExpressions":[{"key":"a","operator":"In","values":[]}]})",
              "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set "
              "can't be empty");
  check_error(R"({"matchExpressions":[{"key":"a","operator":"NotIn"}]})",
              "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set "
              "can't be empty");
  check_error(R"({"matchExpressions":[{"key":"a","operator":"Exists","values":["x"]}]})",
              "values: Invalid value: []string{\"x\"}: values set must be empty for exists and "
              "does not exist");
  check_error(R"({"matchLabels":{"a_":"x"}})",
              std::string("key: Invalid value: \"a_\": ") + kNameRegexError);
  check_error(R"({"matchLabels":{"a":"x y"}})", "");
  check_error(R"({"matchLabels":{"a":5}})", "");
  check_error(R"({"matchLabels":["a"]})", "");
  check_error(R"({"matchExpressions":{"key":"a"}})", "");
  check_error(R"({"matchExpressions":[{"key":"a","operator":"In","values":[1]}]})", "");
  check_error(R"("app=web")", "");
}

TEST_CASE("label selector: MatchesObject reads metadata.labels", "[labels]") {
  auto s = LabelSelector::Parse("app=web");
  REQUIRE(s.ok());
  auto pod = Json(R"({"metadata":{"name":"p","labels":{"app":"web"}}})");
  CHECK(s->MatchesObject(pod));
  auto other = Json(R"({"metadata":{"name":"p","labels":{"app":"db"}}})");
  CHECK_FALSE(s->MatchesObject(other));
  auto unlabeled = Json(R"({"metadata":{"name":"p"}})");
  CHECK_FALSE(s->MatchesObject(unlabeled));
  auto absent = LabelSelector::Parse("!app");
  REQUIRE(absent.ok());
  CHECK(absent->MatchesObject(unlabeled));
  CHECK_FALSE(absent->MatchesObject(pod));
}

TEST_CASE("label selector: FromSet builds equality requirements", "[labels]") {
  auto map = Json(R"({"b":"2","a":"1"})");
  auto s = LabelSelector::FromSet(map);
  REQUIRE(s.ok());
  CHECK(s->ToString() == "a=1,b=2");
  auto labels = Json(R"({"a":"1","b":"2","c":"3"})");
  CHECK(s->Matches(&labels));
  auto partial = Json(R"({"a":"1"})");
  CHECK_FALSE(s->Matches(&partial));
  auto null = Json("null");
  auto everything = LabelSelector::FromSet(null);
  REQUIRE(everything.ok());
  CHECK(everything->Empty());
  auto bad = Json(R"({"a":1})");
  CHECK(LabelSelector::FromSet(bad).status().code() == StatusCode::kInvalidArgument);
}

TEST_CASE("label validation: keys and values", "[labels]") {
  using kite::selection::LabelValueErrors;
  using kite::selection::QualifiedNameErrors;
  CHECK(QualifiedNameErrors("app").empty());
  CHECK(QualifiedNameErrors("app.kubernetes.io/name").empty());
  CHECK(QualifiedNameErrors("A-b_c.D").empty());
  CHECK(QualifiedNameErrors("").size() == 2);  // empty, and not matching the pattern
  CHECK(QualifiedNameErrors("app.kubernetes_io/name").size() == 1);
  CHECK(QualifiedNameErrors(std::string(254, 'a') + "/x").size() == 1);
  CHECK(LabelValueErrors("").empty());
  CHECK(LabelValueErrors("v1.2_3-x").empty());
  CHECK(LabelValueErrors("-x").size() == 1);
  CHECK(LabelValueErrors(std::string(64, '-')).size() == 2);  // too long and bad pattern
  CHECK(kite::selection::GoQuote("a\"b\\c\n") == "\"a\\\"b\\\\c\\n\"");
}

// ---- Field selectors ---------------------------------------------------------------------

TEST_CASE("field selector: equality and inequality on pods", "[fields]") {
  const FieldSet& pods = SupportedFieldSelectors("", "pods");
  auto pod = Json(R"({"metadata":{"name":"p1","namespace":"default"},
      "spec":{"nodeName":"node1","restartPolicy":"Always","schedulerName":"default-scheduler",
              "serviceAccountName":"sa"},
      "status":{"phase":"Running","nominatedNodeName":"node2"}})");

  CHECK(FieldsMatch("spec.nodeName=node1", pods, pod));
  CHECK(FieldsMatch("spec.nodeName==node1", pods, pod));
  CHECK_FALSE(FieldsMatch("spec.nodeName=node2", pods, pod));
  CHECK(FieldsMatch("spec.nodeName!=node2", pods, pod));
  CHECK_FALSE(FieldsMatch("spec.nodeName!=node1", pods, pod));
  CHECK(FieldsMatch("metadata.name=p1,metadata.namespace=default", pods, pod));
  CHECK_FALSE(FieldsMatch("metadata.name=p1,metadata.namespace=kube-system", pods, pod));
  CHECK(FieldsMatch("status.phase!=Failed,spec.restartPolicy=Always", pods, pod));
  CHECK(FieldsMatch("spec.schedulerName=default-scheduler", pods, pod));
  CHECK(FieldsMatch("spec.serviceAccountName=sa", pods, pod));
  CHECK(FieldsMatch("status.nominatedNodeName=node2", pods, pod));

  auto s = FieldSelector::Parse("status.phase!=Failed,spec.nodeName==node1", pods);
  REQUIRE(s.ok());
  CHECK(s->ToString() == "spec.nodeName=node1,status.phase!=Failed");
  CHECK_FALSE(s->Empty());
}

TEST_CASE("field selector: empty selectors match everything", "[fields]") {
  const FieldSet& pods = SupportedFieldSelectors("", "pods");
  auto object = Json(R"({"metadata":{"name":"x"}})");
  for (const char* text : {"", ",", ",,"}) {
    auto s = FieldSelector::Parse(text, pods);
    REQUIRE(s.ok());
    CHECK(s->Empty());
    CHECK(s->Matches(object));
    CHECK(s->ToString().empty());
  }
  CHECK(FieldSelector::Everything().Matches(object));
}

TEST_CASE("field selector: escapes in values", "[fields]") {
  const FieldSet& secrets = SupportedFieldSelectors("", "secrets");
  auto secret = Json(R"({"metadata":{"name":"a,b=c\\d!e","namespace":"ns"},"type":"Opaque"})");

  auto s = FieldSelector::Parse(R"(metadata.name=a\,b\=c\\d\!e,metadata.namespace=ns)", secrets);
  REQUIRE(s.ok());
  REQUIRE(s->requirements().size() == 2);
  CHECK(s->requirements()[0].value == "a,b=c\\d!e");
  CHECK(s->Matches(secret));
  // Unescaped '!' is ordinary data; the canonical form escapes only \ , and =.
  CHECK(FieldsMatch(R"(metadata.name=a\,b\=c\\d!e)", secrets, secret));
  CHECK(s->ToString() == R"(metadata.name=a\,b\=c\\d!e,metadata.namespace=ns)");
  CHECK(kite::selection::EscapeFieldValue("a\\b,c=d") == R"(a\\b\,c\=d)");

  CHECK(FieldParseError(R"(metadata.name=a\x)", secrets) ==
        R"(invalid field selector: invalid escape sequence: \x)");
  CHECK(FieldParseError(R"(metadata.name=a\)", secrets) ==
        R"(invalid field selector: invalid escape sequence: \)");
  CHECK(FieldParseError("metadata.name=a=b", secrets) ==
        "invalid field selector: unescaped character in value: 61");
  CHECK(FieldParseError("metadata.name", secrets) ==
        "invalid selector: 'metadata.name'; can't understand 'metadata.name'");
  CHECK(FieldParseError("type=Opaque,metadata.name", secrets) ==
        "invalid selector: 'type=Opaque,metadata.name'; can't understand 'metadata.name'");
}

TEST_CASE("field selector: unsupported fields give Kubernetes' messages", "[fields]") {
  CHECK(FieldParseError("spec.foo=bar", SupportedFieldSelectors("", "pods")) ==
        "field label not supported: spec.foo");
  CHECK(FieldParseError("metadata.namespace=x", SupportedFieldSelectors("", "nodes")) ==
        "field label not supported: metadata.namespace");
  CHECK(FieldParseError("status.replicas=1", SupportedFieldSelectors("apps", "replicasets")) ==
        "\"status.replicas\" is not a known field selector: only \"metadata.name\", "
        "\"metadata.namespace\"");
  CHECK(FieldParseError("spec.foo=bar", SupportedFieldSelectors("apps", "deployments")) ==
        "\"spec.foo\" is not a known field selector: only \"metadata.name\", "
        "\"metadata.namespace\"");
  CHECK(FieldParseError("status.failed=1", SupportedFieldSelectors("batch", "jobs")) ==
        "field label \"status.failed\" not supported for Job");
  CHECK(FieldParseError("regarding.name=x", SupportedFieldSelectors("", "events")) ==
        "field label not supported: regarding.name");
  CHECK(FieldParseError("involvedObject.name=x",
                        SupportedFieldSelectors("events.k8s.io", "events")) ==
        "field label not supported: involvedObject.name");
  // Syntax errors win over unsupported fields, whatever the order of terms.
  CHECK_THAT(FieldParseError("spec.foo=bar,zzz", SupportedFieldSelectors("", "pods")),
             Catch::StartsWith("invalid selector:"));
}

TEST_CASE("field selector: bool and integer fields, with Go zero values", "[fields]") {
  const FieldSet& nodes = SupportedFieldSelectors("", "nodes");
  auto plain_node = Json(R"({"metadata":{"name":"n1"},"spec":{}})");
  auto cordoned = Json(R"({"metadata":{"name":"n2"},"spec":{"unschedulable":true}})");
  CHECK(FieldsMatch("spec.unschedulable=false", nodes, plain_node));
  CHECK_FALSE(FieldsMatch("spec.unschedulable=true", nodes, plain_node));
  CHECK(FieldsMatch("spec.unschedulable=true", nodes, cordoned));
  CHECK(FieldsMatch("spec.unschedulable!=false", nodes, cordoned));

  const FieldSet& pods = SupportedFieldSelectors("", "pods");
  auto pod = Json(R"({"metadata":{"name":"p"},"spec":{}})");
  auto host_pod = Json(R"({"metadata":{"name":"p"},"spec":{"hostNetwork":true}})");
  CHECK(FieldsMatch("spec.hostNetwork=false", pods, pod));
  CHECK_FALSE(FieldsMatch("spec.hostNetwork=", pods, pod));
  CHECK(FieldsMatch("spec.hostNetwork=true", pods, host_pod));

  const FieldSet& rcs = SupportedFieldSelectors("", "replicationcontrollers");
  auto new_rc = Json(R"({"metadata":{"name":"rc"}})");
  auto scaled = Json(R"({"metadata":{"name":"rc"},"status":{"replicas":3}})");
  CHECK(FieldsMatch("status.replicas=0", rcs, new_rc));
  CHECK(FieldsMatch("status.replicas=3", rcs, scaled));
  CHECK_FALSE(FieldsMatch("status.replicas=0", rcs, scaled));

  const FieldSet& jobs = SupportedFieldSelectors("batch", "jobs");
  auto running = Json(R"({"metadata":{"name":"j"},"status":{"active":1}})");
  auto done = Json(R"({"metadata":{"name":"j"},"status":{"succeeded":1}})");
  CHECK(FieldsMatch("status.successful=0", jobs, running));
  CHECK(FieldsMatch("status.successful=1", jobs, done));
  CHECK_FALSE(FieldsMatch("status.successful=1", jobs, running));
}

TEST_CASE("field selector: missing fields have the empty value", "[fields]") {
  const FieldSet& pods = SupportedFieldSelectors("", "pods");
  auto pending = Json(R"({"metadata":{"name":"p","namespace":"ns"},"spec":{}})");
  CHECK(FieldsMatch("spec.nodeName=", pods, pending));
  CHECK_FALSE(FieldsMatch("spec.nodeName!=", pods, pending));
  CHECK_FALSE(FieldsMatch("spec.nodeName=node1", pods, pending));
  CHECK(FieldsMatch("status.phase=", pods, pending));

  // A cluster-scoped object under the default table: metadata.namespace is "".
  const FieldSet& crbs =
      SupportedFieldSelectors("rbac.authorization.k8s.io", "clusterrolebindings");
  auto crb = Json(R"({"metadata":{"name":"admin"}})");
  CHECK(FieldsMatch("metadata.namespace=", crbs, crb));
  CHECK_FALSE(FieldsMatch("metadata.namespace=default", crbs, crb));
  CHECK(FieldsMatch("metadata.name=admin", crbs, crb));
}

TEST_CASE("field selector: pod IP fields follow Kubernetes", "[fields]") {
  const FieldSet& pods = SupportedFieldSelectors("", "pods");
  auto dual_stack = Json(R"({"metadata":{"name":"p"},
      "status":{"podIPs":[{"ip":"10.0.0.5"},{"ip":"fd00::5"}]}})");
  CHECK(FieldsMatch("status.podIP=10.0.0.5", pods, dual_stack));
  CHECK_FALSE(FieldsMatch("status.podIP=fd00::5", pods, dual_stack));
  // status.podIPs is accepted but never set in Kubernetes' field set.
  CHECK_FALSE(FieldsMatch("status.podIPs=10.0.0.5", pods, dual_stack));
  CHECK(FieldsMatch("status.podIPs=", pods, dual_stack));

  auto legacy = Json(R"({"metadata":{"name":"p"},"status":{"podIP":"10.0.0.7"}})");
  CHECK(FieldsMatch("status.podIP=10.0.0.7", pods, legacy));
}

TEST_CASE("field selector: spec.host is an alias of spec.nodeName", "[fields]") {
  const FieldSet& pods = SupportedFieldSelectors("", "pods");
  auto s = FieldSelector::Parse("spec.host=node1", pods);
  REQUIRE(s.ok());
  CHECK(s->ToString() == "spec.nodeName=node1");
  auto pod = Json(R"({"spec":{"nodeName":"node1"}})");
  CHECK(s->Matches(pod));
  CHECK(s->RequiresExactMatch("spec.nodeName") == std::optional<std::string>("node1"));
}

TEST_CASE("field selector: events in both API shapes", "[fields]") {
  const FieldSet& core = SupportedFieldSelectors("", "events");
  const FieldSet& modern = SupportedFieldSelectors("events.k8s.io", "events");
  auto core_event = Json(R"({"metadata":{"name":"e","namespace":"ns"},
      "involvedObject":{"kind":"Pod","name":"web","namespace":"ns","uid":"u1"},
      "reason":"Started","type":"Normal","source":{},"reportingComponent":"kubelet"})");
  auto modern_event = Json(R"({"metadata":{"name":"e","namespace":"ns"},
      "regarding":{"kind":"Pod","name":"web","namespace":"ns","uid":"u1"},
      "reason":"Started","type":"Normal","reportingController":"kubelet"})");

  for (const auto* event : {&core_event, &modern_event}) {
    CHECK(FieldsMatch("involvedObject.kind=Pod,involvedObject.name=web", core, *event));
    CHECK(FieldsMatch("involvedObject.uid=u1,reason=Started,type=Normal", core, *event));
    CHECK(FieldsMatch("reportingComponent=kubelet", core, *event));
    // source falls back to the reporting controller when source.component is empty.
    CHECK(FieldsMatch("source=kubelet", core, *event));
    CHECK(FieldsMatch("regarding.kind=Pod,regarding.name=web", modern, *event));
    CHECK(FieldsMatch("reportingController=kubelet,type=Normal", modern, *event));
    CHECK_FALSE(FieldsMatch("regarding.name=db", modern, *event));
  }
  auto with_source = Json(R"({"source":{"component":"scheduler"},
      "reportingComponent":"kubelet"})");
  CHECK(FieldsMatch("source=scheduler", core, with_source));
}

TEST_CASE("field selector: other built-in resources", "[fields]") {
  auto ns = Json(R"({"metadata":{"name":"dev"},"status":{"phase":"Terminating"}})");
  CHECK(FieldsMatch("status.phase=Terminating", SupportedFieldSelectors("", "namespaces"), ns));
  auto secret = Json(R"({"metadata":{"name":"s"},"type":"kubernetes.io/tls"})");
  CHECK(FieldsMatch("type=kubernetes.io/tls", SupportedFieldSelectors("", "secrets"), secret));
  auto svc = Json(R"({"spec":{"type":"NodePort","clusterIP":"10.43.0.10"}})");
  CHECK(FieldsMatch("spec.type=NodePort,spec.clusterIP=10.43.0.10",
                    SupportedFieldSelectors("", "services"), svc));
  auto csr = Json(
      R"({"metadata":{"name":"c"},"spec":{"signerName":"kubernetes.io/kubelet-serving"}})");
  CHECK(FieldsMatch("spec.signerName=kubernetes.io/kubelet-serving",
                    SupportedFieldSelectors("certificates.k8s.io", "certificatesigningrequests"),
                    csr));
  CHECK(SupportedFieldSelectors("", "pods").Names().size() == 11);
}

TEST_CASE("field selector: equality requirements for narrowing lookups", "[fields]") {
  const FieldSet& pods = SupportedFieldSelectors("", "pods");
  auto s = FieldSelector::Parse("status.phase!=Running,spec.nodeName=n1,metadata.name==a", pods);
  REQUIRE(s.ok());
  auto eq = s->EqualityRequirements();
  REQUIRE(eq.size() == 2);
  CHECK(eq[0] == std::pair<std::string, std::string>("metadata.name", "a"));
  CHECK(eq[1] == std::pair<std::string, std::string>("spec.nodeName", "n1"));
  CHECK(s->RequiresExactMatch("metadata.name") == std::optional<std::string>("a"));
  CHECK_FALSE(s->RequiresExactMatch("status.phase").has_value());
  CHECK_FALSE(s->RequiresExactMatch("metadata.namespace").has_value());
}

TEST_CASE("field selector: custom resource field sets", "[fields]") {
  FieldSet cluster = FieldSet::CustomResource(false, {"spec.color"});
  CHECK(FieldParseError("metadata.namespace=x", cluster) ==
        "field label not supported: metadata.namespace");
  auto obj = Json(R"({"metadata":{"name":"w"},"spec":{"color":"blue"}})");
  CHECK(FieldsMatch("spec.color=blue,metadata.name=w", cluster, obj));
  FieldSet namespaced = FieldSet::CustomResource(true, {});
  CHECK(FieldsMatch("metadata.namespace=", namespaced, obj));
}

TEST_CASE("FieldValueAtPath converts scalars", "[fields]") {
  auto obj = Json(R"({"s":"x","b":false,"i":-3,"u":18446744073709551615,"d":2.0,
      "n":null,"o":{"k":"v"},"a":[{"ip":"1.2.3.4"}]})");
  CHECK(FieldValueAtPath(obj, "s") == std::optional<std::string>("x"));
  CHECK(FieldValueAtPath(obj, "b") == std::optional<std::string>("false"));
  CHECK(FieldValueAtPath(obj, "i") == std::optional<std::string>("-3"));
  CHECK(FieldValueAtPath(obj, "u") == std::optional<std::string>("18446744073709551615"));
  CHECK(FieldValueAtPath(obj, "d") == std::optional<std::string>("2"));
  CHECK(FieldValueAtPath(obj, "o.k") == std::optional<std::string>("v"));
  CHECK(FieldValueAtPath(obj, "a.0.ip") == std::optional<std::string>("1.2.3.4"));
  CHECK_FALSE(FieldValueAtPath(obj, "a.1.ip").has_value());
  CHECK_FALSE(FieldValueAtPath(obj, "n").has_value());
  CHECK_FALSE(FieldValueAtPath(obj, "o").has_value());
  CHECK_FALSE(FieldValueAtPath(obj, "missing.deep").has_value());
  CHECK_FALSE(FieldValueAtPath(obj, "s.x").has_value());
}
