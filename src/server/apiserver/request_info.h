// What an HTTP request asks of the API, decoded from its method, path and query the way
// Kubernetes' RequestInfoFactory does it: /api/v1/namespaces/ns/pods/name/log is a "get" of
// the "log" subresource of pod "name" in namespace "ns".
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "src/base/percent_encoding.h"  // PercentDecode, which query parsing uses

namespace kite::apiserver {

// Query parameters, percent- and '+'-decoded. A repeated parameter keeps its first value.
class QueryParams {
 public:
  static QueryParams Parse(std::string_view raw_query);
  bool Has(std::string_view name) const { return values_.count(std::string(name)) > 0; }
  // The value, or "" when absent.
  const std::string& Get(std::string_view name) const;
  // Present and not "0"/"false" (any case) is true; absent is false.
  bool GetBool(std::string_view name) const;

 private:
  std::map<std::string, std::string, std::less<>> values_;
};

struct RequestInfo {
  bool is_resource_request = false;
  std::string path;  // always set; what non-resource requests are routed by
  std::string api_prefix;  // "api" or "apis"
  std::string group;       // "" for core
  std::string version;
  std::string namespace_name;  // "" for cluster-scoped requests and all-namespaces lists
  std::string resource;
  std::string name;
  std::string subresource;
  // get list watch create update patch delete deletecollection, or the lower-cased method
  // for non-resource requests.
  std::string verb;
};

RequestInfo ParseRequestInfo(std::string_view method, std::string_view path,
                             const QueryParams& query);

}  // namespace kite::apiserver
