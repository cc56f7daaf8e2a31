// CustomResourceDefinitions: CRD validation, custom object validation, pruning, defaulting,
// served versions and accepted status, with Kubernetes' paths and messages.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "src/server/crd/crd_status.h"
#include "src/server/crd/crd_validation.h"
#include "src/server/crd/served_versions.h"
#include "src/server/crd/structural_schema.h"
#include "src/server/crd/value_format.h"
#include "src/server/json/json_util.h"

namespace kite::crd {
namespace {

using validation::StatusCause;

// A CronTab CRD in the shape of the Kubernetes documentation, with one field per rule.
constexpr const char* kCronTabCrd = R"(
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: crontabs.stable.example.com
spec:
  group: stable.example.com
  scope: Namespaced
  names:
    plural: crontabs
    kind: CronTab
    shortNames: [ct]
    categories: [all]
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            required: [image]
            properties:
              cronSpec:
                type: string
                pattern: '^(\d+|\*)(/\d+)?(\s+(\d+|\*)(/\d+)?){4}$'
              image:
                type: string
                maxLength: 40
              name:
                type: string
                minLength: 3
              replicas:
                type: integer
                minimum: 1
                maximum: 10
                default: 1
              step:
                type: integer
                multipleOf: 5
              ratio:
                type: number
                exclusiveMinimum: true
                minimum: 0
              policy:
                type: string
                enum: [Allow, Forbid, Replace]
                default: Allow
              start:
                type: string
                format: date-time
              port:
                x-kubernetes-int-or-string: true
              tags:
                type: array
                maxItems: 3
                minItems: 1
                x-kubernetes-list-type: set
                items:
                  type: string
              ports:
                type: array
                x-kubernetes-list-type: map
                x-kubernetes-list-map-keys: [name]
                items:
                  type: object
                  required: [name]
                  properties:
                    name: {type: string}
                    port: {type: integer}
              labels:
                type: object
                maxProperties: 2
                minProperties: 1
                additionalProperties:
                  type: string
              note:
                type: string
                nullable: true
                default: none
              comment:
                type: string
                default: empty
              settings:
                type: object
                default: {}
                properties:
                  mode:
                    type: string
                    default: fast
              config:
                type: object
                x-kubernetes-preserve-unknown-fields: true
                properties:
                  level: {type: integer}
              template:
                type: object
                x-kubernetes-embedded-resource: true
                x-kubernetes-preserve-unknown-fields: true
              items:
                type: array
                items:
                  type: object
                  properties:
                    id: {type: string}
          status:
            type: object
            properties:
              replicas: {type: integer}
              labelSelector: {type: string}
    subresources:
      status: {}
      scale:
        specReplicasPath: .spec.replicas
        statusReplicasPath: .status.replicas
        labelSelectorPath: .status.labelSelector
    additionalPrinterColumns:
    - name: Spec
      type: string
      jsonPath: .spec.cronSpec
    - name: Replicas
      type: integer
      jsonPath: .spec.replicas
    - name: Age
      type: date
      jsonPath: .metadata.creationTimestamp
)";

rapidjson::Document Yaml(const std::string& text) {
  Result<rapidjson::Document> doc = json::YamlToJson(text);
  REQUIRE(doc.ok());
  return std::move(*doc);
}

rapidjson::Document Json(const std::string& text) {
  Result<rapidjson::Document> doc = json::ParseJson(text);
  INFO(text);
  REQUIRE(doc.ok());
  return std::move(*doc);
}

rapidjson::Document CronTabCrd() {
  rapidjson::Document crd = Yaml(kCronTabCrd);
  DefaultCrd(crd, crd.GetAllocator());
  return crd;
}

const rapidjson::Value& CronTabSchema(const rapidjson::Document& crd) {
  return crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"];
}

StructuralSchema CronTab() {
  rapidjson::Document crd = CronTabCrd();
  Result<StructuralSchema> s = StructuralSchema::Compile(CronTabSchema(crd));
  INFO((s.ok() ? "" : s.status().message()));
  REQUIRE(s.ok());
  return *s;
}

std::string Describe(const std::vector<StatusCause>& causes) {
  std::string out;
  for (const StatusCause& c : causes) out += "\n  " + c.reason + " | " + c.field + " | " + c.message;
  return out;
}

// Validates a CronTab object whose spec is `spec_json` (merged with a valid image).
std::vector<StatusCause> ValidateSpec(const StructuralSchema& schema, const std::string& spec_json) {
  rapidjson::Document obj = Json(R"({"apiVersion":"stable.example.com/v1","kind":"CronTab",)"
                                 R"("metadata":{"name":"my-cron"},"spec":)" + spec_json + "}");
  return schema.Validate(obj);
}

void ExpectOnly(const std::vector<StatusCause>& causes, const StatusCause& expected) {
  INFO(Describe(causes));
  REQUIRE(causes.size() == 1);
  CHECK(causes[0].reason == expected.reason);
  CHECK(causes[0].field == expected.field);
  CHECK(causes[0].message == expected.message);
}

bool HasCause(const std::vector<StatusCause>& causes, const std::string& field, const std::string& message) {
  for (const StatusCause& c : causes) {
    if (c.field == field && c.message == message) return true;
  }
  return false;
}

std::vector<StatusCause> ValidateCrdYaml(const std::string& yaml, const rapidjson::Value* old = nullptr) {
  rapidjson::Document crd = Yaml(yaml);
  DefaultCrd(crd, crd.GetAllocator());
  return ValidateCrd(crd, old);
}

}  // namespace

// ---------------------------------------------------------------------------------------
// A realistic CRD

