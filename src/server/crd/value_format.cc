#include "src/server/crd/value_format.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace kite::crd {
namespace {

// Shortest round-trip decimal digits of |d| and its decimal exponent: d = 0.DIGITS * 10^dp.
struct Digits {
  bool negative = false;
  std::string digits;  // no leading/trailing zeros, at least one digit
  int dp = 0;          // position of the decimal point relative to the digits
};

Digits ShortestDigits(double d) {
  Digits out;
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), d, std::chars_format::scientific);
  std::string_view s(buf, static_cast<size_t>(res.ptr - buf));
  size_t i = 0;
  if (!s.empty() && s[0] == '-') {
    out.negative = true;
    i = 1;
  }
  size_t e = s.find('e');
  for (size_t k = i; k < e; ++k) {
    if (s[k] != '.') out.digits.push_back(s[k]);
  }
  int exp = std::atoi(std::string(s.substr(e + 1)).c_str());
  while (out.digits.size() > 1 && out.digits.back() == '0') out.digits.pop_back();
  out.dp = exp + 1;
  if (out.digits == "0") out.dp = 1;
  return out;
}

std::string FixedNotation(const Digits& d) {
  std::string out = d.negative ? "-" : "";
  int nd = static_cast<int>(d.digits.size());
  if (d.dp <= 0) {
    out += "0.";
    out.append(static_cast<size_t>(-d.dp), '0');
    out += d.digits;
  } else if (d.dp >= nd) {
    out += d.digits;
    out.append(static_cast<size_t>(d.dp - nd), '0');
  } else {
    out += d.digits.substr(0, static_cast<size_t>(d.dp));
    out += ".";
    out += d.digits.substr(static_cast<size_t>(d.dp));
  }
  return out;
}

// Go's %e with shortest precision; `min_exp_digits` is 2 for fmt, 1 for encoding/json.
std::string ExponentNotation(const Digits& d, int min_exp_digits) {
  std::string out = d.negative ? "-" : "";
  out += d.digits[0];
  if (d.digits.size() > 1) {
    out += ".";
    out += d.digits.substr(1);
  }
  int exp = d.dp - 1;
  out += exp < 0 ? "e-" : "e+";
  std::string e = std::to_string(exp < 0 ? -exp : exp);
  while (static_cast<int>(e.size()) < min_exp_digits) e.insert(e.begin(), '0');
  return out + e;
}

// encoding/json's float64 formatting.
std::string JsonFloat(double d) {
  double abs = std::fabs(d);
  Digits digits = ShortestDigits(d);
  if (abs != 0 && (abs < 1e-6 || abs >= 1e21)) return ExponentNotation(digits, 1);
  return FixedNotation(digits);
}

std::string JsonString(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out += "\"";
  return out;
}

std::string ScalarJson(const rapidjson::Value& v) {
  if (v.IsNull()) return "null";
  if (v.IsBool()) return v.GetBool() ? "true" : "false";
  if (v.IsString()) return JsonString(std::string_view(v.GetString(), v.GetStringLength()));
  if (IsGoInt(v)) return std::to_string(v.GetInt64());
  return JsonFloat(AsDouble(v));
}

