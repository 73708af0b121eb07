# Generated from the built extension by `python scripts/gen_stubs.py`; do not edit.
"""
chainrule's C++ engine
"""
from __future__ import annotations
import builtins
class ArgumentError(ValueError, RuntimeError): ...
class AutogradError(RuntimeError): ...
class DTypeError(TypeError, RuntimeError): ...
class IndexingError(IndexError, RuntimeError): ...
class ShapeError(ValueError, RuntimeError): ...
import chainrule._dtypes
import chainrule._tensor
import collections.abc
import numpy
import typing
__all__: list[str] = ['ArgumentError', 'AutogradError', 'DTypeError', 'Generator', 'IndexingError', 'Node', 'ShapeError', 'Tensor', 'abs', 'absolute', 'acos', 'acosh', 'add', 'addbmm', 'addmm', 'addmv', 'all', 'amax', 'amin', 'aminmax', 'any', 'arange', 'argmax', 'argmin', 'argsort', 'argwhere', 'asin', 'asinh', 'atan', 'atan2', 'atanh', 'baddbmm', 'batch_norm', 'bernoulli', 'bfloat16', 'bitwise_and', 'bitwise_not', 'bitwise_or', 'bitwise_xor', 'bmm', 'bool', 'broadcast_to', 'bucketize', 'cat', 'cdist', 'ceil', 'chunk', 'clamp', 'clip', 'clone', 'concat', 'concatenate', 'conv1d', 'conv2d', 'conv_transpose1d', 'conv_transpose2d', 'copysign', 'cos', 'cosh', 'count_nonzero', 'cummax', 'cummin', 'cumprod', 'cumsum', 'default_generator', 'detach', 'diag', 'diag_embed', 'diagonal', 'dist', 'div', 'divide', 'dot', 'dtype', 'elu', 'empty_like', 'eq', 'erf', 'erfc', 'erfinv', 'exp', 'exp2', 'expm1', 'eye', 'fix', 'flatten', 'flip', 'float16', 'float32', 'float64', 'floor', 'fmod', 'frac', 'from_numpy', 'full', 'full_like', 'gather', 'ge', 'gelu', 'ger', 'get_num_threads', 'get_rng_state', 'greater', 'greater_equal', 'gt', 'hypot', 'index_add', 'index_copy', 'index_fill', 'index_put', 'index_select', 'initial_seed', 'int16', 'int32', 'int64', 'int8', 'is_grad_enabled', 'isfinite', 'isinf', 'isnan', 'isneginf', 'isposinf', 'kthvalue', 'layer_norm', 'le', 'leaky_relu', 'lerp', 'less', 'less_equal', 'linspace', 'log', 'log10', 'log1p', 'log2', 'log_softmax', 'logaddexp', 'logaddexp2', 'logcumsumexp', 'logical_and', 'logical_not', 'logical_or', 'logical_xor', 'logsumexp', 'lt', 'manual_seed', 'masked_fill', 'masked_scatter', 'masked_select', 'matmul', 'max', 'maximum', 'mean', 'median', 'min', 'minimum', 'mm', 'mode', 'moveaxis', 'movedim', 'msort', 'mul', 'multinomial', 'multiply', 'mv', 'nan_to_num', 'nanmean', 'nanmedian', 'nanquantile', 'nansum', 'narrow', 'ne', 'neg', 'negative', 'nonzero', 'norm', 'normal', 'not_equal', 'ones_like', 'outer', 'permute', 'pow', 'prod', 'quantile', 'rand', 'rand_like', 'randint', 'randint_like', 'randn', 'randn_like', 'randperm', 'reciprocal', 'relu', 'remainder', 'reshape', 'round', 'rsqrt', 'scatter', 'scatter_add', 'scatter_reduce', 'searchsorted', 'seed', 'select', 'set_num_threads', 'set_rng_state', 'sigmoid', 'sign', 'signbit', 'silu', 'sin', 'sinh', 'softmax', 'softplus', 'sort', 'split', 'sqrt', 'square', 'squeeze', 'stack', 'std', 'std_mean', 'sub', 'subtract', 'sum', 'swapaxes', 'swapdims', 't', 'take', 'take_along_dim', 'tan', 'tanh', 'topk', 'trace', 'transpose', 'tril', 'triu', 'true_divide', 'trunc', 'uint8', 'unbind', 'unique', 'unique_consecutive', 'unsqueeze', 'var', 'var_mean', 'where', 'xlogy', 'zeros_like']
class Tensor:
    __array_priority__: typing.ClassVar[builtins.int] = 1000
    data: Tensor
    requires_grad: builtins.bool
    @staticmethod
    def __floordiv__(input: typing.Any, other: typing.Any) -> Tensor:
        """
        input / other rounded toward negative infinity; integer operands give an integer result
            (an integer zero divisor raises, as remainder does).
        """
    @staticmethod
    def addcdiv(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: builtins.float = 1) -> Tensor:
        """
        input + value * tensor1 / tensor2, broadcasting (integer tensors are refused, as PyTorch).
        """
    @staticmethod
    def addcmul(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: builtins.float = 1) -> Tensor:
        """
        input + value * tensor1 * tensor2, broadcasting.
        """
    @staticmethod
    def bincount(input: Tensor, weights: Tensor | None = None, minlength: builtins.int = 0) -> Tensor:
        """
        Counts of each value of a 1-D non-negative int64 tensor (sums of ``weights`` if given).
        """
    @staticmethod
    def floor_divide(input: typing.Any, other: typing.Any) -> Tensor:
        """
        input / other rounded toward negative infinity; integer operands give an integer result
            (an integer zero divisor raises, as remainder does).
        """
    @staticmethod
    def histc(input: Tensor, bins: builtins.int = 100, min: builtins.float = 0, max: builtins.float = 0) -> Tensor:
        """
        Histogram of ``bins`` equal bins over [min, max] (the data's range when both are 0);
            values outside are ignored.
        """
    @staticmethod
    def histogram(input: Tensor, bins: typing.Any = 100, *, range: typing.Any = None, weight: Tensor | None = None, density: builtins.bool = False) -> tuple[Tensor, Tensor]:
        """
        (hist, bin_edges) of a floating tensor: ``bins`` equal bins (over ``range`` or the data's
            range) or the given 1-D tensor of edges; optional weights and density normalization.
        """
    def __abs__(self) -> Tensor:
        ...
    def __add__(self, arg0: typing.Any) -> Tensor:
        ...
    def __and__(self, arg0: typing.Any) -> Tensor:
        ...
    def __array__(self, dtype: typing.Any = None, copy: typing.Any = None) -> typing.Any:
        ...
    def __bool__(self) -> builtins.bool:
        ...
    def __deepcopy__(self, memo: dict[builtins.int, typing.Any]) -> Tensor:
        ...
    def __eq__(self, arg0: typing.Any) -> typing.Any:
        ...
    def __float__(self) -> builtins.float:
        ...
    def __format__(self, spec: str) -> str:
        ...
    def __ge__(self, arg0: typing.Any) -> Tensor:
        ...
    def __getitem__(self, arg0: typing.Any) -> Tensor:
        ...
    def __gt__(self, arg0: typing.Any) -> Tensor:
        ...
    def __hash__(self) -> builtins.int:
        ...
    def __iadd__(self, arg0: typing.Any) -> Tensor:
        ...
    def __imul__(self, arg0: typing.Any) -> Tensor:
        ...
    def __index__(self) -> builtins.int:
        ...
    @typing.overload
    def __init__(self, data: typing.Any) -> None:
        ...
    @typing.overload
    def __init__(self, data: Tensor, *, _share: builtins.bool) -> None:
        ...
    def __int__(self) -> builtins.int:
        ...
    def __invert__(self) -> Tensor:
        ...
    def __isub__(self, arg0: typing.Any) -> Tensor:
        ...
    def __iter__(self) -> typing.Iterator[Tensor]:
        ...
    def __itruediv__(self, arg0: typing.Any) -> Tensor:
        ...
    def __le__(self, arg0: typing.Any) -> Tensor:
        ...
    def __len__(self) -> builtins.int:
        ...
    def __lt__(self, arg0: typing.Any) -> Tensor:
        ...
    def __matmul__(self, arg0: typing.Any) -> Tensor:
        ...
    def __mod__(self, other: typing.Any) -> Tensor:
        ...
    def __mul__(self, arg0: typing.Any) -> Tensor:
        ...
    def __ne__(self, arg0: typing.Any) -> typing.Any:
        ...
    def __neg__(self) -> Tensor:
        ...
    def __or__(self, arg0: typing.Any) -> Tensor:
        ...
    def __pos__(self) -> Tensor:
        ...
    def __pow__(self, arg0: typing.Any) -> Tensor:
        ...
    def __radd__(self, arg0: typing.Any) -> Tensor:
        ...
    def __rand__(self, arg0: typing.Any) -> Tensor:
        ...
    def __reduce__(self) -> tuple[typing.Any, ...]:
        ...
    def __repr__(self) -> str:
        ...
    def __rfloordiv__(self, other: typing.Any) -> Tensor:
        ...
    def __rmatmul__(self, arg0: typing.Any) -> Tensor:
        ...
    def __rmod__(self, other: typing.Any) -> Tensor:
        ...
    def __rmul__(self, arg0: typing.Any) -> Tensor:
        ...
    def __ror__(self, arg0: typing.Any) -> Tensor:
        ...
    def __rpow__(self, arg0: typing.Any) -> Tensor:
        ...
    def __rsub__(self, arg0: typing.Any) -> Tensor:
        ...
    def __rtruediv__(self, arg0: typing.Any) -> Tensor:
        ...
    def __rxor__(self, arg0: typing.Any) -> Tensor:
        ...
    def __setitem__(self, arg0: typing.Any, arg1: typing.Any) -> None:
        ...
    def __str__(self) -> str:
        ...
    def __sub__(self, arg0: typing.Any) -> Tensor:
        ...
    def __truediv__(self, arg0: typing.Any) -> Tensor:
        ...
    def __xor__(self, arg0: typing.Any) -> Tensor:
        ...
    def _is_same(self, arg0: Tensor) -> builtins.bool:
        ...
    def _register_hook(self, arg0: collections.abc.Callable, arg1: typing.Any) -> None:
        ...
    def abs(self) -> Tensor:
        """
        abs(input) -> Tensor
        
        |input| (int64 stays int64).
        """
    def abs_(self) -> Tensor:
        """
        In-place abs.
        """
    def absolute(self) -> Tensor:
        """
        abs(input) -> Tensor
        
        |input| (int64 stays int64).
        """
    def absolute_(self) -> Tensor:
        """
        In-place abs.
        """
    def acos(self) -> Tensor:
        """
        acos(input) -> Tensor
        
        Arccosine, in [0, pi].
        """
    def acos_(self) -> Tensor:
        """
        acos(input) -> Tensor
        
        Arccosine, in [0, pi].
        """
    def acosh(self) -> Tensor:
        """
        acosh(input) -> Tensor
        
        Inverse hyperbolic cosine.
        """
    def acosh_(self) -> Tensor:
        """
        acosh(input) -> Tensor
        
        Inverse hyperbolic cosine.
        """
    def add(self, other: typing.Any, *, alpha: typing.SupportsFloat | typing.SupportsIndex = 1.0) -> Tensor:
        """
        add(input, other, *, alpha=1) -> Tensor
        
        input + alpha * other, broadcasting.
        """
    def add_(self, other: typing.Any, *, alpha: typing.SupportsFloat | typing.SupportsIndex = 1.0) -> Tensor:
        """
        In-place add.
        """
    def addbmm(self, batch1: Tensor, batch2: Tensor, *, beta: typing.SupportsFloat | typing.SupportsIndex = 1.0, alpha: typing.SupportsFloat | typing.SupportsIndex = 1.0) -> Tensor:
        """
        addbmm(input, batch1, batch2, *, beta=1, alpha=1) -> Tensor
        
        beta * input + alpha * the sum over the batch of batch1 @ batch2.
        """
    def addcdiv_(self, tensor1: Tensor, tensor2: Tensor, *, value: builtins.float = 1) -> Tensor:
        """
        In-place addcdiv.
        """
    def addcmul_(self, tensor1: Tensor, tensor2: Tensor, *, value: builtins.float = 1) -> Tensor:
        """
        In-place addcmul.
        """
    def addmm(self, mat1: Tensor, mat2: Tensor, *, beta: typing.SupportsFloat | typing.SupportsIndex = 1.0, alpha: typing.SupportsFloat | typing.SupportsIndex = 1.0) -> Tensor:
        """
        addmm(input, mat1, mat2, *, beta=1, alpha=1) -> Tensor
        
        beta * input + alpha * (mat1 @ mat2).
        """
    def addmv(self, mat: Tensor, vec: Tensor, *, beta: typing.SupportsFloat | typing.SupportsIndex = 1.0, alpha: typing.SupportsFloat | typing.SupportsIndex = 1.0) -> Tensor:
        """
        addmv(input, mat, vec, *, beta=1, alpha=1) -> Tensor
        
        beta * input + alpha * (mat @ vec).
        """
    @typing.overload
    def all(self, dim: typing.Any = None, keepdim: builtins.bool = False) -> Tensor:
        """
        all(input, dim=None, keepdim=False) -> Tensor
        
        True where every element over dim (an int, a tuple, or None for all) is nonzero; a bool result for any dtype, true over no elements.
        """
    @typing.overload
    def all(self, axis: typing.Any = None, keepdims: builtins.bool = False) -> Tensor:
        """
        all(input, dim=None, keepdim=False) -> Tensor
        
        True where every element over dim (an int, a tuple, or None for all) is nonzero; a bool result for any dtype, true over no elements.
        """
    def allclose(self, other: typing.Any, rtol: builtins.float = 1e-05, atol: builtins.float = 1e-08, equal_nan: builtins.bool = False) -> builtins.bool:
        """
        True when every element is close (see isclose); the shapes must broadcast.
        """
    @typing.overload
    def amax(self, dim: typing.Any = (), keepdim: builtins.bool = False) -> Tensor:
        """
        amax(input, dim=(), keepdim=False) -> Tensor
        
        Largest values over dims; ties share the gradient.
        """
    @typing.overload
    def amax(self, axis: typing.Any = (), keepdims: builtins.bool = False) -> Tensor:
        """
        amax(input, dim=(), keepdim=False) -> Tensor
        
        Largest values over dims; ties share the gradient.
        """
    @typing.overload
    def amin(self, dim: typing.Any = (), keepdim: builtins.bool = False) -> Tensor:
        """
        amin(input, dim=(), keepdim=False) -> Tensor
        
        Smallest values over dims; ties share the gradient.
        """
    @typing.overload
    def amin(self, axis: typing.Any = (), keepdims: builtins.bool = False) -> Tensor:
        """
        amin(input, dim=(), keepdim=False) -> Tensor
        
        Smallest values over dims; ties share the gradient.
        """
    @typing.overload
    def aminmax(self, *, dim: typing.Any = None, keepdim: builtins.bool = False) -> typing.Any:
        """
        aminmax(input, *, dim=None, keepdim=False) -> (min, max)
        
        amin and amax in one call, as a named tuple; ties share the gradient.
        """
    @typing.overload
    def aminmax(self, *, axis: typing.Any = None, keepdims: builtins.bool = False) -> typing.Any:
        """
        aminmax(input, *, dim=None, keepdim=False) -> (min, max)
        
        amin and amax in one call, as a named tuple; ties share the gradient.
        """
    @typing.overload
    def any(self, dim: typing.Any = None, keepdim: builtins.bool = False) -> Tensor:
        """
        any(input, dim=None, keepdim=False) -> Tensor
        
        True where some element over dim (an int, a tuple, or None for all) is nonzero; a bool result for any dtype, false over no elements.
        """
    @typing.overload
    def any(self, axis: typing.Any = None, keepdims: builtins.bool = False) -> Tensor:
        """
        any(input, dim=None, keepdim=False) -> Tensor
        
        True where some element over dim (an int, a tuple, or None for all) is nonzero; a bool result for any dtype, false over no elements.
        """
    @typing.overload
    def argmax(self, dim: typing.Any = None, keepdim: builtins.bool = False) -> Tensor:
        """
        argmax(input, dim=None, keepdim=False) -> Tensor
        
        Index of the first largest value (of the flattened input when dim is None).
        """
    @typing.overload
    def argmax(self, axis: typing.Any = None, keepdims: builtins.bool = False) -> Tensor:
        """
        argmax(input, dim=None, keepdim=False) -> Tensor
        
        Index of the first largest value (of the flattened input when dim is None).
        """
    @typing.overload
    def argmin(self, dim: typing.Any = None, keepdim: builtins.bool = False) -> Tensor:
        """
        argmin(input, dim=None, keepdim=False) -> Tensor
        
        Index of the first smallest value.
        """
    @typing.overload
    def argmin(self, axis: typing.Any = None, keepdims: builtins.bool = False) -> Tensor:
        """
        argmin(input, dim=None, keepdim=False) -> Tensor
        
        Index of the first smallest value.
        """
    @typing.overload
    def argsort(self, dim: typing.SupportsInt | typing.SupportsIndex = -1, descending: builtins.bool = False, *, stable: typing.Any = False) -> Tensor:
        """
        argsort(input, dim=-1, descending=False, *, stable=False) -> Tensor
        
        The indices of sort(input, dim, descending) (always stable).
        """
    @typing.overload
    def argsort(self, axis: typing.SupportsInt | typing.SupportsIndex = -1, descending: builtins.bool = False, *, stable: typing.Any = False) -> Tensor:
        """
        argsort(input, dim=-1, descending=False, *, stable=False) -> Tensor
        
        The indices of sort(input, dim, descending) (always stable).
        """
    def argwhere(self) -> Tensor:
        """
        argwhere(input) -> Tensor
        
        Indices of the non-zero entries, shape [count, ndim].
        """
    def as_subclass(self, cls: builtins.type) -> typing.Any:
        """
        ``self`` as an instance of ``cls``, a subclass of Tensor, without calling ``cls.__init__``:
            a differentiable alias of ``self`` (the same memory, so in-place changes of one show in the
            other; gradients flow back to ``self``), as ``torch.Tensor.as_subclass``.
        """
    def asin(self) -> Tensor:
        """
        asin(input) -> Tensor
        
        Arcsine, in [-pi/2, pi/2].
        """
    def asin_(self) -> Tensor:
        """
        asin(input) -> Tensor
        
        Arcsine, in [-pi/2, pi/2].
        """
    def asinh(self) -> Tensor:
        """
        asinh(input) -> Tensor
        
        Inverse hyperbolic sine.
        """
    def asinh_(self) -> Tensor:
        """
        asinh(input) -> Tensor
        
        Inverse hyperbolic sine.
        """
    def atan(self) -> Tensor:
        """
        atan(input) -> Tensor
        
        Arctangent, in (-pi/2, pi/2).
        """
    def atan2(self, other: typing.Any) -> Tensor:
        """
        atan2(input, other) -> Tensor
        
        The angle of the point (other, input), in (-pi, pi], elementwise.
        """
    def atan2_(self, other: typing.Any) -> Tensor:
        """
        atan2(input, other) -> Tensor
        
        The angle of the point (other, input), in (-pi, pi], elementwise.
        """
    def atan_(self) -> Tensor:
        """
        atan(input) -> Tensor
        
        Arctangent, in (-pi/2, pi/2).
        """
    def atanh(self) -> Tensor:
        """
        atanh(input) -> Tensor
        
        Inverse hyperbolic tangent.
        """
    def atanh_(self) -> Tensor:
        """
        atanh(input) -> Tensor
        
        Inverse hyperbolic tangent.
        """
    def backward(self, gradient: Tensor | None = None, retain_graph: builtins.bool | None = None, create_graph: builtins.bool = False, inputs: Tensor | typing.Sequence[Tensor] | None = None) -> None:
        """
        Computes the gradient of this tensor w.r.t. graph leaves and accumulates it into ``.grad``.
        """
    def baddbmm(self, batch1: Tensor, batch2: Tensor, *, beta: typing.SupportsFloat | typing.SupportsIndex = 1.0, alpha: typing.SupportsFloat | typing.SupportsIndex = 1.0) -> Tensor:
        """
        baddbmm(input, batch1, batch2, *, beta=1, alpha=1) -> Tensor
        
        beta * input + alpha * bmm(batch1, batch2).
        """
    def bernoulli(self, p: typing.Any = None, *, generator: typing.Any = None) -> Tensor:
        """
        bernoulli(input, p=None, *, generator=None) -> Tensor
        
        1 with probability input (elementwise, floating, in [0, 1]), or with probability p when given, else 0; input's dtype.
        """
    def bernoulli_(self, p: typing.Any = 0.5, *, generator: typing.Any = None) -> Tensor:
        """
        bernoulli_(p=0.5, *, generator=None) -> Tensor
        
        In place: each element becomes 1 with probability p (a number, or a tensor broadcast to self), else 0.
        """
    def bfloat16(self) -> Tensor:
        """
        self.bfloat16(): converted to bfloat16 (round to nearest even).
        """
    def bitwise_and(self, other: typing.Any) -> Tensor:
        """
        bitwise_and(input, other) -> Tensor
        
        input & other (bool, int64).
        """
    def bitwise_not(self) -> Tensor:
        """
        bitwise_not(input) -> Tensor
        
        ~input for bool and int64 tensors.
        """
    def bitwise_not_(self) -> Tensor:
        """
        bitwise_not(input) -> Tensor
        
        ~input for bool and int64 tensors.
        """
    def bitwise_or(self, other: typing.Any) -> Tensor:
        """
        bitwise_or(input, other) -> Tensor
        
        input | other (bool, int64).
        """
    def bitwise_xor(self, other: typing.Any) -> Tensor:
        """
        bitwise_xor(input, other) -> Tensor
        
        input ^ other (bool, int64).
        """
    def bmm(self, mat2: Tensor) -> Tensor:
        """
        bmm(input, mat2) -> Tensor
        
        Batched matrix product of two 3-D tensors.
        """
    def bool(self) -> Tensor:
        """
        self.bool(): converted to bool.
        """
    def broadcast_to(self, size: typing.Any) -> Tensor:
        """
        broadcast_to(input, size) -> Tensor
        
        A broadcast view.
        """
    def byte(self) -> Tensor:
        """
        self.byte(): converted to uint8.
        """
    def ceil(self) -> Tensor:
        """
        ceil(input) -> Tensor
        
        Smallest integer >= input; integer tensors are returned as they are.
        """
    def ceil_(self) -> Tensor:
        """
        ceil(input) -> Tensor
        
        Smallest integer >= input; integer tensors are returned as they are.
        """
    def char(self) -> Tensor:
        """
        self.char(): converted to int8.
        """
    @typing.overload
    def chunk(self, chunks: typing.SupportsInt | typing.SupportsIndex, dim: typing.SupportsInt | typing.SupportsIndex = 0) -> tuple:
        """
        chunk(input, chunks, dim=0)
        
        At most `chunks` views of (nearly) equal size along dim.
        """
    @typing.overload
    def chunk(self, chunks: typing.SupportsInt | typing.SupportsIndex, axis: typing.SupportsInt | typing.SupportsIndex = 0) -> tuple:
        """
        chunk(input, chunks, dim=0)
        
        At most `chunks` views of (nearly) equal size along dim.
        """
    def clamp(self, min: typing.Any = None, max: typing.Any = None) -> Tensor:
        """
        clamp(input, min=None, max=None) -> Tensor
        
        Bounds (numbers or tensors) applied elementwise; min > max gives max.
        """
    def clamp_(self, min: typing.Any = None, max: typing.Any = None) -> Tensor:
        """
        In-place clamp (number or tensor bounds).
        """
    def clip(self, min: typing.Any = None, max: typing.Any = None) -> Tensor:
        """
        clamp(input, min=None, max=None) -> Tensor
        
        Bounds (numbers or tensors) applied elementwise; min > max gives max.
        """
    def clip_(self, min: typing.Any = None, max: typing.Any = None) -> Tensor:
        """
        In-place clamp (number or tensor bounds).
        """
    def clone(self) -> Tensor:
        """
        clone(input) -> Tensor
        
        A differentiable copy.
        """
    def contiguous(self) -> Tensor:
        """
        self.contiguous(): self when already contiguous, else a contiguous copy.
        """
    def copy_(self, src: typing.Any) -> Tensor:
        """
        Copies src (broadcast, converted) into self.
        """
    def copysign(self, other: typing.Any) -> Tensor:
        """
        copysign(input, other) -> Tensor
        
        |input| with the sign of other (floating result).
        """
    def copysign_(self, other: typing.Any) -> Tensor:
        """
        copysign(input, other) -> Tensor
        
        |input| with the sign of other (floating result).
        """
    def cos(self) -> Tensor:
        """
        cos(input) -> Tensor
        
        Cosine.
        """
    def cos_(self) -> Tensor:
        """
        cos(input) -> Tensor
        
        Cosine.
        """
    def cosh(self) -> Tensor:
        """
        cosh(input) -> Tensor
        
        Hyperbolic cosine.
        """
    def cosh_(self) -> Tensor:
        """
        cosh(input) -> Tensor
        
        Hyperbolic cosine.
        """
    @typing.overload
    def count_nonzero(self, dim: typing.Any = None) -> Tensor:
        """
        count_nonzero(input, dim=None) -> Tensor
        
        Number of nonzero elements over dim (an int, a tuple, or None for all), as int64.
        """
    @typing.overload
    def count_nonzero(self, axis: typing.Any = None) -> Tensor:
        """
        count_nonzero(input, dim=None) -> Tensor
        
        Number of nonzero elements over dim (an int, a tuple, or None for all), as int64.
        """
    def cpu(self, memory_format: typing.Any = None) -> Tensor:
        """
        self (it already is on the CPU).
        """
    def cuda(self, device: typing.Any = None, non_blocking: builtins.bool = False, memory_format: typing.Any = None) -> Tensor:
        ...
    @typing.overload
    def cummax(self, dim: typing.SupportsInt | typing.SupportsIndex) -> typing.Any:
        """
        cummax(input, dim) -> (values, indices)
        
        Running maximum along dim and where it was found (the last of equal values); NaN propagates.
        """
    @typing.overload
    def cummax(self, axis: typing.SupportsInt | typing.SupportsIndex) -> typing.Any:
        """
        cummax(input, dim) -> (values, indices)
        
        Running maximum along dim and where it was found (the last of equal values); NaN propagates.
        """
    @typing.overload
    def cummin(self, dim: typing.SupportsInt | typing.SupportsIndex) -> typing.Any:
        """
        cummin(input, dim) -> (values, indices)
        
        Running minimum along dim and where it was found (the last of equal values); NaN propagates.
        """
    @typing.overload
    def cummin(self, axis: typing.SupportsInt | typing.SupportsIndex) -> typing.Any:
        """
        cummin(input, dim) -> (values, indices)
        
        Running minimum along dim and where it was found (the last of equal values); NaN propagates.
        """
    @typing.overload
    def cumprod(self, dim: typing.SupportsInt | typing.SupportsIndex, *, dtype: typing.Any = None) -> Tensor:
        """
        cumprod(input, dim, *, dtype=None) -> Tensor
        
        Cumulative product along dim (same dtype rules as cumsum); its gradient is exact with zeros in the input.
        """
    @typing.overload
    def cumprod(self, axis: typing.SupportsInt | typing.SupportsIndex, *, dtype: typing.Any = None) -> Tensor:
        """
        cumprod(input, dim, *, dtype=None) -> Tensor
        
        Cumulative product along dim (same dtype rules as cumsum); its gradient is exact with zeros in the input.
        """
    @typing.overload
    def cumprod_(self, dim: typing.SupportsInt | typing.SupportsIndex, *, dtype: typing.Any = None) -> Tensor:
        """
        cumprod_(dim, *, dtype=None) -> Tensor
        
        In-place cumprod.
        """
    @typing.overload
    def cumprod_(self, axis: typing.SupportsInt | typing.SupportsIndex, *, dtype: typing.Any = None) -> Tensor:
        """
        cumprod_(dim, *, dtype=None) -> Tensor
        
        In-place cumprod.
        """
    @typing.overload
    def cumsum(self, dim: typing.SupportsInt | typing.SupportsIndex, *, dtype: typing.Any = None) -> Tensor:
        """
        cumsum(input, dim, *, dtype=None) -> Tensor
        
        Cumulative sum along dim; integer and bool inputs give int64, dtype= converts first.
        """
    @typing.overload
    def cumsum(self, axis: typing.SupportsInt | typing.SupportsIndex, *, dtype: typing.Any = None) -> Tensor:
        """
        cumsum(input, dim, *, dtype=None) -> Tensor
        
        Cumulative sum along dim; integer and bool inputs give int64, dtype= converts first.
        """
    @typing.overload
    def cumsum_(self, dim: typing.SupportsInt | typing.SupportsIndex, *, dtype: typing.Any = None) -> Tensor:
        """
        cumsum_(dim, *, dtype=None) -> Tensor
        
        In-place cumsum.
        """
    @typing.overload
    def cumsum_(self, axis: typing.SupportsInt | typing.SupportsIndex, *, dtype: typing.Any = None) -> Tensor:
        """
        cumsum_(dim, *, dtype=None) -> Tensor
        
        In-place cumsum.
        """
    def data_ptr(self) -> builtins.int:
        ...
    def detach(self) -> Tensor:
        """
        detach(input) -> Tensor
        
        A new tensor sharing the data, without history.
        """
    def detach_(self) -> Tensor:
        """
        Removes self's history in place.
        """
    def diag(self, diagonal: typing.SupportsInt | typing.SupportsIndex = 0) -> Tensor:
        """
        diag(input, diagonal=0) -> Tensor
        
        1-D input: the square matrix with it on the given diagonal; 2-D input: that diagonal.
        """
    def diag_embed(self, offset: typing.SupportsInt | typing.SupportsIndex = 0, dim1: typing.SupportsInt | typing.SupportsIndex = -2, dim2: typing.SupportsInt | typing.SupportsIndex = -1) -> Tensor:
        """
        diag_embed(input, offset=0, dim1=-2, dim2=-1) -> Tensor
        
        Matrices whose diagonal `offset` holds input's last dim (zeros elsewhere).
        """
    def diagonal(self, offset: typing.SupportsInt | typing.SupportsIndex = 0, dim1: typing.SupportsInt | typing.SupportsIndex = 0, dim2: typing.SupportsInt | typing.SupportsIndex = 1) -> Tensor:
        """
        diagonal(input, offset=0, dim1=0, dim2=1) -> Tensor
        
        View of a diagonal of the matrices in dims (dim1, dim2), as the last dim; offset > 0 is above the main diagonal.
        """
    def dim(self) -> builtins.int:
        ...
    def dist(self, other: Tensor, p: typing.SupportsFloat | typing.SupportsIndex = 2.0) -> Tensor:
        """
        dist(input, other, p=2) -> Tensor
        
        The p-norm of input - other (broadcast; floating inputs).
        """
    def div(self, other: typing.Any) -> Tensor:
        """
        div(input, other) -> Tensor
        
        True division (integers give float32), broadcasting.
        """
    def div_(self, other: typing.Any) -> Tensor:
        """
        In-place div.
        """
    def divide(self, other: typing.Any) -> Tensor:
        """
        div(input, other) -> Tensor
        
        True division (integers give float32), broadcasting.
        """
    def divide_(self, other: typing.Any) -> Tensor:
        """
        In-place div.
        """
    def dot(self, tensor: Tensor) -> Tensor:
        """
        dot(input, tensor) -> Tensor
        
        Inner product of two 1-D tensors.
        """
    def double(self) -> Tensor:
        """
        self.double(): converted to float64.
        """
    def element_size(self) -> builtins.int:
        ...
    def eq(self, other: typing.Any) -> Tensor:
        """
        eq(input, other) -> Tensor
        
        input == other, as bool.
        """
    def equal(self, other: Tensor) -> builtins.bool:
        """
        True when both have the same shape and the same values (NaN is never equal).
        """
    def erf(self) -> Tensor:
        """
        erf(input) -> Tensor
        
        Gauss error function.
        """
    def erf_(self) -> Tensor:
        """
        erf(input) -> Tensor
        
        Gauss error function.
        """
    def erfc(self) -> Tensor:
        """
        erfc(input) -> Tensor
        
        1 - erf(input), accurate in the tails.
        """
    def erfc_(self) -> Tensor:
        """
        erfc(input) -> Tensor
        
        1 - erf(input), accurate in the tails.
        """
    def erfinv(self) -> Tensor:
        """
        erfinv(input) -> Tensor
        
        Inverse error function: erf(erfinv(y)) = y on (-1, 1); +-inf at +-1.
        """
    def erfinv_(self) -> Tensor:
        """
        erfinv(input) -> Tensor
        
        Inverse error function: erf(erfinv(y)) = y on (-1, 1); +-inf at +-1.
        """
    def exp(self) -> Tensor:
        """
        exp(input) -> Tensor
        
        e ** input.
        """
    def exp2(self) -> Tensor:
        """
        exp2(input) -> Tensor
        
        2 ** input.
        """
    def exp2_(self) -> Tensor:
        """
        exp2(input) -> Tensor
        
        2 ** input.
        """
    def exp_(self) -> Tensor:
        """
        exp(input) -> Tensor
        
        e ** input.
        """
    def expand(self, *args: typing.Any) -> Tensor:
        """
        self.expand(*sizes) -> Tensor
        
        A broadcast view; -1 keeps a size.
        """
    def expand_as(self, other: Tensor) -> Tensor:
        """
        self.expand_as(other): self broadcast to other's shape.
        """
    def expm1(self) -> Tensor:
        """
        expm1(input) -> Tensor
        
        exp(input) - 1, accurate for small input.
        """
    def expm1_(self) -> Tensor:
        """
        expm1(input) -> Tensor
        
        exp(input) - 1, accurate for small input.
        """
    def fill_(self, value: typing.Any) -> Tensor:
        """
        Fills self with a number (or a 0-dim tensor's value).
        """
    def fix(self) -> Tensor:
        """
        fix(input) -> Tensor
        
        Alias of trunc.
        """
    def fix_(self) -> Tensor:
        """
        fix(input) -> Tensor
        
        Alias of trunc.
        """
    def flatten(self, start_dim: typing.SupportsInt | typing.SupportsIndex = 0, end_dim: typing.SupportsInt | typing.SupportsIndex = -1) -> Tensor:
        """
        flatten(input, start_dim=0, end_dim=-1) -> Tensor
        
        Merges dims start_dim..end_dim.
        """
    def flip(self, *args: typing.Any) -> Tensor:
        """
        self.flip(*dims)
        """
    def float(self) -> Tensor:
        """
        self.float(): converted to float32.
        """
    def floor(self) -> Tensor:
        """
        floor(input) -> Tensor
        
        Largest integer <= input; integer tensors are returned as they are.
        """
    def floor_(self) -> Tensor:
        """
        floor(input) -> Tensor
        
        Largest integer <= input; integer tensors are returned as they are.
        """
    def fmod(self, other: typing.Any) -> Tensor:
        """
        fmod(input, other) -> Tensor
        
        C's fmod: the result has the dividend's sign.
        """
    def fmod_(self, other: typing.Any) -> Tensor:
        """
        fmod(input, other) -> Tensor
        
        C's fmod: the result has the dividend's sign.
        """
    def frac(self) -> Tensor:
        """
        frac(input) -> Tensor
        
        input - trunc(input).
        """
    def frac_(self) -> Tensor:
        """
        frac(input) -> Tensor
        
        input - trunc(input).
        """
    @typing.overload
    def gather(self, dim: typing.SupportsInt | typing.SupportsIndex, index: typing.Any) -> Tensor:
        """
        gather(input, dim, index) -> Tensor
        
        out[i][j] = input[index[i][j]][j] (for dim 0), and so on.
        """
    @typing.overload
    def gather(self, axis: typing.SupportsInt | typing.SupportsIndex, index: typing.Any) -> Tensor:
        """
        gather(input, dim, index) -> Tensor
        
        out[i][j] = input[index[i][j]][j] (for dim 0), and so on.
        """
    def ge(self, other: typing.Any) -> Tensor:
        """
        ge(input, other) -> Tensor
        
        input >= other, as bool.
        """
    def ger(self, vec2: Tensor) -> Tensor:
        """
        outer(input, vec2) -> Tensor
        
        Outer product of two 1-D tensors.
        """
    def get_device(self) -> builtins.int:
        """
        -1: the tensor is in CPU memory (PyTorch's convention).
        """
    def greater(self, other: typing.Any) -> Tensor:
        """
        gt(input, other) -> Tensor
        
        input > other, as bool.
        """
    def greater_equal(self, other: typing.Any) -> Tensor:
        """
        ge(input, other) -> Tensor
        
        input >= other, as bool.
        """
    def gt(self, other: typing.Any) -> Tensor:
        """
        gt(input, other) -> Tensor
        
        input > other, as bool.
        """
    def half(self) -> Tensor:
        """
        self.half(): converted to float16 (round to nearest even).
        """
    def hypot(self, other: typing.Any) -> Tensor:
        """
        hypot(input, other) -> Tensor
        
        sqrt(input**2 + other**2) elementwise, without overflow.
        """
    def hypot_(self, other: typing.Any) -> Tensor:
        """
        hypot(input, other) -> Tensor
        
        sqrt(input**2 + other**2) elementwise, without overflow.
        """
    @typing.overload
    def index_add(self, dim: typing.SupportsInt | typing.SupportsIndex, index: typing.Any, source: Tensor, *, alpha: typing.SupportsFloat | typing.SupportsIndex = 1.0) -> Tensor:
        """
        index_add(input, dim, index, source, *, alpha=1) -> Tensor
        
        input with alpha * source added at the entries index names along dim (duplicates accumulate).
        """
    @typing.overload
    def index_add(self, axis: typing.SupportsInt | typing.SupportsIndex, index: typing.Any, source: Tensor, *, alpha: typing.SupportsFloat | typing.SupportsIndex = 1.0) -> Tensor:
        """
        index_add(input, dim, index, source, *, alpha=1) -> Tensor
        
        input with alpha * source added at the entries index names along dim (duplicates accumulate).
        """
    @typing.overload
    def index_add_(self, dim: typing.SupportsInt | typing.SupportsIndex, index: typing.Any, source: Tensor, *, alpha: typing.SupportsFloat | typing.SupportsIndex = 1.0) -> Tensor:
        """
        In-place index_add.
        """
    @typing.overload
    def index_add_(self, axis: typing.SupportsInt | typing.SupportsIndex, index: typing.Any, source: Tensor, *, alpha: typing.SupportsFloat | typing.SupportsIndex = 1.0) -> Tensor:
        """
        In-place index_add.
        """
    @typing.overload
    def index_copy(self, dim: typing.SupportsInt | typing.SupportsIndex, index: typing.Any, source: Tensor) -> Tensor:
        """
        index_copy(input, dim, index, source) -> Tensor
        
        input with source's slices copied to the entries index names along dim.
        """
    @typing.overload
    def index_copy(self, axis: typing.SupportsInt | typing.SupportsIndex, index: typing.Any, source: Tensor) -> Tensor:
        """
        index_copy(input, dim, index, source) -> Tensor
        
        input with source's slices copied to the entries index names along dim.
        """
    @typing.overload
    def index_copy_(self, dim: typing.SupportsInt | typing.SupportsIndex, index: typing.Any, source: Tensor) -> Tensor:
        """
        In-place index_copy.
        """
    @typing.overload
    def index_copy_(self, axis: typing.SupportsInt | typing.SupportsIndex, index: typing.Any, source: Tensor) -> Tensor:
        """
        In-place index_copy.
        """
    @typing.overload
    def index_fill(self, dim: typing.SupportsInt | typing.SupportsIndex, index: typing.Any, value: typing.Any) -> Tensor:
        """
        index_fill(input, dim, index, value) -> Tensor
        
        input with value at the entries index names along dim.
        """
    @typing.overload
    def index_fill(self, axis: typing.SupportsInt | typing.SupportsIndex, index: typing.Any, value: typing.Any) -> Tensor:
        """
        index_fill(input, dim, index, value) -> Tensor
        
        input with value at the entries index names along dim.
        """
    @typing.overload
    def index_fill_(self, dim: typing.SupportsInt | typing.SupportsIndex, index: typing.Any, value: typing.Any) -> Tensor:
        """
        In-place index_fill.
        """
    @typing.overload
    def index_fill_(self, axis: typing.SupportsInt | typing.SupportsIndex, index: typing.Any, value: typing.Any) -> Tensor:
        """
        In-place index_fill.
        """
    def index_put(self, indices: typing.Any, values: Tensor, accumulate: builtins.bool = False) -> Tensor:
        """
        index_put(input, indices, values, accumulate=False) -> Tensor
        
        A copy of input with input[indices] = values (indices: a tuple of long or bool tensors, values broadcast to the indexed shape, in input's dtype); with accumulate, the values are added instead and repeated indices add up. Differentiable in input (zero gradient at the written entries unless accumulate) and values (the gradient of the entries each one was written to, summed).
        """
    def index_put_(self, indices: typing.Any, values: Tensor, accumulate: builtins.bool = False) -> Tensor:
        """
        In-place index_put: self[indices] = values (or += with accumulate).
        """
    @typing.overload
    def index_select(self, dim: typing.SupportsInt | typing.SupportsIndex, index: typing.Any) -> Tensor:
        """
        index_select(input, dim, index) -> Tensor
        
        The entries of input at `index` (a vector) along dim.
        """
    @typing.overload
    def index_select(self, axis: typing.SupportsInt | typing.SupportsIndex, index: typing.Any) -> Tensor:
        """
        index_select(input, dim, index) -> Tensor
        
        The entries of input at `index` (a vector) along dim.
        """
    def int(self) -> Tensor:
        """
        self.int(): converted to int32.
        """
    def is_contiguous(self) -> builtins.bool:
        ...
    def is_floating_point(self) -> builtins.bool:
        ...
    def is_nonzero(self) -> builtins.bool:
        """
        The truth value of a one-element tensor (RuntimeError for any other size, as PyTorch).
        """
    def isclose(self, other: typing.Any, rtol: builtins.float = 1e-05, atol: builtins.float = 1e-08, equal_nan: builtins.bool = False) -> Tensor:
        """
        |input - other| <= atol + rtol * |other| elementwise, as bool; infinities are close only to
            themselves, NaNs only with ``equal_nan``.
        """
    def isfinite(self) -> Tensor:
        """
        isfinite(input) -> Tensor
        
        Where input is neither NaN nor +-inf.
        """
    def isinf(self) -> Tensor:
        """
        isinf(input) -> Tensor
        
        Where input is +-inf, as bool.
        """
    def isnan(self) -> Tensor:
        """
        isnan(input) -> Tensor
        
        Where input is NaN, as bool.
        """
    def isneginf(self) -> Tensor:
        """
        isneginf(input) -> Tensor
        
        Where input is -inf, as bool.
        """
    def isposinf(self) -> Tensor:
        """
        isposinf(input) -> Tensor
        
        Where input is +inf, as bool.
        """
    def item(self) -> typing.Any:
        ...
    @typing.overload
    def kthvalue(self, k: typing.Any, dim: typing.SupportsInt | typing.SupportsIndex = -1, keepdim: builtins.bool = False) -> typing.Any:
        """
        kthvalue(input, k, dim=-1, keepdim=False) -> (values, indices)
        
        The k-th smallest value along dim (k from 1) and its index in the stable sort.
        """
    @typing.overload
    def kthvalue(self, k: typing.Any, axis: typing.SupportsInt | typing.SupportsIndex = -1, keepdims: builtins.bool = False) -> typing.Any:
        """
        kthvalue(input, k, dim=-1, keepdim=False) -> (values, indices)
        
        The k-th smallest value along dim (k from 1) and its index in the stable sort.
        """
    def le(self, other: typing.Any) -> Tensor:
        """
        le(input, other) -> Tensor
        
        input <= other, as bool.
        """
    def lerp(self, end: Tensor, weight: typing.Any) -> Tensor:
        """
        lerp(input, end, weight) -> Tensor
        
        input + weight * (end - input); weight a number or a tensor, all of one floating dtype.
        """
    def lerp_(self, end: Tensor, weight: typing.Any) -> Tensor:
        """
        In-place lerp.
        """
    def less(self, other: typing.Any) -> Tensor:
        """
        lt(input, other) -> Tensor
        
        input < other, as bool.
        """
    def less_equal(self, other: typing.Any) -> Tensor:
        """
        le(input, other) -> Tensor
        
        input <= other, as bool.
        """
    def log(self) -> Tensor:
        """
        log(input) -> Tensor
        
        Natural logarithm.
        """
    def log10(self) -> Tensor:
        """
        log10(input) -> Tensor
        
        Base-10 logarithm.
        """
    def log10_(self) -> Tensor:
        """
        log10(input) -> Tensor
        
        Base-10 logarithm.
        """
    def log1p(self) -> Tensor:
        """
        log1p(input) -> Tensor
        
        log(1 + input), accurate for small input.
        """
    def log1p_(self) -> Tensor:
        """
        log1p(input) -> Tensor
        
        log(1 + input), accurate for small input.
        """
    def log2(self) -> Tensor:
        """
        log2(input) -> Tensor
        
        Base-2 logarithm.
        """
    def log2_(self) -> Tensor:
        """
        log2(input) -> Tensor
        
        Base-2 logarithm.
        """
    def log_(self) -> Tensor:
        """
        log(input) -> Tensor
        
        Natural logarithm.
        """
    @typing.overload
    def log_softmax(self, dim: typing.SupportsInt | typing.SupportsIndex, dtype: typing.Any = None) -> Tensor:
        """
        log_softmax(input, dim, dtype=None) -> Tensor
        
        log(softmax(input, dim)), computed stably.
        """
    @typing.overload
    def log_softmax(self, axis: typing.SupportsInt | typing.SupportsIndex, dtype: typing.Any = None) -> Tensor:
        """
        log_softmax(input, dim, dtype=None) -> Tensor
        
        log(softmax(input, dim)), computed stably.
        """
    def logaddexp(self, other: typing.Any) -> Tensor:
        """
        logaddexp(input, other) -> Tensor
        
        log(exp(input) + exp(other)), computed stably.
        """
    def logaddexp2(self, other: typing.Any) -> Tensor:
        """
        logaddexp2(input, other) -> Tensor
        
        log2(2**input + 2**other), computed stably.
        """
    @typing.overload
    def logcumsumexp(self, dim: typing.SupportsInt | typing.SupportsIndex) -> Tensor:
        """
        logcumsumexp(input, dim) -> Tensor
        
        log(cumsum(exp(input))) along dim, computed stably (floating inputs).
        """
    @typing.overload
    def logcumsumexp(self, axis: typing.SupportsInt | typing.SupportsIndex) -> Tensor:
        """
        logcumsumexp(input, dim) -> Tensor
        
        log(cumsum(exp(input))) along dim, computed stably (floating inputs).
        """
    def logical_and(self, other: typing.Any) -> Tensor:
        """
        logical_and(input, other) -> Tensor
        
        Elementwise and, as bool.
        """
    def logical_not(self) -> Tensor:
        """
        logical_not(input) -> Tensor
        
        Elementwise not, as bool.
        """
    def logical_not_(self) -> Tensor:
        """
        logical_not(input) -> Tensor
        
        Elementwise not, as bool.
        """
    def logical_or(self, other: typing.Any) -> Tensor:
        """
        logical_or(input, other) -> Tensor
        
        Elementwise or, as bool.
        """
    def logical_xor(self, other: typing.Any) -> Tensor:
        """
        logical_xor(input, other) -> Tensor
        
        Elementwise xor, as bool.
        """
    @typing.overload
    def logsumexp(self, dim: typing.Any, keepdim: builtins.bool = False) -> Tensor:
        """
        logsumexp(input, dim, keepdim=False) -> Tensor
        
        log(sum(exp(input))), computed stably.
        """
    @typing.overload
    def logsumexp(self, axis: typing.Any, keepdims: builtins.bool = False) -> Tensor:
        """
        logsumexp(input, dim, keepdim=False) -> Tensor
        
        log(sum(exp(input))), computed stably.
        """
    def long(self) -> Tensor:
        """
        self.long(): converted to int64.
        """
    def lt(self, other: typing.Any) -> Tensor:
        """
        lt(input, other) -> Tensor
        
        input < other, as bool.
        """
    def masked_fill(self, mask: typing.Any, value: typing.Any) -> Tensor:
        """
        masked_fill(input, mask, value) -> Tensor
        
        input with value (a number or a 0-d tensor, which then gets the gradient of the filled positions) where mask (bool, broadcast) is True.
        """
    def masked_fill_(self, mask: typing.Any, value: typing.Any) -> Tensor:
        """
        In-place masked_fill.
        """
    def masked_scatter(self, mask: typing.Any, source: Tensor) -> Tensor:
        """
        masked_scatter(input, mask, source) -> Tensor
        
        input with source's entries, in order, where mask is True.
        """
    def masked_scatter_(self, mask: typing.Any, source: Tensor) -> Tensor:
        """
        In-place masked_scatter.
        """
    def masked_select(self, mask: typing.Any) -> Tensor:
        """
        masked_select(input, mask) -> Tensor
        
        The entries where mask (broadcast with input) is True, as 1-D.
        """
    def matmul(self, other: Tensor) -> Tensor:
        """
        matmul(input, other) -> Tensor
        
        Matrix product with NumPy's rules for 1-d and batched operands.
        """
    @typing.overload
    def max(self, dim: typing.Any = None, keepdim: builtins.bool = False) -> typing.Any:
        """
        max(input, dim=None, keepdim=False)
        
        The largest value, or (values, indices) along dim.
        """
    @typing.overload
    def max(self, axis: typing.Any = None, keepdims: builtins.bool = False) -> typing.Any:
        """
        max(input, dim=None, keepdim=False)
        
        The largest value, or (values, indices) along dim.
        """
    def maximum(self, other: typing.Any) -> Tensor:
        """
        maximum(input, other) -> Tensor
        
        Elementwise max; NaN propagates; ties split the gradient.
        """
    @typing.overload
    def mean(self, dim: typing.Any = None, keepdim: builtins.bool = False, *, dtype: typing.Any = None) -> Tensor:
        """
        mean(input, dim=None, keepdim=False, *, dtype=None) -> Tensor
        
        Mean over dim (floating inputs only).
        """
    @typing.overload
    def mean(self, axis: typing.Any = None, keepdims: builtins.bool = False, *, dtype: typing.Any = None) -> Tensor:
        """
        mean(input, dim=None, keepdim=False, *, dtype=None) -> Tensor
        
        Mean over dim (floating inputs only).
        """
    @typing.overload
    def median(self, dim: typing.Any = None, keepdim: builtins.bool = False) -> typing.Any:
        """
        median(input, dim=None, keepdim=False)
        
        The lower median: of all elements (a tensor; ties share the gradient), or (values, indices) along dim. NaN when a NaN is present.
        """
    @typing.overload
    def median(self, axis: typing.Any = None, keepdims: builtins.bool = False) -> typing.Any:
        """
        median(input, dim=None, keepdim=False)
        
        The lower median: of all elements (a tensor; ties share the gradient), or (values, indices) along dim. NaN when a NaN is present.
        """
    @typing.overload
    def min(self, dim: typing.Any = None, keepdim: builtins.bool = False) -> typing.Any:
        """
        min(input, dim=None, keepdim=False)
        
        The smallest value, or (values, indices) along dim.
        """
    @typing.overload
    def min(self, axis: typing.Any = None, keepdims: builtins.bool = False) -> typing.Any:
        """
        min(input, dim=None, keepdim=False)
        
        The smallest value, or (values, indices) along dim.
        """
    def minimum(self, other: typing.Any) -> Tensor:
        """
        minimum(input, other) -> Tensor
        
        Elementwise min; NaN propagates; ties split the gradient.
        """
    def mm(self, mat2: Tensor) -> Tensor:
        """
        mm(input, mat2) -> Tensor
        
        Matrix product of two 2-D tensors.
        """
    @typing.overload
    def mode(self, dim: typing.SupportsInt | typing.SupportsIndex = -1, keepdim: builtins.bool = False) -> typing.Any:
        """
        mode(input, dim=-1, keepdim=False) -> (values, indices)
        
        The most frequent value along dim (the smallest of equally frequent ones) and the index of its last occurrence.
        """
    @typing.overload
    def mode(self, axis: typing.SupportsInt | typing.SupportsIndex = -1, keepdims: builtins.bool = False) -> typing.Any:
        """
        mode(input, dim=-1, keepdim=False) -> (values, indices)
        
        The most frequent value along dim (the smallest of equally frequent ones) and the index of its last occurrence.
        """
    def moveaxis(self, source: typing.Any, destination: typing.Any) -> Tensor:
        """
        movedim(input, source, destination) -> Tensor
        
        A view with dims moved.
        """
    def movedim(self, source: typing.Any, destination: typing.Any) -> Tensor:
        """
        movedim(input, source, destination) -> Tensor
        
        A view with dims moved.
        """
    def msort(self) -> Tensor:
        """
        msort(input) -> Tensor
        
        sort(input, dim=0).values.
        """
    def mul(self, other: typing.Any) -> Tensor:
        """
        mul(input, other) -> Tensor
        
        Elementwise product, broadcasting.
        """
    def mul_(self, other: typing.Any) -> Tensor:
        """
        In-place mul.
        """
    def multinomial(self, num_samples: typing.Any, replacement: builtins.bool = False, *, generator: typing.Any = None) -> Tensor:
        """
        multinomial(input, num_samples, replacement=False, *, generator=None) -> Tensor
        
        num_samples category indices per row of a 1-D or 2-D tensor of non-negative weights; without replacement no category repeats within a row.
        """
    def multiply(self, other: typing.Any) -> Tensor:
        """
        mul(input, other) -> Tensor
        
        Elementwise product, broadcasting.
        """
    def multiply_(self, other: typing.Any) -> Tensor:
        """
        In-place mul.
        """
    def mv(self, vec: Tensor) -> Tensor:
        """
        mv(input, vec) -> Tensor
        
        Matrix-vector product.
        """
    def nan_to_num(self, nan: typing.SupportsFloat | typing.SupportsIndex | None = 0.0, posinf: typing.SupportsFloat | typing.SupportsIndex | None = None, neginf: typing.SupportsFloat | typing.SupportsIndex | None = None) -> Tensor:
        """
        nan_to_num(input, nan=0.0, posinf=None, neginf=None) -> Tensor
        
        Replaces NaN, +inf and -inf (by default with 0, the dtype's largest and its lowest finite value).
        """
    def nan_to_num_(self, nan: typing.SupportsFloat | typing.SupportsIndex | None = 0.0, posinf: typing.SupportsFloat | typing.SupportsIndex | None = None, neginf: typing.SupportsFloat | typing.SupportsIndex | None = None) -> Tensor:
        """
        In-place nan_to_num.
        """
    @typing.overload
    def nanmean(self, dim: typing.Any = None, keepdim: builtins.bool = False, *, dtype: typing.Any = None) -> Tensor:
        """
        nanmean(input, dim=None, keepdim=False, *, dtype=None) -> Tensor
        
        Mean over dim of the non-NaN entries (NaN where there are none); floating inputs only.
        """
    @typing.overload
    def nanmean(self, axis: typing.Any = None, keepdims: builtins.bool = False, *, dtype: typing.Any = None) -> Tensor:
        """
        nanmean(input, dim=None, keepdim=False, *, dtype=None) -> Tensor
        
        Mean over dim of the non-NaN entries (NaN where there are none); floating inputs only.
        """
    @typing.overload
    def nanmedian(self, dim: typing.Any = None, keepdim: builtins.bool = False) -> typing.Any:
        """
        nanmedian(input, dim=None, keepdim=False)
        
        median ignoring NaN (NaN only where every value is NaN).
        """
    @typing.overload
    def nanmedian(self, axis: typing.Any = None, keepdims: builtins.bool = False) -> typing.Any:
        """
        nanmedian(input, dim=None, keepdim=False)
        
        median ignoring NaN (NaN only where every value is NaN).
        """
    @typing.overload
    def nanquantile(self, q: typing.Any, dim: typing.Any = None, keepdim: builtins.bool = False, *, interpolation: str = 'linear') -> Tensor:
        """
        nanquantile(input, q, dim=None, keepdim=False, *, interpolation='linear') -> Tensor
        
        quantile ignoring NaN (NaN only where every value is NaN).
        """
    @typing.overload
    def nanquantile(self, q: typing.Any, axis: typing.Any = None, keepdims: builtins.bool = False, *, interpolation: str = 'linear') -> Tensor:
        """
        nanquantile(input, q, dim=None, keepdim=False, *, interpolation='linear') -> Tensor
        
        quantile ignoring NaN (NaN only where every value is NaN).
        """
    @typing.overload
    def nansum(self, dim: typing.Any = None, keepdim: builtins.bool = False, *, dtype: typing.Any = None) -> Tensor:
        """
        nansum(input, dim=None, keepdim=False, *, dtype=None) -> Tensor
        
        Sum over dim treating NaN as zero (NaN entries get no gradient).
        """
    @typing.overload
    def nansum(self, axis: typing.Any = None, keepdims: builtins.bool = False, *, dtype: typing.Any = None) -> Tensor:
        """
        nansum(input, dim=None, keepdim=False, *, dtype=None) -> Tensor
        
        Sum over dim treating NaN as zero (NaN entries get no gradient).
        """
    @typing.overload
    def narrow(self, dim: typing.SupportsInt | typing.SupportsIndex, start: typing.SupportsInt | typing.SupportsIndex, length: typing.SupportsInt | typing.SupportsIndex) -> Tensor:
        """
        narrow(input, dim, start, length) -> Tensor
        
        A view of length entries from start along dim.
        """
    @typing.overload
    def narrow(self, axis: typing.SupportsInt | typing.SupportsIndex, start: typing.SupportsInt | typing.SupportsIndex, length: typing.SupportsInt | typing.SupportsIndex) -> Tensor:
        """
        narrow(input, dim, start, length) -> Tensor
        
        A view of length entries from start along dim.
        """
    def ne(self, other: typing.Any) -> Tensor:
        """
        ne(input, other) -> Tensor
        
        input != other, as bool.
        """
    def neg(self) -> Tensor:
        """
        neg(input) -> Tensor
        
        -input.
        """
    def neg_(self) -> Tensor:
        """
        In-place neg.
        """
    def negative(self) -> Tensor:
        """
        neg(input) -> Tensor
        
        -input.
        """
    def negative_(self) -> Tensor:
        """
        In-place neg.
        """
    def nelement(self) -> builtins.int:
        ...
    def new_empty(self, *args: typing.Any, size: typing.Any = None, dtype: typing.Any = None, requires_grad: builtins.bool = False, device: typing.Any = None) -> Tensor:
        ...
    def new_full(self, size: typing.Any, fill_value: typing.Any, *, dtype: typing.Any = None, requires_grad: builtins.bool = False, device: typing.Any = None) -> Tensor:
        ...
    def new_ones(self, *args: typing.Any, size: typing.Any = None, dtype: typing.Any = None, requires_grad: builtins.bool = False, device: typing.Any = None) -> Tensor:
        ...
    def new_tensor(self, data: typing.Any, *, dtype: typing.Any = None, requires_grad: builtins.bool = False, device: typing.Any = None) -> Tensor:
        ...
    def new_zeros(self, *args: typing.Any, size: typing.Any = None, dtype: typing.Any = None, requires_grad: builtins.bool = False, device: typing.Any = None) -> Tensor:
        ...
    def nonzero(self, *, as_tuple: builtins.bool = False) -> typing.Any:
        """
        nonzero(input, *, as_tuple=False) -> Tensor
        
        Indices of the non-zero entries: shape [count, ndim], or one 1-D tensor per dim with as_tuple=True.
        """
    @typing.overload
    def norm(self, p: typing.Any = 2, dim: typing.Any = None, keepdim: builtins.bool = False, dtype: typing.Any = None) -> Tensor:
        """
        Vector p-norm over dim.
        """
    @typing.overload
    def norm(self, p: typing.Any = 2, axis: typing.Any = None, keepdims: builtins.bool = False, dtype: typing.Any = None) -> Tensor:
        """
        Vector p-norm over dim.
        """
    def normal_(self, mean: typing.SupportsFloat | typing.SupportsIndex = 0.0, std: typing.SupportsFloat | typing.SupportsIndex = 1.0, *, generator: typing.Any = None) -> Tensor:
        ...
    def not_equal(self, other: typing.Any) -> Tensor:
        """
        ne(input, other) -> Tensor
        
        input != other, as bool.
        """
    def numel(self) -> builtins.int:
        ...
    def numpy(self) -> typing.Any:
        ...
    def outer(self, vec2: Tensor) -> Tensor:
        """
        outer(input, vec2) -> Tensor
        
        Outer product of two 1-D tensors.
        """
    def permute(self, *args: typing.Any) -> Tensor:
        """
        self.permute(*dims)
        """
    def pow(self, exponent: typing.Any) -> Tensor:
        """
        pow(input, exponent) -> Tensor
        
        input ** exponent; either may be a number.
        """
    def pow_(self, exponent: typing.Any) -> Tensor:
        """
        In-place pow.
        """
    @typing.overload
    def prod(self, dim: typing.Any = None, keepdim: builtins.bool = False, *, dtype: typing.Any = None) -> Tensor:
        """
        prod(input, dim=None, keepdim=False, *, dtype=None) -> Tensor
        
        Product over dim.
        """
    @typing.overload
    def prod(self, axis: typing.Any = None, keepdims: builtins.bool = False, *, dtype: typing.Any = None) -> Tensor:
        """
        prod(input, dim=None, keepdim=False, *, dtype=None) -> Tensor
        
        Product over dim.
        """
    @typing.overload
    def quantile(self, q: typing.Any, dim: typing.Any = None, keepdim: builtins.bool = False, *, interpolation: str = 'linear') -> Tensor:
        """
        quantile(input, q, dim=None, keepdim=False, *, interpolation='linear') -> Tensor
        
        The q-quantiles along dim (of all elements when None); q a number or a 0-d/1-D tensor of input's dtype in [0, 1] (1-D adds a leading dim). NaN where a NaN is present.
        """
    @typing.overload
    def quantile(self, q: typing.Any, axis: typing.Any = None, keepdims: builtins.bool = False, *, interpolation: str = 'linear') -> Tensor:
        """
        quantile(input, q, dim=None, keepdim=False, *, interpolation='linear') -> Tensor
        
        The q-quantiles along dim (of all elements when None); q a number or a 0-d/1-D tensor of input's dtype in [0, 1] (1-D adds a leading dim). NaN where a NaN is present.
        """
    def ravel(self) -> Tensor:
        """
        The elements as a 1-D tensor (a view when the layout allows).
        """
    def reciprocal(self) -> Tensor:
        """
        reciprocal(input) -> Tensor
        
        1 / input.
        """
    def reciprocal_(self) -> Tensor:
        """
        reciprocal(input) -> Tensor
        
        1 / input.
        """
    def register_hook(self, hook: typing.Callable[[Tensor], Tensor | None]) -> chainrule._tensor.RemovableHandle:
        """
        Registers ``hook(grad) -> Tensor or None`` to run when this tensor's gradient is computed.
        """
    def register_post_accumulate_grad_hook(self, hook: typing.Any) -> typing.Any:
        """
        Registers hook(tensor) to run after this leaf's .grad has been accumulated during backward
        (PyTorch's Tensor.register_post_accumulate_grad_hook). The hook must return None. Returns a
        handle whose remove() disables the hook.
        """
    def relu(self) -> Tensor:
        """
        relu(input) -> Tensor
        
        max(input, 0).
        """
    def relu_(self) -> Tensor:
        """
        relu(input) -> Tensor
        
        max(input, 0).
        """
    def remainder(self, other: typing.Any) -> Tensor:
        """
        remainder(input, other) -> Tensor
        
        Python's modulo: the result has the divisor's sign.
        """
    def remainder_(self, other: typing.Any) -> Tensor:
        """
        remainder(input, other) -> Tensor
        
        Python's modulo: the result has the divisor's sign.
        """
    def repeat(self, *args: typing.Any) -> Tensor:
        """
        self.repeat(*sizes) -> Tensor
        
        Tiles self along each dim.
        """
    def repeat_interleave(self, repeats: typing.Any, dim: builtins.int | None = None, *, output_size: builtins.int | None = None) -> Tensor:
        """
        Each element repeated ``repeats`` times (an int, or a tensor of one count per element)
            along dim (of the flattened input when dim is None). With only a tensor of counts, the indices
            0, 1, ... each repeated that many times.
        """
    def requires_grad_(self, requires_grad: builtins.bool = True) -> Tensor:
        ...
    def reshape(self, *args: typing.Any) -> Tensor:
        """
        self.reshape(*shape)
        """
    def reshape_as(self, other: Tensor) -> Tensor:
        """
        self.reshape_as(other): reshaped to other's shape.
        """
    def retain_grad(self) -> None:
        ...
    def roll(self, shifts: typing.Any, dims: typing.Any = None) -> Tensor:
        """
        Entries shifted cyclically along dims (the flattened tensor when dims is None).
        """
    def rot90(self, k: builtins.int = 1, dims: typing.Sequence[builtins.int] = (0, 1)) -> Tensor:
        """
        Rotation by 90 degrees k times in the plane of dims (from the first towards the second).
        """
    def round(self, *, decimals: typing.SupportsInt | typing.SupportsIndex = 0) -> Tensor:
        """
        round(input, *, decimals=0) -> Tensor
        
        Rounds half to even, at `decimals` decimal places (negative: to tens, hundreds, ...); integer tensors are returned as they are.
        """
    def round_(self, *, decimals: typing.SupportsInt | typing.SupportsIndex = 0) -> Tensor:
        """
        In-place round.
        """
    def rsqrt(self) -> Tensor:
        """
        rsqrt(input) -> Tensor
        
        1 / sqrt(input).
        """
    def rsqrt_(self) -> Tensor:
        """
        rsqrt(input) -> Tensor
        
        1 / sqrt(input).
        """
    @typing.overload
    def scatter(self, dim: typing.SupportsInt | typing.SupportsIndex, index: typing.Any, src: typing.Any = None, value: typing.Any = None, *, reduce: str | None = None) -> Tensor:
        """
        scatter(input, dim, index, src=None, value=None, *, reduce=None) -> Tensor
        
        out[index[i][j]][j] = src[i][j] (dim 0; src may be a number); reduce='add'/'multiply' combines instead.
        """
    @typing.overload
    def scatter(self, axis: typing.SupportsInt | typing.SupportsIndex, index: typing.Any, src: typing.Any = None, value: typing.Any = None, *, reduce: str | None = None) -> Tensor:
        """
        scatter(input, dim, index, src=None, value=None, *, reduce=None) -> Tensor
        
        out[index[i][j]][j] = src[i][j] (dim 0; src may be a number); reduce='add'/'multiply' combines instead.
        """
    @typing.overload
    def scatter_(self, dim: typing.SupportsInt | typing.SupportsIndex, index: typing.Any, src: typing.Any = None, value: typing.Any = None, *, reduce: str | None = None) -> Tensor:
        """
        In-place scatter.
        """
    @typing.overload
    def scatter_(self, axis: typing.SupportsInt | typing.SupportsIndex, index: typing.Any, src: typing.Any = None, value: typing.Any = None, *, reduce: str | None = None) -> Tensor:
        """
        In-place scatter.
        """
    @typing.overload
    def scatter_add(self, dim: typing.SupportsInt | typing.SupportsIndex, index: typing.Any, src: Tensor) -> Tensor:
        """
        scatter_add(input, dim, index, src) -> Tensor
        
        input with src added at the positions index names along dim (duplicates accumulate).
        """
    @typing.overload
    def scatter_add(self, axis: typing.SupportsInt | typing.SupportsIndex, index: typing.Any, src: Tensor) -> Tensor:
        """
        scatter_add(input, dim, index, src) -> Tensor
        
        input with src added at the positions index names along dim (duplicates accumulate).
        """
    @typing.overload
    def scatter_add_(self, dim: typing.SupportsInt | typing.SupportsIndex, index: typing.Any, src: Tensor) -> Tensor:
        """
        In-place scatter_add.
        """
    @typing.overload
    def scatter_add_(self, axis: typing.SupportsInt | typing.SupportsIndex, index: typing.Any, src: Tensor) -> Tensor:
        """
        In-place scatter_add.
        """
    @typing.overload
    def scatter_reduce(self, dim: typing.SupportsInt | typing.SupportsIndex, index: typing.Any, src: Tensor, reduce: str, *, include_self: builtins.bool = True) -> Tensor:
        """
        scatter_reduce(input, dim, index, src, reduce, *, include_self=True) -> Tensor
        
        Combines src into input at the positions index names: reduce is 'sum', 'prod', 'mean', 'amax' or 'amin'.
        """
    @typing.overload
    def scatter_reduce(self, axis: typing.SupportsInt | typing.SupportsIndex, index: typing.Any, src: Tensor, reduce: str, *, include_self: builtins.bool = True) -> Tensor:
        """
        scatter_reduce(input, dim, index, src, reduce, *, include_self=True) -> Tensor
        
        Combines src into input at the positions index names: reduce is 'sum', 'prod', 'mean', 'amax' or 'amin'.
        """
    @typing.overload
    def scatter_reduce_(self, dim: typing.SupportsInt | typing.SupportsIndex, index: typing.Any, src: Tensor, reduce: str, *, include_self: builtins.bool = True) -> Tensor:
        """
        In-place scatter_reduce.
        """
    @typing.overload
    def scatter_reduce_(self, axis: typing.SupportsInt | typing.SupportsIndex, index: typing.Any, src: Tensor, reduce: str, *, include_self: builtins.bool = True) -> Tensor:
        """
        In-place scatter_reduce.
        """
    @typing.overload
    def select(self, dim: typing.SupportsInt | typing.SupportsIndex, index: typing.SupportsInt | typing.SupportsIndex) -> Tensor:
        """
        select(input, dim, index) -> Tensor
        
        The view input[..., index, ...] along dim.
        """
    @typing.overload
    def select(self, axis: typing.SupportsInt | typing.SupportsIndex, index: typing.SupportsInt | typing.SupportsIndex) -> Tensor:
        """
        select(input, dim, index) -> Tensor
        
        The view input[..., index, ...] along dim.
        """
    def short(self) -> Tensor:
        """
        self.short(): converted to int16.
        """
    def sigmoid(self) -> Tensor:
        """
        sigmoid(input) -> Tensor
        
        1 / (1 + exp(-input)).
        """
    def sigmoid_(self) -> Tensor:
        """
        sigmoid(input) -> Tensor
        
        1 / (1 + exp(-input)).
        """
    def sign(self) -> Tensor:
        """
        sign(input) -> Tensor
        
        -1, 0 or 1 (gradient zero).
        """
    def sign_(self) -> Tensor:
        """
        sign(input) -> Tensor
        
        -1, 0 or 1 (gradient zero).
        """
    def signbit(self) -> Tensor:
        """
        signbit(input) -> Tensor
        
        Where the sign bit is set (-0.0 included).
        """
    def sin(self) -> Tensor:
        """
        sin(input) -> Tensor
        
        Sine.
        """
    def sin_(self) -> Tensor:
        """
        sin(input) -> Tensor
        
        Sine.
        """
    def sinh(self) -> Tensor:
        """
        sinh(input) -> Tensor
        
        Hyperbolic sine.
        """
    def sinh_(self) -> Tensor:
        """
        sinh(input) -> Tensor
        
        Hyperbolic sine.
        """
    def size(self, dim: builtins.int | None = None) -> typing.Any:
        ...
    @typing.overload
    def softmax(self, dim: typing.SupportsInt | typing.SupportsIndex, dtype: typing.Any = None) -> Tensor:
        """
        softmax(input, dim, dtype=None) -> Tensor
        
        exp(input) normalized to sum to 1 along dim.
        """
    @typing.overload
    def softmax(self, axis: typing.SupportsInt | typing.SupportsIndex, dtype: typing.Any = None) -> Tensor:
        """
        softmax(input, dim, dtype=None) -> Tensor
        
        exp(input) normalized to sum to 1 along dim.
        """
    @typing.overload
    def sort(self, dim: typing.SupportsInt | typing.SupportsIndex = -1, descending: builtins.bool = False, *, stable: typing.Any = False) -> typing.Any:
        """
        sort(input, dim=-1, descending=False, *, stable=False) -> (values, indices)
        
        Sorted along dim. Always stable (equal values keep their order, descending too), whatever stable says; NaN sorts as the largest value.
        """
    @typing.overload
    def sort(self, axis: typing.SupportsInt | typing.SupportsIndex = -1, descending: builtins.bool = False, *, stable: typing.Any = False) -> typing.Any:
        """
        sort(input, dim=-1, descending=False, *, stable=False) -> (values, indices)
        
        Sorted along dim. Always stable (equal values keep their order, descending too), whatever stable says; NaN sorts as the largest value.
        """
    @typing.overload
    def split(self, split_size: typing.Any, dim: typing.SupportsInt | typing.SupportsIndex = 0) -> tuple:
        """
        self.split(split_size, dim=0)
        """
    @typing.overload
    def split(self, split_size: typing.Any, axis: typing.SupportsInt | typing.SupportsIndex = 0) -> tuple:
        """
        self.split(split_size, dim=0)
        """
    def sqrt(self) -> Tensor:
        """
        sqrt(input) -> Tensor
        
        Square root.
        """
    def sqrt_(self) -> Tensor:
        """
        sqrt(input) -> Tensor
        
        Square root.
        """
    def square(self) -> Tensor:
        """
        square(input) -> Tensor
        
        input * input.
        """
    def square_(self) -> Tensor:
        """
        square(input) -> Tensor
        
        input * input.
        """
    @typing.overload
    def squeeze(self, dim: typing.Any = None) -> Tensor:
        """
        squeeze(input, dim=None) -> Tensor
        
        Removes size-1 dims (all, or those in dim).
        """
    @typing.overload
    def squeeze(self, axis: typing.Any = None) -> Tensor:
        """
        squeeze(input, dim=None) -> Tensor
        
        Removes size-1 dims (all, or those in dim).
        """
    @typing.overload
    def std(self, dim: typing.Any = None, unbiased: typing.Any = None, keepdim: builtins.bool = False, *, correction: typing.Any = None) -> Tensor:
        """
        std(input, dim=None, unbiased=None, keepdim=False, *, correction=None) -> Tensor
        
        Standard deviation (the square root of var).
        """
    @typing.overload
    def std(self, axis: typing.Any = None, unbiased: typing.Any = None, keepdims: builtins.bool = False, *, correction: typing.Any = None) -> Tensor:
        """
        std(input, dim=None, unbiased=None, keepdim=False, *, correction=None) -> Tensor
        
        Standard deviation (the square root of var).
        """
    def storage_offset(self) -> builtins.int:
        ...
    def stride(self, dim: typing.Any = None) -> typing.Any:
        ...
    def sub(self, other: typing.Any, *, alpha: typing.SupportsFloat | typing.SupportsIndex = 1.0) -> Tensor:
        """
        sub(input, other, *, alpha=1) -> Tensor
        
        input - alpha * other, broadcasting.
        """
    def sub_(self, other: typing.Any, *, alpha: typing.SupportsFloat | typing.SupportsIndex = 1.0) -> Tensor:
        """
        In-place sub.
        """
    def subtract(self, other: typing.Any, *, alpha: typing.SupportsFloat | typing.SupportsIndex = 1.0) -> Tensor:
        """
        sub(input, other, *, alpha=1) -> Tensor
        
        input - alpha * other, broadcasting.
        """
    def subtract_(self, other: typing.Any, *, alpha: typing.SupportsFloat | typing.SupportsIndex = 1.0) -> Tensor:
        """
        In-place sub.
        """
    @typing.overload
    def sum(self, dim: typing.Any = None, keepdim: builtins.bool = False, *, dtype: typing.Any = None) -> Tensor:
        """
        sum(input, dim=None, keepdim=False, *, dtype=None) -> Tensor
        
        Sum over dim (all dims when None); bool and int64 sum to int64.
        """
    @typing.overload
    def sum(self, axis: typing.Any = None, keepdims: builtins.bool = False, *, dtype: typing.Any = None) -> Tensor:
        """
        sum(input, dim=None, keepdim=False, *, dtype=None) -> Tensor
        
        Sum over dim (all dims when None); bool and int64 sum to int64.
        """
    def swapaxes(self, dim0: typing.SupportsInt | typing.SupportsIndex, dim1: typing.SupportsInt | typing.SupportsIndex) -> Tensor:
        """
        transpose(input, dim0, dim1) -> Tensor
        
        A view with two dims swapped.
        """
    def swapdims(self, dim0: typing.SupportsInt | typing.SupportsIndex, dim1: typing.SupportsInt | typing.SupportsIndex) -> Tensor:
        """
        transpose(input, dim0, dim1) -> Tensor
        
        A view with two dims swapped.
        """
    def t(self) -> Tensor:
        """
        t(input) -> Tensor
        
        Transpose of a matrix (vectors and scalars unchanged).
        """
    def take(self, index: typing.Any) -> Tensor:
        """
        take(input, index) -> Tensor
        
        input read as 1-D at index (negative entries count from the end); the result has index's shape.
        """
    @typing.overload
    def take_along_dim(self, indices: typing.Any, dim: typing.SupportsInt | typing.SupportsIndex | None = None) -> Tensor:
        """
        take_along_dim(input, indices, dim=None) -> Tensor
        
        Values at indices along dim (the other dims broadcast); of the flattened input when dim is None.
        """
    @typing.overload
    def take_along_dim(self, indices: typing.Any, axis: typing.SupportsInt | typing.SupportsIndex | None = None) -> Tensor:
        """
        take_along_dim(input, indices, dim=None) -> Tensor
        
        Values at indices along dim (the other dims broadcast); of the flattened input when dim is None.
        """
    def tan(self) -> Tensor:
        """
        tan(input) -> Tensor
        
        Tangent.
        """
    def tan_(self) -> Tensor:
        """
        tan(input) -> Tensor
        
        Tangent.
        """
    def tanh(self) -> Tensor:
        """
        tanh(input) -> Tensor
        
        Hyperbolic tangent.
        """
    def tanh_(self) -> Tensor:
        """
        tanh(input) -> Tensor
        
        Hyperbolic tangent.
        """
    def tensor_split(self, indices_or_sections: typing.Any, dim: builtins.int = 0) -> tuple[Tensor, ...]:
        """
        Views of input split along dim: into n nearly equal parts (the first size % n one longer),
            or at the given indices.
        """
    def tile(self, *dims: typing.Any) -> Tensor:
        """
        input repeated along each dim; fewer ``dims`` than input dims are padded with leading ones.
        """
    def to(self, *args: typing.Any, **kwargs: typing.Any) -> Tensor:
        """
        self.to(dtype), to(device), to(device, dtype), to(other), to(device=..., dtype=...,
            non_blocking=..., copy=...): self itself when nothing changes (unless copy=True).
        """
    def tolist(self) -> typing.Any:
        """
        The data as (nested) Python lists of numbers; a 0-d tensor gives a number.
        """
    @typing.overload
    def topk(self, k: typing.Any, dim: typing.SupportsInt | typing.SupportsIndex = -1, largest: builtins.bool = True, sorted: builtins.bool = True) -> typing.Any:
        """
        topk(input, k, dim=-1, largest=True, sorted=True) -> (values, indices)
        
        The k largest (smallest) values along dim, always in sorted order; equal values come in index order.
        """
    @typing.overload
    def topk(self, k: typing.Any, axis: typing.SupportsInt | typing.SupportsIndex = -1, largest: builtins.bool = True, sorted: builtins.bool = True) -> typing.Any:
        """
        topk(input, k, dim=-1, largest=True, sorted=True) -> (values, indices)
        
        The k largest (smallest) values along dim, always in sorted order; equal values come in index order.
        """
    def trace(self) -> Tensor:
        """
        trace(input) -> Tensor
        
        Sum of the main diagonal of a matrix.
        """
    def transpose(self, dim0: typing.SupportsInt | typing.SupportsIndex, dim1: typing.SupportsInt | typing.SupportsIndex) -> Tensor:
        """
        transpose(input, dim0, dim1) -> Tensor
        
        A view with two dims swapped.
        """
    def tril(self, diagonal: typing.SupportsInt | typing.SupportsIndex = 0) -> Tensor:
        """
        tril(input, diagonal=0) -> Tensor
        
        The lower triangle (on and below `diagonal`) of each matrix.
        """
    def tril_(self, diagonal: typing.SupportsInt | typing.SupportsIndex = 0) -> Tensor:
        """
        In-place tril.
        """
    def triu(self, diagonal: typing.SupportsInt | typing.SupportsIndex = 0) -> Tensor:
        """
        triu(input, diagonal=0) -> Tensor
        
        The upper triangle (on and above `diagonal`) of each matrix.
        """
    def triu_(self, diagonal: typing.SupportsInt | typing.SupportsIndex = 0) -> Tensor:
        """
        In-place triu.
        """
    def true_divide(self, other: typing.Any) -> Tensor:
        """
        div(input, other) -> Tensor
        
        True division (integers give float32), broadcasting.
        """
    def true_divide_(self, other: typing.Any) -> Tensor:
        """
        In-place div.
        """
    def trunc(self) -> Tensor:
        """
        trunc(input) -> Tensor
        
        Rounds toward zero; integer tensors are returned as they are.
        """
    def trunc_(self) -> Tensor:
        """
        trunc(input) -> Tensor
        
        Rounds toward zero; integer tensors are returned as they are.
        """
    def type(self, dtype: typing.Any = None) -> typing.Any:
        ...
    def type_as(self, other: Tensor) -> Tensor:
        ...
    @typing.overload
    def unbind(self, dim: typing.SupportsInt | typing.SupportsIndex = 0) -> tuple:
        """
        unbind(input, dim=0)
        
        The views input[..., i, ...] for every i along dim.
        """
    @typing.overload
    def unbind(self, axis: typing.SupportsInt | typing.SupportsIndex = 0) -> tuple:
        """
        unbind(input, dim=0)
        
        The views input[..., i, ...] for every i along dim.
        """
    def unflatten(self, dim: builtins.int, sizes: typing.Sequence[builtins.int]) -> Tensor:
        """
        Dim ``dim`` split into ``sizes`` (one of them may be -1).
        """
    def uniform_(self, from_: typing.SupportsFloat | typing.SupportsIndex = 0.0, /, to: typing.SupportsFloat | typing.SupportsIndex = 1.0, *, generator: typing.Any = None) -> Tensor:
        ...
    @typing.overload
    def unique(self, sorted: builtins.bool = True, return_inverse: builtins.bool = False, return_counts: builtins.bool = False, dim: typing.Any = None) -> typing.Any:
        """
        unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None)
        
        The distinct values (of the flattened input, or slices along dim), always sorted; with return_inverse and/or return_counts a tuple adding each element's position among them and their counts. NaNs are never equal. Not differentiable.
        """
    @typing.overload
    def unique(self, sorted: builtins.bool = True, return_inverse: builtins.bool = False, return_counts: builtins.bool = False, axis: typing.Any = None) -> typing.Any:
        """
        unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None)
        
        The distinct values (of the flattened input, or slices along dim), always sorted; with return_inverse and/or return_counts a tuple adding each element's position among them and their counts. NaNs are never equal. Not differentiable.
        """
    @typing.overload
    def unique_consecutive(self, return_inverse: builtins.bool = False, return_counts: builtins.bool = False, dim: typing.Any = None) -> typing.Any:
        """
        unique_consecutive(input, return_inverse=False, return_counts=False, dim=None)
        
        unique merging only runs of equal neighbours, in input order.
        """
    @typing.overload
    def unique_consecutive(self, return_inverse: builtins.bool = False, return_counts: builtins.bool = False, axis: typing.Any = None) -> typing.Any:
        """
        unique_consecutive(input, return_inverse=False, return_counts=False, dim=None)
        
        unique merging only runs of equal neighbours, in input order.
        """
    @typing.overload
    def unsqueeze(self, dim: typing.SupportsInt | typing.SupportsIndex) -> Tensor:
        """
        unsqueeze(input, dim) -> Tensor
        
        A view with a size-1 dim inserted.
        """
    @typing.overload
    def unsqueeze(self, axis: typing.SupportsInt | typing.SupportsIndex) -> Tensor:
        """
        unsqueeze(input, dim) -> Tensor
        
        A view with a size-1 dim inserted.
        """
    @typing.overload
    def var(self, dim: typing.Any = None, unbiased: typing.Any = None, keepdim: builtins.bool = False, *, correction: typing.Any = None) -> Tensor:
        """
        var(input, dim=None, unbiased=None, keepdim=False, *, correction=None) -> Tensor
        
        Variance with Bessel's correction (1 by default).
        """
    @typing.overload
    def var(self, axis: typing.Any = None, unbiased: typing.Any = None, keepdims: builtins.bool = False, *, correction: typing.Any = None) -> Tensor:
        """
        var(input, dim=None, unbiased=None, keepdim=False, *, correction=None) -> Tensor
        
        Variance with Bessel's correction (1 by default).
        """
    def view(self, *args: typing.Any) -> Tensor:
        """
        self.view(*shape) -> Tensor
        
        A view with another shape (ShapeError when the strides don't allow it).
        """
    def view_as(self, other: Tensor) -> Tensor:
        """
        self.view_as(other): a view with other's shape.
        """
    def where(self, condition: Tensor, other: typing.Any) -> Tensor:
        """
        self.where(condition, other): self where condition, else other.
        """
    def xlogy(self, other: typing.Any) -> Tensor:
        """
        xlogy(input, other) -> Tensor
        
        input * log(other), and 0 where input == 0 (unless other is NaN).
        """
    def xlogy_(self, other: typing.Any) -> Tensor:
        """
        xlogy(input, other) -> Tensor
        
        input * log(other), and 0 where input == 0 (unless other is NaN).
        """
    def zero_(self) -> Tensor:
        """
        Fills self with 0.
        """
    @property
    def T(self) -> Tensor:
        ...
    @property
    def _version(self) -> builtins.int:
        ...
    @property
    def device(self) -> chainrule._dtypes.device:
        """
        The tensor's device: always chainrule.device('cpu').
        """
    @property
    def dtype(self) -> typing.Any:
        ...
    @property
    def grad(self) -> Tensor:
        ...
    @grad.setter
    def grad(self, arg1: typing.Any) -> None:
        ...
    @property
    def grad_fn(self) -> Node:
        ...
    @property
    def is_cpu(self) -> builtins.bool:
        """
        True: chainrule tensors live in CPU memory.
        """
    @property
    def is_cuda(self) -> builtins.bool:
        """
        False: chainrule has no CUDA tensors.
        """
    @property
    def is_leaf(self) -> builtins.bool:
        ...
    @property
    def is_view(self) -> builtins.bool:
        ...
    @property
    def mT(self) -> Tensor:
        ...
    @property
    def ndim(self) -> builtins.int:
        ...
    @property
    def retains_grad(self) -> builtins.bool:
        ...
    @property
    def shape(self) -> chainrule._dtypes.Size:
        """
        The tensor's shape, a chainrule.Size.
        """
