#include "src/server/patch/json_patch.h"

#include <optional>
#include <string>
#include <vector>

#include "src/server/patch/json_helpers.h"

namespace kite::patch {
namespace {

using internal::Allocator;
using internal::kMaxDepth;
using rapidjson::SizeType;
using rapidjson::Value;

// A JSON Pointer split into unescaped reference tokens.
struct Pointer {
  std::string text;
  std::vector<std::string> tokens;
};

Status ParsePointer(std::string_view text, Pointer& out) {
  out.text = std::string(text);
  out.tokens.clear();
  if (text.empty()) return Status::Ok();
  if (text[0] != '/') {
    return InvalidArgumentError("JSON pointer " + internal::Quote(text) +
                                " must be empty or start with \"/\"");
  }
  size_t pos = 1;
  while (true) {
    size_t next = text.find('/', pos);
    std::string_view raw =
        text.substr(pos, next == std::string_view::npos ? std::string_view::npos : next - pos);
    std::string token;
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] != '~') {
        token += raw[i];
        continue;
      }
      char escaped = i + 1 < raw.size() ? raw[i + 1] : '\0';
      if (escaped == '0') {
        token += '~';
      } else if (escaped == '1') {
        token += '/';
      } else {
        return InvalidArgumentError("JSON pointer " + internal::Quote(text) +
                                    " has \"~\" not followed by \"0\" or \"1\"");
      }
      ++i;
    }
    out.tokens.push_back(std::move(token));
    if (next == std::string_view::npos) break;
    pos = next + 1;
  }
  return Status::Ok();
}

// An RFC 6901 array index: "0", or digits without a leading zero. nullopt for anything else
// (including "-" and negative numbers).
std::optional<size_t> ParseIndex(std::string_view token) {
  if (token.empty() || token.size() > 9) return std::nullopt;  // arrays hold < 2^32 items
  if (token.size() > 1 && token[0] == '0') return std::nullopt;
  size_t n = 0;
  for (char c : token) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<size_t>(c - '0');
  }
  return n;
}

// Walks the first `count` tokens from `root`; nullptr when a step does not exist.
Value* Resolve(Value& root, const std::vector<std::string>& tokens, size_t count) {
  Value* cur = &root;
  for (size_t i = 0; i < count; ++i) {
    if (cur->IsObject()) {
      cur = internal::FindMember(*cur, tokens[i]);
      if (cur == nullptr) return nullptr;
    } else if (cur->IsArray()) {
      std::optional<size_t> index = ParseIndex(tokens[i]);
      if (!index || *index >= cur->Size()) return nullptr;
      cur = &(*cur)[static_cast<SizeType>(*index)];
    } else {
      return nullptr;
    }
  }
  return cur;
}

Value* Resolve(Value& root, const Pointer& p) { return Resolve(root, p.tokens, p.tokens.size()); }

// Applies operations one by one to `doc`, a private copy of the target.
class Applier {
 public:
  explicit Applier(rapidjson::Document& doc) : doc_(doc), alloc_(doc.GetAllocator()) {}

