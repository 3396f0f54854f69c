// A value or an error message, for operations whose failure the caller must report
// (C++20 has no std::expected). Errors are plain sentences meant for an operator.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace vigil {

struct Failure {
  std::string message;
};

template <typename T>
class [[nodiscard]] Expected {
 public:
  Expected(T value) : state_(std::move(value)) {}            // NOLINT(google-explicit-constructor)
  Expected(Failure failure) : state_(std::move(failure)) {}  // NOLINT

  bool ok() const { return std::holds_alternative<T>(state_); }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<T>(state_); }
  const T& value() const& { return std::get<T>(state_); }
  T&& value() && { return std::get<T>(std::move(state_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }

  const std::string& error() const { return std::get<Failure>(state_).message; }

 private:
  std::variant<T, Failure> state_;
};

// Expected<void>: success or an error message.
struct Ok {};
using Status = Expected<Ok>;

inline Failure fail(std::string message) {
  return Failure{std::move(message)};
}

}  // namespace vigil
