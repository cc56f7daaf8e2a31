// Unknown fields in built-in objects. Kubernetes decodes bodies into typed structs, which
// drops fields the type does not declare; the fieldValidation parameter decides whether that
// is silent (Ignore), reported as warnings (Warn, the default) or an error (Strict). Kite
// keeps objects as JSON, so it finds those fields against the schema registry and prunes them
// the same way.
#pragma once

#include <rapidjson/document.h>

#include <string>
#include <vector>

#include "src/server/schema/schema_registry.h"

namespace kite::apiserver {

// Removes from `object` every field `message` does not declare (recursively through nested
// messages, lists and maps of messages) and returns their paths, e.g. "spec.foo" and
// "spec.template.spec.containers[0].bar". apiVersion and kind are always allowed at the top.
std::vector<std::string> PruneUnknownFields(rapidjson::Value& object,
                                            const schema::MessageSchema& message);

}  // namespace kite::apiserver
