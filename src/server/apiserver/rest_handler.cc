#include "src/server/apiserver/rest_handler.h"

#include <rapidjson/document.h>

#include <cstdio>
#include <ctime>
#include <optional>
#include <random>

#include "src/server/apiserver/admission_plugins.h"
#include "src/server/apiserver/field_validation.h"
#include "src/server/apiserver/node_proxy.h"
#include "src/server/admission/admission.h"
#include "src/server/admission/event_validation.h"
#include "src/server/apply/apply.h"
#include "src/server/crd/crd_validation.h"
#include "src/server/crd/scale_paths.h"
#include "src/server/json/json_util.h"
#include "src/server/apiserver/object_codec.h"
#include "src/server/apiserver/version_conversion.h"
#include "src/server/validation/object_meta_validation.h"
#include "src/server/patch/json_patch.h"
#include "src/server/patch/merge_patch.h"
#include "src/server/patch/strategic_merge_patch.h"
#include "src/server/schema/schema_registry.h"
#include "src/server/selection/field_selector.h"
#include "src/server/selection/label_selector.h"
#include "src/server/tables/table_printer.h"
#include "src/store/continue_token.h"

namespace kite::apiserver {
using namespace kite::json;  // NOLINT: the JSON helpers are this layer's vocabulary
namespace {

using rapidjson::Document;
using rapidjson::Value;

constexpr int kMaxUpdateAttempts = 8;
constexpr int kMaxListLimit = 100000;

GroupResource GR(const RestRequest& r) { return {r.resource->group, r.resource->resource}; }

bool HasSubresource(const resources::ResourceInfo& info, std::string_view name) {
  for (const auto& s : info.subresources) {
    if (s.name == name) return true;
  }
  return false;
}

// Kinds whose metadata.generation counts spec changes (their strategies set it).
bool TracksGeneration(const resources::ResourceInfo& info) {
  static const char* const kResources[] = {
      "deployments", "replicasets", "statefulsets", "daemonsets", "jobs", "cronjobs",
      "replicationcontrollers", "horizontalpodautoscalers", "poddisruptionbudgets",
      "customresourcedefinitions", "networkpolicies", "ingresses"};
  for (const char* r : kResources) {
    if (info.resource == r) return true;
  }
  return false;
}

std::mt19937_64& Rng() {
  thread_local std::mt19937_64 rng(std::random_device{}());
  return rng;
}

bool IsDryRun(const RestRequest& r) { return r.query.Get("dryRun") == "All"; }

constexpr char kCrdCleanupFinalizer[] = "customresourcecleanup.apiextensions.k8s.io";

// Events live for the configured TTL after each write; every other object until deleted.
store::WriteOptions WriteOptionsFor(const RestRequest& r, std::chrono::milliseconds event_ttl) {
  store::WriteOptions options;
  if (r.resource->resource == "events" && (r.resource->group.empty() || r.resource->group == "events.k8s.io")) {
    options.ttl = event_ttl;
  }
  return options;
}

bool IsApply(const RestRequest& r) {
  return r.info.verb == "patch" && r.http &&
         r.http->Header("content-type").starts_with("application/apply-patch+yaml");
}

// Who a write is recorded as in managedFields: the fieldManager parameter, or the client's
// User-Agent up to its first "/" (Kubernetes' default: "kubectl", "OpenAPI-Generator").
apply::ManagerIdentity ManagerOf(const RestRequest& r, std::string time) {
  std::string manager = r.query.Get("fieldManager");
  if (manager.empty() && r.http) {
    std::string_view agent = r.http->Header("user-agent");
    manager = std::string(agent.substr(0, agent.find('/')));
    if (manager.size() > 128) manager.resize(128);
  }
  std::string subresource = r.info.subresource == "status" ? "status" : "";
  return {std::move(manager), r.resource->GroupVersion(), std::move(subresource), std::move(time)};
}

apply::ApplyScope ScopeOf(const RestRequest& r) {
  if (r.info.subresource == "status") return apply::ApplyScope::StatusSubresource();
  return apply::ApplyScope::MainResource(r.resource->FindSubresource("status") != nullptr);
}

std::string ObjectName(const Value& object) {
  if (const Value* md = Member(object, "metadata")) return std::string(StringMember(*md, "name"));
  return {};
}

// The name an admission refusal quotes: the name, else generateName, else "Unknown"
// (Kubernetes' admission.NewForbidden).
std::string NameForRefusal(const Value& object) {
  if (const Value* md = Member(object, "metadata")) {
    if (!StringMember(*md, "name").empty()) return std::string(StringMember(*md, "name"));
    if (!StringMember(*md, "generateName").empty()) return std::string(StringMember(*md, "generateName"));
  }
  return "Unknown";
}

std::string StorageGroup(const RestRequest& r);  // in the version conversion part below

std::string KeyOf(const RestRequest& r, std::string_view name) {
  return ObjectKey(StorageGroup(r), r.resource->resource,
                   r.resource->namespaced ? r.info.namespace_name : "", name);
}

// Everything of the object but metadata and status: what metadata.generation counts.
bool SpecChanged(const Value& before, const Value& after) {
  auto strip = [](const Value& v) {
    Document d;
    d.CopyFrom(v, d.GetAllocator());
    RemoveMember(d, "metadata");
    RemoveMember(d, "status");
    return d;
  };
  return strip(before) != strip(after);
}

int64_t GenerationOf(const Value& object) {
  const Value* md = Member(object, "metadata");
  const Value* g = md ? Member(*md, "generation") : nullptr;
  return g && g->IsInt64() ? g->GetInt64() : 0;
}

std::string ResourceVersionOf(const Value& object) {
  const Value* md = Member(object, "metadata");
  return md ? std::string(StringMember(*md, "resourceVersion")) : std::string();
}

bool HasFinalizer(const Value& object, std::string_view name) {
  const Value* md = Member(object, "metadata");
  const Value* f = md ? Member(*md, "finalizers") : nullptr;
  if (!f || !f->IsArray()) return false;
  for (const Value& v : f->GetArray()) {
    if (v.IsString() && std::string_view(v.GetString(), v.GetStringLength()) == name) return true;
  }
  return false;
}

bool HasFinalizers(const Value& object) {
  const Value* md = Member(object, "metadata");
  const Value* f = md ? Member(*md, "finalizers") : nullptr;
  return f && f->IsArray() && !f->Empty();
}

bool IsNamespaceResource(const RestRequest& r) {
  return r.resource->group.empty() && r.resource->resource == "namespaces";
}

// A namespace also waits for its spec.finalizers ("kubernetes": the namespace controller
// empties it, then removes that through namespaces/{name}/finalize).
bool HeldBySpecFinalizers(const RestRequest& r, const Value& object) {
  if (!IsNamespaceResource(r)) return false;
  const Value* spec = Member(object, "spec");
  const Value* f = spec ? Member(*spec, "finalizers") : nullptr;
  return f && f->IsArray() && !f->Empty();
}

bool IsBeingDeleted(const Value& object) {
  const Value* md = Member(object, "metadata");
  const Value* d = md ? Member(*md, "deletionTimestamp") : nullptr;
  return d && d->IsString();
}

// apiVersion and kind must match the endpoint; absent ones are filled in from it.
std::optional<ApiError> CheckTypeMeta(const resources::ResourceInfo& info, Document& object,
                                      std::string_view kind, std::string_view api_version) {
  auto& a = object.GetAllocator();
  std::string_view got_version = StringMember(object, "apiVersion");
  std::string_view got_kind = StringMember(object, "kind");
  if (got_version.empty()) {
    SetStringMember(object, "apiVersion", api_version, a);
  } else if (got_version != api_version) {
    return BadRequestError("the API version in the data (" + std::string(got_version) +
                           ") does not match the expected API version (" +
                           std::string(api_version) + ")");
  }
  if (got_kind.empty()) {
    SetStringMember(object, "kind", kind, a);
  } else if (got_kind != kind) {
    return BadRequestError("the kind in the data (" + std::string(got_kind) +
                           ") does not match the expected kind (" + std::string(kind) + ")");
  }
  (void)info;
  return std::nullopt;
}

// metadata.namespace must match the URL's; cluster-scoped objects carry none.
std::optional<ApiError> CheckNamespace(const RestRequest& r, Document& object) {
  Value& md = EnsureObjectMember(object, "metadata", object.GetAllocator());
  if (!r.resource->namespaced) {
    RemoveMember(md, "namespace");
    return std::nullopt;
  }
  std::string_view ns = StringMember(md, "namespace");
  if (ns.empty()) {
    SetStringMember(md, "namespace", r.info.namespace_name, object.GetAllocator());
  } else if (ns != r.info.namespace_name) {
    return BadRequestError(
        "the namespace of the provided object does not match the namespace sent on the request");
  }
  return std::nullopt;
}

std::optional<ApiError> CheckNamespaceUsable(const RestRequest& r, store::KvStore* kv) {
  if (!r.resource->namespaced) return std::nullopt;
  Result<store::KeyValue> ns = kv->Get(ObjectKey("", "namespaces", "", r.info.namespace_name));
  if (!ns.ok()) {
    if (ns.status().code() == StatusCode::kNotFound) {
      return NotFoundError({"", "namespaces"}, r.info.namespace_name);
    }
    return InternalServerError(ns.status().message());
  }
  if (ns->value.find("\"deletionTimestamp\"") != std::string::npos) {
    Result<Document> doc = ParseJsonObject(ns->value);
    if (doc.ok() && IsBeingDeleted(*doc)) {
      ApiError e = ForbiddenError(GR(r), "",
                                  "unable to create new content in namespace " +
                                      r.info.namespace_name + " because it is being terminated");
      e.reason = "Forbidden";
      return e;
    }
  }
  return std::nullopt;
}

// Defaults every kind gets on create.
void DefaultOnCreate(const RestRequest& r, Document& object, int64_t now_ms) {
  auto& a = object.GetAllocator();
  Value& md = EnsureObjectMember(object, "metadata", a);
  SetStringMember(md, "uid", NewUid(), a);
  SetStringMember(md, "creationTimestamp", FormatRfc3339Seconds(now_ms), a);
  RemoveMember(md, "deletionTimestamp");
  RemoveMember(md, "deletionGracePeriodSeconds");
  RemoveMember(md, "resourceVersion");
  RemoveMember(md, "selfLink");
  if (TracksGeneration(*r.resource)) {
    SetMember(md, "generation", Value(int64_t{1}), a);
  } else {
    RemoveMember(md, "generation");
  }
  if (r.resource->group.empty() && r.resource->resource == "namespaces") {
    Value& spec = EnsureObjectMember(object, "spec", a);
    if (!Member(spec, "finalizers")) {
      Value finalizers(rapidjson::kArrayType);
      finalizers.PushBack(Value("kubernetes"), a);
      SetMember(spec, "finalizers", std::move(finalizers), a);
    }
    Value& status = EnsureObjectMember(object, "status", a);
    SetStringMember(status, "phase", "Active", a);
  }
}

// Carries what an update may not change over from the stored object.
void PreserveOnUpdate(const RestRequest& r, const Value& current, Document& updated,
                      bool status_only) {
  auto& a = updated.GetAllocator();
  const Value* old_md = Member(current, "metadata");
  Value& md = EnsureObjectMember(updated, "metadata", a);
  for (const char* field : {"uid", "creationTimestamp", "deletionTimestamp",
                            "deletionGracePeriodSeconds", "generation", "namespace", "name"}) {
    const Value* old_value = old_md ? Member(*old_md, field) : nullptr;
    if (old_value) {
      SetMember(md, field, Value(*old_value, a), a);
    } else {
      RemoveMember(md, field);
    }
  }
  if (status_only) return;
  // With a status subresource, the main resource cannot change status (a binding can: it
  // sets PodScheduled).
  if (HasSubresource(*r.resource, "status") && r.info.subresource != "binding") {
    if (const Value* old_status = Member(current, "status")) {
      SetMember(updated, "status", Value(*old_status, a), a);
    } else {
      RemoveMember(updated, "status");
    }
  }
  if (TracksGeneration(*r.resource) && SpecChanged(current, updated)) {
    SetMember(md, "generation", Value(GenerationOf(current) + 1), a);
  }
}

std::string ListKindJsonPrefix(const resources::ResourceInfo& info) {
  return "{\"kind\":\"" + info.list_kind + "\",\"apiVersion\":\"" + info.GroupVersion() +
         "\",\"metadata\":{";
}

// Label and field selectors of a list or watch; null filter when there are none.
struct Selectors {
  std::optional<selection::LabelSelector> labels;
  std::optional<selection::FieldSelector> fields;
  bool Empty() const { return !labels && !fields; }
  bool Matches(const Value& object) const {
    if (labels && !labels->MatchesObject(object)) return false;
    if (fields && !fields->Matches(object)) return false;
    return true;
  }
};

ApiResult<Selectors> ParseSelectors(const RestRequest& r) {
  Selectors s;
  if (!r.query.Get("labelSelector").empty()) {
    Result<selection::LabelSelector> l = selection::LabelSelector::Parse(r.query.Get("labelSelector"));
    if (!l.ok()) return BadRequestError(l.status().message());
    if (!l->Empty()) s.labels = std::move(l).value();
  }
  if (!r.query.Get("fieldSelector").empty()) {
    Result<selection::FieldSelector> f = selection::FieldSelector::Parse(
        r.query.Get("fieldSelector"),
        selection::SupportedFieldSelectors(r.resource->group, r.resource->resource));
    if (!f.ok()) return BadRequestError(f.status().message());
    s.fields = std::move(f).value();
  }
  return s;
}

// Serializes a Table of `objects` (already with resourceVersion) for the resource.
std::string TableOf(const resources::ResourceInfo& info, const CustomResourceServing* custom,
                    const std::vector<std::string>& objects, const Value* list_metadata,
                    bool column_definitions, const QueryParams& q, int64_t now_ms) {
  std::vector<Document> docs;
  docs.reserve(objects.size());
  std::vector<const Value*> pointers;
  for (const std::string& json : objects) {
    Result<Document> d = ParseJsonObject(json);
    if (!d.ok()) continue;
    docs.push_back(std::move(d).value());
  }
  for (const Document& d : docs) pointers.push_back(&d);
  tables::TableOptions options;
  options.include_column_definitions = column_definitions;
  const std::string& include = q.Get("includeObject");
  if (include == "None") options.include_object = tables::IncludeObject::kNone;
  if (include == "Object") options.include_object = tables::IncludeObject::kObject;
  options.now = std::chrono::system_clock::time_point(std::chrono::milliseconds(now_ms));
  Document out;
  if (custom) {
    Status built = tables::BuildCustomTable(custom->columns, pointers, list_metadata, options, out);
    if (!built.ok()) return InternalServerError(built.message()).ToJson();
  } else {
    tables::BuildTable(info.group, info.kind, pointers, list_metadata, options, out);
  }
  return ToJson(out);
}

// Version conversion (version_conversion.h): kinds served at several versions are stored
// at one; bodies are converted on the way in, stored objects on the way out.
const VersionConversions* ConversionsFor(const RestRequest& r) {
  const VersionConversions& c = VersionConversions::Builtin();
  if (r.custom || c.StorageVersion(r.resource->group, r.resource->kind).empty()) return nullptr;
  return &c;
}

std::optional<ApiError> ToStorageVersion(const RestRequest& r, Document& object) {
  const VersionConversions* c = ConversionsFor(r);
  if (!c) return std::nullopt;
  Status s = c->ConvertToStorage(r.resource->group, r.resource->kind, object);
  if (!s.ok()) return BadRequestError(s.message());
  return std::nullopt;
}

std::optional<ApiError> ToRequestVersion(const RestRequest& r, Document& object) {
  const VersionConversions* c = ConversionsFor(r);
  if (!c) return std::nullopt;
  Status s = c->ConvertTo(r.resource->group, r.resource->kind, r.resource->version, object);
  if (!s.ok()) return InternalServerError("converting the stored object: " + s.message());
  return std::nullopt;
}

// A stored object's JSON at the request's version (unchanged if it cannot be converted).
std::string ToRequestVersionJson(const RestRequest& r, std::string object_json) {
  const VersionConversions* c = ConversionsFor(r);
  if (!c) return object_json;
  Result<std::string> converted =
      c->ConvertJsonTo(r.resource->group, r.resource->kind, r.resource->version, object_json);
  return converted.ok() ? std::move(converted).value() : object_json;
}

// The version admission defaults and validates at: the stored one.
std::string AdmissionVersion(const RestRequest& r) {
  const VersionConversions* c = ConversionsFor(r);
  return c ? std::string(c->StorageVersion(r.resource->group, r.resource->kind)) : r.resource->version;
}

// The group whose keys hold the objects (and that admission sees them as): the request's,
// unless its kind is stored under another group (events.k8s.io Events are core Events).
std::string StorageGroup(const RestRequest& r) {
  const VersionConversions* c = ConversionsFor(r);
  return c ? std::string(c->StorageGroup(r.resource->group, r.resource->kind)) : r.resource->group;
}

http::HandlerResult ObjectResponse(const RestRequest& r, int status, std::string object_json,
                                   int64_t now_ms) {
  object_json = ToRequestVersionJson(r, std::move(object_json));
  OutputKind kind = NegotiateObjectOutput(r.http->Header("accept"));
  if (kind == OutputKind::kNotAcceptable) return ErrorResponse(NotAcceptableError());
  if (kind == OutputKind::kTable) {
    return JsonResponse(status, TableOf(*r.resource, r.custom, {object_json}, nullptr, true, r.query, now_ms));
  }
  return JsonResponse(status, std::move(object_json));
}

// Prunes fields the kind's schema does not declare. fieldValidation=Strict makes them an
// error; Warn (the default) reports each as a warning; Ignore drops them silently.
std::optional<ApiError> ValidateFields(const RestRequest& r, Document& object,
                                       std::vector<std::string>& warnings) {
  const std::string& mode = r.query.Get("fieldValidation");
  if (!mode.empty() && mode != "Ignore" && mode != "Warn" && mode != "Strict") {
    return BadRequestError("fieldValidation must be one of \"Ignore\", \"Warn\", or \"Strict\"");
  }
  std::vector<std::string> unknown;
  if (r.custom && r.custom->schema) {
    unknown = r.custom->schema->Prune(object, object.GetAllocator());
  } else {
    const schema::MessageSchema* message = schema::SchemaRegistry::Builtin().FindKind(
        r.resource->group, r.resource->version, r.resource->kind);
    if (!message) return std::nullopt;
    unknown = PruneUnknownFields(object, *message);
  }
  if (unknown.empty() || mode == "Ignore") return std::nullopt;
  if (mode == "Strict") {
    std::string list;
    for (const std::string& path : unknown) {
      list += (list.empty() ? "" : ", ") + std::string("unknown field \"") + path + "\"";
    }
    return BadRequestError(r.resource->kind + " in version \"" + r.resource->version +
                           "\" cannot be handled as a " + r.resource->kind +
                           ": strict decoding error: " + list);
  }
  for (const std::string& path : unknown) warnings.push_back("unknown field \"" + path + "\"");
  return std::nullopt;
}

// Adds `Warning: 299 - "..."` headers, which kubectl prints as "Warning: ...".
http::HandlerResult WithWarnings(http::HandlerResult result, const std::vector<std::string>& warnings) {
  if (warnings.empty()) return result;
  auto* response = std::get_if<http::Response>(&result);
  if (!response) return result;
  for (const std::string& w : warnings) {
    std::string quoted;
    for (char c : w) {
      if (c == '"' || c == '\\') quoted.push_back('\\');
      quoted.push_back(c);
    }
    response->headers.emplace_back("Warning", "299 - \"" + quoted + "\"");
  }
  return result;
}

}  // namespace

http::Response JsonResponse(int status, std::string body) {
  http::Response response;
  response.status = status;
  response.content_type = "application/json";
  response.body = std::move(body);
  return response;
}

http::Response ErrorResponse(const ApiError& error) { return JsonResponse(error.code, error.ToJson()); }

RestHandler::RestHandler(RestDependencies deps) : deps_(std::move(deps)), plugins_(deps_.kv, deps_.clock) {}

http::HandlerResult RestHandler::Serve(const RestRequest& r) {
  const std::string& verb = r.info.verb;
  const std::string& sub = r.info.subresource;
  if (IsNodeProxySubresource(r.resource->group, r.resource->resource, sub)) {
    return ServeNodeProxy(r, deps_.kv, deps_.kubelet);  // answered by the pod's node agent
  }
  if (sub == "finalize") return FinalizeNamespace(r);
  if (!sub.empty() && sub != "status" && sub != "binding" && sub != "scale") {
    return ErrorResponse(NotFoundError(GR(r), r.info.name));  // served elsewhere (or not yet)
  }
  if (!sub.empty() && !HasSubresource(*r.resource, sub)) {
    return ErrorResponse(NotFoundError(GR(r), r.info.name));
  }
  if (sub == "scale") return Scale(r);
  if (sub == "binding") {
    if (verb != "create") return ErrorResponse(MethodNotAllowedError(verb, GR(r)));
    return Binding(r);
  }
  if (verb == "get") return Get(r);
  if (verb == "list") return List(r);
  if (verb == "watch") return Watch(r);
  if (verb == "create") {
    if (!sub.empty() || !r.info.name.empty()) return ErrorResponse(MethodNotAllowedError(verb, GR(r)));
    return Create(r);
  }
  if (verb == "update") return Update(r);
  if (verb == "patch") return Patch(r);
  if (verb == "delete") {
    if (!sub.empty()) return ErrorResponse(MethodNotAllowedError(verb, GR(r)));
    return Delete(r);
  }
  if (verb == "deletecollection") return DeleteCollection(r);
  return ErrorResponse(MethodNotAllowedError(verb, GR(r)));
}

http::HandlerResult RestHandler::Create(const RestRequest& r) {
  Result<Document> decoded = DecodeObjectBody(*r.http, deps_.protobuf);
  if (!decoded.ok()) {
    if (decoded.status().code() == StatusCode::kNotFound) {
      return ErrorResponse(UnsupportedMediaTypeError(r.http->Header("content-type")));
    }
    return ErrorResponse(BadRequestError(decoded.status().message()));
  }
  return CreateObject(r, std::move(decoded).value());
}

http::HandlerResult RestHandler::CreateObject(const RestRequest& r, Document object) {
  if (auto e = CheckTypeMeta(*r.resource, object, r.resource->kind, r.resource->GroupVersion())) {
    return ErrorResponse(*e);
  }
  std::vector<std::string> warnings;
  if (auto e = ValidateFields(r, object, warnings)) return ErrorResponse(*e);
  if (auto e = ToStorageVersion(r, object)) return ErrorResponse(*e);
  return WithWarnings(CreateValidated(r, std::move(object)), warnings);
}

http::HandlerResult RestHandler::CreateValidated(const RestRequest& r, Document object) {
  if (auto e = CheckNamespace(r, object)) return ErrorResponse(*e);
  std::vector<StatusCause> causes =
      validation::ValidateObjectMeta(object, validation::NameRuleFor(r.resource->group, r.resource->resource));
  if (!causes.empty()) {
    return ErrorResponse(InvalidError(r.resource->group, r.resource->kind, ObjectName(object),
                                      std::move(causes)));
  }
  if (auto e = CheckNamespaceUsable(r, deps_.kv)) return ErrorResponse(*e);
  int64_t now = deps_.clock->NowMillis();
  DefaultOnCreate(r, object, now);
  if (auto e = Admit(r, object, nullptr)) return ErrorResponse(*e);

  Value& md = *MutableMember(object, "metadata");
  std::string generate_name(StringMember(md, "generateName"));
  bool generated = ObjectName(object).empty();
  for (int attempt = 0; attempt < kMaxUpdateAttempts; ++attempt) {
    if (generated) {
      SetStringMember(md, "name", generate_name + RandomNameSuffix(), object.GetAllocator());
      std::vector<std::string> bad = validation::ValidateName(ObjectName(object),
                                                  validation::NameRuleFor(r.resource->group, r.resource->resource));
      if (!bad.empty()) {
        return ErrorResponse(InvalidError(r.resource->group, r.resource->kind, ObjectName(object),
                                          {InvalidCause("metadata.generateName", generate_name, bad[0])}));
      }
    }
    std::string name = ObjectName(object);
    std::string stored = EncodeForStorage(object);
    if (IsDryRun(r)) return ObjectResponse(r, 201, stored, now);
    Result<int64_t> revision = deps_.kv->Create(KeyOf(r, name), stored, WriteOptionsFor(r, deps_.event_ttl));
    if (revision.ok()) return ObjectResponse(r, 201, WithResourceVersion(stored, *revision), now);
    if (revision.status().code() == StatusCode::kAlreadyExists && generated) continue;
    return ErrorResponse(FromStoreStatus(revision.status(), GR(r), name));
  }
  return ErrorResponse(TimeoutError("could not generate a unique name for " + generate_name, 1));
}

std::optional<ApiError> RestHandler::Admit(const RestRequest& r, Document& object, const Value* old) {
  if (r.custom && r.custom->schema) {
    // Custom resources: the CRD's structural schema defaults and validates them.
    r.custom->schema->ApplyDefaults(object, object.GetAllocator());
    std::vector<StatusCause> causes = r.custom->schema->Validate(object);
    if (r.custom->scale) {
      // The scale paths must hold what a Scale can read, as upstream's strategy checks
      // (a status write only the status paths).
      std::vector<StatusCause> scale_causes;
      if (r.info.subresource.empty()) scale_causes = crd::ValidateScaleSpec(object, *r.custom->scale);
      std::vector<StatusCause> status_causes = crd::ValidateScaleStatus(object, *r.custom->scale);
      causes.insert(causes.end(), scale_causes.begin(), scale_causes.end());
      causes.insert(causes.end(), status_causes.begin(), status_causes.end());
    }
    if (!causes.empty()) return InvalidError(r.resource->group, r.resource->kind, ObjectName(object), std::move(causes));
  }
  if (r.custom && r.info.subresource.empty()) {
    // ResourceQuota counts custom resources too (count/<plural>.<group>, on create; never
    // cluster-scoped ones). No other plugin looks at them.
    std::string_view ns = r.resource->namespaced ? std::string_view(r.info.namespace_name) : std::string_view();
    AdmissionAttributes write{r.resource->group, r.resource->resource, r.resource->kind, ns, old, IsDryRun(r), {}};
    if (std::optional<std::string> refusal = plugins_.Refusal(write, object)) {
      return ForbiddenError(GR(r), NameForRefusal(object), std::move(*refusal));
    }
  }
  bool is_crd = r.resource->group == "apiextensions.k8s.io" && r.resource->resource == "customresourcedefinitions";
  if (is_crd && r.info.subresource.empty()) {
    crd::DefaultCrd(object, object.GetAllocator());
    if (!old) {
      // Deleting a CRD first deletes its objects (the crd controller), then the CRD.
      Value& md = EnsureObjectMember(object, "metadata", object.GetAllocator());
      if (!json::Member(md, "finalizers")) SetMember(md, "finalizers", Value(rapidjson::kArrayType), object.GetAllocator());
      Value* finalizers = MutableMember(md, "finalizers");
      if (finalizers->IsArray() && !HasFinalizer(object, kCrdCleanupFinalizer)) {
        finalizers->PushBack(Value(kCrdCleanupFinalizer, object.GetAllocator()), object.GetAllocator());
      }
    }
    std::vector<StatusCause> causes = crd::ValidateCrd(object, old);
    if (!causes.empty()) {
      return InvalidError("apiextensions.k8s.io", "CustomResourceDefinition", ObjectName(object), std::move(causes));
    }
  }
  bool writes_object = r.info.subresource.empty() || r.info.subresource == "status";
  if (!r.custom && writes_object) {
    // Built-in kinds: Kubernetes' defaults, the admission plugins that fill in pods, then
    // the kind's validation.
    const std::string group = StorageGroup(r);  // the shape the object now has
    const std::string version = AdmissionVersion(r);
    const std::string& kind = r.resource->kind;
    if (old) admission::PrepareForUpdate(group, version, kind, object, *old, object.GetAllocator());
    admission::ApplyDefaults(group, version, kind, object, object.GetAllocator());
    bool main_resource = r.info.subresource.empty();
    std::string_view ns = r.resource->namespaced ? std::string_view(r.info.namespace_name) : std::string_view();
    AdmissionAttributes write{r.resource->group, r.resource->resource, kind, ns, old, IsDryRun(r), {}};
    if (main_resource) plugins_.Mutate(write, object);
    std::vector<StatusCause> causes = admission::Validate(group, version, kind, object, old, r.info.subresource);
    if (group.empty() && kind == "Event") {
      // Event rules depend on the request's version (events.k8s.io/v1 is stricter).
      std::vector<StatusCause> event_causes = admission::ValidateEvent(object, old, r.resource->GroupVersion());
      causes.insert(causes.end(), event_causes.begin(), event_causes.end());
    }
    if (!causes.empty()) return InvalidError(group, kind, ObjectName(object), std::move(causes));
    if (main_resource) {
      if (std::optional<std::string> refusal = plugins_.Refusal(write, object)) {
        return ForbiddenError(GR(r), NameForRefusal(object), std::move(*refusal));
      }
    }
  }
  bool is_service = r.resource->group.empty() && r.resource->resource == "services";
  if (is_service && deps_.services && r.info.subresource.empty()) {
    std::vector<StatusCause> causes = deps_.services->Allocate(object, old);
    if (!causes.empty()) return InvalidError("", "Service", ObjectName(object), std::move(causes));
  }
  // Field ownership of every write but an apply (which recorded its own).
  if (!IsApply(r) && (r.info.subresource.empty() || r.info.subresource == "status")) {
    const patch::StrategicSchema* schema =
        deps_.strategic_schema ? deps_.strategic_schema(r.resource->group, r.resource->version, r.resource->kind)
                               : nullptr;
    Status tracked = apply::TrackUpdate(old, object, ManagerOf(r, FormatRfc3339Seconds(deps_.clock->NowMillis())),
                                        schema, ScopeOf(r));
    if (!tracked.ok()) return BadRequestError(tracked.message());
  }
  return std::nullopt;
}

http::HandlerResult RestHandler::Get(const RestRequest& r) {
  Result<store::KeyValue> kv = deps_.kv->Get(KeyOf(r, r.info.name));
  if (!kv.ok()) return ErrorResponse(FromStoreStatus(kv.status(), GR(r), r.info.name));
  return ObjectResponse(r, 200, WithResourceVersion(kv->value, kv->mod_revision),
                        deps_.clock->NowMillis());
}

http::HandlerResult RestHandler::List(const RestRequest& r) {
  ApiResult<Selectors> selectors = ParseSelectors(r);
  if (!selectors.ok()) return ErrorResponse(selectors.error());
  OutputKind output = NegotiateObjectOutput(r.http->Header("accept"));
  if (output == OutputKind::kNotAcceptable) return ErrorResponse(NotAcceptableError());

  int64_t limit = 0;
  if (!r.query.Get("limit").empty()) {
    limit = std::atoll(r.query.Get("limit").c_str());
    if (limit < 0) limit = 0;
    if (limit > kMaxListLimit) limit = kMaxListLimit;
  }
  const std::string& rv = r.query.Get("resourceVersion");
  const std::string& rv_match = r.query.Get("resourceVersionMatch");
  const std::string& continue_token = r.query.Get("continue");
  store::RangeRequest range = store::RangeRequest::Prefix(
      CollectionPrefix(StorageGroup(r), r.resource->resource,
                       r.resource->namespaced ? r.info.namespace_name : ""));
  if (!continue_token.empty()) {
    if (!rv.empty() && rv != "0") {
      return ErrorResponse(BadRequestError("specifying resource version is not allowed when using continue"));
    }
    range.continue_token = continue_token;
  } else if (!rv.empty() && rv != "0") {
    int64_t wanted = std::atoll(rv.c_str());
    if (wanted <= 0) return ErrorResponse(BadRequestError("invalid resource version: " + rv));
    if (rv_match == "Exact") {
      range.revision = wanted;
    } else if (wanted > deps_.kv->CurrentRevision()) {
      return ErrorResponse(TimeoutError("Too large resource version: " + rv + ", current: " +
                                            std::to_string(deps_.kv->CurrentRevision()),
                                        1));
    }
  } else if (rv_match == "Exact") {
    return ErrorResponse(BadRequestError("resourceVersionMatch: Exact requires a resourceVersion"));
  }

  std::vector<std::string> items;
  int64_t revision = 0;
  std::string next_token;
  while (true) {
    range.limit = limit > 0 ? limit - static_cast<int64_t>(items.size()) : 0;
    Result<store::RangeResult> page = deps_.kv->Range(range);
    if (!page.ok()) {
      if (page.status().code() == StatusCode::kCompacted) {
        return ErrorResponse(ExpiredError(
            continue_token.empty()
                ? "The resourceVersion for the provided list is too old."
                : "The provided continue parameter is too old to display a consistent list "
                  "result. You can start a new list without the continue parameter."));
      }
      if (page.status().code() == StatusCode::kInvalidArgument) {
        return ErrorResponse(BadRequestError(page.status().message()));
      }
      return ErrorResponse(InternalServerError(page.status().message()));
    }
    revision = page->revision;
    for (const store::KeyValue& kv : page->kvs) {
      std::string object = WithResourceVersion(kv.value, kv.mod_revision);
      if (!selectors->Empty()) {
        Result<Document> doc = ParseJsonObject(object);
        if (!doc.ok() || !selectors->Matches(*doc)) continue;
      }
      items.push_back(ToRequestVersionJson(r, std::move(object)));
    }
    next_token = page->continue_token;
    if (next_token.empty() || limit == 0 || static_cast<int64_t>(items.size()) >= limit) break;
    range.continue_token = next_token;
  }

  int64_t now = deps_.clock->NowMillis();
  if (output == OutputKind::kTable) {
    Document list_md(rapidjson::kObjectType);
    SetStringMember(list_md, "resourceVersion", std::to_string(revision), list_md.GetAllocator());
    if (!next_token.empty()) {
      SetStringMember(list_md, "continue", next_token, list_md.GetAllocator());
    }
    return JsonResponse(200, TableOf(*r.resource, r.custom, items, &list_md, true, r.query, now));
  }
  std::string body = ListKindJsonPrefix(*r.resource);
  body += "\"resourceVersion\":\"" + std::to_string(revision) + "\"";
  if (!next_token.empty()) body += ",\"continue\":\"" + next_token + "\"";
  body += "},\"items\":[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) body.push_back(',');
    body += items[i];
  }
  body += "]}";
  return JsonResponse(200, std::move(body));
}

