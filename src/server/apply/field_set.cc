#include "src/server/apply/field_set.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "src/server/json/json_util.h"

namespace kite::apply {
namespace {

void AppendGoString(std::string& out, std::string_view s, bool escape_html) {
  static const char* const kHex = "0123456789abcdef";
  out.push_back('"');
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"': out += "\\\""; continue;
      case '\\': out += "\\\\"; continue;
      case '\n': out += "\\n"; continue;
      case '\r': out += "\\r"; continue;
      case '\t': out += "\\t"; continue;
      case '\b': out += "\\b"; continue;
      case '\f': out += "\\f"; continue;
      default: break;
    }
    if (c < 0x20 || (escape_html && (c == '<' || c == '>' || c == '&'))) {
      out += "\\u00";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
      continue;
    }
    // U+2028 and U+2029 (E2 80 A8/A9), which Go escapes for JavaScript's sake.
    if (escape_html && c == 0xE2 && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
        (static_cast<unsigned char>(s[i + 2]) == 0xA8 || static_cast<unsigned char>(s[i + 2]) == 0xA9)) {
      out += static_cast<unsigned char>(s[i + 2]) == 0xA8 ? "\\u2028" : "\\u2029";
      i += 2;
      continue;
    }
    out.push_back(static_cast<char>(c));
  }
  out.push_back('"');
}

std::string NumberJson(const rapidjson::Value& v) {
  if (v.IsInt64()) return std::to_string(v.GetInt64());
  if (v.IsUint64()) return std::to_string(v.GetUint64());
  double d = v.GetDouble();
  // Go prints integral floats without a fraction (3.0 is "3").
  if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 1e21) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.0f", d);
    return buf;
  }
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.Double(d);
  return sb.GetString();
}

// Compact JSON with object members sorted by name. Callers bound the nesting depth.
void AppendCanonical(std::string& out, const rapidjson::Value& v) {
  if (v.IsObject()) {
    std::vector<std::pair<std::string_view, const rapidjson::Value*>> members;
    for (const auto& m : v.GetObject()) {
      members.emplace_back(std::string_view(m.name.GetString(), m.name.GetStringLength()), &m.value);
    }
    std::stable_sort(members.begin(), members.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    out.push_back('{');
    for (size_t i = 0; i < members.size(); ++i) {
      if (i) out.push_back(',');
      AppendGoString(out, members[i].first, true);
      out.push_back(':');
      AppendCanonical(out, *members[i].second);
    }
    out.push_back('}');
  } else if (v.IsArray()) {
    out.push_back('[');
    bool first = true;
    for (const auto& item : v.GetArray()) {
      if (!first) out.push_back(',');
      first = false;
      AppendCanonical(out, item);
    }
    out.push_back(']');
  } else if (v.IsString()) {
    AppendGoString(out, std::string_view(v.GetString(), v.GetStringLength()), true);
  } else if (v.IsNumber()) {
    out += NumberJson(v);
  } else if (v.IsBool()) {
    out += v.GetBool() ? "true" : "false";
  } else {
    out += "null";
  }
}

template <class T>
int Cmp(const T& a, const T& b) {
  return a < b ? -1 : (b < a ? 1 : 0);
}

}  // namespace

int JsonDepth(const rapidjson::Value& root) {
  int max_depth = 0;
  std::vector<std::pair<const rapidjson::Value*, int>> stack{{&root, 1}};
  while (!stack.empty()) {
    auto [v, d] = stack.back();
    stack.pop_back();
    max_depth = std::max(max_depth, d);
    if (v->IsObject()) {
      for (const auto& m : v->GetObject()) stack.emplace_back(&m.value, d + 1);
    } else if (v->IsArray()) {
      for (const auto& item : v->GetArray()) stack.emplace_back(&item, d + 1);
    }
  }
  return max_depth;
}

std::string GoJsonString(std::string_view s) {
  std::string out;
  AppendGoString(out, s, true);
  return out;
}

std::string GoQuote(std::string_view s) {
  std::string out;
  AppendGoString(out, s, false);
  return out;
}

