// Test helpers: a tiny protobuf writer independent of the code under test, and JSON helpers.
#pragma once

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace kite::schema::testing {

class Proto {
 public:
  Proto& Varint(int field, uint64_t value) {
    Key(field, 0);
    PutVarint(value);
    return *this;
  }
  Proto& Bytes(int field, std::string_view bytes) {
    Key(field, 2);
    PutVarint(bytes.size());
    out_.append(bytes);
    return *this;
  }
  Proto& Msg(int field, const Proto& message) { return Bytes(field, message.str()); }
  Proto& Fixed64(int field, uint64_t value) {
    Key(field, 1);
    for (int i = 0; i < 8; ++i) out_.push_back(static_cast<char>(value >> (8 * i)));
    return *this;
  }
  Proto& Fixed32(int field, uint32_t value) {
    Key(field, 5);
    for (int i = 0; i < 4; ++i) out_.push_back(static_cast<char>(value >> (8 * i)));
    return *this;
  }
  // A map<string, string|bytes> entry.
  Proto& Entry(int field, std::string_view key, std::string_view value) {
    return Msg(field, Proto().Bytes(1, key).Bytes(2, value));
  }
  Proto& Entry(int field, std::string_view key, const Proto& value) {
    return Msg(field, Proto().Bytes(1, key).Msg(2, value));
  }
  Proto& Raw(std::string_view bytes) {
    out_.append(bytes);
    return *this;
  }
  const std::string& str() const { return out_; }

 private:
  void Key(int field, int wire) {
    PutVarint((static_cast<uint64_t>(field) << 3) | static_cast<uint64_t>(wire));
  }
  void PutVarint(uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(static_cast<char>((v & 0x7f) | 0x80));
      v >>= 7;
    }
    out_.push_back(static_cast<char>(v));
  }
  std::string out_;
};

// "k8s\0" + runtime.Unknown{typeMeta{apiVersion, kind}, raw}.
inline std::string Envelope(std::string_view api_version, std::string_view kind, const Proto& raw) {
  Proto unknown;
  unknown.Msg(1, Proto().Bytes(1, api_version).Bytes(2, kind))
      .Msg(2, raw)
      .Bytes(3, "")
      .Bytes(4, "");
  return std::string("k8s\0", 4) + unknown.str();
}

// metav1.Time / Timestamp.
inline Proto Timestamp(int64_t seconds, int32_t nanos = 0) {
  Proto p;
  p.Varint(1, static_cast<uint64_t>(seconds));
  if (nanos != 0) p.Varint(2, static_cast<uint64_t>(static_cast<int64_t>(nanos)));
  return p;
}

inline Proto IntOrStringInt(int32_t v) {
  return Proto()
      .Varint(1, 0)
      .Varint(2, static_cast<uint64_t>(static_cast<int64_t>(v)))
      .Bytes(3, "");
}
inline Proto IntOrStringStr(std::string_view s) {
  return Proto().Varint(1, 1).Varint(2, 0).Bytes(3, s);
}
inline Proto QuantityOf(std::string_view s) { return Proto().Bytes(1, s); }

inline rapidjson::Document Json(std::string_view text) {
  rapidjson::Document d;
  d.Parse(text.data(), text.size());
  if (d.HasParseError()) d.SetString("<test bug: invalid JSON>");
  return d;
}

inline std::string ToString(const rapidjson::Value& v) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  v.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace kite::schema::testing