// Owns the WatchStream jointly with the ticker's weak reference.
class SharedStream : public http::ResponseStream {
 public:
  explicit SharedStream(std::shared_ptr<WatchStream> s) : s_(std::move(s)) {}
  void Start(std::function<void()> wake) override { s_->Start(std::move(wake)); }
  bool Poll(std::string& out) override { return s_->Poll(out); }
  void Cancel() override { s_->Cancel(); }

 private:
  std::shared_ptr<WatchStream> s_;
};

http::HandlerResult RestHandler::Watch(const RestRequest& r) {
  ApiResult<Selectors> selectors = ParseSelectors(r);
  if (!selectors.ok()) return ErrorResponse(selectors.error());
  OutputKind output = NegotiateObjectOutput(r.http->Header("accept"));
  if (output == OutputKind::kNotAcceptable) return ErrorResponse(NotAcceptableError());

  std::string prefix = CollectionPrefix(StorageGroup(r), r.resource->resource,
                                        r.resource->namespaced ? r.info.namespace_name : "");
  const std::string& rv = r.query.Get("resourceVersion");
  bool send_initial = rv.empty() || rv == "0";
  if (r.query.Has("sendInitialEvents")) send_initial = r.query.GetBool("sendInitialEvents");
  bool initial_end_bookmark = r.query.GetBool("sendInitialEvents") &&
                              r.query.GetBool("allowWatchBookmarks");

  WatchOptions options;
  int64_t start_after = 0;
  if (!rv.empty() && rv != "0") {
    start_after = std::atoll(rv.c_str());
    if (start_after <= 0) return ErrorResponse(BadRequestError("invalid resource version: " + rv));
  }
  if (send_initial) {
    store::RangeRequest range = store::RangeRequest::Prefix(prefix);
    Result<store::RangeResult> state = deps_.kv->Range(range);
    if (!state.ok()) return ErrorResponse(InternalServerError(state.status().message()));
    for (store::KeyValue& kv : state->kvs) {
      options.initial_objects.emplace_back(std::move(kv.value), kv.mod_revision);
    }
    start_after = state->revision;
  }
  options.initial_events_end_bookmark = initial_end_bookmark;
  options.initial_events_revision = start_after;
  options.allow_bookmarks = r.query.GetBool("allowWatchBookmarks");
  options.api_version = r.resource->GroupVersion();
  options.kind = r.resource->kind;
  int timeout_seconds = r.query.Has("timeoutSeconds") ? std::atoi(r.query.Get("timeoutSeconds").c_str()) : 0;
  if (timeout_seconds <= 0) {
    // Kubernetes spreads unbounded watches over 30-60 minutes so clients reconnect at
    // different times.
    timeout_seconds = 1800 + static_cast<int>(Rng()() % 1800);
  }
  options.deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_seconds);
  if (!selectors->Empty()) {
    Selectors s = std::move(selectors.value());
    options.filter = [s = std::move(s)](const Value& object) { return s.Matches(object); };
  }
  if (ConversionsFor(r)) {
    RestRequest at_version = r;  // keeps the served resources alive; not the HTTP request
    at_version.http = nullptr;
    options.transform = [at_version](const std::string& object_json) {
      return ToRequestVersionJson(at_version, object_json);
    };
  }
  if (output == OutputKind::kTable) {
    // The snapshot is held for the life of the watch: the pointers into it stay valid
    // however the served resources change meanwhile.
    std::shared_ptr<const ServedResources> served = r.served;
    const resources::ResourceInfo* info = r.resource;
    const CustomResourceServing* custom = r.custom;
    QueryParams q = r.query;
    Clock* clock = deps_.clock;
    auto first = std::make_shared<bool>(true);
    auto convert = options.transform;
    options.transform = [served, info, custom, q, clock, first, convert](const std::string& object_json) {
      bool headers = *first;
      *first = false;
      return TableOf(*info, custom, {convert ? convert(object_json) : object_json}, nullptr, headers, q,
                     clock->NowMillis());
    };
  }

  Result<std::unique_ptr<store::Watcher>> watcher = deps_.kv->Watch(prefix, start_after);
  if (!watcher.ok()) {
    if (watcher.status().code() == StatusCode::kCompacted) {
      // Kubernetes answers 200 and sends the 410 as the first (and only) event.
      http::Response response = JsonResponse(200, "{\"type\":\"ERROR\",\"object\":" +
                                                      ExpiredError("too old resource version: " + rv + " (" +
                                                                   std::to_string(deps_.kv->CompactedRevision()) + ")")
                                                          .ToJson() +
                                                      "}\n");
      return response;
    }
    return ErrorResponse(InternalServerError(watcher.status().message()));
  }
  auto stream = std::make_shared<WatchStream>(std::move(watcher).value(), std::move(options));
  if (deps_.ticker) deps_.ticker->Add(stream);
  http::StreamingResponse response;
  response.status = 200;
  response.content_type = "application/json";
  response.stream = std::make_unique<SharedStream>(std::move(stream));
  return response;
}

