#include "src/server/schema/protobuf_decoder.h"

#include <rapidjson/error/en.h>

#include <cmath>
#include <cstring>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "src/base/base64.h"
#include "src/base/go_duration.h"
#include "src/server/schema/protobuf_wire.h"
#include "src/server/schema/well_known_types.h"

namespace kite::schema {

namespace {

using rapidjson::Value;
using Allocator = rapidjson::Document::AllocatorType;

// The length of the valid UTF-8 sequence starting at s[i], or 0 if it is invalid (overlong
// forms, surrogates and code points above U+10FFFF are invalid).
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  uint8_t c = static_cast<uint8_t>(s[i]);
  if (c < 0x80) return 1;
  size_t n;
  uint32_t cp;
  if ((c & 0xe0) == 0xc0) {
    n = 1;
    cp = c & 0x1f;
  } else if ((c & 0xf0) == 0xe0) {
    n = 2;
    cp = c & 0x0f;
  } else if ((c & 0xf8) == 0xf0) {
    n = 3;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + n >= s.size()) return 0;
  for (size_t k = 1; k <= n; ++k) {
    uint8_t cc = static_cast<uint8_t>(s[i + k]);
    if ((cc & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (cc & 0x3f);
  }
  if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
      cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
    return 0;
  }
  return n + 1;
}

bool NeedsUtf8Repair(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    size_t len = Utf8SequenceLength(s, i);
    if (len == 0) return true;
    i += len;
  }
  return false;
}

// Replaces each byte that does not start a valid UTF-8 sequence with U+FFFD, as Go's JSON
// encoder does.
std::string RepairUtf8(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 8);
  for (size_t i = 0; i < s.size();) {
    size_t len = Utf8SequenceLength(s, i);
    if (len == 0) {
      out += "\xef\xbf\xbd";
      ++i;
    } else {
      out.append(s.substr(i, len));
      i += len;
    }
  }
  return out;
}

// The depth of JSON nesting in `raw`, counting brackets outside strings; stops counting at
// `limit` + 1.
int JsonNestingDepth(std::string_view raw, int limit) {
  int depth = 0, max_depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > max_depth) max_depth = depth;
      if (max_depth > limit) return max_depth;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return max_depth;
}

bool IsPackable(FieldKind kind) {
  switch (kind) {
    case FieldKind::kInt32:
    case FieldKind::kInt64:
    case FieldKind::kUint32:
    case FieldKind::kUint64:
    case FieldKind::kBool:
    case FieldKind::kDouble:
    case FieldKind::kFloat:
      return true;
    default:
      return false;
  }
}

std::string_view WireTypeName(WireType t) {
  switch (t) {
    case WireType::kVarint:
      return "varint";
    case WireType::kFixed64:
      return "fixed64";
    case WireType::kLengthDelimited:
      return "length-delimited";
    case WireType::kStartGroup:
      return "start-group";
    case WireType::kEndGroup:
      return "end-group";
    case WireType::kFixed32:
      return "fixed32";
  }
  return "?";
}

WireType ExpectedWireType(FieldKind kind) {
  switch (kind) {
    case FieldKind::kInt32:
    case FieldKind::kInt64:
    case FieldKind::kUint32:
    case FieldKind::kUint64:
    case FieldKind::kBool:
      return WireType::kVarint;
    case FieldKind::kDouble:
      return WireType::kFixed64;
    case FieldKind::kFloat:
      return WireType::kFixed32;
    default:
      return WireType::kLengthDelimited;
  }
}

class Decoder {
 public:
  Decoder(const SchemaRegistry& registry, Allocator& allocator)
      : registry_(registry), alloc_(allocator) {}