TEST_CASE("the CronTab CRD is accepted and served") {
  rapidjson::Document crd = CronTabCrd();
  std::vector<StatusCause> causes = ValidateCrd(crd, nullptr);
  INFO(Describe(causes));
  CHECK(causes.empty());
  CHECK(std::string(crd["spec"]["names"]["singular"].GetString()) == "crontab");
  CHECK(std::string(crd["spec"]["names"]["listKind"].GetString()) == "CronTabList");
  CHECK(std::string(crd["spec"]["conversion"]["strategy"].GetString()) == "None");

  Result<std::vector<ServedVersion>> served = ServedVersionsOf(crd);
  REQUIRE(served.ok());
  REQUIRE(served->size() == 1);
  const ServedVersion& v1 = (*served)[0];
  CHECK(v1.name == "v1");
  CHECK(v1.storage);
  CHECK(v1.info.group == "stable.example.com");
  CHECK(v1.info.version == "v1");
  CHECK(v1.info.resource == "crontabs");
  CHECK(v1.info.singular == "crontab");
  CHECK(v1.info.kind == "CronTab");
  CHECK(v1.info.list_kind == "CronTabList");
  CHECK(v1.info.namespaced);
  CHECK(v1.info.verbs == std::vector<std::string>{"create", "delete", "deletecollection", "get", "list", "patch",
                                                   "update", "watch"});
  CHECK(v1.info.short_names == std::vector<std::string>{"ct"});
  CHECK(v1.info.categories == std::vector<std::string>{"all"});
  CHECK(v1.info.storage_version_hash == resources::StorageVersionHash("stable.example.com", "v1", "CronTab"));
  REQUIRE(v1.info.subresources.size() == 2);
  CHECK(v1.info.subresources[0].name == "status");
  CHECK(v1.info.subresources[0].kind == "CronTab");
  CHECK(v1.info.subresources[1].name == "scale");
  CHECK(v1.info.subresources[1].group == "autoscaling");
  CHECK(v1.info.subresources[1].kind == "Scale");
  CHECK(v1.status_subresource);
  REQUIRE(v1.scale.has_value());
  CHECK(v1.scale->spec_replicas_path == ".spec.replicas");
  CHECK(v1.scale->status_replicas_path == ".status.replicas");
  CHECK(v1.scale->label_selector_path == ".status.labelSelector");
  REQUIRE(v1.printer_columns.size() == 3);
  CHECK(v1.printer_columns[0].name == "Spec");
  CHECK(v1.printer_columns[0].json_path == ".spec.cronSpec");
  CHECK(v1.printer_columns[1].type == "integer");
  REQUIRE(v1.schema);
  const SchemaNode* replicas = v1.schema->SchemaAt(".spec.replicas");
  REQUIRE(replicas);
  CHECK(replicas->type == "integer");
  CHECK(v1.schema->SchemaAt("status.labelSelector"));
  CHECK(v1.schema->SchemaAt(".spec.labels.anything") == v1.schema->root().Property("spec")->Property("labels")->AdditionalSchema());
  CHECK(v1.schema->SchemaAt(".spec.nothing") == nullptr);
}

TEST_CASE("a valid CronTab object has no problems") {
  StructuralSchema schema = CronTab();
  auto causes = ValidateSpec(schema, R"({"cronSpec":"* * * * */5","image":"my-awesome-cron-image","replicas":3,
      "name":"abc","step":10,"ratio":0.5,"policy":"Forbid","start":"2024-05-01T10:00:00Z","port":"http",
      "tags":["a","b"],"ports":[{"name":"http","port":80},{"name":"https","port":443}],
      "labels":{"a":"b"},"config":{"level":2,"free":{"x":1}},
      "template":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{}}})");
  INFO(Describe(causes));
  CHECK(causes.empty());
  CHECK(ValidateSpec(schema, R"({"image":"x","port":8080,"ratio":1})").empty());
  CHECK(ValidateSpec(schema, R"({"image":"x","replicas":2.0})").empty());  // an integral float is an integer
}

TEST_CASE("a controller-gen style CRD (descriptions, int-or-string quantities, list/map types) is accepted") {
  rapidjson::Document crd = Yaml(R"(
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.apps.example.io
  annotations: {controller-gen.kubebuilder.io/version: v0.14.0}
spec:
  group: apps.example.io
  names: {kind: Widget, listKind: WidgetList, plural: widgets, singular: widget}
  scope: Namespaced
  versions:
  - name: v1alpha1
    served: true
    storage: false
    deprecated: true
    deprecationWarning: apps.example.io/v1alpha1 Widget is deprecated
    schema:
      openAPIV3Schema:
        description: Widget is the Schema for the widgets API
        type: object
        properties:
          apiVersion: {description: APIVersion defines the versioned schema, type: string}
          kind: {description: Kind is a string value, type: string}
          metadata: {type: object}
          spec: {type: object, x-kubernetes-preserve-unknown-fields: true}
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    additionalPrinterColumns:
    - {jsonPath: '.status.conditions[?(@.type=="Ready")].status', name: Ready, type: string}
    - {jsonPath: .metadata.creationTimestamp, name: Age, type: date}
    schema:
      openAPIV3Schema:
        description: Widget is the Schema for the widgets API
        type: object
        required: [spec]
        properties:
          apiVersion: {description: APIVersion defines the versioned schema, type: string}
          kind: {description: Kind is a string value, type: string}
          metadata: {type: object}
          spec:
            description: WidgetSpec defines the desired state
            type: object
            properties:
              replicas: {description: Replicas, format: int32, type: integer}
              maxUnavailable:
                anyOf: [{type: integer}, {type: string}]
                x-kubernetes-int-or-string: true
              resources:
                type: object
                properties:
                  limits:
                    type: object
                    additionalProperties:
                      anyOf: [{type: integer}, {type: string}]
                      pattern: ^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$
                      x-kubernetes-int-or-string: true
              selector:
                type: object
                x-kubernetes-map-type: atomic
                properties:
                  matchLabels: {type: object, additionalProperties: {type: string}}
              args:
                type: array
                items: {type: string}
                x-kubernetes-list-type: atomic
              env:
                type: array
                items:
                  type: object
                  required: [name]
                  properties:
                    name: {type: string}
                    value: {type: string}
                x-kubernetes-list-map-keys: [name]
                x-kubernetes-list-type: map
          status:
            type: object
            properties:
              conditions:
                type: array
                items:
                  type: object
                  required: [status, type]
                  properties:
                    lastTransitionTime: {format: date-time, type: string}
                    status: {enum: ["True", "False", Unknown], type: string}
                    type: {maxLength: 316, pattern: '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$', type: string}
                x-kubernetes-list-map-keys: [type]
                x-kubernetes-list-type: map
)");
  DefaultCrd(crd, crd.GetAllocator());
  std::vector<StatusCause> causes = ValidateCrd(crd, nullptr);
  INFO(Describe(causes));
  CHECK(causes.empty());

  Result<std::vector<ServedVersion>> served = ServedVersionsOf(crd);
  REQUIRE(served.ok());
  REQUIRE(served->size() == 2);
  CHECK((*served)[0].deprecated);
  CHECK_FALSE((*served)[0].storage);
  // Both versions report the storage version's hash.
  CHECK((*served)[0].info.storage_version_hash == (*served)[1].info.storage_version_hash);
  // The filter column is beyond the table printer's JSONPath subset: only Age remains.
  REQUIRE((*served)[1].printer_columns.size() == 1);
  CHECK((*served)[1].printer_columns[0].name == "Age");

  const StructuralSchema& schema = *(*served)[1].schema;
  rapidjson::Document obj = Json(R"({"apiVersion":"apps.example.io/v1","kind":"Widget","metadata":{"name":"w"},
      "spec":{"replicas":3,"maxUnavailable":"25%","resources":{"limits":{"cpu":"500m","memory":"1Gi","gpus":1}},
              "selector":{"matchLabels":{"app":"w"}},"args":["-v"],"env":[{"name":"A","value":"1"}]},
      "status":{"conditions":[{"type":"Ready","status":"True","lastTransitionTime":"2024-05-01T10:00:00Z"}]}})");
  causes = schema.Validate(obj);
  INFO(Describe(causes));
  CHECK(causes.empty());
  rapidjson::Document bad = Json(R"({"spec":{"resources":{"limits":{"cpu":"lots"}}},
      "status":{"conditions":[{"type":"Ready","status":"Maybe"},{"type":"Ready","status":"True"}]}})");
  causes = schema.Validate(bad);
  INFO(Describe(causes));
  CHECK(HasCause(causes, "spec.resources.limits.cpu",
                 "Invalid value: \"lots\": spec.resources.limits.cpu in body should match "
                 "'^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$'"));
  CHECK(HasCause(causes, "status.conditions[0].status",
                 "Unsupported value: \"Maybe\": supported values: \"True\", \"False\", \"Unknown\""));
  CHECK(HasCause(causes, "status.conditions[1]", "Duplicate value: map[string]interface {}{\"type\":\"Ready\"}"));
  CHECK(HasCause(causes, "spec", "Required value") == false);
}

