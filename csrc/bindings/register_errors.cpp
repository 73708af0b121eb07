// chainrule's exception classes. Each subclasses the Python exception that names the problem
// (ValueError for shapes, TypeError for dtypes and argument types, IndexError for indices) and
// RuntimeError, which is what PyTorch raises: code ported from PyTorch that catches RuntimeError and
// code that catches the specific class both work, as NumPy's AxisError(ValueError, IndexError) does.
#include "bindings/common.h"

namespace crpy {

namespace {

PyObject* g_shape_error = nullptr;
PyObject* g_dtype_error = nullptr;
PyObject* g_index_error = nullptr;
PyObject* g_argument_error = nullptr;
PyObject* g_autograd_error = nullptr;

PyObject* new_error(py::module_& m, const char* name, PyObject* base, bool also_runtime, const char* doc) {
  py::tuple bases = also_runtime ? py::tuple(py::make_tuple(py::handle(base), py::handle(PyExc_RuntimeError)))
                                 : py::tuple(py::make_tuple(py::handle(base)));
  std::string qualified = std::string("chainrule.") + name;
  PyObject* cls = PyErr_NewExceptionWithDoc(qualified.c_str(), doc, bases.ptr(), nullptr);
  if (!cls) throw py::error_already_set();
  m.attr(name) = py::handle(cls);  // the module keeps a reference; so does the static (never freed)
  return cls;
}

}  // namespace

void register_errors(py::module_& m) {
  g_shape_error = new_error(m, "ShapeError", PyExc_ValueError, true,
                            "Shapes that do not fit the op (broadcasting, matmul sizes, view sizes).");
  g_dtype_error =
      new_error(m, "DTypeError", PyExc_TypeError, true, "A dtype or argument type the op does not accept.");
  g_index_error = new_error(m, "IndexingError", PyExc_IndexError, true, "An index or dim out of range.");
  g_argument_error = new_error(m, "ArgumentError", PyExc_ValueError, true,
                               "An argument value the op does not accept (negative size, bad reduction...).");
  g_autograd_error = new_error(m, "AutogradError", PyExc_RuntimeError, false,
                               "Autograd state: backward twice, a saved tensor modified in place, ...");
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const cr::ShapeError& e) {
      PyErr_SetString(g_shape_error, e.what());
    } catch (const cr::ValueError& e) {
      PyErr_SetString(g_argument_error, e.what());
    } catch (const cr::TypeError& e) {
      PyErr_SetString(g_dtype_error, e.what());
    } catch (const cr::IndexError& e) {
      PyErr_SetString(g_index_error, e.what());
    } catch (const cr::AutogradError& e) { PyErr_SetString(g_autograd_error, e.what()); }
  });
}

}  // namespace crpy
