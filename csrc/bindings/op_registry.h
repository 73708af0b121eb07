#pragma once
// The op registry: one row per op, {name, function, variants, docstring, Python arguments}. Each
// family's register_<family>.cpp is a table of rows; module.cpp hands every family the registry,
// which binds each row as a module function (chainrule.<name>), a Tensor method (Tensor.<name>,
// the same function with self in place of the first argument) and/or an in-place method
// (Tensor.<name>_), under its aliases too. chainrule._core._op_registry() lists the rows, so the
// tests' OpInfo table can check that every op has a row.
#include <cstring>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "bindings/capture_wrap.h"
#include "bindings/common.h"
#include "ops/op_table.h"

namespace crpy {

// NumPy's argument names, which PyTorch also accepts: axis for dim, keepdims for keepdim. A row
// with such an argument is bound a second time (a pybind11 overload) under those names.
namespace numpy_names {
inline const char* alias(const char* n) {
  if (n && std::strcmp(n, "dim") == 0) return "axis";
  if (n && std::strcmp(n, "keepdim") == 0) return "keepdims";
  return nullptr;
}
template <class A>
bool has(const A&) {
  return false;
}
inline bool has(const py::arg& a) { return alias(a.name) != nullptr; }
inline bool has(const py::arg_v& a) { return alias(a.name) != nullptr; }
template <class A>
A renamed(const A& a) {
  return a;
}
inline py::arg renamed(const py::arg& a) {
  py::arg r = a;
  if (const char* n = alias(a.name)) r.name = n;
  return r;
}
inline py::arg_v renamed(const py::arg_v& a) {
  py::arg_v r = a;
  if (const char* n = alias(a.name)) r.name = n;
  return r;
}
}  // namespace numpy_names

using cr::kFunction;
using cr::kInplace;
using cr::kMethod;

struct OpRow {
  std::string name;
  unsigned variants = 0;
  std::vector<std::string> aliases;
};

class OpRegistry {
 public:
  OpRegistry(py::module_& m, PyTensorClass& cls) : m_(m), cls_(cls) {}

  /// A row under construction: add its in-place variant and aliases.
  class Row {
   public:
    Row(OpRegistry& reg, size_t index, std::function<void(const char*)> bind)
        : reg_(reg), index_(index), bind_(std::move(bind)) {}
    /// Binds Tensor.<name>_ : `fn` takes self first; `args` name the arguments after self.
    template <class F, class... Args>
    Row& inplace(F fn, const char* doc, const Args&... args) {
      PyTensorClass& cls = reg_.cls_;
      const bool numpy = (numpy_names::has(args) || ...);
      bind_inplace_ = [&cls, fn, doc, numpy, args...](const std::string& n) {
        auto tfn = traced(capture_wrap::interned_name(n + "_"), fn);  // Note [Capture and replay]
        cls.def((n + "_").c_str(), tfn, doc, args...);
        if (numpy) cls.def((n + "_").c_str(), tfn, doc, numpy_names::renamed(args)...);
      };
      OpRow& row = reg_.rows_[index_];
      bind_inplace_(row.name);
      row.variants |= kInplace;
      return *this;
    }
    /// The method, when its signature differs from the function's (x.where(cond, y) vs
    /// where(cond, x, y), x.reshape(*shape) vs reshape(x, shape)).
    template <class F, class... Args>
    Row& method(F fn, const char* doc, const Args&... args) {
      PyTensorClass& cls = reg_.cls_;
      const bool numpy = (numpy_names::has(args) || ...);
      auto bind_method = [&cls, fn, doc, numpy, args...](const char* n) {
        auto tfn = traced(capture_wrap::interned_name(n), fn);
        cls.def(n, tfn, doc, args...);
        if (numpy) cls.def(n, tfn, doc, numpy_names::renamed(args)...);
      };
      OpRow& row = reg_.rows_[index_];
      bind_method(row.name.c_str());
      row.variants |= kMethod;
      auto prev = bind_;
      bind_ = [prev, bind_method](const char* n) {
        prev(n);
        bind_method(n);
      };
      return *this;
    }
    /// Every variant bound so far, under another name too (clip for clamp, absolute for abs).
    Row& alias(const char* name) {
      bind_(name);
      if (bind_inplace_) bind_inplace_(name);
      reg_.rows_[index_].aliases.emplace_back(name);
      return *this;
    }

   private:
    OpRegistry& reg_;
    size_t index_;
    std::function<void(const char*)> bind_;
    std::function<void(const std::string&)> bind_inplace_;
  };

  /// chainrule.<name>(input, args...) and/or Tensor.<name>(args...): `fn`'s first parameter is the
  /// input (self for the method), `input` its Python name; `args` name the rest, as in PyTorch.
  template <class F, class... Args>
  Row op(const char* name, unsigned variants, F fn, const char* doc, py::arg input, const Args&... args) {
    py::module_& m = m_;
    PyTensorClass& cls = cls_;
    const bool numpy = (numpy_names::has(args) || ...);
    auto bind = [&m, &cls, variants, fn, doc, input, numpy, args...](const char* n) {
      auto tfn = traced(capture_wrap::interned_name(n), fn);
      if (variants & kFunction) m.def(n, tfn, doc, input, args...);
      if (variants & kMethod) cls.def(n, tfn, doc, args...);
      if (!numpy) return;
      if (variants & kFunction) m.def(n, tfn, doc, input, numpy_names::renamed(args)...);
      if (variants & kMethod) cls.def(n, tfn, doc, numpy_names::renamed(args)...);
    };
    bind(name);
    rows_.push_back(OpRow{name, variants & (kFunction | kMethod), {}});
    return Row(*this, rows_.size() - 1, bind);
  }

  /// An op whose first argument is not one tensor (cat's sequence): a module function only.
  template <class F, class... Args>
  Row function(const char* name, F fn, const char* doc, const Args&... args) {
    py::module_& m = m_;
    const bool numpy = (numpy_names::has(args) || ...);
    auto bind = [&m, fn, doc, numpy, args...](const char* n) {
      auto tfn = traced(capture_wrap::interned_name(n), fn);
      m.def(n, tfn, doc, args...);
      if (numpy) m.def(n, tfn, doc, numpy_names::renamed(args)...);
    };
    bind(name);
    rows_.push_back(OpRow{name, kFunction, {}});
    return Row(*this, rows_.size() - 1, bind);
  }

  /// An op that exists only as an in-place method (fill_, zero_, copy_): Tensor.<name>_.
  template <class F, class... Args>
  Row inplace_only(const char* name, F fn, const char* doc, const Args&... args) {
    rows_.push_back(OpRow{name, 0, {}});
    Row row(*this, rows_.size() - 1, [](const char*) {});
    row.inplace(fn, doc, args...);
    return row;
  }

  const std::vector<OpRow>& rows() const { return rows_; }
  PyTensorClass& tensor_class() { return cls_; }

 private:
  py::module_& m_;
  PyTensorClass& cls_;
  std::vector<OpRow> rows_;
};

}  // namespace crpy
