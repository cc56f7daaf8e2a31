#include "src/server/metrics/metrics_api.h"

#include <optional>
#include <string>
#include <utility>

#include "src/base/go_duration.h"
#include "src/server/apiserver/api_error.h"
#include "src/server/apiserver/content_types.h"
#include "src/server/json/json_util.h"
#include "src/server/metrics/quantity_format.h"
#include "src/server/selection/field_selector.h"
#include "src/server/selection/label_selector.h"

namespace kite::metrics {
namespace {

using apiserver::ErrorResponse;
using apiserver::JsonResponse;
using apiserver::RestRequest;
using rapidjson::Document;
using rapidjson::Value;
using Allocator = Document::AllocatorType;

Value Text(std::string_view s, Allocator& a) {
  return Value(s.data(), static_cast<rapidjson::SizeType>(s.size()), a);
}

Value UsageJson(const Usage& usage, Allocator& a) {
  Value out(rapidjson::kObjectType);
  out.AddMember("cpu", Text(FormatCpuNanocores(usage.cpu_nanocores), a), a);
  out.AddMember("memory", Text(FormatMemoryBytes(usage.memory_bytes), a), a);
  return out;
}

Value MetadataJson(std::string_view ns, std::string_view name, const Labels& labels, int64_t now_ms,
                   Allocator& a) {
  Value md(rapidjson::kObjectType);
  md.AddMember("name", Text(name, a), a);
  if (!ns.empty()) md.AddMember("namespace", Text(ns, a), a);
  md.AddMember("creationTimestamp", Text(FormatRfc3339Seconds(now_ms), a), a);
  if (!labels.empty()) {
    Value l(rapidjson::kObjectType);
    for (const auto& [k, v] : labels) l.AddMember(Text(k, a), Text(v, a), a);
    md.AddMember("labels", l, a);
  }
  return md;
}

void AddTimes(Document& doc, int64_t timestamp_ms, int64_t window_ms) {
  auto& a = doc.GetAllocator();
  doc.AddMember("timestamp", Text(FormatRfc3339Seconds(timestamp_ms), a), a);
  doc.AddMember("window", Text(FormatGoDuration(window_ms * 1'000'000), a), a);
}

// {"kind","apiVersion"} first, then the object's own members, as a single object is served.
Document WithType(const Document& object, std::string_view kind) {
  Document out(rapidjson::kObjectType);
  auto& a = out.GetAllocator();
  out.AddMember("kind", Text(kind, a), a);
  out.AddMember("apiVersion", Text(std::string(kMetricsGroup) + "/" + kMetricsVersion, a), a);
  for (const auto& m : object.GetObject()) out.AddMember(Value(m.name, a), Value(m.value, a), a);
  return out;
}

// The metadata a field selector can test: {"metadata": {"name", "namespace"}}.
Document SelectableFields(std::string_view ns, std::string_view name) {
  Document doc(rapidjson::kObjectType);
  auto& a = doc.GetAllocator();
  Value md(rapidjson::kObjectType);
  md.AddMember("name", Text(name, a), a);
  md.AddMember("namespace", Text(ns, a), a);
  doc.AddMember("metadata", md, a);
  return doc;
}

Document LabelsDoc(const Labels& labels) {
  Document doc(rapidjson::kObjectType);
  auto& a = doc.GetAllocator();
  for (const auto& [k, v] : labels) doc.AddMember(Text(k, a), Text(v, a), a);
  return doc;
}

struct Selectors {
  selection::LabelSelector labels;
  selection::FieldSelector fields;
};

Result<Selectors> ParseSelectors(const RestRequest& r) {
  Selectors s;
  Result<selection::LabelSelector> labels = selection::LabelSelector::Parse(r.query.Get("labelSelector"));
  if (!labels.ok()) return labels.status();
  s.labels = std::move(labels).value();
  Result<selection::FieldSelector> fields =
      selection::FieldSelector::Parse(r.query.Get("fieldSelector"), selection::FieldSet::MetadataOnly());
  if (!fields.ok()) return fields.status();
  s.fields = std::move(fields).value();
  return s;
}

// A meta.k8s.io/v1 Table of the objects with metrics-server's columns.
http::Response TableResponse(const std::vector<const Document*>& objects, const std::vector<Usage>& totals,
                             const std::vector<int64_t>& windows) {
  Document table(rapidjson::kObjectType);
  auto& a = table.GetAllocator();
  table.AddMember("kind", "Table", a);
  table.AddMember("apiVersion", "meta.k8s.io/v1", a);
  table.AddMember("metadata", Value(rapidjson::kObjectType), a);
  Value columns(rapidjson::kArrayType);
  auto column = [&](const char* name, const char* format, const char* description) {
    Value c(rapidjson::kObjectType);
    c.AddMember("name", Value(name, a), a);
    c.AddMember("type", "string", a);
    c.AddMember("format", Value(format, a), a);
    c.AddMember("description", Value(description, a), a);
    c.AddMember("priority", 0, a);
    columns.PushBack(c, a);
  };
  column("Name", "name", "Name of the resource");
  column("cpu", "quantity", "");
  column("memory", "quantity", "");
  column("Window", "duration", "");
  table.AddMember("columnDefinitions", columns, a);
  Value rows(rapidjson::kArrayType);
  for (size_t i = 0; i < objects.size(); ++i) {
    const Value* md = json::Member(*objects[i], "metadata");
    Value cells(rapidjson::kArrayType);
    cells.PushBack(Text(md ? json::StringMember(*md, "name") : "", a), a);
    cells.PushBack(Text(FormatCpuNanocores(totals[i].cpu_nanocores), a), a);
    cells.PushBack(Text(FormatMemoryBytes(totals[i].memory_bytes), a), a);
    cells.PushBack(Text(FormatGoDuration(windows[i] * 1'000'000), a), a);
    Value partial(rapidjson::kObjectType);
    partial.AddMember("kind", "PartialObjectMetadata", a);
    partial.AddMember("apiVersion", "meta.k8s.io/v1", a);
    partial.AddMember("metadata", md ? Value(*md, a) : Value(rapidjson::kObjectType), a);
    Value row(rapidjson::kObjectType);
    row.AddMember("cells", cells, a);
    row.AddMember("object", partial, a);
    rows.PushBack(row, a);
  }
  table.AddMember("rows", rows, a);
  return JsonResponse(200, json::ToJson(table));
}

bool WantsTable(const RestRequest& r) {
  return r.http && apiserver::NegotiateObjectOutput(r.http->Header("accept")) == apiserver::OutputKind::kTable;
}

http::Response ListResponse(std::string_view kind, std::vector<Document> items) {
  Document list(rapidjson::kObjectType);
  auto& a = list.GetAllocator();
  list.AddMember("kind", Text(kind, a), a);
  list.AddMember("apiVersion", Text(std::string(kMetricsGroup) + "/" + kMetricsVersion, a), a);
  list.AddMember("metadata", Value(rapidjson::kObjectType), a);
  Value array(rapidjson::kArrayType);
  for (Document& item : items) array.PushBack(Value(item, a), a);
  list.AddMember("items", array, a);
  return JsonResponse(200, json::ToJson(list));
}

std::vector<resources::ResourceInfo> MetricsResources() {
  resources::ResourceInfo nodes;
  nodes.group = kMetricsGroup;
  nodes.version = kMetricsVersion;
  nodes.resource = "nodes";
  nodes.singular = "nodemetrics";
  nodes.kind = "NodeMetrics";
  nodes.list_kind = "NodeMetricsList";
  nodes.namespaced = false;
  nodes.verbs = {"get", "list"};
  resources::ResourceInfo pods = nodes;
  pods.resource = "pods";
  pods.singular = "podmetrics";
  pods.kind = "PodMetrics";
  pods.list_kind = "PodMetricsList";
  pods.namespaced = true;
  return {nodes, pods};
}

}  // namespace

Document NodeMetricsObject(const NodeUsage& usage, int64_t now_ms) {
  Document doc(rapidjson::kObjectType);
  auto& a = doc.GetAllocator();
  doc.AddMember("metadata", MetadataJson("", usage.name, usage.labels, now_ms, a), a);
  AddTimes(doc, usage.timestamp_ms, usage.window_ms);
  doc.AddMember("usage", UsageJson(usage.usage, a), a);
  return doc;
}

Document PodMetricsObject(const PodUsage& usage, int64_t now_ms) {
  Document doc(rapidjson::kObjectType);
  auto& a = doc.GetAllocator();
  doc.AddMember("metadata", MetadataJson(usage.namespace_, usage.name, usage.labels, now_ms, a), a);
  AddTimes(doc, usage.timestamp_ms, usage.window_ms);
  Value containers(rapidjson::kArrayType);
  for (const ContainerUsage& c : usage.containers) {
    Value container(rapidjson::kObjectType);
    container.AddMember("name", Text(c.name, a), a);
    container.AddMember("usage", UsageJson(c.usage, a), a);
    containers.PushBack(container, a);
  }
  doc.AddMember("containers", containers, a);
  return doc;
}

MetricsApi::MetricsApi(const MetricsStore* store, const Clock* clock)
    : store_(store), clock_(clock ? clock : SystemClock::Get()), resources_(MetricsResources()) {}

http::HandlerResult MetricsApi::Serve(const RestRequest& request) {
  if (!request.info.subresource.empty()) {
    return ErrorResponse(apiserver::NotFoundError({kMetricsGroup, request.info.resource}, request.info.name));
  }
  if (request.info.resource == "nodes") return ServeNodes(request);
  if (request.info.resource == "pods") return ServePods(request);
  return ErrorResponse(apiserver::NotFoundError({kMetricsGroup, request.info.resource}, request.info.name));
}

http::HandlerResult MetricsApi::ServeNodes(const RestRequest& r) {
  int64_t now = clock_->NowMillis();
  if (r.info.verb == "get") {
    std::optional<NodeUsage> usage = store_->NodeMetrics(r.info.name);
    if (!usage) return ErrorResponse(apiserver::NotFoundError({kMetricsGroup, "nodemetrics"}, r.info.name));
    Document object = NodeMetricsObject(*usage, now);
    if (WantsTable(r)) return TableResponse({&object}, {usage->usage}, {usage->window_ms});
    return JsonResponse(200, json::ToJson(WithType(object, "NodeMetrics")));
  }
  Result<Selectors> selectors = ParseSelectors(r);
  if (!selectors.ok()) return ErrorResponse(apiserver::BadRequestError(selectors.status().message()));
  std::vector<Document> items;
  std::vector<Usage> totals;
  std::vector<int64_t> windows;
  for (const NodeUsage& usage : store_->ListNodeMetrics()) {
    Document labels = LabelsDoc(usage.labels);
    if (!selectors->labels.Matches(&labels)) continue;
    if (!selectors->fields.Empty() && !selectors->fields.Matches(SelectableFields("", usage.name))) continue;
    items.push_back(NodeMetricsObject(usage, now));
    totals.push_back(usage.usage);
    windows.push_back(usage.window_ms);
  }
  if (WantsTable(r)) {
    std::vector<const Document*> objects;
    for (const Document& d : items) objects.push_back(&d);
    return TableResponse(objects, totals, windows);
  }
  return ListResponse("NodeMetricsList", std::move(items));
}

http::HandlerResult MetricsApi::ServePods(const RestRequest& r) {
  int64_t now = clock_->NowMillis();
  const std::string& ns = r.info.namespace_name;
  if (r.info.verb == "get") {
    std::optional<PodUsage> usage = store_->PodMetrics(ns, r.info.name);
    if (!usage) {
      return ErrorResponse(apiserver::NotFoundError({kMetricsGroup, "podmetrics"}, ns + "/" + r.info.name));
    }
    Document object = PodMetricsObject(*usage, now);
    if (WantsTable(r)) return TableResponse({&object}, {usage->Total()}, {usage->window_ms});
    return JsonResponse(200, json::ToJson(WithType(object, "PodMetrics")));
  }
  Result<Selectors> selectors = ParseSelectors(r);
  if (!selectors.ok()) return ErrorResponse(apiserver::BadRequestError(selectors.status().message()));
  std::vector<Document> items;
  std::vector<Usage> totals;
  std::vector<int64_t> windows;
  for (const PodUsage& usage : store_->ListPodMetrics(ns, selectors->labels)) {
    if (!selectors->fields.Empty() &&
        !selectors->fields.Matches(SelectableFields(usage.namespace_, usage.name))) {
      continue;
    }
    items.push_back(PodMetricsObject(usage, now));
    totals.push_back(usage.Total());
    windows.push_back(usage.window_ms);
  }
  if (WantsTable(r)) {
    std::vector<const Document*> objects;
    for (const Document& d : items) objects.push_back(&d);
    return TableResponse(objects, totals, windows);
  }
  return ListResponse("PodMetricsList", std::move(items));
}

}  // namespace kite::metrics
