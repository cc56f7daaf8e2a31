// The three PATCH engines: JSON patch (RFC 6902), JSON merge patch (RFC 7386) and strategic
// merge patch. Expected results of the RFC examples and of the upstream Kubernetes cases are
// the documented behaviour; every engine must leave the target unchanged on error.
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "src/server/patch/json_patch.h"
#include "src/server/patch/merge_patch.h"
#include "src/server/patch/strategic_merge_patch.h"
#include "src/server/patch/strategic_schema.h"

namespace kite::patch {
namespace {

using rapidjson::Document;
using rapidjson::Value;

Document Json(std::string_view text) {
  Document d;
  d.Parse(text.data(), text.size());
  REQUIRE_FALSE(d.HasParseError());
  return d;
}

// JSON with object members sorted by name, so comparisons ignore member order but not
// list order.
std::string Canonical(const Value& v) {
  if (v.IsObject()) {
    std::vector<std::pair<std::string, const Value*>> members;
    for (auto& m : v.GetObject()) {
      members.emplace_back(std::string(m.name.GetString(), m.name.GetStringLength()), &m.value);
    }
    std::stable_sort(members.begin(), members.end(),
                     [](auto& a, auto& b) { return a.first < b.first; });
    std::string out = "{";
    for (size_t i = 0; i < members.size(); ++i) {
      if (i > 0) out += ",";
      Value name(members[i].first.c_str(),
                 static_cast<rapidjson::SizeType>(members[i].first.size()));
      out += Canonical(name) + ":" + Canonical(*members[i].second);
    }
    return out + "}";
  }
  if (v.IsArray()) {
    std::string out = "[";
    for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
      if (i > 0) out += ",";
      out += Canonical(v[i]);
    }
    return out + "]";
  }
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  v.Accept(writer);
  return buffer.GetString();
}

std::string Canon(std::string_view json) { return Canonical(Json(json)); }

std::string QuoteJson(const std::string& s) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  writer.String(s.c_str(), static_cast<rapidjson::SizeType>(s.size()));
  return buffer.GetString();
}

using Engine = std::function<Status(Document&, std::string_view)>;

// Applies `patch` to `target` and returns the canonical result, or "error: <message>". On
// error it also checks that the target was left exactly as it was.
std::string Run(std::string_view target, std::string_view patch, const Engine& apply) {
  Document doc = Json(target);
  std::string before = Canonical(doc);
  Status s = apply(doc, patch);
  if (!s.ok()) {
    CHECK(s.code() == StatusCode::kInvalidArgument);
    CHECK(Canonical(doc) == before);
    return "error: " + s.message();
  }
  return Canonical(doc);
}

std::string JsonPatch(std::string_view target, std::string_view patch) {
  return Run(target, patch, [](Document& d, std::string_view p) { return ApplyJsonPatch(d, p); });
}

std::string MergePatch(std::string_view target, std::string_view patch) {
  return Run(target, patch, [](Document& d, std::string_view p) { return ApplyMergePatch(d, p); });
}

bool IsError(const std::string& result, std::string_view needle = "") {
  return result.rfind("error: ", 0) == 0 && result.find(needle) != std::string::npos;
}

// Text nested `depth` levels deep: {"a":{"a":...{}...}}.
std::string NestedObject(int depth) {
  std::string s;
  for (int i = 0; i < depth - 1; ++i) s += "{\"a\":";
  s += "{}";
  s += std::string(static_cast<size_t>(depth - 1), '}');
  return s;
}

std::string NestedArray(int depth) {
  return std::string(static_cast<size_t>(depth), '[') +
         std::string(static_cast<size_t>(depth), ']');
}

// ---------------------------------------------------------------------------------------
// JSON patch: RFC 6902 appendix A.

TEST_CASE("json patch: RFC 6902 appendix A examples") {
  // A.1 Adding an Object Member
  CHECK(JsonPatch(R"({"foo":"bar"})", R"([{"op":"add","path":"/baz","value":"qux"}])") ==
        Canon(R"({"baz":"qux","foo":"bar"})"));
  // A.2 Adding an Array Element
  CHECK(JsonPatch(R"({"foo":["bar","baz"]})", R"([{"op":"add","path":"/foo/1","value":"qux"}])") ==
        Canon(R"({"foo":["bar","qux","baz"]})"));
  // A.3 Removing an Object Member
  CHECK(JsonPatch(R"({"baz":"qux","foo":"bar"})", R"([{"op":"remove","path":"/baz"}])") ==
        Canon(R"({"foo":"bar"})"));
  // A.4 Removing an Array Element
  CHECK(JsonPatch(R"({"foo":["bar","qux","baz"]})", R"([{"op":"remove","path":"/foo/1"}])") ==
        Canon(R"({"foo":["bar","baz"]})"));
  // A.5 Replacing a Value
  CHECK(JsonPatch(R"({"baz":"qux","foo":"bar"})",
                  R"([{"op":"replace","path":"/baz","value":"boo"}])") ==
        Canon(R"({"baz":"boo","foo":"bar"})"));
  // A.6 Moving a Value
  CHECK(JsonPatch(R"({"foo":{"bar":"baz","waldo":"fred"},"qux":{"corge":"grault"}})",
                  R"([{"op":"move","from":"/foo/waldo","path":"/qux/thud"}])") ==
        Canon(R"({"foo":{"bar":"baz"},"qux":{"corge":"grault","thud":"fred"}})"));
  // A.7 Moving an Array Element
  CHECK(JsonPatch(R"({"foo":["all","grass","cows","eat"]})",
                  R"([{"op":"move","from":"/foo/1","path":"/foo/3"}])") ==
        Canon(R"({"foo":["all","cows","eat","grass"]})"));
  // A.8 Testing a Value: Success
  CHECK(JsonPatch(R"({"baz":"qux","foo":["a",2,"c"]})",
                  R"([{"op":"test","path":"/baz","value":"qux"},
                      {"op":"test","path":"/foo/1","value":2}])") ==
        Canon(R"({"baz":"qux","foo":["a",2,"c"]})"));
  // A.9 Testing a Value: Error
  CHECK(IsError(JsonPatch(R"({"baz":"qux"})", R"([{"op":"test","path":"/baz","value":"bar"}])"),
                "test failed"));
  // A.10 Adding a Nested Member Object
  CHECK(JsonPatch(R"({"foo":"bar"})",
                  R"([{"op":"add","path":"/child","value":{"grandchild":{}}}])") ==
        Canon(R"({"foo":"bar","child":{"grandchild":{}}})"));
  // A.11 Ignoring Unrecognized Elements
  CHECK(JsonPatch(R"({"foo":"bar"})", R"([{"op":"add","path":"/baz","value":"qux","xyz":123}])") ==
        Canon(R"({"foo":"bar","baz":"qux"})"));
  // A.12 Adding to a Nonexistent Target
  CHECK(IsError(JsonPatch(R"({"foo":"bar"})", R"([{"op":"add","path":"/baz/bat","value":"qux"}])"),
                "missing path"));
  // A.13 Invalid JSON Patch Document (two "op" members)
  CHECK(IsError(
      JsonPatch(R"({"foo":"bar"})", R"([{"op":"add","path":"/baz","value":"qux","op":"remove"}])"),
      "more than one \"op\""));
  // A.14 ~ Escape Ordering
  CHECK(JsonPatch(R"({"/":9,"~1":10})", R"([{"op":"test","path":"/~01","value":10}])") ==
        Canon(R"({"/":9,"~1":10})"));
  // A.15 Comparing Strings and Numbers
  CHECK(IsError(JsonPatch(R"({"/":9,"~1":10})", R"([{"op":"test","path":"/~01","value":"10"}])"),
                "test failed"));
  // A.16 Adding an Array Value
  CHECK(
      JsonPatch(R"({"foo":["bar"]})", R"([{"op":"add","path":"/foo/-","value":["abc","def"]}])") ==
      Canon(R"({"foo":["bar",["abc","def"]]})"));
}

