#include "src/server/crd/value_validation.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>

#include "src/server/crd/field_path.h"
#include "src/server/crd/string_formats.h"
#include "src/server/crd/value_format.h"
#include "src/server/validation/object_meta_validation.h"

namespace kite::crd {
namespace {

using validation::StatusCause;

// One kube-openapi error before conversion to a field error.
struct OpenApiError {
  enum Kind { kRequired, kEnum, kTooLong, kMaxItems, kTooManyProperties, kInvalidType, kOther, kComposite };
  Kind kind = kOther;
  std::string name;     // kube-openapi's path ("spec.replicas"; ".spec" for required at the root)
  std::string message;  // kube-openapi's text
  std::string value;    // the bad value, formatted as field.Error prints it
  std::vector<std::string> enum_values;
  int64_t actual = 0, limit = 0;
};

struct Result {
  std::vector<OpenApiError> errors;
  int matches = 0;  // kube-openapi's MatchCount: how many checks ran (picks anyOf/oneOf failures)
  void Merge(Result&& other) {
    for (auto& e : other.errors) errors.push_back(std::move(e));
    matches += other.matches;
  }
};

std::string In(std::string_view name) { return std::string(name) + " in body"; }

std::string QuotedGo(std::string_view s) { return GoQuote(s); }

std::string IntText(int64_t v) { return std::to_string(v); }

// kube-openapi's %v of a limit: the integer when the data was an integer (it converts the
// limit to int64 first), Go's float formatting otherwise.
std::string LimitText(double limit, bool as_int) {
  if (as_int) return IntText(static_cast<int64_t>(limit));
  return FormatGoFloat(limit);
}

bool Contains(const std::vector<std::string_view>& types, std::string_view t) {
  for (std::string_view x : types) {
    if (x == t) return true;
  }
  return false;
}

std::string Join(const std::vector<std::string_view>& types) {
  std::string out;
  for (std::string_view t : types) out += (out.empty() ? "" : ",") + std::string(t);
  return out;
}

// reflect.Value.Convert(enum's type) followed by DeepEqual, for JSON-decoded values.
bool EnumMatches(const rapidjson::Value& data, const rapidjson::Value& e) {
  if (e.IsNull() || data.IsNull()) return false;
  if (TypedDeepEqual(data, e)) return true;
  if (data.IsNumber() && e.IsNumber()) {
    if (IsGoInt(data) && !IsGoInt(e)) return static_cast<double>(data.GetInt64()) == AsDouble(e);
    if (!IsGoInt(data) && IsGoInt(e)) {
      double d = AsDouble(data);
      if (!(d > -9.3e18 && d < 9.3e18)) return false;
      return static_cast<int64_t>(d) == e.GetInt64();
    }
    return false;
  }
  if (IsGoInt(data) && e.IsString()) {  // Go converts an integer to the string of that rune
    int64_t r = data.GetInt64();
    char32_t rune = (r < 0 || r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF)) ? 0xFFFD : static_cast<char32_t>(r);
    std::string s;
    if (rune < 0x80) {
      s.push_back(static_cast<char>(rune));
    } else if (rune < 0x800) {
      s.push_back(static_cast<char>(0xC0 | (rune >> 6)));
      s.push_back(static_cast<char>(0x80 | (rune & 0x3F)));
    } else if (rune < 0x10000) {
      s.push_back(static_cast<char>(0xE0 | (rune >> 12)));
      s.push_back(static_cast<char>(0x80 | ((rune >> 6) & 0x3F)));
      s.push_back(static_cast<char>(0x80 | (rune & 0x3F)));
    } else {
      s.push_back(static_cast<char>(0xF0 | (rune >> 18)));
      s.push_back(static_cast<char>(0x80 | ((rune >> 12) & 0x3F)));
      s.push_back(static_cast<char>(0x80 | ((rune >> 6) & 0x3F)));
      s.push_back(static_cast<char>(0x80 | (rune & 0x3F)));
    }
    return s == std::string_view(e.GetString(), e.GetStringLength());
  }
  return false;
}

class OpenApiValidator {
 public:
  Result Validate(const rapidjson::Value& data, const SchemaNode& s, const std::string& path) {
    Result result;
    std::vector<std::string_view> types;
    if (s.x_int_or_string) {
      types = {"integer", "string"};
    } else if (!s.type.empty()) {
      types = {s.type};
    }
    const std::string& format = s.effective_format;

    if (data.IsNull()) {
      if (!types.empty() && !Contains(types, "null") && !s.nullable) {
        Add(&result, OpenApiError::kInvalidType, path,
            In(path) + " must be of type " + Join(types) + ": " + QuotedGo("null"), QuotedGo("null"));
      }
      ValidateEnum(data, s, path, &result);
      return result;
    }

    // Type.
    if (!types.empty() || !format.empty()) {
      TypeCheck(data, s, types, path, &result);
      ++result.matches;
    }
    // allOf / anyOf / oneOf / not.
    ValidateCombinators(data, s, path, &result);
    ++result.matches;
    // Strings: the first failing check only.
    if (data.IsString()) {
      std::string_view str(data.GetString(), data.GetStringLength());
      int64_t len = -1;
      if (s.max_length || s.min_length) len = RuneCount(str);
      if (s.max_length && len > *s.max_length) {
        OpenApiError e;
        e.kind = OpenApiError::kTooLong;
        e.name = path;
        e.limit = *s.max_length;
        result.errors.push_back(std::move(e));
      } else if (s.min_length && len < *s.min_length) {
        Add(&result, OpenApiError::kOther, path,
            In(path) + " should be at least " + IntText(*s.min_length) + " chars long", FormatBadValue(data));
      } else if (!s.pattern.empty()) {
        if (!s.pattern_regex) {
          Add(&result, OpenApiError::kOther, path,
              In(path) + " should match '" + s.pattern + ", but pattern is invalid: " + s.pattern_error + "'",
              FormatBadValue(data));
        } else if (!s.pattern_regex->Search(str)) {
          Add(&result, OpenApiError::kOther, path, In(path) + " should match '" + s.pattern + "'",
              FormatBadValue(data));
        }
      }
      ++result.matches;
      if (IsStringFormat(format)) {
        if (!IsValidStringFormat(format, str)) {
          Add(&result, OpenApiError::kInvalidType, path,
              In(path) + " must be of type " + format + ": " + QuotedGo(str), FormatBadValue(data));
        }
        ++result.matches;
      }
    }
    if (data.IsNumber()) {
      ValidateNumber(data, s, path, &result);
      ++result.matches;
    }
    if (data.IsArray()) {
      ValidateArray(data, s, path, &result);
      ++result.matches;
    }
    ValidateEnum(data, s, path, &result);
    ++result.matches;
    if (data.IsObject()) {
      ValidateObject(data, s, path, &result);
      ++result.matches;
    }
    ++result.matches;
    return result;
  }