class dtype:
    def __reduce__(self) -> str:
        ...
    def __repr__(self) -> str:
        ...
    @property
    def is_floating_point(self) -> builtins.bool:
        ...
    @property
    def itemsize(self) -> builtins.int:
        ...
class Node:
    def __repr__(self) -> str:
        ...
    def _id(self) -> builtins.int:
        """
        A number identifying the node while it lives.
        """
    def _output_metadata(self) -> list:
        """
        [(shape, dtype name)] of the forward outputs.
        """
    def _saved_tensors_info(self) -> list:
        """
        [(name, shape or None, dtype name or None, 'live' | 'freed' | 'packed')] of the saved tensors.
        """
    def _sequence_nr(self) -> builtins.int:
        """
        Creation order of the node.
        """
    def _set_name(self, arg0: str) -> None:
        """
        Shows the node under a composite op's name.
        """
    def name(self) -> str:
        """
        The op's backward name, as PyTorch's (e.g. 'MulBackward0').
        """
    @property
    def _creation_trace(self) -> typing.Any:
        ...
    @property
    def next_functions(self) -> tuple:
        ...
    @property
    def variable(self) -> typing.Any:
        ...
class Generator:
    def __init__(self, device: typing.Any = None) -> None:
        ...
    def get_state(self) -> Tensor:
        ...
    def initial_seed(self) -> builtins.int:
        ...
    def manual_seed(self, seed: typing.Any) -> typing.Any:
        ...
    def seed(self) -> builtins.int:
        ...
    def set_state(self, new_state: Tensor) -> None:
        ...
    @property
    def device(self) -> str:
        ...