// ---------------------------------------------------------------------------------------
// Object validation, rule by rule

TEST_CASE("type errors read as Kubernetes writes them") {
  StructuralSchema schema = CronTab();
  ExpectOnly(ValidateSpec(schema, R"({"image":"x","replicas":"string"})"),
             {"FieldValueTypeInvalid",
              "Invalid value: \"string\": spec.replicas in body must be of type integer: \"string\"", "spec.replicas"});
  ExpectOnly(ValidateSpec(schema, R"({"image":"x","replicas":1.5})"),
             {"FieldValueTypeInvalid",
              "Invalid value: \"number\": spec.replicas in body must be of type integer: \"number\"", "spec.replicas"});
  ExpectOnly(ValidateSpec(schema, R"({"image":"x","port":true})"),
             {"FieldValueTypeInvalid",
              "Invalid value: \"boolean\": spec.port in body must be of type integer,string: \"boolean\"", "spec.port"});
  ExpectOnly(ValidateSpec(schema, R"({"image":"x","tags":[null]})"),
             {"FieldValueTypeInvalid", "Invalid value: \"null\": spec.tags[0] in body must be of type string: \"null\"",
              "spec.tags[0]"});
  ExpectOnly(ValidateSpec(schema, R"({"image":"x","labels":{"a":7}})"),
             {"FieldValueTypeInvalid", "Invalid value: \"integer\": spec.labels.a in body must be of type string: \"integer\"",
              "spec.labels.a"});
  ExpectOnly(ValidateSpec(schema, R"("text")"),
             {"FieldValueTypeInvalid", "Invalid value: \"string\": spec in body must be of type object: \"string\"", "spec"});
}

TEST_CASE("required, enum, numbers and strings") {
  StructuralSchema schema = CronTab();
  ExpectOnly(ValidateSpec(schema, R"({})"), {"FieldValueRequired", "Required value", "spec.image"});
  ExpectOnly(ValidateSpec(schema, R"({"image":"x","policy":"Sometimes"})"),
             {"FieldValueNotSupported",
              "Unsupported value: \"Sometimes\": supported values: \"Allow\", \"Forbid\", \"Replace\"", "spec.policy"});
  ExpectOnly(ValidateSpec(schema, R"({"image":"x","replicas":15})"),
             {"FieldValueInvalid", "Invalid value: 15: spec.replicas in body should be less than or equal to 10",
              "spec.replicas"});
  ExpectOnly(ValidateSpec(schema, R"({"image":"x","replicas":0})"),
             {"FieldValueInvalid", "Invalid value: 0: spec.replicas in body should be greater than or equal to 1",
              "spec.replicas"});
  ExpectOnly(ValidateSpec(schema, R"({"image":"x","ratio":0})"),
             {"FieldValueInvalid", "Invalid value: 0: spec.ratio in body should be greater than 0", "spec.ratio"});
  ExpectOnly(ValidateSpec(schema, R"({"image":"x","step":7})"),
             {"FieldValueInvalid", "Invalid value: 7: spec.step in body should be a multiple of 5", "spec.step"});
  ExpectOnly(ValidateSpec(schema, R"({"image":"x","cronSpec":"* * * *"})"),
             {"FieldValueInvalid",
              "Invalid value: \"* * * *\": spec.cronSpec in body should match "
              "'^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$'",
              "spec.cronSpec"});
  ExpectOnly(ValidateSpec(schema, R"({"image":"x","name":"ab"})"),
             {"FieldValueInvalid", "Invalid value: \"ab\": spec.name in body should be at least 3 chars long",
              "spec.name"});
  ExpectOnly(ValidateSpec(schema, R"({"image":"0123456789012345678901234567890123456789-"})"),
             {"FieldValueTooLong", "Too long: may not be more than 40 bytes", "spec.image"});
  ExpectOnly(ValidateSpec(schema, R"({"image":"x","start":"yesterday"})"),
             {"FieldValueTypeInvalid",
              "Invalid value: \"yesterday\": spec.start in body must be of type date-time: \"yesterday\"", "spec.start"});
  // Multi-byte characters count once, as Go's utf8.RuneCountInString does.
  CHECK(ValidateSpec(schema, R"({"image":"x","name":"äöü"})").empty());
}