 private:
  static void Add(Result* r, OpenApiError::Kind kind, const std::string& name, std::string message,
                  std::string value) {
    OpenApiError e;
    e.kind = kind;
    e.name = name;
    e.message = std::move(message);
    e.value = std::move(value);
    r->errors.push_back(std::move(e));
  }

  static void TypeCheck(const rapidjson::Value& data, const SchemaNode& s, const std::vector<std::string_view>& types,
                        const std::string& path, Result* r) {
    std::string_view data_type = JsonTypeName(data);
    std::string data_format;
    if (data.IsNumber()) data_format = IsGoInt(data) ? "int64" : "float64";
    const std::string& format = s.effective_format;
    bool is_float_int = data_type == "number" && IsFloatAJsonInteger(AsDouble(data)) && Contains(types, "integer");
    bool is_int_float = data_type == "integer" && Contains(types, "number");
    bool string_or_array = data.IsString() || data.IsArray();
    if (!string_or_array && !format.empty() &&
        !(Contains(types, data_type) || data_format == format || is_float_int || is_int_float)) {
      Add(r, OpenApiError::kInvalidType, path,
          In(path) + " must be of type " + format + ": " + QuotedGo(data_format), QuotedGo(data_format));
      return;
    }
    if (!(Contains(types, "number") || Contains(types, "integer")) && !format.empty() && string_or_array) return;
    if (!(Contains(types, data_type) || is_float_int || is_int_float)) {
      Add(r, OpenApiError::kInvalidType, path,
          In(path) + " must be of type " + Join(types) + ": " + QuotedGo(data_type), QuotedGo(data_type));
    }
  }

