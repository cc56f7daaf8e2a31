#include "src/server/crd/pruning.h"

#include <algorithm>
#include <string_view>
#include <utility>

namespace kite::crd {
namespace {

bool IsMetaField(std::string_view k) { return k == "apiVersion" || k == "kind" || k == "metadata"; }

class Pruner {
 public:
  Pruner(rapidjson::Document::AllocatorType& a, std::vector<std::string>* pruned) : a_(a), pruned_(pruned) {}

  void Prune(rapidjson::Value& x, const SchemaNode* s, bool embedded_root, const std::string& path) {
    if (s && s->PreservesUnknownFields()) {
      SkipPrune(x, s, embedded_root, path);
      return;
    }
    if (!s) {
      PruneWithoutSchema(x, path);
      return;
    }
    if (x.IsObject()) {
      bool embedded = embedded_root || s->x_embedded_resource;
      std::vector<bool> keep;
      bool any_removed = false;
      for (auto& m : x.GetObject()) {
        std::string_view k(m.name.GetString(), m.name.GetStringLength());
        if (embedded && IsMetaField(k)) {
          keep.push_back(true);
          continue;
        }
        if (const SchemaNode* prop = s->Property(k)) {
          Prune(m.value, prop, false, Append(path, k));
          keep.push_back(true);
        } else if (s->additional != SchemaNode::Additional::kAbsent) {
          Prune(m.value, s->AdditionalSchema(), false, Append(path, k));
          keep.push_back(true);
        } else {
          if (!IsMetaField(k) || !path.empty()) Record(path, k);
          keep.push_back(false);
          any_removed = true;
        }
      }
      if (any_removed) Compact(x, keep);
    } else if (x.IsArray()) {
      for (rapidjson::SizeType i = 0; i < x.Size(); ++i) {
        Prune(x[i], s->items.get(), false, path + "[" + std::to_string(i) + "]");
      }
    }
  }

 private:
  static std::string Append(const std::string& path, std::string_view key) {
    return path.empty() ? std::string(key) : path + "." + std::string(key);
  }
  void Record(const std::string& path, std::string_view key) { pruned_->push_back(Append(path, key)); }

  // Keeps the members flagged in `keep`, in order.
  void Compact(rapidjson::Value& x, const std::vector<bool>& keep) {
    rapidjson::Value fresh(rapidjson::kObjectType);
    size_t i = 0;
    for (auto& m : x.GetObject()) {
      if (keep[i++]) fresh.AddMember(m.name, m.value, a_);
    }
    x = fresh;
  }

  void SkipPrune(rapidjson::Value& x, const SchemaNode* s, bool embedded_root, const std::string& path) {
    if (!s) return;
    if (x.IsObject()) {
      bool embedded = embedded_root || s->x_embedded_resource;
      for (auto& m : x.GetObject()) {
        std::string_view k(m.name.GetString(), m.name.GetStringLength());
        if (embedded && IsMetaField(k)) continue;
        if (const SchemaNode* prop = s->Property(k)) {
          Prune(m.value, prop, false, Append(path, k));
        } else if (s->additional != SchemaNode::Additional::kAbsent) {
          Prune(m.value, s->AdditionalSchema(), false, Append(path, k));
        }
      }
    } else if (x.IsArray()) {
      for (rapidjson::SizeType i = 0; i < x.Size(); ++i) {
        SkipPrune(x[i], s->items.get(), false, path + "[" + std::to_string(i) + "]");
      }
    }
  }

  // No schema: objects lose all their fields; arrays (of arrays...) are walked with an
  // explicit stack since nothing bounds their depth.
  void PruneWithoutSchema(rapidjson::Value& root, const std::string& root_path) {
    std::vector<std::pair<rapidjson::Value*, std::string>> stack{{&root, root_path}};
    while (!stack.empty()) {
      auto [x, path] = std::move(stack.back());
      stack.pop_back();
      if (x->IsObject()) {
        for (auto& m : x->GetObject()) Record(path, std::string_view(m.name.GetString(), m.name.GetStringLength()));
        x->SetObject();
      } else if (x->IsArray()) {
        for (rapidjson::SizeType i = x->Size(); i-- > 0;) {
          if ((*x)[i].IsObject() || (*x)[i].IsArray()) {
            stack.emplace_back(&(*x)[i], path + "[" + std::to_string(i) + "]");
          }
        }
      }
    }
  }

  rapidjson::Document::AllocatorType& a_;
  std::vector<std::string>* pruned_;
};

}  // namespace

std::vector<std::string> PruneValue(rapidjson::Value& value, const SchemaNode* schema, bool is_resource_root,
                                    rapidjson::Document::AllocatorType& allocator) {
  std::vector<std::string> pruned;
  Pruner pruner(allocator, &pruned);
  if (is_resource_root && !schema) {
    // An empty schema that still keeps apiVersion, kind and metadata.
    SchemaNode empty;
    pruner.Prune(value, &empty, true, "");
  } else {
    pruner.Prune(value, schema, is_resource_root, "");
  }
  std::sort(pruned.begin(), pruned.end());
  return pruned;
}

}  // namespace kite::crd