TEST_CASE("json patch: RFC 6901 pointer examples resolve") {
  const char* doc = R"({"foo":["bar","baz"],"":0,"a/b":1,"c%d":2,"e^f":3,"g|h":4,"i\\j":5,
                        "k\"l":6," ":7,"m~n":8})";
  std::vector<std::pair<std::string, std::string>> cases = {
      {"", doc},
      {"/foo", R"(["bar","baz"])"},
      {"/foo/0", R"("bar")"},
      {"/", "0"},
      {"/a~1b", "1"},
      {"/c%d", "2"},
      {"/e^f", "3"},
      {"/g|h", "4"},
      {"/i\\\\j", "5"},
      {"/k\\\"l", "6"},
      {"/ ", "7"},
      {"/m~0n", "8"},
  };
  for (auto& [path, value] : cases) {
    INFO(path);
    std::string patch = R"([{"op":"test","path":")" + path + R"(","value":)" + value + "}]";
    CHECK(JsonPatch(doc, patch) == Canon(doc));
  }
  // A value that differs fails.
  CHECK(IsError(JsonPatch(doc, R"([{"op":"test","path":"/m~0n","value":9}])"), "test failed"));
}

TEST_CASE("json patch: semantics beyond the appendix") {
  SECTION("the whole document can be replaced, added or tested, not removed") {
    CHECK(JsonPatch(R"({"a":1})", R"([{"op":"replace","path":"","value":{"b":2}}])") ==
          Canon(R"({"b":2})"));
    CHECK(JsonPatch(R"({"a":1})", R"([{"op":"add","path":"","value":[1]}])") == Canon("[1]"));
    CHECK(IsError(JsonPatch(R"({"a":1})", R"([{"op":"remove","path":""}])"), "whole document"));
  }
  SECTION("add replaces an existing member; add at the end index appends") {
    CHECK(JsonPatch(R"({"a":1})", R"([{"op":"add","path":"/a","value":2}])") ==
          Canon(R"({"a":2})"));
    CHECK(JsonPatch(R"({"a":[1]})", R"([{"op":"add","path":"/a/1","value":2}])") ==
          Canon(R"({"a":[1,2]})"));
    CHECK(JsonPatch(R"({"a":[1]})", R"([{"op":"add","path":"/a/0","value":0}])") ==
          Canon(R"({"a":[0,1]})"));
  }
  SECTION("array indices: beyond the end, leading zeros, negative and '-' are rejected") {
    CHECK(IsError(JsonPatch(R"({"a":[1]})", R"([{"op":"add","path":"/a/2","value":2}])"),
                  "not an index"));
    CHECK(IsError(JsonPatch(R"({"a":[1,2]})", R"([{"op":"remove","path":"/a/01"}])")));
    CHECK(IsError(JsonPatch(R"({"a":[1,2]})", R"([{"op":"remove","path":"/a/-1"}])")));
    CHECK(IsError(JsonPatch(R"({"a":[1,2]})", R"([{"op":"replace","path":"/a/-","value":3}])")));
    CHECK(IsError(JsonPatch(R"({"a":[1,2]})", R"([{"op":"remove","path":"/a/2"}])")));
  }
  SECTION("remove, replace, move and copy need their locations to exist") {
    CHECK(IsError(JsonPatch(R"({"a":1})", R"([{"op":"remove","path":"/b"}])"), "missing path"));
    CHECK(IsError(JsonPatch(R"({"a":1})", R"([{"op":"replace","path":"/b","value":1}])"),
                  "missing key"));
    CHECK(IsError(JsonPatch(R"({"a":1})", R"([{"op":"move","from":"/b","path":"/c"}])"),
                  "missing from path"));
    CHECK(IsError(JsonPatch(R"({"a":1})", R"([{"op":"copy","from":"/b","path":"/c"}])"),
                  "missing from path"));
    CHECK(IsError(JsonPatch(R"({"a":1})", R"([{"op":"test","path":"/b","value":1}])"),
                  "missing path"));
  }
  SECTION("copy duplicates, move to itself is a no-op, move into its own child fails") {
    CHECK(JsonPatch(R"({"a":{"x":[1]}})", R"([{"op":"copy","from":"/a","path":"/b"},
                                             {"op":"add","path":"/b/x/-","value":2}])") ==
          Canon(R"({"a":{"x":[1]},"b":{"x":[1,2]}})"));
    CHECK(JsonPatch(R"({"a":1})", R"([{"op":"move","from":"/a","path":"/a"}])") ==
          Canon(R"({"a":1})"));
    CHECK(IsError(JsonPatch(R"({"a":{"b":1}})", R"([{"op":"move","from":"/a","path":"/a/c"}])"),
                  "own child"));
  }
  SECTION("test compares JSON values: numbers by value, objects ignoring member order") {
    CHECK(JsonPatch(R"({"a":{"x":1,"y":[1.0,"s",null,true]}})",
                    R"([{"op":"test","path":"/a","value":{"y":[1,"s",null,true],"x":1.0}}])") ==
          Canon(R"({"a":{"x":1,"y":[1.0,"s",null,true]}})"));
    CHECK(IsError(JsonPatch(R"({"a":[1,2]})", R"([{"op":"test","path":"/a","value":[2,1]}])")));
    CHECK(IsError(
        JsonPatch(R"({"a":{"x":1}})", R"([{"op":"test","path":"/a","value":{"x":1,"y":2}}])")));
    CHECK(IsError(
        JsonPatch(R"({"a":-1})", R"([{"op":"test","path":"/a","value":18446744073709551615}])")));
  }
  SECTION("a failing operation discards the earlier ones") {
    CHECK(IsError(JsonPatch(R"({"a":1})", R"([{"op":"add","path":"/b","value":2},
                                             {"op":"test","path":"/a","value":2}])"),
                  "operation 1"));
  }
  SECTION("malformed patches") {
    CHECK(IsError(JsonPatch(R"({"a":1})", R"({"op":"add","path":"/b","value":2})"), "array"));
    CHECK(IsError(JsonPatch(R"({"a":1})", R"([{"op":"frobnicate","path":"/a"}])"),
                  "Unexpected kind: frobnicate"));
    CHECK(IsError(JsonPatch(R"({"a":1})", R"([{"path":"/a"}])"), "\"op\""));
    CHECK(IsError(JsonPatch(R"({"a":1})", R"([{"op":"remove"}])"), "\"path\""));
    CHECK(IsError(JsonPatch(R"({"a":1})", R"([{"op":"add","path":"/b"}])"), "\"value\""));
    CHECK(IsError(JsonPatch(R"({"a":1})", R"([{"op":"move","path":"/b"}])"), "\"from\""));
    CHECK(IsError(JsonPatch(R"({"a":1})", R"([{"op":"remove","path":"a"}])"), "start with"));
    CHECK(IsError(JsonPatch(R"({"a~b":1})", R"([{"op":"remove","path":"/a~b"}])"), "~"));
    CHECK(IsError(JsonPatch(R"({"a":1})", R"([1])"), "not a JSON object"));
    CHECK(IsError(JsonPatch(R"({"a":1})", R"([{"op":"remove","path":"/a"})"), "invalid JSON"));
    CHECK(IsError(JsonPatch(R"({"a":1})", ""), "empty"));
    CHECK(IsError(JsonPatch(R"({"a":1})", std::string("[]\0[]", 5)), "NUL"));
    CHECK(JsonPatch(R"({"a":1})", "[]") == Canon(R"({"a":1})"));
  }
}

