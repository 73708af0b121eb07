#pragma once
// Engine exceptions. The binding layer maps each one to the Python exception named beside it
// (see DESIGN.md "Errors"): the core stays free of Python.
#include <sstream>
#include <stdexcept>
#include <string>

namespace cr {

/// Shape problems -> ValueError.
struct ShapeError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
/// Dtype and argument-type problems -> TypeError.
struct TypeError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
/// Bad indices -> IndexError.
struct IndexError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
/// Bad argument values that are not shapes (negative sizes, eps <= 0...) -> ValueError.
struct ValueError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
/// Autograd state (backward twice, modified saved tensor...) -> RuntimeError.
struct AutogradError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

namespace detail {
inline void cat_to(std::ostringstream&) {}
template <class T, class... R>
void cat_to(std::ostringstream& os, const T& v, const R&... rest) {
  os << v;
  cat_to(os, rest...);
}
}  // namespace detail

/// Builds a message from pieces: str("matmul: ", a, " vs ", b).
template <class... A>
std::string str(const A&... a) {
  std::ostringstream os;
  detail::cat_to(os, a...);
  return os.str();
}

#define CR_CHECK(cond, Err, ...)                          \
  do {                                                    \
    if (!(cond)) throw ::cr::Err(::cr::str(__VA_ARGS__)); \
  } while (0)

}  // namespace cr