http::HandlerResult RestHandler::Update(const RestRequest& r) {
  if (!r.info.subresource.empty() && r.info.subresource != "status") {
    return ErrorResponse(MethodNotAllowedError("update", GR(r)));
  }
  Result<Document> decoded = DecodeObjectBody(*r.http, deps_.protobuf);
  if (!decoded.ok()) {
    if (decoded.status().code() == StatusCode::kNotFound) {
      return ErrorResponse(UnsupportedMediaTypeError(r.http->Header("content-type")));
    }
    return ErrorResponse(BadRequestError(decoded.status().message()));
  }
  Document body = std::move(decoded).value();
  if (auto e = CheckTypeMeta(*r.resource, body, r.resource->kind, r.resource->GroupVersion())) {
    return ErrorResponse(*e);
  }
  if (auto e = CheckNamespace(r, body)) return ErrorResponse(*e);
  std::string body_name = ObjectName(body);
  if (body_name.empty()) {
    SetStringMember(*MutableMember(body, "metadata"), "name", r.info.name, body.GetAllocator());
  } else if (body_name != r.info.name) {
    return ErrorResponse(BadRequestError("the name of the object (" + body_name +
                                         ") does not match the name on the URL (" + r.info.name + ")"));
  }
  std::string precondition = ResourceVersionOf(body);
  return WriteUpdate(r, [&](const Value& current) -> ApiResult<Document> {
    Document desired;
    if (r.info.subresource == "status") {
      desired.CopyFrom(current, desired.GetAllocator());
      if (const Value* status = Member(body, "status")) {
        SetMember(desired, "status", Value(*status, desired.GetAllocator()), desired.GetAllocator());
      } else {
        RemoveMember(desired, "status");
      }
    } else {
      desired.CopyFrom(body, desired.GetAllocator());
    }
    return desired;
  }, precondition);
}

