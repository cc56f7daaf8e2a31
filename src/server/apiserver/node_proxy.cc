#include "src/server/apiserver/node_proxy.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <system_error>
#include <thread>
#include <vector>

#include "src/base/clock.h"
#include "src/server/apiserver/object_codec.h"
#include "src/server/json/json_util.h"
#include "src/server/schema/well_known_types.h"

namespace kite::apiserver {
using namespace kite::json;  // NOLINT: the JSON helpers are this layer's vocabulary
namespace {

using rapidjson::Document;
using rapidjson::Value;

const GroupResource kPods{"", "pods"};
const GroupResource kNodes{"", "nodes"};

// --- queries ---------------------------------------------------------------------------------

// Every value of every parameter, in order (exec's `command` repeats).
std::vector<std::pair<std::string, std::string>> QueryPairs(std::string_view raw) {
  std::vector<std::pair<std::string, std::string>> pairs;
  while (!raw.empty()) {
    size_t amp = raw.find('&');
    std::string_view pair = raw.substr(0, amp);
    raw = amp == std::string_view::npos ? std::string_view() : raw.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::string name, value;
    if (!PercentDecode(pair.substr(0, eq), true, name)) continue;
    if (eq != std::string_view::npos && !PercentDecode(pair.substr(eq + 1), true, value)) continue;
    pairs.emplace_back(std::move(name), std::move(value));
  }
  return pairs;
}

std::vector<std::string> QueryValues(const http::Request& request, std::string_view name) {
  std::vector<std::string> values;
  for (auto& [n, v] : QueryPairs(request.query)) {
    if (n == name) values.push_back(std::move(v));
  }
  return values;
}

// Go's url.QueryEscape.
std::string QueryEscape(std::string_view s) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(c);
    } else if (c == ' ') {
      out.push_back('+');
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 15]);
    }
  }
  return out;
}

// url.Values.Encode: sorted by name (stable for repeated names).
std::string EncodeQuery(std::vector<std::pair<std::string, std::string>> params) {
  std::stable_sort(params.begin(), params.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string out;
  for (const auto& [name, value] : params) {
    if (!out.empty()) out += '&';
    out += QueryEscape(name) + "=" + QueryEscape(value);
  }
  return out;
}

// Kubernetes' query conversion of an integer: strconv.ParseInt's error text on failure.
ApiResult<std::optional<int64_t>> QueryInt(const QueryParams& query, std::string_view name) {
  if (!query.Has(name) || query.Get(name).empty()) return std::optional<int64_t>();
  const std::string& text = query.Get(name);
  int64_t value = 0;
  const char* begin = text.data();
  if (*begin == '+') ++begin;
  auto [end, ec] = std::from_chars(begin, text.data() + text.size(), value);
  if (ec == std::errc::result_out_of_range) {
    return BadRequestError("strconv.ParseInt: parsing \"" + text + "\": value out of range");
  }
  if (ec != std::errc() || end != text.data() + text.size() || begin == end) {
    return BadRequestError("strconv.ParseInt: parsing \"" + text + "\": invalid syntax");
  }
  return std::optional<int64_t>(value);
}

// --- the pod --------------------------------------------------------------------------------

ApiResult<Document> ReadObject(store::KvStore* kv, const GroupResource& what,
                               std::string_view ns, std::string_view name) {
  Result<store::KeyValue> stored = kv->Get(ObjectKey(what.group, what.resource, ns, name));
  if (!stored.ok()) return FromStoreStatus(stored.status(), what, name);
  Result<Document> object = ParseJsonObject(stored->value);
  if (!object.ok()) return InternalServerError("stored " + what.resource + " " + std::string(name) + ": " + object.status().message());
  return std::move(object).value();
}

// Container names in the order Kubernetes visits them: init, regular, ephemeral.
std::vector<std::string> ContainerNames(const Value& pod) {
  std::vector<std::string> names;
  const Value* spec = Member(pod, "spec");
  if (!spec) return names;
  for (const char* list : {"initContainers", "containers", "ephemeralContainers"}) {
    const Value* containers = Member(*spec, list);
    if (!containers || !containers->IsArray()) continue;
    for (const Value& c : containers->GetArray()) {
      if (c.IsObject()) names.emplace_back(StringMember(c, "name"));
    }
  }
  return names;
}

size_t RegularContainerCount(const Value& pod, std::string* only_name) {
  const Value* spec = Member(pod, "spec");
  const Value* containers = spec ? Member(*spec, "containers") : nullptr;
  if (!containers || !containers->IsArray()) return 0;
  if (containers->Size() == 1 && (*containers)[0].IsObject()) {
    *only_name = std::string(StringMember((*containers)[0], "name"));
  }
  return containers->Size();
}

std::string GoList(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += " ";
    out += items[i];
  }
  return out + "]";
}