// Iterative JSON writer. `sorted` orders object members by name (Go's map encoding).
std::string WriteJson(const rapidjson::Value& root, bool sorted) {
  struct Frame {
    const rapidjson::Value* v;
    std::vector<const rapidjson::Value*> keys;  // objects: member names
    std::vector<const rapidjson::Value*> values;
    size_t next = 0;
  };
  std::string out;
  std::vector<Frame> stack;
  auto open = [&](const rapidjson::Value& v) {
    if (v.IsObject()) {
      Frame f{&v, {}, {}, 0};
      std::vector<std::pair<std::string_view, size_t>> order;
      size_t i = 0;
      for (const auto& m : v.GetObject()) {
        f.keys.push_back(&m.name);
        f.values.push_back(&m.value);
        order.emplace_back(std::string_view(m.name.GetString(), m.name.GetStringLength()), i++);
      }
      if (sorted) {
        std::stable_sort(order.begin(), order.end());
        Frame g{&v, {}, {}, 0};
        for (const auto& [name, idx] : order) {
          g.keys.push_back(f.keys[idx]);
          g.values.push_back(f.values[idx]);
        }
        f = std::move(g);
      }
      out += "{";
      stack.push_back(std::move(f));
    } else if (v.IsArray()) {
      Frame f{&v, {}, {}, 0};
      for (const auto& e : v.GetArray()) f.values.push_back(&e);
      out += "[";
      stack.push_back(std::move(f));
    } else {
      out += ScalarJson(v);
    }
  };
  open(root);
  while (!stack.empty()) {
    Frame& f = stack.back();
    if (f.next == f.values.size()) {
      out += f.v->IsObject() ? "}" : "]";
      stack.pop_back();
      continue;
    }
    if (f.next > 0) out += ",";
    size_t i = f.next++;
    if (f.v->IsObject()) {
      out += JsonString(std::string_view(f.keys[i]->GetString(), f.keys[i]->GetStringLength()));
      out += ":";
    }
    const rapidjson::Value* child = f.values[i];
    open(*child);  // may invalidate `f`
  }
  return out;
}

std::string GoSyntax(const rapidjson::Value& v, int depth) {
  if (depth > 32) return "...";
  if (v.IsNull()) return "interface {}(nil)";
  if (v.IsBool()) return v.GetBool() ? "true" : "false";
  if (v.IsString()) return GoQuote(std::string_view(v.GetString(), v.GetStringLength()));
  if (v.IsNumber()) return FormatNumber(v);
  if (v.IsArray()) {
    std::string out = "[]interface {}{";
    bool first = true;
    for (const auto& e : v.GetArray()) {
      if (!first) out += ", ";
      first = false;
      out += GoSyntax(e, depth + 1);
    }
    return out + "}";
  }
  std::vector<std::pair<std::string_view, const rapidjson::Value*>> members;
  for (const auto& m : v.GetObject()) {
    members.emplace_back(std::string_view(m.name.GetString(), m.name.GetStringLength()), &m.value);
  }
  std::stable_sort(members.begin(), members.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string out = "map[string]interface {}{";
  bool first = true;
  for (const auto& [name, value] : members) {
    if (!first) out += ", ";
    first = false;
    out += GoQuote(name) + ":" + GoSyntax(*value, depth + 1);
  }
  return out + "}";
}

}  // namespace

char32_t DecodeRune(std::string_view s, size_t pos, int* width) {
  auto byte = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  unsigned char c = byte(pos);
  *width = 1;
  if (c < 0x80) return c;
  int n = 0;
  char32_t r = 0;
  char32_t min = 0;
  if ((c & 0xE0) == 0xC0) {
    n = 2;
    r = c & 0x1F;
    min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3;
    r = c & 0x0F;
    min = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4;
    r = c & 0x07;
    min = 0x10000;
  } else {
    return 0xFFFD;
  }
  if (pos + static_cast<size_t>(n) > s.size()) return 0xFFFD;
  for (int i = 1; i < n; ++i) {
    unsigned char cc = byte(pos + static_cast<size_t>(i));
    if ((cc & 0xC0) != 0x80) return 0xFFFD;
    r = (r << 6) | (cc & 0x3F);
  }
  if (r < min || r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF)) return 0xFFFD;
  *width = n;
  return r;
}

int64_t RuneCount(std::string_view s) {
  int64_t n = 0;
  for (size_t i = 0; i < s.size();) {
    int w = 1;
    DecodeRune(s, i, &w);
    i += static_cast<size_t>(w);
    ++n;
  }
  return n;
}

std::string GoQuote(std::string_view s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size();) {
    int w = 1;
    char32_t r = DecodeRune(s, i, &w);
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (r == 0xFFFD && w == 1 && c >= 0x80) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
    } else if (r < 0x80) {
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\a': out += "\\a"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\v': out += "\\v"; break;
        default:
          if (c < 0x20 || c == 0x7F) {
            char buf[8];
            std::snprintf(buf, sizeof(buf), "\\x%02x", c);
            out += buf;
          } else {
            out.push_back(static_cast<char>(c));
          }
      }
    } else {
      out.append(s.substr(i, static_cast<size_t>(w)));
    }
    i += static_cast<size_t>(w);
  }
  out += "\"";
  return out;
}

