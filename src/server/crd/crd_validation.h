// Validation of CustomResourceDefinition objects (apiextensions.k8s.io/v1), as the
// apiextensions apiserver's strategy does on create and update, with Kubernetes' field
// paths and messages.
//
// Like Kubernetes, validation sees the v1 object through the internal version: when every
// version carries the same schema (or subresources, or printer columns) it is reported
// under the top-level path ("spec.validation.openAPIV3Schema...", "spec.subresources...",
// "spec.additionalPrinterColumns[0]..."), otherwise under "spec.versions[i]....".
//
// Differences from Kubernetes, on purpose:
//  - conversion.strategy must be None (Kite cannot call conversion webhooks);
//  - a value Kubernetes prints as a Go struct dump (the whole versions list, the root
//    schema) is printed as compact JSON;
//  - CEL rules (x-kubernetes-validations) are checked for shape only, never compiled;
//  - selectableFields are not validated; status.acceptedNames is not re-validated (only
//    SetAcceptedStatus writes it).
// Thread-safety: pure functions.
#pragma once

#include <rapidjson/document.h>

#include <vector>

#include "src/server/validation/field_causes.h"

namespace kite::crd {

// Fills in the defaults Kubernetes applies to a v1 CRD before validating it:
// spec.names.singular (the lower-cased kind), spec.names.listKind (kind + "List") and
// spec.conversion ({"strategy": "None"}). Members of the wrong JSON type are left alone.
void DefaultCrd(rapidjson::Value& crd, rapidjson::Document::AllocatorType& a);

// Problems of `crd` (after DefaultCrd). `old` is the stored CRD on update, nullptr on create.
// Checks: metadata (name == <spec.names.plural>.<spec.group>, labels, annotations, the
// api-approved.kubernetes.io annotation for *.k8s.io/*.kubernetes.io groups); group (DNS
// subdomain with a dot); scope; names (plural, singular, shortNames, categories: DNS-1035
// labels; kind/listKind: DNS-1035 when lower-cased, different); versions (non-empty,
// unique DNS-1035 names, exactly one storage version, deprecationWarning); every version's
// schema present and valid (schema_rules.h), with the root restrictions of the status
// subresource; subresources (scale paths); additionalPrinterColumns; conversion;
// spec.preserveUnknownFields (must stay false). On update: group and names.plural are
// immutable, scope and names.kind too once the old CRD is Established, and every version in
// the old status.storedVersions must remain in spec.versions.
std::vector<validation::StatusCause> ValidateCrd(const rapidjson::Value& crd, const rapidjson::Value* old);

}  // namespace kite::crd
