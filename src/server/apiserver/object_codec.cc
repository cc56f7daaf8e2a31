#include "src/server/apiserver/object_codec.h"

#include <cstdio>
#include <random>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "src/server/json/json_util.h"

namespace kite::apiserver {
using namespace kite::json;  // NOLINT: the JSON helpers are this layer's vocabulary
namespace {

constexpr std::string_view kMetadataOpen = "\"metadata\":{";

std::string GroupSegment(std::string_view group) {
  return group.empty() ? std::string("core") : std::string(group);
}

}  // namespace

std::string ObjectKey(std::string_view group, std::string_view resource,
                      std::string_view namespace_name, std::string_view name) {
  std::string key = "/registry/" + GroupSegment(group) + "/" + std::string(resource) + "/";
  if (!namespace_name.empty()) key += std::string(namespace_name) + "/";
  key += name;
  return key;
}

std::string CollectionPrefix(std::string_view group, std::string_view resource,
                             std::string_view namespace_name) {
  std::string key = "/registry/" + GroupSegment(group) + "/" + std::string(resource) + "/";
  if (!namespace_name.empty()) key += std::string(namespace_name) + "/";
  return key;
}

std::string EncodeForStorage(rapidjson::Document& object) {
  auto& a = object.GetAllocator();
  if (rapidjson::Value* metadata = MutableMember(object, "metadata")) {
    RemoveMember(*metadata, "resourceVersion");
  }
  rapidjson::Value ordered(rapidjson::kObjectType);
  for (const char* first : {"apiVersion", "kind", "metadata"}) {
    if (rapidjson::Value* v = MutableMember(object, first)) {
      ordered.AddMember(rapidjson::StringRef(first), *v, a);  // moves
    }
  }
  for (auto& m : object.GetObject()) {
    std::string_view name(m.name.GetString(), m.name.GetStringLength());
    if (name == "apiVersion" || name == "kind" || name == "metadata") continue;
    ordered.AddMember(m.name, m.value, a);
  }
  static_cast<rapidjson::Value&>(object).Swap(ordered);
  return ToJson(object);
}

void AppendWithResourceVersion(std::string& out, std::string_view stored, int64_t revision) {
  // apiVersion and kind are strings before metadata, and a JSON string cannot contain an
  // unescaped quote, so the first match is metadata's own opening brace.
  size_t at = stored.find(kMetadataOpen);
  if (at == std::string_view::npos) {
    out.append(stored);
    return;
  }
  size_t insert = at + kMetadataOpen.size();
  out.append(stored.substr(0, insert));
  out.append("\"resourceVersion\":\"");
  out.append(std::to_string(revision));
  out.append("\"");
  if (insert < stored.size() && stored[insert] != '}') out.push_back(',');
  out.append(stored.substr(insert));
}

std::string WithResourceVersion(std::string_view stored, int64_t revision) {
  std::string out;
  out.reserve(stored.size() + 32);
  AppendWithResourceVersion(out, stored, revision);
  return out;
}

std::string NewUid() {
  thread_local std::mt19937_64 rng(std::random_device{}());
  uint64_t a = rng(), b = rng();
  a = (a & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  b = (b & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // variant 10
  char buf[40];
  snprintf(buf, sizeof(buf), "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(a >> 32),
           static_cast<unsigned>((a >> 16) & 0xffff), static_cast<unsigned>(a & 0xffff),
           static_cast<unsigned>(b >> 48), static_cast<unsigned long long>(b & 0xffffffffffffULL));
  return buf;
}

std::string RandomNameSuffix() {
  thread_local std::mt19937_64 rng(std::random_device{}());
  static constexpr char kAlphabet[] = "bcdfghjklmnpqrstvwxz2456789";
  std::string s;
  for (int i = 0; i < 5; ++i) s.push_back(kAlphabet[rng() % (sizeof(kAlphabet) - 1)]);
  return s;
}

}  // namespace kite::apiserver