  // Decodes a message (or a [wrapper] message as an array) into *out.
  Status DecodeMessage(std::string_view bytes, const MessageSchema& m, Value* out, int depth) {
    if (depth > kMaxProtobufNesting) {
      return Error("nesting deeper than " + std::to_string(kMaxProtobufNesting) + " messages");
    }
    if (m.is_wrapper) return DecodeWrapper(bytes, m, out, depth);
    out->SetObject();
    // Keys seen per map field, so a repeated key replaces instead of duplicating (the views
    // point into `bytes`, which outlives this call).
    std::unordered_map<int, std::unordered_set<std::string_view>> map_keys;
    WireReader r(bytes);
    while (!r.AtEnd()) {
      int number;
      WireType type;
      if (!r.ReadTag(&number, &type))
        return Error("malformed field key at byte " + std::to_string(r.position()));
      const FieldSchema* f = m.FieldByNumber(number);
      if (f == nullptr) {
        if (!r.Skip(type)) {
          return Error("unknown field " + std::to_string(number) + ": truncated or unsupported " +
                       std::string(WireTypeName(type)) + " value");
        }
        continue;
      }
      path_.push_back(f->json_name);
      Status s = DecodeField(r, type, *f, out, depth, &map_keys);
      path_.pop_back();
      KITE_RETURN_IF_ERROR(s);
    }
    if (m.is_oneof) {
      // A union is the value of its last-declared member that is set.
      Value chosen;
      for (auto f = m.fields.rbegin(); f != m.fields.rend(); ++f) {
        auto member = out->FindMember(Value(rapidjson::StringRef(
            f->json_name.data(), static_cast<rapidjson::SizeType>(f->json_name.size()))));
        if (member != out->MemberEnd()) {
          chosen = member->value;
          break;
        }
      }
      *out = chosen;
    }
    return Status::Ok();
  }

  std::string Path() const {
    std::string p;
    for (const std::string& e : path_) {
      if (!p.empty() && e[0] != '[') p += '.';
      p += e;
    }
    return p;
  }

  Status Error(const std::string& what) const {
    std::string p = Path();
    return InvalidArgumentError("protobuf: " + (p.empty() ? "" : p + ": ") + what);
  }

 private:
  Status WrongWireType(WireType got, WireType want) const {
    return Error("wrong wire type " + std::string(WireTypeName(got)) + ", want " +
                 std::string(WireTypeName(want)));
  }

  Status DecodeWrapper(std::string_view bytes, const MessageSchema& m, Value* out, int depth) {
    const FieldSchema& items = m.fields[0];
    out->SetArray();
    WireReader r(bytes);
    while (!r.AtEnd()) {
      int number;
      WireType type;
      if (!r.ReadTag(&number, &type)) return Error("malformed field key");
      if (number != items.number) {
        if (!r.Skip(type)) return Error("truncated value");
        continue;
      }
      KITE_RETURN_IF_ERROR(DecodeRepeated(r, type, items, out, depth));
    }
    return Status::Ok();
  }

  // Appends one occurrence of a repeated field (a packed run or a single element) to *array.
  Status DecodeRepeated(WireReader& r, WireType type, const FieldSchema& f, Value* array,
                        int depth) {
    if (IsPackable(f.kind) && type == WireType::kLengthDelimited) {
      std::string_view packed;
      if (!r.ReadLengthDelimited(&packed)) return Error("truncated packed value");
      WireReader pr(packed);
      WireType element_type = ExpectedWireType(f.kind);
      while (!pr.AtEnd()) {
        Value v;
        bool omit = false;
        KITE_RETURN_IF_ERROR(
            DecodeValue(pr, element_type, f.kind, nullptr, true, &v, &omit, depth));
        array->PushBack(v, alloc_);
      }
      return Status::Ok();
    }
    Value v;
    bool omit = false;
    KITE_RETURN_IF_ERROR(DecodeValue(r, type, f.kind, f.message, true, &v, &omit, depth));
    array->PushBack(v, alloc_);
    return Status::Ok();
  }