TEST_CASE("json patch: limits on untrusted input") {
  SECTION("too many operations") {
    std::string patch = "[";
    for (size_t i = 0; i <= kMaxJsonPatchOperations; ++i) {
      patch += std::string(i > 0 ? "," : "") + R"({"op":"test","path":"/a","value":1})";
    }
    patch += "]";
    CHECK(IsError(JsonPatch(R"({"a":1})", patch), "maximum operations"));
  }
  SECTION("copies that double the document stop at the copy limit") {
    std::string big = "[\"" + std::string(100000, 'x') + "\"]";
    std::string patch = "[";
    for (int i = 0; i < 400; ++i) {
      patch += std::string(i > 0 ? "," : "") + R"({"op":"copy","from":"/a","path":"/a/-"})";
    }
    patch += "]";
    CHECK(IsError(JsonPatch(R"({"a":)" + big + "}", patch), "copy"));
  }
  SECTION("deep patches are rejected without recursing") {
    CHECK(IsError(JsonPatch("{}", "[" + NestedArray(200000) + "]"), "deeper"));
    std::string ok = R"([{"op":"add","path":"/a","value":)" + NestedArray(990) + "}]";
    CHECK_FALSE(IsError(JsonPatch("{}", ok)));
  }
  SECTION("adds that nest values into each other cannot build a too deep document") {
    std::string value = NestedObject(600);
    std::string patch = R"([{"op":"add","path":"/x","value":)" + value + "}";
    std::string path = "/x";
    for (int i = 0; i < 599; ++i) path += "/a";  // the innermost {} of the first value
    patch += R"(,{"op":"add","path":")" + path + R"(/b","value":)" + value + "}]";
    CHECK(IsError(JsonPatch("{}", patch), "deeper"));
  }
}

// ---------------------------------------------------------------------------------------
// JSON merge patch: RFC 7386 appendix A.

TEST_CASE("merge patch: RFC 7386 appendix A examples") {
  struct Case {
    const char* original;
    const char* patch;
    const char* result;
  };
  const Case cases[] = {
      {R"({"a":"b"})", R"({"a":"c"})", R"({"a":"c"})"},
      {R"({"a":"b"})", R"({"b":"c"})", R"({"a":"b","b":"c"})"},
      {R"({"a":"b"})", R"({"a":null})", R"({})"},
      {R"({"a":"b","b":"c"})", R"({"a":null})", R"({"b":"c"})"},
      {R"({"a":["b"]})", R"({"a":"c"})", R"({"a":"c"})"},
      {R"({"a":"c"})", R"({"a":["b"]})", R"({"a":["b"]})"},
      {R"({"a":{"b":"c"}})", R"({"a":{"b":"d","c":null}})", R"({"a":{"b":"d"}})"},
      {R"({"a":[{"b":"c"}]})", R"({"a":[1]})", R"({"a":[1]})"},
      {R"(["a","b"])", R"(["c","d"])", R"(["c","d"])"},
      {R"({"a":"b"})", R"(["c"])", R"(["c"])"},
      {R"({"a":"foo"})", R"(null)", R"(null)"},
      {R"({"a":"foo"})", R"("bar")", R"("bar")"},
      {R"({"e":null})", R"({"a":1})", R"({"e":null,"a":1})"},
      {R"([1,2])", R"({"a":"b","c":null})", R"({"a":"b"})"},
      {R"({})", R"({"a":{"bb":{"ccc":null}}})", R"({"a":{"bb":{}}})"},
  };
  for (const Case& c : cases) {
    INFO(c.original << " + " << c.patch);
    CHECK(MergePatch(c.original, c.patch) == Canon(c.result));
  }
}

TEST_CASE("merge patch: errors and limits leave the target unchanged") {
  CHECK(IsError(MergePatch(R"({"a":1})", R"({"a":)"), "invalid JSON"));
  CHECK(IsError(MergePatch(R"({"a":1})", "{} {}"), "invalid JSON"));
  CHECK(IsError(MergePatch(R"({"a":1})", "\"\xff\""), "invalid JSON"));
  CHECK(IsError(MergePatch(R"({"a":1})", NestedObject(1001)), "deeper"));
  CHECK(IsError(MergePatch(R"({"a":1})", NestedArray(500000)), "deeper"));
  // Nesting up to the cap works (and recurses that deep).
  CHECK(MergePatch(R"({"a":1})", NestedObject(1000)) == Canon(NestedObject(1000)));
  std::string merged = MergePatch(R"({"b":1})", NestedObject(1000));
  CHECK_FALSE(IsError(merged));
  CHECK(merged.find("\"b\":1") != std::string::npos);
}

// ---------------------------------------------------------------------------------------
// Strategic merge patch.

// A hand-written schema for a Pod-like object, a Deployment around it, and the fields the
// upstream test cases use.
class FakeSchema : public StrategicSchema {
 public:
  std::optional<Field> Lookup(std::string_view name) const override {
    auto it = fields.find(std::string(name));
    if (it == fields.end()) return std::nullopt;
    return it->second;
  }
  std::map<std::string, Field> fields;
};

struct Schemas {
  FakeSchema port, env_var, container, volume, pod_spec, metadata, pod, strategy, template_spec,
      deployment_spec, deployment, item;