TEST_CASE("arrays, maps and list types") {
  StructuralSchema schema = CronTab();
  ExpectOnly(ValidateSpec(schema, R"({"image":"x","tags":["a","b","c","d"]})"),
             {"FieldValueTooMany", "Too many: 4: must have at most 3 items", "spec.tags"});
  ExpectOnly(ValidateSpec(schema, R"({"image":"x","tags":[]})"),
             {"FieldValueInvalid", "Invalid value: 0: spec.tags in body should have at least 1 items", "spec.tags"});
  ExpectOnly(ValidateSpec(schema, R"({"image":"x","tags":["a","b","a"]})"),
             {"FieldValueDuplicate", "Duplicate value: \"a\"", "spec.tags[2]"});
  ExpectOnly(ValidateSpec(schema, R"({"image":"x","ports":[{"name":"http","port":80},{"name":"http","port":81}]})"),
             {"FieldValueDuplicate", "Duplicate value: map[string]interface {}{\"name\":\"http\"}", "spec.ports[1]"});
  // A wrong item type is reported by schema validation and by the list-type check.
  std::vector<StatusCause> causes = ValidateSpec(schema, R"({"image":"x","ports":[{"name":"a"},"b"]})");
  INFO(Describe(causes));
  CHECK(causes.size() == 2);
  CHECK(HasCause(causes, "spec.ports[1]",
                 "Invalid value: \"string\": spec.ports[1] in body must be of type object: \"string\""));
  CHECK(HasCause(causes, "spec.ports[1]", "Invalid value: \"b\": must be an object for an array of list-type map"));
  ExpectOnly(ValidateSpec(schema, R"({"image":"x","ports":[{"port":80}]})"),
             {"FieldValueRequired", "Required value", "spec.ports[0].name"});
  ExpectOnly(ValidateSpec(schema, R"({"image":"x","labels":{"a":"1","b":"2","c":"3"}})"),
             {"FieldValueTooMany", "Too many: 3: must have at most 2 items", "spec.labels"});
  ExpectOnly(ValidateSpec(schema, R"({"image":"x","labels":{}})"),
             {"FieldValueInvalid", "Invalid value: 0: spec.labels in body should have at least 1 properties",
              "spec.labels"});
}

TEST_CASE("nullable, preserve-unknown-fields and embedded resources") {
  StructuralSchema schema = CronTab();
  CHECK(ValidateSpec(schema, R"({"image":"x","note":null})").empty());
  ExpectOnly(ValidateSpec(schema, R"({"image":"x","comment":null})"),
             {"FieldValueTypeInvalid", "Invalid value: \"null\": spec.comment in body must be of type string: \"null\"",
              "spec.comment"});
  // Known fields under preserve-unknown-fields are still validated.
  ExpectOnly(ValidateSpec(schema, R"({"image":"x","config":{"level":"high","other":true}})"),
             {"FieldValueTypeInvalid", "Invalid value: \"string\": spec.config.level in body must be of type integer: \"string\"",
              "spec.config.level"});
  std::vector<StatusCause> causes = ValidateSpec(schema, R"({"image":"x","template":{"metadata":{"name":"Bad/Name"}}})");
  INFO(Describe(causes));
  CHECK(HasCause(causes, "spec.template.apiVersion", "Required value"));
  CHECK(HasCause(causes, "spec.template.kind", "Required value"));
  CHECK(HasCause(causes, "spec.template.metadata.name", "Invalid value: \"Bad/Name\": may not contain '/'"));
}

TEST_CASE("allOf, anyOf, oneOf and not") {
  rapidjson::Document schema_json = Yaml(R"(
type: object
properties:
  spec:
    type: object
    properties:
      a: {type: string}
      b: {type: string}
      n: {type: integer}
    oneOf:
    - required: [a]
    - required: [b]
    anyOf:
    - properties:
        n: {minimum: 10}
    - properties:
        n: {maximum: 0}
    not:
      required: [n, a, b]
)");
  Result<StructuralSchema> compiled = StructuralSchema::Compile(schema_json);
  INFO((compiled.ok() ? "" : compiled.status().message()));
  REQUIRE(compiled.ok());
  const StructuralSchema& schema = *compiled;
  CHECK(schema.Validate(Json(R"({"spec":{"a":"x","n":20}})")).empty());

  std::vector<StatusCause> causes = schema.Validate(Json(R"({"spec":{"n":20}})"));
  INFO(Describe(causes));
  REQUIRE(causes.size() == 2);  // oneOf's composite error, then its best failing alternative
  CHECK(causes[0] == StatusCause{"FieldValueInvalid",
                                 "Invalid value: \"\": \"spec\" must validate one and only one schema (oneOf). Found none valid",
                                 "<nil>"});
  CHECK(causes[1] == StatusCause{"FieldValueRequired", "Required value", "spec.a"});

  causes = schema.Validate(Json(R"({"spec":{"a":"x","n":5}})"));
  INFO(Describe(causes));
  CHECK(HasCause(causes, "<nil>", "Invalid value: \"\": \"spec\" must validate at least one schema (anyOf)"));
  CHECK(HasCause(causes, "spec.n", "Invalid value: 5: spec.n in body should be greater than or equal to 10"));

  causes = schema.Validate(Json(R"({"spec":{"a":"x","b":"y","n":20}})"));
  INFO(Describe(causes));
  CHECK(HasCause(causes, "<nil>",
                 "Invalid value: \"\": \"spec\" must validate one and only one schema (oneOf). Found 2 valid alternatives"));
  CHECK(HasCause(causes, "<nil>", "Invalid value: \"\": \"spec\" must not validate the schema (not)"));
}

// ---------------------------------------------------------------------------------------
// Pruning

TEST_CASE("pruning removes unknown fields and reports their paths") {
  StructuralSchema schema = CronTab();
  rapidjson::Document obj = Json(R"({"apiVersion":"stable.example.com/v1","kind":"CronTab",
      "metadata":{"name":"c","unknownMeta":1},
      "spec":{"image":"x","foo":1,"settings":{"mode":"slow","bar":{"deep":true}},
              "items":[{"id":"a","junk":1},{"id":"b"},{"junk":[1,2]}],
              "labels":{"free":"form"},
              "config":{"level":1,"kept":{"any":"thing"}},
              "template":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[]}}},
      "status":{"replicas":1,"phase":"Running"},
      "extra":"root"})");
  std::vector<std::string> pruned = schema.Prune(obj, obj.GetAllocator());
  CHECK(pruned == std::vector<std::string>{"extra", "spec.foo", "spec.items[0].junk", "spec.items[2].junk",
                                           "spec.settings.bar", "status.phase"});
  CHECK(json::ToJson(obj) ==
        R"({"apiVersion":"stable.example.com/v1","kind":"CronTab","metadata":{"name":"c","unknownMeta":1},)"
        R"("spec":{"image":"x","settings":{"mode":"slow"},"items":[{"id":"a"},{"id":"b"},{}],)"
        R"("labels":{"free":"form"},"config":{"level":1,"kept":{"any":"thing"}},)"
        R"("template":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[]}}},)"
        R"("status":{"replicas":1}})");
  // Pruning a pruned object changes nothing.
  CHECK(schema.Prune(obj, obj.GetAllocator()).empty());
}

