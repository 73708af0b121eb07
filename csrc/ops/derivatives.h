#pragma once
// The derivatives table: how a differentiable op declares its backward, and the one generic Node
// that runs every declaration.
//
// Note [Derivatives table]
// Each differentiable op is declared once, in its family's .cpp file next to its kernel, as a
// `Derivative<inputs, saved, Attrs>`:
//
//   // self * other
//   const Derivative<2, 2> mul_grad{"MulBackward0", {"self", "other"},
//       {[](const auto& d) { return d.grad * d.saved[1]; },     // d/dself  = grad * other
//        [](const auto& d) { return d.grad * d.saved[0]; }},    // d/dother = grad * self
//       {{{"self", for_grad_of(1)}, {"other", for_grad_of(0)}}}};
//
// that is: the grad_fn name PyTorch uses, the inputs' names, one formula per input, and what is
// saved (with the inputs whose formulas read it: `self` is kept only when `other` needs a
// gradient). The forward records it with one call after computing its output:
//
//   record(mul_grad, {a, b}, out, {a, b});
//
// FormulaNode does the rest: it keeps the saved tensors (outputs without a reference cycle, see
// SavedTensor), releases them after backward, runs only the formulas of inputs that need a
// gradient, and sums broadcast gradients back to each input's shape. Formulas are written with
// the Tensor operators of ops/operators.h and other differentiable ops, so create_graph works;
// a fused backward kernel (relu, tanh, sigmoid, the norms) is called from its formula and has its
// own table entry for the gradient of the gradient. Non-tensor arguments (dims, scalars) live in
// the entry's Attrs struct, filled through the node record() returns.
//
// Genuinely special nodes, written by hand: AccumulateGrad and GraphRoot (autograd/), the node of a
// Python autograd.Function (bindings/register_autograd.cpp), which call back into their owners
// rather than compute a formula.
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <tuple>
#include <type_traits>

#include "core/forward_ad.h"
#include "core/node.h"
#include "core/small_pool.h"
#include "ops/creation.h"
#include "ops/operators.h"
#include "ops/reduce.h"
#include "ops/shape.h"