  Schemas() {
    using F = StrategicSchema::Field;
    container.fields["ports"] = F{.merge_list = true, .merge_key = "containerPort", .type = &port};
    container.fields["env"] = F{.merge_list = true, .merge_key = "name", .type = &env_var};
    container.fields["args"] = F{};
    container.fields["name"] = F{};
    container.fields["image"] = F{};
    volume.fields["name"] = F{};
    volume.fields["emptyDir"] = F{};
    volume.fields["configMap"] = F{};
    pod_spec.fields["containers"] = F{.merge_list = true, .merge_key = "name", .type = &container};
    pod_spec.fields["volumes"] =
        F{.merge_list = true, .retain_keys = true, .merge_key = "name", .type = &volume};
    pod_spec.fields["tolerations"] = F{};
    pod_spec.fields["nodeSelector"] = F{.is_map = true};
    metadata.fields["finalizers"] = F{.merge_list = true};
    metadata.fields["labels"] = F{.is_map = true};
    metadata.fields["annotations"] = F{.is_map = true};
    metadata.fields["name"] = F{};
    pod.fields["metadata"] = F{.type = &metadata};
    pod.fields["spec"] = F{.type = &pod_spec};
    strategy.fields["type"] = F{};
    strategy.fields["rollingUpdate"] = F{};
    template_spec.fields["metadata"] = F{.type = &metadata};
    template_spec.fields["spec"] = F{.type = &pod_spec};
    deployment_spec.fields["template"] = F{.type = &template_spec};
    deployment_spec.fields["strategy"] = F{.retain_keys = true, .type = &strategy};
    deployment_spec.fields["replicas"] = F{};
    deployment.fields["metadata"] = F{.type = &metadata};
    deployment.fields["spec"] = F{.type = &deployment_spec};
    // The MergeItem type of apimachinery's strategicpatch tests.
    item.fields["mergingList"] = F{.merge_list = true, .merge_key = "name", .type = &item};
    item.fields["nonMergingList"] = F{.type = &item};
    item.fields["mergingIntList"] = F{.merge_list = true};
    item.fields["nonMergingIntList"] = F{};
    item.fields["simpleMap"] = F{.is_map = true};
    item.fields["retainKeysMap"] = F{.retain_keys = true, .type = &item};
    item.fields["retainKeysMergingList"] =
        F{.merge_list = true, .retain_keys = true, .merge_key = "name", .type = &item};
  }
};

const Schemas& S() {
  static const Schemas schemas;
  return schemas;
}

std::string Smp(std::string_view target, std::string_view patch, const StrategicSchema* schema) {
  return Run(target, patch, [schema](Document& d, std::string_view p) {
    return ApplyStrategicMergePatch(d, p, schema);
  });
}

std::string Pod(std::string_view target, std::string_view patch) {
  return Smp(target, patch, &S().pod);
}

std::string Item(std::string_view target, std::string_view patch) {
  return Smp(target, patch, &S().item);
}

TEST_CASE("strategic merge patch: maps merge, null deletes, scalars replace") {
  CHECK(Pod(R"({"metadata":{"name":"p","labels":{"a":"1","b":"2"}}})",
            R"({"metadata":{"labels":{"a":"x","b":null,"c":"3"}}})") ==
        Canon(R"({"metadata":{"name":"p","labels":{"a":"x","c":"3"}}})"));
  // A value of another type replaces; null for a missing field is ignored.
  CHECK(Pod(R"({"spec":{"nodeSelector":"oops"}})",
            R"({"spec":{"nodeSelector":{"disk":"ssd"}},"status":null})") ==
        Canon(R"({"spec":{"nodeSelector":{"disk":"ssd"}}})"));
  // New values are cleaned of nulls (upstream "discard nulls in nested and adds not nulls").
  CHECK(Pod(R"({})", R"({"extra":{"key":{"keynotnull":"value","keynull":null}}})") ==
        Canon(R"({"extra":{"key":{"keynotnull":"value"}}})"));
  // Nulls inside lists of primitives are values, not deletions.
  CHECK(Pod(R"({})", R"({"extra":["key1",null,"key2"]})") ==
        Canon(R"({"extra":["key1",null,"key2"]})"));
}

TEST_CASE("strategic merge patch: lists of objects merge by merge key") {
  const char* pod = R"({"spec":{"containers":[
      {"name":"app","image":"nginx:1","ports":[{"containerPort":80,"protocol":"TCP"}]},
      {"name":"log","image":"busybox"}]}})";
  SECTION("an item merges into the one with the same key; others stay") {
    CHECK(Pod(pod, R"({"spec":{"containers":[{"name":"app","image":"nginx:2"}]}})") ==
          Canon(R"({"spec":{"containers":[
              {"name":"app","image":"nginx:2","ports":[{"containerPort":80,"protocol":"TCP"}]},
              {"name":"log","image":"busybox"}]}})"));
  }
  SECTION("new keys are added; nested lists merge by their own key") {
    // Upstream order: patch items in patch order; a live item goes before a patch item only
    // when the live list has both and has it first, so new items come before the rest.
    CHECK(Pod(pod, R"({"spec":{"containers":[{"name":"app","ports":[{"containerPort":443}]},
                                                {"name":"side","image":"envoy"}]}})") ==
          Canon(R"({"spec":{"containers":[
              {"name":"app","image":"nginx:1",
               "ports":[{"containerPort":443},{"containerPort":80,"protocol":"TCP"}]},
              {"name":"side","image":"envoy"},
              {"name":"log","image":"busybox"}]}})"));
    CHECK(Pod(pod, R"({"spec":{"containers":[{"name":"log","image":"busybox:2"},
                                                {"name":"side","image":"envoy"}]}})") ==
          Canon(R"({"spec":{"containers":[
              {"name":"app","image":"nginx:1","ports":[{"containerPort":80,"protocol":"TCP"}]},
              {"name":"log","image":"busybox:2"},
              {"name":"side","image":"envoy"}]}})"));
  }
  SECTION("lists without merge strategy are replaced") {
    CHECK(Pod(R"({"spec":{"tolerations":[{"key":"a"},{"key":"b"}]}})",
              R"({"spec":{"tolerations":[{"key":"c"}]}})") ==
          Canon(R"({"spec":{"tolerations":[{"key":"c"}]}})"));
  }
  SECTION("the kubectl apply patch from the brief") {
    const char* deployment = R"({"metadata":{"name":"web","annotations":{"old":"1"}},
        "spec":{"replicas":2,"template":{"spec":{"containers":[
          {"name":"app","image":"nginx:1","env":[{"name":"A","value":"1"}]}]}}}})";
    const char* patch =
        R"({"metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{}"}},
        "spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"app"}],
        "containers":[{"image":"nginx:2","name":"app"}]}}}})";
    CHECK(Smp(deployment, patch, &S().deployment) ==
          Canon(R"({"metadata":{"name":"web","annotations":{"old":"1",
                      "kubectl.kubernetes.io/last-applied-configuration":"{}"}},
                    "spec":{"replicas":2,"template":{"spec":{"containers":[
                      {"name":"app","image":"nginx:2","env":[{"name":"A","value":"1"}]}]}}}})"));
  }
  SECTION("order: patch order first, live items interleaved by live position") {
    // Upstream "preserve the order from the patch in a merging list" (1 and 2).
    CHECK(Item(R"({"mergingList":[{"name":1},{"name":2,"value":"b"},{"name":3}]})",
               R"({"mergingList":[{"name":3,"value":"c"},{"name":1,"value":"a"},
                                  {"name":2,"other":"x"}]})") ==
          Canon(R"({"mergingList":[{"name":3,"value":"c"},{"name":1,"value":"a"},
                                   {"name":2,"value":"b","other":"x"}]})"));
    CHECK(Item(R"({"mergingList":[{"name":1},{"name":2,"value":"b"},{"name":3}]})",
               R"({"mergingList":[{"name":3,"value":"c"},{"name":1,"value":"a"}]})") ==
          Canon(R"({"mergingList":[{"name":2,"value":"b"},{"name":3,"value":"c"},
                                   {"name":1,"value":"a"}]})"));
    // The "preserve order" proposal's example without $setElementOrder.
    CHECK(Item(R"({"mergingList":[{"name":"B"},{"name":"C"},{"name":"A"}]})",
               R"({"mergingList":[{"name":"A","v":1},{"name":"B","v":1},{"name":"D"}]})") ==
          Canon(R"({"mergingList":[{"name":"C"},{"name":"A","v":1},{"name":"B","v":1},
                                   {"name":"D"}]})"));
  }
  SECTION("errors") {
    CHECK(IsError(
        Item(R"({"mergingList":[{"name":1,"value":"a"}]})", R"({"mergingList":[{"value":"b"}]})"),
        "does not contain declared merge key: name"));
    CHECK(IsError(Item(R"({"mergingList":[{"name":1}]})", R"({"mergingList":[[1]]})"),
                  "lists of lists"));
    CHECK(IsError(Item(R"({"mergingList":[{"name":1}]})", R"({"mergingList":["a"]})"),
                  "not identical"));
    CHECK(IsError(Item(R"({"mergingIntList":[1]})", R"({"mergingIntList":[{"name":1}]})"),
                  "not identical"));
    // A live item without the merge key can be replaced, not merged.
    CHECK(IsError(Item(R"({"mergingList":[{"value":1}]})", R"({"mergingList":[{"name":2}]})"),
                  "does not contain declared merge key"));
    CHECK(Item(R"({"mergingList":[{"value":1}]})",
               R"({"mergingList":[{"name":2},{"$patch":"replace"}]})") ==
          Canon(R"({"mergingList":[{"name":2}]})"));
    CHECK(IsError(Item(R"({"mergingIntList":[]})", R"({"mergingIntList":[{"a":1},{"a":2}]})"),
                  "without merge key"));
  }
}