  void ValidateCombinators(const rapidjson::Value& data, const SchemaNode& s, const std::string& path, Result* r) {
    if (!s.any_of.empty()) {
      std::optional<Result> best;
      bool succeeded = false;
      for (const auto& sub : s.any_of) {
        Result sr = Validate(data, *sub, path);
        if (sr.errors.empty()) {
          succeeded = true;
          best.reset();
          break;
        }
        if (!best || sr.matches > best->matches) best = std::move(sr);
      }
      if (!succeeded) Composite(r, QuotedGo(path) + " must validate at least one schema (anyOf)");
      if (best) r->Merge(std::move(*best));
    }
    if (!s.one_of.empty()) {
      std::optional<Result> best;
      int validated = 0;
      for (const auto& sub : s.one_of) {
        Result sr = Validate(data, *sub, path);
        if (sr.errors.empty()) {
          ++validated;
          best.reset();
          continue;
        }
        if (validated == 0 && (!best || sr.matches > best->matches)) best = std::move(sr);
      }
      if (validated != 1) {
        Composite(r, QuotedGo(path) + " must validate one and only one schema (oneOf). " +
                         (validated == 0 ? std::string("Found none valid")
                                         : "Found " + std::to_string(validated) + " valid alternatives"));
        if (best) r->Merge(std::move(*best));
      }
    }
    if (!s.all_of.empty()) {
      size_t validated = 0;
      for (const auto& sub : s.all_of) {
        Result sr = Validate(data, *sub, path);
        if (sr.errors.empty()) ++validated;
        r->Merge(std::move(sr));
      }
      if (validated != s.all_of.size()) {
        Composite(r, QuotedGo(path) + " must validate all the schemas (allOf)" +
                         (validated == 0 ? ". None validated" : ""));
      }
    }
    if (s.not_schema) {
      Result sr = Validate(data, *s.not_schema, path);
      if (sr.errors.empty()) Composite(r, QuotedGo(path) + " must not validate the schema (not)");
    }
  }

  static void Composite(Result* r, std::string message) {
    OpenApiError e;
    e.kind = OpenApiError::kComposite;
    e.message = std::move(message);
    r->errors.push_back(std::move(e));
  }

  static void ValidateNumber(const rapidjson::Value& data, const SchemaNode& s, const std::string& path, Result* r) {
    bool is_int = IsGoInt(data);
    double d = AsDouble(data);
    std::string value = FormatBadValue(data);
    if (s.multiple_of) {
      double factor = *s.multiple_of;
      int64_t ifactor = static_cast<int64_t>(factor);
      if (is_int && ifactor != 0) {
        if (ifactor < 0) {
          Add(r, OpenApiError::kOther, path,
              "factor MultipleOf declared for " + path + " must be positive: " + IntText(ifactor), IntText(ifactor));
        } else if (data.GetInt64() % ifactor != 0) {
          Add(r, OpenApiError::kOther, path, In(path) + " should be a multiple of " + IntText(ifactor), value);
        }
      } else if (factor < 0) {
        Add(r, OpenApiError::kOther, path,
            "factor MultipleOf declared for " + path + " must be positive: " + FormatGoFloat(factor),
            FormatGoFloat(factor));
      } else if (factor > 0) {
        double mult = factor < 1 ? 1 / factor * d : d / factor;
        if (!IsFloatAJsonInteger(mult)) {
          Add(r, OpenApiError::kOther, path, In(path) + " should be a multiple of " + FormatGoFloat(factor), value);
        }
      }
    }
    if (s.minimum) {
      bool fail = is_int ? (s.exclusive_minimum ? data.GetInt64() <= static_cast<int64_t>(*s.minimum)
                                                : data.GetInt64() < static_cast<int64_t>(*s.minimum))
                         : (s.exclusive_minimum ? d <= *s.minimum : d < *s.minimum);
      if (fail) {
        Add(r, OpenApiError::kOther, path,
            In(path) + (s.exclusive_minimum ? " should be greater than " : " should be greater than or equal to ") +
                LimitText(*s.minimum, is_int),
            value);
      }
    }
    if (s.maximum) {
      bool fail = is_int ? (s.exclusive_maximum ? data.GetInt64() >= static_cast<int64_t>(*s.maximum)
                                                : data.GetInt64() > static_cast<int64_t>(*s.maximum))
                         : (s.exclusive_maximum ? d >= *s.maximum : d > *s.maximum);
      if (fail) {
        Add(r, OpenApiError::kOther, path,
            In(path) + (s.exclusive_maximum ? " should be less than " : " should be less than or equal to ") +
                LimitText(*s.maximum, is_int),
            value);
      }
    }
  }

