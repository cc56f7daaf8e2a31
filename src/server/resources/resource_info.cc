#include "src/server/resources/resource_info.h"

#include <algorithm>

#include "src/base/base64.h"
#include "src/server/resources/sha256.h"

namespace kite::resources {

std::string ResourceInfo::GroupVersion() const {
  if (group.empty()) return version;
  return group + "/" + version;
}

bool ResourceInfo::HasVerb(std::string_view verb) const {
  return std::find(verbs.begin(), verbs.end(), verb) != verbs.end();
}

const SubresourceInfo* ResourceInfo::FindSubresource(std::string_view name) const {
  for (const SubresourceInfo& sub : subresources) {
    if (sub.name == name) return &sub;
  }
  return nullptr;
}

std::string StorageVersionHash(std::string_view group, std::string_view version,
                               std::string_view kind) {
  std::string input;
  input.append(group).append("/").append(version).append("/").append(kind);
  std::array<uint8_t, 32> digest = Sha256(input);

  // Standard base64 (with padding) of the first 8 bytes: 12 characters ending in '='.
  return Base64Encode(std::string_view(reinterpret_cast<const char*>(digest.data()), 8));
}

}  // namespace kite::resources
