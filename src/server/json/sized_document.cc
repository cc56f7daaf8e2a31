#include "src/server/json/sized_document.h"

#include <algorithm>

#include "src/server/json/json_util.h"

namespace kite::json {
namespace {

using Pool = rapidjson::MemoryPoolAllocator<>;

constexpr size_t kMinChunkBytes = 256;
// rapidjson stores strings up to this length inside the value itself (its ShortString).
constexpr size_t kInlineStringChars = 13;

struct SizedDocument {
  explicit SizedDocument(size_t chunk_bytes) : pool(chunk_bytes), document(&pool) {}
  Pool pool;                     // declared first: the document's values live in it
  rapidjson::Document document;  // does not own `pool`
};

size_t Aligned(size_t n) { return (n + 7) & ~size_t{7}; }

size_t StringBytes(const rapidjson::Value& s) {
  return s.GetStringLength() <= kInlineStringChars ? 0 : Aligned(s.GetStringLength() + 1);
}

}  // namespace

std::shared_ptr<rapidjson::Document> NewSizedDocument(size_t chunk_bytes) {
  auto holder = std::make_shared<SizedDocument>(std::max(chunk_bytes, kMinChunkBytes));
  return std::shared_ptr<rapidjson::Document>(holder, &holder->document);
}

Result<std::shared_ptr<rapidjson::Document>> ParseSized(std::string_view text) {
  std::shared_ptr<rapidjson::Document> doc = NewSizedDocument(2 * text.size() + kMinChunkBytes);
  doc->Parse<rapidjson::kParseIterativeFlag>(text.data(), text.size());
  if (doc->HasParseError()) return ParseErrorOf(*doc);
  return doc;
}

std::shared_ptr<rapidjson::Document> CopySized(const rapidjson::Value& value) {
  std::shared_ptr<rapidjson::Document> doc = NewSizedDocument(PoolBytes(value));
  doc->CopyFrom(value, doc->GetAllocator());
  return doc;
}

size_t PoolBytes(const rapidjson::Value& value) {
  size_t bytes = 0;
  if (value.IsString()) return StringBytes(value);
  if (value.IsObject()) {
    bytes += Aligned(value.MemberCount() * sizeof(rapidjson::Value::Member));
    for (const auto& member : value.GetObject()) bytes += StringBytes(member.name) + PoolBytes(member.value);
  } else if (value.IsArray()) {
    bytes += Aligned(value.Size() * sizeof(rapidjson::Value));
    for (const auto& element : value.GetArray()) bytes += PoolBytes(element);
  }
  return bytes;
}

}  // namespace kite::json
