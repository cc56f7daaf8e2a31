#include "src/server/schema/protobuf_encoder.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <vector>

#include "src/base/base64.h"
#include "src/base/go_duration.h"
#include "src/server/schema/protobuf_decoder.h"
#include "src/server/schema/protobuf_wire.h"
#include "src/server/schema/well_known_types.h"

namespace kite::schema {

namespace {

using rapidjson::Value;

std::string_view AsView(const Value& v) { return {v.GetString(), v.GetStringLength()}; }

std::string_view JsonTypeName(const Value& v) {
  if (v.IsNull()) return "null";
  if (v.IsBool()) return "a boolean";
  if (v.IsObject()) return "an object";
  if (v.IsArray()) return "an array";
  if (v.IsString()) return "a string";
  return "a number";
}

class Encoder {
 public:
  // Encodes the fields of `schema` found in `object` into *out. `inline_parent` is set when
  // encoding an [inline] member: the members come from the parent's object, and members the
  // parent declares itself are left to it.
  Status EncodeMessage(const Value& object, const MessageSchema& schema, std::string* out,
                       int depth, bool top_level, const MessageSchema* inline_parent) {
    if (depth > kMaxProtobufNesting) {
      return Error("nesting deeper than " + std::to_string(kMaxProtobufNesting) + " messages");
    }
    if (schema.is_wrapper) {
      if (!object.IsArray())
        return Error(std::string("expected an array, got ") + std::string(JsonTypeName(object)));
      return EncodeRepeated(object, schema.fields[0], out, depth);
    }
    if (schema.is_oneof) return EncodeOneof(object, schema, out, depth);
    if (!object.IsObject())
      return Error(std::string("expected an object, got ") + std::string(JsonTypeName(object)));
    if (inline_parent == nullptr) {
      for (const auto& m : object.GetObject()) {
        std::string_view name = AsView(m.name);
        if (schema.FindJsonField(name) != nullptr) continue;
        if (top_level && (name == "apiVersion" || name == "kind")) continue;
        return Error("unknown field \"" + std::string(name) + "\" in " + schema.FullName());
      }
    }
    std::vector<const FieldSchema*> fields;
    fields.reserve(schema.fields.size());
    for (const FieldSchema& f : schema.fields) fields.push_back(&f);
    std::sort(fields.begin(), fields.end(),
              [](const FieldSchema* a, const FieldSchema* b) { return a->number < b->number; });
    for (const FieldSchema* f : fields) {
      if (f->inline_json) {
        std::string nested;
        KITE_RETURN_IF_ERROR(
            EncodeMessage(object, *f->message, &nested, depth + 1, false, &schema));
        if (!nested.empty()) AppendLengthDelimited(out, f->number, nested);
        continue;
      }
      if (inline_parent != nullptr) {
        const FieldSchema* own = inline_parent->FieldByJsonName(f->json_name);
        if (own != nullptr && !own->inline_json) continue;  // the parent's field wins
      }
      auto member = object.FindMember(Value(rapidjson::StringRef(
          f->json_name.data(), static_cast<rapidjson::SizeType>(f->json_name.size()))));
      if (member == object.MemberEnd() || member->value.IsNull()) continue;
      path_.push_back(f->json_name);
      Status s = EncodeField(member->value, *f, out, depth);
      path_.pop_back();
      KITE_RETURN_IF_ERROR(s);
    }
    return Status::Ok();
  }

  Status Error(const std::string& what) const {
    std::string p;
    for (const std::string& e : path_) {
      if (!p.empty() && e[0] != '[') p += '.';
      p += e;
    }
    return InvalidArgumentError("protobuf encoding: " + (p.empty() ? "" : p + ": ") + what);
  }

