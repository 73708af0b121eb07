#pragma once
// Autograd of in-place writes through views: PyTorch's CopySlices and the regenerated grad_fn of a
// view (AsStridedBackward0). See Note [Views and in-place ops] in views.cpp.
#include "core/tensor.h"

namespace cr {

/// The autograd checks every in-place op runs before its first write (Note [In-place ops]): raises
/// AutogradError for a leaf that requires grad, a view of one, and views whose creation forbids
/// in-place writes. True when the write must be recorded (grad mode on, floating self, and self,
/// its base or `other` requires grad).
bool check_inplace(const Tensor& self, const Tensor& other, const char* op);

/// Makes `r` (the recorded out-of-place result of an in-place op on self, same shape and dtype;
/// its values already written into self) self's new history. On a view, the base's history is
/// rebased instead (CopySlices), and every view of the base regenerates its grad_fn from it.
void rebase_history(const Tensor& self, const Tensor& r);

}  // namespace cr