TEST_CASE("strategic merge patch: lists of primitives with merge strategy") {
  // Upstream "merge arrays of scalars" / "unique scalars when merging lists".
  CHECK(Item(R"({"mergingIntList":[1,2]})", R"({"mergingIntList":[2,3]})") ==
        Canon(R"({"mergingIntList":[1,2,3]})"));
  // Upstream "preserve the order from the patch in a merging int list".
  CHECK(Item(R"({"mergingIntList":[1,2,3]})", R"({"mergingIntList":[3,1,2]})") ==
        Canon(R"({"mergingIntList":[3,1,2]})"));
  CHECK(Item(R"({"mergingIntList":[1,2,3]})", R"({"mergingIntList":[3,1]})") ==
        Canon(R"({"mergingIntList":[2,3,1]})"));
  // Without merge strategy the list is replaced.
  CHECK(Item(R"({"nonMergingIntList":[1,2]})", R"({"nonMergingIntList":[2,3]})") ==
        Canon(R"({"nonMergingIntList":[2,3]})"));
  // Finalizers are a primitive merge list.
  CHECK(Pod(R"({"metadata":{"finalizers":["a","b"]}})", R"({"metadata":{"finalizers":["c"]}})") ==
        Canon(R"({"metadata":{"finalizers":["c","a","b"]}})"));
  CHECK(Pod(R"({"metadata":{"finalizers":["a","b"]}})",
            R"({"metadata":{"finalizers":["b","c","c"]}})") ==
        Canon(R"({"metadata":{"finalizers":["a","b","c"]}})"));
}

TEST_CASE("strategic merge patch: $patch directives") {
  SECTION("replace in a map keeps only the patch's fields") {
    CHECK(Pod(R"({"metadata":{"labels":{"a":"1","b":"2"}}})",
              R"({"metadata":{"labels":{"$patch":"replace","c":"3"}}})") ==
          Canon(R"({"metadata":{"labels":{"c":"3"}}})"));
    // Upstream "delete all keys from map" / "add key and delete all keys from map".
    CHECK(Item(R"({"name":1,"value":1})", R"({"$patch":"replace"})") == Canon("{}"));
    CHECK(Item(R"({"name":1,"value":1})", R"({"other":"a","$patch":"replace"})") ==
          Canon(R"({"other":"a"})"));
  }
  SECTION("replace in a merging list keeps only the patch's items") {
    CHECK(Pod(R"({"spec":{"containers":[{"name":"a","image":"x"},{"name":"b"}]}})",
              R"({"spec":{"containers":[{"name":"c","image":"y"},{"$patch":"replace"}]}})") ==
          Canon(R"({"spec":{"containers":[{"name":"c","image":"y"}]}})"));
    // Upstream "delete all items from merging list".
    CHECK(Item(R"({"mergingList":[{"name":1},{"name":2}]})",
               R"({"mergingList":[{"$patch":"replace"}]})") == Canon(R"({"mergingList":[]})"));
  }
  SECTION("delete of a map empties it") {
    // Upstream "delete map from nested map".
    CHECK(Item(R"({"simpleMap":{"key1":1,"key2":1}})", R"({"simpleMap":{"$patch":"delete"}})") ==
          Canon(R"({"simpleMap":{}})"));
    // A field the target lacks stays absent.
    CHECK(Item(R"({"name":1})", R"({"simpleMap":{"$patch":"delete"}})") == Canon(R"({"name":1})"));
  }
  SECTION("delete of list items removes every item with that merge key") {
    CHECK(Pod(R"({"spec":{"containers":[{"name":"a"},{"name":"b"}]}})",
              R"({"spec":{"containers":[{"name":"a","$patch":"delete"}]}})") ==
          Canon(R"({"spec":{"containers":[{"name":"b"}]}})"));
    // Upstream "delete all duplicate entries in a merging list".
    CHECK(Item(R"({"mergingList":[{"name":1},{"name":1},{"name":2,"value":"a"},{"name":3},
                                  {"name":3}]})",
               R"({"mergingList":[{"name":1,"$patch":"delete"},{"name":3,"$patch":"delete"}]})") ==
          Canon(R"({"mergingList":[{"name":2,"value":"a"}]})"));
    // Deleting a missing item is fine; directive items never end up in a new list
    // (upstream "nested patch merge with empty list", two-way result).
    CHECK(Item(R"({"name":"hi"})",
               R"({"mergingList":[{"name":"hello"},{"$patch":"delete","name":"doesntexist"}]})") ==
          Canon(R"({"name":"hi","mergingList":[{"name":"hello"}]})"));
    CHECK(
        IsError(Item(R"({"mergingList":[{"name":1}]})", R"({"mergingList":[{"$patch":"delete"}]})"),
                "merge key"));
  }
  SECTION("merge in a map is the default; in a list it is rejected as upstream") {
    CHECK(Pod(R"({"metadata":{"labels":{"a":"1"}}})",
              R"({"metadata":{"labels":{"$patch":"merge","b":"2"}}})") ==
          Canon(R"({"metadata":{"labels":{"a":"1","b":"2"}}})"));
    CHECK(IsError(Pod(R"({"spec":{"containers":[{"name":"a"}]}})",
                      R"({"spec":{"containers":[{"$patch":"merge"}]}})"),
                  "merging lists cannot yet be specified"));
  }
  SECTION("unknown $patch values are rejected") {
    CHECK(IsError(Pod(R"({"metadata":{}})", R"({"metadata":{"$patch":"explode"}})"),
                  "unknown patch type"));
    CHECK(IsError(Pod(R"({"metadata":{}})", R"({"metadata":{"$patch":1}})"), "unknown patch type"));
    CHECK(IsError(Pod(R"({"spec":{"containers":[{"name":"a"}]}})",
                      R"({"spec":{"containers":[{"name":"a","$patch":"explode"}]}})"),
                  "unknown patch type"));
    CHECK(IsError(Pod(R"({})", R"({"spec":{"tolerations":[{"$patch":"explode"}]}})"),
                  "unknown patch type"));
  }
  SECTION("top level") {
    CHECK(Pod(R"({"metadata":{"name":"p"}})", R"({"$patch":"delete"})") == Canon("{}"));
  }
}

