#include "src/server/patch/json_helpers.h"

#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <utility>
#include <vector>

namespace kite::patch::internal {

using rapidjson::SizeType;
using rapidjson::Value;

Status ParseJson(std::string_view text, std::string_view what, rapidjson::Document& doc) {
  if (text.empty()) return InvalidArgumentError(std::string(what) + " is empty");
  // RapidJSON stops reading at a NUL byte, which would silently ignore what follows it; a
  // raw NUL is never valid JSON anyway.
  if (std::memchr(text.data(), '\0', text.size()) != nullptr) {
    return InvalidArgumentError("invalid JSON in " + std::string(what) + ": NUL byte");
  }
  constexpr unsigned kFlags = rapidjson::kParseIterativeFlag |
                              rapidjson::kParseValidateEncodingFlag |
                              rapidjson::kParseFullPrecisionFlag;
  doc.Parse<kFlags>(text.data(), text.size());
  if (doc.HasParseError()) {
    return InvalidArgumentError("invalid JSON in " + std::string(what) + ": " +
                                rapidjson::GetParseError_En(doc.GetParseError()) + " (at offset " +
                                std::to_string(doc.GetErrorOffset()) + ")");
  }
  if (Depth(doc) > kMaxDepth) {
    return InvalidArgumentError(std::string(what) + " nests deeper than " +
                                std::to_string(kMaxDepth) + " levels");
  }
  return Status::Ok();
}

int Depth(const Value& v) {
  int max_depth = 0;
  std::vector<std::pair<const Value*, int>> stack{{&v, 0}};
  while (!stack.empty()) {
    auto [cur, depth] = stack.back();
    stack.pop_back();
    if (cur->IsObject()) {
      max_depth = std::max(max_depth, depth + 1);
      for (auto& m : cur->GetObject()) stack.emplace_back(&m.value, depth + 1);
    } else if (cur->IsArray()) {
      max_depth = std::max(max_depth, depth + 1);
      for (auto& e : cur->GetArray()) stack.emplace_back(&e, depth + 1);
    }
  }
  return max_depth;
}

size_t ApproxSize(const Value& v) {
  size_t size = 0;
  std::vector<const Value*> stack{&v};
  while (!stack.empty()) {
    const Value* cur = stack.back();
    stack.pop_back();
    if (cur->IsObject()) {
      size += 2;
      for (auto& m : cur->GetObject()) {
        size += m.name.GetStringLength() + 4;
        stack.push_back(&m.value);
      }
    } else if (cur->IsArray()) {
      size += 2;
      for (auto& e : cur->GetArray()) {
        size += 1;
        stack.push_back(&e);
      }
    } else if (cur->IsString()) {
      size += cur->GetStringLength() + 2;
    } else {
      size += 8;
    }
  }
  return size;
}

namespace {

bool NameIs(const Value& name, std::string_view want) {
  return name.GetStringLength() == want.size() &&
         std::memcmp(name.GetString(), want.data(), want.size()) == 0;
}

// Canonical text of a number, so 1, 1.0 and 1e0 agree.
std::string CanonicalNumber(const Value& v) {
  if (v.IsInt64()) return std::to_string(v.GetInt64());
  if (v.IsUint64()) return std::to_string(v.GetUint64());
  double d = v.GetDouble();
  if (std::floor(d) == d) {
    if (d >= -9223372036854775808.0 && d < 9223372036854775808.0) {
      return std::to_string(static_cast<int64_t>(d));
    }
    if (d >= 0 && d < 18446744073709551616.0) return std::to_string(static_cast<uint64_t>(d));
  }
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", d);
  return buf;
}

std::string RenderFull(const Value& v) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  v.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

bool ObjectsEqual(const Value& a, const Value& b) {
  if (a.MemberCount() != b.MemberCount()) return false;
  constexpr SizeType kSmall = 16;
  if (a.MemberCount() <= kSmall) {
    for (auto& m : a.GetObject()) {
      const Value* other = FindMember(b, StringOf(m.name));
      if (other == nullptr || !JsonEqual(m.value, *other)) return false;
    }
    return true;
  }
  // Large objects: compare sorted by name instead of a lookup per member.
  auto sorted = [](const Value& o) {
    std::vector<const Value::Member*> members;
    members.reserve(o.MemberCount());
    for (auto& m : o.GetObject()) members.push_back(&m);
    std::stable_sort(members.begin(), members.end(),
                     [](auto* x, auto* y) { return StringOf(x->name) < StringOf(y->name); });
    return members;
  };
  auto sa = sorted(a);
  auto sb = sorted(b);
  for (size_t i = 0; i < sa.size(); ++i) {
    if (StringOf(sa[i]->name) != StringOf(sb[i]->name)) return false;
    if (!JsonEqual(sa[i]->value, sb[i]->value)) return false;
  }
  return true;
}

}  // namespace

Value* FindMember(Value& object, std::string_view name) {
  for (auto& m : object.GetObject()) {
    if (NameIs(m.name, name)) return &m.value;
  }
  return nullptr;
}

const Value* FindMember(const Value& object, std::string_view name) {
  for (auto& m : object.GetObject()) {
    if (NameIs(m.name, name)) return &m.value;
  }
  return nullptr;
}

bool EraseMember(Value& object, std::string_view name) {
  bool erased = false;
  for (auto it = object.MemberBegin(); it != object.MemberEnd();) {
    if (NameIs(it->name, name)) {
      it = object.EraseMember(it);
      erased = true;
    } else {
      ++it;
    }
  }
  return erased;
}

void SetMember(Value& object, std::string_view name, Value& value, Allocator& alloc) {
  if (Value* existing = FindMember(object, name)) {
    *existing = value;
    return;
  }
  Value key(name.data(), static_cast<SizeType>(name.size()), alloc);
  object.AddMember(key, value, alloc);
}

void InsertElement(Value& array, size_t index, Value& value, Allocator& alloc) {
  array.PushBack(value, alloc);
  for (SizeType j = array.Size() - 1; j > index; --j) array[j].Swap(array[j - 1]);
}

bool JsonEqual(const Value& a, const Value& b) {
  if (a.IsNumber() && b.IsNumber()) return CanonicalNumber(a) == CanonicalNumber(b);
  if (a.GetType() != b.GetType()) return false;
  switch (a.GetType()) {
    case rapidjson::kNullType:
    case rapidjson::kFalseType:
    case rapidjson::kTrueType:
      return true;
    case rapidjson::kStringType:
      return StringOf(a) == StringOf(b);
    case rapidjson::kArrayType:
      if (a.Size() != b.Size()) return false;
      for (SizeType i = 0; i < a.Size(); ++i) {
        if (!JsonEqual(a[i], b[i])) return false;
      }
      return true;
    case rapidjson::kObjectType:
      return ObjectsEqual(a, b);
    case rapidjson::kNumberType:
      break;  // handled above
  }
  return false;
}

std::string KeyOf(const Value& v) {
  switch (v.GetType()) {
    case rapidjson::kNullType:
      return "z";
    case rapidjson::kFalseType:
      return "f";
    case rapidjson::kTrueType:
      return "t";
    case rapidjson::kNumberType:
      return "n" + CanonicalNumber(v);
    case rapidjson::kStringType:
      return "s" + std::string(StringOf(v));
    case rapidjson::kArrayType:
      return "a" + RenderFull(v);
    case rapidjson::kObjectType:
      return "o" + RenderFull(v);
  }
  return "?";
}

std::string Render(const Value& v, size_t max_len) {
  std::string s = RenderFull(v);
  if (s.size() > max_len) {
    s.resize(max_len);
    s += "...";
  }
  return s;
}

std::string Quote(std::string_view s) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  writer.String(s.data(), static_cast<SizeType>(s.size()));
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace kite::patch::internal
