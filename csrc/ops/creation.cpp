#include "ops/creation.h"

#include <cstring>
#include "core/node.h"
#include "ops/loops.h"
#include "ops/shape.h"

namespace cr {

Tensor zeros(const Dims& shape, DType dtype) {
  Tensor t = Tensor::empty(shape, dtype);
  std::memset(t.raw_data(), 0, (size_t)t.numel() * itemsize(dtype));
  return t;
}

Tensor full(const Dims& shape, double value, DType dtype) {
  Tensor t = Tensor::empty(shape, dtype);
  dispatch_all(dtype, [&](auto tag) {
    using T = decltype(tag);
    T v = static_cast<T>(value);
    T* p = t.data<T>();
    parallel_for(0, t.numel(), kElementwiseGrain, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) p[i] = v;
    });
  });
  return t;
}

Tensor ones(const Dims& shape, DType dtype) { return full(shape, 1.0, dtype); }

void copy_into(const Tensor& dst, const Tensor& src) {
  broadcast_shapes(dst.shape(), src.shape(), "copy_");
  if (numel_of(broadcast_shapes(dst.shape(), src.shape(), "copy_")) != dst.numel())
    throw ShapeError(str("copy_: source of shape ", src.shape(), " cannot be broadcast to ", dst.shape()));
  dispatch_all(dst.dtype(), [&](auto dtag) {
    using D = decltype(dtag);
    dispatch_all(src.dtype(), [&](auto stag) {
      using S = decltype(stag);
      if (dst.is_contiguous() && src.is_contiguous() && src.shape() == dst.shape()) {
        D* d = dst.data<D>();
        const S* s = src.data<S>();
        if constexpr (std::is_same_v<D, S>) {
          std::memcpy(d, s, (size_t)dst.numel() * sizeof(D));
        } else {
          parallel_for(0, dst.numel(), kElementwiseGrain, [&](int64_t b, int64_t e) {
            for (int64_t i = b; i < e; ++i) d[i] = static_cast<D>(s[i]);
          });
        }
        return;
      }
      for_each_strided<2>(dst.shape(), {dst.raw_data(), src.raw_data()},
                          {dst.strides(), broadcast_strides(src, dst.shape())},
                          {(int64_t)sizeof(D), (int64_t)sizeof(S)},
                          [&](std::array<char*, 2>& p, const std::array<int64_t, 2>& st, int64_t n) {
                            for (int64_t i = 0; i < n; ++i)
                              *(D*)(p[0] + i * st[0]) = static_cast<D>(*(const S*)(p[1] + i * st[1]));
                          });
    });
  });
}

Tensor contiguous_copy_as(const Tensor& t, DType dt) {
  Tensor out = Tensor::empty(t.shape(), dt);
  copy_into(out, t);
  return out;
}

Tensor contiguous_copy(const Tensor& t) {
  Tensor out = Tensor::empty(t.shape(), t.dtype());
  copy_into(out, t);
  return out;
}

namespace {
struct ToCopyBackward final : Node {
  DType src_dtype;
  TensorList apply(TensorList&& g) override { return {to_dtype(g[0], src_dtype)}; }
  std::string name() const override { return "ToCopyBackward0"; }
};
struct CloneBackward final : Node {
  TensorList apply(TensorList&& g) override { return {std::move(g[0])}; }
  std::string name() const override { return "CloneBackward0"; }
};
}  // namespace

Tensor to_dtype(const Tensor& t, DType dtype) {
  if (t.dtype() == dtype) return t;
  Tensor out = Tensor::empty(t.shape(), dtype);
  copy_into(out, t);
  if (needs_grad(t) && is_floating(dtype)) {
    auto node = std::make_shared<ToCopyBackward>();
    node->src_dtype = t.dtype();
    set_history(node, t, out);
  }
  return out;
}

Tensor clone(const Tensor& t) {
  Tensor out = contiguous_copy(t);
  if (needs_grad(t)) set_history(std::make_shared<CloneBackward>(), t, out);
  return out;
}

}  // namespace cr
