#include "src/server/openapi/api_paths.h"

#include <algorithm>
#include <cctype>

namespace kite::openapi {
namespace {

using resources::ResourceInfo;
using resources::SubresourceInfo;

Parameter Query(std::string name, ParamType type, std::string description) {
  return {std::move(name), "query", type, false, std::move(description)};
}
Parameter PathParam(std::string name, std::string description) {
  return {std::move(name), "path", ParamType::kString, true, std::move(description)};
}

// The query parameters, with descriptions of our own.
Parameter Pretty() { return Query("pretty", ParamType::kString, "If 'true', the output is indented."); }
Parameter DryRun() {
  return Query("dryRun", ParamType::kString,
               "When 'All', the request is processed but nothing is persisted.");
}
Parameter FieldManager() {
  return Query("fieldManager", ParamType::kString,
               "Name of the actor making the change, recorded in managedFields. Required for "
               "apply patches.");
}
Parameter FieldValidation() {
  return Query("fieldValidation", ParamType::kString,
               "How unknown or duplicate fields in the body are handled: Ignore (dropped), "
               "Warn (dropped with a warning header; the default) or Strict (the request "
               "fails).");
}
Parameter Force() {
  return Query("force", ParamType::kBoolean,
               "Apply patches only: take over fields owned by other managers.");
}

std::vector<Parameter> WriteParams() { return {DryRun(), FieldManager(), FieldValidation()}; }
std::vector<Parameter> PatchParams() {
  return {DryRun(), FieldManager(), FieldValidation(), Force()};
}

std::vector<Parameter> DeleteParams() {
  return {
      DryRun(),
      Query("gracePeriodSeconds", ParamType::kInteger,
            "Seconds before the object is deleted; 0 deletes at once."),
      Query("ignoreStoreReadErrorWithClusterBreakingPotential", ParamType::kBoolean,
            "Delete an object that cannot be read from storage."),
      Query("orphanDependents", ParamType::kBoolean,
            "Deprecated: use propagationPolicy. Whether dependents are orphaned."),
      Query("propagationPolicy", ParamType::kString,
            "Orphan, Background or Foreground: what happens to dependents."),
  };
}

std::vector<Parameter> ListParams() {
  return {
      Query("allowWatchBookmarks", ParamType::kBoolean,
            "Watch only: ask for BOOKMARK events."),
      Query("continue", ParamType::kString, "The continue token of the previous page."),
      Query("fieldSelector", ParamType::kString, "Restrict the list by fields."),
      Query("labelSelector", ParamType::kString, "Restrict the list by labels."),
      Query("limit", ParamType::kInteger, "The most items one page returns."),
      Query("resourceVersion", ParamType::kString,
            "Which resource version the answer must be at least as new as."),
      Query("resourceVersionMatch", ParamType::kString,
            "How resourceVersion applies: NotOlderThan or Exact."),
      Query("sendInitialEvents", ParamType::kBoolean,
            "Watch only: start with synthetic ADDED events for the current state."),
      Query("timeoutSeconds", ParamType::kInteger, "Time limit of the list or watch call."),
      Query("watch", ParamType::kBoolean, "Stream changes instead of listing."),
  };
}

std::vector<Parameter> DeleteCollectionParams() {
  std::vector<Parameter> params = DeleteParams();
  for (Parameter& p : ListParams()) {
    if (p.name != "allowWatchBookmarks" && p.name != "watch") params.push_back(std::move(p));
  }
  std::sort(params.begin(), params.end(),
            [](const Parameter& a, const Parameter& b) { return a.name < b.name; });
  return params;
}

std::vector<Parameter> LogParams() {
  return {
      Query("container", ParamType::kString, "The container whose log is read."),
      Query("follow", ParamType::kBoolean, "Stream the log as it grows."),
      Query("insecureSkipTLSVerifyBackend", ParamType::kBoolean,
            "Do not verify the serving certificate of the node."),
      Query("limitBytes", ParamType::kInteger, "The most bytes returned."),
      Query("previous", ParamType::kBoolean, "The log of the previous, terminated container."),
      Query("sinceSeconds", ParamType::kInteger, "Only lines newer than this many seconds."),
      Query("sinceTime", ParamType::kString, "Only lines newer than this RFC 3339 time."),
      Query("tailLines", ParamType::kInteger, "Only this many lines from the end."),
      Query("timestamps", ParamType::kBoolean, "Prefix every line with its time."),
  };
}

std::vector<Parameter> StreamParams(bool with_command) {
  std::vector<Parameter> params;
  if (with_command) params.push_back(Query("command", ParamType::kString, "The command to run."));
  params.push_back(Query("container", ParamType::kString, "The container to connect to."));
  params.push_back(Query("stderr", ParamType::kBoolean, "Connect standard error."));
  params.push_back(Query("stdin", ParamType::kBoolean, "Connect standard input."));
  params.push_back(Query("stdout", ParamType::kBoolean, "Connect standard output."));
  params.push_back(Query("tty", ParamType::kBoolean, "Allocate a terminal."));
  return params;
}

std::string Capitalized(std::string_view s) {
  std::string out(s);
  if (!out.empty()) out[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(out[0])));
  return out;
}

// "CoreV1", "AppsV1", "RbacAuthorizationV1", "NetworkingV1".
std::string GroupVersionId(std::string_view group, std::string_view version) {
  std::string out;
  if (group.empty()) {
    out = "Core";
  } else {
    std::string_view g = group;
    if (g.ends_with(".k8s.io")) g.remove_suffix(std::string_view(".k8s.io").size());
    size_t start = 0;
    while (start <= g.size()) {
      size_t dot = g.find('.', start);
      if (dot == std::string_view::npos) dot = g.size();
      out += Capitalized(g.substr(start, dot - start));
      start = dot + 1;
    }
  }
  return out + Capitalized(version);
}

struct Context {
  const ResourceInfo& r;
  std::string prefix;  // "/apis/apps/v1"
  std::string gv_id;   // "AppsV1"
  std::string scope;   // "Namespaced" or ""
  Gvk gvk;
  std::string plural_path;  // "<prefix>/namespaces/{namespace}/deployments"
  std::string item_path;    // plural_path + "/{name}"
  bool custom = false;      // a custom resource
};

Gvk GvkOf(const ResourceInfo& r, std::string kind) { return {r.group, r.version, std::move(kind)}; }

// A kind of meta.k8s.io/v1 that every group version serves (DeleteOptions, Status,
// WatchEvent): named by its own group, so that a custom kind of the same name in the
// resource's group is not taken for it.
Gvk MetaKind(std::string kind) { return {"meta.k8s.io", "v1", std::move(kind)}; }

BodyType Object(Gvk gvk) { return {BodyType::What::kObject, std::move(gvk)}; }

std::vector<Parameter> ScopeParams(const ResourceInfo& r, bool with_name, std::string_view kind) {
  std::vector<Parameter> params;
  if (with_name) params.push_back(PathParam("name", "The name of the " + std::string(kind) + "."));
  if (r.namespaced) params.push_back(PathParam("namespace", "The namespace of the object."));
  params.push_back(Pretty());
  return params;
}

Operation MakeOp(std::string method, std::string action, std::string id, std::string description,
                 Gvk gvk) {
  Operation op;
  op.method = std::move(method);
  op.action = std::move(action);
  op.operation_id = std::move(id);
  op.description = std::move(description);
  op.gvk = std::move(gvk);
  return op;
}

Operation GetOp(std::string id, std::string description, Gvk gvk) {
  Operation op = MakeOp("get", "get", std::move(id), std::move(description), gvk);
  op.response = Object(std::move(gvk));
  op.success_codes = {200};
  return op;
}

Operation PutOp(std::string id, std::string description, Gvk gvk) {
  Operation op = MakeOp("put", "put", std::move(id), std::move(description), gvk);
  op.parameters = WriteParams();
  op.request = Object(gvk);
  op.response = Object(std::move(gvk));
  op.success_codes = {200, 201};
  return op;
}

Operation PatchOp(std::string id, std::string description, Gvk gvk) {
  Operation op = MakeOp("patch", "patch", std::move(id), std::move(description), gvk);
  op.parameters = PatchParams();
  op.request = {BodyType::What::kPatch, {}};
  op.response = Object(std::move(gvk));
  op.success_codes = {200, 201};
  return op;
}

Operation PostOp(std::string id, std::string description, Gvk gvk) {
  Operation op = MakeOp("post", "post", std::move(id), std::move(description), gvk);
  op.parameters = WriteParams();
  op.request = Object(gvk);
  op.response = Object(std::move(gvk));
  op.success_codes = {200, 201, 202};
  return op;
}

// The main resource: collection, item, all-namespaces list and watch paths.
void AddResourcePaths(const Context& c, std::vector<PathItem>& out) {
  const ResourceInfo& r = c.r;
  const std::string& kind = r.kind;
  const std::string what = "the specified " + kind;
  {
    PathItem collection{c.plural_path, ScopeParams(r, false, kind), {}};
    if (r.HasVerb("list")) {
      Operation op = MakeOp("get", "list", "list" + c.gv_id + c.scope + kind,
                            "list or watch objects of kind " + kind, c.gvk);
      op.parameters = ListParams();
      op.response = Object(GvkOf(r, r.list_kind));
      op.response_mode = ResponseMode::kStream;
      op.success_codes = {200};
      collection.operations.push_back(std::move(op));
    }
    if (r.HasVerb("create")) {
      collection.operations.push_back(
          PostOp("create" + c.gv_id + c.scope + kind, "create an object of kind " + kind, c.gvk));
    }
    if (r.HasVerb("deletecollection")) {
      Operation op = MakeOp("delete", "deletecollection",
                            "delete" + c.gv_id + "Collection" + c.scope + kind,
                            "delete a collection of " + kind, c.gvk);
      op.parameters = DeleteCollectionParams();
      op.request = Object(MetaKind("DeleteOptions"));
      op.request_required = false;
      op.response = Object(MetaKind("Status"));
      op.success_codes = {200};
      collection.operations.push_back(std::move(op));
    }
    if (!collection.operations.empty()) out.push_back(std::move(collection));
  }
  {
    PathItem item{c.item_path, ScopeParams(r, true, kind), {}};
    if (r.HasVerb("get")) {
      item.operations.push_back(GetOp("read" + c.gv_id + c.scope + kind, "read " + what, c.gvk));
    }
    if (r.HasVerb("update")) {
      item.operations.push_back(
          PutOp("replace" + c.gv_id + c.scope + kind, "replace " + what, c.gvk));
    }
    if (r.HasVerb("patch")) {
      item.operations.push_back(
          PatchOp("patch" + c.gv_id + c.scope + kind, "partially update " + what, c.gvk));
    }
    if (r.HasVerb("delete")) {
      Operation op = MakeOp("delete", "delete", "delete" + c.gv_id + c.scope + kind,
                            "delete " + what, c.gvk);
      op.parameters = DeleteParams();
      op.request = Object(MetaKind("DeleteOptions"));
      op.request_required = false;
      op.response = Object(MetaKind("Status"));
      op.success_codes = {200, 202};
      item.operations.push_back(std::move(op));
    }
    if (!item.operations.empty()) out.push_back(std::move(item));
  }
  if (r.namespaced && r.HasVerb("list")) {
    PathItem all{c.prefix + "/" + r.resource, {Pretty()}, {}};
    Operation op = MakeOp("get", "list", "list" + c.gv_id + kind + "ForAllNamespaces",
                          "list or watch objects of kind " + kind + " in every namespace", c.gvk);
    op.parameters = ListParams();
    op.response = Object(GvkOf(r, r.list_kind));
    op.response_mode = ResponseMode::kStream;
    op.success_codes = {200};
    all.operations.push_back(std::move(op));
    out.push_back(std::move(all));
  }
  if (r.HasVerb("watch") && !c.custom) {
    auto watch_op = [&](std::string action, std::string id, std::string description) {
      Operation op = MakeOp("get", std::move(action), std::move(id), std::move(description), c.gvk);
      op.response = Object(MetaKind("WatchEvent"));
      op.response_mode = ResponseMode::kStream;
      op.success_codes = {200};
      return op;
    };
    std::string ns = r.namespaced ? "/namespaces/{namespace}" : "";
    // The deprecated watch paths carry the list parameters on the path, as Kubernetes has it.
    auto watch_params = [&](bool with_name, bool with_namespace) {
      std::vector<Parameter> params = ListParams();
      if (with_name) params.push_back(PathParam("name", "The name of the " + kind + "."));
      if (with_namespace) params.push_back(PathParam("namespace", "The namespace of the object."));
      params.push_back(Pretty());
      std::sort(params.begin(), params.end(),
                [](const Parameter& a, const Parameter& b) { return a.name < b.name; });
      return params;
    };
    PathItem list{c.prefix + "/watch" + ns + "/" + r.resource, watch_params(false, r.namespaced), {}};
    list.operations.push_back(watch_op("watchlist", "watch" + c.gv_id + c.scope + kind + "List",
                                       "watch changes to a list of " + kind + "; deprecated: use "
                                       "the 'watch' parameter of the list operation"));
    out.push_back(std::move(list));
    PathItem one{c.prefix + "/watch" + ns + "/" + r.resource + "/{name}",
                 watch_params(true, r.namespaced), {}};
    one.operations.push_back(watch_op("watch", "watch" + c.gv_id + c.scope + kind,
                                      "watch changes to " + what + "; deprecated: use the "
                                      "'watch' parameter with a list operation and a field "
                                      "selector"));
    out.push_back(std::move(one));
    if (r.namespaced) {
      PathItem all{c.prefix + "/watch/" + r.resource, watch_params(false, false), {}};
      all.operations.push_back(
          watch_op("watchlist", "watch" + c.gv_id + kind + "ListForAllNamespaces",
                   "watch changes to " + kind + " objects in every namespace; deprecated"));
      out.push_back(std::move(all));
    }
  }
}

std::string MethodName(std::string_view method) {
  return Capitalized(method);  // "Get", "Post", ...
}

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& ch : out) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return out;
}

