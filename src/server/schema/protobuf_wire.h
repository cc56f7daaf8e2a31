// The protobuf wire format: varints, tags and length-delimited fields, read from untrusted
// bytes with every length checked, and written into a std::string.
//
// Thread-safety: WireReader and the Append functions work on caller-owned data only.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace kite::schema {

enum class WireType : uint8_t {
  kVarint = 0,
  kFixed64 = 1,
  kLengthDelimited = 2,
  kStartGroup = 3,  // deprecated groups: rejected
  kEndGroup = 4,
  kFixed32 = 5,
};

// Reads fields from a byte range. Every method returns false (and leaves the reader at an
// unspecified position) when the input is truncated or malformed; no method reads past the
// end of the range.
class WireReader {
 public:
  explicit WireReader(std::string_view data) : data_(data) {}

  bool AtEnd() const { return pos_ >= data_.size(); }
  size_t position() const { return pos_; }

  // A varint of at most 10 bytes whose value fits 64 bits.
  bool ReadVarint(uint64_t* value);
  // A field key: number >= 1 and a wire type 0..5.
  bool ReadTag(int* number, WireType* type);
  bool ReadFixed32(uint32_t* value);
  bool ReadFixed64(uint64_t* value);
  // A length-prefixed byte range inside the input.
  bool ReadLengthDelimited(std::string_view* bytes);
  // Skips one value of the given wire type (groups are not supported).
  bool Skip(WireType type);

 private:
  std::string_view data_;
  size_t pos_ = 0;
};

void AppendVarint(std::string* out, uint64_t value);
void AppendTag(std::string* out, int number, WireType type);
void AppendLengthDelimited(std::string* out, int number, std::string_view bytes);
void AppendFixed32(std::string* out, uint32_t value);
void AppendFixed64(std::string* out, uint64_t value);

}  // namespace kite::schema
