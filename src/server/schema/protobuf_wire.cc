#include "src/server/schema/protobuf_wire.h"

namespace kite::schema {

bool WireReader::ReadVarint(uint64_t* value) {
  uint64_t result = 0;
  for (int shift = 0; shift < 70; shift += 7) {
    if (pos_ >= data_.size()) return false;
    uint8_t byte = static_cast<uint8_t>(data_[pos_++]);
    if (shift == 63 && byte > 1) return false;  // more than 64 bits
    result |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      *value = result;
      return true;
    }
  }
  return false;  // longer than 10 bytes
}

bool WireReader::ReadTag(int* number, WireType* type) {
  uint64_t key;
  if (!ReadVarint(&key)) return false;
  uint64_t n = key >> 3;
  uint8_t t = key & 7;
  if (n == 0 || n > 536870911 || t > 5) return false;
  *number = static_cast<int>(n);
  *type = static_cast<WireType>(t);
  return true;
}

bool WireReader::ReadFixed32(uint32_t* value) {
  if (data_.size() - pos_ < 4) return false;
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i)
    v |= static_cast<uint32_t>(static_cast<uint8_t>(data_[pos_ + i])) << (8 * i);
  pos_ += 4;
  *value = v;
  return true;
}

bool WireReader::ReadFixed64(uint64_t* value) {
  if (data_.size() - pos_ < 8) return false;
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i)
    v |= static_cast<uint64_t>(static_cast<uint8_t>(data_[pos_ + i])) << (8 * i);
  pos_ += 8;
  *value = v;
  return true;
}

bool WireReader::ReadLengthDelimited(std::string_view* bytes) {
  uint64_t length;
  if (!ReadVarint(&length)) return false;
  if (length > data_.size() - pos_) return false;
  *bytes = data_.substr(pos_, static_cast<size_t>(length));
  pos_ += static_cast<size_t>(length);
  return true;
}

bool WireReader::Skip(WireType type) {
  uint64_t u64;
  uint32_t u32;
  std::string_view bytes;
  switch (type) {
    case WireType::kVarint:
      return ReadVarint(&u64);
    case WireType::kFixed64:
      return ReadFixed64(&u64);
    case WireType::kLengthDelimited:
      return ReadLengthDelimited(&bytes);
    case WireType::kFixed32:
      return ReadFixed32(&u32);
    case WireType::kStartGroup:
    case WireType::kEndGroup:
      return false;
  }
  return false;
}

void AppendVarint(std::string* out, uint64_t value) {
  while (value >= 0x80) {
    out->push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out->push_back(static_cast<char>(value));
}

void AppendTag(std::string* out, int number, WireType type) {
  AppendVarint(out, (static_cast<uint64_t>(number) << 3) | static_cast<uint64_t>(type));
}

void AppendLengthDelimited(std::string* out, int number, std::string_view bytes) {
  AppendTag(out, number, WireType::kLengthDelimited);
  AppendVarint(out, bytes.size());
  out->append(bytes);
}

void AppendFixed32(std::string* out, uint32_t value) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

void AppendFixed64(std::string* out, uint64_t value) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

}  // namespace kite::schema
