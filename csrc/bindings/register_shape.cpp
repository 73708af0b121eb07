// Shape and view ops.
#include "bindings/op_registry.h"
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

void register_shape(OpRegistry& reg) {
  const unsigned FM = kFunction | kMethod;
  const auto input = py::arg("input");
  const auto dim0 = py::arg("dim") = 0;
  // Methods take sizes as varargs too: x.view(2, 3) or x.view((2, 3)).
  reg.op(
         "reshape", kFunction,
         [](const Tensor& t, py::handle shape) { return cr::reshape(t, parse_shape(shape, "reshape")); },
         "reshape(input, shape) -> Tensor\n\nA view when the layout allows, else a copy; one size may be -1.",
         input, py::arg("shape"))
      .method(
          [](const Tensor& t, py::args shape) { return cr::reshape(t, parse_shape_args(shape, "reshape")); },
          "self.reshape(*shape)");
  reg.op(
      "view", kMethod,
      [](const Tensor& t, py::args shape) { return cr::view(t, parse_shape_args(shape, "view")); },
      "self.view(*shape) -> Tensor\n\nA view with another shape (ShapeError when the strides don't allow "
      "it).",
      py::arg("self"));
  reg.op(
      "expand", kMethod,
      [](const Tensor& t, py::args shape) { return cr::expand(t, parse_shape_args(shape, "expand")); },
      "self.expand(*sizes) -> Tensor\n\nA broadcast view; -1 keeps a size.", py::arg("self"));
  reg.op(
         "transpose", FM, [](const Tensor& t, int64_t d0, int64_t d1) { return cr::transpose(t, d0, d1); },
         "transpose(input, dim0, dim1) -> Tensor\n\nA view with two dims swapped.", input, py::arg("dim0"),
         py::arg("dim1"))
      .alias("swapaxes")
      .alias("swapdims");
  reg.op(
         "permute", kFunction,
         [](const Tensor& t, py::handle dims) { return cr::permute(t, parse_shape(dims, "permute").vec()); },
         "permute(input, dims) -> Tensor\n\nA view with the dims reordered.", input, py::arg("dims"))
      .method([](const Tensor& t,
                 py::args dims) { return cr::permute(t, parse_shape_args(dims, "permute").vec()); },
              "self.permute(*dims)");
  reg.op(
      "unsqueeze", FM, [](const Tensor& t, int64_t d) { return cr::unsqueeze(t, d); },
      "unsqueeze(input, dim) -> Tensor\n\nA view with a size-1 dim inserted.", input, py::arg("dim"));
  reg.op(
      "flatten", FM, [](const Tensor& t, int64_t s, int64_t e) { return cr::flatten(t, s, e); },
      "flatten(input, start_dim=0, end_dim=-1) -> Tensor\n\nMerges dims start_dim..end_dim.", input,
      py::arg("start_dim") = 0, py::arg("end_dim") = -1);
  reg.op("squeeze", FM, &squeeze_any,
         "squeeze(input, dim=None) -> Tensor\n\nRemoves size-1 dims (all, or those in "
         "dim).",
         input, py::arg("dim") = py::none());
  reg.op(
      "broadcast_to", FM,
      [](const Tensor& t, py::handle size) { return cr::broadcast_to(t, parse_shape(size, "broadcast_to")); },
      "broadcast_to(input, size) -> Tensor\n\nA broadcast view.", input, py::arg("size"));
  reg.op(
      "expand_as", kMethod, [](const Tensor& t, const Tensor& o) { return cr::expand(t, o.shape()); },
      "self.expand_as(other): self broadcast to other's shape.", py::arg("self"), py::arg("other"));
  reg.op(
      "view_as", kMethod, [](const Tensor& t, const Tensor& o) { return cr::view(t, o.shape()); },
      "self.view_as(other): a view with other's shape.", py::arg("self"), py::arg("other"));
  reg.op(
      "reshape_as", kMethod, [](const Tensor& t, const Tensor& o) { return cr::reshape(t, o.shape()); },
      "self.reshape_as(other): reshaped to other's shape.", py::arg("self"), py::arg("other"));
  reg.op("narrow", FM, &cr::narrow,
         "narrow(input, dim, start, length) -> Tensor\n\nA view of length entries from "
         "start along dim.",
         input, py::arg("dim"), py::arg("start"), py::arg("length"));
  reg.op("select", FM, &cr::select,
         "select(input, dim, index) -> Tensor\n\nThe view input[..., index, ...] along dim.", input,
         py::arg("dim"), py::arg("index"));
  reg.op(
         "movedim", FM,
         [](const Tensor& t, py::handle src, py::handle dst) {
           return cr::movedim(t, parse_dims(src, "movedim"), parse_dims(dst, "movedim"));
         },
         "movedim(input, source, destination) -> Tensor\n\nA view with dims moved.", input, py::arg("source"),
         py::arg("destination"))
      .alias("moveaxis");

  // --- joining and splitting ---
  reg.function(
         "cat", [](py::handle tensors, int64_t dim) { return cr::cat(tensor_sequence(tensors, "cat"), dim); },
         "cat(tensors, dim=0) -> Tensor\n\nConcatenation along dim, with dtype promotion.",
         py::arg("tensors"), dim0)
      .alias("concat")
      .alias("concatenate");
  reg.function(
      "stack",
      [](py::handle tensors, int64_t dim) { return cr::stack(tensor_sequence(tensors, "stack"), dim); },
      "stack(tensors, dim=0) -> Tensor\n\nJoins same-shaped tensors along a new dim.", py::arg("tensors"),
      dim0);
  reg.op("split", kFunction, &split_any,
         "split(tensor, split_size_or_sections, dim=0)\n\nViews of consecutive pieces "
         "along dim (a size, or a list of sizes).",
         py::arg("tensor"), py::arg("split_size_or_sections"), dim0)
      .method(&split_any, "self.split(split_size, dim=0)", py::arg("split_size"), dim0);
  reg.op(
      "chunk", FM,
      [](const Tensor& t, int64_t chunks, int64_t dim) { return as_tuple(cr::chunk(t, chunks, dim)); },
      "chunk(input, chunks, dim=0)\n\nAt most `chunks` views of (nearly) equal size along dim.", input,
      py::arg("chunks"), dim0);
  reg.op(
      "unbind", FM, [](const Tensor& t, int64_t dim) { return as_tuple(cr::unbind(t, dim)); },
      "unbind(input, dim=0)\n\nThe views input[..., i, ...] for every i along dim.", input, dim0);

  // --- copies ---
  reg.op("flip", kFunction, &flip_any, "flip(input, dims) -> Tensor\n\nA copy reversed along dims.", input,
         py::arg("dims"))
      .method(
          [](const Tensor& t, py::args dims) {
            if (dims.size() == 1) return flip_any(t, dims[0]);
            return cr::flip(t, parse_shape_args(dims, "flip").vec());
          },
          "self.flip(*dims)");
  reg.op(
      "repeat", kMethod,
      [](const Tensor& t, py::args sizes) { return cr::repeat(t, parse_shape_args(sizes, "repeat")); },
      "self.repeat(*sizes) -> Tensor\n\nTiles self along each dim.", py::arg("self"));
}

}  // namespace crpy