// ---------------------------------------------------------------------------------------
// Defaulting

TEST_CASE("defaults are applied as Kubernetes applies them") {
  StructuralSchema schema = CronTab();
  rapidjson::Document obj = Json(R"({"apiVersion":"stable.example.com/v1","kind":"CronTab",
      "metadata":{"name":"c"},"spec":{"image":"x","note":null,"comment":null,"policy":null,"start":null}})");
  schema.ApplyDefaults(obj, obj.GetAllocator());
  const rapidjson::Value& spec = obj["spec"];
  CHECK(spec["replicas"].GetInt() == 1);                             // missing -> default
  CHECK(std::string(spec["policy"].GetString()) == "Allow");         // null, not nullable -> default
  CHECK(std::string(spec["comment"].GetString()) == "empty");
  CHECK(spec["note"].IsNull());                                      // nullable keeps null
  CHECK_FALSE(spec.HasMember("start"));                              // null without default is dropped
  CHECK(std::string(spec["settings"]["mode"].GetString()) == "fast");  // defaults inside a default
  CHECK(schema.Validate(obj).empty());

  // Values that are set are kept.
  rapidjson::Document set = Json(R"({"spec":{"image":"x","replicas":5,"settings":{"mode":"slow"}}})");
  schema.ApplyDefaults(set, set.GetAllocator());
  CHECK(set["spec"]["replicas"].GetInt() == 5);
  CHECK(std::string(set["spec"]["settings"]["mode"].GetString()) == "slow");
}

// ---------------------------------------------------------------------------------------
// Invalid CRDs

TEST_CASE("CRD names are checked") {
  std::string yaml = kCronTabCrd;
  std::vector<StatusCause> causes = ValidateCrdYaml(
      std::string(yaml).replace(yaml.find("name: crontabs.stable.example.com"), 33, "name: crontab.stable.example.com"));
  INFO(Describe(causes));
  CHECK(HasCause(causes, "metadata.name",
                 "Invalid value: \"crontab.stable.example.com\": must be spec.names.plural+\".\"+spec.group"));

  causes = ValidateCrdYaml(std::string(yaml).replace(yaml.find("plural: crontabs"), 16, "plural: CronTabs"));
  INFO(Describe(causes));
  CHECK(HasCause(causes, "spec.names.plural",
                 "Invalid value: \"CronTabs\": a DNS-1035 label must consist of lower case alphanumeric characters or "
                 "'-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or "
                 "'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"));

  causes = ValidateCrdYaml(std::string(yaml).replace(yaml.find("group: stable.example.com"), 25, "group: example"));
  INFO(Describe(causes));
  CHECK(HasCause(causes, "spec.group", "Invalid value: \"example\": should be a domain with at least one dot"));

  causes = ValidateCrdYaml(std::string(yaml).replace(yaml.find("scope: Namespaced"), 17, "scope: Global"));
  CHECK(HasCause(causes, "spec.scope",
                 "Unsupported value: \"Global\": supported values: \"Cluster\", \"Namespaced\""));

  causes = ValidateCrdYaml(std::string(yaml).replace(yaml.find("kind: CronTab\n"), 13, "kind: Cron_Tab"));
  INFO(Describe(causes));
  CHECK(HasCause(causes, "spec.names.kind",
                 "Invalid value: \"Cron_Tab\": may have mixed case, but should otherwise match: a DNS-1035 label must "
                 "consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end "
                 "with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is "
                 "'[a-z]([-a-z0-9]*[a-z0-9])?')"));
}

TEST_CASE("versions: exactly one storage version, unique names, schemas required") {
  const char* two_storage = R"(
metadata: {name: things.example.com}
spec:
  group: example.com
  scope: Cluster
  names: {plural: things, kind: Thing}
  versions:
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object}}
  - name: v2
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object}}
)";
  std::vector<StatusCause> causes = ValidateCrdYaml(two_storage);
  INFO(Describe(causes));
  REQUIRE(causes.size() == 1);
  CHECK(causes[0].field == "spec.versions");
  CHECK(causes[0].message.find("must have exactly one version marked as storage version") != std::string::npos);

  causes = ValidateCrdYaml(R"(
metadata: {name: things.example.com}
spec:
  group: example.com
  scope: Cluster
  names: {plural: things, kind: Thing}
  versions:
  - {name: v1, served: true, storage: true}
  - {name: v1, served: true, storage: false}
)");
  INFO(Describe(causes));
  CHECK(HasCause(causes, "spec.versions[0].schema.openAPIV3Schema", "Required value: schemas are required"));
  CHECK(HasCause(causes, "spec.versions[1].schema.openAPIV3Schema", "Required value: schemas are required"));
  bool unique = false;
  for (const auto& c : causes) unique = unique || c.message.find("must contain unique version names") != std::string::npos;
  CHECK(unique);

  causes = ValidateCrdYaml(R"(
metadata: {name: things.example.com}
spec: {group: example.com, scope: Cluster, names: {plural: things, kind: Thing}}
)");
  INFO(Describe(causes));
  CHECK(HasCause(causes, "status.storedVersions", "Invalid value: []string(nil): must have at least one stored version"));
}