 private:
  // A union: the member whose type fits the JSON value carries it.
  Status EncodeOneof(const Value& v, const MessageSchema& schema, std::string* out, int depth) {
    for (const FieldSchema& f : schema.fields) {
      bool fits;
      if (v.IsArray()) {
        fits = f.repeated;
      } else if (f.repeated) {
        fits = false;
      } else if (v.IsObject()) {
        fits = f.kind == FieldKind::kMessage || f.kind == FieldKind::kMap;
      } else if (v.IsBool()) {
        fits = f.kind == FieldKind::kBool;
      } else if (v.IsString()) {
        fits = f.kind == FieldKind::kString;
      } else {
        fits = v.IsNumber() && f.kind != FieldKind::kString && f.kind != FieldKind::kBool &&
               f.kind != FieldKind::kMessage && f.kind != FieldKind::kMap;
      }
      if (fits) return EncodeField(v, f, out, depth);
    }
    return Error(std::string("no member of ") + schema.FullName() + " takes " +
                 std::string(JsonTypeName(v)));
  }

  Status EncodeField(const Value& v, const FieldSchema& f, std::string* out, int depth) {
    if (f.kind == FieldKind::kMap) {
      if (!v.IsObject())
        return Error(std::string("expected an object, got ") + std::string(JsonTypeName(v)));
      std::vector<const Value*> keys;
      for (const auto& m : v.GetObject()) keys.push_back(&m.name);
      std::sort(keys.begin(), keys.end(),
                [](const Value* a, const Value* b) { return AsView(*a) < AsView(*b); });
      for (const Value* key : keys) {
        const Value& value = v[*key];
        std::string entry;
        AppendLengthDelimited(&entry, 1, AsView(*key));
        if (!value.IsNull()) {
          path_.push_back("[" + std::string(AsView(*key)) + "]");
          Status s = EncodeSingle(value, 2, f.map_value_kind, f.map_value_message, &entry, depth);
          path_.pop_back();
          KITE_RETURN_IF_ERROR(s);
        }
        AppendLengthDelimited(out, f.number, entry);
      }
      return Status::Ok();
    }
    if (f.repeated) {
      if (!v.IsArray())
        return Error(std::string("expected an array, got ") + std::string(JsonTypeName(v)));
      return EncodeRepeated(v, f, out, depth);
    }
    return EncodeSingle(v, f.number, f.kind, f.message, out, depth);
  }

  Status EncodeRepeated(const Value& array, const FieldSchema& f, std::string* out, int depth) {
    for (rapidjson::SizeType i = 0; i < array.Size(); ++i) {
      path_.push_back("[" + std::to_string(i) + "]");
      Status s =
          EncodeSingle(array[i], f.number, f.kind, f.message, out, depth, /*null_is_zero=*/true);
      path_.pop_back();
      KITE_RETURN_IF_ERROR(s);
    }
    return Status::Ok();
  }

  Status ExpectString(const Value& v) {
    if (!v.IsString())
      return Error(std::string("expected a string, got ") + std::string(JsonTypeName(v)));
    return Status::Ok();
  }