// Connect operations (exec, attach, portforward, proxy): the method's verb as the
// subresource allows it.
void AddConnectPaths(const Context& c, const SubresourceInfo& sub, std::vector<PathItem>& out) {
  const ResourceInfo& r = c.r;
  Gvk gvk{sub.group.empty() ? r.group : sub.group, sub.version.empty() ? r.version : sub.version,
          sub.kind};
  std::string sub_id = Capitalized(sub.name);
  auto has = [&](std::string_view verb) {
    return std::find(sub.verbs.begin(), sub.verbs.end(), verb) != sub.verbs.end();
  };
  std::vector<std::pair<std::string, std::string>> methods;  // method, verb
  if (sub.name == "proxy") {
    methods = {{"get", "get"}, {"put", "update"}, {"post", "create"}, {"patch", "patch"},
               {"delete", "delete"}};
  } else {
    methods = {{"get", "get"}, {"post", "create"}};
  }
  std::vector<Parameter> op_params;
  if (sub.name == "exec") op_params = StreamParams(true);
  if (sub.name == "attach") op_params = StreamParams(false);
  if (sub.name == "portforward") {
    op_params = {Query("ports", ParamType::kInteger, "The ports to forward.")};
  }
  for (bool with_path : {false, true}) {
    if (with_path && sub.name != "proxy") break;
    PathItem item{c.item_path + "/" + sub.name + (with_path ? "/{path}" : ""), {}, {}};
    item.parameters.push_back(PathParam("name", "The name of the " + gvk.kind + "."));
    if (r.namespaced) {
      item.parameters.push_back(PathParam("namespace", "The namespace of the object."));
    }
    if (with_path) item.parameters.push_back(PathParam("path", "The path to proxy to."));
    std::vector<Parameter> params = op_params;
    if (sub.name == "proxy" && !with_path) {
      params.push_back(Query("path", ParamType::kString, "The path to proxy to."));
    }
    for (const auto& [method, verb] : methods) {
      if (!has(verb)) continue;
      Operation op = MakeOp(method, "connect",
                            "connect" + c.gv_id + MethodName(method) + c.scope + r.kind + sub_id +
                                (with_path ? "WithPath" : ""),
                            "connect " + Upper(method) + " requests to " + sub.name + " of " +
                                r.kind,
                            gvk);
      op.parameters = params;
      op.response = {BodyType::What::kString, {}};
      op.response_mode = ResponseMode::kText;
      op.success_codes = {200};
      item.operations.push_back(std::move(op));
    }
    if (!item.operations.empty()) out.push_back(std::move(item));
  }
}