TEST_CASE("non-structural schemas are rejected with Kubernetes' causes") {
  auto crd_with_schema = [](const std::string& schema_yaml) {
    return ValidateCrdYaml(R"(
metadata: {name: things.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: things, kind: Thing}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
)" + schema_yaml);
  };
  std::vector<StatusCause> causes = crd_with_schema(R"(
        type: object
        properties:
          spec:
            properties:
              replicas: {type: integer}
)");
  ExpectOnly(causes, {"FieldValueRequired", "Required value: must not be empty for specified object fields",
                      "spec.validation.openAPIV3Schema.properties[spec].type"});

  causes = crd_with_schema(R"(
        properties:
          spec: {type: object}
)");
  ExpectOnly(causes, {"FieldValueRequired", "Required value: must not be empty at the root",
                      "spec.validation.openAPIV3Schema.type"});

  causes = crd_with_schema(R"(
        type: object
        properties:
          spec:
            type: object
            anyOf:
            - type: object
              properties:
                extra: {type: string}
)");
  INFO(Describe(causes));
  CHECK(HasCause(causes, "spec.validation.openAPIV3Schema.properties[spec].anyOf[0].type",
                 "Forbidden: must be empty to be structural"));

  causes = crd_with_schema(R"(
        type: object
        anyOf:
        - properties:
            extra: {minLength: 1}
)");
  INFO(Describe(causes));
  CHECK(HasCause(causes, "spec.validation.openAPIV3Schema.properties[extra]",
                 "Required value: because it is defined in spec.validation.openAPIV3Schema.anyOf[0].properties[extra]"));

  causes = crd_with_schema(R"(
        type: object
        properties:
          list:
            type: array
            uniqueItems: true
            items: {type: string}
          ref:
            $ref: '#/definitions/x'
          arr:
            type: array
          bad:
            type: string
            pattern: '(abc'
          meta: {type: object, additionalProperties: {type: string}, properties: {a: {type: string}}}
          metadata:
            type: object
            properties:
              labels: {type: object}
)");
  INFO(Describe(causes));
  CHECK(HasCause(causes, "spec.validation.openAPIV3Schema.properties[list].uniqueItems",
                 "Forbidden: uniqueItems cannot be set to true since the runtime complexity becomes quadratic"));
  CHECK(HasCause(causes, "spec.validation.openAPIV3Schema.properties[ref].$ref", "Forbidden: $ref is not supported"));
  CHECK(HasCause(causes, "spec.validation.openAPIV3Schema.properties[arr].items", "Required value: must be specified"));
  CHECK(HasCause(causes, "spec.validation.openAPIV3Schema.properties[bad].pattern",
                 "Invalid value: \"(abc\": must be a valid regular expression, but isn't: error parsing regexp: "
                 "missing closing ): `(abc`"));
  CHECK(HasCause(causes, "spec.validation.openAPIV3Schema.properties[meta].additionalProperties",
                 "Forbidden: additionalProperties and properties are mutual exclusive"));
  CHECK(HasCause(causes, "spec.validation.openAPIV3Schema.properties[metadata]",
                 "Forbidden: must not specify anything other than name and generateName, but metadata is implicitly "
                 "specified"));

  causes = crd_with_schema(R"(
        type: object
        properties:
          metadata:
            type: object
            properties:
              name: {type: string, default: x}
          spec:
            type: object
            properties:
              replicas: {type: integer, default: "three", maximum: 3}
              size: {type: integer, default: 9, maximum: 3}
              obj: {type: object, default: {a: 1}, properties: {b: {type: integer}}}
)");
  INFO(Describe(causes));
  CHECK(HasCause(causes, "spec.validation.openAPIV3Schema.properties[metadata].properties[name].default",
                 "Forbidden: must not be set in top-level metadata"));
  CHECK(HasCause(causes, "spec.validation.openAPIV3Schema.properties[spec].properties[replicas].default",
                 "Invalid value: \"string\":  in body must be of type integer: \"string\""));
  CHECK(HasCause(causes, "spec.validation.openAPIV3Schema.properties[spec].properties[size].default",
                 "Invalid value: 9:  in body should be less than or equal to 3"));
  CHECK(HasCause(causes, "spec.validation.openAPIV3Schema.properties[spec].properties[obj].default",
                 "Invalid value: map[string]interface {}{\"a\":1}: must not have unknown fields"));
}

TEST_CASE("list types, int-or-string and status root rules") {
  std::vector<StatusCause> causes = ValidateCrdYaml(R"(
metadata: {name: things.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: things, kind: Thing}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    schema:
      openAPIV3Schema:
        type: object
        maxProperties: 4
        properties:
          m:
            type: array
            x-kubernetes-list-type: map
            x-kubernetes-list-map-keys: [key, missing]
            items:
              type: object
              properties:
                key: {type: string}
          s:
            type: string
            x-kubernetes-list-type: set
          p:
            type: string
            x-kubernetes-preserve-unknown-fields: false
          ios:
            x-kubernetes-int-or-string: true
            anyOf: [{type: integer}, {type: string}]
)");
  INFO(Describe(causes));
  CHECK(HasCause(causes, "spec.validation.openAPIV3Schema",
                 causes.empty() ? "" : causes[0].message));  // the status root rule comes first
  CHECK(causes[0].message.find("fields are allowed at the root of the schema if the status subresource is enabled") !=
        std::string::npos);
  CHECK(HasCause(causes, "spec.validation.openAPIV3Schema.properties[m].x-kubernetes-list-map-keys",
                 "Invalid value: []string{\"key\", \"missing\"}: entries must all be names of item properties"));
  CHECK(HasCause(causes, "spec.validation.openAPIV3Schema.properties[m].items.properties[key].default",
                 "Required value: this property is in x-kubernetes-list-map-keys, so it must have a default or be a "
                 "required property"));
  CHECK(HasCause(causes, "spec.validation.openAPIV3Schema.properties[s].type",
                 "Invalid value: \"string\": must be array if x-kubernetes-list-type is specified"));
  CHECK(HasCause(causes, "spec.validation.openAPIV3Schema.properties[p].x-kubernetes-preserve-unknown-fields",
                 "Invalid value: false: must be true or undefined"));
  for (const auto& c : causes) CHECK(c.field.find("properties[ios]") == std::string::npos);  // the allowed pattern
}

