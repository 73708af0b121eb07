// Convolution and pooling (ops/conv.h), with torch's signatures: int-or-tuple options are
// expanded here, the checks and the logic are in the C++ ops.
#include <string>

#include "bindings/op_registry.h"
#include "ops/conv.h"

namespace crpy {

namespace {

using cr::IntList;

std::string type_name(py::handle o) { return py::str(py::type::of(o).attr("__name__")).cast<std::string>(); }

int64_t one_int(py::handle o, const char* op, const char* what) {
  if (PyBool_Check(o.ptr()) || !(PyLong_Check(o.ptr()) || PyIndex_Check(o.ptr())))
    throw cr::TypeError(cr::str(
        op, ": ", what, " must be an int or a tuple of ints, got an element of type '", type_name(o), "'"));
  py::object idx = py::reinterpret_steal<py::object>(PyNumber_Index(o.ptr()));
  if (!idx) throw py::error_already_set();
  int overflow = 0;
  long long v = PyLong_AsLongLongAndOverflow(idx.ptr(), &overflow);
  if (overflow || v > (1LL << 40) || v < -(1LL << 40))
    throw cr::ValueError(cr::str(op, ": ", what, " is too large"));
  return (int64_t)v;
}

// An int, or a sequence of 1 or nd ints, as nd ints (PyTorch's _single/_pair expansion).
IntList ints(py::handle o, int nd, const char* op, const char* what) {
  if (PyLong_Check(o.ptr()) || PyIndex_Check(o.ptr()) || PyBool_Check(o.ptr()))
    return IntList((size_t)nd, one_int(o, op, what));
  if (!py::isinstance<py::sequence>(o) || py::isinstance<py::str>(o))
    throw cr::TypeError(
        cr::str(op, ": ", what, " must be an int or a tuple of ", nd, " ints, got '", type_name(o), "'"));
  IntList v;
  for (auto item : py::reinterpret_borrow<py::sequence>(o)) v.push_back(one_int(item, op, what));
  if (v.size() == 1 && nd > 1) v.assign((size_t)nd, v[0]);
  if ((int)v.size() != nd)
    throw cr::ValueError(cr::str(op, ": expected ", what, " to be a single int or a tuple of ", nd,
                                 " ints, got ", v.size(), " values"));
  return v;
}

// stride=None (or an empty sequence) means the kernel size.
IntList pool_stride(py::handle o, int nd, const char* op) {
  if (o.is_none()) return {};
  if (py::isinstance<py::sequence>(o) && !py::isinstance<py::str>(o) && py::len(o) == 0) return {};
  return ints(o, nd, op, "stride");
}

// output_size: an int, or a tuple whose entries may be None (that input size, as -1).
IntList output_size(py::handle o, int nd, const char* op) {
  std::vector<py::object> items;
  if (py::isinstance<py::sequence>(o) && !py::isinstance<py::str>(o)) {
    for (auto item : py::reinterpret_borrow<py::sequence>(o))
      items.push_back(py::reinterpret_borrow<py::object>(item));
  } else {
    items.push_back(py::reinterpret_borrow<py::object>(o));
  }
  if (items.size() == 1 && nd > 1) items.assign((size_t)nd, items[0]);
  if ((int)items.size() != nd)
    throw cr::ValueError(cr::str(op, ": output_size must be an int or a tuple of ", nd, " values, got ",
                                 items.size(), " values"));
  IntList v;
  for (const auto& item : items) {
    if (item.is_none()) {
      v.push_back(-1);
      continue;
    }
    int64_t s = one_int(item, op, "output_size");
    if (s < 0)
      throw cr::ValueError(
          cr::str(op, ": elements of output_size must be greater than or equal to 0, got ", s));
    v.push_back(s);
  }
  return v;
}

template <int ND>
Tensor conv_row(const Tensor& input, const Tensor& weight, const std::optional<Tensor>& bias,
                py::handle stride, py::handle padding, py::handle dilation, int64_t groups) {
  const char* op = ND == 2 ? "conv2d" : "conv1d";
  std::string pad_str;
  IntList pad;
  if (py::isinstance<py::str>(padding)) pad_str = padding.cast<std::string>();
  else pad = ints(padding, ND, op, "padding");
  return cr::convolution(input, weight, opt(bias), ND, ints(stride, ND, op, "stride"), pad, pad_str,
                         ints(dilation, ND, op, "dilation"), groups, op);
}

template <int ND>
Tensor conv_transpose_row(const Tensor& input, const Tensor& weight, const std::optional<Tensor>& bias,
                          py::handle stride, py::handle padding, py::handle output_padding, int64_t groups,
                          py::handle dilation) {
  const char* op = ND == 2 ? "conv_transpose2d" : "conv_transpose1d";
  return cr::conv_transpose(input, weight, opt(bias), ND, ints(stride, ND, op, "stride"),
                            ints(padding, ND, op, "padding"), ints(output_padding, ND, op, "output_padding"),
                            groups, ints(dilation, ND, op, "dilation"), op);
}

int nd_of(int64_t nd, const char* op) {
  if (nd != 1 && nd != 2) throw cr::ValueError(cr::str(op, ": nd must be 1 or 2, got ", nd));
  return (int)nd;
}

const char* pool_name(const char* kind, int nd) {
  static const std::string names[4][2] = {{"max_pool1d", "max_pool2d"},
                                          {"avg_pool1d", "avg_pool2d"},
                                          {"adaptive_avg_pool1d", "adaptive_avg_pool2d"},
                                          {"adaptive_max_pool1d", "adaptive_max_pool2d"}};
  int k = std::string(kind) == "max"    ? 0
          : std::string(kind) == "avg"  ? 1
          : std::string(kind) == "aavg" ? 2
                                        : 3;
  return names[k][nd - 1].c_str();
}

}  // namespace

void register_conv(OpRegistry& reg) {
  const auto input = py::arg("input");
  reg.op(
      "conv1d", kFunction, &conv_row<1>,
      "conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor\n\n1-D "
      "convolution (cross-correlation) of (N, C, L) or (C, L) input with weight (O, C / groups, k); padding "
      "is an int, a tuple or 'same' / 'valid'.",
      input, py::arg("weight"), py::arg("bias") = py::none(), py::arg("stride") = 1, py::arg("padding") = 0,
      py::arg("dilation") = 1, py::arg("groups") = 1);
  reg.op("conv2d", kFunction, &conv_row<2>,
         "conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor\n\n2-D "
         "convolution (cross-correlation) of (N, C, H, W) or (C, H, W) input with weight (O, C / groups, kH, "
         "kW); "
         "padding is an int, a tuple or 'same' / 'valid'.",
         input, py::arg("weight"), py::arg("bias") = py::none(), py::arg("stride") = 1,
         py::arg("padding") = 0, py::arg("dilation") = 1, py::arg("groups") = 1);
  reg.op("conv_transpose1d", kFunction, &conv_transpose_row<1>,
         "conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, "
         "dilation=1) -> Tensor\n\n1-D transposed convolution (the gradient of conv1d with respect to its "
         "input); weight is (C, O / groups, k).",
         input, py::arg("weight"), py::arg("bias") = py::none(), py::arg("stride") = 1,
         py::arg("padding") = 0, py::arg("output_padding") = 0, py::arg("groups") = 1,
         py::arg("dilation") = 1);
  reg.op("conv_transpose2d", kFunction, &conv_transpose_row<2>,
         "conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, "
         "dilation=1) -> Tensor\n\n2-D transposed convolution (the gradient of conv2d with respect to its "
         "input); weight is (C, O / groups, kH, kW).",
         input, py::arg("weight"), py::arg("bias") = py::none(), py::arg("stride") = 1,
         py::arg("padding") = 0, py::arg("output_padding") = 0, py::arg("groups") = 1,
         py::arg("dilation") = 1);

  reg.op(
      "_max_pool", kFunction,
      [](const Tensor& x, int64_t nd, py::handle kernel_size, py::handle stride, py::handle padding,
         py::handle dilation, bool ceil_mode) {
        const char* op = pool_name("max", nd_of(nd, "max_pool"));
        auto r = cr::max_pool(x, (int)nd, ints(kernel_size, (int)nd, op, "kernel_size"),
                              pool_stride(stride, (int)nd, op), ints(padding, (int)nd, op, "padding"),
                              ints(dilation, (int)nd, op, "dilation"), ceil_mode, op);
        return py::make_tuple(r.first, r.second);
      },
      "_max_pool(input, nd, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False) -> (Tensor, "
      "Tensor)\n\nMax pooling over the last nd dims: the values and their flat indices in each input plane.",
      input, py::arg("nd"), py::arg("kernel_size"), py::arg("stride") = py::none(), py::arg("padding") = 0,
      py::arg("dilation") = 1, py::arg("ceil_mode") = false);
  reg.op(
      "_avg_pool", kFunction,
      [](const Tensor& x, int64_t nd, py::handle kernel_size, py::handle stride, py::handle padding,
         bool ceil_mode, bool count_include_pad, std::optional<int64_t> divisor_override) {
        const char* op = pool_name("avg", nd_of(nd, "avg_pool"));
        if (divisor_override && *divisor_override == 0)
          throw cr::ValueError(cr::str(op, ": divisor must be not zero"));
        return cr::avg_pool(x, (int)nd, ints(kernel_size, (int)nd, op, "kernel_size"),
                            pool_stride(stride, (int)nd, op), ints(padding, (int)nd, op, "padding"),
                            ceil_mode, count_include_pad, divisor_override ? *divisor_override : 0, op);
      },
      "_avg_pool(input, nd, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True, "
      "divisor_override=None) -> Tensor\n\nAverage pooling over the last nd dims.",
      input, py::arg("nd"), py::arg("kernel_size"), py::arg("stride") = py::none(), py::arg("padding") = 0,
      py::arg("ceil_mode") = false, py::arg("count_include_pad") = true,
      py::arg("divisor_override") = py::none());
  reg.op(
      "_adaptive_avg_pool", kFunction,
      [](const Tensor& x, int64_t nd, py::handle size) {
        const char* op = pool_name("aavg", nd_of(nd, "adaptive_avg_pool"));
        return cr::adaptive_avg_pool(x, (int)nd, output_size(size, (int)nd, op), op);
      },
      "_adaptive_avg_pool(input, nd, output_size) -> Tensor\n\nAdaptive average pooling over the last nd "
      "dims to output_size (None entries keep that input size).",
      input, py::arg("nd"), py::arg("output_size"));
  reg.op(
      "_adaptive_max_pool", kFunction,
      [](const Tensor& x, int64_t nd, py::handle size) {
        const char* op = pool_name("amax", nd_of(nd, "adaptive_max_pool"));
        auto r = cr::adaptive_max_pool(x, (int)nd, output_size(size, (int)nd, op), op);
        return py::make_tuple(r.first, r.second);
      },
      "_adaptive_max_pool(input, nd, output_size) -> (Tensor, Tensor)\n\nAdaptive max pooling over the last "
      "nd dims: the values and their flat indices in each input plane.",
      input, py::arg("nd"), py::arg("output_size"));
}

}  // namespace crpy
