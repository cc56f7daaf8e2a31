// Status and Result<T>: how modules report failure across their boundaries.
//
// A Status is a code plus a message meant for a person. Result<T> holds either a value or a
// non-OK Status. Both are [[nodiscard]]: ignoring an error must be written out
// (`(void)store.Delete(...)`), which keeps it searchable.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <utility>

namespace kite {

enum class StatusCode {
  kOk = 0,
  kNotFound,         // the key or object does not exist
  kAlreadyExists,    // create of a key that exists
  kConflict,         // a conditional write saw another revision
  kCompacted,        // the requested revision is older than the compaction point
  kInvalidArgument,  // the caller's input is malformed; the message says what to fix
  kResourceExhausted,  // a bounded buffer overflowed (e.g. a slow watcher was cut off)
  kUnavailable,      // the component is closed or shutting down
  kIoError,          // the disk or database failed
  kInternal,         // a broken invariant
};

const char* StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "Conflict: key /a was modified (revision 7, expected 5)"
  std::string ToString() const;

  bool operator==(const Status&) const = default;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status NotFoundError(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status AlreadyExistsError(std::string m) {
  return {StatusCode::kAlreadyExists, std::move(m)};
}
inline Status ConflictError(std::string m) { return {StatusCode::kConflict, std::move(m)}; }
inline Status CompactedError(std::string m) { return {StatusCode::kCompacted, std::move(m)}; }
inline Status InvalidArgumentError(std::string m) {
  return {StatusCode::kInvalidArgument, std::move(m)};
}
inline Status ResourceExhaustedError(std::string m) {
  return {StatusCode::kResourceExhausted, std::move(m)};
}
inline Status UnavailableError(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
inline Status IoError(std::string m) { return {StatusCode::kIoError, std::move(m)}; }
inline Status InternalError(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {  // NOLINT
    if (status_.ok()) std::abort();  // a Result without a value must carry an error
  }

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }

  T& value() & {
    CheckOk();
    return *value_;
  }
  const T& value() const& {
    CheckOk();
    return *value_;
  }
  T&& value() && {
    CheckOk();
    return std::move(*value_);
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  void CheckOk() const {
    if (!status_.ok()) {  // reading the value of an error is a programming bug
      std::fprintf(stderr, "kite: Result::value() on error: %s\n", status_.ToString().c_str());
      std::abort();
    }
  }

  Status status_;
  std::optional<T> value_;
};

}  // namespace kite

// Returns from the current function when `expr` (a Status) is not OK.
#define KITE_RETURN_IF_ERROR(expr)        \
  do {                                    \
    ::kite::Status kite_status_ = (expr); \
    if (!kite_status_.ok()) return kite_status_; \
  } while (0)