// Reads, changes and writes one object with optimistic concurrency. `mutate` gets the
// current object (resourceVersion set) and returns the desired one. A precondition (the
// request's resourceVersion, or one the desired object names) must be the current version
// (409 otherwise); without one, a concurrent write makes us read again and retry, as
// Kubernetes' GuaranteedUpdate does.
http::HandlerResult RestHandler::WriteUpdate(const RestRequest& r, const Mutation& mutate,
                                             const std::string& precondition) {
  std::vector<std::string> warnings;
  return WithWarnings(WriteUpdateOnce(r, mutate, precondition, warnings), warnings);
}

http::HandlerResult RestHandler::WriteUpdateOnce(const RestRequest& r, const Mutation& mutate,
                                                 const std::string& precondition,
                                                 std::vector<std::string>& warnings) {
  std::string key = KeyOf(r, r.info.name);
  bool status_only = r.info.subresource == "status";
  for (int attempt = 0; attempt < kMaxUpdateAttempts; ++attempt) {
    Result<store::KeyValue> kv = deps_.kv->Get(key);
    if (!kv.ok()) return ErrorResponse(FromStoreStatus(kv.status(), GR(r), r.info.name));
    std::string current_json = WithResourceVersion(kv->value, kv->mod_revision);
    Result<Document> current = ParseJsonObject(current_json);
    if (!current.ok()) return ErrorResponse(InternalServerError("stored object is corrupt: " + key));
    std::string current_rv = std::to_string(kv->mod_revision);
    if (!precondition.empty() && precondition != current_rv) {
      return ErrorResponse(ModifiedConflictError(GR(r), r.info.name));
    }
    // The mutation (a patch, say) sees the object at the request's version.
    Document at_version;
    const Value* seen = &*current;
    if (ConversionsFor(r)) {
      at_version.CopyFrom(*current, at_version.GetAllocator());
      if (auto e = ToRequestVersion(r, at_version)) return ErrorResponse(*e);
      seen = &at_version;
    }
    ApiResult<Document> desired = mutate(*seen);
    if (!desired.ok()) return ErrorResponse(desired.error());
    Document& object = desired.value();
    if (!object.IsObject()) return ErrorResponse(BadRequestError("the result is not a JSON object"));
    std::string named_rv = ResourceVersionOf(object);
    bool conditional = !precondition.empty() || (!named_rv.empty() && named_rv != current_rv);
    if (!named_rv.empty() && named_rv != current_rv) {
      return ErrorResponse(ModifiedConflictError(GR(r), r.info.name));
    }
    if (auto e = CheckTypeMeta(*r.resource, object, r.resource->kind, r.resource->GroupVersion())) {
      return ErrorResponse(*e);
    }
    warnings.clear();
    // A binding is the stored pod with fields the server sets: nothing unknown to prune.
    if (r.info.subresource != "binding") {
      if (auto e = ValidateFields(r, object, warnings)) return ErrorResponse(*e);
    }
    if (auto e = ToStorageVersion(r, object)) return ErrorResponse(*e);
    PreserveOnUpdate(r, *current, object, status_only);
    std::vector<StatusCause> causes =
        validation::ValidateObjectMeta(object, validation::NameRuleFor(r.resource->group, r.resource->resource));
    if (!causes.empty()) {
      return ErrorResponse(InvalidError(r.resource->group, r.resource->kind, r.info.name,
                                        std::move(causes)));
    }
    if (auto e = Admit(r, object, &*current)) return ErrorResponse(*e);
    int64_t now = deps_.clock->NowMillis();
    std::string stored = EncodeForStorage(object);
    if (stored == kv->value) return ObjectResponse(r, 200, current_json, now);  // no change
    if (IsDryRun(r)) return ObjectResponse(r, 200, WithResourceVersion(stored, kv->mod_revision), now);
    // The last finalizer of an object being deleted is gone: the object goes.
    if (IsBeingDeleted(object) && !HasFinalizers(object) && !HeldBySpecFinalizers(r, object)) {
      Result<int64_t> deleted = deps_.kv->Delete(key, kv->mod_revision);
      if (deleted.ok()) return ObjectResponse(r, 200, WithResourceVersion(stored, *deleted), now);
      if (deleted.status().code() == StatusCode::kConflict && !conditional) continue;
      return ErrorResponse(FromStoreStatus(deleted.status(), GR(r), r.info.name));
    }
    Result<int64_t> revision = deps_.kv->Update(key, stored, kv->mod_revision, WriteOptionsFor(r, deps_.event_ttl));
    if (revision.ok()) return ObjectResponse(r, 200, WithResourceVersion(stored, *revision), now);
    if (revision.status().code() == StatusCode::kConflict && !conditional) continue;
    return ErrorResponse(FromStoreStatus(revision.status(), GR(r), r.info.name));
  }
  return ErrorResponse(ConflictError(GR(r), r.info.name, "too many concurrent writes; try again"));
}

