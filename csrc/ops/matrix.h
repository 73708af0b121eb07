#pragma once
// Matrix-shaped ops and PyTorch's named matrix products (matrix.cpp).
#include "core/tensor.h"

namespace cr {

/// View of the diagonal with `offset` (above the main one when positive) of the matrices spanned
/// by dim1 and dim2; the diagonal becomes the last dim.
Tensor diagonal(const Tensor& a, int64_t offset = 0, int64_t dim1 = 0, int64_t dim2 = 1);
/// Matrices (in dims dim1, dim2 of the result) whose diagonal `offset` holds a's last dim.
Tensor diag_embed(const Tensor& a, int64_t offset = 0, int64_t dim1 = -2, int64_t dim2 = -1);
/// 1-D -> the square matrix with it on diagonal `offset`; 2-D -> that diagonal (a copy).
Tensor diag(const Tensor& a, int64_t offset = 0);
Tensor trace(const Tensor& a);
/// The lower (upper) triangle of each matrix in the last two dims, from diagonal k.
Tensor tril(const Tensor& a, int64_t k = 0);
Tensor triu(const Tensor& a, int64_t k = 0);

/// Rank-checked products: mm 2-D x 2-D, bmm 3-D x 3-D, mv 2-D x 1-D, dot 1-D x 1-D.
Tensor mm(const Tensor& a, const Tensor& b);
Tensor bmm(const Tensor& a, const Tensor& b);
Tensor mv(const Tensor& a, const Tensor& v);
Tensor dot(const Tensor& a, const Tensor& b);
Tensor outer(const Tensor& a, const Tensor& b);
/// beta * input + alpha * (product); beta == 0 ignores input's values.
Tensor addmm(const Tensor& input, const Tensor& m1, const Tensor& m2, double beta = 1.0, double alpha = 1.0);
Tensor addmv(const Tensor& input, const Tensor& m, const Tensor& v, double beta = 1.0, double alpha = 1.0);
Tensor baddbmm(const Tensor& input, const Tensor& b1, const Tensor& b2, double beta = 1.0,
               double alpha = 1.0);
/// beta * input + alpha * sum over the batch of b1 @ b2.
Tensor addbmm(const Tensor& input, const Tensor& b1, const Tensor& b2, double beta = 1.0, double alpha = 1.0);
/// Transpose of a matrix; vectors and scalars as they are.
Tensor t(const Tensor& a);

}  // namespace cr
