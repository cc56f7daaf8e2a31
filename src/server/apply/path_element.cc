#include "src/server/apply/path_element.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "src/server/json/json_util.h"

namespace kite::apply {
namespace {

// Whether Go may write `c` as is (U+2028/9 are checked separately, at their first byte).
bool Plain(unsigned char c, bool escape_html) {
  if (c < 0x20 || c == '"' || c == '\\' || c == 0xE2) return false;
  return !escape_html || (c != '<' && c != '>' && c != '&');
}

void AppendGoString(std::string& out, std::string_view s, bool escape_html) {
  static const char* const kHex = "0123456789abcdef";
  out.push_back('"');
  for (size_t i = 0; i < s.size(); ++i) {
    // Runs of characters that need no escape are copied at once.
    size_t run = i;
    while (run < s.size() && Plain(static_cast<unsigned char>(s[run]), escape_html)) ++run;
    if (run > i) {
      out.append(s.data() + i, run - i);
      i = run;
      if (i == s.size()) break;
    }
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
  } else if (value.IsString()) {
    p.rank_ = 1;
    p.text_.assign(value.GetString(), value.GetStringLength());
    p.json_.clear();
    p.json_.reserve(p.text_.size() + 2);
    AppendGoString(p.json_, p.text_, true);
  } else if (value.IsBool()) {
    p.rank_ = 2;
    p.json_ = value.GetBool() ? "true" : "false";
  } else if (value.IsArray() || value.IsObject()) {
    p.rank_ = value.IsArray() ? 3 : 4;
    p.json_.clear();
    AppendCanonical(p.json_, value);
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
    case 1: {
      int c = text_.compare(other.text_);
      return c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
    case 2:  // "false" < "true"
    default: {  // by canonical JSON
      int c = json_.compare(other.json_);
      return c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
  }
}

std::string PathValue::ToString() const {
  return rank_ == 1 ? GoQuote(text_) : json_;
}

// ---------------------------------------------------------------------------------------
// PathElement

struct PathElement::Parsed {
  std::vector<std::pair<std::string, PathValue>> key;  // kKey, sorted by name
  PathValue value;                                     // kValue
  int64_t index = 0;                                   // kIndex
};

PathElement PathElement::Field(std::string_view name) {
  PathElement e;
  e.text_.assign(name);
  return e;
}

PathElement PathElement::Key(std::vector<std::pair<std::string, PathValue>> fields) {
  // A stable insertion sort: keys have one to three fields.
  for (size_t i = 1; i < fields.size(); ++i) {
    for (size_t j = i; j > 0 && fields[j].first < fields[j - 1].first; --j) std::swap(fields[j], fields[j - 1]);
  }
  PathElement e;
  e.kind_ = Kind::kKey;
  size_t size = 2;
  for (const auto& [name, value] : fields) size += name.size() + value.json().size() + 4;
  e.text_.reserve(size);
  e.text_.push_back('{');
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i) e.text_.push_back(',');
    AppendGoString(e.text_, fields[i].first, true);
    e.text_.push_back(':');
    e.text_ += fields[i].second.json();
  }
  e.text_.push_back('}');
  auto parsed = std::make_shared<Parsed>();
  parsed->key = std::move(fields);
  e.parsed_ = std::move(parsed);
  return e;
}

PathElement PathElement::Value(PathValue v) {
  PathElement e;
  e.kind_ = Kind::kValue;
  e.text_ = v.json();
  auto parsed = std::make_shared<Parsed>();
  parsed->value = std::move(v);
  e.parsed_ = std::move(parsed);
  return e;
}

PathElement PathElement::Index(int64_t i) {
  PathElement e;
  e.kind_ = Kind::kIndex;
  e.text_ = std::to_string(i);
  auto parsed = std::make_shared<Parsed>();
  parsed->index = i;
  e.parsed_ = std::move(parsed);
  return e;
}

namespace {

// The fast path for the JSON of "k:" and "v:" elements as fieldsV1 writers produce them: no
// whitespace, strings without escapes, integers, booleans, null. Anything else (nothing is
// consumed then) goes to the full parser, which gives the same values or the error.
class SimpleJson {
 public:
  explicit SimpleJson(std::string_view text) : text_(text) {}

  // One scalar into `out`; false if it is not of the simple kinds.
  bool Scalar(rapidjson::Value& out) {
    if (pos_ >= text_.size()) return false;
    char c = text_[pos_];
    if (c == '"') {
      std::string_view s;
      if (!String(s)) return false;
      out.SetString(rapidjson::StringRef(s.data(), static_cast<rapidjson::SizeType>(s.size())));
      return true;
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
      size_t start = pos_;
      if (c == '-') ++pos_;
      size_t digits = pos_;
      while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') ++pos_;
      size_t n = pos_ - digits;
      // Leading zeros, "-0", fractions, exponents and huge numbers take the full parser.
      if (n == 0 || n > 18 || (text_[digits] == '0' && (n > 1 || c == '-'))) return false;
      if (pos_ < text_.size() && (text_[pos_] == '.' || text_[pos_] == 'e' || text_[pos_] == 'E')) return false;
      int64_t v = 0;
      std::from_chars(text_.data() + start, text_.data() + pos_, v);
      out.SetInt64(v);
      return true;
    }
    for (std::string_view word : {"true", "false", "null"}) {
      if (text_.substr(pos_, word.size()) == word) {
        pos_ += word.size();
        if (word == "null") {
          out.SetNull();
        } else {
          out.SetBool(word == "true");
        }
        return true;
      }
    }
    return false;
  }