  void ValidateArray(const rapidjson::Value& data, const SchemaNode& s, const std::string& path, Result* r) {
    int64_t size = data.Size();
    if (s.items) {
      for (rapidjson::SizeType i = 0; i < data.Size(); ++i) {
        r->Merge(Validate(data[i], *s.items, IndexPath(path, i)));
      }
    }
    if (s.min_items && size < *s.min_items) {
      Add(r, OpenApiError::kOther, path, In(path) + " should have at least " + IntText(*s.min_items) + " items",
          IntText(size));
    }
    if (s.max_items && size > *s.max_items) {
      OpenApiError e;
      e.kind = OpenApiError::kMaxItems;
      e.name = path;
      e.actual = size;
      e.limit = *s.max_items;
      r->errors.push_back(std::move(e));
    }
    if (s.unique_items) {
      bool dup = false;
      for (rapidjson::SizeType i = 0; i < data.Size() && !dup; ++i) {
        for (rapidjson::SizeType j = 0; j < i && !dup; ++j) dup = TypedDeepEqual(data[i], data[j]);
      }
      if (dup) Add(r, OpenApiError::kOther, path, In(path) + " shouldn't contain duplicates", QuotedGo(""));
    }
  }

  static void ValidateEnum(const rapidjson::Value& data, const SchemaNode& s, const std::string& path, Result* r) {
    if (!s.enum_values || s.enum_values->Empty()) return;
    for (const auto& e : s.enum_values->GetArray()) {
      if (EnumMatches(data, e)) return;
    }
    OpenApiError err;
    err.kind = OpenApiError::kEnum;
    err.name = path;
    err.value = FormatBadValue(data);
    for (const auto& e : s.enum_values->GetArray()) {
      err.enum_values.push_back(e.IsString() ? std::string(e.GetString(), e.GetStringLength()) : CanonicalJson(e));
    }
    r->errors.push_back(std::move(err));
  }

