// The row walk of the strided elementwise loops (ops/loops.h), one instance per operand count.
#include "ops/loops.h"

#include <algorithm>

namespace cr {
namespace detail {

template <int K>
void walk_strided(const Dims& shape, const std::array<char*, K>& base, const std::array<Dims, K>& strides,
                  const std::array<int64_t, K>& isz, RowFn<K> row, const void* ctx) {
  int64_t total = numel_of(shape);
  if (total == 0) return;
  // Drop size-1 dims, then merge dims i-1 and i when every operand is laid out contiguously over them.
  Dims sh;
  std::array<Dims, K> st;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    if (!sh.empty()) {
      bool merge = true;
      for (int k = 0; k < K; ++k)
        if (st[k].back() != strides[k][d] * shape[d]) {
          merge = false;
          break;
        }
      if (merge) {
        sh[sh.size() - 1] *= shape[d];
        for (int k = 0; k < K; ++k) st[k][st[k].size() - 1] = strides[k][d];
        continue;
      }
    }
    sh.push_back(shape[d]);
    for (int k = 0; k < K; ++k) st[k].push_back(strides[k][d]);
  }
  if (sh.empty()) {
    sh.push_back(1);
    for (int k = 0; k < K; ++k) st[k].push_back(0);
  }
  const int nd = (int)sh.size();
  const int64_t inner_n = sh[nd - 1];
  const int64_t rows = total / inner_n;
  std::array<int64_t, K> inner_bytes;
  for (int k = 0; k < K; ++k) inner_bytes[k] = st[k][nd - 1] * isz[k];
  int64_t grain = std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(inner_n, 1));
  parallel_for(0, rows, grain, [&](int64_t rb, int64_t re) {
    // multi-index of row rb over dims [0, nd-1)
    Dims idx(nd > 1 ? nd - 1 : 0, 0);
    int64_t r = rb;
    for (int d = nd - 2; d >= 0; --d) {
      idx[d] = r % sh[d];
      r /= sh[d];
    }
    std::array<char*, K> p;
    for (int k = 0; k < K; ++k) {
      int64_t off = 0;
      for (int d = 0; d < nd - 1; ++d) off += idx[d] * st[k][d];
      p[k] = base[k] + off * isz[k];
    }
    for (int64_t r2 = rb; r2 < re; ++r2) {
      row(ctx, p, inner_bytes, inner_n);
      for (int d = nd - 2; d >= 0; --d) {
        for (int k = 0; k < K; ++k) p[k] += st[k][d] * isz[k];
        if (++idx[d] < sh[d]) break;
        for (int k = 0; k < K; ++k) p[k] -= st[k][d] * sh[d] * isz[k];
        idx[d] = 0;
      }
    }
  });
}

template void walk_strided<1>(const Dims&, const std::array<char*, 1>&, const std::array<Dims, 1>&,
                              const std::array<int64_t, 1>&, RowFn<1>, const void*);
template void walk_strided<2>(const Dims&, const std::array<char*, 2>&, const std::array<Dims, 2>&,
                              const std::array<int64_t, 2>&, RowFn<2>, const void*);
template void walk_strided<3>(const Dims&, const std::array<char*, 3>&, const std::array<Dims, 3>&,
                              const std::array<int64_t, 3>&, RowFn<3>, const void*);
template void walk_strided<4>(const Dims&, const std::array<char*, 4>&, const std::array<Dims, 4>&,
                              const std::array<int64_t, 4>&, RowFn<4>, const void*);

}  // namespace detail
}  // namespace cr
