#include "src/server/apiserver/content_types.h"

#include <cctype>
#include <map>
#include <vector>

#include "src/server/json/json_util.h"

namespace kite::apiserver {
using namespace kite::json;  // NOLINT: the JSON helpers are this layer's vocabulary
namespace {

std::string Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

struct MediaRange {
  std::string type;  // lower-case "application/json"
  std::map<std::string, std::string> params;
};

std::vector<MediaRange> ParseAccept(std::string_view accept) {
  std::vector<MediaRange> out;
  size_t i = 0;
  while (i <= accept.size()) {
    size_t comma = accept.find(',', i);
    if (comma == std::string_view::npos) comma = accept.size();
    std::string_view entry = accept.substr(i, comma - i);
    MediaRange range;
    size_t semi = entry.find(';');
    range.type = Lower(Trim(entry.substr(0, semi)));
    while (semi != std::string_view::npos) {
      size_t next = entry.find(';', semi + 1);
      std::string_view param = entry.substr(semi + 1, next == std::string_view::npos ? std::string_view::npos : next - semi - 1);
      size_t eq = param.find('=');
      if (eq != std::string_view::npos) {
        range.params[Lower(Trim(param.substr(0, eq)))] = Trim(param.substr(eq + 1));
      }
      semi = next;
    }
    if (!range.type.empty()) out.push_back(std::move(range));
    if (comma == accept.size()) break;
    i = comma + 1;
  }
  return out;
}

std::string Param(const MediaRange& r, const char* name) {
  auto it = r.params.find(name);
  return it == r.params.end() ? std::string() : it->second;
}

bool IsJsonLike(const std::string& type) {
  return type == "application/json" || type == "*/*" || type == "application/*";
}

}  // namespace

std::string MediaTypeOf(std::string_view content_type) {
  return Lower(Trim(content_type.substr(0, content_type.find(';'))));
}

OutputKind NegotiateObjectOutput(std::string_view accept) {
  if (Trim(accept).empty()) return OutputKind::kJson;
  for (const MediaRange& r : ParseAccept(accept)) {
    if (!IsJsonLike(r.type)) continue;
    std::string as = Param(r, "as");
    if (as.empty()) return OutputKind::kJson;
    if (as == "Table" && Param(r, "g") == "meta.k8s.io" &&
        (Param(r, "v") == "v1" || Param(r, "v") == "v1beta1")) {
      return OutputKind::kTable;
    }
    // Other "as=" forms (PartialObjectMetadata, discovery lists) are not produced here.
  }
  return OutputKind::kNotAcceptable;
}

bool WantsAggregatedDiscovery(std::string_view accept, std::string* version) {
  for (const MediaRange& r : ParseAccept(accept)) {
    if (!IsJsonLike(r.type)) continue;
    std::string as = Param(r, "as");
    if (as.empty()) return false;  // plain JSON preferred first: legacy discovery
    std::string v = Param(r, "v");
    if (as == "APIGroupDiscoveryList" && Param(r, "g") == "apidiscovery.k8s.io" &&
        (v == "v2" || v == "v2beta1")) {
      *version = v;
      return true;
    }
  }
  return false;
}

Result<rapidjson::Document> DecodeObjectBody(const http::Request& request,
                                             const ProtobufDecoder& protobuf) {
  std::string type = MediaTypeOf(request.Header("content-type"));
  if (type.empty() || type == "application/json") return ParseJsonObject(request.body);
  if (type == "application/yaml") {
    Result<rapidjson::Document> doc = YamlToJson(request.body);
    if (!doc.ok()) return doc.status();
    if (!doc->IsObject()) return InvalidArgumentError("expected a YAML mapping");
    return doc;
  }
  if (type == "application/vnd.kubernetes.protobuf" && protobuf) return protobuf(request.body);
  return NotFoundError("unsupported media type " + type);
}

}  // namespace kite::apiserver