  Status DecodeField(WireReader& r, WireType type, const FieldSchema& f, Value* obj, int depth,
                     std::unordered_map<int, std::unordered_set<std::string_view>>* map_keys) {
    Value name(rapidjson::StringRef(f.json_name.data(),
                                    static_cast<rapidjson::SizeType>(f.json_name.size())));
    if (f.kind == FieldKind::kMap) {
      if (type != WireType::kLengthDelimited)
        return WrongWireType(type, WireType::kLengthDelimited);
      std::string_view entry;
      if (!r.ReadLengthDelimited(&entry)) return Error("truncated map entry");
      std::string_view key;
      Value value;
      KITE_RETURN_IF_ERROR(DecodeMapEntry(entry, f, &key, &value, depth));
      auto member = obj->FindMember(name);
      if (member == obj->MemberEnd()) {
        obj->AddMember(name, Value(rapidjson::kObjectType), alloc_);
        member = obj->MemberEnd() - 1;
      }
      std::string key_text = NeedsUtf8Repair(key) ? RepairUtf8(key) : std::string(key);
      if (!(*map_keys)[f.number].insert(key).second) {
        auto existing = member->value.FindMember(Value(rapidjson::StringRef(
            key_text.data(), static_cast<rapidjson::SizeType>(key_text.size()))));
        if (existing != member->value.MemberEnd()) {
          existing->value = value;
          return Status::Ok();
        }
      }
      member->value.AddMember(
          Value(key_text.data(), static_cast<rapidjson::SizeType>(key_text.size()), alloc_), value,
          alloc_);
      return Status::Ok();
    }
    if (f.repeated) {
      auto member = obj->FindMember(name);
      if (member == obj->MemberEnd()) {
        obj->AddMember(name, Value(rapidjson::kArrayType), alloc_);
        member = obj->MemberEnd() - 1;
      }
      path_.back() = f.json_name + "[" + std::to_string(member->value.Size()) + "]";
      return DecodeRepeated(r, type, f, &member->value, depth);
    }
    Value v;
    bool omit = false;
    KITE_RETURN_IF_ERROR(DecodeValue(r, type, f.kind, f.message, f.ptr, &v, &omit, depth));
    if (f.inline_json) {
      // Members of an embedded struct land in the parent object.
      if (v.IsObject()) {
        for (auto& m : v.GetObject()) SetMember(obj, m.name, m.value);
      }
      return Status::Ok();
    }
    if (omit) {
      obj->RemoveMember(name);
      return Status::Ok();
    }
    SetMember(obj, name, v);
    return Status::Ok();
  }

  void SetMember(Value* obj, Value& name, Value& value) {
    auto it = obj->FindMember(name);
    if (it != obj->MemberEnd()) {
      it->value = value;
    } else {
      obj->AddMember(name, value, alloc_);
    }
  }

  Status DecodeMapEntry(std::string_view entry, const FieldSchema& f, std::string_view* key,
                        Value* value, int depth) {
    WireReader r(entry);
    bool have_value = false;
    *key = {};
    while (!r.AtEnd()) {
      int number;
      WireType type;
      if (!r.ReadTag(&number, &type)) return Error("malformed map entry");
      if (number == 1) {
        if (type != WireType::kLengthDelimited)
          return WrongWireType(type, WireType::kLengthDelimited);
        if (!r.ReadLengthDelimited(key)) return Error("truncated map key");
      } else if (number == 2) {
        bool omit = false;
        KITE_RETURN_IF_ERROR(
            DecodeValue(r, type, f.map_value_kind, f.map_value_message, true, value, &omit, depth));
        have_value = true;
      } else if (!r.Skip(type)) {
        return Error("truncated map entry");
      }
    }
    if (!have_value) {
      // An absent value is the type's zero value.
      switch (f.map_value_kind) {
        case FieldKind::kString:
        case FieldKind::kBytes:
          value->SetString("", 0, alloc_);
          break;
        case FieldKind::kMessage:
          return DecodeMessage("", *f.map_value_message, value, depth + 1);
        case FieldKind::kQuantity:
          value->SetString("0", 1, alloc_);
          break;
        case FieldKind::kBool:
          value->SetBool(false);
          break;
        case FieldKind::kIntOrString:
        case FieldKind::kInt32:
        case FieldKind::kInt64:
        case FieldKind::kUint32:
        case FieldKind::kUint64:
          value->SetInt(0);
          break;
        case FieldKind::kDouble:
        case FieldKind::kFloat:
          value->SetDouble(0);
          break;
        case FieldKind::kDuration:
          value->SetString("0s", 2, alloc_);
          break;
        default:
          value->SetNull();
          break;
      }
    }
    return Status::Ok();
  }

  void SetString(Value* v, std::string_view s) {
    if (NeedsUtf8Repair(s)) {
      std::string fixed = RepairUtf8(s);
      v->SetString(fixed.data(), static_cast<rapidjson::SizeType>(fixed.size()), alloc_);
    } else {
      v->SetString(s.data(), static_cast<rapidjson::SizeType>(s.size()), alloc_);
    }
  }

