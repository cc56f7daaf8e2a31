// JSON Merge Patch (RFC 7386, republished as RFC 7396): the `application/merge-patch+json`
// patch type of Kubernetes.
//
// The patch mirrors the document: an object patch merges member by member, recursively; a
// member whose patch value is null is removed; any other patch value (string, number, array,
// ...) replaces the target's value whole. A patch that is not an object replaces the whole
// document. Lists are never merged: strategic merge patch exists for that.
//
// Limits (untrusted input): the patch may nest at most 1000 levels deep (kInvalidArgument).
//
// Thread-safety: a free function with no shared state; `target` must not be used concurrently.
#pragma once

#include <rapidjson/document.h>

#include <string_view>

#include "src/base/status.h"

namespace kite::patch {

// Applies the merge patch `patch` to `target`. On success `target` holds the merged document;
// on error (malformed or too deeply nested patch) it is unchanged and the status is
// kInvalidArgument.
Status ApplyMergePatch(rapidjson::Document& target, std::string_view patch);

}  // namespace kite::patch