namespace cr {

/// Attributes of an op that has none.
struct NoAttrs {
  static constexpr bool kReplayInvariant = true;
};

/// True for an Attrs type that declares `static constexpr bool kReplayInvariant = true`: it holds
/// only shapes and options fixed by the op's arguments' shapes, never tensors, data-dependent values
/// or random state, so a node of it can run again on other tensors of the same shapes (Note
/// [Lowered backward] in autograd/engine.cpp). Undeclared types are not.
template <class A, class = void>
struct replay_invariant : std::false_type {};
template <class A>
struct replay_invariant<A, std::void_t<decltype(A::kReplayInvariant)>>
    : std::bool_constant<A::kReplayInvariant> {};

/// Attributes that may hold per-call state only for some values (an attention with dropout keeps
/// its random numbers' place) declare kReplayInvariant and a member `bool replayable() const`,
/// which a node of them asks too.
template <class A, class = void>
struct has_replayable : std::false_type {};
template <class A>
struct has_replayable<A, std::void_t<decltype(std::declval<const A&>().replayable())>> : std::true_type {};
template <class A>
bool replayable_value(const A& a) {
  if constexpr (has_replayable<A>::value) return a.replayable();
  else return true;
}

/// The saved tensors a formula reads, by reference: a compiled replay hands them over from its
/// slots without copying a tensor (Note [Lowered backward] in autograd/engine.cpp).
template <size_t N>
struct SavedRefs {
  std::array<const Tensor*, N> at{};
  SavedRefs() = default;
  SavedRefs(const std::array<Tensor, N>& a) {  // NOLINT: implicit, as the array it stands for
    for (size_t j = 0; j < N; ++j) at[j] = &a[j];
  }
  const Tensor& operator[](size_t j) const { return *at[j]; }
};

/// What a gradient formula sees.
template <size_t NSaved, class Attrs>
struct GradArgs {
  const Tensor& grad;                        ///< d loss / d output 0
  const TensorList& grads;                   ///< d loss / d every output (zeros where unused)
  SavedRefs<NSaved> saved;                   ///< the saved tensors, in the entry's `saves` order
  const Attrs& attrs;                        ///< the op's non-tensor arguments
  const Node& node;
  /// True when input i needs a gradient (for joint formulas, which compute several at once).
  bool needs(size_t i) const { return node.next_edges_[i].valid(); }
  /// Shape of input i, as its edge records it (valid in that input's own formula).
  const Dims& input_shape(size_t i) const {
    const Edge& e = node.next_edges_[i];
    return e.fn->outputs_[e.input_nr].shape;
  }
};

/// One saved tensor: its name (for messages and graph views) and the inputs whose formulas read
/// it, as a bit mask. A tensor is saved only when one of those inputs needs a gradient.
struct SavedSlot {
  const char* name;
  uint32_t needed_by = ~0u;
};
/// `needed_by` for the formulas of the listed inputs.
constexpr uint32_t for_grad_of(int i) { return 1u << i; }
constexpr uint32_t kAllGrads = ~0u;

/// What a JVP rule sees (Note [Forward AD] in core/forward_ad.h).
template <size_t NIn, size_t NSaved, class Attrs>
struct JvpArgs {
  const std::array<Tensor, NIn>& primal;   ///< the op's inputs
  const std::array<Tensor, NIn>& tangent;  ///< their tangents: zeros where an input has none
  const std::array<bool, NIn>& has;        ///< true where the input has a tangent of its own
  const Tensor& out;                        ///< the op's result
  const Attrs& attrs;
  const std::array<Tensor, NSaved>& saved;  ///< the entry's saved tensors
  const Node& node;
  const std::array<Tensor (*)(const GradArgs<NSaved, Attrs>&), NIn>& grads;  ///< the entry's formulas
};

/// A differentiable op with NIn tensor inputs: its grad_fn name, the names of its inputs, one
/// formula per input (nullptr: never differentiable in that input) and what it saves. Ops whose
/// input gradients share most of their work (the norms) give one `joint` formula instead, which
/// returns every input's gradient at once (undefined where !needs(i)), as PyTorch's
/// derivatives.yaml does with an output mask.
template <size_t NIn, size_t NSaved = 0, class Attrs = NoAttrs>
struct Derivative {
  static constexpr size_t kInputs = NIn;
  static constexpr size_t kSaved = NSaved;
  using AttrsType = Attrs;
  using Args = GradArgs<NSaved, Attrs>;
  using Formula = Tensor (*)(const Args&);
  using JointFormula = TensorList (*)(const Args&);
  using Jvp = JvpArgs<NIn, NSaved, Attrs>;
  using JvpFormula = Tensor (*)(const Jvp&);
  const char* name;
  std::array<const char*, NIn> inputs;
  std::array<Formula, NIn> grads;
  std::array<SavedSlot, NSaved> saves{};
  JointFormula joint = nullptr;
  /// The forward-mode rule: the tangent of the output from the inputs' (nullptr: the generic rule
  /// of Note [Forward AD]). Set with `with_jvp`.
  JvpFormula jvp = nullptr;
};

/// An entry with its JVP rule:
///   const auto exp_grad = with_jvp(Derivative<1, 1>{...}, jvp_elementwise);
template <size_t NIn, size_t NSaved, class Attrs>
Derivative<NIn, NSaved, Attrs> with_jvp(Derivative<NIn, NSaved, Attrs> d,
                                        typename Derivative<NIn, NSaved, Attrs>::JvpFormula jvp) {
  d.jvp = jvp;
  return d;
}

/// The JVP rule of an elementwise op: each input's Jacobian is diagonal (after broadcasting), so
/// J_i t_i is the entry's own gradient formula applied to t_i; the tangent is their sum.
template <class A>
Tensor jvp_elementwise(const A& a) {
  Tensor total;
  TensorList grads(1);
  for (size_t i = 0; i < a.grads.size(); ++i) {
    if (!a.has[i] || !a.grads[i]) continue;
    Tensor g = a.tangent[i];
    if (g.shape() != a.out.shape()) g = expand(g, a.out.shape());
    grads[0] = g;
    GradArgs<std::tuple_size_v<std::decay_t<decltype(a.saved)>>, std::decay_t<decltype(a.attrs)>> ga{
        g, grads, a.saved, a.attrs, a.node};
    Tensor term = a.grads[i](ga);
    total = total.defined() ? total + term : term;
  }
  return total;
}

/// A differentiable op with any number of inputs sharing one formula, called with the input's
/// index (cat, stack).
template <class Attrs>
struct VariadicDerivative {
  using AttrsType = Attrs;
  using Args = GradArgs<0, Attrs>;
  using Formula = Tensor (*)(const Args&, size_t input);
  const char* name;
  Formula grad;
};

/// A gradient reduced to the shape of the input its edge leads to (broadcasting's inverse).
inline Tensor reduce_to_input(Tensor g, const Edge& e) {
  if (!g.defined()) return g;
  const Dims& shape = e.fn->outputs_[e.input_nr].shape;
  return g.shape() == shape ? g : sum_to(g, shape);
}

/// The Node of every table entry: owns the saved tensors and the attributes, releases them,
/// skips inputs that need no gradient and sums broadcast gradients back to each input's shape.
template <class Def>
class FormulaNode final : public Node {
 public:
  explicit FormulaNode(const Def& def) : def_(def) {}