  // Decodes one value of `kind`. `keep_zero` is set for [ptr] fields, list elements and map
  // values; otherwise a zero scalar sets *omit.
  Status DecodeValue(WireReader& r, WireType type, FieldKind kind, const MessageSchema* message,
                     bool keep_zero, Value* out, bool* omit, int depth) {
    WireType want = ExpectedWireType(kind);
    if (type != want) return WrongWireType(type, want);
    switch (kind) {
      case FieldKind::kInt32:
      case FieldKind::kInt64:
      case FieldKind::kUint32:
      case FieldKind::kUint64:
      case FieldKind::kBool: {
        uint64_t v;
        if (!r.ReadVarint(&v)) return Error("truncated or overlong varint");
        *omit = !keep_zero && v == 0;
        if (kind == FieldKind::kInt32) {
          out->SetInt(static_cast<int32_t>(static_cast<uint32_t>(v)));
        } else if (kind == FieldKind::kInt64) {
          out->SetInt64(static_cast<int64_t>(v));
        } else if (kind == FieldKind::kUint32) {
          out->SetUint(static_cast<uint32_t>(v));
        } else if (kind == FieldKind::kUint64) {
          out->SetUint64(v);
        } else {
          out->SetBool(v != 0);
        }
        return Status::Ok();
      }
      case FieldKind::kDouble: {
        uint64_t bits;
        if (!r.ReadFixed64(&bits)) return Error("truncated fixed64");
        double d;
        std::memcpy(&d, &bits, sizeof d);
        if (!std::isfinite(d)) return Error("not a finite number");
        *omit = !keep_zero && d == 0;
        out->SetDouble(d);
        return Status::Ok();
      }
      case FieldKind::kFloat: {
        uint32_t bits;
        if (!r.ReadFixed32(&bits)) return Error("truncated fixed32");
        float f;
        std::memcpy(&f, &bits, sizeof f);
        if (!std::isfinite(f)) return Error("not a finite number");
        *omit = !keep_zero && f == 0;
        out->SetDouble(static_cast<double>(f));
        return Status::Ok();
      }
      default:
        break;
    }
    std::string_view bytes;
    if (!r.ReadLengthDelimited(&bytes)) return Error("length beyond the end of the buffer");
    switch (kind) {
      case FieldKind::kString:
        *omit = !keep_zero && bytes.empty();
        SetString(out, bytes);
        return Status::Ok();
      case FieldKind::kBytes: {
        *omit = !keep_zero && bytes.empty();
        std::string b64 = Base64Encode(bytes);
        out->SetString(b64.data(), static_cast<rapidjson::SizeType>(b64.size()), alloc_);
        return Status::Ok();
      }
      case FieldKind::kMessage:
        KITE_RETURN_IF_ERROR(DecodeMessage(bytes, *message, out, depth + 1));
        *omit = !keep_zero && out->IsNull();  // an empty [oneof]
        return Status::Ok();
      case FieldKind::kTime:
      case FieldKind::kMicroTime:
        return DecodeTime(bytes, kind == FieldKind::kMicroTime, keep_zero, out, omit);
      case FieldKind::kDuration: {
        int64_t ns = 0;
        KITE_RETURN_IF_ERROR(ReadSingleVarintField(bytes, 1, &ns));
        std::string s = FormatGoDuration(ns);
        out->SetString(s.data(), static_cast<rapidjson::SizeType>(s.size()), alloc_);
        return Status::Ok();
      }
      case FieldKind::kQuantity: {
        std::string_view s;
        KITE_RETURN_IF_ERROR(ReadSingleBytesField(bytes, 1, &s));
        if (s.empty()) return Error("empty quantity");
        SetString(out, s);
        return Status::Ok();
      }
      case FieldKind::kIntOrString:
        return DecodeIntOrString(bytes, out);
      case FieldKind::kRawExtension:
      case FieldKind::kFieldsV1: {
        std::string_view raw;
        KITE_RETURN_IF_ERROR(ReadSingleBytesField(bytes, 1, &raw));
        if (raw.empty()) {
          *omit = !keep_zero;
          out->SetNull();
          return Status::Ok();
        }
        return DecodeEmbedded(raw, kind == FieldKind::kRawExtension, out, depth);
      }
      default:
        return Error("unsupported field kind");
    }
  }

  Status ReadSingleVarintField(std::string_view bytes, int number, int64_t* value) {
    WireReader r(bytes);
    while (!r.AtEnd()) {
      int n;
      WireType t;
      if (!r.ReadTag(&n, &t)) return Error("malformed field key");
      if (n == number) {
        if (t != WireType::kVarint) return WrongWireType(t, WireType::kVarint);
        uint64_t v;
        if (!r.ReadVarint(&v)) return Error("truncated varint");
        *value = static_cast<int64_t>(v);
      } else if (!r.Skip(t)) {
        return Error("truncated value");
      }
    }
    return Status::Ok();
  }