http::HandlerResult RestHandler::Patch(const RestRequest& r) {
  if (!r.info.subresource.empty() && r.info.subresource != "status") {
    return ErrorResponse(MethodNotAllowedError("patch", GR(r)));
  }
  std::string type = MediaTypeOf(r.http->Header("content-type"));
  const std::string& body = r.http->body;
  bool status_only = r.info.subresource == "status";
  const patch::StrategicSchema* schema =
      deps_.strategic_schema
          ? deps_.strategic_schema(r.resource->group, r.resource->version, r.resource->kind)
          : nullptr;

  if (type == "application/apply-patch+yaml") {
    // Server-side apply: the configuration is merged into the live object (or creates it),
    // with field ownership recorded in managedFields and conflicts answered with 409.
    Result<Document> applied = YamlToJson(body);
    if (!applied.ok() || !applied->IsObject()) {
      return ErrorResponse(BadRequestError(applied.ok() ? "the applied configuration is not an object"
                                                        : applied.status().message()));
    }
    if (r.query.Get("fieldManager").empty()) {
      return ErrorResponse(BadRequestError(
          "PATCH, application/apply-patch+yaml requires fieldManager to be set"));
    }
    std::string_view applied_version = StringMember(*applied, "apiVersion");
    std::string_view applied_kind = StringMember(*applied, "kind");
    if (applied_version != r.resource->GroupVersion() || applied_kind != r.resource->kind) {
      return ErrorResponse(BadRequestError("invalid object type: " + std::string(applied_version) + ", Kind=" +
                                           std::string(applied_kind) + " (expected " + r.resource->GroupVersion() +
                                           ", Kind=" + r.resource->kind + ")"));
    }
    apply::ManagerIdentity who = ManagerOf(r, FormatRfc3339Seconds(deps_.clock->NowMillis()));
    bool force = r.query.GetBool("force");
    apply::ApplyScope scope = ScopeOf(r);
    auto conflict_error = [&](const std::vector<apply::FieldConflict>& conflicts) {
      ApiError e = ConflictError(GR(r), r.info.name, "");
      e.message = apply::ConflictMessage(conflicts);
      for (const apply::FieldConflict& c : conflicts) e.causes.push_back(apply::ConflictCause(c));
      return e;
    };
    Result<store::KeyValue> existing = deps_.kv->Get(KeyOf(r, r.info.name));
    if (!existing.ok() && existing.status().code() == StatusCode::kNotFound && !status_only) {
      std::string name = ObjectName(*applied);
      if (!name.empty() && name != r.info.name) {
        return ErrorResponse(BadRequestError("the name of the object (" + name +
                                             ") does not match the name on the URL (" + r.info.name + ")"));
      }
      Result<apply::ApplyOutcome> outcome = apply::Apply(nullptr, *applied, who, force, schema, scope);
      if (!outcome.ok()) return ErrorResponse(BadRequestError(outcome.status().message()));
      if (!outcome->conflicts.empty()) return ErrorResponse(conflict_error(outcome->conflicts));
      Document object = std::move(outcome->object);
      SetStringMember(EnsureObjectMember(object, "metadata", object.GetAllocator()), "name",
                      r.info.name, object.GetAllocator());
      return CreateObject(r, std::move(object));
    }
    return WriteUpdate(r, [&](const Value& current) -> ApiResult<Document> {
      Document live;
      live.CopyFrom(current, live.GetAllocator());
      RemoveMember(*MutableMember(live, "metadata"), "resourceVersion");
      Result<apply::ApplyOutcome> outcome = apply::Apply(&live, *applied, who, force, schema, scope);
      if (!outcome.ok()) return BadRequestError(outcome.status().message());
      if (!outcome->conflicts.empty()) return conflict_error(outcome->conflicts);
      return std::move(outcome->object);
    }, "");
  }

  enum class Kind { kJson, kMerge, kStrategic } kind;
  if (type == "application/json-patch+json") {
    kind = Kind::kJson;
  } else if (type == "application/merge-patch+json") {
    kind = Kind::kMerge;
  } else if (type == "application/strategic-merge-patch+json" && !r.custom) {
    kind = Kind::kStrategic;
  } else if (type == "application/strategic-merge-patch+json") {
    // Custom resources have no patch strategies to merge lists by: kube-apiserver refuses.
    ApiError e = UnsupportedMediaTypeError(type);
    e.message = "the body of the request was in an unknown format - accepted media types include: "
                "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml";
    return ErrorResponse(e);
  } else {
    ApiError e = UnsupportedMediaTypeError(type);
    e.message = "the server does not support the patch type " + type +
                "; supported: application/json-patch+json, application/merge-patch+json, "
                "application/strategic-merge-patch+json, application/apply-patch+yaml";
    return ErrorResponse(e);
  }
  return WriteUpdate(r, [&](const Value& current) -> ApiResult<Document> {
    Document patched;
    patched.CopyFrom(current, patched.GetAllocator());
    // A merge patch that names a resourceVersion makes it a precondition, so the current
    // one is not merged into. A JSON patch sees it, as kube-apiserver's does (kubectl's
    // managedFields migration tests it); left as it is, it matches and sets nothing.
    if (kind != Kind::kJson) RemoveMember(*MutableMember(patched, "metadata"), "resourceVersion");
    Status s;
    switch (kind) {
      case Kind::kJson:
        s = patch::ApplyJsonPatch(patched, body);
        break;
      case Kind::kMerge:
        s = patch::ApplyMergePatch(patched, body);
        break;
      case Kind::kStrategic:
        s = patch::ApplyStrategicMergePatch(patched, body, schema);
        break;
    }
    if (!s.ok()) {
      return BadRequestError(s.message());
    }
    if (!status_only) return patched;
    Document desired;
    desired.CopyFrom(current, desired.GetAllocator());
    RemoveMember(*MutableMember(desired, "metadata"), "resourceVersion");
    if (const Value* status = Member(patched, "status")) {
      SetMember(desired, "status", Value(*status, desired.GetAllocator()), desired.GetAllocator());
    } else {
      RemoveMember(desired, "status");
    }
    return desired;
  }, "");
}