TEST_CASE("strategic merge patch: $retainKeys") {
  SECTION("clears the fields not listed (Deployment strategy)") {
    CHECK(Smp(R"({"spec":{"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":1}}}})",
              R"({"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate"}}})",
              &S().deployment) == Canon(R"({"spec":{"strategy":{"type":"Recreate"}}})"));
    // The doc's union example.
    CHECK(Item(R"({"retainKeysMap":{"foo":"a","other":"b"}})",
               R"({"retainKeysMap":{"$retainKeys":["another","bar"],"another":"d","bar":"c"}})") ==
          Canon(R"({"retainKeysMap":{"another":"d","bar":"c"}})"));
  }
  SECTION("in items of a merging list (volumes)") {
    CHECK(Pod(R"({"spec":{"volumes":[{"name":"v","emptyDir":{}},{"name":"w","emptyDir":{}}]}})",
              R"({"spec":{"volumes":[{"name":"v","$retainKeys":["configMap","name"],
                                      "configMap":{"name":"c"}}]}})") ==
          Canon(R"({"spec":{"volumes":[{"name":"v","configMap":{"name":"c"}},
                                       {"name":"w","emptyDir":{}}]}})"));
    // Upstream: retainKeys with a null for a field not listed.
    CHECK(
        Item(R"({"retainKeysMergingList":[{"name":"bar"},{"name":"foo","value":"a","other":"x"}]})",
             R"({"retainKeysMergingList":[{"$retainKeys":["name"],"name":"foo","value":null}]})") ==
        Canon(R"({"retainKeysMergingList":[{"name":"bar"},{"name":"foo"}]})"));
  }
  SECTION("without the directive a retainKeys field merges normally") {
    CHECK(Item(R"({"retainKeysMap":{"name":"foo","value":"a"}})",
               R"({"retainKeysMap":{"value":"b"}})") ==
          Canon(R"({"retainKeysMap":{"name":"foo","value":"b"}})"));
  }
  SECTION("errors") {
    CHECK(IsError(Item(R"({"retainKeysMap":{"name":"foo"}})",
                       R"({"retainKeysMap":{"$retainKeys":["name"],"value":"x"}})"),
                  "retainKeys"));
    CHECK(IsError(Item(R"({"retainKeysMap":{}})", R"({"retainKeysMap":{"$retainKeys":"name"}})"),
                  "retainKeys"));
    CHECK(IsError(Item(R"({"retainKeysMap":{}})", R"({"retainKeysMap":{"$retainKeys":[1]}})"),
                  "retainKeys"));
  }
}

TEST_CASE("strategic merge patch: $deleteFromPrimitiveList") {
  // The doc's finalizers example.
  CHECK(Pod(R"({"metadata":{"finalizers":["a","b","c"]}})",
            R"({"metadata":{"$deleteFromPrimitiveList/finalizers":["b","c"]}})") ==
        Canon(R"({"metadata":{"finalizers":["a"]}})"));
  // Upstream "delete all duplicate items in lists of scalars".
  CHECK(Item(R"({"mergingIntList":[1,2,3,3,4]})",
             R"({"$setElementOrder/mergingIntList":[1,2],
                 "$deleteFromPrimitiveList/mergingIntList":[3]})") ==
        Canon(R"({"mergingIntList":[1,2,4]})"));
  // Upstream "add and delete items in lists of scalars".
  CHECK(Item(R"({"mergingIntList":[1,2,3]})",
             R"({"$setElementOrder/mergingIntList":[1,2,4],
                 "$deleteFromPrimitiveList/mergingIntList":[3],"mergingIntList":[4]})") ==
        Canon(R"({"mergingIntList":[1,2,4]})"));
  // Upstream: nonexistent items, empty and missing lists, lists without merge strategy.
  CHECK(Item(R"({"mergingIntList":[1,2]})", R"({"$deleteFromPrimitiveList/mergingIntList":[3]})") ==
        Canon(R"({"mergingIntList":[1,2]})"));
  CHECK(Item(R"({"mergingIntList":null})", R"({"$deleteFromPrimitiveList/mergingIntList":[3]})") ==
        Canon(R"({"mergingIntList":null})"));
  CHECK(Item(R"({"foo":["bar"]})", R"({"$deleteFromPrimitiveList/mergingIntList":[3]})") ==
        Canon(R"({"foo":["bar"]})"));
  CHECK(Item(R"({"nonMergingIntList":[1,2,3]})",
             R"({"$deleteFromPrimitiveList/nonMergingIntList":[2]})") ==
        Canon(R"({"nonMergingIntList":[1,3]})"));
  SECTION("errors") {
    CHECK(IsError(Item(R"({"mergingIntList":[1]})", R"({"$deleteFromPrimitiveList":[1]})"),
                  "primitive list"));
    CHECK(IsError(
        Item(R"({"mergingIntList":[1]})", R"({"$deleteFromPrimitiveList/mergingIntList":1})"),
        "primitive list"));
    CHECK(IsError(Item(R"({"mergingIntList":[1]})",
                       R"({"$deleteFromPrimitiveList/mergingIntList":[{"a":1}]})"),
                  "primitive list"));
    CHECK(IsError(Item(R"({"name":"x"})", R"({"$deleteFromPrimitiveList/name":["x"]})"),
                  "not a list"));
  }
}

