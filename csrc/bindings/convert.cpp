// Conversions between Python objects and tensors; dtype objects; exception mapping.
#include <pybind11/numpy.h>

#include "autograd/capture.h"
#include "bindings/common.h"
#include "core/errors.h"
#include "ops/creation.h"
#include "ops/elementwise.h"

namespace crpy {

namespace {
PyTypeObject* g_tensor_type = nullptr;

struct DTypeBox {
  DType d;
};
py::object* g_dtypes[cr::kNumDTypes] = {};
const char* kDTypeNames[cr::kNumDTypes] = {"bool",    "int64",    "float32", "float64", "int32",
                                           "float16", "bfloat16", "int16",   "int8",    "uint8"};
}  // namespace

PyTypeObject* tensor_type() {
  if (!g_tensor_type) g_tensor_type = (PyTypeObject*)py::type::of<cr::TensorImpl>().ptr();
  return g_tensor_type;
}

const std::shared_ptr<cr::TensorImpl>* tensor_holder(PyObject* o) {
  if (!PyObject_TypeCheck(o, tensor_type())) return nullptr;
  auto* inst = reinterpret_cast<py::detail::instance*>(o);
  if (!inst->simple_layout || !inst->simple_holder_constructed) return nullptr;
  const auto& h = inst->get_value_and_holder().holder<std::shared_ptr<cr::TensorImpl>>();
  return h ? &h : nullptr;
}

py::object dtype_object(DType d) { return *g_dtypes[(int)d]; }
bool is_storage_dtype_object(PyObject* o) {
  for (DType d : {DType::Int32, DType::Int16, DType::Int8, DType::UInt8, DType::Float16, DType::BFloat16})
    if (g_dtypes[(int)d] && g_dtypes[(int)d]->ptr() == o) return true;
  return false;
}
namespace {
DType g_default_float = DType::Float32;
}  // namespace
DType default_float_dtype() { return g_default_float; }
void set_default_float_dtype(DType d) {
  if (!cr::is_floating(d) || cr::is_storage_dtype(d))
    throw cr::TypeError(
        cr::str("set_default_dtype(): only floating-point types are supported as the default type, got ",
                cr::dtype_name(d)));
  g_default_float = d;
}

void check_device(py::handle device, const char* op) {
  if (device.is_none()) return;
  std::string name;
  if (py::isinstance<py::str>(device)) {
    name = device.cast<std::string>();
  } else if (py::hasattr(device, "type") && py::isinstance<py::str>(device.attr("type"))) {
    name = device.attr("type").cast<std::string>();
    py::object index = py::getattr(device, "index", py::none());
    if (!index.is_none() && index.cast<int64_t>() != 0) name += ":" + py::str(index).cast<std::string>();
  } else if (PyLong_Check(device.ptr())) {
    name = "cuda:" + py::str(device).cast<std::string>();
  } else {
    throw cr::TypeError(cr::str(op, "(): device must be a string, a chainrule.device or None, got ",
                                py::str(py::type::of(device).attr("__name__")).cast<std::string>()));
  }
  if (name == "cpu" || name == "cpu:0") return;
  throw cr::ValueError(
      cr::str(op, "(): device '", name,
              "' is not available: chainrule runs on the CPU only (chainrule.cuda.is_available() is "
              "False); use device='cpu'"));
}

DType parse_dtype(py::handle o, DType fallback) {
  if (o.is_none()) return fallback;
  if (py::isinstance<DTypeBox>(o)) return o.cast<DTypeBox&>().d;
  if (o.ptr() == (PyObject*)&PyFloat_Type) return DType::Float64;
  if (o.ptr() == (PyObject*)&PyLong_Type) return DType::Int64;
  if (o.ptr() == (PyObject*)&PyBool_Type) return DType::Bool;
  if (py::isinstance<py::str>(o)) {
    std::string s = o.cast<std::string>();
    if (s == "float32" || s == "float") return DType::Float32;
    if (s == "float64" || s == "double") return DType::Float64;
    if (s == "int64" || s == "long") return DType::Int64;
    if (s == "bool") return DType::Bool;
    if (s == "int32" || s == "int") return DType::Int32;
    if (s == "float16" || s == "half") return DType::Float16;
    if (s == "bfloat16") return DType::BFloat16;
    if (s == "int16" || s == "short") return DType::Int16;
    if (s == "int8") return DType::Int8;
    if (s == "uint8") return DType::UInt8;
    throw cr::TypeError(
        "unsupported dtype '" + s +
        "' (use float32, float64, float16, bfloat16, int64, int32, int16, int8, uint8 or bool)");
  }
  try {
    py::dtype nd = py::dtype::from_args(py::reinterpret_borrow<py::object>(o));
    char kind = nd.kind();
    if (kind == 'f' && nd.itemsize() == 4) return DType::Float32;
    if (kind == 'f' && nd.itemsize() == 8) return DType::Float64;
    if (kind == 'i' && nd.itemsize() == 8) return DType::Int64;
    if (kind == 'f' && nd.itemsize() == 2) return DType::Float16;
    if (kind == 'i' && nd.itemsize() == 4) return DType::Int32;
    if (kind == 'i' && nd.itemsize() == 2) return DType::Int16;
    if (kind == 'i' && nd.itemsize() == 1) return DType::Int8;
    if (kind == 'u' && nd.itemsize() == 1) return DType::UInt8;
    if (kind == 'b') return DType::Bool;
  } catch (py::error_already_set&) {}
  throw cr::TypeError(cr::str(
      "unsupported dtype ", py::repr(o).cast<std::string>(),
      " (use chainrule.float32, float64, float16, bfloat16, int64, int32, int16, int8, uint8 or bool)"));
}

std::shared_ptr<py::object> gil_safe(py::object o) {
  return std::shared_ptr<py::object>(new py::object(std::move(o)), [](py::object* p) {
    if (!Py_IsInitialized()) {
      p->release();
      delete p;
      return;
    }
    py::gil_scoped_acquire gil;
    delete p;
  });
}

// ---- NumPy -----------------------------------------------------------------------------------
static bool numpy_dtype_supported(const py::dtype& dt, DType& out) {
  char kind = dt.kind();
  if (!dt.attr("isnative").cast<bool>()) return false;
  if (kind == 'f' && dt.itemsize() == 4) {
    out = DType::Float32;
    return true;
  }
  if (kind == 'f' && dt.itemsize() == 8) {
    out = DType::Float64;
    return true;
  }
  if (kind == 'i' && dt.itemsize() == 8) {
    out = DType::Int64;
    return true;
  }
  if (kind == 'b' && dt.itemsize() == 1) {
    out = DType::Bool;
    return true;
  }
  if (kind == 'f' && dt.itemsize() == 2) {
    out = DType::Float16;
    return true;
  }
  if (kind == 'i' && dt.itemsize() == 4) {
    out = DType::Int32;
    return true;
  }
  if (kind == 'i' && dt.itemsize() == 2) {
    out = DType::Int16;
    return true;
  }
  if (kind == 'i' && dt.itemsize() == 1) {
    out = DType::Int8;
    return true;
  }
  if (kind == 'u' && dt.itemsize() == 1) {
    out = DType::UInt8;
    return true;
  }
  return false;
}

Tensor from_numpy(py::handle obj) {
  if (!py::isinstance<py::array>(obj)) throw cr::TypeError("from_numpy: expected a numpy.ndarray");
  py::array arr = py::reinterpret_borrow<py::array>(obj);
  if (!arr.writeable()) {
    // A tensor that shared read-only memory (a memory map opened with mode 'r') would crash the
    // first in-place op that writes to it: take a copy instead, and say so.
    PyErr_WarnEx(PyExc_UserWarning,
                 "from_numpy: the given NumPy array is not writable; the tensor gets a copy of it "
                 "(PyTorch would share the read-only memory, where a write crashes)",
                 1);
    return from_numpy(arr.attr("copy")());
  }
  DType dt;
  if (!numpy_dtype_supported(arr.dtype(), dt)) {
    // Integer widths chainrule does not hold (int8, int16, uint8..uint32) come in as a copy in
    // int64 instead of being refused.
    const char kind = arr.dtype().kind();
    const char* target = nullptr;
    if ((kind == 'i' || kind == 'u') && arr.dtype().itemsize() < 8) target = "int64";
    if (!target)
      throw cr::TypeError(
          cr::str("from_numpy: unsupported numpy dtype ", py::str(arr.dtype()).cast<std::string>(),
                  "; supported: float64, float32, float16, int64, int32, bool (and, as a copy "
                  "in int64, other integers narrower than 64 bits)"));
    return from_numpy(arr.attr("astype")(target));
  }
  int64_t isz = (int64_t)cr::itemsize(dt);
  Dims shape, strides;
  bool ok = true;
  int64_t min_off = 0, max_off = 0;
  for (py::ssize_t i = 0; i < arr.ndim(); ++i) {
    shape.push_back(arr.shape(i));
    int64_t s = arr.strides(i);
    if (s % isz != 0 || s < 0) ok = false;
    strides.push_back(s / isz);
    if (arr.shape(i) > 0) max_off += (arr.shape(i) - 1) * (s / isz);
  }
  (void)min_off;
  if (!ok) {
    // Negative or unaligned strides: keep a contiguous copy instead of a view.
    py::array c = py::array::ensure(py::module_::import("numpy").attr("ascontiguousarray")(arr));
    return from_numpy(c);
  }
  auto owner = gil_safe(py::reinterpret_borrow<py::object>(obj));
  size_t nbytes = (size_t)((cr::numel_of(shape) == 0 ? 0 : max_off + 1) * isz);
  auto storage = cr::Storage::wrap(const_cast<void*>(arr.data()), nbytes, owner);
  auto impl = std::make_shared<cr::TensorImpl>(storage, shape, strides, 0, dt);
  return Tensor(impl);
}

py::object to_numpy(const Tensor& t) {
  // bfloat16 has no NumPy dtype; PyTorch raises the same TypeError.
  if (t.dtype() == DType::BFloat16) throw cr::TypeError("Got unsupported ScalarType BFloat16");
  py::dtype dt = py::dtype(t.dtype() == DType::Bool ? "bool" : cr::dtype_name(t.dtype()));
  std::vector<py::ssize_t> shape(t.shape().begin(), t.shape().end()), strides;
  int64_t isz = (int64_t)cr::itemsize(t.dtype());
  for (auto s : t.strides()) strides.push_back(s * isz);
  auto* keep = new std::shared_ptr<cr::Storage>(t.storage());
  py::capsule base(keep, [](void* p) { delete static_cast<std::shared_ptr<cr::Storage>*>(p); });
  return py::array(dt, shape, strides, t.raw_data(), base);
}

Tensor tensor_from_data(py::handle data, py::handle dtype) {
  py::module_ np = py::module_::import("numpy");
  DType want;
  bool explicit_dtype = !dtype.is_none();
  if (explicit_dtype) want = parse_dtype(dtype, default_float_dtype());
  if (is_tensor(data)) {
    Tensor src = as_tensor_unchecked(data);
    return cr::contiguous_copy_as(src, explicit_dtype ? want : src.dtype());
  }
  // NumPy arrays and NumPy scalars keep their float width; Python floats take the default dtype.
  bool is_ndarray = py::isinstance<py::array>(data) || py::hasattr(data, "dtype");
  py::array arr;
  try {
    arr = py::array::ensure(np.attr("asarray")(data));
  } catch (py::error_already_set& e) {
    throw cr::TypeError(cr::str("tensor(): could not convert data of type ",
                                py::str(py::type::of(data).attr("__name__")).cast<std::string>(),
                                " to a tensor: ", e.what()));
  }
  if (!arr) throw cr::TypeError("tensor(): could not convert data to a tensor");
  char kind = arr.dtype().kind();
  DType natural;
  const auto isz = arr.dtype().itemsize();
  if (kind == 'b') natural = DType::Bool;
  else if (kind == 'i' || kind == 'u') {
    // NumPy's narrow integers keep their width (uint8 included); the rest become int64.
    natural = DType::Int64;
    if (is_ndarray && kind == 'i' && isz == 4) natural = DType::Int32;
    if (is_ndarray && kind == 'i' && isz == 2) natural = DType::Int16;
    if (is_ndarray && kind == 'i' && isz == 1) natural = DType::Int8;
    if (is_ndarray && kind == 'u' && isz == 1) natural = DType::UInt8;
  } else if (kind == 'f')
    natural = is_ndarray ? (isz == 8   ? DType::Float64
                            : isz == 4 ? DType::Float32
                                       : DType::Float16)
                         : default_float_dtype();
  else
    throw cr::TypeError(cr::str("tensor(): unsupported element type ",
                                py::str(arr.dtype()).cast<std::string>(),
                                " (expected numbers or booleans, nested in lists of equal length)"));
  DType target = explicit_dtype ? want : natural;
  if ((target == DType::Int64 || target == DType::Int32) && kind == 'f' && arr.size() > 0) {
    // NumPy's cast turns NaN, inf and out-of-range values into the smallest integer silently;
    // PyTorch refuses.
    const double limit = target == DType::Int64 ? 9223372036854775808.0 : 2147483648.0;
    py::array f64 = py::array::ensure(np.attr("asarray")(arr, "float64"));
    bool finite = np.attr("all")(np.attr("isfinite")(f64)).cast<bool>();
    double big = finite ? np.attr("max")(np.attr("abs")(f64)).cast<double>() : 0.0;
    if (!finite || big >= limit)
      throw cr::ValueError(cr::str("tensor(): value cannot be converted to type ", cr::dtype_name(target),
                                   " without overflow (NaN, inf or a magnitude of 2**",
                                   target == DType::Int64 ? 63 : 31, " or more)"));
  }
  // float16 and bfloat16 (which has no NumPy dtype) convert through float32, as PyTorch's do
  // (double -> float -> half, each rounding to nearest even); a float16 array is taken as is.
  const bool half_target = target == DType::Float16 || target == DType::BFloat16;
  DType via = half_target ? (kind == 'f' && isz == 2 ? DType::Float16 : DType::Float32) : target;
  const char* np_name = via == DType::Bool ? "bool" : cr::dtype_name(via);
  // ascontiguousarray would turn a 0-d array into shape (1,): keep the original shape.
  py::array conv = py::array::ensure(np.attr("asarray")(arr, np_name, py::arg("order") = "C"));
  Tensor shared = from_numpy(conv);
  if (shared.dtype() != target) return cr::contiguous_copy_as(shared, target);
  return cr::contiguous_copy(shared);  // own the memory: tensor() never aliases its input
}

void refuse_bool_subtraction(py::handle o) {
  if (PyBool_Check(o.ptr())) throw cr::TypeError(cr::kBoolSubtraction);
}

static Tensor make_operand(py::handle o, const Tensor& like, const char* op) {
  if (is_tensor(o)) return as_tensor_unchecked(o);
  DType ld = like.defined() ? like.dtype() : DType::Float32;
  if (PyBool_Check(o.ptr())) return cr::scalar_tensor(o.ptr() == Py_True ? 1.0 : 0.0, ld);
  if (PyFloat_Check(o.ptr()))
    return cr::scalar_tensor(PyFloat_AS_DOUBLE(o.ptr()), cr::is_floating(ld) ? ld : default_float_dtype());
  if (PyLong_Check(o.ptr())) {
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(o.ptr(), &overflow);
    if (overflow) {
      double dv = PyLong_AsDouble(o.ptr());
      if (PyErr_Occurred()) {
        PyErr_Clear();
        throw cr::ValueError(cr::str(op, ": integer operand is too large"));
      }
      return cr::scalar_tensor(dv, cr::is_floating(ld) ? ld : default_float_dtype());
    }
    DType dt = ld == DType::Bool ? DType::Int64 : ld;
    Tensor t = Tensor::empty(Dims{}, dt);
    cr::dispatch_storage(dt, [&](auto tag) {
      using T = decltype(tag);
      *t.data<T>() = static_cast<T>(v);
    });
    return t;
  }
  if (py::isinstance<py::array>(o) || PyList_Check(o.ptr()) || PyTuple_Check(o.ptr()) ||
      py::hasattr(o, "__array__")) {
    if (py::isinstance<py::array>(o) && py::reinterpret_borrow<py::array>(o).ndim() == 0) {
      // NumPy scalars behave like Python numbers.
      py::object item = o.attr("item")();
      return make_operand(item, like, op);
    }
    return tensor_from_data(o, py::none());
  }
  if (PyNumber_Check(o.ptr()) && py::hasattr(o, "item")) return make_operand(o.attr("item")(), like, op);
  throw cr::TypeError(cr::str(op, ": unsupported operand of type '",
                              py::str(py::type::of(o).attr("__name__")).cast<std::string>(),
                              "' (expected a Tensor, a number or an array)"));
}

Tensor operand(py::handle o, const Tensor& like, const char* op) {
  if (is_tensor(o)) return as_tensor_unchecked(o);
  Tensor t = make_operand(o, like, op);
  // made inside the call: a node that saves it (a division by a Python number) finds it in the
  // replay's slots (Note [Internal tensors of a recorded call])
  cr::capture::note_internal(t);
  return t;
}

// ---- shapes and dims -------------------------------------------------------------------------
static int64_t as_int(py::handle o, const char* op) {
  if (PyBool_Check(o.ptr()) || !(PyLong_Check(o.ptr()) || PyIndex_Check(o.ptr())))
    throw cr::TypeError(cr::str(op, ": expected an integer size, got '",
                                py::str(py::type::of(o).attr("__name__")).cast<std::string>(), "'"));
  int overflow = 0;
  py::object idx = py::reinterpret_steal<py::object>(PyNumber_Index(o.ptr()));
  if (!idx) throw py::error_already_set();
  long long v = PyLong_AsLongLongAndOverflow(idx.ptr(), &overflow);
  if (overflow) throw cr::ValueError(cr::str(op, ": size is too large"));
  return v;
}

Dims parse_shape(py::handle o, const char* op) {
  Dims d;
  if (PyLong_Check(o.ptr()) || PyIndex_Check(o.ptr())) {
    d.push_back(as_int(o, op));
    return d;
  }
  if (!py::isinstance<py::sequence>(o) || py::isinstance<py::str>(o))
    throw cr::TypeError(cr::str(op, ": expected a shape (ints or a sequence of ints)"));
  for (auto item : py::reinterpret_borrow<py::sequence>(o)) d.push_back(as_int(item, op));
  return d;
}

Dims parse_shape_args(const py::args& args, const char* op) {
  if (args.size() == 1 && !(PyLong_Check(args[0].ptr()) || PyIndex_Check(args[0].ptr())))
    return parse_shape(args[0], op);
  Dims d;
  for (auto a : args) d.push_back(as_int(a, op));
  return d;
}

std::vector<int64_t> parse_dims(py::handle o, const char* op) {
  std::vector<int64_t> v;
  if (o.is_none()) return v;
  if (PyLong_Check(o.ptr()) || PyIndex_Check(o.ptr())) {
    v.push_back(as_int(o, op));
    return v;
  }
  if (!py::isinstance<py::sequence>(o))
    throw cr::TypeError(cr::str(op, ": dim must be an int, a tuple of ints or None"));
  for (auto item : py::reinterpret_borrow<py::sequence>(o)) v.push_back(as_int(item, op));
  return v;
}

// ---- dtypes -------------------------------------------------------------------------------
void register_dtypes(py::module_& m) {
  py::class_<DTypeBox>(m, "dtype")
      .def_property_readonly("is_floating_point", [](const DTypeBox& b) { return cr::is_floating(b.d); })
      .def_property_readonly("itemsize", [](const DTypeBox& b) { return cr::itemsize(b.d); })
      .def("__repr__", [](const DTypeBox& b) { return std::string("chainrule.") + kDTypeNames[(int)b.d]; })
      // A string: pickle stores a reference to the global of that name in the class's module
      // (chainrule._core), so a pickled dtype comes back as the same singleton.
      .def("__reduce__", [](const DTypeBox& b) { return std::string(kDTypeNames[(int)b.d]); });
  for (int i = 0; i < cr::kNumDTypes; ++i) {
    g_dtypes[i] = new py::object(py::cast(DTypeBox{(DType)i}));  // leaked: lives as long as the module
    m.attr(kDTypeNames[i]) = *g_dtypes[i];
  }
}

}  // namespace crpy