// ---------------------------------------------------------------------------------------
// PathValue

PathValue PathValue::FromJson(const rapidjson::Value& value) {
  PathValue p;
  if (value.IsNumber()) {
    p.rank_ = 0;
    p.number_ = value.GetDouble();
    if (value.IsInt64()) {
      p.is_int_ = true;
      p.int_ = value.GetInt64();
    }
    p.json_ = NumberJson(value);
    p.text_ = p.json_;
  } else if (value.IsString()) {
    p.rank_ = 1;
    p.text_.assign(value.GetString(), value.GetStringLength());
    p.json_ = GoJsonString(p.text_);
  } else if (value.IsBool()) {
    p.rank_ = 2;
    p.text_ = value.GetBool() ? "true" : "false";
    p.json_ = p.text_;
  } else if (value.IsArray() || value.IsObject()) {
    p.rank_ = value.IsArray() ? 3 : 4;
    p.json_.clear();
    AppendCanonical(p.json_, value);
    p.text_ = p.json_;
  }
  return p;
}

int PathValue::Compare(const PathValue& other) const {
  if (rank_ != other.rank_) return Cmp(rank_, other.rank_);
  switch (rank_) {
    case 0:
      if (is_int_ && other.is_int_) return Cmp(int_, other.int_);
      return Cmp(number_, other.number_);
    case 5:
      return 0;
    case 2:  // "false" < "true"
    default:
      return text_.compare(other.text_) < 0 ? -1 : (text_ == other.text_ ? 0 : 1);
  }
}

std::string PathValue::ToString() const {
  return rank_ == 1 ? GoQuote(text_) : json_;
}

// ---------------------------------------------------------------------------------------
// PathElement

PathElement PathElement::Field(std::string_view name) {
  PathElement e;
  e.kind = Kind::kField;
  e.field.assign(name);
  return e;
}

PathElement PathElement::Key(std::vector<std::pair<std::string, PathValue>> fields) {
  PathElement e;
  e.kind = Kind::kKey;
  std::stable_sort(fields.begin(), fields.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  e.key = std::move(fields);
  return e;
}

PathElement PathElement::Value(PathValue v) {
  PathElement e;
  e.kind = Kind::kValue;
  e.value = std::move(v);
  return e;
}

PathElement PathElement::Index(int64_t i) {
  PathElement e;
  e.kind = Kind::kIndex;
  e.index = i;
  return e;
}

Result<PathElement> PathElement::Parse(std::string_view text) {
  if (text.size() < 2 || text[1] != ':') return NotFoundError("unknown path element");
  std::string_view rest = text.substr(2);
  switch (text[0]) {
    case 'f':
      return Field(rest);
    case 'v':
    case 'k': {
      Result<rapidjson::Document> doc = json::ParseJson(rest);
      if (!doc.ok()) {
        return InvalidArgumentError("invalid path element \"" + std::string(text) +
                                    "\": " + doc.status().message());
      }
      if (JsonDepth(*doc) > FieldSet::kMaxDepth) {
        return InvalidArgumentError("path element nested too deeply");
      }
      if (text[0] == 'v') return Value(PathValue::FromJson(*doc));
      if (!doc->IsObject()) {
        return InvalidArgumentError("invalid path element \"" + std::string(text) +
                                    "\": a key must be a JSON object");
      }
      std::vector<std::pair<std::string, PathValue>> fields;
      for (const auto& m : doc->GetObject()) {
        fields.emplace_back(std::string(m.name.GetString(), m.name.GetStringLength()),
                            PathValue::FromJson(m.value));
      }
      return Key(std::move(fields));
    }
    case 'i': {
      int64_t i = 0;
      auto [ptr, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), i);
      if (ec != std::errc() || ptr != rest.data() + rest.size()) {
        return InvalidArgumentError("invalid path element \"" + std::string(text) + "\"");
      }
      return Index(i);
    }
    default:
      return NotFoundError("unknown path element");
  }
}