  // A string without escapes or control characters (its content in `out`).
  bool String(std::string_view& out) {
    if (pos_ >= text_.size() || text_[pos_] != '"') return false;
    size_t start = ++pos_;
    while (pos_ < text_.size()) {
      unsigned char c = static_cast<unsigned char>(text_[pos_]);
      if (c == '"') {
        out = text_.substr(start, pos_ - start);
        ++pos_;
        return true;
      }
      if (c == '\\' || c < 0x20) return false;
      ++pos_;
    }
    return false;
  }

  bool Consume(char c) {
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool AtEnd() const { return pos_ == text_.size(); }

 private:
  std::string_view text_;
  size_t pos_ = 0;
};

// `text` (the JSON after "k:") as key fields, if SimpleJson can read it.
bool SimpleKey(std::string_view text, std::vector<std::pair<std::string, PathValue>>& fields) {
  SimpleJson p(text);
  if (!p.Consume('{')) return false;
  if (p.Consume('}')) return p.AtEnd();
  do {
    std::string_view name;
    rapidjson::Value v;
    if (!p.String(name) || !p.Consume(':') || !p.Scalar(v)) return false;
    fields.emplace_back(std::string(name), PathValue::FromJson(v));
  } while (p.Consume(','));
  return p.Consume('}') && p.AtEnd();
}

}  // namespace

Result<PathElement> PathElement::Parse(std::string_view text) {
  if (text.size() < 2 || text[1] != ':') return NotFoundError("unknown path element");
  std::string_view rest = text.substr(2);
  switch (text[0]) {
    case 'f':
      return Field(rest);
    case 'v':
    case 'k': {
      if (text[0] == 'v') {
        SimpleJson p(rest);
        rapidjson::Value v;
        if (p.Scalar(v) && p.AtEnd()) return Value(PathValue::FromJson(v));
      } else {
        std::vector<std::pair<std::string, PathValue>> fields;
        if (SimpleKey(rest, fields)) return Key(std::move(fields));
      }
      Result<rapidjson::Document> doc = json::ParseJson(rest);
      if (!doc.ok()) {
        return InvalidArgumentError("invalid path element \"" + std::string(text) +
                                    "\": " + doc.status().message());
      }
      if (JsonDepth(*doc) > kMaxPathDepth) {
        return InvalidArgumentError("path element nested too deeply");
      }
      if (text[0] == 'v') return Value(PathValue::FromJson(*doc));
      if (!doc->IsObject()) {
        return InvalidArgumentError("invalid path element \"" + std::string(text) +
                                    "\": a key must be a JSON object");
      }
      std::vector<std::pair<std::string, PathValue>> fields;
      fields.reserve(doc->MemberCount());
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
  if (kind_ != other.kind_) return kind_ < other.kind_ ? -1 : 1;
  if (kind_ == Kind::kField) {
    int c = text_.compare(other.text_);
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  if (parsed_ == other.parsed_) return 0;  // copies of one element
  const Parsed& a = *parsed_;
  const Parsed& b = *other.parsed_;
  switch (kind_) {
    case Kind::kKey:
      for (size_t i = 0;; ++i) {
        if (i >= a.key.size() && i >= b.key.size()) return 0;
        if (i >= a.key.size()) return -1;
        if (i >= b.key.size()) return 1;
        if (int c = a.key[i].first.compare(b.key[i].first); c != 0) return c < 0 ? -1 : 1;
        if (int c = a.key[i].second.Compare(b.key[i].second); c != 0) return c;
      }
    case Kind::kValue:
      return a.value.Compare(b.value);
    case Kind::kIndex:
      return Cmp(a.index, b.index);
    case Kind::kField:
      break;
  }
  return 0;
}

int PathElement::CompareField(std::string_view name) const {
  if (kind_ != Kind::kField) return 1;  // fields sort first
  int c = std::string_view(text_).compare(name);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

void PathElement::AppendSerialized(std::string& out) const {
  static constexpr char kPrefix[] = {'f', 'k', 'v', 'i'};
  out.push_back(kPrefix[static_cast<int>(kind_)]);
  out.push_back(':');
  out += text_;
}

std::string PathElement::Serialize() const {
  std::string out;
  out.reserve(text_.size() + 2);
  AppendSerialized(out);
  return out;
}

std::string PathElement::ToString() const {
  switch (kind_) {
    case Kind::kField:
      return "." + text_;
    case Kind::kKey: {
      std::string out = "[";
      for (size_t i = 0; i < parsed_->key.size(); ++i) {
        if (i) out.push_back(',');
        out += parsed_->key[i].first + "=" + parsed_->key[i].second.ToString();
      }
      out.push_back(']');
      return out;
    }
    case Kind::kValue:
      return "[=" + parsed_->value.ToString() + "]";
    case Kind::kIndex:
      return "[" + text_ + "]";
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

}  // namespace kite::apply
