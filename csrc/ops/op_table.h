#pragma once
// The table of ops with plain tensor signatures, declared next to their kernels:
//
//   CR_OP(atan2, atan2, kFunction | kMethod | kInplace, "atan2(input, other) -> Tensor\n\n...");
//
// The binding layer walks it (bindings/register_table.cpp) and binds each entry as a module
// function, a Tensor method and an in-place method with PyTorch's argument names and its usual
// operand rules (Python numbers and arrays become tensors), so such an op needs no binding code
// and no header declaration. Ops with other signatures (dims, options) are rows of the binding
// layer's OpRegistry instead.
#include <functional>
#include <vector>

#include "core/tensor.h"

namespace cr {

enum OpVariant : unsigned { kFunction = 1u, kMethod = 2u, kInplace = 4u };

enum class OpSignature {
  Unary,   ///< f(input)
  Binary,  ///< f(input, other), broadcasting
};

struct OpDecl {
  const char* name;
  OpSignature signature;
  Tensor (*unary)(const Tensor&) = nullptr;
  Tensor (*binary)(const Tensor&, const Tensor&) = nullptr;
  unsigned variants = kFunction | kMethod;
  const char* doc = "";
};

/// Every declared op, in registration order.
inline std::vector<OpDecl>& op_table() {
  static std::vector<OpDecl> table;
  return table;
}

struct OpTableEntry {
  explicit OpTableEntry(const OpDecl& d) { op_table().push_back(d); }
};

inline OpDecl make_decl(const char* name, Tensor (*f)(const Tensor&), unsigned variants, const char* doc) {
  return OpDecl{name, OpSignature::Unary, f, nullptr, variants, doc};
}
inline OpDecl make_decl(const char* name, Tensor (*f)(const Tensor&, const Tensor&), unsigned variants,
                        const char* doc) {
  return OpDecl{name, OpSignature::Binary, nullptr, f, variants, doc};
}

/// In place: self = f(self, other), following Note [In-place ops] (elementwise.cpp): checks first,
/// then either recorded (history rebased onto the result) or written straight into self's memory.
const Tensor& assign_binary_(const Tensor& self, const Tensor& other,
                             Tensor (*f)(const Tensor&, const Tensor&), const char* op);
/// In place: self = f(self).
const Tensor& assign_unary_(const Tensor& self, Tensor (*f)(const Tensor&), const char* op);
/// In place: self = f(self) for ops with options or more operands (lerp_, round_(decimals=)):
/// `others` are the tensors f reads besides self; the result must have self's shape.
const Tensor& assign_with_(const Tensor& self, const std::vector<Tensor>& others,
                           const std::function<Tensor(const Tensor&)>& f, const char* op);

}  // namespace cr

/// Declares `fn` (a cr:: function in this file) as the op `name` of the table.
#define CR_OP(name, fn, variants, doc) \
  static const ::cr::OpTableEntry cr_op_table_entry_##name { ::cr::make_decl(#name, &fn, variants, doc) }
