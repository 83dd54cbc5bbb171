// Status codes and a small Result<T> for the control path into the dataplane
// (C++20 has no std::expected). The codes are the gRPC canonical ones the
// control API answers with, so translation at the edge is one switch.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace mrfp::dataplane {

enum class ErrorCode {
  InvalidArgument,
  NotFound,
  AlreadyExists,
  ResourceExhausted,
  FailedPrecondition,
  Unavailable,
  Internal,
};

struct Error {
  ErrorCode code;
  std::string message;  // names the field or object and what is wrong
};

template <class T>
class Result {
 public:
  Result(T value) : state_(std::move(value)) {}
  Result(Error error) : state_(std::move(error)) {}

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() { return std::get<0>(state_); }
  const T& value() const { return std::get<0>(state_); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const { return std::get<1>(state_); }

 private:
  std::variant<T, Error> state_;
};

struct Done {};
using Status = Result<Done>;
inline Status ok_status() { return Done{}; }

}  // namespace mrfp::dataplane