  Status Apply(Value& op) {
    if (!op.IsObject()) return InvalidArgumentError("operation is not a JSON object");
    for (std::string_view member : {"op", "path", "from", "value"}) {
      int count = 0;
      for (auto& m : op.GetObject()) {
        if (internal::StringOf(m.name) == member) ++count;
      }
      if (count > 1) {
        return InvalidArgumentError("operation has more than one " + internal::Quote(member) +
                                    " member");
      }
    }
    Value* kind = internal::FindMember(op, "op");
    if (kind == nullptr || !kind->IsString()) {
      return InvalidArgumentError("operation is missing the string member \"op\"");
    }
    std::string_view name = internal::StringOf(*kind);
    Value* path_value = internal::FindMember(op, "path");
    if (path_value == nullptr || !path_value->IsString()) {
      return InvalidArgumentError(std::string(name) +
                                  " operation is missing the string member \"path\"");
    }
    Pointer path;
    KITE_RETURN_IF_ERROR(ParsePointer(internal::StringOf(*path_value), path));

    if (name == "add" || name == "replace" || name == "test") {
      Value* value = internal::FindMember(op, "value");
      if (value == nullptr) {
        return InvalidArgumentError(std::string(name) + " operation is missing \"value\"");
      }
      if (name == "test") return Test(path, *value);
      Value moved;
      moved = *value;  // same allocator as doc_: moving is safe
      return name == "add" ? Add(path, moved, "add") : Replace(path, moved);
    }
    if (name == "remove") return Remove(path, "remove");
    if (name == "move" || name == "copy") {
      Value* from_value = internal::FindMember(op, "from");
      if (from_value == nullptr || !from_value->IsString()) {
        return InvalidArgumentError(std::string(name) +
                                    " operation is missing the string member \"from\"");
      }
      Pointer from;
      KITE_RETURN_IF_ERROR(ParsePointer(internal::StringOf(*from_value), from));
      return name == "move" ? Move(from, path) : Copy(from, path);
    }
    return InvalidArgumentError("Unexpected kind: " + std::string(name));
  }

 private:
  static Status Missing(std::string_view op, const Pointer& p) {
    return InvalidArgumentError(
        std::string(op) +
        " operation does not apply: doc is missing path: " + internal::Quote(p.text));
  }

  Status Add(const Pointer& path, Value& value, std::string_view op) {
    if (path.tokens.empty()) {
      static_cast<Value&>(doc_) = value;
      return Status::Ok();
    }
    Value* parent = Resolve(doc_, path.tokens, path.tokens.size() - 1);
    if (parent == nullptr) return Missing(op, path);
    const std::string& last = path.tokens.back();
    if (parent->IsObject()) {
      internal::SetMember(*parent, last, value, alloc_);
      return Status::Ok();
    }
    if (parent->IsArray()) {
      if (last == "-") {
        parent->PushBack(value, alloc_);
        return Status::Ok();
      }
      std::optional<size_t> index = ParseIndex(last);
      if (!index || *index > parent->Size()) {
        return InvalidArgumentError(
            std::string(op) + " operation does not apply: " + internal::Quote(last) + " in " +
            internal::Quote(path.text) + " is not an index of an array of length " +
            std::to_string(parent->Size()));
      }
      internal::InsertElement(*parent, *index, value, alloc_);
      return Status::Ok();
    }
    return Missing(op, path);
  }

  Status Remove(const Pointer& path, std::string_view op) {
    if (path.tokens.empty()) {
      return InvalidArgumentError(std::string(op) +
                                  " operation does not apply: cannot remove the whole document");
    }
    Value* parent = Resolve(doc_, path.tokens, path.tokens.size() - 1);
    if (parent == nullptr) return Missing(op, path);
    const std::string& last = path.tokens.back();
    if (parent->IsObject()) {
      for (auto it = parent->MemberBegin(); it != parent->MemberEnd(); ++it) {
        if (internal::StringOf(it->name) == last) {
          parent->EraseMember(it);
          return Status::Ok();
        }
      }
      return Missing(op, path);
    }
    if (parent->IsArray()) {
      std::optional<size_t> index = ParseIndex(last);
      if (!index || *index >= parent->Size()) return Missing(op, path);
      parent->Erase(parent->Begin() + *index);
      return Status::Ok();
    }
    return Missing(op, path);
  }

  Status Replace(const Pointer& path, Value& value) {
    Value* target = Resolve(doc_, path);
    if (target == nullptr) {
      return InvalidArgumentError("replace operation does not apply: doc is missing key: " +
                                  internal::Quote(path.text));
    }
    *target = value;
    return Status::Ok();
  }

  static bool IsProperPrefix(const Pointer& prefix, const Pointer& path) {
    if (prefix.tokens.size() >= path.tokens.size()) return false;
    for (size_t i = 0; i < prefix.tokens.size(); ++i) {
      if (prefix.tokens[i] != path.tokens[i]) return false;
    }
    return true;
  }