TEST_CASE("strategic merge patch: $setElementOrder") {
  SECTION("reorders lists of primitives and of objects (the doc's examples)") {
    CHECK(Pod(R"({"metadata":{"finalizers":["a","b","c"]}})",
              R"({"metadata":{"$setElementOrder/finalizers":["b","c","a"]}})") ==
          Canon(R"({"metadata":{"finalizers":["b","c","a"]}})"));
    CHECK(Pod(R"({"spec":{"containers":[{"name":"a","image":"1"},{"name":"b"},{"name":"c"}]}})",
              R"({"spec":{"$setElementOrder/containers":
                          [{"name":"b"},{"name":"c"},{"name":"a"}]}})") ==
          Canon(R"({"spec":{"containers":[{"name":"b"},{"name":"c"},{"name":"a","image":"1"}]}})"));
  }
  SECTION("upstream apply cases") {
    // "merge lists of maps"
    CHECK(Item(R"({"mergingList":[{"name":1,"other":"a"},{"name":2,"value":2,"other":"b"}]})",
               R"({"$setElementOrder/mergingList":[{"name":4},{"name":1},{"name":2},{"name":3}],
                   "mergingList":[{"name":4,"value":4},{"name":3,"value":3}]})") ==
          Canon(R"({"mergingList":[{"name":4,"value":4},{"name":1,"other":"a"},
                                   {"name":2,"value":2,"other":"b"},{"name":3,"value":3}]})"));
    // "add map and delete map from merging list"
    CHECK(Item(R"({"mergingList":[{"name":1},{"name":2,"other":"b"},{"name":4,"other":"c"}]})",
               R"({"$setElementOrder/mergingList":[{"name":2},{"name":3}],
                   "mergingList":[{"name":3},{"name":1,"$patch":"delete"}]})") ==
          Canon(R"({"mergingList":[{"name":2,"other":"b"},{"name":4,"other":"c"},{"name":3}]})"));
    // "add map and delete map from merging list with conflict"
    CHECK(Item(R"({"mergingList":[{"name":1,"other":"a"},{"name":4,"other":"c"}]})",
               R"({"$setElementOrder/mergingList":[{"name":2},{"name":3}],
                   "mergingList":[{"name":2},{"name":3},{"name":1,"$patch":"delete"}]})") ==
          Canon(R"({"mergingList":[{"name":4,"other":"c"},{"name":2},{"name":3}]})"));
    // "nested patch merge with empty list", three-way result
    CHECK(Item(R"({"name":"hi","mergingList":[{"name":"hello2"}]})",
               R"({"$setElementOrder/mergingList":[{"name":"hello"},{"name":"doesntexist"}],
                   "mergingList":[{"name":"hello"},{"$patch":"delete","name":"doesntexist"}]})") ==
          Canon(R"({"name":"hi","mergingList":[{"name":"hello"},{"name":"hello2"}]})"));
    // "delete an item in a int list and preserve order"
    CHECK(Item(R"({"mergingIntList":[1,3,2]})",
               R"({"$setElementOrder/mergingIntList":[2,1],
                   "$deleteFromPrimitiveList/mergingIntList":[3]})") ==
          Canon(R"({"mergingIntList":[2,1]})"));
    // "merge lists of scalars" (three-way)
    CHECK(Item(R"({"mergingIntList":[1,2,4]})",
               R"({"$setElementOrder/mergingIntList":[1,2,3],"mergingIntList":[3]})") ==
          Canon(R"({"mergingIntList":[1,2,3,4]})"));
    // "delete and reorder in one list, reorder in another"
    CHECK(Item(R"({"mergingList":[{"name":"a","value":"a"},{"name":"b","value":"b"}],
                   "mergeItemPtr":[{"name":"c","value":"c"},{"name":"d","value":"d"}]})",
               R"({"$setElementOrder/mergingList":[{"name":"b"}],
                   "mergingList":[{"$patch":"delete","name":"a"}]})") ==
          Canon(R"({"mergingList":[{"name":"b","value":"b"}],
                    "mergeItemPtr":[{"name":"c","value":"c"},{"name":"d","value":"d"}]})"));
  }
  SECTION("items the order list does not name keep their place among live neighbours") {
    // The proposal's example live [C,B,D,A,E] ordered by [A,B]: C and D came before A in
    // the live list, E after it.
    CHECK(
        Item(
            R"({"mergingList":[{"name":"C"},{"name":"B"},{"name":"D"},{"name":"A"},{"name":"E"}]})",
            R"({"$setElementOrder/mergingList":[{"name":"A"},{"name":"B"}],
                   "mergingList":[{"name":"A","v":1},{"name":"B","v":1}]})") ==
        Canon(R"({"mergingList":[{"name":"C"},{"name":"D"},{"name":"A","v":1},
                                   {"name":"B","v":1},{"name":"E"}]})"));
  }
  SECTION("entries missing from the list are ignored") {
    // Upstream "$setElementOrder contains item that is not present in the list to be merged".
    CHECK(Item(R"({"mergingList":[{"name":1},{"name":3}]})",
               R"({"$setElementOrder/mergingList":[{"name":3},{"name":2},{"name":1}],
                   "mergingList":[{"name":3,"value":3},{"name":1,"value":1}]})") ==
          Canon(R"({"mergingList":[{"name":3,"value":3},{"name":1,"value":1}]})"));
    CHECK(Item(R"({"mergingIntList":[1,3]})", R"({"$setElementOrder/mergingIntList":[3,2,1]})") ==
          Canon(R"({"mergingIntList":[3,1]})"));
    // A list the target lacks is added in the directive's order.
    CHECK(Item(R"({})", R"({"$setElementOrder/mergingIntList":[3,2,1],"mergingIntList":[2,1]})") ==
          Canon(R"({"mergingIntList":[2,1]})"));
    CHECK(Item(R"({"a":1})", R"({"$setElementOrder/mergingIntList":[2,1]})") ==
          Canon(R"({"a":1})"));
  }
  SECTION("errors") {
    // Upstream "should check if order in $setElementOrder and patch list match".
    CHECK(IsError(Item(R"({"mergingList":[{"name":1},{"name":3},{"name":2}]})",
                       R"({"$setElementOrder/mergingList":[{"name":1},{"name":2},{"name":3}],
                           "mergingList":[{"name":3,"value":3},{"name":1,"value":1}]})"),
                  "doesn't match"));
    CHECK(IsError(Item(R"({"mergingIntList":[1,3,2]})",
                       R"({"$setElementOrder/mergingIntList":[1,2,3],"mergingIntList":[3,1]})"),
                  "doesn't match"));
    CHECK(IsError(Item(R"({"mergingIntList":[1]})", R"({"$setElementOrder/mergingIntList":1})"),
                  "setElementOrder"));
    CHECK(IsError(Item(R"({"mergingIntList":[1]})", R"({"$setElementOrder":[1]})"),
                  "setElementOrder"));
    CHECK(IsError(Item(R"({"mergingList":[{"name":1}]})",
                       R"({"$setElementOrder/mergingList":[{"value":1}]})"),
                  "merge key"));
    CHECK(IsError(Item(R"({"mergingList":"x"})", R"({"$setElementOrder/mergingList":[]})"),
                  "not a list"));
  }
}

TEST_CASE("strategic merge patch: unknown directives") {
  CHECK(IsError(Pod(R"({})", R"({"$frobnicate":1})"), "unknown strategic merge patch directive"));
  CHECK(IsError(Pod(R"({"spec":{}})", R"({"spec":{"$delete":["x"]}})"), "directive"));
  CHECK(IsError(Smp(R"({})", R"({"a":{"$retainKey":[]}})", nullptr), "directive"));
  // In a map, "$" keys are ordinary keys.
  CHECK(Pod(R"({"metadata":{"labels":{}}})", R"({"metadata":{"labels":{"$x":"1"}}})") ==
        Canon(R"({"metadata":{"labels":{"$x":"1"}}})"));
}