  /// The saved tensors, unpacked (undefined where nothing was saved).
  std::array<Tensor, Def::kSaved> unpack_saved() {
    std::array<Tensor, Def::kSaved> saved;
    for (size_t j = 0; j < Def::kSaved; ++j) saved[j] = promoted(saved_[j].unpack(*this));
    return saved;
  }

  TensorList apply(TensorList&& grads) override { return run(grads, unpack_saved()); }

  bool replayable() const override {
    if constexpr (!replay_invariant<typename Def::AttrsType>::value) return false;
    if (!replayable_value(attrs)) return false;
    for (const auto& s : saved_)
      if (s.packed_by_hooks()) return false;
    return true;
  }
  std::vector<const SavedTensor*> saved_slots() const override {
    std::vector<const SavedTensor*> out;
    for (const auto& s : saved_) out.push_back(&s);
    return out;
  }
  TensorList apply_with(TensorList&& grads, const Tensor* const* given) override {
    // (saved_ is not read: a replay runs without mu_)
    static const Tensor kNone;
    SavedRefs<Def::kSaved> refs;
    std::array<Tensor, Def::kSaved> promoted_copies;  // only where a dtype differs
    for (size_t j = 0; j < Def::kSaved; ++j) {
      const Tensor& t = given[j] ? *given[j] : kNone;
      refs.at[j] = &t;
      if (t.defined() && needs_promotion(t)) {
        promoted_copies[j] = to_dtype(t, outputs_[0].dtype);
        refs.at[j] = &promoted_copies[j];
      }
    }
    return run(grads, refs);
  }

  TensorList run(TensorList& grads, const SavedRefs<Def::kSaved>& saved) {
    typename Def::Args args{grads[0], grads, saved, attrs, *this};
    TensorList out(Def::kInputs);
    if (def_.joint) {
      TensorList all = def_.joint(args);
      for (size_t i = 0; i < Def::kInputs; ++i)
        if (next_edges_[i].valid()) out[i] = reduce_to_input(std::move(all[i]), next_edges_[i]);
      return out;
    }
    for (size_t i = 0; i < Def::kInputs; ++i) {
      if (next_edges_[i].valid() && def_.grads[i])
        out[i] = reduce_to_input(def_.grads[i](args), next_edges_[i]);
    }
    return out;
  }
  void release_saved() override {
    for (auto& s : saved_) s.reset();
  }
  bool holds_saved() const override {
    for (const auto& s : saved_)
      if (s.live()) return true;
    return false;
  }
  std::vector<std::pair<std::string, const SavedTensor*>> saved_tensors() const override {
    std::vector<std::pair<std::string, const SavedTensor*>> out;
    for (size_t j = 0; j < Def::kSaved; ++j)
      if (saved_[j].defined())
        out.emplace_back(def_.saves[j].name ? def_.saves[j].name : str("saved_", j), &saved_[j]);
    return out;
  }
  std::string name() const override { return def_.name; }

