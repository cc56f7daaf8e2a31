#include "src/server/resources/resource_info.h"

#include <algorithm>

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
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  const int n = 8;
  for (int i = 0; i < n; i += 3) {
    uint32_t chunk = uint32_t{digest[i]} << 16;
    if (i + 1 < n) chunk |= uint32_t{digest[i + 1]} << 8;
    if (i + 2 < n) chunk |= uint32_t{digest[i + 2]};
    out.push_back(kAlphabet[(chunk >> 18) & 63]);
    out.push_back(kAlphabet[(chunk >> 12) & 63]);
    out.push_back(i + 1 < n ? kAlphabet[(chunk >> 6) & 63] : '=');
    out.push_back(i + 2 < n ? kAlphabet[chunk & 63] : '=');
  }
  return out;
}

}  // namespace kite::resources