  Status ReadSingleBytesField(std::string_view bytes, int number, std::string_view* value) {
    WireReader r(bytes);
    while (!r.AtEnd()) {
      int n;
      WireType t;
      if (!r.ReadTag(&n, &t)) return Error("malformed field key");
      if (n == number) {
        if (t != WireType::kLengthDelimited) return WrongWireType(t, WireType::kLengthDelimited);
        if (!r.ReadLengthDelimited(value)) return Error("length beyond the end of the buffer");
      } else if (!r.Skip(t)) {
        return Error("truncated value");
      }
    }
    return Status::Ok();
  }

  Status DecodeTime(std::string_view bytes, bool micro, bool keep_zero, Value* out, bool* omit) {
    // Go writes nothing for the zero time (it marshals as JSON null).
    if (bytes.empty()) {
      *omit = !keep_zero;
      out->SetNull();
      return Status::Ok();
    }
    int64_t seconds = 0, nanos = 0;
    WireReader r(bytes);
    while (!r.AtEnd()) {
      int n;
      WireType t;
      if (!r.ReadTag(&n, &t)) return Error("malformed time");
      if (n == 1 || n == 2) {
        if (t != WireType::kVarint) return WrongWireType(t, WireType::kVarint);
        uint64_t v;
        if (!r.ReadVarint(&v)) return Error("truncated time");
        if (n == 1) {
          seconds = static_cast<int64_t>(v);
        } else {
          nanos = static_cast<int32_t>(static_cast<uint32_t>(v));
        }
      } else if (!r.Skip(t)) {
        return Error("truncated time");
      }
    }
    // metav1.Time keeps whole seconds only; MicroTime keeps the nanoseconds.
    std::optional<std::string> s = FormatRfc3339(seconds, micro ? nanos : 0, micro);
    if (!s) return Error("time out of range (seconds " + std::to_string(seconds) + ")");
    out->SetString(s->data(), static_cast<rapidjson::SizeType>(s->size()), alloc_);
    return Status::Ok();
  }

  Status DecodeIntOrString(std::string_view bytes, Value* out) {
    int64_t type = 0, int_val = 0;
    std::string_view str_val;
    WireReader r(bytes);
    while (!r.AtEnd()) {
      int n;
      WireType t;
      if (!r.ReadTag(&n, &t)) return Error("malformed int-or-string");
      uint64_t v;
      if (n == 1 || n == 2) {
        if (t != WireType::kVarint) return WrongWireType(t, WireType::kVarint);
        if (!r.ReadVarint(&v)) return Error("truncated int-or-string");
        if (n == 1) {
          type = static_cast<int64_t>(v);
        } else {
          int_val = static_cast<int32_t>(static_cast<uint32_t>(v));
        }
      } else if (n == 3) {
        if (t != WireType::kLengthDelimited) return WrongWireType(t, WireType::kLengthDelimited);
        if (!r.ReadLengthDelimited(&str_val)) return Error("truncated int-or-string");
      } else if (!r.Skip(t)) {
        return Error("truncated int-or-string");
      }
    }
    if (type == 0) {
      out->SetInt(static_cast<int>(int_val));
    } else if (type == 1) {
      SetString(out, str_val);
    } else {
      return Error("int-or-string of unknown type " + std::to_string(type));
    }
    return Status::Ok();
  }

  Status DecodeEmbedded(std::string_view raw, bool may_be_protobuf, Value* out, int depth) {
    if (may_be_protobuf &&
        raw.substr(0, kKubernetesProtobufMagic.size()) == kKubernetesProtobufMagic) {
      // An embedded object in protobuf form: decode it as a whole body.
      std::string api_version, kind;
      return DecodeBody(raw, depth + 1, out, &api_version, &kind);
    }
    int budget = kMaxProtobufNesting - depth;
    if (JsonNestingDepth(raw, budget) > budget) return Error("embedded JSON nests too deep");
    rapidjson::Document doc(&alloc_);
    doc.Parse<rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag>(raw.data(),
                                                                                      raw.size());
    if (doc.HasParseError()) {
      return Error(std::string("embedded value is not JSON: ") +
                   rapidjson::GetParseError_En(doc.GetParseError()) + " at offset " +
                   std::to_string(doc.GetErrorOffset()));
    }
    out->Swap(doc);
    return Status::Ok();
  }

