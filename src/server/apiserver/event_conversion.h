// Event conversion between core v1 (the storage version) and events.k8s.io/v1, as
// Kubernetes converts (pkg/apis/events/v1/conversion.go): the two are one object under
// different field names.
//
//   core v1             events.k8s.io/v1
//   involvedObject      regarding
//   message             note
//   reportingComponent  reportingController
//   source              deprecatedSource
//   firstTimestamp      deprecatedFirstTimestamp
//   lastTimestamp       deprecatedLastTimestamp
//   count               deprecatedCount
// metadata, eventTime, series, action, reason, type, related and reportingInstance keep
// their names. Values move as they are (no defaulting, no type checks: validation's job);
// absent fields stay absent, so either way round trips exactly. A member named as the
// other version names it is not a field of the object's version and is dropped, as
// Kubernetes' typed decoding would drop it. Member order is kept.
//
// Thread-safety: stateless functions. Errors: only ConvertEvent fails (kInvalidArgument,
// for a pair of apiVersions other than "v1" and "events.k8s.io/v1").
#pragma once

#include <rapidjson/document.h>

#include <string_view>

#include "src/base/status.h"

namespace kite::apiserver {

// Rewrites a core v1 Event as events.k8s.io/v1, in place (apiVersion included).
void CoreEventToEventsV1(rapidjson::Document& object);
// Rewrites an events.k8s.io/v1 Event as core v1, in place (apiVersion included).
void EventsV1EventToCore(rapidjson::Document& object);

// An ApiVersionConvertFunc (version_conversion.h) between "v1" and "events.k8s.io/v1";
// equal apiVersions are a no-op.
Status ConvertEvent(rapidjson::Document& object, std::string_view from_api_version,
                    std::string_view to_api_version);

}  // namespace kite::apiserver
