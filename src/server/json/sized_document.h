// Documents whose pool allocator takes chunks sized to their content. rapidjson's default
// pool starts with a 64 KiB chunk however small the document; a cache that keeps one
// document per object (an informer holds every pod) would hold 64 KiB per object, and once
// the heap has churned, most of each block is resident. A pod takes about 4 KiB.
#pragma once

#include <rapidjson/document.h>

#include <cstddef>
#include <memory>
#include <string_view>

#include "src/base/status.h"

namespace kite::json {

// An empty document whose allocator takes chunks of `chunk_bytes` (at least 256), owned
// together with it.
std::shared_ptr<rapidjson::Document> NewSizedDocument(size_t chunk_bytes);

// `text` parsed into a sized document: one chunk of about twice the text, which holds the
// parsed form of typical API objects. Errors as ParseJson's.
Result<std::shared_ptr<rapidjson::Document>> ParseSized(std::string_view text);

// A copy of `value` in a sized document whose first chunk fits it.
std::shared_ptr<rapidjson::Document> CopySized(const rapidjson::Value& value);

// Bytes a copy of `value` takes from a pool allocator (an upper bound: strings short enough
// to sit inside their value take nothing).
size_t PoolBytes(const rapidjson::Value& value);

}  // namespace kite::json