  Status Move(const Pointer& from, const Pointer& path) {
    Value* source = Resolve(doc_, from);
    if (source == nullptr) {
      return InvalidArgumentError("move operation does not apply: doc is missing from path: " +
                                  internal::Quote(from.text));
    }
    if (from.tokens == path.tokens) return Status::Ok();
    if (IsProperPrefix(from, path)) {
      return InvalidArgumentError("move operation does not apply: cannot move " +
                                  internal::Quote(from.text) + " into its own child " +
                                  internal::Quote(path.text));
    }
    Value moved;
    moved = *source;  // leaves null behind, removed next
    KITE_RETURN_IF_ERROR(Remove(from, "move"));
    return Add(path, moved, "move");
  }

  Status Copy(const Pointer& from, const Pointer& path) {
    Value* source = Resolve(doc_, from);
    if (source == nullptr) {
      return InvalidArgumentError("copy operation does not apply: doc is missing from path: " +
                                  internal::Quote(from.text));
    }
    // The deep copy recurses over the source; keep that bounded, and keep repeated copies
    // from growing the document exponentially.
    if (internal::Depth(*source) > kMaxDepth) {
      return InvalidArgumentError("copy operation does not apply: " + internal::Quote(from.text) +
                                  " nests deeper than " + std::to_string(kMaxDepth) + " levels");
    }
    copied_bytes_ += internal::ApproxSize(*source);
    if (copied_bytes_ > kMaxJsonPatchCopyBytes) {
      return InvalidArgumentError("copy operations would copy more than " +
                                  std::to_string(kMaxJsonPatchCopyBytes) + " bytes");
    }
    Value copy(*source, alloc_);
    return Add(path, copy, "copy");
  }

  Status Test(const Pointer& path, const Value& value) {
    Value* target = Resolve(doc_, path);
    if (target == nullptr) {
      return InvalidArgumentError("testing value " + internal::Quote(path.text) +
                                  " failed: doc is missing path");
    }
    // Equal values have equal depth; comparing depths first keeps JsonEqual's recursion
    // bounded by the patch's depth even when earlier operations built a very deep document.
    if (internal::Depth(*target) != internal::Depth(value) ||
        !internal::JsonEqual(*target, value)) {
      return InvalidArgumentError("testing value " + internal::Quote(path.text) +
                                  " failed: test failed");
    }
    return Status::Ok();
  }

  rapidjson::Document& doc_;
  Allocator& alloc_;
  size_t copied_bytes_ = 0;
};

}  // namespace

Status ApplyJsonPatch(rapidjson::Document& target, std::string_view patch) {
  if (internal::Depth(target) > kMaxDepth) {
    return InvalidArgumentError("the object to patch nests deeper than " +
                                std::to_string(kMaxDepth) + " levels");
  }
  // Work on a copy so that a failing operation leaves `target` as it was.
  rapidjson::Document result;
  result.CopyFrom(target, result.GetAllocator());
  rapidjson::Document ops(&result.GetAllocator());
  KITE_RETURN_IF_ERROR(internal::ParseJson(patch, "json patch", ops));
  if (!ops.IsArray()) {
    return InvalidArgumentError("json patch must be a JSON array of operations, got " +
                                internal::Render(ops, 60));
  }
  if (ops.Size() > kMaxJsonPatchOperations) {
    return InvalidArgumentError("The allowed maximum operations in a JSON patch is " +
                                std::to_string(kMaxJsonPatchOperations) + ", got " +
                                std::to_string(ops.Size()));
  }
  Applier applier(result);
  for (SizeType i = 0; i < ops.Size(); ++i) {
    Status s = applier.Apply(ops[i]);
    if (!s.ok()) {
      return InvalidArgumentError("json patch operation " + std::to_string(i) + ": " + s.message());
    }
  }
  // Adds and moves do not recurse, so the document may have grown deeper than any input;
  // callers serialize it recursively.
  if (internal::Depth(result) > kMaxDepth) {
    return InvalidArgumentError("the patched object would nest deeper than " +
                                std::to_string(kMaxDepth) + " levels");
  }
  target.Swap(result);
  return Status::Ok();
}

}  // namespace kite::patch