// strategy.go validateContainer: the container to use, or the 400 Kubernetes answers.
ApiResult<std::string> ValidateContainer(const std::string& requested, const Value& pod,
                                         const std::string& pod_name) {
  if (requested.empty()) {
    std::string only;
    size_t count = RegularContainerCount(pod, &only);
    if (count == 1) return only;
    if (count == 0) return BadRequestError("a container name must be specified for pod " + pod_name);
    return BadRequestError("a container name must be specified for pod " + pod_name +
                           ", choose one of: " + GoList(ContainerNames(pod)));
  }
  std::vector<std::string> names = ContainerNames(pod);
  if (std::find(names.begin(), names.end(), requested) == names.end()) {
    return BadRequestError("container " + requested + " is not valid for pod " + pod_name);
  }
  return requested;
}

const Value* FindStatus(const Value& pod, const std::string& container) {
  const Value* status = Member(pod, "status");
  if (!status) return nullptr;
  for (const char* list : {"containerStatuses", "initContainerStatuses", "ephemeralContainerStatuses"}) {
    const Value* statuses = Member(*status, list);
    if (!statuses || !statuses->IsArray()) continue;
    for (const Value& s : statuses->GetArray()) {
      if (s.IsObject() && StringMember(s, "name") == container) return &s;
    }
  }
  return nullptr;
}

// The kubelet's validateContainerLogStatus over the pod's reported status: why there is no
// log to show, or nullopt.
std::optional<ApiError> ContainerLogStatusError(const Value& pod, const std::string& pod_name,
                                                const std::string& container, bool previous) {
  std::string who = "container \"" + container + "\" in pod \"" + pod_name + "\"";
  const Value* status = FindStatus(pod, container);
  if (!status) return BadRequestError(who + " is not available");
  auto state_of = [](const Value* holder, const char* field) -> const Value* {
    const Value* state = holder ? Member(*holder, field) : nullptr;
    return state && state->IsObject() ? state : nullptr;
  };
  const Value* state = state_of(status, "state");
  const Value* last = state_of(status, "lastState");
  const Value* waiting = state_of(state, "waiting");
  const Value* running = state_of(state, "running");
  const Value* terminated = state_of(state, "terminated");
  const Value* last_terminated = state_of(last, "terminated");
  auto container_id = [](const Value* v) { return v ? std::string(StringMember(*v, "containerID")) : std::string(); };
  if (previous) {
    if (!last_terminated || container_id(last_terminated).empty()) {
      return BadRequestError("previous terminated " + who + " not found");
    }
    return std::nullopt;
  }
  if (running) return std::nullopt;
  if (terminated) {
    if (!container_id(terminated).empty() || !container_id(last_terminated).empty()) return std::nullopt;
    return BadRequestError(who + " is terminated");
  }
  if (last_terminated) {
    if (container_id(last_terminated).empty()) return BadRequestError(who + " is terminated");
    return std::nullopt;
  }
  if (waiting) {
    std::string reason(StringMember(*waiting, "reason"));
    if (reason == "ErrImagePull") return BadRequestError(who + " is waiting to start: image can't be pulled");
    if (reason == "ImagePullBackOff") {
      return BadRequestError(who + " is waiting to start: trying and failing to pull image");
    }
    return BadRequestError(who + " is waiting to start: " + reason);
  }
  return BadRequestError(who + " is waiting to start - no logs yet");
}

// An error that is not an API status: Kubernetes answers 500 with its text and no reason.
ApiError PlainServerError(std::string message) {
  ApiError e;
  e.code = 500;
  e.message = std::move(message);
  return e;
}

// The node's agent, from the pod's spec.nodeName.
ApiResult<NodeEndpoint> AgentOf(store::KvStore* kv, std::string_view node_name) {
  ApiResult<Document> node = ReadObject(kv, kNodes, "", node_name);
  if (!node.ok()) return node.error();
  Result<NodeEndpoint> endpoint = NodeEndpointOf(*node);
  if (!endpoint.ok()) return PlainServerError(endpoint.status().message());
  return *endpoint;
}