class _PostAccumulateGradHookHandle:
    def remove(self) -> None:
        """
        Disables the hook.
        """
class _HookFlag:
    def __init__(self) -> None:
        ...
    def disable(self) -> None:
        ...
class _SavedTensorsHandle:
    def unpack(self) -> tuple:
        ...
class _CaptureSchedule:
    """
    A recorded step of chainrule.compile (Note [Capture and replay]): begin(inputs), run the
    function, end(outputs); then replay(inputs) runs the recorded calls from C++.
    """
    def __init__(self) -> None:
        ...
    def abort(self) -> None:
        """
        Stops recording and discards the steps.
        """
    def begin(self, inputs: collections.abc.Sequence[Tensor]) -> None:
        """
        Starts recording the calls of this thread; `inputs` become the input slots.
        """
    def end(self, outputs: collections.abc.Sequence[Tensor]) -> None:
        """
        Stops recording; `outputs` are the tensors the function returned.
        """
    def guard_failure(self, inputs: collections.abc.Sequence[Tensor]) -> str:
        """
        Why replay(inputs) would refuse; empty when it would run.
        """
    def replay(self, inputs: collections.abc.Sequence[Tensor]) -> typing.Any:
        """
        Runs the recorded steps on `inputs` and returns the output tensors, or None when a guard
        does not hold (the caller traces again).
        """
    @property
    def arena_stats(self) -> dict:
        """
        The buffers lowered replays keep for the next (Note [Replay arena]): how many and their bytes,
        and of the last lowered replay's allocations, how many there were and how many a kept buffer
        served.
        """
    @property
    def externals(self) -> list[Tensor]:
        ...
    @property
    def lowered(self) -> builtins.bool:
        """
        True when replays run the recorded backward without graph nodes (Note [Lowered backward]).
        """
    @property
    def lowering_note(self) -> str:
        """
        Why a recorded backward was not lowered (empty when every one was).
        """
    @property
    def num_externals(self) -> builtins.int:
        ...
    @property
    def num_fused_chains(self) -> builtins.int:
        """
        Scalar chains the fused steps became.
        """
    @property
    def num_fused_steps(self) -> builtins.int:
        """
        Recorded steps merged into scalar chains (Note [Fused scalar chains]).
        """
    @property
    def num_inputs(self) -> builtins.int:
        ...
    @property
    def num_slots(self) -> builtins.int:
        ...
    @property
    def num_steps(self) -> builtins.int:
        ...
    @property
    def plan_calls(self) -> builtins.int:
        """
        How many calls the plan has (0 without one).
        """
    @property
    def plan_listing(self) -> list[str]:
        """
        What each call of the plan runs, in order: an op ("(direct)" when it runs its kernel on the recorded buffers), a step or node run whole, an accumulation.
        """
    @property
    def plan_note(self) -> str:
        """
        Why the last recording of a plan refused, or why the last plan was dropped.
        """
    @property
    def planned(self) -> builtins.bool:
        """
        True when the next replay may run a plan (Note [Planned replay]).
        """
    @property
    def recording(self) -> builtins.bool:
        ...
    @property
    def step_names(self) -> list[str]:
        ...
