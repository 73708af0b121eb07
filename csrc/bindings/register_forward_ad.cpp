// Forward-mode AD's Python entry points and its generic rule (Note [Forward AD]).
#include "autograd/capture.h"
#include "autograd/engine.h"
#include "bindings/common.h"
#include "core/forward_ad.h"
#include "ops/creation.h"
#include "ops/elementwise.h"
#include "ops/reduce.h"

namespace crpy {
namespace {

using cr::Tensor;
using cr::TensorList;

// J t for a node without a JVP rule: its backward u -> J^T u is linear, so J t is the gradient of
// <J^T u, t> with respect to u (a double backward through this node alone).
TensorList generic_jvp(cr::Node& n, const TensorList& tin) {
  TensorList us(n.outputs_.size()), out(n.outputs_.size());
  for (size_t i = 0; i < us.size(); ++i) {
    us[i] = cr::zeros(n.outputs_[i].shape, n.outputs_[i].dtype);
    us[i].impl()->requires_grad_ = true;
  }
  cr::AutoGradMode grad_on(true);
  TensorList gs = n.apply(TensorList(us));
  Tensor s;
  for (size_t j = 0; j < gs.size() && j < tin.size(); ++j) {
    if (!tin[j].defined() || !gs[j].defined()) continue;
    Tensor t = tin[j].dtype() == gs[j].dtype() ? tin[j] : cr::to_dtype(tin[j], gs[j].dtype());
    Tensor term = cr::sum_all(cr::mul(gs[j], t));
    s = s.defined() ? cr::add(s, term) : term;
  }
  TensorList r;
  if (s.defined() && s.requires_grad()) {
    if (PyGILState_Check()) {
      py::gil_scoped_release nogil;  // a Python autograd.Function in the graph takes the GIL
      r = cr::run_backward({s}, {Tensor()}, false, false, us, true);
    } else {
      r = cr::run_backward({s}, {Tensor()}, false, false, us, true);
    }
  }
  for (size_t i = 0; i < out.size(); ++i) {
    out[i] = i < r.size() && r[i].defined() ? cr::detach(r[i])
                                            : cr::zeros(n.outputs_[i].shape, n.outputs_[i].dtype);
  }
  return out;
}

}  // namespace

void register_forward_ad(py::module_& m) {
  cr::fw::set_generic_jvp(&generic_jvp);
  m.def(
      "_fw_enter_level",
      [] {
        cr::capture::refuse_while_tracing(
            "Forward-mode AD (autograd.forward_ad.dual_level)",
            "its tangents are not recorded; compute them outside the compiled function.");
        return cr::fw::enter_level();
      },
      "Opens a dual level (autograd.forward_ad).");
  m.def("_fw_exit_level", &cr::fw::exit_level, "Closes the dual level: every tangent is dropped.");
  m.def(
      "_fw_set_tangent", [](const Tensor& t, const Tensor& tangent) { cr::fw::set_tangent(t, tangent); },
      "Gives t (a tensor with a grad_fn) its tangent.");
  m.def("_fw_counts", &cr::fw::counts,
        "Tangents computed so far: (by a JVP rule of the derivatives table, by the generic rule).");
  m.def(
      "_fw_tangent",
      [](const Tensor& t) -> py::object {
        cr::fw::flush();
        Tensor r = cr::fw::tangent_of(t);
        return r.defined() ? py::cast(r) : py::none();
      },
      "The tangent of t at the open dual level, or None.");
}

}  // namespace crpy
