#include "src/server/openapi/custom_resources.h"

#include <utility>

namespace kite::openapi {

void CustomResources::Add(std::string group, std::string version, std::string resource,
                          std::shared_ptr<const rapidjson::Document> schema) {
  schemas_[Key(std::move(group), std::move(version), std::move(resource))] = std::move(schema);
}

bool CustomResources::Contains(std::string_view group, std::string_view version,
                               std::string_view resource) const {
  return schemas_.contains(Key(group, version, resource));
}

const rapidjson::Value* CustomResources::Schema(std::string_view group, std::string_view version,
                                                std::string_view resource) const {
  auto it = schemas_.find(Key(group, version, resource));
  if (it == schemas_.end() || !it->second) return nullptr;
  return it->second.get();
}

}  // namespace kite::openapi