  /// A saved floating tensor in the output's dtype: mixed-precision inputs (a float32 base with a
  /// float64 exponent) are promoted before the formula, so it runs at the precision of the result.
  Tensor promoted(Tensor t) const {
    return t.defined() && needs_promotion(t) ? to_dtype(t, outputs_[0].dtype) : t;
  }
  bool needs_promotion(const Tensor& t) const {
    if (outputs_.empty()) return false;
    DType out = outputs_[0].dtype;
    return t.dtype() != out && is_floating(t.dtype()) && is_floating(out);
  }

  const Def& def_;
  std::array<SavedTensor, Def::kSaved> saved_;
  typename Def::AttrsType attrs{};
};

template <class Attrs>
class VariadicFormulaNode final : public Node {
 public:
  using Def = VariadicDerivative<Attrs>;
  explicit VariadicFormulaNode(const Def& def) : def_(def) {}

  bool replayable() const override { return replay_invariant<Attrs>::value; }

  TensorList apply(TensorList&& grads) override {
    std::array<Tensor, 0> saved;
    typename Def::Args args{grads[0], grads, saved, attrs, *this};
    TensorList out(next_edges_.size());
    for (size_t i = 0; i < out.size(); ++i)
      if (next_edges_[i].valid()) out[i] = reduce_to_input(def_.grad(args, i), next_edges_[i]);
    return out;
  }
  std::string name() const override { return def_.name; }