class _FastReplay:
    """
    The replay of a compiled function's last call, when it is called again the same way (Note [Fast replay]).
    """
    def __call__(self, cells: list, globals: list, objects: list) -> typing.Any:
        """
        The step's result, or `miss` when the key, grad mode or the schedule's guards differ.
        """
    def __init__(self, key: bytes, grad_enabled: builtins.bool, schedule: _CaptureSchedule, returns_tensor: builtins.bool, miss: typing.Any) -> None:
        ...
    @property
    def replays(self) -> builtins.int:
        """
        How many calls it replayed.
        """
class _CompiledBase:
    """
    Base of chainrule's compiled functions: calls without arguments replay from C++ (Note [Compiled function calls]).
    """
    @staticmethod
    def __new__(type, *args: typing.Any, **kwargs: typing.Any):
        """
        Create and return a new object.  See help(type) for accurate signature.
        """
    def __call__(self, *args: typing.Any, **kwargs: typing.Any):
        """
        Call self as a function.
        """
def _adadelta_step(params: collections.abc.Sequence[Tensor], grads: collections.abc.Sequence[Tensor], square_avgs: collections.abc.Sequence[Tensor], acc_deltas: collections.abc.Sequence[Tensor], steps: collections.abc.Sequence[Tensor], lr: typing.SupportsFloat | typing.SupportsIndex, rho: typing.SupportsFloat | typing.SupportsIndex, eps: typing.SupportsFloat | typing.SupportsIndex, weight_decay: typing.SupportsFloat | typing.SupportsIndex, maximize: builtins.bool) -> None:
    ...
