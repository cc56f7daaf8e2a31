// Event validation as kube-apiserver's event strategy applies it
// (pkg/apis/core/validation/events.go ValidateEventCreate / ValidateEventUpdate), which
// depends on the API version of the request:
//   - every write ("v1" and "events.k8s.io/v1" alike) passes the legacy rules: the
//     namespace of involvedObject agrees with the Event's; an Event with eventTime also
//     needs reportingController (a qualified name), reportingInstance, action and reason
//     (each at most 128 characters) and a message of at most 1024 characters;
//   - a create through events.k8s.io/v1 also needs eventTime, type Normal or Warning, a
//     valid series (count at least 2, lastObservedTime set) and the deprecated fields
//     (source, firstTimestamp, lastTimestamp, count) unset;
//   - an update through events.k8s.io/v1 may not change involvedObject, reason, message,
//     source, first/lastTimestamp, count, type, eventTime, action, related,
//     reportingController or reportingInstance, and re-checks a changed series.
// Causes carry Kubernetes' messages and its internal field paths, which are the core v1
// names ("message", "involvedObject.namespace", "reportingController").
//
// Objects are in the core v1 JSON shape (an events.k8s.io/v1 body is converted before
// validation) and untrusted: wrong-typed fields become FieldValueTypeInvalid causes.
// metadata is the caller's business (the strict path's ObjectMeta checks are not repeated).
// Limitation: timestamps are compared as text, and shown in immutable-field messages as
// Go prints a time in UTC (a server whose local zone is UTC).
//
// Thread-safety: pure function.
#pragma once

#include <rapidjson/document.h>

#include <string_view>
#include <vector>

#include "src/server/validation/field_causes.h"

namespace kite::admission {

// Problems with `event` (empty when valid). `old` is the stored Event on update, nullptr on
// create. `request_api_version` is the apiVersion of the request's endpoint: "v1" (core)
// gets the legacy rules only, "events.k8s.io/v1" (or anything else) the strict ones too.
std::vector<validation::StatusCause> ValidateEvent(const rapidjson::Value& event, const rapidjson::Value* old,
                                                   std::string_view request_api_version);

}  // namespace kite::admission