TEST_CASE("subresources, printer columns and conversion") {
  std::string yaml = kCronTabCrd;
  std::vector<StatusCause> causes =
      ValidateCrdYaml(std::string(yaml).replace(yaml.find("specReplicasPath: .spec.replicas"), 32,
                                                "specReplicasPath: .status.replicas"));
  INFO(Describe(causes));
  CHECK(HasCause(causes, "spec.subresources.scale.specReplicasPath",
                 "Invalid value: \".status.replicas\": should be a json path under .spec"));

  causes = ValidateCrdYaml(std::string(yaml).replace(yaml.find("type: date\n"), 10, "type: time"));
  INFO(Describe(causes));
  CHECK(HasCause(causes, "spec.additionalPrinterColumns[2].type",
                 "Invalid value: \"time\": must be one of boolean,date,integer,number,string"));

  causes = ValidateCrdYaml(std::string(yaml).replace(yaml.find("jsonPath: .spec.cronSpec"), 24, "jsonPath: spec.cronSpec"));
  INFO(Describe(causes));
  CHECK(HasCause(causes, "spec.additionalPrinterColumns[0].JSONPath",
                 "Invalid value: \"spec.cronSpec\": must be a simple json path starting with ."));

  causes = ValidateCrdYaml(yaml + "  conversion:\n    strategy: Webhook\n");
  INFO(Describe(causes));
  CHECK(HasCause(causes, "spec.conversion.strategy", "Unsupported value: \"Webhook\": supported values: \"None\""));

  causes = ValidateCrdYaml(yaml + "  preserveUnknownFields: true\n");
  CHECK(HasCause(causes, "spec.preserveUnknownFields",
                 "Invalid value: true: cannot set to true, set x-kubernetes-preserve-unknown-fields to true in "
                 "spec.versions[*].schema instead"));
}

TEST_CASE("per-version schemas are reported per version") {
  std::vector<StatusCause> causes = ValidateCrdYaml(R"(
metadata: {name: things.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: things, kind: Thing}
  versions:
  - name: v1
    served: true
    storage: false
    schema: {openAPIV3Schema: {type: object}}
  - name: v2
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, properties: {a: {}}}}
)");
  ExpectOnly(causes, {"FieldValueRequired", "Required value: must not be empty for specified object fields",
                      "spec.versions[1].schema.openAPIV3Schema.properties[a].type"});
}

TEST_CASE("updates: immutable fields and stored versions") {
  rapidjson::Document old = CronTabCrd();
  SetAcceptedStatus(old, old.GetAllocator(), {}, "2024-05-01T10:00:00Z");
  std::string yaml = kCronTabCrd;

  std::vector<StatusCause> causes =
      ValidateCrdYaml(std::string(yaml).replace(yaml.find("scope: Namespaced"), 17, "scope: Cluster"), &old);
  INFO(Describe(causes));
  CHECK(HasCause(causes, "spec.scope", "Invalid value: \"Cluster\": field is immutable"));

  // v1 is in status.storedVersions: replacing it by v2 needs a storage migration first.
  std::string renamed = std::string(yaml).replace(yaml.find("- name: v1"), 10, "- name: v2");
  causes = ValidateCrdYaml(renamed, &old);
  INFO(Describe(causes));
  CHECK(HasCause(causes, "status.storedVersions[0]",
                 "Invalid value: \"v1\": missing from spec.versions; v1 was previously a storage version, and must "
                 "remain in spec.versions until a storage migration ensures no data remains persisted in v1 and "
                 "removes v1 from status.storedVersions"));
  // The same change on create is fine.
  CHECK(ValidateCrdYaml(renamed).empty());
}

TEST_CASE("protected groups need the approval annotation") {
  std::vector<StatusCause> causes = ValidateCrdYaml(R"(
metadata: {name: things.x.k8s.io}
spec:
  group: x.k8s.io
  scope: Cluster
  names: {plural: things, kind: Thing}
  versions:
  - {name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object}}}
)");
  ExpectOnly(causes, {"FieldValueRequired",
                      "Required value: protected groups must have approval annotation \"api-approved.kubernetes.io\", "
                      "see https://github.com/kubernetes/enhancements/pull/1111",
                      "metadata.annotations[api-approved.kubernetes.io]"});
}

// ---------------------------------------------------------------------------------------
// Status

TEST_CASE("accepted status: names, conditions, stored versions") {
  rapidjson::Document crd = CronTabCrd();
  SetAcceptedStatus(crd, crd.GetAllocator(), {}, "2024-05-01T10:00:00Z");
  const rapidjson::Value& status = crd["status"];
  CHECK(json::ToJson(status["acceptedNames"]) ==
        R"({"plural":"crontabs","singular":"crontab","shortNames":["ct"],"kind":"CronTab","listKind":"CronTabList","categories":["all"]})");
  CHECK(json::ToJson(status["conditions"]) ==
        R"([{"type":"NamesAccepted","status":"True","lastTransitionTime":"2024-05-01T10:00:00Z","reason":"NoConflicts","message":"no conflicts found"},)"
        R"({"type":"Established","status":"True","lastTransitionTime":"2024-05-01T10:00:00Z","reason":"InitialNamesAccepted","message":"the initial names have been accepted"}])");
  CHECK(json::ToJson(status["storedVersions"]) == R"(["v1"])");

  // Again later: nothing changes state, so the transition times stay.
  SetAcceptedStatus(crd, crd.GetAllocator(), {}, "2024-05-02T10:00:00Z");
  CHECK(std::string(crd["status"]["conditions"][0]["lastTransitionTime"].GetString()) == "2024-05-01T10:00:00Z");

  // Another CRD of the group claims the plural "crontabs" first.
  rapidjson::Document other = Yaml(R"(
metadata: {name: crontabs2.stable.example.com}
spec: {group: stable.example.com}
status:
  acceptedNames: {plural: crontabs, singular: crontab2, kind: CronTab2, listKind: CronTab2List}
)");
  rapidjson::Document fresh = CronTabCrd();
  SetAcceptedStatus(fresh, fresh.GetAllocator(), {&other}, "2024-05-01T10:00:00Z");
  const rapidjson::Value& conds = fresh["status"]["conditions"];
  CHECK(std::string(conds[0]["status"].GetString()) == "False");
  CHECK(std::string(conds[0]["reason"].GetString()) == "PluralConflict");
  CHECK(std::string(conds[0]["message"].GetString()) == "\"crontabs\" is already in use");
  CHECK(std::string(conds[1]["type"].GetString()) == "Established");
  CHECK(std::string(conds[1]["status"].GetString()) == "False");
  CHECK(std::string(conds[1]["reason"].GetString()) == "NotAccepted");
  CHECK(std::string(fresh["status"]["acceptedNames"]["plural"].GetString()).empty());
  CHECK(std::string(fresh["status"]["acceptedNames"]["kind"].GetString()) == "CronTab");
}