TEST_CASE("strategic merge patch: without a schema it is a merge patch with directives") {
  CHECK(Smp(R"({"spec":{"containers":[{"name":"a"},{"name":"b"}]}})",
            R"({"spec":{"containers":[{"name":"c"}]}})",
            nullptr) == Canon(R"({"spec":{"containers":[{"name":"c"}]}})"));
  CHECK(Smp(R"({"a":{"x":1,"y":2}})", R"({"a":{"$patch":"replace","z":3}})", nullptr) ==
        Canon(R"({"a":{"z":3}})"));
  CHECK(Smp(R"({"a":{"x":1,"y":2}})", R"({"a":{"y":null}})", nullptr) == Canon(R"({"a":{"x":1}})"));
}

TEST_CASE("strategic merge patch: malformed input and limits") {
  CHECK(IsError(Pod(R"({})", R"([1])"), "must be a JSON object"));
  CHECK(IsError(Pod(R"({})", R"({"a":)"), "invalid JSON"));
  CHECK(IsError(Pod(R"({})", NestedObject(1001)), "deeper"));
  CHECK(IsError(Pod(R"({})", NestedArray(1000000)), "deeper"));
  // As deep as allowed, along every recursive path of the merge: maps into maps, new values,
  // lists replaced whole, and merging lists ordered by $setElementOrder at every level.
  CHECK_FALSE(IsError(Pod(NestedObject(999), NestedObject(1000))));
  CHECK_FALSE(IsError(Pod("{}", NestedObject(1000))));
  CHECK_FALSE(IsError(Pod("{}", R"({"extra":)" + NestedArray(998) + "}")));
  auto nested_list = [](int levels, bool directives) {
    std::string s = R"({"name":1})";
    for (int i = 0; i < levels; ++i) {
      s = std::string(R"({"name":1,)") +
          (directives ? R"("$setElementOrder/mergingList":[{"name":1}],)" : "") +
          R"("mergingList":[)" + s + "]}";
    }
    return s;
  };
  std::string live = nested_list(495, false);
  std::string patch = nested_list(495, true);
  CHECK(Item(live, patch) == Canon(live));
  CHECK(Item("{}", patch) == Canon(live));
  Document not_object = Json("[1]");
  CHECK_FALSE(ApplyStrategicMergePatch(not_object, "{}", &S().pod).ok());
}

// Random patches built from directive-heavy pieces: no input may crash the engine, an error
// must leave the target unchanged (Run checks), and a success must not store directives.
TEST_CASE("strategic merge patch: random patches never crash or leak directives") {
  uint64_t state = 0x9e3779b97f4a7c15ull;
  auto next = [&state](uint64_t n) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state % n;
  };
  const std::vector<std::string> keys = {"name",
                                         "image",
                                         "containers",
                                         "ports",
                                         "containerPort",
                                         "finalizers",
                                         "labels",
                                         "$patch",
                                         "$retainKeys",
                                         "$setElementOrder/containers",
                                         "$setElementOrder/finalizers",
                                         "$deleteFromPrimitiveList/finalizers",
                                         "metadata",
                                         "spec",
                                         "volumes",
                                         "x"};
  const std::vector<std::string> scalars = {"\"a\"",     "\"b\"",   "1",           "80",
                                            "null",      "true",    "\"replace\"", "\"delete\"",
                                            "\"merge\"", "\"name\""};
  std::function<std::string(int)> value = [&](int depth) -> std::string {
    uint64_t kind = depth > 4 ? 2 : next(4);
    if (kind == 0) {
      std::string s = "{";
      uint64_t n = next(4);
      for (uint64_t i = 0; i < n; ++i) {
        if (i > 0) s += ",";
        s += "\"" + keys[next(keys.size())] + "\":" + value(depth + 1);
      }
      return s + "}";
    }
    if (kind == 1) {
      std::string s = "[";
      uint64_t n = next(4);
      for (uint64_t i = 0; i < n; ++i) s += (i > 0 ? "," : "") + value(depth + 1);
      return s + "]";
    }
    return scalars[next(scalars.size())];
  };
  std::function<bool(const Value&)> has_directive = [&](const Value& v) {
    if (v.IsObject()) {
      for (auto& m : v.GetObject()) {
        std::string name(m.name.GetString(), m.name.GetStringLength());
        if (name == "$patch" || name == "$retainKeys" || name.rfind("$setElementOrder", 0) == 0 ||
            name.rfind("$deleteFromPrimitiveList", 0) == 0 || has_directive(m.value)) {
          return true;
        }
      }
    } else if (v.IsArray()) {
      for (auto& e : v.GetArray()) {
        if (has_directive(e)) return true;
      }
    }
    return false;
  };
  const char* pod = R"({"metadata":{"name":"p","finalizers":["a","b"],"labels":{"x":"1"}},
      "spec":{"containers":[{"name":"a","image":"1","ports":[{"containerPort":80}]},
                            {"name":"b"}],"volumes":[{"name":"v","emptyDir":{}}]}})";
  int successes = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string patch = "{\"metadata\":" + value(1) + ",\"spec\":" + value(1) + "}";
    INFO(patch);
    std::string result = Pod(pod, patch);
    if (IsError(result)) continue;
    ++successes;
    CHECK_FALSE(has_directive(Json(result)));
  }
  CHECK(successes > 100);
}

TEST_CASE("json patch and merge patch: random patches never crash") {
  uint64_t state = 0x2545f4914f6cdd1dull;
  auto next = [&state](uint64_t n) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state % n;
  };
  const std::vector<std::string> keys = {"a", "b", "c", "", "~", "/"};
  const std::vector<std::string> scalars = {"1", "\"x\"", "null", "false", "-0.5"};
  std::function<std::string(int)> value = [&](int depth) -> std::string {
    uint64_t kind = depth > 3 ? 2 : next(3);
    std::string s;
    if (kind == 2) return scalars[next(scalars.size())];
    uint64_t n = next(4);
    for (uint64_t i = 0; i < n; ++i) {
      if (i > 0) s += ",";
      if (kind == 0) s += QuoteJson(keys[next(keys.size())]) + ":";
      s += value(depth + 1);
    }
    return kind == 0 ? "{" + s + "}" : "[" + s + "]";
  };
  const std::vector<std::string> ops = {"add", "remove", "replace", "move", "copy", "test", "x"};
  const std::vector<std::string> paths = {"",      "/",   "/a",  "/a/0", "/a/-", "/a/1/b",  "/b/c",
                                          "/a/01", "/~0", "/~1", "/~2",  "a",    "/a/b/c/d"};
  const char* target = R"({"a":[1,{"b":2},[3]],"b":{"c":{"d":null}},"":0,"~":1,"/":2})";
  int successes = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string patch = "[";
    uint64_t n = 1 + next(4);
    for (uint64_t k = 0; k < n; ++k) {
      if (k > 0) patch += ",";
      patch += R"({"op":")" + ops[next(ops.size())] + R"(","path":")" + paths[next(paths.size())] +
               R"(","from":")" + paths[next(paths.size())] + R"(","value":)" + value(0) + "}";
    }
    patch += "]";
    INFO(patch);
    if (!IsError(JsonPatch(target, patch))) ++successes;
    std::string merge = value(0);
    INFO(merge);
    CHECK_FALSE(IsError(MergePatch(target, merge)));
  }
  CHECK(successes > 100);
}

}  // namespace
}  // namespace kite::patch
