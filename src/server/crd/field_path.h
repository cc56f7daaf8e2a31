// Field paths in Kubernetes' syntax (apimachinery's field.Path): children joined with '.',
// map keys and indexes in brackets without quotes ("spec.versions[0].schema",
// "properties[spec]"). Internal to kite_crd.
#pragma once

#include <string>
#include <string_view>

namespace kite::crd {

inline std::string ChildPath(std::string_view path, std::string_view name) {
  std::string out(path);
  if (!out.empty()) out += ".";
  out += name;
  return out;
}

inline std::string KeyPath(std::string_view path, std::string_view key) {
  return std::string(path) + "[" + std::string(key) + "]";
}

inline std::string IndexPath(std::string_view path, size_t index) {
  return std::string(path) + "[" + std::to_string(index) + "]";
}

}  // namespace kite::crd
