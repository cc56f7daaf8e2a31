// JSON Patch (RFC 6902): the `application/json-patch+json` patch type of Kubernetes.
//
// A patch is a JSON array of operations applied in order: add, remove, replace, move, copy,
// test. Locations are JSON Pointers (RFC 6901): "" is the whole document, "/a/0/b" walks
// members and array indices, "~1" stands for "/" and "~0" for "~" in a token, and "-" as the
// last token of an `add` (or the target of `move`/`copy`) appends to an array. Array indices
// are decimal without leading zeros; negative indices are rejected.
//
// As in Kubernetes: a patch that is not an array is an error, a failing `test` fails the
// whole patch, and an operation whose target location does not exist fails.
//
// Limits (untrusted input): at most kMaxJsonPatchOperations operations; the values that `copy`
// operations duplicate may add up to about kMaxJsonPatchCopyBytes; the patch and the result
// may nest at most 1000 levels deep. Each limit fails with kInvalidArgument.
//
// Thread-safety: a free function with no shared state; `target` must not be used concurrently.
#pragma once

#include <rapidjson/document.h>

#include <cstddef>
#include <string_view>

#include "src/base/status.h"

namespace kite::patch {

inline constexpr size_t kMaxJsonPatchOperations = 10000;
inline constexpr size_t kMaxJsonPatchCopyBytes = 16 * 1024 * 1024;

// Applies the JSON Patch `patch` to `target`. On success `target` holds the patched document
// (it may be any JSON value, e.g. after replacing ""); on error `target` is unchanged and the
// status is kInvalidArgument with a message naming the failing operation.
Status ApplyJsonPatch(rapidjson::Document& target, std::string_view patch);

}  // namespace kite::patch
