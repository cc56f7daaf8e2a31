// The status a CRD gets once the API server has taken it in, as Kubernetes' naming and
// establishing controllers write it (pkg/controller/status, pkg/controller/establish):
//
//  - status.acceptedNames: spec.names, except names that other CRDs of the same group have
//    already accepted (a name this CRD accepted before stays accepted);
//  - condition NamesAccepted: True/NoConflicts/"no conflicts found", or False with reason
//    PluralConflict, SingularConflict, ShortNamesConflict, KindConflict or ListKindConflict
//    and a message like `"crontabs" is already in use` (the last conflict found wins);
//  - condition Established: True/InitialNamesAccepted/"the initial names have been accepted"
//    once names are accepted (Kite serves immediately; Kubernetes passes through
//    Installing first), and it stays True afterwards; False/NotAccepted/"not all names are
//    accepted" before that;
//  - status.storedVersions: the existing list plus the current storage version.
//
// Conditions keep their lastTransitionTime unless their status changes.
// Thread-safety: pure function; `crd` is modified in place.
#pragma once

#include <rapidjson/document.h>

#include <string_view>
#include <vector>

namespace kite::crd {

// `other_crds_in_group`: the other stored CRDs of spec.group (entries with the same
// metadata.name as `crd`, or another group, are ignored). `now`: RFC 3339, e.g.
// "2024-05-01T10:00:00Z".
// Whether the CRD has the condition Established=True (its objects are served).
bool IsEstablished(const rapidjson::Value& crd);

void SetAcceptedStatus(rapidjson::Value& crd, rapidjson::Document::AllocatorType& a,
                       const std::vector<const rapidjson::Value*>& other_crds_in_group, std::string_view now);

}  // namespace kite::crd