namespace {

// DeleteOptions from the body (JSON, may be empty) with query parameters filled in.
ApiResult<Document> ParseDeleteOptions(const RestRequest& r) {
  Document options(rapidjson::kObjectType);
  if (!r.http->body.empty()) {
    Result<Document> parsed = ParseJsonObject(r.http->body);
    if (!parsed.ok()) return BadRequestError("invalid DeleteOptions: " + parsed.status().message());
    options = std::move(parsed).value();
  }
  auto& a = options.GetAllocator();
  if (r.query.Has("gracePeriodSeconds")) {
    SetMember(options, "gracePeriodSeconds",
              Value(static_cast<int64_t>(std::atoll(r.query.Get("gracePeriodSeconds").c_str()))), a);
  }
  if (r.query.Has("propagationPolicy")) {
    SetStringMember(options, "propagationPolicy", r.query.Get("propagationPolicy"), a);
  }
  if (const Value* policy = Member(options, "propagationPolicy"); policy && policy->IsString()) {
    std::string_view p(policy->GetString(), policy->GetStringLength());
    if (p != "Orphan" && p != "Background" && p != "Foreground") {
      return InvalidError("meta.k8s.io", "DeleteOptions", "",
                          {NotSupportedCause("propagationPolicy", p, {"Foreground", "Background", "Orphan"})});
    }
  }
  return options;
}

// The finalizer a DeleteOptions asks for: "orphan" (propagationPolicy Orphan, or the
// older orphanDependents: true), "foregroundDeletion" (Foreground), or none (Background).
std::string_view PropagationFinalizer(const Value& options) {
  std::string_view policy = StringMember(options, "propagationPolicy");
  if (policy == "Orphan") return "orphan";
  if (policy == "Foreground") return "foregroundDeletion";
  if (policy.empty()) {
    const Value* orphan = Member(options, "orphanDependents");
    if (orphan && orphan->IsBool() && orphan->GetBool()) return "orphan";
  }
  return "";
}

// DeleteOptions.preconditions (uid, resourceVersion) against the stored object, with
// Kubernetes' Conflict messages; nullopt when they hold or there are none.
std::optional<ApiError> FailedPrecondition(const RestRequest& r, const std::string& name, const Value* preconditions,
                                           std::string_view uid, int64_t revision) {
  if (preconditions == nullptr || !preconditions->IsObject()) return std::nullopt;
  std::string_view want_uid = StringMember(*preconditions, "uid");
  std::string_view want_rv = StringMember(*preconditions, "resourceVersion");
  if (!want_uid.empty() && want_uid != uid) {
    return ConflictError(GR(r), name,
                         "Precondition failed: UID in precondition: " + std::string(want_uid) +
                             ", UID in object meta: " + std::string(uid));
  }
  if (!want_rv.empty() && want_rv != std::to_string(revision)) {
    return ConflictError(GR(r), name,
                         "Precondition failed: ResourceVersion in precondition: " + std::string(want_rv) +
                             ", ResourceVersion in object meta: " + std::to_string(revision));
  }
  return std::nullopt;
}

std::string SuccessStatus(const RestRequest& r, const std::string& name, std::string_view uid) {
  std::string out = "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Success\",\"details\":{\"name\":";
  out += ToJson(Value(rapidjson::StringRef(name.data(), name.size())));
  if (!r.resource->group.empty()) out += ",\"group\":\"" + r.resource->group + "\"";
  out += ",\"kind\":\"" + r.resource->resource + "\",\"uid\":\"" + std::string(uid) + "\"}}";
  return out;
}

}  // namespace

http::HandlerResult RestHandler::Delete(const RestRequest& r) {
  ApiResult<Document> options = ParseDeleteOptions(r);
  if (!options.ok()) return ErrorResponse(options.error());
  if (r.resource->group.empty() && r.resource->resource == "namespaces") {
    return DeleteNamespace(r, r.info.name);
  }
  return DeleteOne(r, r.info.name, *options, true);
}

http::HandlerResult RestHandler::DeleteOne(const RestRequest& r, const std::string& name,
                                           const Value& options, bool respond) {
  std::string key = KeyOf(r, name);
  const Value* preconditions = Member(options, "preconditions");
  const Value* grace_value = Member(options, "gracePeriodSeconds");
  bool dry_run = IsDryRun(r);
  if (const Value* d = Member(options, "dryRun"); d && d->IsArray() && !d->Empty()) dry_run = true;
  for (int attempt = 0; attempt < kMaxUpdateAttempts; ++attempt) {
    Result<store::KeyValue> kv = deps_.kv->Get(key);
    if (!kv.ok()) return ErrorResponse(FromStoreStatus(kv.status(), GR(r), name));
    std::string current_json = WithResourceVersion(kv->value, kv->mod_revision);
    Result<Document> current = ParseJsonObject(current_json);
    if (!current.ok()) return ErrorResponse(InternalServerError("stored object is corrupt: " + key));
    const Value& md = *Member(*current, "metadata");
    std::string uid(StringMember(md, "uid"));
    if (std::optional<ApiError> failed = FailedPrecondition(r, name, preconditions, uid, kv->mod_revision)) {
      return ErrorResponse(*failed);
    }
    int64_t now = deps_.clock->NowMillis();

    // Pods on a node are deleted gracefully: the node stops them, then deletes with grace 0.
    int64_t grace = 0;
    bool is_pod = r.resource->group.empty() && r.resource->resource == "pods";
    if (is_pod) {
      const Value* spec = Member(*current, "spec");
      const Value* status = Member(*current, "status");
      bool on_node = spec && !StringMember(*spec, "nodeName").empty();
      std::string_view phase = status ? StringMember(*status, "phase") : std::string_view();
      grace = 30;
      if (const Value* t = spec ? Member(*spec, "terminationGracePeriodSeconds") : nullptr; t && t->IsInt64()) {
        grace = t->GetInt64();
      }
      if (grace_value && grace_value->IsInt64()) grace = grace_value->GetInt64();
      if (!on_node || phase == "Succeeded" || phase == "Failed") grace = 0;
    }
    // Orphan and Foreground deletion hand the object to the garbage collector through a
    // finalizer: it orphans or deletes the dependents, then removes the finalizer.
    std::string_view propagation_finalizer = PropagationFinalizer(options);
    bool add_finalizer = !propagation_finalizer.empty() && !HasFinalizer(*current, propagation_finalizer);
    bool held = HasFinalizers(*current) || grace > 0 || add_finalizer;
    if (held) {
      if (IsBeingDeleted(*current) && grace == 0 && !add_finalizer) {
        return respond ? ObjectResponse(r, 200, current_json, now) : http::HandlerResult(http::Response{});
      }
      Document marked;
      marked.CopyFrom(*current, marked.GetAllocator());
      Value& mmd = *MutableMember(marked, "metadata");
      if (add_finalizer) {
        Value* finalizers = MutableMember(mmd, "finalizers");
        if (!finalizers || !finalizers->IsArray()) {
          SetMember(mmd, "finalizers", Value(rapidjson::kArrayType), marked.GetAllocator());
          finalizers = MutableMember(mmd, "finalizers");
        }
        finalizers->PushBack(Value(std::string(propagation_finalizer), marked.GetAllocator()),
                             marked.GetAllocator());
      }
      if (!IsBeingDeleted(marked)) {
        SetStringMember(mmd, "deletionTimestamp", FormatRfc3339Seconds(now + grace * 1000), marked.GetAllocator());
        SetMember(mmd, "deletionGracePeriodSeconds", Value(grace), marked.GetAllocator());
      } else if (grace > 0) {
        // A second delete of a terminating pod may only shorten its grace period (as
        // Kubernetes' BeforeDelete); a longer or equal one changes nothing.
        const Value* old_grace = Member(mmd, "deletionGracePeriodSeconds");
        if (old_grace && old_grace->IsInt64() && grace >= old_grace->GetInt64() && !add_finalizer) {
          return respond ? ObjectResponse(r, 200, current_json, now) : http::HandlerResult(http::Response{});
        }
        SetStringMember(mmd, "deletionTimestamp", FormatRfc3339Seconds(now + grace * 1000), marked.GetAllocator());
        SetMember(mmd, "deletionGracePeriodSeconds", Value(grace), marked.GetAllocator());
      } else if (!HasFinalizers(marked)) {
        held = false;  // grace 0 for a terminating object without finalizers: go now
      }
      if (held) {
        std::string stored = EncodeForStorage(marked);
        if (dry_run) return ObjectResponse(r, 200, WithResourceVersion(stored, kv->mod_revision), now);
        Result<int64_t> rev = deps_.kv->Update(key, stored, kv->mod_revision);
        if (!rev.ok() && rev.status().code() == StatusCode::kConflict) continue;
        if (!rev.ok()) return ErrorResponse(FromStoreStatus(rev.status(), GR(r), name));
        if (!respond) return http::Response{};
        return ObjectResponse(r, 200, WithResourceVersion(stored, *rev), now);
      }
    }
    if (dry_run) return ObjectResponse(r, 200, current_json, now);
    Result<int64_t> rev = deps_.kv->Delete(key, kv->mod_revision);
    if (!rev.ok() && rev.status().code() == StatusCode::kConflict) continue;
    if (!rev.ok()) return ErrorResponse(FromStoreStatus(rev.status(), GR(r), name));
    if (!respond) return http::Response{};
    if (is_pod) return ObjectResponse(r, 200, WithResourceVersion(kv->value, *rev), now);
    return JsonResponse(200, SuccessStatus(r, name, uid));
  }
  return ErrorResponse(ConflictError(GR(r), name, "too many concurrent writes; try again"));
}