def _adagrad_step(params: collections.abc.Sequence[Tensor], grads: collections.abc.Sequence[Tensor], sums: collections.abc.Sequence[Tensor], steps: collections.abc.Sequence[Tensor], lr: typing.SupportsFloat | typing.SupportsIndex, lr_decay: typing.SupportsFloat | typing.SupportsIndex, weight_decay: typing.SupportsFloat | typing.SupportsIndex, eps: typing.SupportsFloat | typing.SupportsIndex, maximize: builtins.bool) -> None:
    ...
def _adam_step(params: collections.abc.Sequence[Tensor], grads: collections.abc.Sequence[Tensor], exp_avgs: collections.abc.Sequence[Tensor], exp_avg_sqs: collections.abc.Sequence[Tensor], max_exp_avg_sqs: collections.abc.Sequence[Tensor], steps: collections.abc.Sequence[Tensor], lr: typing.SupportsFloat | typing.SupportsIndex, beta1: typing.SupportsFloat | typing.SupportsIndex, beta2: typing.SupportsFloat | typing.SupportsIndex, eps: typing.SupportsFloat | typing.SupportsIndex, weight_decay: typing.SupportsFloat | typing.SupportsIndex, amsgrad: builtins.bool, maximize: builtins.bool, decoupled_weight_decay: builtins.bool) -> None:
    ...
def _adamax_step(params: collections.abc.Sequence[Tensor], grads: collections.abc.Sequence[Tensor], exp_avgs: collections.abc.Sequence[Tensor], exp_infs: collections.abc.Sequence[Tensor], steps: collections.abc.Sequence[Tensor], lr: typing.SupportsFloat | typing.SupportsIndex, beta1: typing.SupportsFloat | typing.SupportsIndex, beta2: typing.SupportsFloat | typing.SupportsIndex, eps: typing.SupportsFloat | typing.SupportsIndex, weight_decay: typing.SupportsFloat | typing.SupportsIndex, maximize: builtins.bool) -> None:
    ...
def _adaptive_avg_pool(input: Tensor, nd: typing.SupportsInt | typing.SupportsIndex, output_size: typing.Any) -> Tensor:
    """
    _adaptive_avg_pool(input, nd, output_size) -> Tensor
    
    Adaptive average pooling over the last nd dims to output_size (None entries keep that input size).
    """
def _adaptive_max_pool(input: Tensor, nd: typing.SupportsInt | typing.SupportsIndex, output_size: typing.Any) -> tuple[Tensor, Tensor]:
    """
    _adaptive_max_pool(input, nd, output_size) -> (Tensor, Tensor)
    
    Adaptive max pooling over the last nd dims: the values and their flat indices in each input plane.
    """
def _avg_pool(input: Tensor, nd: typing.SupportsInt | typing.SupportsIndex, kernel_size: typing.Any, stride: typing.Any = None, padding: typing.Any = 0, ceil_mode: builtins.bool = False, count_include_pad: builtins.bool = True, divisor_override: typing.SupportsInt | typing.SupportsIndex | None = None) -> Tensor:
    """
    _avg_pool(input, nd, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True, divisor_override=None) -> Tensor
    
    Average pooling over the last nd dims.
    """
def _binary_cross_entropy(input: Tensor, target: typing.Any, weight: typing.Any = None, reduction: str = 'mean') -> Tensor:
    """
    Binary cross entropy of probabilities (logs clamped to >= -100).
    """
def _binary_cross_entropy_with_logits(input: Tensor, target: typing.Any, weight: typing.Any = None, pos_weight: typing.Any = None, reduction: str = 'mean') -> Tensor:
    """
    Binary cross entropy of logits, computed stably.
    """
def _build_info() -> dict:
    ...
def _check_device(device: typing.Any, op: str = 'device') -> None:
    """
    Raises unless device is None or the CPU.
    """
def _chunk_owners(n: typing.SupportsInt | typing.SupportsIndex, grain: typing.SupportsInt | typing.SupportsIndex = 1, busy_us: typing.SupportsFloat | typing.SupportsIndex = 0.0) -> list[tuple[builtins.int, builtins.int]]:
    ...
def _clamp_abs_(tensors: collections.abc.Sequence[Tensor], clip_value: typing.SupportsFloat | typing.SupportsIndex) -> None:
    ...
def _clear_grads(params: collections.abc.Iterable) -> None:
    """
    Sets .grad to None on every tensor of `params` (Optimizer.zero_grad outside a trace).
    """
def _clip_by_total_norm_(tensors: collections.abc.Sequence[Tensor], max_norm: typing.SupportsFloat | typing.SupportsIndex, total_norm: Tensor) -> None:
    ...
def _copy_from_flat_(vec: Tensor, parameters: collections.abc.Sequence[Tensor]) -> None:
    ...
def _cross_entropy(input: Tensor, target: typing.Any, weight: typing.Any = None, reduction: str = 'mean', ignore_index: typing.SupportsInt | typing.SupportsIndex = -100, label_smoothing: typing.SupportsFloat | typing.SupportsIndex = 0.0) -> Tensor:
    """
    Cross entropy of logits with class-index or probability targets.
    """
def _empty(*args: typing.Any, dtype: typing.Any = None) -> Tensor:
    ...
def _fw_counts() -> tuple[builtins.int, builtins.int]:
    """
    Tangents computed so far: (by a JVP rule of the derivatives table, by the generic rule).
    """
def _fw_enter_level() -> None:
    """
    Opens a dual level (autograd.forward_ad).
    """
def _fw_exit_level() -> None:
    """
    Closes the dual level: every tangent is dropped.
    """
def _fw_set_tangent(arg0: Tensor, arg1: Tensor) -> None:
    """
    Gives t (a tensor with a grad_fn) its tangent.
    """
def _fw_tangent(arg0: Tensor) -> typing.Any:
    """
    The tangent of t at the open dual level, or None.
    """
def _get_default_dtype() -> typing.Any:
    """
    The dtype of Python floats and floating factories.
    """
def _guard_key(cells: list, globals: list, objects: list, values: tuple = ()) -> typing.Any:
    """
    The guard key of chainrule.compile's reads (Note [Guard keys of compiled functions]): the
    contents of `cells` (closure cells), of `globals` ((dict, name) pairs), of `objects` and their
    __dict__ values, and `values`, as bytes (with the objects it keeps as themselves: a tuple).
    """
def _has_openmp() -> builtins.bool:
    ...
def _huber_loss(input: Tensor, target: typing.Any, reduction: str = 'mean', delta: typing.SupportsFloat | typing.SupportsIndex = 1.0) -> Tensor:
    """
    Huber loss: quadratic below delta, linear above.
    """
def _install_number_slots(subclass: typing.Any = None) -> None:
    """
    Points Tensor's operator slots past pybind11's dispatch (Note [Operator number slots]); called once, after the operator methods are final. With a subclass that defines none of the operators (nn.Parameter), gives it the same slots.
    """
def _is_anomaly_check_nan_enabled() -> builtins.bool:
    ...
def _is_anomaly_enabled() -> builtins.bool:
    ...
def _is_tracing() -> builtins.bool:
    """
    True while chainrule.compile traces on this thread.
    """
def _l1_loss(input: Tensor, target: typing.Any, reduction: str = 'mean') -> Tensor:
    """
    Mean absolute error.
    """
def _make_function_node(arg0: str, arg1: collections.abc.Callable, arg2: typing.Any, arg3: typing.Any, arg4: typing.Any, arg5: collections.abc.Sequence[builtins.bool]) -> tuple[tuple, _SavedTensorsHandle]:
    ...
def _max_pool(input: Tensor, nd: typing.SupportsInt | typing.SupportsIndex, kernel_size: typing.Any, stride: typing.Any = None, padding: typing.Any = 0, dilation: typing.Any = 1, ceil_mode: builtins.bool = False) -> tuple[Tensor, Tensor]:
    """
    _max_pool(input, nd, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False) -> (Tensor, Tensor)
    
    Max pooling over the last nd dims: the values and their flat indices in each input plane.
    """
def _mse_loss(input: Tensor, target: typing.Any, reduction: str = 'mean') -> Tensor:
    """
    Mean squared error.
    """
def _nadam_step(params: collections.abc.Sequence[Tensor], grads: collections.abc.Sequence[Tensor], exp_avgs: collections.abc.Sequence[Tensor], exp_avg_sqs: collections.abc.Sequence[Tensor], mu_products: collections.abc.Sequence[Tensor], steps: collections.abc.Sequence[Tensor], lr: typing.SupportsFloat | typing.SupportsIndex, beta1: typing.SupportsFloat | typing.SupportsIndex, beta2: typing.SupportsFloat | typing.SupportsIndex, eps: typing.SupportsFloat | typing.SupportsIndex, weight_decay: typing.SupportsFloat | typing.SupportsIndex, momentum_decay: typing.SupportsFloat | typing.SupportsIndex, decoupled_weight_decay: builtins.bool, maximize: builtins.bool) -> None:
    ...
def _nll_loss(input: Tensor, target: Tensor, weight: typing.Any = None, reduction: str = 'mean', ignore_index: typing.SupportsInt | typing.SupportsIndex = -100) -> Tensor:
    """
    Negative log likelihood of class-index targets.
    """
def _normal_(tensor: Tensor, mean: typing.SupportsFloat | typing.SupportsIndex = 0.0, std: typing.SupportsFloat | typing.SupportsIndex = 1.0, generator: typing.Any = None) -> Tensor:
    ...
def _ones(*args: typing.Any, dtype: typing.Any = None) -> Tensor:
    ...
def _op_registry() -> list:
    """
    The op registry: (name, variants, aliases) per op.
    """
def _pop_saved_tensors_hooks() -> None:
    """
    Undoes the last push.
    """
def _push_saved_tensors_hooks(arg0: collections.abc.Callable, arg1: collections.abc.Callable) -> None:
    """
    Makes (pack, unpack) the saved-tensor hooks of this thread until the matching pop.
    """
def _queue_callback(callback: collections.abc.Callable) -> None:
    """
    Runs callback() once the backward now running has finished, on the thread that called
    backward (PyTorch's Variable._execution_engine.queue_callback). RuntimeError outside a backward.
    """
def _radam_step(params: collections.abc.Sequence[Tensor], grads: collections.abc.Sequence[Tensor], exp_avgs: collections.abc.Sequence[Tensor], exp_avg_sqs: collections.abc.Sequence[Tensor], steps: collections.abc.Sequence[Tensor], lr: typing.SupportsFloat | typing.SupportsIndex, beta1: typing.SupportsFloat | typing.SupportsIndex, beta2: typing.SupportsFloat | typing.SupportsIndex, eps: typing.SupportsFloat | typing.SupportsIndex, weight_decay: typing.SupportsFloat | typing.SupportsIndex, decoupled_weight_decay: builtins.bool, maximize: builtins.bool) -> None:
    ...
def _rmsprop_step(params: collections.abc.Sequence[Tensor], grads: collections.abc.Sequence[Tensor], square_avgs: collections.abc.Sequence[Tensor], grad_avgs: collections.abc.Sequence[Tensor], momentum_buffers: collections.abc.Sequence[Tensor], steps: collections.abc.Sequence[Tensor], lr: typing.SupportsFloat | typing.SupportsIndex, alpha: typing.SupportsFloat | typing.SupportsIndex, eps: typing.SupportsFloat | typing.SupportsIndex, weight_decay: typing.SupportsFloat | typing.SupportsIndex, momentum: typing.SupportsFloat | typing.SupportsIndex, centered: builtins.bool, maximize: builtins.bool) -> None:
    ...
def _rnn_layer(mode: str, input: Tensor, hx: Tensor | None, cx: Tensor | None, weight_ih: Tensor, weight_hh: Tensor, bias_ih: Tensor | None, bias_hh: Tensor | None, weight_hr: Tensor | None, reverse: builtins.bool, lengths: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex] | None) -> tuple[Tensor, Tensor, Tensor]:
    """
    _rnn_layer(mode, input, hx, cx, weight_ih, weight_hh, bias_ih, bias_hh, weight_hr, reverse, lengths) -> (output, h_n, c_n)
    
    One recurrent layer and direction over a whole (seq_len, batch, input_size) sequence as one graph node; mode is RNN_TANH, RNN_RELU, LSTM or GRU. c_n is None except for LSTM.
    """
def _run_backward(tensors: typing.Any, grad_tensors: typing.Any, keep_graph: builtins.bool, create_graph: builtins.bool, inputs: typing.Any, allow_unused: builtins.bool, accumulate: builtins.bool = False) -> tuple:
    """
    Runs backward (Tensor.backward, autograd.backward and autograd.grad end here).
    """
def _scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor, attn_mask: Tensor | None = None, dropout_p: typing.SupportsFloat | typing.SupportsIndex = 0.0, is_causal: builtins.bool = False, scale: typing.SupportsFloat | typing.SupportsIndex | None = None, enable_gqa: builtins.bool = False) -> Tensor:
    """
    _scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None, enable_gqa=False) -> Tensor
    
    Fused softmax(query @ key^T * scale + mask) @ value: a blocked kernel with an online softmax that never holds the (L, S) score matrix; the backward recomputes it.
    """
def _set_anomaly_enabled(enabled: builtins.bool, check_nan: builtins.bool = True) -> None:
    """
    Note [Anomaly mode]: turns anomaly detection on or off.
    """
def _set_anomaly_stack_capture(arg0: typing.Any) -> None:
    """
    Sets the function () -> str that describes the user's stack when a node is created in anomaly mode.
    """
def _set_default_dtype(arg0: typing.Any) -> None:
    """
    Sets the dtype of Python floats and floating factories (float32 or float64).
    """
def _set_grad_enabled(arg0: builtins.bool) -> None:
    ...
def _set_guard_types(optimizer: typing.Any, module: typing.Any) -> None:
    """
    Names the optimizer and module base classes that _guard_key keys by their state.
    """
def _set_storage_handler(handler: typing.Any) -> None:
    """
    Sets the function that runs ops on int32/float16/bfloat16 operands (chainrule._storage).
    """
def _sgd_step(params: collections.abc.Sequence[Tensor], grads: collections.abc.Sequence[Tensor], momentum_buffers: collections.abc.Sequence[Tensor], fresh: collections.abc.Sequence[builtins.bool], lr: typing.SupportsFloat | typing.SupportsIndex, momentum: typing.SupportsFloat | typing.SupportsIndex, dampening: typing.SupportsFloat | typing.SupportsIndex, weight_decay: typing.SupportsFloat | typing.SupportsIndex, nesterov: builtins.bool, maximize: builtins.bool) -> None:
    ...
def _smooth_l1_loss(input: Tensor, target: typing.Any, reduction: str = 'mean', beta: typing.SupportsFloat | typing.SupportsIndex = 1.0) -> Tensor:
    """
    Smooth L1 loss (Huber divided by beta).
    """
def _tensor(data: typing.Any, dtype: typing.Any = None, requires_grad: builtins.bool = False) -> Tensor:
    ...
def _total_norm(tensors: collections.abc.Sequence[Tensor], norm_type: typing.SupportsFloat | typing.SupportsIndex) -> Tensor:
    ...
def _uniform_(tensor: Tensor, a: typing.SupportsFloat | typing.SupportsIndex = 0.0, b: typing.SupportsFloat | typing.SupportsIndex = 1.0, generator: typing.Any = None) -> Tensor:
    ...
def _with_grad(params: collections.abc.Iterable) -> typing.Any:
    """
    The tensors of `params` whose .grad is set (no Python object made for a gradient); None when
    one of them has a storage dtype (float16, bfloat16...), whose step needs its gradients passed.
    """
def _wrap_storage(fn: typing.Any, name: str, method: builtins.bool) -> typing.Any:
    """
    fn behind the storage-dtype check (Note [Storage dtypes]); method=True for a Tensor method.
    """
def _zero_(tensors: collections.abc.Sequence[Tensor]) -> None:
    ...
def _zeros(*args: typing.Any, dtype: typing.Any = None) -> Tensor:
    ...
def abs(input: Tensor) -> Tensor:
    """
    abs(input) -> Tensor
    
    |input| (int64 stays int64).
    """
def absolute(input: Tensor) -> Tensor:
    """
    abs(input) -> Tensor
    
    |input| (int64 stays int64).
    """
def acos(input: Tensor) -> Tensor:
    """
    acos(input) -> Tensor
    
    Arccosine, in [0, pi].
    """
def acosh(input: Tensor) -> Tensor:
    """
    acosh(input) -> Tensor
    
    Inverse hyperbolic cosine.
    """
def add(input: typing.Any, other: typing.Any, *, alpha: typing.SupportsFloat | typing.SupportsIndex = 1.0) -> Tensor:
    """
    add(input, other, *, alpha=1) -> Tensor
    
    input + alpha * other, broadcasting.
    """
def addbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta: typing.SupportsFloat | typing.SupportsIndex = 1.0, alpha: typing.SupportsFloat | typing.SupportsIndex = 1.0) -> Tensor:
    """
    addbmm(input, batch1, batch2, *, beta=1, alpha=1) -> Tensor
    
    beta * input + alpha * the sum over the batch of batch1 @ batch2.
    """
def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta: typing.SupportsFloat | typing.SupportsIndex = 1.0, alpha: typing.SupportsFloat | typing.SupportsIndex = 1.0) -> Tensor:
    """
    addmm(input, mat1, mat2, *, beta=1, alpha=1) -> Tensor
    
    beta * input + alpha * (mat1 @ mat2).
    """
def addmv(input: Tensor, mat: Tensor, vec: Tensor, *, beta: typing.SupportsFloat | typing.SupportsIndex = 1.0, alpha: typing.SupportsFloat | typing.SupportsIndex = 1.0) -> Tensor:
    """
    addmv(input, mat, vec, *, beta=1, alpha=1) -> Tensor
    
    beta * input + alpha * (mat @ vec).
    """