// ---------------------------------------------------------------------------------------
// Adversarial input

std::string Nested(int depth, const std::string& leaf) {
  std::string s;
  for (int i = 0; i < depth; ++i) s += R"({"a":)";
  s += leaf;
  s.append(static_cast<size_t>(depth), '}');
  return s;
}

TEST_CASE("a 10000-deep object never exhausts the stack") {
  StructuralSchema schema = CronTab();
  std::string deep = Nested(10000, "1");
  // Under preserve-unknown-fields, inside an untyped known field, and unknown entirely.
  for (const std::string& spec : {R"({"image":"x","config":{"deep":)" + deep + "}}",
                                  R"({"image":"x","template":{"apiVersion":"v1","kind":"X","deep":)" + deep + "}}",
                                  R"({"image":"x","unknown":)" + deep + "}",
                                  R"({"image":"x","port":)" + deep + "}",
                                  R"({"image":"x","tags":[)" + std::string(10000, '[') + std::string(10000, ']') + "]}"}) {
    rapidjson::Document obj = Json(R"({"apiVersion":"stable.example.com/v1","kind":"CronTab","metadata":{"name":"c"},"spec":)" +
                                   spec + "}");
    (void)schema.Validate(obj);
    (void)schema.Prune(obj, obj.GetAllocator());
    schema.ApplyDefaults(obj, obj.GetAllocator());
    (void)schema.Validate(obj);
  }
  // Pruning an unknown 10000-deep array of arrays of objects.
  rapidjson::Document obj = Json(R"({"spec":{"image":"x","settings":{"mode":)" + std::string(10000, '[') +
                                 R"({"a":1})" + std::string(10000, ']') + "}}}");
  (void)schema.Prune(obj, obj.GetAllocator());
  // A deep set item and deep enum candidates compare without recursion.
  rapidjson::Document set_obj =
      Json(R"({"spec":{"image":"x","tags":[)" + deep + "," + deep + R"(],"policy":)" + deep + "}}");
  std::vector<StatusCause> causes = schema.Validate(set_obj);
  CHECK_FALSE(causes.empty());
}

TEST_CASE("a deeply nested schema is rejected with a clear error") {
  std::string deep;
  for (int i = 0; i < 10000; ++i) deep += R"({"type":"object","properties":{"a":)";
  deep += R"({"type":"string"})";
  for (int i = 0; i < 10000; ++i) deep += "}}";
  rapidjson::Document schema = Json(deep);
  Result<StructuralSchema> compiled = StructuralSchema::Compile(schema);
  REQUIRE_FALSE(compiled.ok());
  CHECK(compiled.status().message().find("must not be nested more than 100 levels deep") != std::string::npos);

  rapidjson::Document crd = CronTabCrd();
  rapidjson::Value copy;
  DeepCopy(schema, copy, crd.GetAllocator());  // rapidjson's CopyFrom would recurse 20000 deep
  crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"] = copy;
  std::vector<StatusCause> causes = ValidateCrd(crd, nullptr);
  bool found = false;
  for (const auto& c : causes) found = found || c.message == "Forbidden: must not be nested more than 100 levels deep";
  CHECK(found);
}

TEST_CASE("long strings against patterns and formats") {
  StructuralSchema schema = CronTab();
  std::string long_spec(256 * 1024, '1');  // far beyond what a recursive matcher survives
  std::vector<StatusCause> causes =
      ValidateSpec(schema, R"({"image":"x","cronSpec":")" + long_spec + R"(","start":")" + long_spec + "\"}");
  INFO(Describe(causes).substr(0, 500));
  CHECK(causes.size() == 2);
}

TEST_CASE("random values never crash validation, pruning or defaulting") {
  StructuralSchema schema = CronTab();
  const char* pieces[] = {"null", "true", "1", "-7", "1.5", "1e300", "\"x\"", "\"2024-01-01T00:00:00Z\"", "[]", "{}",
                          "[null]", "{\"name\":null}", "[\"a\",\"a\"]", "[{\"name\":\"a\"},{\"name\":\"a\"}]"};
  const char* fields[] = {"cronSpec", "image", "name",  "replicas", "step",   "ratio", "policy",  "start",
                          "port",     "tags",  "ports", "labels",   "note",   "comment", "settings", "config",
                          "template", "items", "zzz"};
  uint32_t seed = 12345;
  auto next = [&]() {
    seed = seed * 1103515245 + 12345;
    return (seed >> 8) & 0xFFFF;
  };
  for (int round = 0; round < 500; ++round) {
    std::string spec = "{";
    int n = static_cast<int>(next() % 6);
    for (int i = 0; i < n; ++i) {
      if (i) spec += ",";
      spec += "\"" + std::string(fields[next() % 19]) + "\":" + pieces[next() % 14];
    }
    spec += "}";
    std::string text = next() % 5 == 0 ? std::string(pieces[next() % 14]) : spec;
    rapidjson::Document obj = Json(R"({"apiVersion":"stable.example.com/v1","kind":"CronTab","spec":)" + text + "}");
    (void)schema.Validate(obj);
    (void)schema.Prune(obj, obj.GetAllocator());
    schema.ApplyDefaults(obj, obj.GetAllocator());
    (void)schema.Validate(obj);
  }
  // Whole documents that are not objects.
  for (const char* text : {"null", "[]", "\"s\"", "3"}) {
    rapidjson::Document obj = Json(text);
    (void)schema.Validate(obj);
    (void)schema.Prune(obj, obj.GetAllocator());
    schema.ApplyDefaults(obj, obj.GetAllocator());
    rapidjson::Document crd = Json(text);
    (void)ValidateCrd(crd, nullptr);
    CHECK_FALSE(ServedVersionsOf(crd).ok());
  }
}

TEST_CASE("mistyped CRD members give causes, not crashes") {
  std::vector<StatusCause> causes = ValidateCrdYaml(R"(
metadata: {name: things.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: things, kind: Thing, shortNames: [1]}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        maximum: high
        required: yes
        properties: [a]
  - 7
)");
  INFO(Describe(causes));
  CHECK(HasCause(causes, "spec.versions[0].schema.openAPIV3Schema.maximum", "Invalid value: \"high\": must be a number"));
  CHECK(HasCause(causes, "spec.versions[1]", "Invalid value: 7: must be an object"));
}

}  // namespace kite::crd