 public:
  // Decodes "k8s\0" + runtime.Unknown into *out: an object with "apiVersion" and "kind"
  // first, then the fields.
  Status DecodeBody(std::string_view body, int depth, Value* out, std::string* api_version_out,
                    std::string* kind_out) {
    if (body.size() < kKubernetesProtobufMagic.size() ||
        body.substr(0, kKubernetesProtobufMagic.size()) != kKubernetesProtobufMagic) {
      return Error("body does not start with the \"k8s\\0\" magic");
    }
    WireReader r(body.substr(kKubernetesProtobufMagic.size()));
    std::string_view type_meta, raw, content_encoding, api_version, kind;
    while (!r.AtEnd()) {
      int n;
      WireType t;
      if (!r.ReadTag(&n, &t)) return Error("malformed envelope (runtime.Unknown)");
      std::string_view* target = n == 1   ? &type_meta
                                 : n == 2 ? &raw
                                 : n == 3 ? &content_encoding
                                          : nullptr;
      if (target != nullptr || n == 4) {
        if (t != WireType::kLengthDelimited)
          return Error("envelope field " + std::to_string(n) + ": wrong wire type");
        std::string_view ignored;
        if (!r.ReadLengthDelimited(target != nullptr ? target : &ignored)) {
          return Error("envelope field " + std::to_string(n) +
                       ": length beyond the end of the buffer");
        }
      } else if (!r.Skip(t)) {
        return Error("malformed envelope (runtime.Unknown)");
      }
    }
    WireReader tr(type_meta);
    while (!tr.AtEnd()) {
      int n;
      WireType t;
      if (!tr.ReadTag(&n, &t)) return Error("malformed typeMeta");
      if (n == 1 || n == 2) {
        if (t != WireType::kLengthDelimited) return Error("typeMeta: wrong wire type");
        if (!tr.ReadLengthDelimited(n == 1 ? &api_version : &kind))
          return Error("typeMeta: truncated");
      } else if (!tr.Skip(t)) {
        return Error("malformed typeMeta");
      }
    }
    if (!content_encoding.empty()) {
      return Error("unsupported contentEncoding \"" + RepairUtf8(content_encoding) + "\"");
    }
    if (kind.empty()) return Error("typeMeta has no kind");
    if (api_version.empty()) return Error("typeMeta has no apiVersion");
    std::string_view group, version = api_version;
    if (size_t slash = api_version.find('/'); slash != std::string_view::npos) {
      group = api_version.substr(0, slash);
      version = api_version.substr(slash + 1);
    }
    const MessageSchema* schema = registry_.FindKind(group, version, kind);
    if (schema == nullptr) {
      return InvalidArgumentError("no schema for kind " + RepairUtf8(kind) + " in group/version " +
                                  RepairUtf8(api_version));
    }
    *api_version_out = RepairUtf8(api_version);
    *kind_out = RepairUtf8(kind);
    Value fields;
    KITE_RETURN_IF_ERROR(DecodeMessage(raw, *schema, &fields, depth));
    if (!fields.IsObject()) return Error("kind " + *kind_out + " is not an object");
    out->SetObject();
    out->AddMember("apiVersion", Value(api_version_out->c_str(), alloc_), alloc_);
    out->AddMember("kind", Value(kind_out->c_str(), alloc_), alloc_);
    for (auto& m : fields.GetObject()) {
      if (m.name == "apiVersion" || m.name == "kind") continue;
      out->AddMember(m.name, m.value, alloc_);  // moves: same allocator
    }
    return Status::Ok();
  }

 private:
  const SchemaRegistry& registry_;
  Allocator& alloc_;
  std::vector<std::string> path_;
};

}  // namespace

Result<DecodedObject> DecodeKubernetesProtobuf(std::string_view body,
                                               const SchemaRegistry& registry) {
  DecodedObject result;
  Decoder decoder(registry, result.object.GetAllocator());
  KITE_RETURN_IF_ERROR(
      decoder.DecodeBody(body, 0, &result.object, &result.api_version, &result.kind));
  return result;
}

Status DecodeProtobufMessage(std::string_view bytes, const MessageSchema& schema,
                             const SchemaRegistry& registry, Value* out, Allocator& allocator) {
  Decoder decoder(registry, allocator);
  return decoder.DecodeMessage(bytes, schema, out, 0);
}

}  // namespace kite::schema