// What a non-2xx answer of the agent becomes (genericrest.GenericHttpResponseChecker).
ApiError AgentError(int status, std::string body, const std::string& name) {
  while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) body.pop_back();
  // An agent that answers with a Status object: its message.
  if (Result<Document> parsed = ParseJsonObject(body); parsed.ok()) {
    std::string_view message = StringMember(*parsed, "message");
    if (StringMember(*parsed, "kind") == "Status" && !message.empty()) body = std::string(message);
  }
  if (status == 400) return BadRequestError(body);
  if (status == 500) return InternalServerError(body);
  ApiError e;
  e.code = status;
  e.name = name;
  e.kind = "pods/log";
  e.causes.push_back({"", body, ""});
  if (status == 404) {
    e.reason = "NotFound";
    e.message = "the server could not find the requested resource (pods/log " + name + ")";
  } else if (status == 403) {
    e.reason = "Forbidden";
    e.message = body + " (pods/log " + name + ")";
  } else {
    e.message = "the server responded with the status code " + std::to_string(status) +
                " but did not return more information (pods/log " + name + ")";
  }
  return e;
}

// --- pods/log -------------------------------------------------------------------------------

http::HandlerResult ServeLog(const RestRequest& r, store::KvStore* kv, KubeletClient* kubelet) {
  const std::string& name = r.info.name;
  if (r.info.verb != "get") return ErrorResponse(MethodNotAllowedError(r.info.verb, {"", "pods/log"}));

  // Decoding (400), then PodLogOptions validation (422), as the REST layer does.
  bool follow = r.query.GetBool("follow");
  bool previous = r.query.GetBool("previous");
  bool timestamps = r.query.GetBool("timestamps");
  std::optional<int64_t> tail_lines, since_seconds, limit_bytes;
  for (auto [param, out] : {std::pair{"tailLines", &tail_lines}, std::pair{"sinceSeconds", &since_seconds},
                            std::pair{"limitBytes", &limit_bytes}}) {
    ApiResult<std::optional<int64_t>> parsed = QueryInt(r.query, param);
    if (!parsed.ok()) return ErrorResponse(parsed.error());
    *out = *parsed;
  }
  std::optional<int64_t> since_time;  // Unix seconds: Kubernetes passes it on to the second
  if (const std::string& text = r.query.Get("sinceTime"); !text.empty() && text != "null") {
    int64_t seconds = 0;
    int32_t nanos = 0;
    if (!schema::ParseRfc3339(text, &seconds, &nanos)) {
      return ErrorResponse(BadRequestError("parsing time \"" + text +
                                           "\" as \"2006-01-02T15:04:05Z07:00\": cannot parse \"" +
                                           text + "\" as RFC 3339"));
    }
    since_time = seconds;
  }
  std::vector<StatusCause> causes;
  if (tail_lines && *tail_lines < 0) {
    causes.push_back(validation::InvalidRawCause("tailLines", std::to_string(*tail_lines),
                                                 "must be greater than or equal to 0"));
  }
  if (limit_bytes && *limit_bytes < 1) {
    causes.push_back(validation::InvalidRawCause("limitBytes", std::to_string(*limit_bytes),
                                                 "must be greater than 0"));
  }
  if (since_seconds && since_time) {
    causes.push_back(validation::ForbiddenCause("", "at most one of `sinceTime` or `sinceSeconds` may be specified"));
  } else if (since_seconds && *since_seconds < 1) {
    causes.push_back(validation::InvalidRawCause("sinceSeconds", std::to_string(*since_seconds),
                                                 "must be greater than 0"));
  }
  if (!causes.empty()) return ErrorResponse(InvalidError("", "PodLogOptions", name, std::move(causes)));

  ApiResult<Document> pod = ReadObject(kv, kPods, r.info.namespace_name, name);
  if (!pod.ok()) return ErrorResponse(pod.error());
  ApiResult<std::string> container = ValidateContainer(r.query.Get("container"), *pod, name);
  if (!container.ok()) return ErrorResponse(container.error());
  const Value* spec = Member(*pod, "spec");
  std::string node_name = spec ? std::string(StringMember(*spec, "nodeName")) : std::string();
  if (node_name.empty()) {  // not scheduled: Kubernetes answers with an empty log
    http::Response empty;
    empty.status = 200;
    empty.content_type = "text/plain";
    return empty;
  }
  if (auto e = ContainerLogStatusError(*pod, name, *container, previous)) return ErrorResponse(*e);
  if (!kubelet) return ErrorResponse(ServiceUnavailableError("this server does not proxy to node agents"));
  ApiResult<NodeEndpoint> agent = AgentOf(kv, node_name);
  if (!agent.ok()) return ErrorResponse(agent.error());

  std::vector<std::pair<std::string, std::string>> params;
  if (follow) params.emplace_back("follow", "true");
  if (previous) params.emplace_back("previous", "true");
  if (timestamps) params.emplace_back("timestamps", "true");
  if (since_seconds) params.emplace_back("sinceSeconds", std::to_string(*since_seconds));
  if (since_time) params.emplace_back("sinceTime", FormatRfc3339Seconds(*since_time * 1000));
  if (tail_lines) params.emplace_back("tailLines", std::to_string(*tail_lines));
  if (limit_bytes) params.emplace_back("limitBytes", std::to_string(*limit_bytes));
  std::string path = "/containerLogs/" + r.info.namespace_name + "/" + name + "/" + *container;
  std::string query = EncodeQuery(std::move(params));
  if (!query.empty()) path += "?" + query;

  Result<KubeletResponse> answer = kubelet->Get(*agent, path);
  if (!answer.ok()) return ErrorResponse(PlainServerError(answer.status().message()));
  if (answer->status < 200 || answer->status > 206) {
    return ErrorResponse(AgentError(answer->status, std::move(answer->body), name));
  }
  http::StreamingResponse streaming;
  streaming.status = 200;
  streaming.content_type = "text/plain";
  streaming.stream = std::move(answer->stream);
  return streaming;
}

