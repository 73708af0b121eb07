// Matrix-shaped ops and the named matrix products (ops/matrix.h).
#include "bindings/op_registry.h"
#include "ops/ops.h"

namespace crpy {

void register_matrix(OpRegistry& reg) {
  const unsigned FM = kFunction | kMethod;
  const auto input = py::arg("input");

  reg.op("diagonal", FM, &cr::diagonal,
         "diagonal(input, offset=0, dim1=0, dim2=1) -> Tensor\n\nView of a diagonal of the matrices in dims "
         "(dim1, dim2), as the last dim; offset > 0 is above the main diagonal.",
         input, py::arg("offset") = 0, py::arg("dim1") = 0, py::arg("dim2") = 1);
  reg.op("diag_embed", FM, &cr::diag_embed,
         "diag_embed(input, offset=0, dim1=-2, dim2=-1) -> Tensor\n\nMatrices whose diagonal `offset` holds "
         "input's last dim (zeros elsewhere).",
         input, py::arg("offset") = 0, py::arg("dim1") = -2, py::arg("dim2") = -1);
  reg.op("diag", FM, &cr::diag,
         "diag(input, diagonal=0) -> Tensor\n\n1-D input: the square matrix with it on the given diagonal; "
         "2-D input: that diagonal.",
         input, py::arg("diagonal") = 0);
  reg.op("trace", FM, &cr::trace, "trace(input) -> Tensor\n\nSum of the main diagonal of a matrix.", input);
  reg.op("tril", FM, &cr::tril,
         "tril(input, diagonal=0) -> Tensor\n\nThe lower triangle (on and below `diagonal`) of each matrix.",
         input, py::arg("diagonal") = 0)
      .inplace(
          [](const Tensor& self, int64_t k) {
            return cr::assign_with_(self, {}, [k](const Tensor& x) { return cr::tril(x, k); }, "tril_");
          },
          "In-place tril.", py::arg("diagonal") = 0);
  reg.op("triu", FM, &cr::triu,
         "triu(input, diagonal=0) -> Tensor\n\nThe upper triangle (on and above `diagonal`) of each matrix.",
         input, py::arg("diagonal") = 0)
      .inplace(
          [](const Tensor& self, int64_t k) {
            return cr::assign_with_(self, {}, [k](const Tensor& x) { return cr::triu(x, k); }, "triu_");
          },
          "In-place triu.", py::arg("diagonal") = 0);

  reg.op("mm", FM, &cr::mm, "mm(input, mat2) -> Tensor\n\nMatrix product of two 2-D tensors.", input,
         py::arg("mat2"));
  reg.op("bmm", FM, &cr::bmm, "bmm(input, mat2) -> Tensor\n\nBatched matrix product of two 3-D tensors.",
         input, py::arg("mat2"));
  reg.op("mv", FM, &cr::mv, "mv(input, vec) -> Tensor\n\nMatrix-vector product.", input, py::arg("vec"));
  reg.op("dot", FM, &cr::dot, "dot(input, tensor) -> Tensor\n\nInner product of two 1-D tensors.", input,
         py::arg("tensor"));
  reg.op("outer", FM, &cr::outer, "outer(input, vec2) -> Tensor\n\nOuter product of two 1-D tensors.", input,
         py::arg("vec2"))
      .alias("ger");
  reg.op("addmm", FM, &cr::addmm,
         "addmm(input, mat1, mat2, *, beta=1, alpha=1) -> Tensor\n\nbeta * input + alpha * (mat1 @ mat2).",
         input, py::arg("mat1"), py::arg("mat2"), py::kw_only(), py::arg("beta") = 1.0,
         py::arg("alpha") = 1.0);
  reg.op("addmv", FM, &cr::addmv,
         "addmv(input, mat, vec, *, beta=1, alpha=1) -> Tensor\n\nbeta * input + alpha * (mat @ vec).", input,
         py::arg("mat"), py::arg("vec"), py::kw_only(), py::arg("beta") = 1.0, py::arg("alpha") = 1.0);
  reg.op("baddbmm", FM, &cr::baddbmm,
         "baddbmm(input, batch1, batch2, *, beta=1, alpha=1) -> Tensor\n\nbeta * input + alpha * bmm(batch1, "
         "batch2).",
         input, py::arg("batch1"), py::arg("batch2"), py::kw_only(), py::arg("beta") = 1.0,
         py::arg("alpha") = 1.0);
  reg.op("addbmm", FM, &cr::addbmm,
         "addbmm(input, batch1, batch2, *, beta=1, alpha=1) -> Tensor\n\nbeta * input + alpha * the sum over "
         "the "
         "batch of batch1 @ batch2.",
         input, py::arg("batch1"), py::arg("batch2"), py::kw_only(), py::arg("beta") = 1.0,
         py::arg("alpha") = 1.0);
  reg.op("t", FM, &cr::t, "t(input) -> Tensor\n\nTranspose of a matrix (vectors and scalars unchanged).",
         input);
}

}  // namespace crpy
