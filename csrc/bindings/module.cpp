// Wires the extension module: the Tensor class and its infrastructure first, then every family's
// table of ops through one OpRegistry (bindings/op_registry.h), then autograd and the optimizers.
#include "bindings/op_registry.h"

namespace crpy {
void register_rnn(py::module_& m);
void register_conv(OpRegistry& reg);       // register_conv.cpp
void register_attention(OpRegistry& reg);  // register_attention.cpp
void register_capture(py::module_& m);     // register_capture.cpp
void register_guard_key(py::module_& m);   // guard_key.cpp
}  // namespace crpy

// Declared safe without the GIL: a free-threaded CPython (3.13t and later) keeps the GIL off
// when the module is imported. tests/test_threads_training.py trains models in parallel threads.
PYBIND11_MODULE(_core, m, py::mod_gil_not_used()) {
  m.doc() = "chainrule's C++ engine";
  auto cls = crpy::PyTensorClass(m, "Tensor", py::custom_type_setup(&crpy::tensor_type_setup));
  crpy::install_tensor_dealloc((PyTypeObject*)cls.ptr());  // Note [Tensor dealloc]
  crpy::register_errors(m);
  crpy::register_dtypes(m);
  crpy::register_config(m);
  crpy::register_tensor(m, cls);
  crpy::register_creation(m, cls);

  crpy::OpRegistry ops(m, cls);
  crpy::register_tensor_ops(ops);
  crpy::register_elementwise(ops);
  crpy::register_math(ops);
  crpy::register_matrix(ops);
  crpy::register_reduce(ops);
  crpy::register_sort(ops);
  crpy::register_shape(ops);
  crpy::register_index(ops);
  crpy::register_linalg(ops);
  crpy::register_nn(ops);
  crpy::register_norm(ops);
  crpy::register_conv(ops);
  crpy::register_attention(ops);
  crpy::register_table(ops);
  // chainrule._core._op_registry(): [(name, variants, aliases)], for the tests' OpInfo table.
  py::list rows;
  for (const auto& r : ops.rows()) {
    py::list variants;
    if (r.variants & crpy::kFunction) variants.append("function");
    if (r.variants & crpy::kMethod) variants.append("method");
    if (r.variants & crpy::kInplace) variants.append("inplace");
    rows.append(py::make_tuple(r.name, py::tuple(variants), py::tuple(py::cast(r.aliases))));
  }
  m.def(
      "_set_default_dtype",
      [](py::handle d) { crpy::set_default_float_dtype(crpy::parse_dtype(d, crpy::default_float_dtype())); },
      "Sets the dtype of Python floats and floating factories (float32 or float64).");
  m.def(
      "_get_default_dtype", []() { return crpy::dtype_object(crpy::default_float_dtype()); },
      "The dtype of Python floats and floating factories.");
  m.def(
      "_check_device", [](py::handle device, const char* op) { crpy::check_device(device, op); },
      "Raises unless device is None or the CPU.", py::arg("device"), py::arg("op") = "device");
  m.def("_op_registry", [rows]() { return rows; }, "The op registry: (name, variants, aliases) per op.");

  crpy::register_autograd(m, cls);
  crpy::register_optim(m, cls);
  crpy::register_storage(m);
  crpy::register_forward_ad(m);
  crpy::register_rnn(m);
  crpy::register_capture(m);
  crpy::register_guard_key(m);
}