// --- exec, attach, portforward ----------------------------------------------------------------

bool HasToken(const http::Request& request, std::string_view lower_name, std::string_view token) {
  for (const auto& [name, value] : request.headers) {
    if (name != lower_name) continue;
    size_t i = 0;
    while (i <= value.size()) {
      size_t comma = value.find(',', i);
      if (comma == std::string::npos) comma = value.size();
      std::string_view item = std::string_view(value).substr(i, comma - i);
      while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
      while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
      if (item.size() == token.size() &&
          std::equal(item.begin(), item.end(), token.begin(), [](char a, char b) {
            return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
          })) {
        return true;
      }
      i = comma + 1;
    }
  }
  return false;
}

// The request headers an upgrade needs on the agent, in their usual spelling.
http::HeaderList UpgradeHeaders(const http::Request& request) {
  static const std::pair<const char*, const char*> kForwarded[] = {
      {"connection", "Connection"},
      {"upgrade", "Upgrade"},
      {"sec-websocket-key", "Sec-WebSocket-Key"},
      {"sec-websocket-version", "Sec-WebSocket-Version"},
      {"sec-websocket-protocol", "Sec-WebSocket-Protocol"},
      {"sec-websocket-extensions", "Sec-WebSocket-Extensions"},
      {"x-stream-protocol-version", "X-Stream-Protocol-Version"},
  };
  http::HeaderList out;
  for (const auto& [name, value] : request.headers) {
    for (const auto& [lower, spelled] : kForwarded) {
      if (name == lower) out.emplace_back(spelled, value);
    }
  }
  return out;
}

void Copy(http::UpgradedConnection& from, http::UpgradedConnection& to) {
  std::vector<char> buffer(32 * 1024);
  for (;;) {
    size_t n = from.Read(buffer.data(), buffer.size());
    if (n == 0 || !to.Write(std::string_view(buffer.data(), n))) return;
  }
}

// Bytes both ways until either side closes; then both are closed.
void Pipe(http::UpgradedConnection& client, http::UpgradedConnection& agent) {
  std::thread from_agent;
  try {
    from_agent = std::thread([&] {
      Copy(agent, client);
      client.Close();  // ends the other direction's Read
    });
  } catch (const std::system_error&) {
    agent.Close();
    return;
  }
  Copy(client, agent);
  agent.Close();
  from_agent.join();
}

