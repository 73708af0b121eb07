#pragma once
// Shapes and strides: a small inline vector (no heap for ndim <= 6), broadcasting rules.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <ostream>
#include <type_traits>
#include <vector>
#include "core/errors.h"

namespace cr {

class Dims {
 public:
  static constexpr int kInline = 6;
  Dims() = default;
  explicit Dims(size_t n, int64_t v = 0) { resize(n, v); }
  Dims(std::initializer_list<int64_t> l) {
    for (auto v : l) push_back(v);
  }
  Dims(const std::vector<int64_t>& v) {
    for (auto x : v) push_back(x);
  }
  template <class It, class = std::enable_if_t<!std::is_integral_v<It>>> Dims(It b, It e) {
    for (; b != e; ++b) push_back(*b);
  }
  Dims(const Dims& o) { *this = o; }
  Dims& operator=(const Dims& o) {
    if (this == &o) return *this;
    if (heap_.empty() && o.heap_.empty()) {
      // Both inline: one fixed-size copy (a variable-length fill or copy compiles to `rep` string
      // instructions, whose start-up cost showed in profiles of small-tensor loops).
      std::memcpy(inline_, o.inline_, sizeof(inline_));
      size_ = o.size_;
      return *this;
    }
    resize(o.size_);
    std::memcpy(data(), o.data(), o.size_ * sizeof(int64_t));
    return *this;
  }
  ~Dims() = default;

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  int64_t* data() { return heap_.empty() ? inline_ : heap_.data(); }
  const int64_t* data() const { return heap_.empty() ? inline_ : heap_.data(); }
  int64_t& operator[](size_t i) { return data()[i]; }
  int64_t operator[](size_t i) const { return data()[i]; }
  int64_t* begin() { return data(); }
  int64_t* end() { return data() + size_; }
  const int64_t* begin() const { return data(); }
  const int64_t* end() const { return data() + size_; }
  int64_t back() const { return data()[size_ - 1]; }

  void push_back(int64_t v) {
    resize(size_ + 1);
    data()[size_ - 1] = v;
  }
  void pop_back() {
    if (size_) resize(size_ - 1);
  }
  void insert(size_t pos, int64_t v) {
    resize(size_ + 1);
    int64_t* d = data();
    for (size_t i = size_ - 1; i > pos; --i) d[i] = d[i - 1];
    d[pos] = v;
  }
  void erase(size_t pos) {
    int64_t* d = data();
    for (size_t i = pos; i + 1 < size_; ++i) d[i] = d[i + 1];
    resize(size_ - 1);
  }
  void resize(size_t n, int64_t fill = 0) {
    if (n <= (size_t)kInline && heap_.empty()) {
      for (size_t i = 0; i < (size_t)kInline; ++i)  // fixed trip count: no memset (see operator=)
        if (i >= size_ && i < n) inline_[i] = fill;
    } else {
      if (heap_.empty()) heap_.assign(inline_, inline_ + size_);
      heap_.resize(n, fill);
    }
    size_ = n;
  }
  std::vector<int64_t> vec() const { return std::vector<int64_t>(begin(), end()); }
  bool operator==(const Dims& o) const {
    // a plain loop: std::equal becomes a call to memcmp, slower than a few compares at these sizes
    if (size_ != o.size_) return false;
    const int64_t *a = data(), *b = o.data();
    for (size_t i = 0; i < size_; ++i)
      if (a[i] != b[i]) return false;
    return true;
  }
  bool operator!=(const Dims& o) const { return !(*this == o); }

 private:
  size_t size_ = 0;
  int64_t inline_[kInline] = {0, 0, 0, 0, 0, 0};  // fixed-size clear: a few vector stores
  std::vector<int64_t> heap_;
};

inline std::ostream& operator<<(std::ostream& os, const Dims& d) {
  os << "[";
  for (size_t i = 0; i < d.size(); ++i) os << (i ? ", " : "") << d[i];
  return os << "]";
}

inline int64_t numel_of(const Dims& s) {
  int64_t n = 1;
  for (auto v : s) n *= v;
  return n;
}

/// Checks a shape a tensor is about to get: no negative size, and neither its element count nor
/// any contiguous stride (the product of the sizes, zeros counted as 1) overflows int64.
/// ValueError otherwise, naming `op`.
inline void check_shape(const Dims& s, const char* op) {
  int64_t n = 1;
  for (auto v : s) {
    if (v < 0) throw ValueError(str(op, ": negative dimension ", v, " in shape ", s));
    const int64_t f = v > 0 ? v : 1;
    // two factors below 2^31 cannot overflow: the division runs only for huge shapes (this check
    // runs for every tensor an op allocates)
    if (((n | f) >> 31) != 0 && n > std::numeric_limits<int64_t>::max() / f)
      throw ValueError(
          str(op, ": shape ", s, " has too many elements (the size calculation overflows int64)"));
    n *= f;
  }
}

/// Sets st to the row-major strides of shape s.
inline void set_contiguous_strides(const Dims& s, Dims& st) {
  st.resize(s.size());
  int64_t acc = 1;
  for (size_t i = s.size(); i-- > 0;) {
    st[i] = acc;
    acc *= std::max<int64_t>(s[i], 1);
  }
}

inline Dims contiguous_strides(const Dims& s) {
  Dims st;
  set_contiguous_strides(s, st);
  return st;
}

/// Broadcast two shapes by NumPy rules; throws ShapeError naming `op` and both shapes.
inline Dims broadcast_shapes(const Dims& a, const Dims& b, const char* op) {
  size_t n = std::max(a.size(), b.size());
  Dims out(n);
  for (size_t i = 0; i < n; ++i) {
    int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    if (da != db && da != 1 && db != 1)
      throw ShapeError(str(op, ": shapes ", a, " and ", b, " cannot be broadcast together (dimension ", i,
                           ": ", da, " vs ", db, ")"));
    out[i] = da == 1 ? db : da;
  }
  return out;
}

/// Wraps a possibly negative dim into [0, ndim); IndexError when out of range.
inline int64_t wrap_dim(int64_t dim, int64_t ndim, const char* op) {
  int64_t n = std::max<int64_t>(ndim, 1);
  if (dim < -n || dim >= n)
    throw IndexError(str(op, ": dimension ", dim, " is out of range for a tensor with ", ndim,
                         " dimension(s) (expected in [", -n, ", ", n - 1, "])"));
  return dim < 0 ? dim + n : dim;
}

}  // namespace cr