  const Def& def_;
  Attrs attrs{};
};

/// An input of a recorded op (a reference, no copy).
struct In {
  In(const Tensor& t) : t(&t) {}  // NOLINT: implicit on purpose, so inputs are written {a, b}
  const Tensor* t;
};
/// A tensor to save: an input (or any other tensor) as is, or an output of the op (`output(y)`).
struct Save {
  Save() = default;
  Save(const Tensor& t) : t(&t) {}  // NOLINT: implicit on purpose
  const Tensor* t = nullptr;
  bool is_output = false;
};
inline Save output(const Tensor& t) {
  Save s(t);
  s.is_output = true;
  return s;
}

/// A new node in a block of the small block pool (Note [Small block pool]) when it fits there.
template <class Node_, class... Args>
std::shared_ptr<Node_> make_node(Args&&... args) {
  return std::allocate_shared<Node_>(pool::Allocator<Node_>(), std::forward<Args>(args)...);
}

namespace detail {

template <size_t N>
uint32_t grad_mask(const std::array<In, N>& in) {
  if (!GradMode::is_enabled()) return 0;
  uint32_t mask = 0;
  for (size_t i = 0; i < N; ++i)
    if (in[i].t->defined() && in[i].t->requires_grad()) mask |= 1u << i;
  return mask;
}

template <class Node_, size_t N>
Node_* wire(std::shared_ptr<Node_> n, const std::array<In, N>& in, Tensor* outs, size_t nout) {
  n->next_edges_.reserve(N);
  for (const In& i : in) n->next_edges_.push_back(gradient_edge(*i.t));
  n->outputs_.reserve(nout);
  Node_* node = n.get();
  if (nout == 1) {  // (the one output takes this reference)
    if (outs[0].defined() && is_floating(outs[0].dtype())) add_output(std::move(n), outs[0]);
    return node;
  }
  for (size_t k = 0; k < nout; ++k)
    if (outs[k].defined() && is_floating(outs[k].dtype())) add_output(n, outs[k]);
  return node;  // the outputs own the node now
}

template <class Def, size_t NSaved>
void save_all(FormulaNode<Def>* n, const std::array<Save, NSaved>& saves, uint32_t mask) {
  for (size_t j = 0; j < NSaved; ++j)
    if (saves[j].t && (n->def_.saves[j].needed_by & mask))
      n->saved_[j] = SavedTensor(*saves[j].t, saves[j].is_output);
}

template <size_t N>
TensorList input_list(const std::array<In, N>& in) {
  TensorList l;
  l.reserve(N);
  for (const In& i : in) l.push_back(*i.t);
  return l;
}

/// Queues the tangent of node n's output (Note [Forward AD]): by the entry's rule when it has one.
template <class Def, size_t N>
void pend_jvp(const Def& d, FormulaNode<Def>* n, const std::array<In, N>& in, const Tensor& out) {
  TensorList inputs = input_list(in);
  auto node = std::static_pointer_cast<FormulaNode<Def>>(n->shared_from_this());
  if (!d.jvp) return fw::pend_generic(node, inputs);
  if (!fw::any_tangent(inputs)) return;
  fw::pend(node, [&d, node, inputs, out] {
    std::array<Tensor, N> primal, tangent;
    std::array<bool, N> has{};
    for (size_t i = 0; i < N; ++i) {
      primal[i] = inputs[i];
      tangent[i] = fw::tangent_of(inputs[i]);
      has[i] = tangent[i].defined();
      if (!has[i] && primal[i].defined() && is_floating(primal[i].dtype()))
        tangent[i] = zeros(primal[i].shape(), primal[i].dtype());
    }
    auto saved = node->unpack_saved();
    typename Def::Jvp args{primal, tangent, has, out, node->attrs, saved, *node, d.grads};
    Tensor t = d.jvp(args);
    if (t.defined()) {
      if (t.dtype() != out.dtype()) t = to_dtype(t, out.dtype());
      if (t.shape() != out.shape()) t = contiguous(expand(t, out.shape()));
    }
    fw::store(*node, {t});
  });
}

inline bool any_floating(const TensorList& outs) {
  for (const auto& o : outs)
    if (o.defined() && is_floating(o.dtype())) return true;
  return false;
}

}  // namespace detail

/// Records `out = op(inputs)` when some input needs a gradient and the output is floating:
/// wires the node, then saves `saves` (outputs after they are marked). Returns the node, so the
/// caller can fill its attributes, or nullptr when nothing was recorded.
template <size_t NIn, size_t NSaved, class Attrs>
FormulaNode<Derivative<NIn, NSaved, Attrs>>* record(const Derivative<NIn, NSaved, Attrs>& d,
                                                    const std::array<In, NIn>& inputs, Tensor& out,
                                                    const std::array<Save, NSaved>& saves = {}) {
  uint32_t mask = detail::grad_mask(inputs);
  if (!mask || !is_floating(out.dtype())) return nullptr;
  auto* n = detail::wire(make_node<FormulaNode<Derivative<NIn, NSaved, Attrs>>>(d), inputs, &out, 1);
  detail::save_all(n, saves, mask);
  if (fw::active()) detail::pend_jvp(d, n, inputs, out);
  return n;
}

/// The same for an op with several outputs.
template <size_t NIn, size_t NSaved, class Attrs>
FormulaNode<Derivative<NIn, NSaved, Attrs>>* record(const Derivative<NIn, NSaved, Attrs>& d,
                                                    const std::array<In, NIn>& inputs, TensorList& outs,
                                                    const std::array<Save, NSaved>& saves = {}) {
  uint32_t mask = detail::grad_mask(inputs);
  if (!mask || !detail::any_floating(outs)) return nullptr;
  auto* n = detail::wire(make_node<FormulaNode<Derivative<NIn, NSaved, Attrs>>>(d), inputs, outs.data(),
                         outs.size());
  detail::save_all(n, saves, mask);
  if (fw::active()) fw::pend_generic(n->shared_from_this(), detail::input_list(inputs));
  return n;
}

/// Records `out = op(inputs...)` for an op with any number of inputs.
template <class Attrs>
VariadicFormulaNode<Attrs>* record(const VariadicDerivative<Attrs>& d, const TensorList& inputs,
                                   Tensor& out) {
  if (!needs_grad(inputs) || !is_floating(out.dtype())) return nullptr;
  auto n = std::make_shared<VariadicFormulaNode<Attrs>>(d);
  n->next_edges_.reserve(inputs.size());
  for (const auto& t : inputs) n->next_edges_.push_back(gradient_edge(t));
  add_output(n, out);
  if (fw::active()) fw::pend_generic(n, inputs);
  return n.get();
}

}  // namespace cr
