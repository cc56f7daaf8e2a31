// OpenApiService: answers GET /openapi/v2 and GET /openapi/v3[/...] from documents built
// once, when the service is built, and kept as bytes.
//
// Operation:
//   /openapi/v3                 the discovery root; each group version's serverRelativeURL
//                               carries ?hash=<HASH>, HASH being the SHA-256 (hex, upper
//                               case) of that document's bytes, so it changes whenever the
//                               document does.
//   /openapi/v3/api/v1,         the group version's document, for any ?hash= (or none).
//   /openapi/v3/apis/<g>/<v>    With the current hash it is cacheable for a year
//                               ("public, max-age=31536000, immutable"), as kube-apiserver
//                               marks it; without it, or with a stale one, clients must
//                               revalidate ("no-cache, private"). 404 for a group version
//                               that is not served.
//   /openapi/v2                 the Swagger 2.0 document, as JSON or as the gnostic
//                               protobuf message openapi.v2.Document (openapi_v2_proto.h),
//                               both built in Build().
// Every answer carries an ETag (the quoted hash of the bytes served, so the two forms of
// /openapi/v2 have different ones) and Vary: Accept; a matching If-None-Match gets 304.
// Content negotiation, as kube-openapi's handler does it: the Accept header's media ranges
// (empty: */*) are taken by descending q (stable, so equal q keeps the header's order,
// concrete types before wildcards) and the first one a served form matches wins. JSON is
// tried first, so */* and application/* get JSON. /openapi/v2 also serves protobuf for
// application/com.github.proto-openapi.spec.v2@v1.0+protobuf (what client-go's
// discovery.OpenAPISchema() sends, alone) and ...spec.v2.v1.0+protobuf, answering with
// Content-Type application/com.github.proto-openapi.spec.v2.v1.0+protobuf. /openapi/v3
// serves JSON only. Nothing acceptable: 406.
//
// Custom resources are described as kube-apiserver describes them (crd_schema.h): the
// documents of built-in group versions do not depend on them, so those keep their hash
// while CustomResourceDefinitions come and go.
//
// Concurrency: immutable after Build() (but for the protobuf form of v2, made once on
// first use); Serve may run concurrently from any number of threads.
// Limitations: the documents describe the table given to Build(); when the served
// resources change (CustomResourceDefinitions) build a new service and swap it in. Building
// takes some tens of milliseconds and a few megabytes: callers build on demand.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "src/server/openapi/custom_resources.h"
#include "src/server/resources/resource_table.h"
#include "src/server/schema/schema_registry.h"

namespace kite::openapi {

struct OpenApiRequest {
  std::string_view path;           // "/openapi/v3/apis/apps/v1", without the query
  std::string_view query;          // raw query string ("hash=ABC"), may be empty
  std::string_view accept;         // the Accept header, may be empty
  std::string_view if_none_match;  // the If-None-Match header, may be empty
};

struct OpenApiResponse {
  int status = 200;
  std::string content_type;
  std::vector<std::pair<std::string, std::string>> headers;  // ETag, Cache-Control, Vary
  std::string body;
};

class OpenApiService {
 public:
  // Builds every document. The table's entries that `custom` lists are custom resources.
  // The arguments are only read during the call.
  static std::unique_ptr<OpenApiService> Build(const schema::SchemaRegistry& registry,
                                               const resources::ResourceTable& table,
                                               const CustomResources& custom = {});

  // The answer for a GET of `request.path`, or nullopt when the path is not /openapi/v2 or
  // under /openapi/v3 (the caller answers those itself).
  std::optional<OpenApiResponse> Serve(const OpenApiRequest& request) const;

 private:
  struct Document {
    std::string body;
    std::string hash;
  };

  OpenApiService() = default;
  // `proto` (may be empty: none) gives the protobuf form of `json`, made only when chosen.
  OpenApiResponse Answer(const Document& json, const std::function<const Document*()>& proto,
                         const OpenApiRequest& request, bool immutable) const;

  // The protobuf form of v2_, made on its first request (few clients ask for it).
  const Document* V2Proto() const;

  Document v2_;
  mutable std::once_flag v2_proto_once_;
  mutable std::optional<Document> v2_proto_;  // empty only if the conversion failed (cannot happen)
  Document v3_root_;
  std::map<std::string, Document, std::less<>> v3_;  // by path key: "api/v1", "apis/apps/v1"
};

// SHA-256 of `bytes` as 64 upper-case hex digits.
std::string ContentHash(std::string_view bytes);

}  // namespace kite::openapi
