// The Tensor class: construction, data access, autograd attributes, arithmetic operators.
#include <pybind11/numpy.h>

#include "autograd/engine.h"
#include "autograd/hooks.h"
#include "autograd/plan.h"
#include "bindings/op_registry.h"
#include "bindings/tensor_operators.h"
#include "core/node.h"
#include "ops/ops.h"

namespace crpy {

void warn_trace_constant(const char* what);  // register_capture.cpp

namespace {

py::tuple shape_tuple(const Dims& d) {
  py::tuple t(d.size());
  for (size_t i = 0; i < d.size(); ++i) t[i] = py::int_(d[i]);
  return t;
}

void set_requires_grad(const Tensor& t, bool on) {
  if (!t.is_leaf())
    throw cr::AutogradError(
        "you can only change requires_grad flags of leaf variables. If you want to use a computed "
        "variable in a subgraph that doesn't require differentiation use var_no_grad = var.detach().");
  if (on && !cr::is_floating(t.dtype()))
    throw cr::AutogradError(cr::str("only Tensors of floating point dtype can require gradients (got ",
                                    cr::dtype_name(t.dtype()), ")"));
  t.impl()->requires_grad_ = on;
}

}  // namespace

void register_tensor(py::module_& m, PyTensorClass& cls) {
  py::class_<cr::Node, std::shared_ptr<cr::Node>>(m, "Node")
      .def("name", &cr::Node::name)
      .def_property_readonly("next_functions",
                             [](const cr::Node& n) {
                               py::tuple t(n.next_edges_.size());
                               for (size_t i = 0; i < n.next_edges_.size(); ++i)
                                 t[i] = py::make_tuple(
                                     n.next_edges_[i].fn ? py::cast(n.next_edges_[i].fn) : py::none(),
                                     n.next_edges_[i].input_nr);
                               return t;
                             })
      .def("__repr__", [](const cr::Node& n) {
        return cr::str("<", n.display_name(), " object at ", (const void*)&n, ">");
      });

  cls.def(py::init([](py::object data) -> std::shared_ptr<cr::TensorImpl> {
            if (is_tensor(data)) return cr::detach(as_tensor_unchecked(data)).ptr();
            return tensor_from_data(data, py::none()).ptr();
          }),
          py::arg("data"))
      // A second Python object for `data` itself, not a copy or a detached alias: what
      // Tensor.as_subclass gives its new instance of a subclass (python/chainrule/_tensor.py).
      .def(py::init([](const Tensor& data, bool) { return data.ptr(); }), py::arg("data"), py::kw_only(),
           py::arg("_share"))
      // --- geometry and data ---
      .def_property_readonly("shape", [](const Tensor& t) { return shape_tuple(t.shape()); })
      .def(
          "size",
          [](const Tensor& t, py::object dim) -> py::object {
            if (dim.is_none()) return shape_tuple(t.shape());
            int64_t d = cr::wrap_dim(dim.cast<int64_t>(), t.dim(), "size");
            return py::int_(t.dim() == 0 ? 1 : t.shape()[d]);
          },
          py::arg("dim") = py::none())
      .def(
          "stride",
          [](const Tensor& t, py::object dim) -> py::object {
            if (dim.is_none()) return shape_tuple(t.strides());
            int64_t d = cr::wrap_dim(dim.cast<int64_t>(), t.dim(), "stride");
            return py::int_(t.dim() == 0 ? 1 : t.strides()[d]);
          },
          py::arg("dim") = py::none())
      .def_property_readonly("ndim", [](const Tensor& t) { return t.dim(); })
      .def("dim", [](const Tensor& t) { return t.dim(); })
      .def("numel", [](const Tensor& t) { return t.numel(); })
      .def("nelement", [](const Tensor& t) { return t.numel(); })
      .def("__len__",
           [](const Tensor& t) {
             if (t.dim() == 0) throw cr::TypeError("len() of a 0-d tensor");
             return t.shape()[0];
           })
      .def_property_readonly("dtype", [](const Tensor& t) { return dtype_object(t.dtype()); })
      .def("is_contiguous", [](const Tensor& t) { return t.is_contiguous(); })
      .def("is_floating_point", [](const Tensor& t) { return cr::is_floating(t.dtype()); })
      .def("storage_offset", [](const Tensor& t) { return t.offset(); })
      .def("data_ptr", [](const Tensor& t) { return (uintptr_t)t.raw_data(); })
      .def("element_size", [](const Tensor& t) { return cr::itemsize(t.dtype()); })
      .def_property_readonly("_version", [](const Tensor& t) { return t.storage()->version(); })
      .def_property_readonly("is_view", [](const Tensor& t) { return t.impl()->is_view_; })
      .def_property_readonly("device", [](const Tensor&) { return py::str("cpu"); })
      .def("item",
           [](const Tensor& t) -> py::object {
             cr::capture::refuse_host_read("Tensor.item()");
             if (t.numel() != 1)
               throw cr::ValueError(
                   cr::str("a Tensor with ", t.numel(), " elements cannot be converted to a Python scalar"));
             return cr::dispatch_storage(t.dtype(), [&](auto tag) -> py::object {
               using T = decltype(tag);
               T v = *t.data<T>();
               if constexpr (std::is_same_v<T, bool>) return py::bool_(v);
               else if constexpr (std::is_same_v<T, int64_t> || std::is_same_v<T, int32_t>)
                 return py::int_(v);
               else return py::float_((double)v);
             });
           })
      .def("numpy",
           [](const Tensor& t) {
             cr::capture::refuse_host_read("Tensor.numpy()");
             if (t.requires_grad())
               throw cr::AutogradError(
                   "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.");
             return to_numpy(t);
           })
      .def(
          "__array__",
          [](const Tensor& t, py::object dtype, py::object copy) {
            cr::capture::refuse_host_read("Converting a Tensor to a NumPy array");
            py::object a = to_numpy(cr::detach(t));
            if (!dtype.is_none())
              a = a.attr("astype")(dtype, py::arg("copy") = copy.is_none() ? py::bool_(false) : copy);
            else if (!copy.is_none() && copy.cast<bool>()) a = a.attr("copy")();
            return a;
          },
          py::arg("dtype") = py::none(), py::arg("copy") = py::none())
      // --- autograd attributes ---
      .def_property(
          "requires_grad", [](const Tensor& t) { return t.requires_grad(); },
          traced("requires_grad", &set_requires_grad))
      .def("requires_grad_",
           traced("requires_grad_",
                  [](const Tensor& t, bool on) {
                    set_requires_grad(t, on);
                    return t;
                  }),
           py::arg("requires_grad") = true)
      .def_property(
          "grad",
          traced("grad",
                 [](const Tensor& t) -> Tensor {
                   cr::capture::note_grad_read(t);  // a traced step branches on it: guard it
                   // a plan recorded (Note [Planned replay]): after a step of this replay set it,
                   // .grad is what the plan's own calls make it, the same tensor at every run
                   if (cr::plan_detail::any_recording() && cr::plan::at_top())
                     if (auto* rec = cr::plan::Recorder::current(); rec && rec->grad_state(t.impl()) != 0)
                       rec->mark_no_call_needed();
                   return Tensor(t.impl()->grad_);
                 }),
          traced("grad_setter",
                 [](const Tensor& t, py::object g) {
                   if (g.is_none()) {
                     cr::capture::note_grad_write(t);  // later reads in a trace see this value
                     if (cr::plan_detail::any_recording()) {
                       cr::plan::note_grad_set(t.impl(), true);
                       if (cr::plan::at_top())  // a plan's call of its own, not the step's
                         cr::plan::Recorder::current()->add_call(
                             [leaf = t.ptr()] { leaf->grad_.reset(); },  // (as the setter does)
                             "grad = None");
                     }
                     t.impl()->grad_.reset();
                     return;
                   }
                   if (!is_tensor(g)) throw cr::TypeError("assigned grad must be a Tensor or None");
                   Tensor gt = as_tensor_unchecked(g);
                   if (gt.shape() != t.shape())
                     throw cr::ShapeError(cr::str("assigned grad has shape ", gt.shape(),
                                                  " but the tensor has shape ", t.shape()));
                   if (gt.dtype() != t.dtype())
                     throw cr::TypeError(cr::str("assigned grad has dtype ", cr::dtype_name(gt.dtype()),
                                                 " but the tensor has dtype ", cr::dtype_name(t.dtype())));
                   cr::capture::note_grad_write(t);
                   if (cr::plan_detail::any_recording()) cr::plan::note_grad_set(t.impl(), false);
                   t.impl()->grad_ = gt.ptr();
                 }))
      // `t.data`: the values without history; assigning swaps in another tensor's storage,
      // geometry and dtype while keeping this object (how Module.to(dtype) keeps Parameters).
      .def_property("data", traced("data", [](const Tensor& t) { return cr::detach(t); }),
                    traced("data_setter",
                           [](const Tensor& dst, const Tensor& src) {
                             if (!src.defined()) throw cr::TypeError("data must be assigned a Tensor");
                             auto* d = dst.impl();
                             auto* s = src.impl();
                             if (d->requires_grad_ && !cr::is_floating(s->dtype_))
                               throw cr::TypeError(cr::str("a tensor that requires grad cannot take ",
                                                           cr::dtype_name(s->dtype_), " data"));
                             if (d->dtype_ != s->dtype_ || d->sizes_ != s->sizes_) {
                               d->grad_.reset();
                               d->grad_accumulator_.reset();
                             }
                             d->storage_ = s->storage_;
                             d->sizes_ = s->sizes_;
                             d->strides_ = s->strides_;
                             d->offset_ = s->offset_;
                             d->dtype_ = s->dtype_;
                           }))
      .def_property_readonly("grad_fn", [](const Tensor& t) { return t.grad_fn(); })
      .def_property_readonly("is_leaf", [](const Tensor& t) { return t.is_leaf(); })
      .def_property_readonly("retains_grad", [](const Tensor& t) { return t.impl()->retains_grad_; })
      .def("retain_grad", traced("retain_grad", [](const Tensor& t) { cr::retain_grad(t); }))
      .def("_is_same", [](const Tensor& a, const Tensor& b) { return a.same(b); })
      .def("__hash__", [](py::handle self) { return (py::ssize_t)(uintptr_t)self.ptr() >> 4; })
      .def("type",
           traced("type",
                  [](const Tensor& t, py::object dtype) -> py::object {
                    if (dtype.is_none())
                      return py::str(std::string("chainrule.") + cr::dtype_name(t.dtype()));
                    return py::cast(cr::to_dtype(t, parse_dtype(dtype, t.dtype())));
                  }),
           py::arg("dtype") = py::none())
      .def("__float__",
           [](const Tensor& t) {
             cr::capture::refuse_host_read("float(tensor)");
             return cr::item_as_double(t);
           })
      .def("__int__",
           [](const Tensor& t) {
             cr::capture::refuse_host_read("int(tensor)");
             return (int64_t)cr::item_as_double(t);
           })
      .def("__index__",
           [](const Tensor& t) {
             cr::capture::refuse_host_read("Using a Tensor as a Python index");
             if (t.dtype() != DType::Int64 && !cr::is_narrow_int(t.dtype()) && t.dtype() != DType::Bool)
               throw cr::TypeError("only integer tensors of a single element can be converted to an index");
             return (int64_t)cr::item_as_double(t);
           })
      .def("__bool__",
           [](const Tensor& t) {
             cr::capture::refuse_host_read("bool(tensor) (an `if` or `while` on a tensor)");
             if (t.numel() != 1)
               throw cr::ValueError(
                   cr::str("Boolean value of Tensor with ", t.numel(), " elements is ambiguous"));
             return cr::item_as_double(t) != 0.0;
           })
      // --- arithmetic (tensor_number_slots.cpp; the operators themselves skip these methods,
      // Note [Operator number slots]) ---
      .def("__add__",
           traced_operator("__add__", &tensor_add,
                           [](const Tensor& s, const Tensor& o) -> Tensor { return cr::add(s, o); }),
           py::is_operator())
      .def("__radd__",
           traced_operator("__radd__", &tensor_radd,
                           [](const Tensor& s, const Tensor& o) -> Tensor { return cr::add(o, s); }),
           py::is_operator())
      .def("__sub__",
           traced_operator("__sub__", &tensor_sub,
                           [](const Tensor& s, const Tensor& o) -> Tensor { return cr::sub(s, o); }),
           py::is_operator())
      .def("__rsub__",
           traced_operator("__rsub__", &tensor_rsub,
                           [](const Tensor& s, const Tensor& o) -> Tensor { return cr::sub(o, s); }),
           py::is_operator())
      .def("__mul__",
           traced_operator("__mul__", &tensor_mul,
                           [](const Tensor& s, const Tensor& o) -> Tensor { return cr::mul(s, o); }),
           py::is_operator())
      .def("__rmul__",
           traced_operator("__rmul__", &tensor_rmul,
                           [](const Tensor& s, const Tensor& o) -> Tensor { return cr::mul(o, s); }),
           py::is_operator())
      .def("__truediv__",
           traced_operator("__truediv__", &tensor_truediv,
                           [](const Tensor& s, const Tensor& o) -> Tensor { return cr::div(s, o); }),
           py::is_operator())
      .def("__rtruediv__",
           traced_operator("__rtruediv__", &tensor_rtruediv,
                           [](const Tensor& s, const Tensor& o) -> Tensor { return cr::div(o, s); }),
           py::is_operator())
      .def("__matmul__",
           traced_operator("__matmul__", &tensor_matmul,
                           [](const Tensor& s, const Tensor& o) -> Tensor { return cr::matmul(s, o); }),
           py::is_operator())
      .def("__rmatmul__",
           traced_operator("__rmatmul__", &tensor_rmatmul,
                           [](const Tensor& s, const Tensor& o) -> Tensor { return cr::matmul(o, s); }),
           py::is_operator())
      .def("__neg__", traced("__neg__", [](const Tensor& s) -> Tensor { return tensor_neg(s); }))
      .def("__pos__", traced("__pos__", [](const Tensor& s) { return s; }))
      .def_property_readonly("T", traced("T",
                                         [](const Tensor& t) {
                                           if (t.dim() < 2) return t;
                                           std::vector<int64_t> p;
                                           for (int64_t i = t.dim() - 1; i >= 0; --i) p.push_back(i);
                                           return cr::permute(t, p);
                                         }))
      .def_property_readonly(
          "mT", traced("mT", [](const Tensor& t) {
            if (t.dim() < 2)
              throw cr::ShapeError("tensor.mT is only supported on matrices or batches of matrices");
            return cr::transpose(t, -2, -1);
          }));

  m.def("from_numpy", [](py::handle a) {
    warn_trace_constant("chainrule.from_numpy()");
    return from_numpy(a);
  });
  m.def(
      "_install_number_slots",
      [](py::object subclass) {
        if (subclass.is_none()) install_number_slots();
        else install_subclass_number_slots(subclass);
      },
      "Points Tensor's operator slots past pybind11's dispatch (Note [Operator number slots]); "
      "called once, after the operator methods are final. With a subclass that defines none of the "
      "operators (nn.Parameter), gives it the same slots.",
      py::arg("subclass") = py::none());
  m.def(
      "_tensor",
      [](py::handle data, py::handle dtype, bool requires_grad) {
        warn_trace_constant("chainrule.tensor(data)");
        Tensor t = tensor_from_data(data, dtype);
        if (requires_grad) set_requires_grad(t, true);
        return t;
      },
      py::arg("data"), py::arg("dtype") = py::none(), py::arg("requires_grad") = false);
}

// Ops that exist as Tensor methods only (PyTorch's clone is also a function).
void register_tensor_ops(OpRegistry& reg) {
  const auto self = py::arg("input");
  reg.op(
      "clone", kFunction | kMethod, [](const Tensor& t) { return cr::clone(t); },
      "clone(input) -> Tensor\n\nA differentiable copy.", self);
  reg.op(
      "contiguous", kMethod, [](const Tensor& t) { return cr::contiguous(t); },
      "self.contiguous(): self when already contiguous, else a contiguous copy.", self);
  reg.op(
         "detach", kFunction | kMethod, [](const Tensor& t) { return cr::detach(t); },
         "detach(input) -> Tensor\n\nA new tensor sharing the data, without history.", self)
      .inplace(
          [](const Tensor& t) {
            auto* i = t.impl();
            if (i->is_view_ && t.grad_fn())
              throw cr::AutogradError("detach_(): cannot detach a view in place; use detach() instead");
            cr::release_node(std::move(i->grad_fn_));
            i->requires_grad_ = false;
            return t;
          },
          "Removes self's history in place.");
  const std::tuple<const char*, DType, const char*> casts[] = {
      {"float", DType::Float32, "self.float(): converted to float32."},
      {"double", DType::Float64, "self.double(): converted to float64."},
      {"long", DType::Int64, "self.long(): converted to int64."},
      {"bool", DType::Bool, "self.bool(): converted to bool."},
      {"int", DType::Int32, "self.int(): converted to int32."},
      {"half", DType::Float16, "self.half(): converted to float16 (round to nearest even)."},
      {"bfloat16", DType::BFloat16, "self.bfloat16(): converted to bfloat16 (round to nearest even)."},
      {"short", DType::Int16, "self.short(): converted to int16."},
      {"char", DType::Int8, "self.char(): converted to int8."},
      {"byte", DType::UInt8, "self.byte(): converted to uint8."}};
  for (const auto& [name, dt, doc] : casts) {
    const DType d = dt;
    reg.op(name, kMethod, [d](const Tensor& t) { return cr::to_dtype(t, d); }, doc, self);
  }
  reg.op(
      "to", kMethod,
      [](const Tensor& t, py::object a, py::object dtype) {
        // to(dtype), to(device_str), to(other_tensor), to("cpu", dtype=...)
        py::object target = dtype.is_none() ? a : dtype;
        if (target.is_none()) return t;
        if (py::isinstance<py::str>(target)) {
          std::string s = target.cast<std::string>();
          if (s == "cpu") return t;
        }
        if (is_tensor(target)) return cr::to_dtype(t, as_tensor_unchecked(target).dtype());
        return cr::to_dtype(t, parse_dtype(target, t.dtype()));
      },
      "self.to(dtype) / to(device) / to(other): converted to a dtype (the only device is 'cpu').", self,
      py::arg("dtype_or_device") = py::none(), py::arg("dtype") = py::none());
}

// Note [Tensor and the garbage collector]
// A hook that refers to its own tensor (`x.register_hook(lambda g, x=x: g)`, a bound method of the
// module that owns the parameter) makes a cycle Python object -> TensorImpl -> hook -> callable ->
// Python object that runs through C++, where Python's collector cannot see it. So the Tensor type
// takes part in garbage collection: tp_traverse reports the callables its hooks keep alive, and
// tp_clear drops the hooks. Only when the Python object is the sole owner of the TensorImpl (and of
// its grad_fn, for a non-leaf's hooks): otherwise a graph still alive in C++ may run those hooks,
// and the references are not the object's to report.
namespace {

std::shared_ptr<cr::TensorImpl>* sole_holder(PyObject* self) {
  // Read from the instance's layout, without pybind11's type lookups: a collection can start while
  // pybind11 is filling its cache for a new Python subclass of Tensor (the weak reference it
  // creates for the entry allocates), and a lookup for that subclass then reads the entry
  // half-built. (A Tensor of another layout is not traversed: it keeps its cycles.)
  auto* holder = const_cast<std::shared_ptr<cr::TensorImpl>*>(tensor_holder(self));
  return holder && holder->use_count() == 1 ? holder : nullptr;
}

cr::Node* sole_grad_fn(cr::TensorImpl& impl) {
  return impl.grad_fn_ && impl.grad_fn_.use_count() == 1 ? impl.grad_fn_.get() : nullptr;
}

PyObject* owned_object(const cr::HookOwner& owner) {
  auto* obj = static_cast<py::object*>(owner.get());  // bindings make every owner a py::object
  return obj ? obj->ptr() : nullptr;
}

int tensor_traverse(PyObject* self, visitproc visit, void* arg) {
  Py_VISIT(Py_TYPE(self));
  auto* holder = sole_holder(self);
  if (!holder) return 0;
  cr::TensorImpl& impl = **holder;
  for (const auto& owner : impl.hook_owners_) Py_VISIT(owned_object(owner));
  if (cr::Node* fn = sole_grad_fn(impl))
    for (const auto& entry : fn->pre_hook_owners_) Py_VISIT(owned_object(entry.second));
  return 0;
}

int tensor_clear(PyObject* self) {
  auto* holder = sole_holder(self);
  if (!holder) return 0;
  cr::TensorImpl& impl = **holder;
  // Moved out first: dropping a callable may run Python code that touches this tensor.
  auto hooks = std::move(impl.hooks_);
  auto owners = std::move(impl.hook_owners_);
  impl.hooks_.clear();
  impl.hook_owners_.clear();
  if (cr::Node* fn = sole_grad_fn(impl)) {
    auto pre = std::move(fn->pre_hooks_);
    auto pre_owners = std::move(fn->pre_hook_owners_);
    fn->pre_hooks_.clear();
    fn->pre_hook_owners_.clear();
  }
  return 0;
}

// Note [Tensor dealloc]
// pybind11's dealloc of an instance looks its type's pybind11 entries up in a table (twice) before
// it destroys the holder, though every exact Tensor has the one simple layout: for a chain of tiny
// ops, whose every result is a Tensor freed one op later, that was about 4% of the forward. An
// exact Tensor of the simple layout, with no weak references or kept-alive patients, is taken
// apart here as pybind11 does it (deregistered, holder destroyed, __dict__ cleared, freed); every
// other instance (a subclass's, a weakly referenced one) goes to pybind11's own dealloc.
destructor g_pybind11_dealloc = nullptr;

void tensor_dealloc(PyObject* self) {
  namespace pd = py::detail;
  static const pd::type_info* tinfo = pd::get_type_info(typeid(cr::TensorImpl));
  PyTypeObject* type = Py_TYPE(self);
  auto* inst = reinterpret_cast<pd::instance*>(self);
  if (type != tensor_type() || tinfo == nullptr || !tinfo->simple_ancestors || !inst->simple_layout ||
      inst->weakrefs != nullptr || inst->has_patients)
    return g_pybind11_dealloc(self);
  PyObject_GC_UnTrack(self);
#if PY_VERSION_HEX >= 0x030D0000
  if (PyType_HasFeature(type, Py_TPFLAGS_MANAGED_DICT)) PyObject_ClearManagedDict(self);
#endif
  pd::value_and_holder vh = inst->get_value_and_holder(tinfo);  // (the simple layout's: no lookup)
  if (vh.instance_registered() && !pd::deregister_instance(inst, vh.value_ptr(), tinfo))
    py::pybind11_fail("pybind11_object_dealloc(): Tried to deallocate unregistered instance!");
  if (inst->owned || vh.holder_constructed()) tinfo->dealloc(vh);
  PyObject** dict_ptr = _PyObject_GetDictPtr(self);
  if (dict_ptr) Py_CLEAR(*dict_ptr);
  type->tp_free(self);
  Py_DECREF(type);
}

}  // namespace

void install_tensor_dealloc(PyTypeObject* type) {
  if (g_pybind11_dealloc == nullptr && type->tp_dealloc != tensor_dealloc) {
    g_pybind11_dealloc = type->tp_dealloc;
    type->tp_dealloc = tensor_dealloc;
  }
}

void tensor_type_setup(PyHeapTypeObject* heap_type) {
  PyTypeObject* type = &heap_type->ht_type;
  type->tp_flags |= Py_TPFLAGS_HAVE_GC;
  type->tp_traverse = tensor_traverse;
  type->tp_clear = tensor_clear;
}

}  // namespace crpy
