#pragma once

// Errors are values: every fallible call across a module boundary returns a Status or a
// Result<T>. Exceptions from third-party libraries (cppzmq, msgpack, yaml-cpp, RocksDB options)
// are caught in the wrapper that calls them and turned into a Status there.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace noa {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // malformed input, bad config value
  kNotFound,
  kAlreadyExists,
  kFailedPrecondition,  // e.g. incompatible protocol version, report before hello
  kResourceExhausted,   // oversized message, full disk, rate limit
  kUnavailable,         // peer or service unreachable; retrying may help
  kDeadlineExceeded,
  kCorruption,          // stored data unreadable
  kIoError,
  kPermissionDenied,
  kUnauthenticated,
  kCancelled,
  kUnimplemented,       // unknown message type or action
  kInternal,
};

std::string_view statusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
  static Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status AlreadyExists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
  static Status FailedPrecondition(std::string m) {
    return {StatusCode::kFailedPrecondition, std::move(m)};
  }
  static Status ResourceExhausted(std::string m) {
    return {StatusCode::kResourceExhausted, std::move(m)};
  }
  static Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
  static Status DeadlineExceeded(std::string m) {
    return {StatusCode::kDeadlineExceeded, std::move(m)};
  }
  static Status Corruption(std::string m) { return {StatusCode::kCorruption, std::move(m)}; }
  static Status IoError(std::string m) { return {StatusCode::kIoError, std::move(m)}; }
  static Status PermissionDenied(std::string m) {
    return {StatusCode::kPermissionDenied, std::move(m)};
  }
  static Status Unauthenticated(std::string m) {
    return {StatusCode::kUnauthenticated, std::move(m)};
  }
  static Status Cancelled(std::string m) { return {StatusCode::kCancelled, std::move(m)}; }
  static Status Unimplemented(std::string m) { return {StatusCode::kUnimplemented, std::move(m)}; }
  static Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "InvalidArgument: message", or "OK".
  std::string toString() const;

  // Returns a copy whose message is "context: message"; OK stays OK.
  Status withContext(std::string_view context) const;

  bool operator==(const Status& other) const = default;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// A value or the Status that explains why there is none. REQUIRES: constructed from a non-OK
// Status when it holds no value.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : state_(std::move(status)) {}  // NOLINT: implicit by design

  bool ok() const { return std::holds_alternative<T>(state_); }
  const Status& status() const {
    static const Status kOkStatus;
    return ok() ? kOkStatus : std::get<Status>(state_);
  }
  T& value() & { return std::get<T>(state_); }
  const T& value() const& { return std::get<T>(state_); }
  T&& value() && { return std::get<T>(std::move(state_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> state_;
};

}  // namespace noa

#define NOA_STATUS_CONCAT_INNER(a, b) a##b
#define NOA_STATUS_CONCAT(a, b) NOA_STATUS_CONCAT_INNER(a, b)

// The temporary gets a unique name so the macro nests (inside a lambda passed to another use)
// without -Wshadow warnings.
#define NOA_RETURN_IF_ERROR_IMPL(tmp, expr) \
  do {                                      \
    ::noa::Status tmp = (expr);             \
    if (!tmp.ok()) return tmp;              \
  } while (0)
#define NOA_RETURN_IF_ERROR(expr) \
  NOA_RETURN_IF_ERROR_IMPL(NOA_STATUS_CONCAT(noa_status_, __COUNTER__), expr)

#define NOA_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.status();             \
  lhs = std::move(tmp).value()

#define NOA_ASSIGN_OR_RETURN(lhs, expr) \
  NOA_ASSIGN_OR_RETURN_IMPL(NOA_STATUS_CONCAT(noa_result_, __COUNTER__), lhs, expr)