  // Writes field `number` holding `v` as `kind`. A null list element is the zero value.
  Status EncodeSingle(const Value& v, int number, FieldKind kind, const MessageSchema* message,
                      std::string* out, int depth, bool null_is_zero = false) {
    static const Value kEmptyString("");
    static const Value kZero(0);
    static const Value kFalse(false);
    const Value* value = &v;
    if (v.IsNull() && null_is_zero) {
      switch (kind) {
        case FieldKind::kString:
        case FieldKind::kBytes:
          value = &kEmptyString;
          break;
        case FieldKind::kBool:
          value = &kFalse;
          break;
        case FieldKind::kMessage:
          AppendLengthDelimited(out, number, "");
          return Status::Ok();
        default:
          value = &kZero;
          break;
      }
    }
    const Value& x = *value;
    switch (kind) {
      case FieldKind::kString:
        KITE_RETURN_IF_ERROR(ExpectString(x));
        AppendLengthDelimited(out, number, AsView(x));
        return Status::Ok();
      case FieldKind::kBytes: {
        KITE_RETURN_IF_ERROR(ExpectString(x));
        std::optional<std::string> bytes = Base64Decode(AsView(x));
        if (!bytes) return Error("invalid base64");
        AppendLengthDelimited(out, number, *bytes);
        return Status::Ok();
      }
      case FieldKind::kInt32:
        if (!x.IsInt()) return Error("expected a 32-bit integer");
        AppendTag(out, number, WireType::kVarint);
        AppendVarint(out, static_cast<uint64_t>(static_cast<int64_t>(x.GetInt())));
        return Status::Ok();
      case FieldKind::kInt64:
        if (!x.IsInt64()) return Error("expected a 64-bit integer");
        AppendTag(out, number, WireType::kVarint);
        AppendVarint(out, static_cast<uint64_t>(x.GetInt64()));
        return Status::Ok();
      case FieldKind::kUint32:
        if (!x.IsUint()) return Error("expected an unsigned 32-bit integer");
        AppendTag(out, number, WireType::kVarint);
        AppendVarint(out, x.GetUint());
        return Status::Ok();
      case FieldKind::kUint64:
        if (!x.IsUint64()) return Error("expected an unsigned 64-bit integer");
        AppendTag(out, number, WireType::kVarint);
        AppendVarint(out, x.GetUint64());
        return Status::Ok();
      case FieldKind::kBool:
        if (!x.IsBool())
          return Error(std::string("expected a boolean, got ") + std::string(JsonTypeName(x)));
        AppendTag(out, number, WireType::kVarint);
        AppendVarint(out, x.GetBool() ? 1 : 0);
        return Status::Ok();
      case FieldKind::kDouble: {
        if (!x.IsNumber())
          return Error(std::string("expected a number, got ") + std::string(JsonTypeName(x)));
        double d = x.GetDouble();
        uint64_t bits;
        std::memcpy(&bits, &d, sizeof bits);
        AppendTag(out, number, WireType::kFixed64);
        AppendFixed64(out, bits);
        return Status::Ok();
      }
      case FieldKind::kFloat: {
        if (!x.IsNumber())
          return Error(std::string("expected a number, got ") + std::string(JsonTypeName(x)));
        float f = static_cast<float>(x.GetDouble());
        uint32_t bits;
        std::memcpy(&bits, &f, sizeof bits);
        AppendTag(out, number, WireType::kFixed32);
        AppendFixed32(out, bits);
        return Status::Ok();
      }
      case FieldKind::kMessage: {
        std::string nested;
        KITE_RETURN_IF_ERROR(EncodeMessage(x, *message, &nested, depth + 1, false, nullptr));
        AppendLengthDelimited(out, number, nested);
        return Status::Ok();
      }
      case FieldKind::kTime:
      case FieldKind::kMicroTime: {
        KITE_RETURN_IF_ERROR(ExpectString(x));
        int64_t seconds;
        int32_t nanos;
        if (!ParseRfc3339(AsView(x), &seconds, &nanos)) {
          return Error("invalid RFC 3339 time \"" + std::string(AsView(x)) + "\"");
        }
        std::string ts;
        AppendTag(&ts, 1, WireType::kVarint);
        AppendVarint(&ts, static_cast<uint64_t>(seconds));
        if (kind == FieldKind::kMicroTime) {
          AppendTag(&ts, 2, WireType::kVarint);
          AppendVarint(&ts, static_cast<uint64_t>(static_cast<int64_t>(nanos / 1000 * 1000)));
        }
        AppendLengthDelimited(out, number, ts);
        return Status::Ok();
      }
      case FieldKind::kDuration: {
        KITE_RETURN_IF_ERROR(ExpectString(x));
        Result<int64_t> ns = ParseGoDuration(AsView(x));
        if (!ns.ok()) return Error("invalid duration \"" + std::string(AsView(x)) + "\"");
        std::string d;
        AppendTag(&d, 1, WireType::kVarint);
        AppendVarint(&d, static_cast<uint64_t>(*ns));
        AppendLengthDelimited(out, number, d);
        return Status::Ok();
      }
      case FieldKind::kQuantity: {
        std::string text;
        if (x.IsString()) {
          text = std::string(AsView(x));
        } else if (x.IsNumber()) {
          text = Serialize(x);  // Go accepts a bare JSON number as a quantity
        } else {
          return Error(std::string("expected a quantity string, got ") +
                       std::string(JsonTypeName(x)));
        }
        if (text.empty()) return Error("empty quantity");
        std::string q;
        AppendLengthDelimited(&q, 1, text);
        AppendLengthDelimited(out, number, q);
        return Status::Ok();
      }
      case FieldKind::kIntOrString: {
        std::string ios;
        if (x.IsInt()) {
          AppendTag(&ios, 1, WireType::kVarint);
          AppendVarint(&ios, 0);
          AppendTag(&ios, 2, WireType::kVarint);
          AppendVarint(&ios, static_cast<uint64_t>(static_cast<int64_t>(x.GetInt())));
          AppendLengthDelimited(&ios, 3, "");
        } else if (x.IsString()) {
          AppendTag(&ios, 1, WireType::kVarint);
          AppendVarint(&ios, 1);
          AppendTag(&ios, 2, WireType::kVarint);
          AppendVarint(&ios, 0);
          AppendLengthDelimited(&ios, 3, AsView(x));
        } else {
          return Error(std::string("expected a 32-bit integer or a string, got ") +
                       std::string(JsonTypeName(x)));
        }
        AppendLengthDelimited(out, number, ios);
        return Status::Ok();
      }
      case FieldKind::kRawExtension:
      case FieldKind::kFieldsV1: {
        std::string raw;
        AppendLengthDelimited(&raw, 1, Serialize(x));
        AppendLengthDelimited(out, number, raw);
        return Status::Ok();
      }
      case FieldKind::kMap:
        break;
    }
    return Error("a map cannot be a list element or map value");
  }