int PathElement::Compare(const PathElement& other) const {
  if (kind != other.kind) return Cmp(static_cast<int>(kind), static_cast<int>(other.kind));
  switch (kind) {
    case Kind::kField:
      return field.compare(other.field) < 0 ? -1 : (field == other.field ? 0 : 1);
    case Kind::kKey:
      for (size_t i = 0;; ++i) {
        if (i >= key.size() && i >= other.key.size()) return 0;
        if (i >= key.size()) return -1;
        if (i >= other.key.size()) return 1;
        if (int c = key[i].first.compare(other.key[i].first); c != 0) return c < 0 ? -1 : 1;
        if (int c = key[i].second.Compare(other.key[i].second); c != 0) return c;
      }
    case Kind::kValue:
      return value.Compare(other.value);
    case Kind::kIndex:
      return Cmp(index, other.index);
  }
  return 0;
}

std::string PathElement::Serialize() const {
  switch (kind) {
    case Kind::kField:
      return "f:" + field;
    case Kind::kKey: {
      std::string out = "k:{";
      for (size_t i = 0; i < key.size(); ++i) {
        if (i) out.push_back(',');
        AppendGoString(out, key[i].first, true);
        out.push_back(':');
        out += key[i].second.json();
      }
      out.push_back('}');
      return out;
    }
    case Kind::kValue:
      return "v:" + value.json();
    case Kind::kIndex:
      return "i:" + std::to_string(index);
  }
  return "";
}

std::string PathElement::ToString() const {
  switch (kind) {
    case Kind::kField:
      return "." + field;
    case Kind::kKey: {
      std::string out = "[";
      for (size_t i = 0; i < key.size(); ++i) {
        if (i) out.push_back(',');
        out += key[i].first + "=" + key[i].second.ToString();
      }
      out.push_back(']');
      return out;
    }
    case Kind::kValue:
      return "[=" + value.ToString() + "]";
    case Kind::kIndex:
      return "[" + std::to_string(index) + "]";
  }
  return "";
}

std::string PathString(const Path& path) {
  std::string out;
  for (const PathElement& e : path) out += e.ToString();
  return out;
}

bool HasPrefix(const Path& path, const Path& prefix) {
  return prefix.size() <= path.size() && std::equal(prefix.begin(), prefix.end(), path.begin());
}

// ---------------------------------------------------------------------------------------
// FieldSet

bool FieldSet::HasDescendant(const Path& path) const {
  // Paths below `path` sort right after it.
  auto it = paths_.upper_bound(path);
  return it != paths_.end() && it->size() > path.size() && HasPrefix(*it, path);
}

FieldSet FieldSet::Union(const FieldSet& other) const {
  FieldSet out = *this;
  out.paths_.insert(other.paths_.begin(), other.paths_.end());
  return out;
}

void FieldSet::InsertAll(const FieldSet& other) {
  for (const Path& p : other.paths_) paths_.insert(paths_.end(), p);
}

void FieldSet::EraseAll(const FieldSet& other) {
  if (paths_.empty() || other.paths_.empty()) return;
  if (other.paths_.size() * 4 < paths_.size()) {
    for (const Path& p : other.paths_) paths_.erase(p);
    return;
  }
  // Comparable sizes: one merge-like pass over both sorted sets.
  auto mine = paths_.begin();
  auto theirs = other.paths_.begin();
  while (mine != paths_.end() && theirs != other.paths_.end()) {
    if (*mine < *theirs) {
      ++mine;
    } else if (*theirs < *mine) {
      ++theirs;
    } else {
      mine = paths_.erase(mine);
      ++theirs;
    }
  }
}

FieldSet FieldSet::Difference(const FieldSet& other) const {
  FieldSet out;
  std::set_difference(paths_.begin(), paths_.end(), other.paths_.begin(), other.paths_.end(),
                      std::inserter(out.paths_, out.paths_.end()));
  return out;
}

FieldSet FieldSet::Intersection(const FieldSet& other) const {
  FieldSet out;
  std::set_intersection(paths_.begin(), paths_.end(), other.paths_.begin(), other.paths_.end(),
                        std::inserter(out.paths_, out.paths_.end()));
  return out;
}

