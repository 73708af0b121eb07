#pragma once
// with_flags(f, b1, b2, ...) calls f(std::true_type or std::false_type, ...), one argument per
// flag, so that options that do not change inside a loop become template parameters and each
// variant compiles to a branch-free (vectorizable) loop.
#include <type_traits>

namespace cr {

template <class F>
void with_flags(F&& f) {
  f();
}
template <class F, class... Bs>
void with_flags(F&& f, bool b, Bs... rest) {
  if (b) with_flags([&](auto... t) { f(std::true_type{}, t...); }, rest...);
  else with_flags([&](auto... t) { f(std::false_type{}, t...); }, rest...);
}

}  // namespace cr