  static std::string Serialize(const Value& v) {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    v.Accept(writer);
    return std::string(buffer.GetString(), buffer.GetSize());
  }

  std::vector<std::string> path_;
};

}  // namespace

Result<std::string> EncodeProtobufMessage(const Value& object, const MessageSchema& schema) {
  Encoder encoder;
  std::string out;
  KITE_RETURN_IF_ERROR(encoder.EncodeMessage(object, schema, &out, 0, schema.is_kind, nullptr));
  return out;
}

Result<std::string> EncodeKubernetesProtobuf(const Value& object, const SchemaRegistry& registry) {
  if (!object.IsObject()) return InvalidArgumentError("protobuf encoding: expected an object");
  auto api_version = object.FindMember("apiVersion");
  auto kind = object.FindMember("kind");
  if (api_version == object.MemberEnd() || !api_version->value.IsString() ||
      kind == object.MemberEnd() || !kind->value.IsString()) {
    return InvalidArgumentError(
        "protobuf encoding: the object needs string \"apiVersion\" and \"kind\"");
  }
  std::string_view av = AsView(api_version->value);
  std::string_view group, version = av;
  if (size_t slash = av.find('/'); slash != std::string_view::npos) {
    group = av.substr(0, slash);
    version = av.substr(slash + 1);
  }
  const MessageSchema* schema = registry.FindKind(group, version, AsView(kind->value));
  if (schema == nullptr) {
    return InvalidArgumentError("no schema for kind " + std::string(AsView(kind->value)) +
                                " in group/version " + std::string(av));
  }
  Encoder encoder;
  std::string raw;
  KITE_RETURN_IF_ERROR(
      encoder.EncodeMessage(object, *schema, &raw, 0, /*top_level=*/true, nullptr));
  std::string type_meta;
  AppendLengthDelimited(&type_meta, 1, av);
  AppendLengthDelimited(&type_meta, 2, AsView(kind->value));
  std::string out(kKubernetesProtobufMagic);
  AppendLengthDelimited(&out, 1, type_meta);
  AppendLengthDelimited(&out, 2, raw);
  AppendLengthDelimited(&out, 3, "");
  AppendLengthDelimited(&out, 4, "");
  return out;
}

}  // namespace kite::schema
