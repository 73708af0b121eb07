// Binds the ops of the op table (ops/op_table.h): plain tensor signatures, declared next to their
// kernels, bound here the same way for every entry.
#include <string>

#include "bindings/op_registry.h"

namespace crpy {

void register_table(OpRegistry& reg) {
  for (const cr::OpDecl& d : cr::op_table()) {
    const char* name = d.name;
    if (d.signature == cr::OpSignature::Unary) {
      auto f = d.unary;
      auto row = reg.op(
          name, d.variants & (kFunction | kMethod), [f](const Tensor& t) { return f(t); }, d.doc,
          py::arg("input"));
      if (d.variants & kInplace)
        row.inplace([f, name](const Tensor& self) { return cr::assign_unary_(self, f, name); }, d.doc);
      continue;
    }
    auto f = d.binary;
    auto row = reg.op(
        name, d.variants & kFunction,
        [f, name](py::handle a, py::handle b) {
          Tensor ta = first_operand(a, b, name);
          return f(ta, operand(b, ta, name));
        },
        d.doc, py::arg("input"), py::arg("other"));
    if (d.variants & kMethod)
      row.method([f, name](const Tensor& self, py::handle o) { return f(self, operand(o, self, name)); },
                 d.doc, py::arg("other"));
    if (d.variants & kInplace)
      row.inplace(
          [f, name](const Tensor& self, py::handle o) {
            return cr::assign_binary_(self, operand(o, self, name), f, (std::string(name) + "_").c_str());
          },
          d.doc, py::arg("other"));
  }
}

}  // namespace crpy
