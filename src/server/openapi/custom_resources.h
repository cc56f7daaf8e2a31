// CustomResources: which entries of a ResourceTable are custom resources (served for a
// CustomResourceDefinition), and the openAPIV3Schema each such version declares. The
// OpenAPI documents describe a custom resource as kube-apiserver does (crd_schema.h,
// api_paths.h); every other table entry is described from the schema registry.
//
// Operation: filled with Add(), then only read. Schemas are shared, not copied: the
// documents they point to are immutable and live as long as any copy of this object.
//
// Thread-safety: const methods may run concurrently; Add() must not run concurrently with
// anything else on the same object.
#pragma once

#include <rapidjson/document.h>

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <tuple>

namespace kite::openapi {

class CustomResources {
 public:
  CustomResources() = default;

  // Records group/version/resource (plural) as a custom resource whose version declares
  // `schema` (its openAPIV3Schema as the CRD wrote it; null when it declares none). A second
  // Add of the same resource replaces the schema.
  void Add(std::string group, std::string version, std::string resource,
           std::shared_ptr<const rapidjson::Document> schema);

  bool Contains(std::string_view group, std::string_view version, std::string_view resource) const;
  // The schema recorded for the resource, or nullptr when it is not custom or declared none.
  const rapidjson::Value* Schema(std::string_view group, std::string_view version,
                                 std::string_view resource) const;
  bool empty() const { return schemas_.empty(); }

 private:
  using Key = std::tuple<std::string, std::string, std::string>;
  std::map<Key, std::shared_ptr<const rapidjson::Document>> schemas_;
};

}  // namespace kite::openapi
