#include "src/server/crd/structural_schema.h"

#include "src/server/crd/defaulting.h"
#include "src/server/crd/pruning.h"
#include "src/server/crd/schema_rules.h"
#include "src/server/crd/value_format.h"
#include "src/server/crd/value_validation.h"

namespace kite::crd {

struct StructuralSchema::Impl {
  rapidjson::Document document;  // owns the JSON the nodes point into
  std::unique_ptr<SchemaNode> root;
};

Result<StructuralSchema> StructuralSchema::Compile(const rapidjson::Value& open_api_v3_schema) {
  auto impl = std::make_shared<Impl>();
  DeepCopy(open_api_v3_schema, impl->document, impl->document.GetAllocator());
  std::vector<validation::StatusCause> problems;
  impl->root = ParseSchemaNode(impl->document, "openAPIV3Schema", &problems);
  if (problems.empty()) {
    // The schema's own rules, as for a CRD whose status subresource is off; the root-field
    // restriction that comes with status is checked by ValidateCrd.
    std::vector<validation::StatusCause> rules = ValidateSchemaRules(*impl->root, "", false);
    problems.insert(problems.end(), rules.begin(), rules.end());
  }
  if (!problems.empty()) {
    std::string message = "invalid openAPIV3Schema: ";
    size_t shown = 0;
    for (const auto& p : problems) {
      if (shown == 10) {
        message += "; and " + std::to_string(problems.size() - shown) + " more";
        break;
      }
      message += (shown ? "; " : "") + p.field + ": " + p.message;
      ++shown;
    }
    return InvalidArgumentError(message);
  }
  StructuralSchema schema;
  schema.impl_ = std::move(impl);
  return schema;
}

std::vector<validation::StatusCause> StructuralSchema::Validate(const rapidjson::Value& object) const {
  std::vector<validation::StatusCause> out;
  ValidateAgainstSchema(object, *impl_->root, "", &out);
  ValidateEmbeddedResources(object, *impl_->root, "", &out);
  ValidateListSetsAndMaps(object, *impl_->root, "", &out);
  return out;
}

std::vector<std::string> StructuralSchema::Prune(rapidjson::Value& object,
                                                 rapidjson::Document::AllocatorType& a) const {
  return PruneValue(object, impl_->root.get(), true, a);
}

void StructuralSchema::ApplyDefaults(rapidjson::Value& object, rapidjson::Document::AllocatorType& a) const {
  ApplySchemaDefaults(object, *impl_->root, a);
}

const SchemaNode* StructuralSchema::SchemaAt(std::string_view path) const {
  const SchemaNode* node = impl_->root.get();
  if (!path.empty() && path[0] == '.') path.remove_prefix(1);
  while (!path.empty() && node) {
    size_t dot = path.find('.');
    std::string_view step = path.substr(0, dot);
    const SchemaNode* next = node->Property(step);
    node = next ? next : node->AdditionalSchema();
    if (dot == std::string_view::npos) break;
    path.remove_prefix(dot + 1);
  }
  return node;
}

const SchemaNode& StructuralSchema::root() const { return *impl_->root; }

}  // namespace kite::crd