FieldSet FieldSet::RecursiveDifference(const FieldSet& prefixes) const {
  if (prefixes.empty()) return *this;
  FieldSet out;
  for (const Path& p : paths_) {
    bool drop = false;
    Path prefix;
    if (prefixes.Has(prefix)) drop = true;
    for (size_t i = 0; i < p.size() && !drop; ++i) {
      prefix.push_back(p[i]);
      drop = prefixes.Has(prefix);
    }
    if (!drop) out.paths_.insert(out.paths_.end(), p);
  }
  return out;
}

FieldSet FieldSet::Leaves() const {
  FieldSet out;
  for (const Path& p : paths_) {
    if (!HasDescendant(p)) out.paths_.insert(out.paths_.end(), p);
  }
  return out;
}

namespace {

// Writes the members of sorted[begin, end) (all sharing their first `depth` elements) into
// `object`, one key per distinct element at `depth`.
void EmitFields(const std::vector<const Path*>& sorted, size_t begin, size_t end, size_t depth,
                rapidjson::Value& object, rapidjson::Document::AllocatorType& a) {
  size_t i = begin;
  while (i < end) {
    const PathElement& pe = (*sorted[i])[depth];
    size_t j = i;
    bool member = false;
    while (j < end && (*sorted[j])[depth] == pe) {
      if (sorted[j]->size() == depth + 1) member = true;
      ++j;
    }
    size_t children_begin = member ? i + 1 : i;  // the member itself sorts first
    rapidjson::Value child(rapidjson::kObjectType);
    if (children_begin < j) {
      if (member) child.AddMember(".", rapidjson::Value(rapidjson::kObjectType), a);
      EmitFields(sorted, children_begin, j, depth + 1, child, a);
    }
    std::string key = pe.Serialize();
    object.AddMember(rapidjson::Value(key.c_str(), static_cast<rapidjson::SizeType>(key.size()), a),
                     child, a);
    i = j;
  }
}

// Reads the tree below `prefix`; returns whether it named any child (a node that names
// none is a member, as structured-merge-diff reads it).
Result<bool> ReadFields(const rapidjson::Value& object, Path& prefix, FieldSet& out) {
  if (!object.IsObject()) {
    return InvalidArgumentError("fieldsV1: expected an object at \"" + PathString(prefix) + "\"");
  }
  if (prefix.size() > static_cast<size_t>(FieldSet::kMaxDepth)) {
    return InvalidArgumentError("fieldsV1: nested too deeply");
  }
  bool has_children = false;
  for (const auto& m : object.GetObject()) {
    std::string_view key(m.name.GetString(), m.name.GetStringLength());
    if (key == ".") {
      if (!prefix.empty()) out.Insert(prefix);
      continue;
    }
    Result<PathElement> pe = PathElement::Parse(key);
    if (!pe.ok()) {
      if (pe.status().code() == StatusCode::kNotFound) continue;  // a future element type
      return InvalidArgumentError("fieldsV1: " + pe.status().message());
    }
    has_children = true;
    prefix.push_back(std::move(pe).value());
    Result<bool> below = ReadFields(m.value, prefix, out);
    if (!below.ok()) return below.status();
    if (!*below) out.Insert(prefix);
    prefix.pop_back();
  }
  return has_children;
}

}  // namespace

rapidjson::Value FieldSet::ToFieldsV1(rapidjson::Document::AllocatorType& allocator) const {
  std::vector<const Path*> sorted;
  sorted.reserve(paths_.size());
  for (const Path& p : paths_) {
    if (!p.empty()) sorted.push_back(&p);
  }
  rapidjson::Value out(rapidjson::kObjectType);
  EmitFields(sorted, 0, sorted.size(), 0, out, allocator);
  return out;
}

Result<FieldSet> FieldSet::FromFieldsV1(const rapidjson::Value& fields) {
  FieldSet out;
  Path prefix;
  Result<bool> read = ReadFields(fields, prefix, out);
  if (!read.ok()) return read.status();
  return out;
}

}  // namespace kite::apply
