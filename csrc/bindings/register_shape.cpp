// Shape and view ops.
#include "bindings/common.h"
#include "ops/ops.h"

namespace crpy {

namespace {

TensorList tensor_sequence(py::handle seq, const char* op) {
  if (is_tensor(seq) || !py::isinstance<py::sequence>(seq))
    throw cr::TypeError(cr::str(op, "(): argument 'tensors' must be a tuple or list of Tensors, got ",
                                py::str(py::type::of(seq).attr("__name__")).cast<std::string>()));
  TensorList out;
  size_t i = 0;
  for (auto item : py::reinterpret_borrow<py::sequence>(seq)) {
    if (!is_tensor(item))
      throw cr::TypeError(cr::str(op, "(): expected a sequence of Tensors, but element ", i, " is ",
                                  py::str(py::type::of(item).attr("__name__")).cast<std::string>()));
    out.push_back(as_tensor_unchecked(item));
    ++i;
  }
  return out;
}

py::tuple as_tuple(const TensorList& ts) {
  py::tuple t(ts.size());
  for (size_t i = 0; i < ts.size(); ++i) t[i] = py::cast(ts[i]);
  return t;
}

Tensor squeeze_any(const Tensor& t, py::handle dim) {
  if (dim.is_none()) return cr::squeeze(t, {}, true);
  return cr::squeeze(t, parse_dims(dim, "squeeze"), false);
}

py::tuple split_any(const Tensor& t, py::handle sizes, int64_t dim) {
  if (PyLong_Check(sizes.ptr()) || (PyIndex_Check(sizes.ptr()) && !py::isinstance<py::sequence>(sizes)))
    return as_tuple(cr::split(t, parse_shape(sizes, "split")[0], dim));
  return as_tuple(cr::split_with_sizes(t, parse_shape(sizes, "split").vec(), dim));
}

Tensor flip_any(const Tensor& t, py::handle dims) { return cr::flip(t, parse_dims(dims, "flip")); }

}  // namespace

void register_shape(py::module_& m, PyTensorClass& cls) {
  cls.def("reshape", [](const Tensor& t, py::args shape) { return cr::reshape(t, parse_shape_args(shape, "reshape")); });
  cls.def("view", [](const Tensor& t, py::args shape) { return cr::view(t, parse_shape_args(shape, "view")); });
  cls.def("expand", [](const Tensor& t, py::args shape) { return cr::expand(t, parse_shape_args(shape, "expand")); });
  cls.def("transpose", [](const Tensor& t, int64_t d0, int64_t d1) { return cr::transpose(t, d0, d1); });
  cls.def("permute", [](const Tensor& t, py::args dims) {
    Dims d = parse_shape_args(dims, "permute");
    return cr::permute(t, d.vec());
  });
  cls.def("unsqueeze", [](const Tensor& t, int64_t d) { return cr::unsqueeze(t, d); });
  m.def("reshape", [](const Tensor& t, py::handle shape) { return cr::reshape(t, parse_shape(shape, "reshape")); });
  m.def("transpose", [](const Tensor& t, int64_t d0, int64_t d1) { return cr::transpose(t, d0, d1); });
  m.def("permute", [](const Tensor& t, py::handle dims) { return cr::permute(t, parse_shape(dims, "permute").vec()); });
  m.def("unsqueeze", [](const Tensor& t, int64_t d) { return cr::unsqueeze(t, d); });

  // --- views and reshapes ---
  m.def("flatten", [](const Tensor& t, int64_t s, int64_t e) { return cr::flatten(t, s, e); },
        py::arg("input"), py::arg("start_dim") = 0, py::arg("end_dim") = -1);
  cls.def("flatten", [](const Tensor& t, int64_t s, int64_t e) { return cr::flatten(t, s, e); },
          py::arg("start_dim") = 0, py::arg("end_dim") = -1);
  m.def("squeeze", &squeeze_any, py::arg("input"), py::arg("dim") = py::none());
  cls.def("squeeze", &squeeze_any, py::arg("dim") = py::none());
  m.def("broadcast_to", [](const Tensor& t, py::handle size) { return cr::broadcast_to(t, parse_shape(size, "broadcast_to")); },
        py::arg("input"), py::arg("size"));
  cls.def("broadcast_to", [](const Tensor& t, py::handle size) { return cr::broadcast_to(t, parse_shape(size, "broadcast_to")); },
          py::arg("size"));
  cls.def("expand_as", [](const Tensor& t, const Tensor& o) { return cr::expand(t, o.shape()); }, py::arg("other"));
  cls.def("view_as", [](const Tensor& t, const Tensor& o) { return cr::view(t, o.shape()); }, py::arg("other"));
  cls.def("reshape_as", [](const Tensor& t, const Tensor& o) { return cr::reshape(t, o.shape()); }, py::arg("other"));
  m.def("narrow", &cr::narrow, py::arg("input"), py::arg("dim"), py::arg("start"), py::arg("length"));
  cls.def("narrow", &cr::narrow, py::arg("dim"), py::arg("start"), py::arg("length"));
  m.def("select", &cr::select, py::arg("input"), py::arg("dim"), py::arg("index"));
  cls.def("select", &cr::select, py::arg("dim"), py::arg("index"));
  auto movedim = [](const Tensor& t, py::handle src, py::handle dst) {
    return cr::movedim(t, parse_dims(src, "movedim"), parse_dims(dst, "movedim"));
  };
  m.def("movedim", movedim, py::arg("input"), py::arg("source"), py::arg("destination"));
  m.def("moveaxis", movedim, py::arg("input"), py::arg("source"), py::arg("destination"));
  cls.def("movedim", movedim, py::arg("source"), py::arg("destination"));
  cls.def("moveaxis", movedim, py::arg("source"), py::arg("destination"));

  // --- joining and splitting ---
  auto cat = [](py::handle tensors, int64_t dim) { return cr::cat(tensor_sequence(tensors, "cat"), dim); };
  m.def("cat", cat, py::arg("tensors"), py::arg("dim") = 0);
  m.def("concat", cat, py::arg("tensors"), py::arg("dim") = 0);
  m.def("concatenate", cat, py::arg("tensors"), py::arg("dim") = 0);
  m.def("stack", [](py::handle tensors, int64_t dim) { return cr::stack(tensor_sequence(tensors, "stack"), dim); },
        py::arg("tensors"), py::arg("dim") = 0);
  m.def("split", &split_any, py::arg("tensor"), py::arg("split_size_or_sections"), py::arg("dim") = 0);
  cls.def("split", &split_any, py::arg("split_size"), py::arg("dim") = 0);
  auto chunk = [](const Tensor& t, int64_t chunks, int64_t dim) { return as_tuple(cr::chunk(t, chunks, dim)); };
  m.def("chunk", chunk, py::arg("input"), py::arg("chunks"), py::arg("dim") = 0);
  cls.def("chunk", chunk, py::arg("chunks"), py::arg("dim") = 0);
  auto unbind = [](const Tensor& t, int64_t dim) { return as_tuple(cr::unbind(t, dim)); };
  m.def("unbind", unbind, py::arg("input"), py::arg("dim") = 0);
  cls.def("unbind", unbind, py::arg("dim") = 0);

  // --- copies ---
  m.def("flip", &flip_any, py::arg("input"), py::arg("dims"));
  cls.def("flip", [](const Tensor& t, py::args dims) {
    if (dims.size() == 1) return flip_any(t, dims[0]);
    return cr::flip(t, parse_shape_args(dims, "flip").vec());
  });
  cls.def("repeat", [](const Tensor& t, py::args sizes) { return cr::repeat(t, parse_shape_args(sizes, "repeat")); });
}

}  // namespace crpy