http::HandlerResult ServeStream(const RestRequest& r, store::KvStore* kv, KubeletClient* kubelet) {
  const std::string& sub = r.info.subresource;
  const std::string& name = r.info.name;
  const http::Request& request = *r.http;
  if (request.method != "GET" && request.method != "POST") {
    return ErrorResponse(MethodNotAllowedError(r.info.verb, {"", "pods/" + sub}));
  }
  if (!HasToken(request, "connection", "upgrade") || request.Header("upgrade").empty()) {
    return ErrorResponse(BadRequestError("Upgrade request required"));
  }
  std::vector<std::pair<std::string, std::string>> params;
  if (sub == "portforward") {
    // Kubernetes' query conversion: every value is a comma-separated list of uint16s.
    std::vector<std::string> ports;
    for (const std::string& value : QueryValues(request, "ports")) {
      size_t start = 0;
      for (;;) {
        size_t comma = value.find(',', start);
        std::string part = value.substr(start, comma == std::string::npos ? comma : comma - start);
        uint64_t port = 0;
        auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), port);
        bool syntax = !part.empty() && end == part.data() + part.size() &&
                      part.find_first_not_of("0123456789") == std::string::npos;
        if (!syntax || ec != std::errc() || port > 65535) {
          return ErrorResponse(BadRequestError("cannot convert to []int32: strconv.ParseUint: parsing \"" + part +
                                               (syntax ? "\": value out of range" : "\": invalid syntax")));
        }
        ports.push_back(std::to_string(port));
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
    }
    if (!ports.empty()) {
      std::string joined;
      for (const std::string& p : ports) joined += (joined.empty() ? "" : ",") + p;
      params.emplace_back("port", joined);
    }
  } else {
    // The kubelet reads input/output/error; Kite's agent reads stdin/stdout/stderr: both.
    for (auto [flag, kubelet_name] : {std::pair{"stdin", "input"}, std::pair{"stdout", "output"},
                                      std::pair{"stderr", "error"}, std::pair{"tty", ""}}) {
      if (!r.query.GetBool(flag)) continue;
      params.emplace_back(flag, "1");
      if (*kubelet_name) params.emplace_back(kubelet_name, "1");
    }
    if (sub == "exec") {
      for (std::string& c : QueryValues(request, "command")) params.emplace_back("command", std::move(c));
    }
  }

  ApiResult<Document> pod = ReadObject(kv, kPods, r.info.namespace_name, name);
  if (!pod.ok()) return ErrorResponse(pod.error());
  std::string container;
  if (sub != "portforward") {
    ApiResult<std::string> valid = ValidateContainer(r.query.Get("container"), *pod, name);
    if (!valid.ok()) return ErrorResponse(valid.error());
    container = *valid;
  }
  const Value* spec = Member(*pod, "spec");
  std::string node_name = spec ? std::string(StringMember(*spec, "nodeName")) : std::string();
  if (node_name.empty()) {
    return ErrorResponse(BadRequestError("pod " + name + " does not have a host assigned"));
  }
  if (!kubelet) return ErrorResponse(ServiceUnavailableError("this server does not proxy to node agents"));
  ApiResult<NodeEndpoint> agent = AgentOf(kv, node_name);
  if (!agent.ok()) return ErrorResponse(agent.error());

  std::string path = sub == "portforward"
                         ? "/portForward/" + r.info.namespace_name + "/" + name
                         : "/" + sub + "/" + r.info.namespace_name + "/" + name + "/" + container;
  std::string query = EncodeQuery(std::move(params));
  if (!query.empty()) path += "?" + query;

  Result<KubeletUpgrade> answer = kubelet->Upgrade(*agent, request.method, path, UpgradeHeaders(request));
  if (!answer.ok()) {
    return ErrorResponse(PlainServerError("error dialing backend: " + answer.status().message()));
  }
  if (answer->status != 101) {  // relayed as it came: clients fall back on it (WebSocket → SPDY)
    http::Response relayed;
    relayed.status = answer->status;
    relayed.content_type = answer->content_type;
    relayed.body = std::move(answer->body);
    return relayed;
  }
  http::UpgradeResponse upgrade;
  for (auto& [header, value] : answer->headers) {
    std::string lower;
    for (char c : header) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    if (lower == "date" || lower == "content-length" || lower == "transfer-encoding") continue;
    upgrade.headers.emplace_back(header, value);
  }
  std::shared_ptr<http::UpgradedConnection> backend = std::move(answer->connection);
  upgrade.session = [backend](http::UpgradedConnection& client) { Pipe(client, *backend); };
  return upgrade;
}

}  // namespace

bool IsNodeProxySubresource(std::string_view group, std::string_view resource,
                            std::string_view subresource) {
  return group.empty() && resource == "pods" &&
         (subresource == "log" || subresource == "exec" || subresource == "attach" ||
          subresource == "portforward");
}

http::HandlerResult ServeNodeProxy(const RestRequest& request, store::KvStore* kv,
                                   KubeletClient* kubelet) {
  if (request.info.subresource == "log") return ServeLog(request, kv, kubelet);
  return ServeStream(request, kv, kubelet);
}

}  // namespace kite::apiserver