http::HandlerResult RestHandler::DeleteNamespace(const RestRequest& r, const std::string& name) {
  // Kubernetes' NamespaceLifecycle admission keeps the namespaces the cluster relies on.
  for (const char* immortal : {"default", "kube-system", "kube-public", "kube-node-lease"}) {
    if (name == immortal) return ErrorResponse(ForbiddenError(GR(r), name, "this namespace may not be deleted"));
  }
  ApiResult<Document> options = ParseDeleteOptions(r);
  if (!options.ok()) return ErrorResponse(options.error());
  const Value* preconditions = Member(*options, "preconditions");
  bool dry_run = IsDryRun(r);
  if (const Value* d = Member(*options, "dryRun"); d && d->IsArray() && !d->Empty()) dry_run = true;
  std::string key = KeyOf(r, name);
  for (int attempt = 0; attempt < kMaxUpdateAttempts; ++attempt) {
    Result<store::KeyValue> kv = deps_.kv->Get(key);
    if (!kv.ok()) return ErrorResponse(FromStoreStatus(kv.status(), GR(r), name));
    std::string current_json = WithResourceVersion(kv->value, kv->mod_revision);
    Result<Document> current = ParseJsonObject(current_json);
    if (!current.ok()) return ErrorResponse(InternalServerError("stored object is corrupt: " + key));
    std::string uid(StringMember(*Member(*current, "metadata"), "uid"));
    if (std::optional<ApiError> failed = FailedPrecondition(r, name, preconditions, uid, kv->mod_revision)) {
      return ErrorResponse(*failed);
    }
    int64_t now = deps_.clock->NowMillis();
    if (IsBeingDeleted(*current)) {
      // Deleted once already: it goes when its spec.finalizers are done (then as any object).
      if (HeldBySpecFinalizers(r, *current)) return ObjectResponse(r, 200, current_json, now);
      return DeleteOne(r, name, *options, true);
    }
    // The first DELETE only marks it: the namespace controller empties it and finalizes it.
    Document marked;
    marked.CopyFrom(*current, marked.GetAllocator());
    auto& a = marked.GetAllocator();
    Value& md = *MutableMember(marked, "metadata");
    RemoveMember(md, "resourceVersion");
    SetStringMember(md, "deletionTimestamp", FormatRfc3339Seconds(now), a);
    SetStringMember(EnsureObjectMember(marked, "status", a), "phase", "Terminating", a);
    // Orphan and Foreground deletion are the garbage collector's, through a finalizer.
    if (std::string_view finalizer = PropagationFinalizer(*options); !finalizer.empty() && !HasFinalizer(marked, finalizer)) {
      Value* finalizers = MutableMember(md, "finalizers");
      if (!finalizers || !finalizers->IsArray()) {
        SetMember(md, "finalizers", Value(rapidjson::kArrayType), a);
        finalizers = MutableMember(md, "finalizers");
      }
      finalizers->PushBack(Value(std::string(finalizer), a), a);
    }
    if (!HasFinalizers(marked) && !HeldBySpecFinalizers(r, marked)) {
      // Nothing holds it (created without the "kubernetes" finalizer): it goes now.
      return DeleteOne(r, name, *options, true);
    }
    std::string stored = EncodeForStorage(marked);
    if (dry_run) return ObjectResponse(r, 200, WithResourceVersion(stored, kv->mod_revision), now);
    Result<int64_t> rev = deps_.kv->Update(key, stored, kv->mod_revision);
    if (!rev.ok() && rev.status().code() == StatusCode::kConflict) continue;
    if (!rev.ok()) return ErrorResponse(FromStoreStatus(rev.status(), GR(r), name));
    return ObjectResponse(r, 200, WithResourceVersion(stored, *rev), now);
  }
  return ErrorResponse(ConflictError(GR(r), name, "too many concurrent writes; try again"));
}

// namespaces/{name}/finalize: replaces spec.finalizers, nothing else (Kubernetes' FinalizeREST
// serves update; a patch is accepted too). A namespace being deleted whose finalizers are all
// gone is deleted by the write.
http::HandlerResult RestHandler::FinalizeNamespace(const RestRequest& r) {
  if (!IsNamespaceResource(r) || !HasSubresource(*r.resource, "finalize")) {
    return ErrorResponse(NotFoundError(GR(r), r.info.name));
  }
  const std::string& verb = r.info.verb;
  if (verb != "update" && verb != "patch") return ErrorResponse(MethodNotAllowedError(verb, GR(r)));
  std::optional<Document> body;
  std::string precondition;
  std::string type = MediaTypeOf(r.http->Header("content-type"));
  if (verb == "update") {
    Result<Document> decoded = DecodeObjectBody(*r.http, deps_.protobuf);
    if (!decoded.ok()) {
      if (decoded.status().code() == StatusCode::kNotFound) {
        return ErrorResponse(UnsupportedMediaTypeError(r.http->Header("content-type")));
      }
      return ErrorResponse(BadRequestError(decoded.status().message()));
    }
    if (auto e = CheckTypeMeta(*r.resource, *decoded, r.resource->kind, r.resource->GroupVersion())) {
      return ErrorResponse(*e);
    }
    std::string body_name = ObjectName(*decoded);
    if (!body_name.empty() && body_name != r.info.name) {
      return ErrorResponse(BadRequestError("the name of the object (" + body_name +
                                           ") does not match the name on the URL (" + r.info.name + ")"));
    }
    precondition = ResourceVersionOf(*decoded);
    body = std::move(decoded).value();
  } else if (type != "application/merge-patch+json" && type != "application/json-patch+json" &&
             type != "application/strategic-merge-patch+json") {
    return ErrorResponse(UnsupportedMediaTypeError(type));
  }
  return WriteUpdate(r, [&](const Value& current) -> ApiResult<Document> {
    Document desired;
    desired.CopyFrom(current, desired.GetAllocator());
    auto& a = desired.GetAllocator();
    RemoveMember(*MutableMember(desired, "metadata"), "resourceVersion");
    const Value* source = nullptr;
    Document patched;
    if (body) {
      source = &*body;
    } else {
      patched.CopyFrom(desired, patched.GetAllocator());
      Status s;
      if (type == "application/json-patch+json") {
        s = patch::ApplyJsonPatch(patched, r.http->body);
      } else if (type == "application/merge-patch+json") {
        s = patch::ApplyMergePatch(patched, r.http->body);
      } else {
        const patch::StrategicSchema* schema =
            deps_.strategic_schema ? deps_.strategic_schema("", "v1", "Namespace") : nullptr;
        s = patch::ApplyStrategicMergePatch(patched, r.http->body, schema);
      }
      if (!s.ok()) return BadRequestError(s.message());
      // A resourceVersion the patch names is a precondition.
      if (std::string rv = ResourceVersionOf(patched); !rv.empty()) {
        SetStringMember(*MutableMember(desired, "metadata"), "resourceVersion", rv, a);
      }
      source = &patched;
    }
    const Value* spec = Member(*source, "spec");
    const Value* finalizers = spec ? Member(*spec, "finalizers") : nullptr;
    Value list(rapidjson::kArrayType);
    if (finalizers && !finalizers->IsNull()) {
      if (!finalizers->IsArray()) {
        return InvalidError("", "Namespace", r.info.name, {InvalidCause("spec.finalizers", ToJson(*finalizers), "must be a list of strings")});
      }
      for (rapidjson::SizeType i = 0; i < finalizers->Size(); ++i) {
        const Value& f = (*finalizers)[i];
        if (!f.IsString() || f.GetStringLength() == 0) {
          return InvalidError("", "Namespace", r.info.name,
                              {InvalidCause("spec.finalizers[" + std::to_string(i) + "]", ToJson(f),
                                            "must be a non-empty finalizer name")});
        }
        list.PushBack(Value(f, a), a);
      }
    }
    SetMember(EnsureObjectMember(desired, "spec", a), "finalizers", std::move(list), a);
    return desired;
  }, precondition);
}

http::HandlerResult RestHandler::DeleteCollection(const RestRequest& r) {
  ApiResult<Document> options = ParseDeleteOptions(r);
  if (!options.ok()) return ErrorResponse(options.error());
  ApiResult<Selectors> selectors = ParseSelectors(r);
  if (!selectors.ok()) return ErrorResponse(selectors.error());
  Result<store::RangeResult> all = deps_.kv->Range(store::RangeRequest::Prefix(CollectionPrefix(
      StorageGroup(r), r.resource->resource, r.resource->namespaced ? r.info.namespace_name : "")));
  if (!all.ok()) return ErrorResponse(InternalServerError(all.status().message()));
  for (const store::KeyValue& kv : all->kvs) {
    Result<Document> doc = ParseJsonObject(kv.value);
    if (!doc.ok() || !selectors->Matches(*doc)) continue;
    RestRequest one = r;
    const Value* md = Member(*doc, "metadata");
    if (r.resource->namespaced && md) one.info.namespace_name = std::string(StringMember(*md, "namespace"));
    http::HandlerResult result = DeleteOne(one, ObjectName(*doc), *options, false);
    if (auto* response = std::get_if<http::Response>(&result);
        response && response->status >= 400 && response->status != 404) {
      return result;
    }
  }
  return JsonResponse(200, "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Success\"}");
}