std::string FormatGoFloat(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "+Inf" : "-Inf";
  Digits digits = ShortestDigits(d);
  int exp = digits.dp - 1;
  if (digits.digits == "0") return digits.negative ? "-0" : "0";
  if (exp < -4 || exp >= 6) return ExponentNotation(digits, 2);
  return FixedNotation(digits);
}

bool IsGoInt(const rapidjson::Value& v) { return v.IsInt64(); }

double AsDouble(const rapidjson::Value& v) {
  if (v.IsInt64()) return static_cast<double>(v.GetInt64());
  if (v.IsUint64()) return static_cast<double>(v.GetUint64());
  return v.IsNumber() ? v.GetDouble() : 0.0;
}

std::string FormatNumber(const rapidjson::Value& v) {
  if (IsGoInt(v)) return std::to_string(v.GetInt64());
  return FormatGoFloat(AsDouble(v));
}

namespace {

constexpr int kMaxGoValueDepth = 8;

void AppendGoValue(const rapidjson::Value& v, int depth, std::string& out) {
  if (v.IsNull()) {
    out += "<nil>";
  } else if (v.IsBool()) {
    out += v.GetBool() ? "true" : "false";
  } else if (v.IsInt64()) {
    out += std::to_string(v.GetInt64());
  } else if (v.IsNumber()) {
    out += FormatGoFloat(v.GetDouble());
  } else if (v.IsString()) {
    out.append(v.GetString(), v.GetStringLength());
  } else if (depth >= kMaxGoValueDepth) {
    out += "...";
  } else if (v.IsArray()) {
    out += "[";
    bool first = true;
    for (const rapidjson::Value& item : v.GetArray()) {
      if (!first) out += " ";
      first = false;
      AppendGoValue(item, depth + 1, out);
    }
    out += "]";
  } else {  // object: Go prints maps with sorted keys
    std::map<std::string_view, const rapidjson::Value*> sorted;
    for (const auto& m : v.GetObject()) {
      sorted.emplace(std::string_view(m.name.GetString(), m.name.GetStringLength()), &m.value);
    }
    out += "map[";
    bool first = true;
    for (const auto& [key, value] : sorted) {
      if (!first) out += " ";
      first = false;
      out.append(key);
      out += ":";
      AppendGoValue(*value, depth + 1, out);
    }
    out += "]";
  }
}

}  // namespace

std::string GoValueString(const rapidjson::Value& v) {
  std::string out;
  AppendGoValue(v, 0, out);
  return out;
}

std::string GoTypeName(const rapidjson::Value& v) {
  if (v.IsNull()) return "<nil>";
  if (v.IsBool()) return "bool";
  if (v.IsString()) return "string";
  if (v.IsNumber()) return IsGoInt(v) ? "int64" : "float64";
  if (v.IsArray()) return "[]interface {}";
  return "map[string]interface {}";
}

std::string FormatBadValue(const rapidjson::Value& v) {
  if (v.IsNull()) return "null";
  if (v.IsBool()) return v.GetBool() ? "true" : "false";
  if (v.IsString()) return GoQuote(std::string_view(v.GetString(), v.GetStringLength()));
  if (v.IsNumber()) return FormatNumber(v);
  return GoSyntax(v, 0);
}

std::string CanonicalJson(const rapidjson::Value& v) { return WriteJson(v, true); }
std::string CompactJson(const rapidjson::Value& v) { return WriteJson(v, false); }

