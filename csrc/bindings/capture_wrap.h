#pragma once
// traced(name, fn): the bound function `fn`, recorded as a step of the schedule being traced (Note
// [Capture and replay] in autograd/capture.h) when chainrule.compile traces on this thread, and
// called as is otherwise (one thread-local test). The wrapper has fn's exact signature, so pybind11
// binds it the same way. Each argument becomes a recipe, rebuilt on every replay:
//   - Tensor, std::optional<Tensor>, vectors/tuples of them: slots;
//   - Python objects (py::object, py::handle, py::args...): a Tensor inside a tuple, list or dict is a
//     slot, the rest is kept as the object (numbers, None, strings, dtypes, callables);
//   - anything else (int, double, bool, std::vector<int64_t>, strings...): a constant copy.
// Tensors in the result (Tensor, containers of them, or Python tuples/lists/dicts of them) become
// new slots, filled by each replay in the same order.
#include <tuple>
#include <type_traits>
#include <utility>

#include "autograd/capture.h"
#include "bindings/common.h"

namespace crpy {
namespace capture_wrap {

using cr::capture::Frame;
using cr::capture::Schedule;
using cr::capture::Slot;

// --- the signature of a callable ---
template <class T>
struct signature : signature<decltype(&T::operator())> {};
template <class R, class... A>
struct signature<R (*)(A...)> {
  using type = R(A...);
};
template <class R, class... A>
struct signature<R (*)(A...) noexcept> {
  using type = R(A...);
};
template <class C, class R, class... A>
struct signature<R (C::*)(A...) const> {
  using type = R(A...);
};
template <class C, class R, class... A>
struct signature<R (C::*)(A...)> {
  using type = R(A...);
};
template <class C, class R, class... A>
struct signature<R (C::*)(A...) const noexcept> {
  using type = R(A...);
};

// --- C++ values that may hold tensors ---
template <class T>
struct tensor_visit {
  static constexpr bool has = false;
  template <class V>
  static void apply(T&, V&&) {}
};
template <>
struct tensor_visit<Tensor> {
  static constexpr bool has = true;
  template <class V>
  static void apply(Tensor& t, V&& v) {
    v(t);
  }
};
template <class T>
struct tensor_visit<std::optional<T>> {
  static constexpr bool has = tensor_visit<T>::has;
  template <class V>
  static void apply(std::optional<T>& o, V&& v) {
    if (o) tensor_visit<T>::apply(*o, v);
  }
};
template <class T, class Al>
struct tensor_visit<std::vector<T, Al>> {
  static constexpr bool has = tensor_visit<T>::has;
  template <class V>
  static void apply(std::vector<T, Al>& xs, V&& v) {
    for (auto& x : xs) tensor_visit<T>::apply(x, v);
  }
};
template <class A, class B>
struct tensor_visit<std::pair<A, B>> {
  static constexpr bool has = tensor_visit<A>::has || tensor_visit<B>::has;
  template <class V>
  static void apply(std::pair<A, B>& p, V&& v) {
    tensor_visit<A>::apply(p.first, v);
    tensor_visit<B>::apply(p.second, v);
  }
};
template <class... T>
struct tensor_visit<std::tuple<T...>> {
  static constexpr bool has = (tensor_visit<T>::has || ...);
  template <class V>
  static void apply(std::tuple<T...>& t, V&& v) {
    std::apply([&](auto&... x) { (tensor_visit<std::decay_t<decltype(x)>>::apply(x, v), ...); }, t);
  }
};

// --- Python objects that may hold tensors ---
/// A Python argument as a recipe: the object itself when it holds no tensor, else a tree whose
/// leaves are slots (tensors) or objects.
struct PyRecipe {
  enum class Kind : uint8_t { Object, Tensor, Tuple, List, Dict };
  Kind kind = Kind::Object;
  py::object value;  // Object: the object; Dict: the keys as a tuple
  Slot slot = cr::capture::kNoSlot;
  std::vector<PyRecipe> items;
};
PyRecipe py_recipe(Schedule& s, py::handle o);
py::object py_build(const PyRecipe& r, const Frame& f);
/// The tensors of a Python result, in a fixed order (depth first through tuples, lists, dicts).
void py_tensors(py::handle o, std::vector<Tensor>& out);

template <class T>
constexpr bool is_py_object_v = std::is_base_of_v<py::handle, T>;

/// Raises AutogradError: a replay found no tensor where the trace had one (a guard missed a change).
[[noreturn]] void missing_tensor();

/// How one argument of type T (decayed) is kept and rebuilt.
template <class T, class Enable = void>
struct ArgRecipe {
  static_assert(std::is_copy_constructible_v<T>, "traced(): an argument type that cannot be kept");
  T value;
  std::vector<Slot> slots;
  ArgRecipe(Schedule& s, const T& v) : value(v) {
    if constexpr (tensor_visit<T>::has) {
      tensor_visit<T>::apply(value, [&](Tensor& t) {
        slots.push_back(s.slot_of(t));
        t = Tensor();  // the trace's tensor is not kept: the slot stands for it
      });
    }
  }
  decltype(auto) get(const Frame& f) const {
    if constexpr (tensor_visit<T>::has) {
      T v = value;
      size_t i = 0;
      tensor_visit<T>::apply(v, [&](Tensor& t) {
        Slot k = slots[i++];
        if (k == cr::capture::kNoSlot) return;
        t = f.slots[(size_t)k];
        if (!t.defined()) missing_tensor();
      });
      return v;
    } else {
      return static_cast<const T&>(value);
    }
  }
};

template <>
struct ArgRecipe<Tensor> {
  Slot slot;
  ArgRecipe(Schedule& s, const Tensor& t) : slot(s.slot_of(t)) {}
  const Tensor& get(const Frame& f) const {
    const Tensor& t = f.slots[(size_t)slot];
    if (!t.defined()) missing_tensor();
    return t;
  }
};

template <class T>
struct ArgRecipe<T, std::enable_if_t<is_py_object_v<T>>> {
  PyRecipe recipe;
  ArgRecipe(Schedule& s, const T& o) : recipe(py_recipe(s, o)) {}
  // py::handle borrows: the rebuilt object is returned as py::object, which outlives the call.
  auto get(const Frame& f) const {
    py::object o = recipe.kind == PyRecipe::Kind::Object ? recipe.value : py_build(recipe, f);
    if constexpr (std::is_same_v<T, py::handle> || std::is_same_v<T, py::object>) return o;
    else return py::reinterpret_steal<T>(o.release());
  }
};

/// How a result of type R assigns its tensors to new slots, at trace and on replay.
template <class R, class Enable = void>
struct OutRecipe {
  std::vector<Slot> slots;
  OutRecipe(Schedule& s, const R& r) {
    if constexpr (tensor_visit<R>::has) {
      R copy = r;
      tensor_visit<R>::apply(copy, [&](Tensor& t) { slots.push_back(s.add_output(t)); });
    }
  }
  void store(Frame& f, R& r) const {
    if constexpr (tensor_visit<R>::has) {
      size_t i = 0;
      tensor_visit<R>::apply(r, [&](Tensor& t) {
        if (i < slots.size() && slots[i] != cr::capture::kNoSlot) f.slots[(size_t)slots[i]] = t;
        ++i;
      });
    }
  }
};

template <class R>
struct OutRecipe<R, std::enable_if_t<is_py_object_v<R>>> {
  std::vector<Slot> slots;
  OutRecipe(Schedule& s, const R& r) {
    std::vector<Tensor> ts;
    py_tensors(r, ts);
    for (const Tensor& t : ts) slots.push_back(s.add_output(t));
  }
  void store(Frame& f, R& r) const {
    if (slots.empty()) return;
    if (slots.size() == 1 && is_tensor(r)) {  // the common case: one tensor, no container
      f.slots[(size_t)slots[0]] = as_tensor_unchecked(r);
      return;
    }
    std::vector<Tensor> ts;
    py_tensors(r, ts);
    if (ts.size() != slots.size())
      throw cr::AutogradError(
          "chainrule.compile: a replayed call returned a different number of tensors than when traced");
    for (size_t i = 0; i < ts.size(); ++i)
      if (slots[i] != cr::capture::kNoSlot) f.slots[(size_t)slots[i]] = ts[i];
  }
};

template <class R, class F, class... A>
R record(const char* name, const F& fn, A&&... a) {
  Schedule& s = *cr::capture::recording();
  s.begin_call();
  // Braced initialization evaluates left to right: argument slots are taken before the call runs.
  std::tuple<ArgRecipe<std::decay_t<A>>...> recipes{ArgRecipe<std::decay_t<A>>(s, a)...};
  if constexpr (std::is_void_v<R>) {
    {
      cr::capture::PauseTracing pause;
      fn(std::forward<A>(a)...);
    }
    s.add_step(name,
               [fn, recipes](Frame& f) { std::apply([&](const auto&... r) { fn(r.get(f)...); }, recipes); });
  } else {
    R result = [&]() -> R {
      cr::capture::PauseTracing pause;
      return fn(std::forward<A>(a)...);
    }();
    OutRecipe<R> out(s, result);
    s.add_step(name, [fn, recipes, out](Frame& f) {
      R r = std::apply([&](const auto&... x) -> R { return fn(x.get(f)...); }, recipes);
      out.store(f, r);
    });
    return result;
  }
}

/// A copy of `name` that lives as long as the module (step names of ops bound under built names).
const char* interned_name(const std::string& name);

template <class F, class R, class... A>
auto make_traced(const char* name, F fn, R (*)(A...)) {
  return [name, fn](A... a) -> R {
    if (!cr::tracing() || cr::capture::recording() == nullptr) return fn(std::forward<A>(a)...);
    return record<R>(name, fn, std::forward<A>(a)...);
  };
}

}  // namespace capture_wrap

/// `fn` with the same signature, recorded as a step while chainrule.compile traces (see above).
/// `name` must outlive the binding (a string literal, or interned_name()).
template <class F>
auto traced(const char* name, F fn) {
  using Sig = typename capture_wrap::signature<F>::type;
  return capture_wrap::make_traced(name, std::move(fn), static_cast<std::add_pointer_t<Sig>>(nullptr));
}

/// traced() for a binary operator method (self, other). When `other` is a tensor, the step records
/// `tensor_fn(self, other)` with both operands as tensors, so that a replay hands the frame's
/// tensors straight to the op: `fn` takes `other` as a Python object, which a replay would have to
/// build for it (a pybind11 cast and registry lookups) on every call. `tensor_fn` must compute what
/// `fn` computes for a tensor `other`.
template <class F, class G>
auto traced_operator(const char* name, F fn, G tensor_fn) {
  return [name, fn, tensor_fn](const Tensor& s, py::handle o) -> Tensor {
    if (!cr::tracing() || cr::capture::recording() == nullptr) return fn(s, o);
    if (is_tensor(o)) return capture_wrap::record<Tensor>(name, tensor_fn, s, as_tensor_unchecked(o));
    return capture_wrap::record<Tensor>(name, fn, s, o);
  };
}

/// target.def(name, traced(name, fn), extra...): a module function or Tensor method that is
/// recorded while chainrule.compile traces.
template <class Target, class F, class... Extra>
Target& def_traced(Target& target, const char* name, F fn, const Extra&... extra) {
  return target.def(name, traced(capture_wrap::interned_name(name), std::move(fn)), extra...);
}

}  // namespace crpy
