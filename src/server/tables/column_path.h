// The simple JSONPath subset that CRD additionalPrinterColumns use in practice:
// ".spec.replicas", ".status.conditions[0].type", ".metadata.labels['app.kubernetes.io/name']".
//
// Supported: ".field" steps (a backslash escapes a '.' or '[' inside a field name), "[n]"
// array indexes (negative counts from the end), "['key']" / ["key"] member steps, and an
// optional "{...}" wrapper. Not supported: filters ("[?(...)]"), wildcards, slices,
// recursive descent ("..") — those are rejected with kInvalidArgument.
// A parsed ColumnPath is immutable and safe to share between threads.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>

#include "src/base/status.h"

namespace kite::tables {

class ColumnPath {
 public:
  // kInvalidArgument with a message naming the offending position for malformed paths.
  static Result<ColumnPath> Parse(std::string_view path);

  // The value at the path, or nullptr when a step is missing, has the wrong type, or lands on
  // JSON null.
  const rapidjson::Value* Evaluate(const rapidjson::Value& root) const;

 private:
  struct Step {
    bool is_index = false;
    long long index = 0;
    std::string key;
  };
  std::vector<Step> steps_;
};

}  // namespace kite::tables