@typing.overload
def all(input: Tensor, dim: typing.Any = None, keepdim: builtins.bool = False) -> Tensor:
    """
    all(input, dim=None, keepdim=False) -> Tensor
    
    True where every element over dim (an int, a tuple, or None for all) is nonzero; a bool result for any dtype, true over no elements.
    """
@typing.overload
def all(input: Tensor, axis: typing.Any = None, keepdims: builtins.bool = False) -> Tensor:
    """
    all(input, dim=None, keepdim=False) -> Tensor
    
    True where every element over dim (an int, a tuple, or None for all) is nonzero; a bool result for any dtype, true over no elements.
    """
@typing.overload
def amax(input: Tensor, dim: typing.Any = (), keepdim: builtins.bool = False) -> Tensor:
    """
    amax(input, dim=(), keepdim=False) -> Tensor
    
    Largest values over dims; ties share the gradient.
    """
@typing.overload
def amax(input: Tensor, axis: typing.Any = (), keepdims: builtins.bool = False) -> Tensor:
    """
    amax(input, dim=(), keepdim=False) -> Tensor
    
    Largest values over dims; ties share the gradient.
    """
@typing.overload
def amin(input: Tensor, dim: typing.Any = (), keepdim: builtins.bool = False) -> Tensor:
    """
    amin(input, dim=(), keepdim=False) -> Tensor
    
    Smallest values over dims; ties share the gradient.
    """
@typing.overload
def amin(input: Tensor, axis: typing.Any = (), keepdims: builtins.bool = False) -> Tensor:
    """
    amin(input, dim=(), keepdim=False) -> Tensor
    
    Smallest values over dims; ties share the gradient.
    """
@typing.overload
def aminmax(input: Tensor, *, dim: typing.Any = None, keepdim: builtins.bool = False) -> typing.Any:
    """
    aminmax(input, *, dim=None, keepdim=False) -> (min, max)
    
    amin and amax in one call, as a named tuple; ties share the gradient.
    """
@typing.overload
def aminmax(input: Tensor, *, axis: typing.Any = None, keepdims: builtins.bool = False) -> typing.Any:
    """
    aminmax(input, *, dim=None, keepdim=False) -> (min, max)
    
    amin and amax in one call, as a named tuple; ties share the gradient.
    """
@typing.overload
def any(input: Tensor, dim: typing.Any = None, keepdim: builtins.bool = False) -> Tensor:
    """
    any(input, dim=None, keepdim=False) -> Tensor
    
    True where some element over dim (an int, a tuple, or None for all) is nonzero; a bool result for any dtype, false over no elements.
    """
@typing.overload
def any(input: Tensor, axis: typing.Any = None, keepdims: builtins.bool = False) -> Tensor:
    """
    any(input, dim=None, keepdim=False) -> Tensor
    
    True where some element over dim (an int, a tuple, or None for all) is nonzero; a bool result for any dtype, false over no elements.
    """
def arange(start: typing.Any, end: typing.Any = None, step: typing.Any = None, *, dtype: typing.Any = None, requires_grad: builtins.bool = False, device: typing.Any = None) -> Tensor:
    ...
@typing.overload
def argmax(input: Tensor, dim: typing.Any = None, keepdim: builtins.bool = False) -> Tensor:
    """
    argmax(input, dim=None, keepdim=False) -> Tensor
    
    Index of the first largest value (of the flattened input when dim is None).
    """
@typing.overload
def argmax(input: Tensor, axis: typing.Any = None, keepdims: builtins.bool = False) -> Tensor:
    """
    argmax(input, dim=None, keepdim=False) -> Tensor
    
    Index of the first largest value (of the flattened input when dim is None).
    """
@typing.overload
def argmin(input: Tensor, dim: typing.Any = None, keepdim: builtins.bool = False) -> Tensor:
    """
    argmin(input, dim=None, keepdim=False) -> Tensor
    
    Index of the first smallest value.
    """
@typing.overload
def argmin(input: Tensor, axis: typing.Any = None, keepdims: builtins.bool = False) -> Tensor:
    """
    argmin(input, dim=None, keepdim=False) -> Tensor
    
    Index of the first smallest value.
    """
@typing.overload
def argsort(input: Tensor, dim: typing.SupportsInt | typing.SupportsIndex = -1, descending: builtins.bool = False, *, stable: typing.Any = False) -> Tensor:
    """
    argsort(input, dim=-1, descending=False, *, stable=False) -> Tensor
    
    The indices of sort(input, dim, descending) (always stable).
    """
@typing.overload
def argsort(input: Tensor, axis: typing.SupportsInt | typing.SupportsIndex = -1, descending: builtins.bool = False, *, stable: typing.Any = False) -> Tensor:
    """
    argsort(input, dim=-1, descending=False, *, stable=False) -> Tensor
    
    The indices of sort(input, dim, descending) (always stable).
    """
def argwhere(input: Tensor) -> Tensor:
    """
    argwhere(input) -> Tensor
    
    Indices of the non-zero entries, shape [count, ndim].
    """
def asin(input: Tensor) -> Tensor:
    """
    asin(input) -> Tensor
    
    Arcsine, in [-pi/2, pi/2].
    """
def asinh(input: Tensor) -> Tensor:
    """
    asinh(input) -> Tensor
    
    Inverse hyperbolic sine.
    """
def atan(input: Tensor) -> Tensor:
    """
    atan(input) -> Tensor
    
    Arctangent, in (-pi/2, pi/2).
    """
def atan2(input: typing.Any, other: typing.Any) -> Tensor:
    """
    atan2(input, other) -> Tensor
    
    The angle of the point (other, input), in (-pi, pi], elementwise.
    """
def atanh(input: Tensor) -> Tensor:
    """
    atanh(input) -> Tensor
    
    Inverse hyperbolic tangent.
    """
def baddbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta: typing.SupportsFloat | typing.SupportsIndex = 1.0, alpha: typing.SupportsFloat | typing.SupportsIndex = 1.0) -> Tensor:
    """
    baddbmm(input, batch1, batch2, *, beta=1, alpha=1) -> Tensor
    
    beta * input + alpha * bmm(batch1, batch2).
    """
def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None, weight: Tensor | None = None, bias: Tensor | None = None, training: builtins.bool = False, momentum: typing.SupportsFloat | typing.SupportsIndex = 0.1, eps: typing.SupportsFloat | typing.SupportsIndex = 1e-05) -> Tensor:
    """
    batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-05) -> Tensor
    
    Batch normalization over (N, C, *) inputs; updates the running stats in place when training.
    """
def bernoulli(input: Tensor, p: typing.Any = None, *, generator: typing.Any = None) -> Tensor:
    """
    bernoulli(input, p=None, *, generator=None) -> Tensor
    
    1 with probability input (elementwise, floating, in [0, 1]), or with probability p when given, else 0; input's dtype.
    """
def bitwise_and(input: Tensor, other: typing.Any) -> Tensor:
    """
    bitwise_and(input, other) -> Tensor
    
    input & other (bool, int64).
    """
def bitwise_not(input: Tensor) -> Tensor:
    """
    bitwise_not(input) -> Tensor
    
    ~input for bool and int64 tensors.
    """
def bitwise_or(input: Tensor, other: typing.Any) -> Tensor:
    """
    bitwise_or(input, other) -> Tensor
    
    input | other (bool, int64).
    """
def bitwise_xor(input: Tensor, other: typing.Any) -> Tensor:
    """
    bitwise_xor(input, other) -> Tensor
    
    input ^ other (bool, int64).
    """
def bmm(input: Tensor, mat2: Tensor) -> Tensor:
    """
    bmm(input, mat2) -> Tensor
    
    Batched matrix product of two 3-D tensors.
    """
def broadcast_to(input: Tensor, size: typing.Any) -> Tensor:
    """
    broadcast_to(input, size) -> Tensor
    
    A broadcast view.
    """
def bucketize(input: typing.Any, boundaries: Tensor, *, out_int32: builtins.bool = False, right: builtins.bool = False) -> Tensor:
    """
    bucketize(input, boundaries, *, out_int32=False, right=False) -> Tensor
    
    The bucket of each value among 1-D sorted boundaries: searchsorted(boundaries, input, right=right). Indices are int64 even with out_int32=True.
    """
@typing.overload
def cat(tensors: typing.Any, dim: typing.SupportsInt | typing.SupportsIndex = 0) -> Tensor:
    """
    cat(tensors, dim=0) -> Tensor
    
    Concatenation along dim, with dtype promotion.
    """
@typing.overload
def cat(tensors: typing.Any, axis: typing.SupportsInt | typing.SupportsIndex = 0) -> Tensor:
    """
    cat(tensors, dim=0) -> Tensor
    
    Concatenation along dim, with dtype promotion.
    """
def cdist(x1: Tensor, x2: Tensor, p: typing.SupportsFloat | typing.SupportsIndex = 2.0, compute_mode: str = 'use_mm_for_euclid_dist_if_necessary') -> Tensor:
    """
    cdist(x1, x2, p=2.0, compute_mode='use_mm_for_euclid_dist_if_necessary') -> Tensor
    
    p-norm distances between the rows of x1 [..., P, M] and x2 [..., R, M]: [..., P, R]. Always computed from the differences (every compute_mode), so small distances stay accurate.
    """
def ceil(input: Tensor) -> Tensor:
    """
    ceil(input) -> Tensor
    
    Smallest integer >= input; integer tensors are returned as they are.
    """
@typing.overload
def chunk(input: Tensor, chunks: typing.SupportsInt | typing.SupportsIndex, dim: typing.SupportsInt | typing.SupportsIndex = 0) -> tuple:
    """
    chunk(input, chunks, dim=0)
    
    At most `chunks` views of (nearly) equal size along dim.
    """
@typing.overload
def chunk(input: Tensor, chunks: typing.SupportsInt | typing.SupportsIndex, axis: typing.SupportsInt | typing.SupportsIndex = 0) -> tuple:
    """
    chunk(input, chunks, dim=0)
    
    At most `chunks` views of (nearly) equal size along dim.
    """
def clamp(input: Tensor, min: typing.Any = None, max: typing.Any = None) -> Tensor:
    """
    clamp(input, min=None, max=None) -> Tensor
    
    Bounds (numbers or tensors) applied elementwise; min > max gives max.
    """
def clip(input: Tensor, min: typing.Any = None, max: typing.Any = None) -> Tensor:
    """
    clamp(input, min=None, max=None) -> Tensor
    
    Bounds (numbers or tensors) applied elementwise; min > max gives max.
    """
def clone(input: Tensor) -> Tensor:
    """
    clone(input) -> Tensor
    
    A differentiable copy.
    """
@typing.overload
def concat(tensors: typing.Any, dim: typing.SupportsInt | typing.SupportsIndex = 0) -> Tensor:
    """
    cat(tensors, dim=0) -> Tensor
    
    Concatenation along dim, with dtype promotion.
    """
@typing.overload
def concat(tensors: typing.Any, axis: typing.SupportsInt | typing.SupportsIndex = 0) -> Tensor:
    """
    cat(tensors, dim=0) -> Tensor
    
    Concatenation along dim, with dtype promotion.
    """
@typing.overload
def concatenate(tensors: typing.Any, dim: typing.SupportsInt | typing.SupportsIndex = 0) -> Tensor:
    """
    cat(tensors, dim=0) -> Tensor
    
    Concatenation along dim, with dtype promotion.
    """
@typing.overload
def concatenate(tensors: typing.Any, axis: typing.SupportsInt | typing.SupportsIndex = 0) -> Tensor:
    """
    cat(tensors, dim=0) -> Tensor
    
    Concatenation along dim, with dtype promotion.
    """
def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: typing.Any = 1, padding: typing.Any = 0, dilation: typing.Any = 1, groups: typing.SupportsInt | typing.SupportsIndex = 1) -> Tensor:
    """
    conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor
    
    1-D convolution (cross-correlation) of (N, C, L) or (C, L) input with weight (O, C / groups, k); padding is an int, a tuple or 'same' / 'valid'.
    """
def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: typing.Any = 1, padding: typing.Any = 0, dilation: typing.Any = 1, groups: typing.SupportsInt | typing.SupportsIndex = 1) -> Tensor:
    """
    conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor
    
    2-D convolution (cross-correlation) of (N, C, H, W) or (C, H, W) input with weight (O, C / groups, kH, kW); padding is an int, a tuple or 'same' / 'valid'.
    """
def conv_transpose1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: typing.Any = 1, padding: typing.Any = 0, output_padding: typing.Any = 0, groups: typing.SupportsInt | typing.SupportsIndex = 1, dilation: typing.Any = 1) -> Tensor:
    """
    conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1) -> Tensor
    
    1-D transposed convolution (the gradient of conv1d with respect to its input); weight is (C, O / groups, k).
    """
def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: typing.Any = 1, padding: typing.Any = 0, output_padding: typing.Any = 0, groups: typing.SupportsInt | typing.SupportsIndex = 1, dilation: typing.Any = 1) -> Tensor:
    """
    conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1) -> Tensor
    
    2-D transposed convolution (the gradient of conv2d with respect to its input); weight is (C, O / groups, kH, kW).
    """
def copysign(input: typing.Any, other: typing.Any) -> Tensor:
    """
    copysign(input, other) -> Tensor
    
    |input| with the sign of other (floating result).
    """
def cos(input: Tensor) -> Tensor:
    """
    cos(input) -> Tensor
    
    Cosine.
    """
def cosh(input: Tensor) -> Tensor:
    """
    cosh(input) -> Tensor
    
    Hyperbolic cosine.
    """
@typing.overload
def count_nonzero(input: Tensor, dim: typing.Any = None) -> Tensor:
    """
    count_nonzero(input, dim=None) -> Tensor
    
    Number of nonzero elements over dim (an int, a tuple, or None for all), as int64.
    """
@typing.overload
def count_nonzero(input: Tensor, axis: typing.Any = None) -> Tensor:
    """
    count_nonzero(input, dim=None) -> Tensor
    
    Number of nonzero elements over dim (an int, a tuple, or None for all), as int64.
    """
@typing.overload
def cummax(input: Tensor, dim: typing.SupportsInt | typing.SupportsIndex) -> typing.Any:
    """
    cummax(input, dim) -> (values, indices)
    
    Running maximum along dim and where it was found (the last of equal values); NaN propagates.
    """
@typing.overload
def cummax(input: Tensor, axis: typing.SupportsInt | typing.SupportsIndex) -> typing.Any:
    """
    cummax(input, dim) -> (values, indices)
    
    Running maximum along dim and where it was found (the last of equal values); NaN propagates.
    """
@typing.overload
def cummin(input: Tensor, dim: typing.SupportsInt | typing.SupportsIndex) -> typing.Any:
    """
    cummin(input, dim) -> (values, indices)
    
    Running minimum along dim and where it was found (the last of equal values); NaN propagates.
    """
@typing.overload
def cummin(input: Tensor, axis: typing.SupportsInt | typing.SupportsIndex) -> typing.Any:
    """
    cummin(input, dim) -> (values, indices)
    
    Running minimum along dim and where it was found (the last of equal values); NaN propagates.
    """
@typing.overload
def cumprod(input: Tensor, dim: typing.SupportsInt | typing.SupportsIndex, *, dtype: typing.Any = None) -> Tensor:
    """
    cumprod(input, dim, *, dtype=None) -> Tensor
    
    Cumulative product along dim (same dtype rules as cumsum); its gradient is exact with zeros in the input.
    """
@typing.overload
def cumprod(input: Tensor, axis: typing.SupportsInt | typing.SupportsIndex, *, dtype: typing.Any = None) -> Tensor:
    """
    cumprod(input, dim, *, dtype=None) -> Tensor
    
    Cumulative product along dim (same dtype rules as cumsum); its gradient is exact with zeros in the input.
    """
@typing.overload
def cumsum(input: Tensor, dim: typing.SupportsInt | typing.SupportsIndex, *, dtype: typing.Any = None) -> Tensor:
    """
    cumsum(input, dim, *, dtype=None) -> Tensor
    
    Cumulative sum along dim; integer and bool inputs give int64, dtype= converts first.
    """
@typing.overload
def cumsum(input: Tensor, axis: typing.SupportsInt | typing.SupportsIndex, *, dtype: typing.Any = None) -> Tensor:
    """
    cumsum(input, dim, *, dtype=None) -> Tensor
    
    Cumulative sum along dim; integer and bool inputs give int64, dtype= converts first.
    """
def detach(input: Tensor) -> Tensor:
    """
    detach(input) -> Tensor
    
    A new tensor sharing the data, without history.
    """
def diag(input: Tensor, diagonal: typing.SupportsInt | typing.SupportsIndex = 0) -> Tensor:
    """
    diag(input, diagonal=0) -> Tensor
    
    1-D input: the square matrix with it on the given diagonal; 2-D input: that diagonal.
    """
def diag_embed(input: Tensor, offset: typing.SupportsInt | typing.SupportsIndex = 0, dim1: typing.SupportsInt | typing.SupportsIndex = -2, dim2: typing.SupportsInt | typing.SupportsIndex = -1) -> Tensor:
    """
    diag_embed(input, offset=0, dim1=-2, dim2=-1) -> Tensor
    
    Matrices whose diagonal `offset` holds input's last dim (zeros elsewhere).
    """
def diagonal(input: Tensor, offset: typing.SupportsInt | typing.SupportsIndex = 0, dim1: typing.SupportsInt | typing.SupportsIndex = 0, dim2: typing.SupportsInt | typing.SupportsIndex = 1) -> Tensor:
    """
    diagonal(input, offset=0, dim1=0, dim2=1) -> Tensor
    
    View of a diagonal of the matrices in dims (dim1, dim2), as the last dim; offset > 0 is above the main diagonal.
    """
def dist(input: Tensor, other: Tensor, p: typing.SupportsFloat | typing.SupportsIndex = 2.0) -> Tensor:
    """
    dist(input, other, p=2) -> Tensor
    
    The p-norm of input - other (broadcast; floating inputs).
    """
def div(input: typing.Any, other: typing.Any) -> Tensor:
    """
    div(input, other) -> Tensor
    
    True division (integers give float32), broadcasting.
    """
def divide(input: typing.Any, other: typing.Any) -> Tensor:
    """
    div(input, other) -> Tensor
    
    True division (integers give float32), broadcasting.
    """
def dot(input: Tensor, tensor: Tensor) -> Tensor:
    """
    dot(input, tensor) -> Tensor
    
    Inner product of two 1-D tensors.
    """
def elu(input: Tensor, alpha: typing.SupportsFloat | typing.SupportsIndex = 1.0) -> Tensor:
    """
    elu(input, alpha=1.0) -> Tensor
    """
def empty_like(input: Tensor, *, dtype: typing.Any = None, requires_grad: builtins.bool = False, generator: typing.Any = None, device: typing.Any = None) -> Tensor:
    ...
def eq(input: Tensor, other: typing.Any) -> Tensor:
    """
    eq(input, other) -> Tensor
    
    input == other, as bool.
    """
def erf(input: Tensor) -> Tensor:
    """
    erf(input) -> Tensor
    
    Gauss error function.
    """
def erfc(input: Tensor) -> Tensor:
    """
    erfc(input) -> Tensor
    
    1 - erf(input), accurate in the tails.
    """
def erfinv(input: Tensor) -> Tensor:
    """
    erfinv(input) -> Tensor
    
    Inverse error function: erf(erfinv(y)) = y on (-1, 1); +-inf at +-1.
    """
def exp(input: Tensor) -> Tensor:
    """
    exp(input) -> Tensor
    
    e ** input.
    """
def exp2(input: Tensor) -> Tensor:
    """
    exp2(input) -> Tensor
    
    2 ** input.
    """
def expm1(input: Tensor) -> Tensor:
    """
    expm1(input) -> Tensor
    
    exp(input) - 1, accurate for small input.
    """
def eye(n: typing.Any, m: typing.Any = None, *, dtype: typing.Any = None, requires_grad: builtins.bool = False, device: typing.Any = None) -> Tensor:
    ...
def fix(input: Tensor) -> Tensor:
    """
    fix(input) -> Tensor
    
    Alias of trunc.
    """
def flatten(input: Tensor, start_dim: typing.SupportsInt | typing.SupportsIndex = 0, end_dim: typing.SupportsInt | typing.SupportsIndex = -1) -> Tensor:
    """
    flatten(input, start_dim=0, end_dim=-1) -> Tensor
    
    Merges dims start_dim..end_dim.
    """
def flip(input: Tensor, dims: typing.Any) -> Tensor:
    """
    flip(input, dims) -> Tensor
    
    A copy reversed along dims.
    """
def floor(input: Tensor) -> Tensor:
    """
    floor(input) -> Tensor
    
    Largest integer <= input; integer tensors are returned as they are.
    """
def fmod(input: typing.Any, other: typing.Any) -> Tensor:
    """
    fmod(input, other) -> Tensor
    
    C's fmod: the result has the dividend's sign.
    """
def frac(input: Tensor) -> Tensor:
    """
    frac(input) -> Tensor
    
    input - trunc(input).
    """
def from_numpy(arg0: typing.Any) -> Tensor:
    ...
def full(size: typing.Any, fill_value: typing.Any, *, dtype: typing.Any = None, requires_grad: builtins.bool = False, device: typing.Any = None) -> Tensor:
    ...
def full_like(input: Tensor, fill_value: typing.Any, *, dtype: typing.Any = None, requires_grad: builtins.bool = False, device: typing.Any = None) -> Tensor:
    ...
@typing.overload
def gather(input: Tensor, dim: typing.SupportsInt | typing.SupportsIndex, index: typing.Any) -> Tensor:
    """
    gather(input, dim, index) -> Tensor
    
    out[i][j] = input[index[i][j]][j] (for dim 0), and so on.
    """
@typing.overload
def gather(input: Tensor, axis: typing.SupportsInt | typing.SupportsIndex, index: typing.Any) -> Tensor:
    """
    gather(input, dim, index) -> Tensor
    
    out[i][j] = input[index[i][j]][j] (for dim 0), and so on.
    """
def ge(input: Tensor, other: typing.Any) -> Tensor:
    """
    ge(input, other) -> Tensor
    
    input >= other, as bool.
    """
def gelu(input: Tensor, approximate: str = 'none') -> Tensor:
    """
    gelu(input, approximate='none') -> Tensor
    
    'none' (erf) or 'tanh'.
    """
def ger(input: Tensor, vec2: Tensor) -> Tensor:
    """
    outer(input, vec2) -> Tensor
    
    Outer product of two 1-D tensors.
    """