bool TypedDeepEqual(const rapidjson::Value& a, const rapidjson::Value& b) {
  std::vector<std::pair<const rapidjson::Value*, const rapidjson::Value*>> stack{{&a, &b}};
  while (!stack.empty()) {
    auto [x, y] = stack.back();
    stack.pop_back();
    if (x->IsNumber() && y->IsNumber()) {
      if (IsGoInt(*x) != IsGoInt(*y)) return false;
      if (IsGoInt(*x) ? x->GetInt64() != y->GetInt64() : AsDouble(*x) != AsDouble(*y)) return false;
      continue;
    }
    if (x->GetType() != y->GetType()) {
      // rapidjson keeps true and false as different types.
      if (!(x->IsBool() && y->IsBool())) return false;
    }
    if (x->IsBool()) {
      if (x->GetBool() != y->GetBool()) return false;
    } else if (x->IsString()) {
      if (std::string_view(x->GetString(), x->GetStringLength()) !=
          std::string_view(y->GetString(), y->GetStringLength())) {
        return false;
      }
    } else if (x->IsArray()) {
      if (x->Size() != y->Size()) return false;
      for (rapidjson::SizeType i = 0; i < x->Size(); ++i) stack.emplace_back(&(*x)[i], &(*y)[i]);
    } else if (x->IsObject()) {
      if (x->MemberCount() != y->MemberCount()) return false;
      for (const auto& m : x->GetObject()) {
        auto it = y->FindMember(m.name);
        if (it == y->MemberEnd()) return false;
        stack.emplace_back(&m.value, &it->value);
      }
    }
  }
  return true;
}

int JsonDepth(const rapidjson::Value& v, int limit) {
  int max_depth = 0;
  std::vector<std::pair<const rapidjson::Value*, int>> stack{{&v, 1}};
  while (!stack.empty()) {
    auto [x, d] = stack.back();
    stack.pop_back();
    max_depth = std::max(max_depth, d);
    if (max_depth > limit) return max_depth;
    if (x->IsArray()) {
      for (const auto& e : x->GetArray()) stack.emplace_back(&e, d + 1);
    } else if (x->IsObject()) {
      for (const auto& m : x->GetObject()) stack.emplace_back(&m.value, d + 1);
    }
  }
  return max_depth;
}

void DeepCopy(const rapidjson::Value& from, rapidjson::Value& to,
              rapidjson::Document::AllocatorType& a) {
  std::vector<std::pair<const rapidjson::Value*, rapidjson::Value*>> stack{{&from, &to}};
  while (!stack.empty()) {
    auto [src, dst] = stack.back();
    stack.pop_back();
    if (src->IsArray()) {
      dst->SetArray();
      dst->Reserve(src->Size(), a);
      for (rapidjson::SizeType i = 0; i < src->Size(); ++i) dst->PushBack(rapidjson::Value(), a);
      // Children are filled only after the array stopped growing, so pointers stay valid.
      for (rapidjson::SizeType i = 0; i < src->Size(); ++i) stack.emplace_back(&(*src)[i], &(*dst)[i]);
    } else if (src->IsObject()) {
      dst->SetObject();
      for (const auto& m : src->GetObject()) {
        dst->AddMember(rapidjson::Value(m.name.GetString(), m.name.GetStringLength(), a),
                       rapidjson::Value(), a);
      }
      rapidjson::SizeType i = 0;
      for (const auto& m : src->GetObject()) {
        stack.emplace_back(&m.value, &(dst->MemberBegin() + i)->value);
        ++i;
      }
    } else if (src->IsString()) {
      dst->SetString(src->GetString(), src->GetStringLength(), a);
    } else if (src->IsInt64()) {
      dst->SetInt64(src->GetInt64());
    } else if (src->IsUint64()) {
      dst->SetUint64(src->GetUint64());
    } else if (src->IsNumber()) {
      dst->SetDouble(src->GetDouble());
    } else if (src->IsBool()) {
      dst->SetBool(src->GetBool());
    } else {
      dst->SetNull();
    }
  }
}

std::string_view JsonTypeName(const rapidjson::Value& v) {
  if (v.IsNull()) return "null";
  if (v.IsBool()) return "boolean";
  if (v.IsString()) return "string";
  if (v.IsNumber()) return IsGoInt(v) ? "integer" : "number";
  if (v.IsArray()) return "array";
  return "object";
}

}  // namespace kite::crd
