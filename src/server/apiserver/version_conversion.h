// Conversion of stored objects between the versions a kind is served at.
//
// A kind served at several versions is stored at one of them (its storage version). The
// REST handler converts request bodies to the storage version before writing, and stored
// objects to the request's version before answering (get, list items, watch events, write
// responses). Kinds without a registered converter are stored as they are sent.
//
// The storage version is usually a version of the same group (autoscaling/v1
// HorizontalPodAutoscalers are stored as autoscaling/v2), but may belong to another group:
// events.k8s.io/v1 Events are stored as core v1 Events, under the core group's keys, so both
// APIs read and write the same objects.
//
// Thread-safety: a VersionConversions is filled in before use and then only read; the
// built-in one is immutable and safe from any thread.
#pragma once

#include <rapidjson/document.h>

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>

#include "src/base/status.h"

namespace kite::apiserver {

// Converts `object`, which is at `from_version`, to `to_version` (same group and kind) in
// place, setting apiVersion. Errors: kInvalidArgument when the object's content cannot be
// converted (for example an unparsable round-trip annotation); the object may then be
// partly converted and must be discarded.
using ConvertFunc = std::function<Status(rapidjson::Document& object, std::string_view from_version,
                                         std::string_view to_version)>;

// The same between full apiVersions ("v1", "events.k8s.io/v1"), for kinds stored under
// another group. Errors as ConvertFunc.
using ApiVersionConvertFunc = std::function<Status(
    rapidjson::Document& object, std::string_view from_api_version, std::string_view to_api_version)>;

class VersionConversions {
 public:
  // Registers the converter of (group, kind), stored at `storage_version` of the same
  // group. Not thread-safe.
  void Register(std::string group, std::string kind, std::string storage_version, ConvertFunc convert);
  // Registers the converter of (group, kind), stored as the same kind and resource at
  // `storage_version` of `storage_group` (keys and stored JSON are that group's). Not
  // thread-safe.
  void RegisterStoredIn(std::string group, std::string kind, std::string storage_group,
                        std::string storage_version, ApiVersionConvertFunc convert);

  // The converters of the built-in kinds (autoscaling HorizontalPodAutoscaler,
  // events.k8s.io Event).
  static const VersionConversions& Builtin();

  // The storage version of (group, kind), or "" when it has no converter.
  std::string_view StorageVersion(std::string_view group, std::string_view kind) const;
  // The group (group, kind) is stored under: `group` itself unless registered with
  // RegisterStoredIn.
  std::string_view StorageGroup(std::string_view group, std::string_view kind) const;

  // Converts `object` to `version` of `group`: a no-op when (group, kind) has no converter
  // or the object's apiVersion already is that version. The object may be at any version of
  // `group` or at the storage version. Errors: kInvalidArgument for an object without such
  // an apiVersion, and the converter's errors.
  Status ConvertTo(std::string_view group, std::string_view kind, std::string_view version,
                   rapidjson::Document& object) const;
  // Converts `object` (at a version of `group`) to the storage version; no-op and errors
  // as ConvertTo.
  Status ConvertToStorage(std::string_view group, std::string_view kind, rapidjson::Document& object) const;
  // ConvertTo on JSON text; returns `json` untouched (and unparsed) when the kind has no
  // converter.
  Result<std::string> ConvertJsonTo(std::string_view group, std::string_view kind,
                                    std::string_view version, std::string json) const;

 private:
  struct Entry {
    std::string storage_group;
    std::string storage_version;
    ApiVersionConvertFunc convert;
  };
  const Entry* Find(std::string_view group, std::string_view kind) const;
  Status Convert(const Entry& e, std::string_view group, const std::string& to_api_version,
                 rapidjson::Document& object) const;

  std::map<std::pair<std::string, std::string>, Entry, std::less<>> entries_;
};

}  // namespace kite::apiserver