def get_num_threads() -> builtins.int:
    ...
def get_rng_state() -> typing.Any:
    ...
def greater(input: Tensor, other: typing.Any) -> Tensor:
    """
    gt(input, other) -> Tensor
    
    input > other, as bool.
    """
def greater_equal(input: Tensor, other: typing.Any) -> Tensor:
    """
    ge(input, other) -> Tensor
    
    input >= other, as bool.
    """
def gt(input: Tensor, other: typing.Any) -> Tensor:
    """
    gt(input, other) -> Tensor
    
    input > other, as bool.
    """
def hypot(input: typing.Any, other: typing.Any) -> Tensor:
    """
    hypot(input, other) -> Tensor
    
    sqrt(input**2 + other**2) elementwise, without overflow.
    """
@typing.overload
def index_add(input: Tensor, dim: typing.SupportsInt | typing.SupportsIndex, index: typing.Any, source: Tensor, *, alpha: typing.SupportsFloat | typing.SupportsIndex = 1.0) -> Tensor:
    """
    index_add(input, dim, index, source, *, alpha=1) -> Tensor
    
    input with alpha * source added at the entries index names along dim (duplicates accumulate).
    """
@typing.overload
def index_add(input: Tensor, axis: typing.SupportsInt | typing.SupportsIndex, index: typing.Any, source: Tensor, *, alpha: typing.SupportsFloat | typing.SupportsIndex = 1.0) -> Tensor:
    """
    index_add(input, dim, index, source, *, alpha=1) -> Tensor
    
    input with alpha * source added at the entries index names along dim (duplicates accumulate).
    """
@typing.overload
def index_copy(input: Tensor, dim: typing.SupportsInt | typing.SupportsIndex, index: typing.Any, source: Tensor) -> Tensor:
    """
    index_copy(input, dim, index, source) -> Tensor
    
    input with source's slices copied to the entries index names along dim.
    """
@typing.overload
def index_copy(input: Tensor, axis: typing.SupportsInt | typing.SupportsIndex, index: typing.Any, source: Tensor) -> Tensor:
    """
    index_copy(input, dim, index, source) -> Tensor
    
    input with source's slices copied to the entries index names along dim.
    """
@typing.overload
def index_fill(input: Tensor, dim: typing.SupportsInt | typing.SupportsIndex, index: typing.Any, value: typing.Any) -> Tensor:
    """
    index_fill(input, dim, index, value) -> Tensor
    
    input with value at the entries index names along dim.
    """
@typing.overload
def index_fill(input: Tensor, axis: typing.SupportsInt | typing.SupportsIndex, index: typing.Any, value: typing.Any) -> Tensor:
    """
    index_fill(input, dim, index, value) -> Tensor
    
    input with value at the entries index names along dim.
    """
def index_put(input: Tensor, indices: typing.Any, values: Tensor, accumulate: builtins.bool = False) -> Tensor:
    """
    index_put(input, indices, values, accumulate=False) -> Tensor
    
    A copy of input with input[indices] = values (indices: a tuple of long or bool tensors, values broadcast to the indexed shape, in input's dtype); with accumulate, the values are added instead and repeated indices add up. Differentiable in input (zero gradient at the written entries unless accumulate) and values (the gradient of the entries each one was written to, summed).
    """
@typing.overload
def index_select(input: Tensor, dim: typing.SupportsInt | typing.SupportsIndex, index: typing.Any) -> Tensor:
    """
    index_select(input, dim, index) -> Tensor
    
    The entries of input at `index` (a vector) along dim.
    """
@typing.overload
def index_select(input: Tensor, axis: typing.SupportsInt | typing.SupportsIndex, index: typing.Any) -> Tensor:
    """
    index_select(input, dim, index) -> Tensor
    
    The entries of input at `index` (a vector) along dim.
    """
def initial_seed() -> builtins.int:
    ...
def is_grad_enabled() -> builtins.bool:
    ...
def isfinite(input: Tensor) -> Tensor:
    """
    isfinite(input) -> Tensor
    
    Where input is neither NaN nor +-inf.
    """
def isinf(input: Tensor) -> Tensor:
    """
    isinf(input) -> Tensor
    
    Where input is +-inf, as bool.
    """
def isnan(input: Tensor) -> Tensor:
    """
    isnan(input) -> Tensor
    
    Where input is NaN, as bool.
    """
def isneginf(input: Tensor) -> Tensor:
    """
    isneginf(input) -> Tensor
    
    Where input is -inf, as bool.
    """
def isposinf(input: Tensor) -> Tensor:
    """
    isposinf(input) -> Tensor
    
    Where input is +inf, as bool.
    """
@typing.overload
def kthvalue(input: Tensor, k: typing.Any, dim: typing.SupportsInt | typing.SupportsIndex = -1, keepdim: builtins.bool = False) -> typing.Any:
    """
    kthvalue(input, k, dim=-1, keepdim=False) -> (values, indices)
    
    The k-th smallest value along dim (k from 1) and its index in the stable sort.
    """
@typing.overload
def kthvalue(input: Tensor, k: typing.Any, axis: typing.SupportsInt | typing.SupportsIndex = -1, keepdims: builtins.bool = False) -> typing.Any:
    """
    kthvalue(input, k, dim=-1, keepdim=False) -> (values, indices)
    
    The k-th smallest value along dim (k from 1) and its index in the stable sort.
    """
def layer_norm(input: Tensor, normalized_shape: typing.Any, weight: Tensor | None = None, bias: Tensor | None = None, eps: typing.SupportsFloat | typing.SupportsIndex = 1e-05) -> Tensor:
    """
    layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-05) -> Tensor
    
    Layer normalization over the trailing normalized_shape dims.
    """
def le(input: Tensor, other: typing.Any) -> Tensor:
    """
    le(input, other) -> Tensor
    
    input <= other, as bool.
    """
def leaky_relu(input: Tensor, negative_slope: typing.SupportsFloat | typing.SupportsIndex = 0.01) -> Tensor:
    """
    leaky_relu(input, negative_slope=0.01) -> Tensor
    """
def lerp(input: Tensor, end: Tensor, weight: typing.Any) -> Tensor:
    """
    lerp(input, end, weight) -> Tensor
    
    input + weight * (end - input); weight a number or a tensor, all of one floating dtype.
    """
def less(input: Tensor, other: typing.Any) -> Tensor:
    """
    lt(input, other) -> Tensor
    
    input < other, as bool.
    """
def less_equal(input: Tensor, other: typing.Any) -> Tensor:
    """
    le(input, other) -> Tensor
    
    input <= other, as bool.
    """
def linspace(start: typing.Any, end: typing.Any, steps: typing.Any, *, dtype: typing.Any = None, requires_grad: builtins.bool = False, device: typing.Any = None) -> Tensor:
    ...
def log(input: Tensor) -> Tensor:
    """
    log(input) -> Tensor
    
    Natural logarithm.
    """
def log10(input: Tensor) -> Tensor:
    """
    log10(input) -> Tensor
    
    Base-10 logarithm.
    """
def log1p(input: Tensor) -> Tensor:
    """
    log1p(input) -> Tensor
    
    log(1 + input), accurate for small input.
    """
def log2(input: Tensor) -> Tensor:
    """
    log2(input) -> Tensor
    
    Base-2 logarithm.
    """
@typing.overload
def log_softmax(input: Tensor, dim: typing.SupportsInt | typing.SupportsIndex, dtype: typing.Any = None) -> Tensor:
    """
    log_softmax(input, dim, dtype=None) -> Tensor
    
    log(softmax(input, dim)), computed stably.
    """
@typing.overload
def log_softmax(input: Tensor, axis: typing.SupportsInt | typing.SupportsIndex, dtype: typing.Any = None) -> Tensor:
    """
    log_softmax(input, dim, dtype=None) -> Tensor
    
    log(softmax(input, dim)), computed stably.
    """
def logaddexp(input: typing.Any, other: typing.Any) -> Tensor:
    """
    logaddexp(input, other) -> Tensor
    
    log(exp(input) + exp(other)), computed stably.
    """
def logaddexp2(input: typing.Any, other: typing.Any) -> Tensor:
    """
    logaddexp2(input, other) -> Tensor
    
    log2(2**input + 2**other), computed stably.
    """
@typing.overload
def logcumsumexp(input: Tensor, dim: typing.SupportsInt | typing.SupportsIndex) -> Tensor:
    """
    logcumsumexp(input, dim) -> Tensor
    
    log(cumsum(exp(input))) along dim, computed stably (floating inputs).
    """
@typing.overload
def logcumsumexp(input: Tensor, axis: typing.SupportsInt | typing.SupportsIndex) -> Tensor:
    """
    logcumsumexp(input, dim) -> Tensor
    
    log(cumsum(exp(input))) along dim, computed stably (floating inputs).
    """
def logical_and(input: Tensor, other: typing.Any) -> Tensor:
    """
    logical_and(input, other) -> Tensor
    
    Elementwise and, as bool.
    """
def logical_not(input: Tensor) -> Tensor:
    """
    logical_not(input) -> Tensor
    
    Elementwise not, as bool.
    """
def logical_or(input: Tensor, other: typing.Any) -> Tensor:
    """
    logical_or(input, other) -> Tensor
    
    Elementwise or, as bool.
    """
def logical_xor(input: Tensor, other: typing.Any) -> Tensor:
    """
    logical_xor(input, other) -> Tensor
    
    Elementwise xor, as bool.
    """
@typing.overload
def logsumexp(input: Tensor, dim: typing.Any, keepdim: builtins.bool = False) -> Tensor:
    """
    logsumexp(input, dim, keepdim=False) -> Tensor
    
    log(sum(exp(input))), computed stably.
    """
@typing.overload
def logsumexp(input: Tensor, axis: typing.Any, keepdims: builtins.bool = False) -> Tensor:
    """
    logsumexp(input, dim, keepdim=False) -> Tensor
    
    log(sum(exp(input))), computed stably.
    """
def lt(input: Tensor, other: typing.Any) -> Tensor:
    """
    lt(input, other) -> Tensor
    
    input < other, as bool.
    """
def manual_seed(seed: typing.Any) -> Generator:
    ...
def masked_fill(input: Tensor, mask: typing.Any, value: typing.Any) -> Tensor:
    """
    masked_fill(input, mask, value) -> Tensor
    
    input with value (a number or a 0-d tensor, which then gets the gradient of the filled positions) where mask (bool, broadcast) is True.
    """
def masked_scatter(input: Tensor, mask: typing.Any, source: Tensor) -> Tensor:
    """
    masked_scatter(input, mask, source) -> Tensor
    
    input with source's entries, in order, where mask is True.
    """
def masked_select(input: Tensor, mask: typing.Any) -> Tensor:
    """
    masked_select(input, mask) -> Tensor
    
    The entries where mask (broadcast with input) is True, as 1-D.
    """
def matmul(input: Tensor, other: Tensor) -> Tensor:
    """
    matmul(input, other) -> Tensor
    
    Matrix product with NumPy's rules for 1-d and batched operands.
    """
@typing.overload
def max(input: Tensor, dim: typing.Any = None, keepdim: builtins.bool = False) -> typing.Any:
    """
    max(input, dim=None, keepdim=False)
    
    The largest value, or (values, indices) along dim.
    """
@typing.overload
def max(input: Tensor, axis: typing.Any = None, keepdims: builtins.bool = False) -> typing.Any:
    """
    max(input, dim=None, keepdim=False)
    
    The largest value, or (values, indices) along dim.
    """
def maximum(input: Tensor, other: typing.Any) -> Tensor:
    """
    maximum(input, other) -> Tensor
    
    Elementwise max; NaN propagates; ties split the gradient.
    """
@typing.overload
def mean(input: Tensor, dim: typing.Any = None, keepdim: builtins.bool = False, *, dtype: typing.Any = None) -> Tensor:
    """
    mean(input, dim=None, keepdim=False, *, dtype=None) -> Tensor
    
    Mean over dim (floating inputs only).
    """
@typing.overload
def mean(input: Tensor, axis: typing.Any = None, keepdims: builtins.bool = False, *, dtype: typing.Any = None) -> Tensor:
    """
    mean(input, dim=None, keepdim=False, *, dtype=None) -> Tensor
    
    Mean over dim (floating inputs only).
    """
@typing.overload
def median(input: Tensor, dim: typing.Any = None, keepdim: builtins.bool = False) -> typing.Any:
    """
    median(input, dim=None, keepdim=False)
    
    The lower median: of all elements (a tensor; ties share the gradient), or (values, indices) along dim. NaN when a NaN is present.
    """
@typing.overload
def median(input: Tensor, axis: typing.Any = None, keepdims: builtins.bool = False) -> typing.Any:
    """
    median(input, dim=None, keepdim=False)
    
    The lower median: of all elements (a tensor; ties share the gradient), or (values, indices) along dim. NaN when a NaN is present.
    """
@typing.overload
def min(input: Tensor, dim: typing.Any = None, keepdim: builtins.bool = False) -> typing.Any:
    """
    min(input, dim=None, keepdim=False)
    
    The smallest value, or (values, indices) along dim.
    """
@typing.overload
def min(input: Tensor, axis: typing.Any = None, keepdims: builtins.bool = False) -> typing.Any:
    """
    min(input, dim=None, keepdim=False)
    
    The smallest value, or (values, indices) along dim.
    """
def minimum(input: Tensor, other: typing.Any) -> Tensor:
    """
    minimum(input, other) -> Tensor
    
    Elementwise min; NaN propagates; ties split the gradient.
    """
def mm(input: Tensor, mat2: Tensor) -> Tensor:
    """
    mm(input, mat2) -> Tensor
    
    Matrix product of two 2-D tensors.
    """
@typing.overload
def mode(input: Tensor, dim: typing.SupportsInt | typing.SupportsIndex = -1, keepdim: builtins.bool = False) -> typing.Any:
    """
    mode(input, dim=-1, keepdim=False) -> (values, indices)
    
    The most frequent value along dim (the smallest of equally frequent ones) and the index of its last occurrence.
    """
@typing.overload
def mode(input: Tensor, axis: typing.SupportsInt | typing.SupportsIndex = -1, keepdims: builtins.bool = False) -> typing.Any:
    """
    mode(input, dim=-1, keepdim=False) -> (values, indices)
    
    The most frequent value along dim (the smallest of equally frequent ones) and the index of its last occurrence.
    """
def moveaxis(input: Tensor, source: typing.Any, destination: typing.Any) -> Tensor:
    """
    movedim(input, source, destination) -> Tensor
    
    A view with dims moved.
    """
def movedim(input: Tensor, source: typing.Any, destination: typing.Any) -> Tensor:
    """
    movedim(input, source, destination) -> Tensor
    
    A view with dims moved.
    """
def msort(input: Tensor) -> Tensor:
    """
    msort(input) -> Tensor
    
    sort(input, dim=0).values.
    """
def mul(input: typing.Any, other: typing.Any) -> Tensor:
    """
    mul(input, other) -> Tensor
    
    Elementwise product, broadcasting.
    """
def multinomial(input: Tensor, num_samples: typing.Any, replacement: builtins.bool = False, *, generator: typing.Any = None) -> Tensor:
    """
    multinomial(input, num_samples, replacement=False, *, generator=None) -> Tensor
    
    num_samples category indices per row of a 1-D or 2-D tensor of non-negative weights; without replacement no category repeats within a row.
    """
def multiply(input: typing.Any, other: typing.Any) -> Tensor:
    """
    mul(input, other) -> Tensor
    
    Elementwise product, broadcasting.
    """
def mv(input: Tensor, vec: Tensor) -> Tensor:
    """
    mv(input, vec) -> Tensor
    
    Matrix-vector product.
    """
def nan_to_num(input: Tensor, nan: typing.SupportsFloat | typing.SupportsIndex | None = 0.0, posinf: typing.SupportsFloat | typing.SupportsIndex | None = None, neginf: typing.SupportsFloat | typing.SupportsIndex | None = None) -> Tensor:
    """
    nan_to_num(input, nan=0.0, posinf=None, neginf=None) -> Tensor
    
    Replaces NaN, +inf and -inf (by default with 0, the dtype's largest and its lowest finite value).
    """
@typing.overload
def nanmean(input: Tensor, dim: typing.Any = None, keepdim: builtins.bool = False, *, dtype: typing.Any = None) -> Tensor:
    """
    nanmean(input, dim=None, keepdim=False, *, dtype=None) -> Tensor
    
    Mean over dim of the non-NaN entries (NaN where there are none); floating inputs only.
    """
@typing.overload
def nanmean(input: Tensor, axis: typing.Any = None, keepdims: builtins.bool = False, *, dtype: typing.Any = None) -> Tensor:
    """
    nanmean(input, dim=None, keepdim=False, *, dtype=None) -> Tensor
    
    Mean over dim of the non-NaN entries (NaN where there are none); floating inputs only.
    """
@typing.overload
def nanmedian(input: Tensor, dim: typing.Any = None, keepdim: builtins.bool = False) -> typing.Any:
    """
    nanmedian(input, dim=None, keepdim=False)
    
    median ignoring NaN (NaN only where every value is NaN).
    """
@typing.overload
def nanmedian(input: Tensor, axis: typing.Any = None, keepdims: builtins.bool = False) -> typing.Any:
    """
    nanmedian(input, dim=None, keepdim=False)
    
    median ignoring NaN (NaN only where every value is NaN).
    """
@typing.overload
def nanquantile(input: Tensor, q: typing.Any, dim: typing.Any = None, keepdim: builtins.bool = False, *, interpolation: str = 'linear') -> Tensor:
    """
    nanquantile(input, q, dim=None, keepdim=False, *, interpolation='linear') -> Tensor
    
    quantile ignoring NaN (NaN only where every value is NaN).
    """
@typing.overload
def nanquantile(input: Tensor, q: typing.Any, axis: typing.Any = None, keepdims: builtins.bool = False, *, interpolation: str = 'linear') -> Tensor:
    """
    nanquantile(input, q, dim=None, keepdim=False, *, interpolation='linear') -> Tensor
    
    quantile ignoring NaN (NaN only where every value is NaN).
    """
@typing.overload
def nansum(input: Tensor, dim: typing.Any = None, keepdim: builtins.bool = False, *, dtype: typing.Any = None) -> Tensor:
    """
    nansum(input, dim=None, keepdim=False, *, dtype=None) -> Tensor
    
    Sum over dim treating NaN as zero (NaN entries get no gradient).
    """
@typing.overload
def nansum(input: Tensor, axis: typing.Any = None, keepdims: builtins.bool = False, *, dtype: typing.Any = None) -> Tensor:
    """
    nansum(input, dim=None, keepdim=False, *, dtype=None) -> Tensor
    
    Sum over dim treating NaN as zero (NaN entries get no gradient).
    """
@typing.overload
def narrow(input: Tensor, dim: typing.SupportsInt | typing.SupportsIndex, start: typing.SupportsInt | typing.SupportsIndex, length: typing.SupportsInt | typing.SupportsIndex) -> Tensor:
    """
    narrow(input, dim, start, length) -> Tensor
    
    A view of length entries from start along dim.
    """
@typing.overload
def narrow(input: Tensor, axis: typing.SupportsInt | typing.SupportsIndex, start: typing.SupportsInt | typing.SupportsIndex, length: typing.SupportsInt | typing.SupportsIndex) -> Tensor:
    """
    narrow(input, dim, start, length) -> Tensor
    
    A view of length entries from start along dim.
    """
def ne(input: Tensor, other: typing.Any) -> Tensor:
    """
    ne(input, other) -> Tensor
    
    input != other, as bool.
    """
def neg(input: Tensor) -> Tensor:
    """
    neg(input) -> Tensor
    
    -input.
    """
def negative(input: Tensor) -> Tensor:
    """
    neg(input) -> Tensor
    
    -input.
    """
def nonzero(input: Tensor, *, as_tuple: builtins.bool = False) -> typing.Any:
    """
    nonzero(input, *, as_tuple=False) -> Tensor
    
    Indices of the non-zero entries: shape [count, ndim], or one 1-D tensor per dim with as_tuple=True.
    """
@typing.overload
def norm(input: Tensor, p: typing.Any = 'fro', dim: typing.Any = None, keepdim: builtins.bool = False, dtype: typing.Any = None) -> Tensor:
    """
    norm(input, p='fro', dim=None, keepdim=False, dtype=None) -> Tensor
    
    Vector p-norm over dim.
    """
@typing.overload
def norm(input: Tensor, p: typing.Any = 'fro', axis: typing.Any = None, keepdims: builtins.bool = False, dtype: typing.Any = None) -> Tensor:
    """
    norm(input, p='fro', dim=None, keepdim=False, dtype=None) -> Tensor
    
    Vector p-norm over dim.
    """
def normal(mean: typing.Any, std: typing.Any = 1.0, size: typing.Any = None, *, generator: typing.Any = None, dtype: typing.Any = None, requires_grad: builtins.bool = False, device: typing.Any = None) -> Tensor:
    """
    normal(mean, std=1.0, size=None, *, generator=None, dtype=None, requires_grad=False) -> Tensor
    
    Normal samples: elementwise for a tensor mean and/or std (broadcast; zero gradient), or of the given size for numbers.
    """
def not_equal(input: Tensor, other: typing.Any) -> Tensor:
    """
    ne(input, other) -> Tensor
    
    input != other, as bool.
    """
def ones_like(input: Tensor, *, dtype: typing.Any = None, requires_grad: builtins.bool = False, generator: typing.Any = None, device: typing.Any = None) -> Tensor:
    ...
def outer(input: Tensor, vec2: Tensor) -> Tensor:
    """
    outer(input, vec2) -> Tensor
    
    Outer product of two 1-D tensors.
    """
def permute(input: Tensor, dims: typing.Any) -> Tensor:
    """
    permute(input, dims) -> Tensor
    
    A view with the dims reordered.
    """
def pow(input: typing.Any, exponent: typing.Any) -> Tensor:
    """
    pow(input, exponent) -> Tensor
    
    input ** exponent; either may be a number.
    """
@typing.overload
def prod(input: Tensor, dim: typing.Any = None, keepdim: builtins.bool = False, *, dtype: typing.Any = None) -> Tensor:
    """
    prod(input, dim=None, keepdim=False, *, dtype=None) -> Tensor
    
    Product over dim.
    """