void AddSubresourcePaths(const Context& c, std::vector<PathItem>& out) {
  const ResourceInfo& r = c.r;
  for (const SubresourceInfo& sub : r.subresources) {
    if (sub.name == "exec" || sub.name == "attach" || sub.name == "portforward" ||
        sub.name == "proxy") {
      AddConnectPaths(c, sub, out);
      continue;
    }
    Gvk gvk{sub.group.empty() ? r.group : sub.group, sub.version.empty() ? r.version : sub.version,
            sub.kind.empty() ? r.kind : sub.kind};
    auto has = [&](std::string_view verb) {
      return std::find(sub.verbs.begin(), sub.verbs.end(), verb) != sub.verbs.end();
    };
    std::string sub_id = Capitalized(sub.name);
    std::string base = c.gv_id + c.scope + r.kind + sub_id;
    std::string of = sub.name + " of the specified " + r.kind;
    PathItem item{c.item_path + "/" + sub.name, ScopeParams(r, true, gvk.kind), {}};
    if (sub.name == "log") {
      if (has("get")) {
        Operation op = MakeOp("get", "get", "read" + base, "read the log of the specified " + r.kind,
                              GvkOf(r, r.kind));
        op.parameters = LogParams();
        op.response = {BodyType::What::kString, {}};
        op.response_mode = ResponseMode::kText;
        op.success_codes = {200};
        item.operations.push_back(std::move(op));
      }
    } else if (sub.name == "binding" || sub.name == "eviction" || sub.name == "token") {
      if (has("create")) item.operations.push_back(PostOp("create" + base, "create " + of, gvk));
    } else {
      if (has("get")) item.operations.push_back(GetOp("read" + base, "read " + of, gvk));
      if (has("update")) item.operations.push_back(PutOp("replace" + base, "replace " + of, gvk));
      if (has("patch")) {
        item.operations.push_back(PatchOp("patch" + base, "partially update " + of, gvk));
      }
    }
    if (!item.operations.empty()) out.push_back(std::move(item));
  }
}

}  // namespace