http::HandlerResult RestHandler::Binding(const RestRequest& r) {
  Result<Document> body = DecodeObjectBody(*r.http, deps_.protobuf);
  if (!body.ok()) return ErrorResponse(BadRequestError(body.status().message()));
  const Value* target = Member(*body, "target");
  std::string node = target ? std::string(StringMember(*target, "name")) : std::string();
  if (node.empty()) {
    return ErrorResponse(InvalidError("", "Binding", r.info.name, {RequiredCause("target.name")}));
  }
  // Written as the pod itself, except that the binding may set status (PodScheduled).
  RestRequest pod = r;
  pod.info.subresource = "binding";
  http::HandlerResult result = WriteUpdate(pod, [&](const Value& current) -> ApiResult<Document> {
    const Value* spec = Member(current, "spec");
    std::string_view assigned = spec ? StringMember(*spec, "nodeName") : std::string_view();
    if (!assigned.empty()) {
      return ConflictError(GR(r), r.info.name,
                           "pod " + r.info.name + " is already assigned to node \"" + std::string(assigned) + "\"");
    }
    if (IsBeingDeleted(current)) {
      return ConflictError(GR(r), r.info.name, "pod " + r.info.name + " is being deleted, cannot be assigned to a host");
    }
    Document d;
    d.CopyFrom(current, d.GetAllocator());
    auto& a = d.GetAllocator();
    RemoveMember(*MutableMember(d, "metadata"), "resourceVersion");
    SetStringMember(EnsureObjectMember(d, "spec", a), "nodeName", node, a);
    // PodScheduled=True, as the binding registry sets it.
    Value& status = EnsureObjectMember(d, "status", a);
    Value conditions(rapidjson::kArrayType);
    if (const Value* old = Member(status, "conditions"); old && old->IsArray()) {
      for (const Value& c : old->GetArray()) {
        if (StringMember(c, "type") != "PodScheduled") conditions.PushBack(Value(c, a), a);
      }
    }
    Value scheduled(rapidjson::kObjectType);
    SetStringMember(scheduled, "type", "PodScheduled", a);
    SetStringMember(scheduled, "status", "True", a);
    SetStringMember(scheduled, "lastTransitionTime", FormatRfc3339Seconds(deps_.clock->NowMillis()), a);
    conditions.PushBack(scheduled, a);
    SetMember(status, "conditions", std::move(conditions), a);
    return d;
  }, "");
  auto* response = std::get_if<http::Response>(&result);
  if (response && response->status == 200) {
    return JsonResponse(201, "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Success\",\"code\":201}");
  }
  return result;
}

namespace {

// The autoscaling/v1 Scale view of an object with spec.replicas.
Document ScaleOf(const Value& object) {
  Document scale(rapidjson::kObjectType);
  auto& a = scale.GetAllocator();
  SetStringMember(scale, "kind", "Scale", a);
  SetStringMember(scale, "apiVersion", "autoscaling/v1", a);
  Value md(rapidjson::kObjectType);
  if (const Value* old = Member(object, "metadata")) {
    for (const char* f : {"name", "namespace", "uid", "resourceVersion", "creationTimestamp"}) {
      if (const Value* v = Member(*old, f)) SetMember(md, f, Value(*v, a), a);
    }
  }
  SetMember(scale, "metadata", std::move(md), a);
  const Value* spec = Member(object, "spec");
  const Value* replicas = spec ? Member(*spec, "replicas") : nullptr;
  Value scale_spec(rapidjson::kObjectType);
  SetMember(scale_spec, "replicas", Value(replicas && replicas->IsInt() ? replicas->GetInt() : 1), a);
  SetMember(scale, "spec", std::move(scale_spec), a);
  Value status(rapidjson::kObjectType);
  const Value* obj_status = Member(object, "status");
  const Value* current = obj_status ? Member(*obj_status, "replicas") : nullptr;
  SetMember(status, "replicas", Value(current && current->IsInt() ? current->GetInt() : 0), a);
  if (const Value* selector = spec ? Member(*spec, "selector") : nullptr) {
    // ReplicationControllers carry a plain map; the others a LabelSelector.
    Result<selection::LabelSelector> parsed =
        selector->IsObject() && !Member(*selector, "matchLabels") && !Member(*selector, "matchExpressions")
            ? selection::LabelSelector::FromJson([&] {
                Document wrapped(rapidjson::kObjectType);
                SetMember(wrapped, "matchLabels", Value(*selector, wrapped.GetAllocator()), wrapped.GetAllocator());
                return wrapped;
              }())
            : selection::LabelSelector::FromJson(*selector);
    if (parsed.ok()) SetStringMember(status, "selector", parsed->ToString(), a);
  }
  SetMember(scale, "status", std::move(status), a);
  return scale;
}

// Custom resources (apiextensions' ScaleREST). A plain Go error from its registry reaches the
// client as a 500 without a reason, carrying the error's text.
ApiError UnreasonedError(std::string message) {
  ApiError e;
  e.code = 500;
  e.message = std::move(message);
  return e;
}

// Marks a Scale whose object has no spec replicas, so that an update must set them.
constexpr int64_t kUnsetReplicas = -2147483647 - 1;  // the smallest int32

// The custom resource `current` with the Scale's spec.replicas written at the CRD's path
// (scaleUpdatedObjectInfo), or the error kube-apiserver answers.
ApiResult<Document> WithScaleReplicas(const Value& current, const Value& scale,
                                      const crd::ScaleSubresource& paths) {
  // The Scale as Go decodes it: spec.replicas absent or null is 0, a non-int32 cannot decode.
  const Value* spec = Member(scale, "spec");
  const Value* replicas = spec && spec->IsObject() ? Member(*spec, "replicas") : nullptr;
  int64_t n = 0;
  if (replicas && !replicas->IsNull()) {
    if (!replicas->IsInt()) {
      std::string what = replicas->IsNumber() ? "number " + ToJson(*replicas)
                         : replicas->IsString() ? "string"
                         : replicas->IsBool()   ? "bool"
                         : replicas->IsArray()  ? "array"
                                                : "object";
      return BadRequestError("Scale in version \"v1\" cannot be handled as a Scale: json: cannot unmarshal " + what +
                             " into Go struct field ScaleSpec.spec.replicas of type int32");
    }
    n = replicas->GetInt();
  }
  if (n == kUnsetReplicas) {
    return BadRequestError("the spec replicas field \"" + paths.spec_replicas_path + "\" cannot be empty");
  }
  Document d;
  d.CopyFrom(current, d.GetAllocator());
  auto& a = d.GetAllocator();
  if (Status set = crd::SetNestedInt64(d, paths.spec_replicas_path, n, a); !set.ok()) {
    return UnreasonedError(set.message());
  }
  // A resourceVersion in the Scale is a precondition on the object.
  std::string rv = ResourceVersionOf(scale);
  Value& md = EnsureObjectMember(d, "metadata", a);
  if (rv.empty()) {
    RemoveMember(md, "resourceVersion");
  } else {
    SetStringMember(md, "resourceVersion", rv, a);
  }
  // Admit then checks it as any write of the object: the schema, then the scale paths.
  return d;
}

}  // namespace

http::HandlerResult RestHandler::Scale(const RestRequest& r) {
  const std::string& verb = r.info.verb;
  RestRequest whole = r;
  whole.info.subresource.clear();
  // Custom resources keep their replicas where the CRD's scale subresource says.
  const crd::ScaleSubresource* paths = r.custom && r.custom->scale ? &*r.custom->scale : nullptr;
  if (r.custom && !paths) return ErrorResponse(NotFoundError(GR(r), r.info.name));
  auto as_scale = [&](http::HandlerResult result) -> http::HandlerResult {
    auto* response = std::get_if<http::Response>(&result);
    if (!response || response->status != 200) return result;
    Result<Document> object = ParseJsonObject(response->body);
    if (!object.ok()) return result;
    if (paths) {
      Result<crd::CustomScale> scale = crd::ScaleOfCustomResource(*object, *paths);
      if (!scale.ok()) return ErrorResponse(BadRequestError(scale.status().message()));
      response->body = ToJson(scale->scale);
      return result;
    }
    response->body = ToJson(ScaleOf(*object));
    return result;
  };
  if (verb == "get") {
    Result<store::KeyValue> kv = deps_.kv->Get(KeyOf(r, r.info.name));
    if (!kv.ok()) return ErrorResponse(FromStoreStatus(kv.status(), GR(r), r.info.name));
    Result<Document> object = ParseJsonObject(WithResourceVersion(kv->value, kv->mod_revision));
    if (!object.ok()) return ErrorResponse(InternalServerError("stored object is corrupt"));
    if (paths) {
      Result<crd::CustomScale> scale = crd::ScaleOfCustomResource(*object, *paths);
      if (!scale.ok()) return ErrorResponse(UnreasonedError(scale.status().message()));
      if (!scale->spec_replicas_found) {
        return ErrorResponse(InternalServerError("the spec replicas field \"" + paths->spec_replicas_path +
                                                 "\" does not exist"));
      }
      return JsonResponse(200, ToJson(scale->scale));
    }
    return JsonResponse(200, ToJson(ScaleOf(*object)));
  }
  if (verb != "update" && verb != "patch") return ErrorResponse(MethodNotAllowedError(verb, GR(r)));
  std::string type = MediaTypeOf(r.http->Header("content-type"));
  std::string precondition;
  std::optional<Document> body;
  if (verb == "update") {
    Result<Document> decoded = DecodeObjectBody(*r.http, deps_.protobuf);
    if (!decoded.ok()) return ErrorResponse(BadRequestError(decoded.status().message()));
    precondition = ResourceVersionOf(*decoded);
    body = std::move(decoded).value();
  }
  return as_scale(WriteUpdate(whole, [&](const Value& current) -> ApiResult<Document> {
    Document scale;
    if (paths) {
      Result<crd::CustomScale> old = crd::ScaleOfCustomResource(current, *paths);
      if (!old.ok()) return UnreasonedError(old.status().message());
      scale = std::move(old->scale);
      if (!old->spec_replicas_found) {
        SetMember(*MutableMember(scale, "spec"), "replicas", Value(kUnsetReplicas), scale.GetAllocator());
      }
    } else {
      scale = ScaleOf(current);
    }
    if (verb == "update") {
      scale.CopyFrom(*body, scale.GetAllocator());
    } else {
      Status s;
      if (type == "application/json-patch+json") {
        s = patch::ApplyJsonPatch(scale, r.http->body);
      } else if (type == "application/merge-patch+json" || type == "application/strategic-merge-patch+json") {
        s = patch::ApplyMergePatch(scale, r.http->body);
      } else {
        return UnsupportedMediaTypeError(type);
      }
      if (!s.ok()) return BadRequestError(s.message());
    }
    if (paths) return WithScaleReplicas(current, scale, *paths);
    const Value* spec = Member(scale, "spec");
    const Value* replicas = spec ? Member(*spec, "replicas") : nullptr;
    if (!replicas || !replicas->IsInt() || replicas->GetInt() < 0) {
      return InvalidError("autoscaling", "Scale", r.info.name,
                          {InvalidCause("spec.replicas", replicas ? ToJson(*replicas) : "", "must be greater than or equal to 0")});
    }
    Document d;
    d.CopyFrom(current, d.GetAllocator());
    RemoveMember(*MutableMember(d, "metadata"), "resourceVersion");
    SetMember(EnsureObjectMember(d, "spec", d.GetAllocator()), "replicas", Value(replicas->GetInt()), d.GetAllocator());
    return d;
  }, precondition));
}

}  // namespace kite::apiserver