@typing.overload
def prod(input: Tensor, axis: typing.Any = None, keepdims: builtins.bool = False, *, dtype: typing.Any = None) -> Tensor:
    """
    prod(input, dim=None, keepdim=False, *, dtype=None) -> Tensor
    
    Product over dim.
    """
@typing.overload
def quantile(input: Tensor, q: typing.Any, dim: typing.Any = None, keepdim: builtins.bool = False, *, interpolation: str = 'linear') -> Tensor:
    """
    quantile(input, q, dim=None, keepdim=False, *, interpolation='linear') -> Tensor
    
    The q-quantiles along dim (of all elements when None); q a number or a 0-d/1-D tensor of input's dtype in [0, 1] (1-D adds a leading dim). NaN where a NaN is present.
    """
@typing.overload
def quantile(input: Tensor, q: typing.Any, axis: typing.Any = None, keepdims: builtins.bool = False, *, interpolation: str = 'linear') -> Tensor:
    """
    quantile(input, q, dim=None, keepdim=False, *, interpolation='linear') -> Tensor
    
    The q-quantiles along dim (of all elements when None); q a number or a 0-d/1-D tensor of input's dtype in [0, 1] (1-D adds a leading dim). NaN where a NaN is present.
    """
def rand(*args: typing.Any, size: typing.Any = None, generator: typing.Any = None, dtype: typing.Any = None, requires_grad: builtins.bool = False, device: typing.Any = None) -> Tensor:
    ...
def rand_like(input: Tensor, *, dtype: typing.Any = None, requires_grad: builtins.bool = False, generator: typing.Any = None, device: typing.Any = None) -> Tensor:
    ...
def randint(*args: typing.Any, size: typing.Any = None, generator: typing.Any = None, dtype: typing.Any = None, requires_grad: builtins.bool = False, device: typing.Any = None) -> Tensor:
    ...
def randint_like(input: Tensor, low: typing.Any, high: typing.Any = None, *, dtype: typing.Any = None, requires_grad: builtins.bool = False, generator: typing.Any = None, device: typing.Any = None) -> Tensor:
    ...
def randn(*args: typing.Any, size: typing.Any = None, generator: typing.Any = None, dtype: typing.Any = None, requires_grad: builtins.bool = False, device: typing.Any = None) -> Tensor:
    ...
def randn_like(input: Tensor, *, dtype: typing.Any = None, requires_grad: builtins.bool = False, generator: typing.Any = None, device: typing.Any = None) -> Tensor:
    ...
def randperm(n: typing.Any, *, generator: typing.Any = None, dtype: typing.Any = None, requires_grad: builtins.bool = False, device: typing.Any = None) -> Tensor:
    ...
def reciprocal(input: Tensor) -> Tensor:
    """
    reciprocal(input) -> Tensor
    
    1 / input.
    """
def relu(input: Tensor) -> Tensor:
    """
    relu(input) -> Tensor
    
    max(input, 0).
    """
def remainder(input: typing.Any, other: typing.Any) -> Tensor:
    """
    remainder(input, other) -> Tensor
    
    Python's modulo: the result has the divisor's sign.
    """
def reshape(input: Tensor, shape: typing.Any) -> Tensor:
    """
    reshape(input, shape) -> Tensor
    
    A view when the layout allows, else a copy; one size may be -1.
    """
def round(input: Tensor, *, decimals: typing.SupportsInt | typing.SupportsIndex = 0) -> Tensor:
    """
    round(input, *, decimals=0) -> Tensor
    
    Rounds half to even, at `decimals` decimal places (negative: to tens, hundreds, ...); integer tensors are returned as they are.
    """
def rsqrt(input: Tensor) -> Tensor:
    """
    rsqrt(input) -> Tensor
    
    1 / sqrt(input).
    """
@typing.overload
def scatter(input: Tensor, dim: typing.SupportsInt | typing.SupportsIndex, index: typing.Any, src: typing.Any = None, value: typing.Any = None, *, reduce: str | None = None) -> Tensor:
    """
    scatter(input, dim, index, src=None, value=None, *, reduce=None) -> Tensor
    
    out[index[i][j]][j] = src[i][j] (dim 0; src may be a number); reduce='add'/'multiply' combines instead.
    """
@typing.overload
def scatter(input: Tensor, axis: typing.SupportsInt | typing.SupportsIndex, index: typing.Any, src: typing.Any = None, value: typing.Any = None, *, reduce: str | None = None) -> Tensor:
    """
    scatter(input, dim, index, src=None, value=None, *, reduce=None) -> Tensor
    
    out[index[i][j]][j] = src[i][j] (dim 0; src may be a number); reduce='add'/'multiply' combines instead.
    """
@typing.overload
def scatter_add(input: Tensor, dim: typing.SupportsInt | typing.SupportsIndex, index: typing.Any, src: Tensor) -> Tensor:
    """
    scatter_add(input, dim, index, src) -> Tensor
    
    input with src added at the positions index names along dim (duplicates accumulate).
    """
@typing.overload
def scatter_add(input: Tensor, axis: typing.SupportsInt | typing.SupportsIndex, index: typing.Any, src: Tensor) -> Tensor:
    """
    scatter_add(input, dim, index, src) -> Tensor
    
    input with src added at the positions index names along dim (duplicates accumulate).
    """
@typing.overload
def scatter_reduce(input: Tensor, dim: typing.SupportsInt | typing.SupportsIndex, index: typing.Any, src: Tensor, reduce: str, *, include_self: builtins.bool = True) -> Tensor:
    """
    scatter_reduce(input, dim, index, src, reduce, *, include_self=True) -> Tensor
    
    Combines src into input at the positions index names: reduce is 'sum', 'prod', 'mean', 'amax' or 'amin'.
    """
@typing.overload
def scatter_reduce(input: Tensor, axis: typing.SupportsInt | typing.SupportsIndex, index: typing.Any, src: Tensor, reduce: str, *, include_self: builtins.bool = True) -> Tensor:
    """
    scatter_reduce(input, dim, index, src, reduce, *, include_self=True) -> Tensor
    
    Combines src into input at the positions index names: reduce is 'sum', 'prod', 'mean', 'amax' or 'amin'.
    """
def searchsorted(sorted_sequence: Tensor, input: typing.Any, *, out_int32: builtins.bool = False, right: builtins.bool = False, side: typing.Any = None, sorter: Tensor | None = None) -> Tensor:
    """
    searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None, sorter=None) -> Tensor
    
    Insertion points keeping each row of sorted_sequence sorted (before equal entries; after them with right=True or side='right'). input: a tensor or a number. Indices are int64 even with out_int32=True (chainrule has no int32 dtype).
    """
def seed() -> builtins.int:
    ...
@typing.overload
def select(input: Tensor, dim: typing.SupportsInt | typing.SupportsIndex, index: typing.SupportsInt | typing.SupportsIndex) -> Tensor:
    """
    select(input, dim, index) -> Tensor
    
    The view input[..., index, ...] along dim.
    """
@typing.overload
def select(input: Tensor, axis: typing.SupportsInt | typing.SupportsIndex, index: typing.SupportsInt | typing.SupportsIndex) -> Tensor:
    """
    select(input, dim, index) -> Tensor
    
    The view input[..., index, ...] along dim.
    """
def set_num_threads(arg0: typing.SupportsInt | typing.SupportsIndex) -> None:
    ...
def set_rng_state(new_state: Tensor) -> None:
    ...
def sigmoid(input: Tensor) -> Tensor:
    """
    sigmoid(input) -> Tensor
    
    1 / (1 + exp(-input)).
    """
def sign(input: Tensor) -> Tensor:
    """
    sign(input) -> Tensor
    
    -1, 0 or 1 (gradient zero).
    """
def signbit(input: Tensor) -> Tensor:
    """
    signbit(input) -> Tensor
    
    Where the sign bit is set (-0.0 included).
    """
def silu(input: Tensor) -> Tensor:
    """
    silu(input) -> Tensor
    
    input * sigmoid(input).
    """
def sin(input: Tensor) -> Tensor:
    """
    sin(input) -> Tensor
    
    Sine.
    """
def sinh(input: Tensor) -> Tensor:
    """
    sinh(input) -> Tensor
    
    Hyperbolic sine.
    """
@typing.overload
def softmax(input: Tensor, dim: typing.SupportsInt | typing.SupportsIndex, dtype: typing.Any = None) -> Tensor:
    """
    softmax(input, dim, dtype=None) -> Tensor
    
    exp(input) normalized to sum to 1 along dim.
    """
@typing.overload
def softmax(input: Tensor, axis: typing.SupportsInt | typing.SupportsIndex, dtype: typing.Any = None) -> Tensor:
    """
    softmax(input, dim, dtype=None) -> Tensor
    
    exp(input) normalized to sum to 1 along dim.
    """
def softplus(input: Tensor, beta: typing.SupportsFloat | typing.SupportsIndex = 1.0, threshold: typing.SupportsFloat | typing.SupportsIndex = 20.0) -> Tensor:
    """
    softplus(input, beta=1.0, threshold=20.0) -> Tensor
    
    log(1 + exp(beta * input)) / beta; linear above threshold.
    """
@typing.overload
def sort(input: Tensor, dim: typing.SupportsInt | typing.SupportsIndex = -1, descending: builtins.bool = False, *, stable: typing.Any = False) -> typing.Any:
    """
    sort(input, dim=-1, descending=False, *, stable=False) -> (values, indices)
    
    Sorted along dim. Always stable (equal values keep their order, descending too), whatever stable says; NaN sorts as the largest value.
    """
@typing.overload
def sort(input: Tensor, axis: typing.SupportsInt | typing.SupportsIndex = -1, descending: builtins.bool = False, *, stable: typing.Any = False) -> typing.Any:
    """
    sort(input, dim=-1, descending=False, *, stable=False) -> (values, indices)
    
    Sorted along dim. Always stable (equal values keep their order, descending too), whatever stable says; NaN sorts as the largest value.
    """
@typing.overload
def split(tensor: Tensor, split_size_or_sections: typing.Any, dim: typing.SupportsInt | typing.SupportsIndex = 0) -> tuple:
    """
    split(tensor, split_size_or_sections, dim=0)
    
    Views of consecutive pieces along dim (a size, or a list of sizes).
    """
@typing.overload
def split(tensor: Tensor, split_size_or_sections: typing.Any, axis: typing.SupportsInt | typing.SupportsIndex = 0) -> tuple:
    """
    split(tensor, split_size_or_sections, dim=0)
    
    Views of consecutive pieces along dim (a size, or a list of sizes).
    """
def sqrt(input: Tensor) -> Tensor:
    """
    sqrt(input) -> Tensor
    
    Square root.
    """
def square(input: Tensor) -> Tensor:
    """
    square(input) -> Tensor
    
    input * input.
    """
@typing.overload
def squeeze(input: Tensor, dim: typing.Any = None) -> Tensor:
    """
    squeeze(input, dim=None) -> Tensor
    
    Removes size-1 dims (all, or those in dim).
    """
@typing.overload
def squeeze(input: Tensor, axis: typing.Any = None) -> Tensor:
    """
    squeeze(input, dim=None) -> Tensor
    
    Removes size-1 dims (all, or those in dim).
    """
@typing.overload
def stack(tensors: typing.Any, dim: typing.SupportsInt | typing.SupportsIndex = 0) -> Tensor:
    """
    stack(tensors, dim=0) -> Tensor
    
    Joins same-shaped tensors along a new dim.
    """
@typing.overload
def stack(tensors: typing.Any, axis: typing.SupportsInt | typing.SupportsIndex = 0) -> Tensor:
    """
    stack(tensors, dim=0) -> Tensor
    
    Joins same-shaped tensors along a new dim.
    """
@typing.overload
def std(input: Tensor, dim: typing.Any = None, unbiased: typing.Any = None, keepdim: builtins.bool = False, *, correction: typing.Any = None) -> Tensor:
    """
    std(input, dim=None, unbiased=None, keepdim=False, *, correction=None) -> Tensor
    
    Standard deviation (the square root of var).
    """
@typing.overload
def std(input: Tensor, axis: typing.Any = None, unbiased: typing.Any = None, keepdims: builtins.bool = False, *, correction: typing.Any = None) -> Tensor:
    """
    std(input, dim=None, unbiased=None, keepdim=False, *, correction=None) -> Tensor
    
    Standard deviation (the square root of var).
    """
@typing.overload
def std_mean(input: Tensor, dim: typing.Any = None, unbiased: typing.Any = None, keepdim: builtins.bool = False, *, correction: typing.Any = None) -> tuple:
    """
    std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None) -> (Tensor, Tensor)
    
    std and mean over dim in one call (a tuple); both differentiable.
    """
@typing.overload
def std_mean(input: Tensor, axis: typing.Any = None, unbiased: typing.Any = None, keepdims: builtins.bool = False, *, correction: typing.Any = None) -> tuple:
    """
    std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None) -> (Tensor, Tensor)
    
    std and mean over dim in one call (a tuple); both differentiable.
    """
def sub(input: typing.Any, other: typing.Any, *, alpha: typing.SupportsFloat | typing.SupportsIndex = 1.0) -> Tensor:
    """
    sub(input, other, *, alpha=1) -> Tensor
    
    input - alpha * other, broadcasting.
    """
def subtract(input: typing.Any, other: typing.Any, *, alpha: typing.SupportsFloat | typing.SupportsIndex = 1.0) -> Tensor:
    """
    sub(input, other, *, alpha=1) -> Tensor
    
    input - alpha * other, broadcasting.
    """
@typing.overload
def sum(input: Tensor, dim: typing.Any = None, keepdim: builtins.bool = False, *, dtype: typing.Any = None) -> Tensor:
    """
    sum(input, dim=None, keepdim=False, *, dtype=None) -> Tensor
    
    Sum over dim (all dims when None); bool and int64 sum to int64.
    """
@typing.overload
def sum(input: Tensor, axis: typing.Any = None, keepdims: builtins.bool = False, *, dtype: typing.Any = None) -> Tensor:
    """
    sum(input, dim=None, keepdim=False, *, dtype=None) -> Tensor
    
    Sum over dim (all dims when None); bool and int64 sum to int64.
    """
def swapaxes(input: Tensor, dim0: typing.SupportsInt | typing.SupportsIndex, dim1: typing.SupportsInt | typing.SupportsIndex) -> Tensor:
    """
    transpose(input, dim0, dim1) -> Tensor
    
    A view with two dims swapped.
    """
def swapdims(input: Tensor, dim0: typing.SupportsInt | typing.SupportsIndex, dim1: typing.SupportsInt | typing.SupportsIndex) -> Tensor:
    """
    transpose(input, dim0, dim1) -> Tensor
    
    A view with two dims swapped.
    """
def t(input: Tensor) -> Tensor:
    """
    t(input) -> Tensor
    
    Transpose of a matrix (vectors and scalars unchanged).
    """
def take(input: Tensor, index: typing.Any) -> Tensor:
    """
    take(input, index) -> Tensor
    
    input read as 1-D at index (negative entries count from the end); the result has index's shape.
    """
@typing.overload
def take_along_dim(input: Tensor, indices: typing.Any, dim: typing.SupportsInt | typing.SupportsIndex | None = None) -> Tensor:
    """
    take_along_dim(input, indices, dim=None) -> Tensor
    
    Values at indices along dim (the other dims broadcast); of the flattened input when dim is None.
    """
@typing.overload
def take_along_dim(input: Tensor, indices: typing.Any, axis: typing.SupportsInt | typing.SupportsIndex | None = None) -> Tensor:
    """
    take_along_dim(input, indices, dim=None) -> Tensor
    
    Values at indices along dim (the other dims broadcast); of the flattened input when dim is None.
    """
def tan(input: Tensor) -> Tensor:
    """
    tan(input) -> Tensor
    
    Tangent.
    """
def tanh(input: Tensor) -> Tensor:
    """
    tanh(input) -> Tensor
    
    Hyperbolic tangent.
    """
@typing.overload
def topk(input: Tensor, k: typing.Any, dim: typing.SupportsInt | typing.SupportsIndex = -1, largest: builtins.bool = True, sorted: builtins.bool = True) -> typing.Any:
    """
    topk(input, k, dim=-1, largest=True, sorted=True) -> (values, indices)
    
    The k largest (smallest) values along dim, always in sorted order; equal values come in index order.
    """
@typing.overload
def topk(input: Tensor, k: typing.Any, axis: typing.SupportsInt | typing.SupportsIndex = -1, largest: builtins.bool = True, sorted: builtins.bool = True) -> typing.Any:
    """
    topk(input, k, dim=-1, largest=True, sorted=True) -> (values, indices)
    
    The k largest (smallest) values along dim, always in sorted order; equal values come in index order.
    """
def trace(input: Tensor) -> Tensor:
    """
    trace(input) -> Tensor
    
    Sum of the main diagonal of a matrix.
    """
def transpose(input: Tensor, dim0: typing.SupportsInt | typing.SupportsIndex, dim1: typing.SupportsInt | typing.SupportsIndex) -> Tensor:
    """
    transpose(input, dim0, dim1) -> Tensor
    
    A view with two dims swapped.
    """
def tril(input: Tensor, diagonal: typing.SupportsInt | typing.SupportsIndex = 0) -> Tensor:
    """
    tril(input, diagonal=0) -> Tensor
    
    The lower triangle (on and below `diagonal`) of each matrix.
    """
def triu(input: Tensor, diagonal: typing.SupportsInt | typing.SupportsIndex = 0) -> Tensor:
    """
    triu(input, diagonal=0) -> Tensor
    
    The upper triangle (on and above `diagonal`) of each matrix.
    """
def true_divide(input: typing.Any, other: typing.Any) -> Tensor:
    """
    div(input, other) -> Tensor
    
    True division (integers give float32), broadcasting.
    """
def trunc(input: Tensor) -> Tensor:
    """
    trunc(input) -> Tensor
    
    Rounds toward zero; integer tensors are returned as they are.
    """
@typing.overload
def unbind(input: Tensor, dim: typing.SupportsInt | typing.SupportsIndex = 0) -> tuple:
    """
    unbind(input, dim=0)
    
    The views input[..., i, ...] for every i along dim.
    """
@typing.overload
def unbind(input: Tensor, axis: typing.SupportsInt | typing.SupportsIndex = 0) -> tuple:
    """
    unbind(input, dim=0)
    
    The views input[..., i, ...] for every i along dim.
    """
@typing.overload
def unique(input: Tensor, sorted: builtins.bool = True, return_inverse: builtins.bool = False, return_counts: builtins.bool = False, dim: typing.Any = None) -> typing.Any:
    """
    unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None)
    
    The distinct values (of the flattened input, or slices along dim), always sorted; with return_inverse and/or return_counts a tuple adding each element's position among them and their counts. NaNs are never equal. Not differentiable.
    """
@typing.overload
def unique(input: Tensor, sorted: builtins.bool = True, return_inverse: builtins.bool = False, return_counts: builtins.bool = False, axis: typing.Any = None) -> typing.Any:
    """
    unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None)
    
    The distinct values (of the flattened input, or slices along dim), always sorted; with return_inverse and/or return_counts a tuple adding each element's position among them and their counts. NaNs are never equal. Not differentiable.
    """
@typing.overload
def unique_consecutive(input: Tensor, return_inverse: builtins.bool = False, return_counts: builtins.bool = False, dim: typing.Any = None) -> typing.Any:
    """
    unique_consecutive(input, return_inverse=False, return_counts=False, dim=None)
    
    unique merging only runs of equal neighbours, in input order.
    """
@typing.overload
def unique_consecutive(input: Tensor, return_inverse: builtins.bool = False, return_counts: builtins.bool = False, axis: typing.Any = None) -> typing.Any:
    """
    unique_consecutive(input, return_inverse=False, return_counts=False, dim=None)
    
    unique merging only runs of equal neighbours, in input order.
    """
@typing.overload
def unsqueeze(input: Tensor, dim: typing.SupportsInt | typing.SupportsIndex) -> Tensor:
    """
    unsqueeze(input, dim) -> Tensor
    
    A view with a size-1 dim inserted.
    """
@typing.overload
def unsqueeze(input: Tensor, axis: typing.SupportsInt | typing.SupportsIndex) -> Tensor:
    """
    unsqueeze(input, dim) -> Tensor
    
    A view with a size-1 dim inserted.
    """
@typing.overload
def var(input: Tensor, dim: typing.Any = None, unbiased: typing.Any = None, keepdim: builtins.bool = False, *, correction: typing.Any = None) -> Tensor:
    """
    var(input, dim=None, unbiased=None, keepdim=False, *, correction=None) -> Tensor
    
    Variance with Bessel's correction (1 by default).
    """
@typing.overload
def var(input: Tensor, axis: typing.Any = None, unbiased: typing.Any = None, keepdims: builtins.bool = False, *, correction: typing.Any = None) -> Tensor:
    """
    var(input, dim=None, unbiased=None, keepdim=False, *, correction=None) -> Tensor
    
    Variance with Bessel's correction (1 by default).
    """
@typing.overload
def var_mean(input: Tensor, dim: typing.Any = None, unbiased: typing.Any = None, keepdim: builtins.bool = False, *, correction: typing.Any = None) -> tuple:
    """
    var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None) -> (Tensor, Tensor)
    
    var and mean over dim in one call (a tuple); both differentiable.
    """
@typing.overload
def var_mean(input: Tensor, axis: typing.Any = None, unbiased: typing.Any = None, keepdims: builtins.bool = False, *, correction: typing.Any = None) -> tuple:
    """
    var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None) -> (Tensor, Tensor)
    
    var and mean over dim in one call (a tuple); both differentiable.
    """
def where(condition: Tensor, input: typing.Any = None, other: typing.Any = None) -> typing.Any:
    """
    where(condition, input, other) -> Tensor
    
    input where condition, else other. where(condition) alone: the indices of condition's non-zero entries, as nonzero(condition, as_tuple=True).
    """
def xlogy(input: typing.Any, other: typing.Any) -> Tensor:
    """
    xlogy(input, other) -> Tensor
    
    input * log(other), and 0 where input == 0 (unless other is NaN).
    """
def zeros_like(input: Tensor, *, dtype: typing.Any = None, requires_grad: builtins.bool = False, generator: typing.Any = None, device: typing.Any = None) -> Tensor:
    ...
bfloat16: dtype
bool: dtype
default_generator: Generator
float16: dtype
float32: dtype
float64: dtype
int16: dtype
int32: dtype
int64: dtype
int8: dtype
uint8: dtype