std::string GroupVersionPrefix(std::string_view group, std::string_view version) {
  if (group.empty()) return "/api/" + std::string(version);
  return "/apis/" + std::string(group) + "/" + std::string(version);
}

std::string GroupVersionTag(std::string_view group, std::string_view version) {
  std::string id = GroupVersionId(group, version);
  std::string name = id.substr(0, id.size() - version.size());
  if (!name.empty()) name[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(name[0])));
  return name + "_" + std::string(version);
}

std::vector<PathItem> BuildPaths(const resources::ResourceTable& table, std::string_view group,
                                 std::string_view version, const CustomResources& custom) {
  std::vector<PathItem> out;
  std::vector<const ResourceInfo*> resources = table.ResourcesOf(group, version);
  if (resources.empty()) return out;
  std::string prefix = GroupVersionPrefix(group, version);
  std::string gv_id = GroupVersionId(group, version);

  // GET /apis/<group>/<version>/: the group version's own discovery document.
  PathItem discovery{prefix + "/", {}, {}};
  Operation get = MakeOp("get", "get", "get" + gv_id + "APIResources",
                         "get the resources available in this group version", {});
  get.response = Object(MetaKind("APIResourceList"));
  get.success_codes = {200};
  // Not an object kind of this group: no x-kubernetes-group-version-kind.
  get.gvk = {};
  discovery.operations.push_back(std::move(get));
  out.push_back(std::move(discovery));

  for (const ResourceInfo* r : resources) {
    Context c{*r, prefix, gv_id, r->namespaced ? "Namespaced" : "", GvkOf(*r, r->kind), "", "",
              custom.Contains(r->group, r->version, r->resource)};
    c.plural_path = prefix + (r->namespaced ? "/namespaces/{namespace}/" : "/") + r->resource;
    c.item_path = c.plural_path + "/{name}";
    size_t first = out.size();
    AddResourcePaths(c, out);
    AddSubresourcePaths(c, out);
    for (size_t i = first; i < out.size(); ++i) {
      for (Operation& op : out[i].operations) op.custom = c.custom;
    }
  }
  std::sort(out.begin(), out.end(),
            [](const PathItem& a, const PathItem& b) { return a.path < b.path; });
  return out;
}

}  // namespace kite::openapi
