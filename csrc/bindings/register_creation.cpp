// Tensor factories, random numbers and generators.
#include <pybind11/numpy.h>

#include <limits>

#include <cmath>

#include "bindings/capture_wrap.h"
#include "bindings/common.h"

#include "core/grad_mode.h"
#include "core/random.h"
#include "ops/ops.h"

namespace crpy {

namespace {

using GenPtr = std::shared_ptr<cr::Generator>;

cr::Generator* as_generator(py::handle g) {
  if (g.is_none()) return nullptr;
  if (!py::isinstance<cr::Generator>(g))
    throw cr::TypeError(cr::str("generator must be a chainrule.Generator, got ",
                                py::str(py::type::of(g).attr("__name__")).cast<std::string>()));
  return g.cast<cr::Generator*>();
}

uint64_t as_seed(py::handle s) {
  if (PyBool_Check(s.ptr()) || !PyIndex_Check(s.ptr()))
    throw cr::TypeError(cr::str("seed must be an integer, got ",
                                py::str(py::type::of(s).attr("__name__")).cast<std::string>()));
  py::object i = py::reinterpret_steal<py::object>(PyNumber_Index(s.ptr()));
  if (!i) throw py::error_already_set();
  // PyTorch's range, [-2^63, 2^64 - 1]; negative seeds wrap modulo 2^64 as in PyTorch. Outside it
  // a seed would silently alias another (2^64 gave the stream of 0).
  // Leaked on purpose: a static py::object would be released after the interpreter is gone.
  static const py::object* lo = new py::object(py::int_(-(int64_t)((uint64_t)1 << 62) * 2));
  static const py::object* hi = new py::object(py::int_(std::numeric_limits<uint64_t>::max()));
  if (i < *lo || i > *hi)
    throw cr::ValueError(cr::str("seed must be in [-2**63, 2**64 - 1] (PyTorch's range), got ",
                                 py::str(i).cast<std::string>()));
  unsigned long long v = PyLong_AsUnsignedLongLongMask(i.ptr());
  if (PyErr_Occurred()) throw py::error_already_set();
  return (uint64_t)v;
}

Tensor finish(Tensor t, bool requires_grad) {
  if (requires_grad) {
    if (!cr::is_floating(t.dtype()))
      throw cr::AutogradError(cr::str("only Tensors of floating point dtype can require gradients (got ",
                                      cr::dtype_name(t.dtype()), ")"));
    t.impl()->requires_grad_ = true;
  }
  return t;
}

Dims size_from(const py::args& args, py::handle size, const char* op) {
  if (!size.is_none()) {
    if (args.size() > 0)
      throw cr::TypeError(cr::str(op, "(): size given both positionally and as a keyword"));
    return parse_shape(size, op);
  }
  return parse_shape_args(args, op);
}

// A Python number (or 0-dim tensor / NumPy scalar) as double; `is_float` tells its kind.
double number(py::handle o, const char* op, bool& is_float, bool* is_bool = nullptr) {
  if (is_tensor(o)) {
    Tensor t = as_tensor_unchecked(o);
    is_float = cr::is_floating(t.dtype());
    if (is_bool) *is_bool = t.dtype() == DType::Bool;
    return cr::item_as_double(t);
  }
  if (PyBool_Check(o.ptr())) {
    is_float = false;
    if (is_bool) *is_bool = true;
    return o.ptr() == Py_True ? 1.0 : 0.0;
  }
  if (PyLong_Check(o.ptr()) || (PyIndex_Check(o.ptr()) && !PyFloat_Check(o.ptr()))) {
    is_float = false;
    py::object i = py::reinterpret_steal<py::object>(PyNumber_Index(o.ptr()));
    if (!i) throw py::error_already_set();
    return PyLong_AsDouble(i.ptr());
  }
  if (PyFloat_Check(o.ptr()) ||
      (PyNumber_Check(o.ptr()) && py::hasattr(o, "__float__") && !py::isinstance<py::str>(o))) {
    is_float = true;
    if (py::hasattr(o, "dtype")) {
      char kind = py::dtype(o.attr("dtype")).kind();
      if (kind == 'b') {
        is_float = false;
        if (is_bool) *is_bool = true;
      } else if (kind == 'i' || kind == 'u') is_float = false;
      else if (kind == 'c') throw cr::TypeError(cr::str(op, "(): complex numbers are not supported"));
    }
    if (PyComplex_Check(o.ptr())) throw cr::TypeError(cr::str(op, "(): complex numbers are not supported"));
    return py::cast<double>(py::float_(py::reinterpret_borrow<py::object>(o)));
  }
  throw cr::TypeError(cr::str(op, "(): expected a number, got ",
                              py::str(py::type::of(o).attr("__name__")).cast<std::string>()));
}

int64_t int_arg(py::handle o, const char* op, const char* what) {
  if (PyBool_Check(o.ptr()) || !PyIndex_Check(o.ptr()))
    throw cr::TypeError(cr::str(op, "(): ", what, " must be an integer, got ",
                                py::str(py::type::of(o).attr("__name__")).cast<std::string>()));
  py::object i = py::reinterpret_steal<py::object>(PyNumber_Index(o.ptr()));
  if (!i) throw py::error_already_set();
  int overflow = 0;
  long long v = PyLong_AsLongLongAndOverflow(i.ptr(), &overflow);
  if (overflow) throw cr::ValueError(cr::str(op, "(): ", what, " is too large"));
  return v;
}

Tensor rand_fill(Tensor t, bool normal, cr::Generator* g) {
  if (normal) cr::normal_(t, 0.0, 1.0, g);
  else cr::uniform_(t, 0.0, 1.0, g);
  return t;
}

DType float_dtype(py::handle dtype, const char* op) {
  DType d = parse_dtype(dtype, default_float_dtype());
  if (!cr::is_floating(d))
    throw cr::TypeError(cr::str(op, "(): expected a floating point dtype, got ", cr::dtype_name(d)));
  return d;
}

// An in-place random fill, as PyTorch's: refused on a leaf that requires grad; on a non-leaf that
// does, recorded as a copy of fresh values (so the old values get a zero gradient).
template <class Fill>
const Tensor& random_fill_(const Tensor& t, Fill fill) {
  if (cr::GradMode::is_enabled() && t.requires_grad()) {
    if (t.is_leaf())
      throw cr::AutogradError("a leaf Variable that requires grad is being used in an in-place operation.");
    Tensor fresh = Tensor::empty(t.shape(), t.dtype());
    fill(fresh);
    return cr::copy_(t, fresh);
  }
  fill(t);
  return t;
}

}  // namespace

void register_creation(py::module_& m, PyTensorClass& cls) {
  def_traced(
      m, "_zeros",
      [](py::args shape, py::object dtype) {
        return cr::zeros(parse_shape_args(shape, "zeros"), parse_dtype(dtype, default_float_dtype()));
      },
      py::kw_only(), py::arg("dtype") = py::none());
  def_traced(
      m, "_ones",
      [](py::args shape, py::object dtype) {
        return cr::ones(parse_shape_args(shape, "ones"), parse_dtype(dtype, default_float_dtype()));
      },
      py::kw_only(), py::arg("dtype") = py::none());
  def_traced(
      m, "_empty",
      [](py::args shape, py::object dtype) {
        return cr::zeros(parse_shape_args(shape, "empty"), parse_dtype(dtype, default_float_dtype()));
      },
      py::kw_only(), py::arg("dtype") = py::none());

  // --- generators ---
  py::class_<cr::Generator, GenPtr>(m, "Generator")
      .def(py::init([](py::object device) {
             check_device(device, "Generator");
             return std::make_shared<cr::Generator>();
           }),
           py::arg("device") = py::none())
      .def(
          "manual_seed",
          [](py::object self, py::handle seed) {
            self.cast<cr::Generator&>().manual_seed(as_seed(seed));
            return self;
          },
          py::arg("seed"))
      .def("initial_seed", &cr::Generator::initial_seed)
      .def("seed", &cr::Generator::seed)
      .def("get_state",
           [](const cr::Generator& g) {
             uint64_t s, o;
             g.get_state(s, o);
             Tensor t = Tensor::empty(Dims{2}, DType::Int64);
             t.data<int64_t>()[0] = (int64_t)s;
             t.data<int64_t>()[1] = (int64_t)o;
             return t;
           })
      .def(
          "set_state",
          [](cr::Generator& g, const Tensor& st) {
            if (st.dtype() != DType::Int64 || st.numel() != 2)
              throw cr::TypeError("set_state(): expected the int64 tensor returned by get_state()");
            Tensor c = cr::contiguous_copy(st);
            g.set_state((uint64_t)c.data<int64_t>()[0], (uint64_t)c.data<int64_t>()[1]);
          },
          py::arg("new_state"))
      .def_property_readonly("device", [](const cr::Generator&) { return py::str("cpu"); });
  m.attr("default_generator") = py::cast(cr::default_generator());
  def_traced(
      m, "manual_seed",
      [](py::handle seed) {
        cr::default_generator()->manual_seed(as_seed(seed));
        return cr::default_generator();
      },
      py::arg("seed"));
  def_traced(m, "initial_seed", [] { return cr::default_generator()->initial_seed(); });
  def_traced(m, "seed", [] { return cr::default_generator()->seed(); });
  def_traced(m, "get_rng_state", [] { return py::cast(cr::default_generator()).attr("get_state")(); });
  def_traced(
      m, "set_rng_state", [](const Tensor& st) { py::cast(cr::default_generator()).attr("set_state")(st); },
      py::arg("new_state"));

  // --- random factories ---
  auto rand_like_sig = [](bool normal, const char* op) {
    return [normal, op](py::args args, py::object size, py::object generator, py::object dtype,
                        bool requires_grad, py::object device) {
      check_device(device, "factory");
      Dims shape = size_from(args, size, op);
      Tensor t = Tensor::empty(shape, float_dtype(dtype, op));
      return finish(rand_fill(t, normal, as_generator(generator)), requires_grad);
    };
  };
  def_traced(m, "rand", rand_like_sig(false, "rand"), py::kw_only(), py::arg("size") = py::none(),
             py::arg("generator") = py::none(), py::arg("dtype") = py::none(),
             py::arg("requires_grad") = false, py::arg("device") = py::none());
  def_traced(m, "randn", rand_like_sig(true, "randn"), py::kw_only(), py::arg("size") = py::none(),
             py::arg("generator") = py::none(), py::arg("dtype") = py::none(),
             py::arg("requires_grad") = false, py::arg("device") = py::none());
  def_traced(
      m, "randint",
      [](py::args args, py::object size, py::object generator, py::object dtype, bool requires_grad,
         py::object device) {
        check_device(device, "factory");
        int64_t low = 0, high;
        py::object shape_o = size;
        size_t nums = args.size();
        if (size.is_none()) {
          if (nums < 2)
            throw cr::TypeError("randint(): expected randint(high, size) or randint(low, high, size)");
          shape_o = args[nums - 1];
          --nums;
        }
        if (nums == 1) high = int_arg(args[0], "randint", "high");
        else if (nums == 2) {
          low = int_arg(args[0], "randint", "low");
          high = int_arg(args[1], "randint", "high");
        } else throw cr::TypeError("randint(): expected randint(high, size) or randint(low, high, size)");
        Tensor t = Tensor::empty(parse_shape(shape_o, "randint"), parse_dtype(dtype, DType::Int64));
        cr::randint_(t, low, high, as_generator(generator));
        return finish(t, requires_grad);
      },
      py::kw_only(), py::arg("size") = py::none(), py::arg("generator") = py::none(),
      py::arg("dtype") = py::none(), py::arg("requires_grad") = false, py::arg("device") = py::none());
  def_traced(
      m, "randperm",
      [](py::handle n, py::object generator, py::object dtype, bool requires_grad, py::object device) {
        check_device(device, "factory");
        return finish(cr::randperm(int_arg(n, "randperm", "n"), parse_dtype(dtype, DType::Int64),
                                   as_generator(generator)),
                      requires_grad);
      },
      py::arg("n"), py::kw_only(), py::arg("generator") = py::none(), py::arg("dtype") = py::none(),
      py::arg("requires_grad") = false, py::arg("device") = py::none());

  // --- sampling with tensor parameters ---
  def_traced(
      m, "normal",
      [](py::handle mean, py::handle std, py::handle size, py::object generator, py::object dtype,
         bool requires_grad, py::object) {
        bool mt = is_tensor(mean), st = is_tensor(std);
        bool f = false;
        cr::Generator* g = as_generator(generator);
        if (mt || st) {
          if (!size.is_none())
            throw cr::TypeError(
                "normal(): size= is only taken with a number mean and std; the shape "
                "comes from the mean/std tensors");
          Tensor mean_t = mt ? as_tensor_unchecked(mean) : Tensor();
          Tensor std_t = st ? as_tensor_unchecked(std) : Tensor();
          double mv = mt ? 0.0 : number(mean, "normal", f), sv = st ? 1.0 : number(std, "normal", f);
          return finish(cr::normal(mean_t, std_t, mv, sv, g), requires_grad);
        }
        if (size.is_none())
          throw cr::TypeError(
              "normal(): with a number mean and std, size is required, e.g. "
              "normal(0.0, 1.0, (2, 3)); or pass a tensor mean or std");
        double mv = number(mean, "normal", f), sv = number(std, "normal", f);
        if (!(sv >= 0.0)) throw cr::ValueError(cr::str("normal(): expects std >= 0.0, but found std ", sv));
        Tensor t = Tensor::empty(parse_shape(size, "normal"), float_dtype(dtype, "normal"));
        cr::normal_(t, mv, sv, g);
        return finish(t, requires_grad);
      },
      py::arg("mean"), py::arg("std") = 1.0, py::arg("size") = py::none(), py::kw_only(),
      py::arg("generator") = py::none(), py::arg("dtype") = py::none(), py::arg("requires_grad") = false,
      py::arg("device") = py::none(),
      "normal(mean, std=1.0, size=None, *, generator=None, dtype=None, requires_grad=False) -> Tensor\n\n"
      "Normal samples: elementwise for a tensor mean and/or std (broadcast; zero gradient), or of the given "
      "size for numbers.");
  auto bernoulli = [](const Tensor& t, py::handle p, py::object generator) {
    cr::Generator* g = as_generator(generator);
    if (p.is_none()) return cr::bernoulli(t, g);
    bool f = false;
    double pv = number(p, "bernoulli", f);
    Tensor out = Tensor::empty(t.shape(), t.dtype());
    cr::bernoulli_(out, pv, g);
    return out;
  };
  const char* bernoulli_doc =
      "bernoulli(input, p=None, *, generator=None) -> Tensor\n\n1 with probability input (elementwise, "
      "floating, in [0, 1]), or with probability p when given, else 0; input's dtype.";
  def_traced(m, "bernoulli", bernoulli, py::arg("input"), py::arg("p") = py::none(), py::kw_only(),
             py::arg("generator") = py::none(), bernoulli_doc);
  def_traced(cls, "bernoulli", bernoulli, py::arg("p") = py::none(), py::kw_only(),
             py::arg("generator") = py::none(), bernoulli_doc);
  def_traced(
      cls, "bernoulli_",
      [](const Tensor& t, py::handle p, py::object generator) {
        cr::Generator* g = as_generator(generator);
        if (is_tensor(p)) {
          Tensor pt = as_tensor_unchecked(p);
          return random_fill_(t, [&](const Tensor& x) { cr::bernoulli_(x, pt, g); });
        }
        bool f = false;
        double pv = number(p, "bernoulli_", f);
        return random_fill_(t, [&](const Tensor& x) { cr::bernoulli_(x, pv, g); });
      },
      py::arg("p") = 0.5, py::kw_only(), py::arg("generator") = py::none(),
      "bernoulli_(p=0.5, *, generator=None) -> Tensor\n\nIn place: each element becomes 1 with probability "
      "p (a number, or a tensor broadcast to self), else 0.");
  auto multinomial = [](const Tensor& t, py::handle num_samples, bool replacement, py::object generator) {
    return cr::multinomial(t, int_arg(num_samples, "multinomial", "num_samples"), replacement,
                           as_generator(generator));
  };
  const char* multinomial_doc =
      "multinomial(input, num_samples, replacement=False, *, generator=None) -> Tensor\n\nnum_samples "
      "category indices per row of a 1-D or 2-D tensor of non-negative weights; without replacement no "
      "category repeats within a row.";
  def_traced(m, "multinomial", multinomial, py::arg("input"), py::arg("num_samples"),
             py::arg("replacement") = false, py::kw_only(), py::arg("generator") = py::none(),
             multinomial_doc);
  def_traced(cls, "multinomial", multinomial, py::arg("num_samples"), py::arg("replacement") = false,
             py::kw_only(), py::arg("generator") = py::none(), multinomial_doc);

  // --- deterministic factories ---
  def_traced(
      m, "full",
      [](py::handle size, py::handle value, py::object dtype, bool requires_grad, py::object device) {
        check_device(device, "factory");
        bool is_float = false, is_bool = false;
        double v = number(value, "full", is_float, &is_bool);
        DType natural = is_bool ? DType::Bool : is_float ? default_float_dtype() : DType::Int64;
        DType dt = parse_dtype(dtype, natural);
        if (dt == DType::Int64 &&
            !(std::isfinite(v) && v >= -9223372036854775808.0 && v < 9223372036854775808.0))
          throw cr::ValueError(
              cr::str("full: value cannot be converted to type int64 without overflow: ", v));
        return finish(cr::full(parse_shape(size, "full"), v, dt), requires_grad);
      },
      py::arg("size"), py::arg("fill_value"), py::kw_only(), py::arg("dtype") = py::none(),
      py::arg("requires_grad") = false, py::arg("device") = py::none());
  def_traced(
      m, "arange",
      [](py::handle a, py::handle b, py::handle c, py::object dtype, bool requires_grad, py::object device) {
        check_device(device, "factory");
        bool f1 = false, f2 = false, f3 = false;
        double start = 0, end, step = 1;
        if (b.is_none()) {
          end = number(a, "arange", f1);
        } else {
          start = number(a, "arange", f1);
          end = number(b, "arange", f2);
        }
        if (!c.is_none()) step = number(c, "arange", f3);
        DType natural = (f1 || f2 || f3) ? default_float_dtype() : DType::Int64;
        return finish(cr::arange(start, end, step, parse_dtype(dtype, natural)), requires_grad);
      },
      py::arg("start"), py::arg("end") = py::none(), py::arg("step") = py::none(), py::kw_only(),
      py::arg("dtype") = py::none(), py::arg("requires_grad") = false, py::arg("device") = py::none());
  def_traced(
      m, "linspace",
      [](py::handle a, py::handle b, py::handle steps, py::object dtype, bool requires_grad,
         py::object device) {
        check_device(device, "factory");
        bool f = false;
        double start = number(a, "linspace", f), end = number(b, "linspace", f);
        return finish(cr::linspace(start, end, int_arg(steps, "linspace", "steps"),
                                   parse_dtype(dtype, default_float_dtype())),
                      requires_grad);
      },
      py::arg("start"), py::arg("end"), py::arg("steps"), py::kw_only(), py::arg("dtype") = py::none(),
      py::arg("requires_grad") = false, py::arg("device") = py::none());
  def_traced(
      m, "eye",
      [](py::handle n, py::handle mo, py::object dtype, bool requires_grad, py::object device) {
        check_device(device, "factory");
        int64_t nn = int_arg(n, "eye", "n");
        int64_t mm = mo.is_none() ? nn : int_arg(mo, "eye", "m");
        return finish(cr::eye(nn, mm, parse_dtype(dtype, default_float_dtype())), requires_grad);
      },
      py::arg("n"), py::arg("m") = py::none(), py::kw_only(), py::arg("dtype") = py::none(),
      py::arg("requires_grad") = false, py::arg("device") = py::none());

  // --- *_like ---
  auto like = [&m](const char* name, int kind) {
    // kind: 0 zeros, 1 ones, 2 rand, 3 randn, 4 empty
    def_traced(
        m, name,
        [kind, name](const Tensor& t, py::object dtype, bool requires_grad, py::object generator,
                     py::object device) {
          check_device(device, "factory");
          DType d = parse_dtype(dtype, t.dtype());
          Tensor out;
          if (kind == 0 || kind == 4) out = cr::zeros(t.shape(), d);
          else if (kind == 1) out = cr::ones(t.shape(), d);
          else {
            if (!cr::is_floating(d))
              throw cr::TypeError(
                  cr::str(name, "(): expected a floating point dtype, got ", cr::dtype_name(d)));
            out = rand_fill(Tensor::empty(t.shape(), d), kind == 3, as_generator(generator));
          }
          return finish(out, requires_grad);
        },
        py::arg("input"), py::kw_only(), py::arg("dtype") = py::none(), py::arg("requires_grad") = false,
        py::arg("generator") = py::none(), py::arg("device") = py::none());
  };
  like("zeros_like", 0);
  like("ones_like", 1);
  like("rand_like", 2);
  like("randn_like", 3);
  like("empty_like", 4);
  def_traced(
      m, "full_like",
      [](const Tensor& t, py::handle value, py::object dtype, bool requires_grad, py::object device) {
        check_device(device, "factory");
        bool f = false;
        double v = number(value, "full_like", f);
        return finish(cr::full(t.shape(), v, parse_dtype(dtype, t.dtype())), requires_grad);
      },
      py::arg("input"), py::arg("fill_value"), py::kw_only(), py::arg("dtype") = py::none(),
      py::arg("requires_grad") = false, py::arg("device") = py::none());
  def_traced(
      m, "randint_like",
      [](const Tensor& t, py::handle a, py::handle b, py::object dtype, bool requires_grad,
         py::object generator, py::object device) {
        check_device(device, "factory");
        int64_t low = 0, high;
        if (b.is_none()) high = int_arg(a, "randint_like", "high");
        else {
          low = int_arg(a, "randint_like", "low");
          high = int_arg(b, "randint_like", "high");
        }
        Tensor out = Tensor::empty(t.shape(), parse_dtype(dtype, t.dtype()));
        cr::randint_(out, low, high, as_generator(generator));
        return finish(out, requires_grad);
      },
      py::arg("input"), py::arg("low"), py::arg("high") = py::none(), py::kw_only(),
      py::arg("dtype") = py::none(), py::arg("requires_grad") = false, py::arg("generator") = py::none(),
      py::arg("device") = py::none());

  // --- Tensor.new_* ---
  auto new_fill = [&cls](const char* name, int kind) {
    def_traced(
        cls, name,
        [kind, name](const Tensor& t, py::args args, py::object size, py::object dtype, bool requires_grad,
                     py::object device) {
          check_device(device, "factory");
          Dims shape = size_from(args, size, name);
          DType d = parse_dtype(dtype, t.dtype());
          return finish(kind == 1 ? cr::ones(shape, d) : cr::zeros(shape, d), requires_grad);
        },
        py::kw_only(), py::arg("size") = py::none(), py::arg("dtype") = py::none(),
        py::arg("requires_grad") = false, py::arg("device") = py::none());
  };
  new_fill("new_zeros", 0);
  new_fill("new_ones", 1);
  new_fill("new_empty", 0);
  def_traced(
      cls, "new_full",
      [](const Tensor& t, py::handle size, py::handle value, py::object dtype, bool requires_grad,
         py::object device) {
        check_device(device, "factory");
        bool f = false;
        double v = number(value, "new_full", f);
        return finish(cr::full(parse_shape(size, "new_full"), v, parse_dtype(dtype, t.dtype())),
                      requires_grad);
      },
      py::arg("size"), py::arg("fill_value"), py::kw_only(), py::arg("dtype") = py::none(),
      py::arg("requires_grad") = false, py::arg("device") = py::none());
  def_traced(
      cls, "new_tensor",
      [](const Tensor& t, py::handle data, py::object dtype, bool requires_grad, py::object device) {
        check_device(device, "factory");
        Tensor out = tensor_from_data(data, dtype.is_none() ? dtype_object(t.dtype()) : dtype);
        return finish(out, requires_grad);
      },
      py::arg("data"), py::kw_only(), py::arg("dtype") = py::none(), py::arg("requires_grad") = false,
      py::arg("device") = py::none());

  // --- in-place random fills ---
  // Internal helpers for initializers (no autograd check: callers run under no_grad).
  def_traced(
      m, "_uniform_",
      [](const Tensor& t, double a, double b, py::object generator) {
        cr::uniform_(t, a, b, as_generator(generator));
        return t;
      },
      py::arg("tensor"), py::arg("a") = 0.0, py::arg("b") = 1.0, py::arg("generator") = py::none());
  def_traced(
      m, "_normal_",
      [](const Tensor& t, double mean, double std, py::object generator) {
        cr::normal_(t, mean, std, as_generator(generator));
        return t;
      },
      py::arg("tensor"), py::arg("mean") = 0.0, py::arg("std") = 1.0, py::arg("generator") = py::none());
  def_traced(
      cls, "uniform_",
      [](const Tensor& t, double a, double b, py::object generator) {
        cr::Generator* g = as_generator(generator);
        return random_fill_(t, [&](const Tensor& x) { cr::uniform_(x, a, b, g); });
      },
      py::arg("from") = 0.0, py::arg("to") = 1.0, py::kw_only(), py::arg("generator") = py::none());
  def_traced(
      cls, "normal_",
      [](const Tensor& t, double mean, double std, py::object generator) {
        cr::Generator* g = as_generator(generator);
        return random_fill_(t, [&](const Tensor& x) { cr::normal_(x, mean, std, g); });
      },
      py::arg("mean") = 0.0, py::arg("std") = 1.0, py::kw_only(), py::arg("generator") = py::none());
}

}  // namespace crpy
