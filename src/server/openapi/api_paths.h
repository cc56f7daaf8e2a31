// The REST paths and operations of one group/version, as Kubernetes' OpenAPI documents list
// them, in a form neither OpenAPI dialect: openapi_v2 and openapi_v3 both render it.
//
// What is derived from a ResourceInfo (verbs, scope, subresources):
//   namespaced:  /…/namespaces/{namespace}/<plural>            list, create, deletecollection
//                /…/namespaces/{namespace}/<plural>/{name}     get, update, patch, delete
//                /…/<plural>                                   list across namespaces
//   cluster:     /…/<plural> and /…/<plural>/{name}
//   watch:       the deprecated /…/watch/… paths for list+watch and for one object
//   subresources: status/scale/approval/finalize/ephemeralcontainers (get, put, patch as the
//                verbs allow), binding/eviction/token (post), log (get), exec/attach/
//                portforward/proxy (connect).
// Every operation carries x-kubernetes-action and (except the group/version's own discovery
// GET) x-kubernetes-group-version-kind. post/put/patch list dryRun, fieldManager and
// fieldValidation; patch also lists force: kubectl decides from the patch operation's
// parameters whether the server validates fields itself.
// Custom resources (`custom`) get what kube-apiserver lists for them: no deprecated watch
// paths, bodies in JSON or YAML only, and PATCH without strategic merge patch (kubectl's
// apply then computes a JSON merge patch, the only kind a custom resource takes).
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "src/server/openapi/custom_resources.h"
#include "src/server/resources/resource_table.h"

namespace kite::openapi {

struct Gvk {
  std::string group;  // "" for the core group
  std::string version;
  std::string kind;

  bool operator==(const Gvk&) const = default;
};

enum class ParamType { kString, kInteger, kBoolean };

struct Parameter {
  std::string name;
  std::string in;  // "path" or "query"
  ParamType type = ParamType::kString;
  bool required = false;  // path parameters are
  std::string description;
};

// What a request or response body holds.
struct BodyType {
  enum class What {
    kNone,
    kObject,  // the object of kind `gvk` (found in the schema registry)
    kPatch,   // a patch document in one of the PATCH content types
    kString,  // plain text or a stream (logs, exec)
  };
  What what = What::kNone;
  Gvk gvk;
};

enum class ResponseMode {
  kObject,  // JSON, YAML, protobuf
  kStream,  // as kObject, plus the ;stream=watch forms (list and watch)
  kText,    // */* (logs, connect)
};

struct Operation {
  std::string method;        // "get", "put", "post", "patch", "delete"
  std::string action;        // x-kubernetes-action: get list watch watchlist post put patch
                             // delete deletecollection connect
  std::string operation_id;  // "patchAppsV1NamespacedDeployment", as Kubernetes names it
  std::string description;   // a short sentence of ours
  Gvk gvk;                   // empty kind: none
  std::vector<Parameter> parameters;  // the operation's own (query) parameters
  BodyType request;                   // kNone: no request body
  bool request_required = true;       // delete's body is optional
  BodyType response;
  ResponseMode response_mode = ResponseMode::kObject;
  std::vector<int> success_codes;  // 200, 201, 202
  bool custom = false;             // an operation on a custom resource
};

struct PathItem {
  std::string path;                   // "/apis/apps/v1/namespaces/{namespace}/deployments"
  std::vector<Parameter> parameters;  // shared by its operations: path parameters, pretty
  std::vector<Operation> operations;  // in the order get, put, post, patch, delete
};

// "/api/v1" or "/apis/<group>/<version>".
std::string GroupVersionPrefix(std::string_view group, std::string_view version);
// The tag Kubernetes gives operations of a group version: "core_v1", "apps_v1",
// "rbacAuthorization_v1".
std::string GroupVersionTag(std::string_view group, std::string_view version);

// Every path of `group`/`version` in `table`, sorted by path. Empty when the table serves
// nothing there.
std::vector<PathItem> BuildPaths(const resources::ResourceTable& table, std::string_view group,
                                 std::string_view version, const CustomResources& custom = {});

}  // namespace kite::openapi
