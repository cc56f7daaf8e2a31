#include "src/server/apiserver/request_info.h"

#include <cctype>

namespace kite::apiserver {
namespace {

std::vector<std::string> SplitPath(std::string_view path) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i < path.size()) {
    while (i < path.size() && path[i] == '/') ++i;
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (j > i) parts.emplace_back(path.substr(i, j - i));
    i = j;
  }
  return parts;
}

}  // namespace

QueryParams QueryParams::Parse(std::string_view raw) {
  QueryParams params;
  size_t i = 0;
  while (i <= raw.size() && !raw.empty()) {
    size_t amp = raw.find('&', i);
    if (amp == std::string_view::npos) amp = raw.size();
    std::string_view pair = raw.substr(i, amp - i);
    if (!pair.empty()) {
      size_t eq = pair.find('=');
      std::string name, value;
      bool ok = PercentDecode(pair.substr(0, eq), true, name);
      if (ok && eq != std::string_view::npos) ok = PercentDecode(pair.substr(eq + 1), true, value);
      if (ok) params.values_.emplace(std::move(name), std::move(value));  // first one wins
    }
    if (amp == raw.size()) break;
    i = amp + 1;
  }
  return params;
}

const std::string& QueryParams::Get(std::string_view name) const {
  static const std::string kEmpty;
  auto it = values_.find(name);
  return it == values_.end() ? kEmpty : it->second;
}

bool QueryParams::GetBool(std::string_view name) const {
  // As Kubernetes converts query booleans: present means true unless "0" or "false" in any
  // case (clients send "true", "1", "True", or an empty value).
  auto it = values_.find(name);
  if (it == values_.end()) return false;
  std::string v;
  for (char c : it->second) v.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  return v != "0" && v != "false";
}

RequestInfo ParseRequestInfo(std::string_view method, std::string_view path,
                             const QueryParams& query) {
  RequestInfo info;
  info.path = std::string(path);
  info.verb.clear();
  for (char c : method) info.verb.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));

  std::vector<std::string> parts = SplitPath(path);
  if (parts.empty() || (parts[0] != "api" && parts[0] != "apis")) return info;
  size_t pos = 1;
  info.api_prefix = parts[0];
  if (info.api_prefix == "apis") {
    if (parts.size() < 3) return info;  // /apis, /apis/<group>: discovery
    info.group = parts[1];
    info.version = parts[2];
    pos = 3;
  } else {
    if (parts.size() < 2) return info;  // /api: discovery
    info.version = parts[1];
    pos = 2;
  }
  std::vector<std::string> rest(parts.begin() + static_cast<std::ptrdiff_t>(pos), parts.end());
  if (rest.empty()) return info;  // /api/v1: discovery
  info.is_resource_request = true;

  bool legacy_watch = false;
  if (rest[0] == "watch") {  // the deprecated /watch/ path prefix
    legacy_watch = true;
    rest.erase(rest.begin());
    if (rest.empty()) {
      info.is_resource_request = false;
      return info;
    }
  }

  if (rest[0] == "namespaces" && rest.size() > 1) {
    info.namespace_name = rest[1];
    // namespaces/<ns>/<resource>...; but namespaces/<ns>/status and /finalize are the
    // namespace's own subresources.
    if (rest.size() > 2 && rest[2] != "status" && rest[2] != "finalize") {
      rest.erase(rest.begin(), rest.begin() + 2);
    }
  }
  info.resource = rest[0];
  if (rest.size() > 1) info.name = rest[1];
  if (rest.size() > 2) info.subresource = rest[2];
  if (info.resource == "namespaces") info.namespace_name = info.name;

  if (method == "GET") {
    if (legacy_watch || query.GetBool("watch")) {
      info.verb = "watch";
    } else {
      info.verb = info.name.empty() ? "list" : "get";
    }
    // A WebSocket exec, attach or port-forward is a GET, but what it does is a create: it
    // needs the verb that SPDY's POST needs (Kubernetes checks "create" for both).
    if (info.group.empty() && info.resource == "pods" &&
        (info.subresource == "exec" || info.subresource == "attach" ||
         info.subresource == "portforward")) {
      info.verb = "create";
    }
  } else if (method == "POST") {
    info.verb = "create";
  } else if (method == "PUT") {
    info.verb = "update";
  } else if (method == "PATCH") {
    info.verb = "patch";
  } else if (method == "DELETE") {
    info.verb = info.name.empty() ? "deletecollection" : "delete";
  }
  return info;
}

}  // namespace kite::apiserver