  void ValidateObject(const rapidjson::Value& data, const SchemaNode& s, const std::string& path, Result* r) {
    int64_t n = data.MemberCount();
    if (s.min_properties && n < *s.min_properties) {
      Add(r, OpenApiError::kOther, path,
          In(path) + " should have at least " + IntText(*s.min_properties) + " properties", IntText(n));
      return;
    }
    if (s.max_properties && n > *s.max_properties) {
      OpenApiError e;
      e.kind = OpenApiError::kTooManyProperties;
      e.name = path;
      e.actual = n;
      e.limit = *s.max_properties;
      r->errors.push_back(std::move(e));
      return;
    }
    for (const auto& m : data.GetObject()) {
      std::string_view key(m.name.GetString(), m.name.GetStringLength());
      if (s.Property(key)) continue;
      if (s.additional == SchemaNode::Additional::kFalse) {
        Add(r, OpenApiError::kOther, path, path + "." + std::string(key) + " in body is a forbidden property",
            QuotedGo(key));
      } else if (const SchemaNode* ap = s.AdditionalSchema()) {
        r->Merge(Validate(m.value, *ap, path + "." + std::string(key)));
      }
    }
    for (const auto& [name, prop] : s.properties) {
      auto it = data.FindMember(rapidjson::StringRef(name.data(), static_cast<rapidjson::SizeType>(name.size())));
      if (it == data.MemberEnd()) continue;
      r->Merge(Validate(it->value, *prop, path.empty() ? name : path + "." + name));
    }
    for (const std::string& req : s.required) {
      if (!data.HasMember(rapidjson::StringRef(req.data(), static_cast<rapidjson::SizeType>(req.size())))) {
        OpenApiError e;
        e.kind = OpenApiError::kRequired;
        e.name = path + "." + req;
        r->errors.push_back(std::move(e));
      }
    }
  }
};

std::string ErrorPath(std::string_view prefix, std::string_view name) {
  if (name.empty() || name == ".") return prefix.empty() ? "<nil>" : std::string(prefix);
  if (name[0] == '.') name.remove_prefix(1);
  return ChildPath(prefix, name);
}

StatusCause ToCause(const OpenApiError& e, std::string_view prefix) {
  std::string field = ErrorPath(prefix, e.name);
  switch (e.kind) {
    case OpenApiError::kRequired:
      return validation::RequiredCause(field);
    case OpenApiError::kEnum: {
      std::string message = "Unsupported value: " + e.value;
      if (!e.enum_values.empty()) {
        std::string list;
        for (const std::string& v : e.enum_values) list += (list.empty() ? "" : ", ") + GoQuote(v);
        message += ": supported values: " + list;
      }
      return {"FieldValueNotSupported", message, field};
    }
    case OpenApiError::kTooLong:
      return {"FieldValueTooLong",
              "Too long: may not be more than " + std::to_string(e.limit) + (e.limit == 1 ? " byte" : " bytes"),
              field};
    case OpenApiError::kMaxItems:
    case OpenApiError::kTooManyProperties:
      return {"FieldValueTooMany",
              "Too many: " + std::to_string(e.actual) + ": must have at most " + std::to_string(e.limit) +
                  (e.limit == 1 ? " item" : " items"),
              field};
    case OpenApiError::kInvalidType:
      return validation::TypeInvalidCause(field, e.value, e.message);
    case OpenApiError::kOther:
      return validation::InvalidRawCause(field, e.value.empty() ? "\"\"" : e.value, e.message);
    case OpenApiError::kComposite:
      return validation::InvalidRawCause(prefix.empty() ? "<nil>" : std::string(prefix), "\"\"", e.message);
  }
  return validation::InvalidRawCause(field, "\"\"", e.message);
}

// ---- embedded resources (objectmeta.Validate) ----

void ValidateEmbedded(const rapidjson::Value& x, const std::string& pth, std::vector<StatusCause>* out) {
  if (!x.HasMember("apiVersion")) out->push_back(validation::RequiredCause(ChildPath(pth, "apiVersion")));
  if (!x.HasMember("kind")) out->push_back(validation::RequiredCause(ChildPath(pth, "kind")));
  for (const auto& m : x.GetObject()) {
    std::string_view k(m.name.GetString(), m.name.GetStringLength());
    const rapidjson::Value& v = m.value;
    if (k == "apiVersion") {
      std::string field = ChildPath(pth, "apiVersion");
      if (!v.IsString()) {
        out->push_back(validation::InvalidRawCause(field, FormatBadValue(v), "must be a string"));
      } else if (v.GetStringLength() == 0) {
        out->push_back(validation::InvalidRawCause(field, "\"\"", "must not be empty"));
      } else {
        std::string_view gv(v.GetString(), v.GetStringLength());
        if (gv != "/" && std::count(gv.begin(), gv.end(), '/') > 1) {
          out->push_back(validation::InvalidRawCause(field, GoQuote(gv),
                                                     "unexpected GroupVersion string: " + std::string(gv)));
        }
      }
    } else if (k == "kind") {
      std::string field = ChildPath(pth, "kind");
      if (!v.IsString()) {
        out->push_back(validation::InvalidRawCause(field, FormatBadValue(v), "must be a string"));
      } else if (v.GetStringLength() == 0) {
        out->push_back(validation::InvalidRawCause(field, "\"\"", "must not be empty"));
      } else {
        std::string lower(v.GetString(), v.GetStringLength());
        for (char& c : lower) {
          if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
        }
        std::vector<std::string> errs = validation::ValidateName(lower, validation::NameRule::kDns1035Label);
        if (!errs.empty()) {
          std::string joined;
          for (const std::string& e : errs) joined += (joined.empty() ? "" : ",") + e;
          out->push_back(validation::InvalidRawCause(field, GoQuote(std::string_view(v.GetString(), v.GetStringLength())),
                                                     "may have mixed case, but should otherwise match: " + joined));
        }
      }
    } else if (k == "metadata") {
      std::string field = ChildPath(pth, "metadata");
      if (!v.IsObject()) {
        out->push_back(validation::InvalidRawCause(field, FormatBadValue(v),
                                                   "invalid metadata: expected object, got " + GoTypeName(v)));
        continue;
      }
      // Validate {"metadata": v}; a missing name is fine here (Kubernetes fills in a fake one).
      rapidjson::Document wrapper;
      wrapper.SetObject();
      rapidjson::Value copy;
      DeepCopy(v, copy, wrapper.GetAllocator());
      wrapper.AddMember("metadata", copy, wrapper.GetAllocator());
      for (StatusCause& c : validation::ValidateObjectMeta(wrapper, validation::NameRule::kPathSegment)) {
        if (c.reason == "FieldValueRequired" && c.field == "metadata.name") continue;
        c.field = ChildPath(pth, c.field);
        out->push_back(std::move(c));
      }
    }
  }
}

void EmbeddedWalk(const rapidjson::Value& x, const SchemaNode* s, const std::string& pth,
                  std::vector<StatusCause>* out) {
  if (!s) return;
  if (x.IsObject()) {
    if (s->x_embedded_resource) ValidateEmbedded(x, pth, out);
    for (const auto& m : x.GetObject()) {
      std::string_view k(m.name.GetString(), m.name.GetStringLength());
      if (const SchemaNode* prop = s->Property(k)) {
        EmbeddedWalk(m.value, prop, ChildPath(pth, k), out);
      } else if (const SchemaNode* ap = s->AdditionalSchema()) {
        EmbeddedWalk(m.value, ap, KeyPath(pth, k), out);
      }
    }
  } else if (x.IsArray()) {
    for (rapidjson::SizeType i = 0; i < x.Size(); ++i) EmbeddedWalk(x[i], s->items.get(), IndexPath(pth, i), out);
  }
}

// ---- list types (listtype.ValidateListSetsAndMaps) ----

// A key under which equal values collide, with Go's typing: int64 1 and float64 1 differ as
// scalars; compound values compare by their JSON encoding.
std::string SetKey(const rapidjson::Value& v) {
  if (v.IsObject() || v.IsArray()) return "c" + CanonicalJson(v);
  if (v.IsNull()) return "n";
  if (v.IsBool()) return v.GetBool() ? "t" : "f";
  if (v.IsString()) return "s" + std::string(v.GetString(), v.GetStringLength());
  if (IsGoInt(v)) return "i" + std::to_string(v.GetInt64());
  return "d" + FormatGoFloat(AsDouble(v));
}

// Indexes of the second appearance of each repeated key.
std::vector<size_t> NonUnique(const std::vector<std::string>& keys) {
  std::unordered_map<std::string, int> seen;
  std::vector<size_t> out;
  for (size_t i = 0; i < keys.size(); ++i) {
    int& times = seen[keys[i]];
    if (++times == 2) out.push_back(i);
  }
  return out;
}

StatusCause DuplicateRaw(std::string field, std::string formatted) {
  return {"FieldValueDuplicate", "Duplicate value: " + formatted, std::move(field)};
}

void ListWalk(const rapidjson::Value& x, const SchemaNode* s, const std::string& pth, std::vector<StatusCause>* out);

void ListArray(const rapidjson::Value& x, const SchemaNode& s, const std::string& pth, std::vector<StatusCause>* out) {
  if (s.x_list_type && *s.x_list_type == "set" && x.Size() > 1) {
    std::vector<std::string> keys;
    for (const auto& e : x.GetArray()) keys.push_back(SetKey(e));
    for (size_t i : NonUnique(keys)) {
      out->push_back(DuplicateRaw(IndexPath(pth, i), FormatBadValue(x[static_cast<rapidjson::SizeType>(i)])));
    }
  } else if (s.x_list_type && *s.x_list_type == "map") {
    bool ok = true;
    for (rapidjson::SizeType i = 0; i < x.Size() && ok; ++i) {
      if (!x[i].IsNull() && !x[i].IsObject()) {
        out->push_back(validation::InvalidRawCause(IndexPath(pth, i), FormatBadValue(x[i]),
                                                   "must be an object for an array of list-type map"));
        ok = false;
      }
    }
    if (ok && x.Size() > 1) {
      std::vector<std::string> keys;
      std::vector<rapidjson::Document> key_values;
      for (const auto& e : x.GetArray()) {
        rapidjson::Document key;
        key.SetObject();
        for (const std::string& field : s.x_list_map_keys) {
          if (!e.IsObject()) break;
          auto it = e.FindMember(rapidjson::StringRef(field.data(), static_cast<rapidjson::SizeType>(field.size())));
          if (it == e.MemberEnd()) continue;
          rapidjson::Value copy;
          DeepCopy(it->value, copy, key.GetAllocator());
          key.AddMember(rapidjson::Value(field.data(), static_cast<rapidjson::SizeType>(field.size()), key.GetAllocator()),
                        copy, key.GetAllocator());
        }
        if (s.x_list_map_keys.size() == 1) {
          // One key: compared as a scalar; an absent key is its own value.
          keys.push_back(key.MemberCount() == 0 ? std::string("u") : SetKey(key.MemberBegin()->value));
        } else {
          keys.push_back(SetKey(key));
        }
        key_values.push_back(std::move(key));
      }
      for (size_t i : NonUnique(keys)) out->push_back(DuplicateRaw(IndexPath(pth, i), FormatBadValue(key_values[i])));
    }
  }
  if (s.items) {
    for (rapidjson::SizeType i = 0; i < x.Size(); ++i) ListWalk(x[i], s.items.get(), IndexPath(pth, i), out);
  }
}

void ListWalk(const rapidjson::Value& x, const SchemaNode* s, const std::string& pth, std::vector<StatusCause>* out) {
  if (!s) return;
  if (x.IsArray()) {
    ListArray(x, *s, pth, out);
  } else if (x.IsObject()) {
    if (const SchemaNode* ap = s->AdditionalSchema()) {
      for (const auto& m : x.GetObject()) {
        ListWalk(m.value, ap, KeyPath(pth, std::string_view(m.name.GetString(), m.name.GetStringLength())), out);
      }
    }
    for (const auto& m : x.GetObject()) {
      std::string_view k(m.name.GetString(), m.name.GetStringLength());
      if (const SchemaNode* prop = s->Property(k)) ListWalk(m.value, prop, ChildPath(pth, k), out);
    }
  }
}

}  // namespace

bool IsFloatAJsonInteger(double f) {
  if (std::isnan(f) || std::isinf(f) || f < -9007199254740992.0 || f > 9007199254740992.0) return false;
  double fa = std::fabs(f);
  double g = std::floor(fa);
  return fa - g < 1e-9;
}

void ValidateAgainstSchema(const rapidjson::Value& value, const SchemaNode& schema, std::string_view prefix,
                           std::vector<StatusCause>* out) {
  Result r = OpenApiValidator().Validate(value, schema, "");
  for (const OpenApiError& e : r.errors) out->push_back(ToCause(e, prefix));
}

void ValidateEmbeddedResources(const rapidjson::Value& value, const SchemaNode& schema, std::string_view prefix,
                               std::vector<StatusCause>* out) {
  EmbeddedWalk(value, &schema, std::string(prefix), out);
}

void ValidateListSetsAndMaps(const rapidjson::Value& value, const SchemaNode& schema, std::string_view prefix,
                             std::vector<StatusCause>* out) {
  ListWalk(value, &schema, std::string(prefix), out);
}

}  // namespace kite::crd
