"""The op table: one OpInfo row per op of chainrule's op registry.

A row says how to call the op (function ``cr.<name>``, method ``Tensor.<name>``, in-place
``Tensor.<name>_`` and aliases), which inputs to try it on (plain shapes, broadcasting,
non-contiguous views, 0-d and empty tensors), which dtypes it takes and the dtype of its result,
whether it is differentiable, and what PyTorch calls it. ``tests/test_op_info.py`` runs every row
through the same checks: gradients by central differences, forward values and gradients against
PyTorch, dtype rules, agreement of the variants, and coverage of the op registry.

Adding an op: one row here (usually a copy of a similar row with a new name and domain). A row
that waits for an op not bound yet names it in ``requires=``; its tests skip until it exists.

Differentiability: ``supports_grad`` says whether the op has gradients at all; within a sample,
every floating ``Arg`` is differentiated unless it says ``grad=False`` (running statistics, class
weights, shape donors), and integer and bool arguments never are.

Samples hold NumPy arrays, not tensors, so that the same sample can be built in chainrule and in
PyTorch, in any dtype, with fresh leaves for every check. A tensor argument is an ``Arg``: its
``array`` becomes the tensor (the leaf of a gradient check) and its ``view``, applied to that
tensor, gives the op a non-contiguous input (a transpose, a strided slice, an expand).
"""

from __future__ import annotations

import dataclasses
import math
import operator
import zlib
from collections.abc import Iterable
from typing import Callable

import numpy as np

import chainrule as cr
from chainrule import _core

FUNCTION, METHOD, INPLACE = "function", "method", "inplace"
F = (FUNCTION,)
FM = (FUNCTION, METHOD)
FMI = (FUNCTION, METHOD, INPLACE)
M = (METHOD,)
MI = (METHOD, INPLACE)
I = (INPLACE,)  # noqa: E741 - in-place only: fill_, zero_, copy_

ALL_DTYPES = ("float32", "float64", "int64", "bool")
FLOATS = ("float32", "float64")
NUMERIC = ("float32", "float64", "int64")
INTEGRAL = ("int64", "bool")
_NP = {"float32": np.float32, "float64": np.float64, "int64": np.int64, "bool": np.bool_}


# ---- sample arguments ------------------------------------------------------------------------------
class Arg:
    """A tensor argument: ``array`` becomes the tensor; ``view(tensor)``, when given, is what the op
    receives. ``grad=False`` keeps a floating argument out of gradient checks (running statistics,
    class weights, shape donors)."""

    __slots__ = ("array", "view", "grad")

    def __init__(self, array, view: Callable | None = None, grad: bool = True):
        self.array = np.asarray(array)
        self.view = view
        self.grad = bool(grad) and self.array.dtype.kind == "f"

    def __repr__(self):
        return f"Arg({self.array.dtype}{list(self.array.shape)}{', view' if self.view else ''})"


class DT:
    """A dtype argument, resolved to chainrule's or PyTorch's dtype of that name."""

    def __init__(self, name: str):
        self.name = name

    def resolve(self, lib):
        return getattr(lib, self.name)

    def __repr__(self):
        return f"DT({self.name})"


def transpose_last(t):
    return t.transpose(-2, -1)


def every_other_last(t):
    return t[..., ::2]


@dataclasses.dataclass
class SampleInput:
    """One way to call the op: ``op(*args, **kwargs)`` where Args become tensors."""

    args: tuple
    kwargs: dict = dataclasses.field(default_factory=dict)
    name: str = ""
    gradcheck: bool = True  # False where central differences mean nothing (a NaN output)
    gradgrad: bool = True  # False where the gradient is a constant (it has no graph to differentiate)


def S(name: str, *args, **kwargs) -> SampleInput:
    return SampleInput(tuple(args), dict(kwargs), name)


def no_gradcheck(sample: SampleInput) -> SampleInput:
    sample.gradcheck = False
    return sample


def no_gradgrad(sample: SampleInput) -> SampleInput:
    sample.gradgrad = False
    return sample


class Maker:
    """Makes arrays of one dtype for one row, reproducibly (seeded by the op name and dtype)."""

    def __init__(self, op: OpInfo, dtype: str):
        self.dtype = dtype
        self.domain = op.domain
        self.rng = np.random.default_rng(zlib.crc32(f"{op.name}/{dtype}".encode()))

    def values(self, shape, low=None, high=None, dtype=None):
        dtype = dtype or self.dtype
        low = self.domain[0] if low is None else low
        high = self.domain[1] if high is None else high
        if dtype in FLOATS:
            return self.rng.uniform(low, high, size=shape).astype(_NP[dtype])
        if dtype == "int64":
            lo, hi = math.ceil(low), math.floor(high)
            if hi <= lo:
                lo, hi = lo, lo + 1
            return self.rng.integers(lo, hi + 1, size=shape).astype(np.int64)
        return self.rng.random(size=shape) < 0.5

    def __call__(self, *shape, low=None, high=None, nc=None, grad=True, dtype=None) -> Arg:
        """An Arg of the given shape; ``nc="T"``: a transposed view, ``nc="step"``: every other
        element of a twice-as-long last dim, ``nc="expand"``: a size-1 first dim expanded."""
        base, view = tuple(shape), None
        if nc == "T":
            base, view = base[:-2] + (base[-1], base[-2]), transpose_last
        elif nc == "step":
            base, view = base[:-1] + (2 * base[-1],), every_other_last
        elif nc == "expand":
            base = (1,) + base[1:]
            view = lambda t, s=tuple(shape): t.expand(*s)  # noqa: E731
        return Arg(self.values(base, low, high, dtype), view, grad)

    def scalar(self, low=None, high=None):
        """A Python number of the dtype's kind, inside the domain."""
        v = self.values((), low, high)
        return v.item()

    def index(self, shape, high, low=0) -> Arg:
        return Arg(self.rng.integers(low, high, size=shape).astype(np.int64))

    def mask(self, *shape) -> Arg:
        return Arg(self.rng.random(size=shape) < 0.5)


# ---- dtype rules --------------------------------------------------------------------------------------
_RANK = {"bool": 0, "int64": 1, "float32": 2, "float64": 3}
_KIND = {"bool": 0, "int64": 1, "float32": 2, "float64": 2}
_DEFAULT_OF_KIND = {0: "bool", 1: "int64", 2: "float32"}


def _dtype_name(d) -> str:
    return str(d).split(".")[-1]


def result_type(*operands):
    """PyTorch's type promotion: tensors with dims decide; a 0-d tensor or a Python number only
    when it is of a higher kind (bool < integer < floating); a Python float then gives float32, a
    0-d tensor its own dtype."""
    tiers: list[list[str]] = [[], [], []]
    for o in operands:
        if isinstance(o, cr.Tensor):
            tiers[0 if o.ndim else 1].append(_dtype_name(o.dtype))
        elif isinstance(o, (bool, np.bool_)):
            tiers[2].append("bool")
        elif isinstance(o, (int, np.integer)):
            tiers[2].append("int64")
        elif isinstance(o, (float, np.floating)):
            tiers[2].append("float32")
    result = None
    for level, names in enumerate(tiers):
        if not names:
            continue
        best = max(names, key=_RANK.__getitem__)
        if result is None:
            result = best
        elif _KIND[best] > _KIND[result]:
            result = _DEFAULT_OF_KIND[_KIND[best]] if level == 2 else best
    return getattr(cr, result)


def same(args, kwargs):
    """The dtype of the first tensor argument (of the first tensor of a list: cat, stack)."""
    first = args[0]
    while isinstance(first, (list, tuple)):
        first = first[0]
    return first.dtype


def floating(args, kwargs):
    """Floating inputs keep their dtype; integer and bool inputs give float32."""
    d = args[0].dtype
    return d if d.is_floating_point else cr.float32


def const(dtype_name):
    def rule(args, kwargs):
        return getattr(cr, dtype_name)

    rule.__name__ = f"always_{dtype_name}"
    return rule


def promote(*idx):
    def rule(args, kwargs):
        return result_type(*(args[i] for i in idx))

    return rule


def promote_floating(*idx):
    def rule(args, kwargs):
        d = result_type(*(args[i] for i in idx))
        return d if d.is_floating_point else cr.float32

    return rule


def _pow_rule(args, kwargs):
    """Type promotion; bool ** bool tensor gives int64 (chainrule's choice: PyTorch has no bool pow
    of tensors, and keeps bool for a bool tensor to a Python bool power)."""
    d = result_type(args[0], args[1])
    return cr.int64 if d == cr.bool and isinstance(args[1], cr.Tensor) else d


def _square_rule(args, kwargs):
    """square is pow(x, 2): bool promotes with the integer 2 to int64."""
    d = args[0].dtype
    return cr.int64 if d == cr.bool else d


def sum_rule(args, kwargs):
    """sum/prod: integers and bools accumulate in int64; dtype= converts first."""
    if kwargs.get("dtype") is not None:
        return kwargs["dtype"]
    d = args[0].dtype
    return d if d.is_floating_point else cr.int64


def dtype_kwarg_or_same(args, kwargs):
    return kwargs.get("dtype") or args[0].dtype


def values_and_indices(rule):
    """max/min: with a dim, (values, int64 indices)."""

    def wrapped(args, kwargs):
        has_dim = len(args) > 1 or "dim" in kwargs
        return (rule(args, kwargs), cr.int64) if has_dim else rule(args, kwargs)

    return wrapped


# ---- known failures -----------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class XFail:
    """A known mismatch, run as its own strict xfail case: ``test`` is one (or a tuple) of
    "gradcheck", "gradgradcheck", "torch", "dtype", "promotion", "variants", "inplace_gradcheck",
    "errors"; ``sample`` (a sample name, or a tuple of them) and ``dtype`` narrow it down."""

    test: str
    reason: str
    sample: str | tuple | None = None
    dtype: str | None = None

    def applies_to(self, test):
        return test in ((self.test,) if isinstance(self.test, str) else self.test)

    def matches(self, test, sample_name, dtype):
        samples = (self.sample,) if isinstance(self.sample, str) else self.sample
        return (
            self.applies_to(test)
            and (samples is None or sample_name in samples)
            and (self.dtype is None or self.dtype == dtype)
        )

    @property
    def id(self):
        sample = self.sample if isinstance(self.sample, str) or self.sample is None else "+".join(self.sample)
        return "-".join(p for p in ("xfail", self.dtype, sample) if p)


@dataclasses.dataclass
class ErrorInput:
    """A call that must raise ``error`` (shape errors ValueError, dtype and argument-type errors
    TypeError, bad indices and dims IndexError) with a message matching ``match``."""

    sample: SampleInput
    error: type
    match: str = ""

    @property
    def name(self):
        return self.sample.name


def E(name, error, match, *args, **kwargs) -> ErrorInput:
    return ErrorInput(S(name, *args, **kwargs), error, match)


# ---- rows ---------------------------------------------------------------------------------------------
@dataclasses.dataclass
class OpInfo:
    name: str
    variants: tuple = FM
    sample_inputs: Callable[[OpInfo, Maker], Iterable[SampleInput]] = None
    dtypes: tuple = FLOATS
    dtype_rule: Callable = same
    supports_grad: bool = True
    aliases: tuple = ()
    ref: Callable | None = None  # torch -> the PyTorch callable taking the same arguments
    ref_dtypes: tuple | None = None  # dtypes compared with PyTorch (default: dtypes)
    domain: tuple = (-1.0, 1.0)  # where arrays are drawn (log, sqrt: positive)
    atol: float = 1e-5  # against PyTorch, float32 results (float64: 1e-10 and 1e-7)
    rtol: float = 1e-5
    gc_atol: float = 1e-5  # central differences
    gc_rtol: float = 1e-3
    gc_eps: float = 1e-6
    supports_gradgrad: bool = True  # second derivatives (create_graph=True) by central differences
    promotes: tuple = ()  # argument positions that take part in type promotion
    method_args: Callable | None = None  # args of the function variant -> args of the method
    requires: str | None = None  # attribute of chainrule the row waits for (new ops)
    xfails: tuple = ()
    no_ref_samples: tuple = ()  # samples PyTorch refuses (chainrule accepts more)
    error_inputs: Callable | None = None  # (op, make) -> ErrorInputs
    operator: Callable | None = None  # the Python operator spelling (a + b, -a, a @ b)
    inplace_operator: Callable | None = None  # a += b
    note: str = ""

    # -- the callables --
    @property
    def available(self) -> bool:
        return self.requires is None or hasattr(cr, self.requires)

    def get_function(self):
        return getattr(cr, self.name) if is_function(cr, self.name) else getattr(_core, self.name)

    def get_method(self):
        return getattr(cr.Tensor, self.name)

    def get_inplace(self):
        return getattr(cr.Tensor, self.name + "_")

    def call_function(self, args, kwargs):
        return self.get_function()(*args, **kwargs)

    def call_method(self, args, kwargs):
        args = self.method_args(args) if self.method_args else args
        return self.get_method()(*args, **kwargs)

    def call_inplace(self, args, kwargs):
        args = self.method_args(args) if self.method_args else args
        return self.get_inplace()(*args, **kwargs)

    def __call__(self, *args, **kwargs):
        """The op through its main variant (function, else method, else in-place on a clone)."""
        if FUNCTION in self.variants:
            return self.call_function(args, kwargs)
        if METHOD in self.variants:
            return self.call_method(args, kwargs)
        return self.call_inplace((args[0].clone(),) + tuple(args[1:]), kwargs)

    def torch_ref(self, torch):
        if self.ref is not None:
            return self.ref(torch)
        if FUNCTION in self.variants:
            return getattr(torch, self.name)
        if METHOD in self.variants:
            return lambda x, *a, **k: getattr(x, self.name)(*a, **k)
        return lambda x, *a, **k: getattr(x.clone(), self.name + "_")(*a, **k)

    # -- samples --
    def samples(self, dtype: str) -> list[SampleInput]:
        return list(self.sample_inputs(self, Maker(self, dtype)))

    def __post_init__(self):
        if self.error_inputs is None:
            self.error_inputs = ERROR_INPUTS.get(self.name)

    def errors(self) -> list[ErrorInput]:
        if self.error_inputs is None:
            return []
        return list(self.error_inputs(self, Maker(self, self.dtypes[0])))

    def known(self, test, sample_name, dtype):
        return any(x.matches(test, sample_name, dtype) for x in self.xfails)


# ---- sample generators --------------------------------------------------------------------------------
def unary_samples(*extra_kwargs: dict, empty=True, zero_dim=True, extra=()):
    """Plain, transposed, strided, 0-d and empty inputs (each with every kwargs set given)."""
    kw_sets = extra_kwargs or ({},)

    def gen(op, make):
        for i, kw in enumerate(kw_sets):
            tag = f"_kw{i}" if len(kw_sets) > 1 else ""
            yield S("2d" + tag, make(3, 4), **kw)
            yield S("transposed" + tag, make(3, 4, nc="T"), **kw)
            yield S("strided" + tag, make(2, 3, nc="step"), **kw)
            yield S("expanded" + tag, make(3, 2, nc="expand"), **kw)
            if zero_dim:
                yield S("0d" + tag, make(), **kw)
            if empty:
                yield S("empty" + tag, make(0, 3), **kw)
        for e in extra:
            yield from e(op, make)

    return gen


def binary_samples(rhs=None, scalar=True, empty=True, extra=()):
    """Same shapes, broadcasting both ways, 0-d on either side, non-contiguous, empty, and a Python
    number as ``other``; ``rhs`` is the domain of the second input; ``extra``: more generators."""
    lo, hi = rhs if rhs else (None, None)

    def gen(op, make):
        r = lambda *s, **k: make(*s, low=lo, high=hi, **k)  # noqa: E731
        yield S("same_shape", make(3, 4), r(3, 4))
        yield S("bcast_row", make(3, 4), r(4))
        yield S("bcast_both", make(3, 1), r(1, 4))
        yield S("bcast_3d", make(2, 3, 4), r(3, 1))
        yield S("bcast_lhs", make(4), r(2, 4))
        yield S("0d_lhs", make(), r(3))
        yield S("0d_rhs", make(2, 3), r())
        yield S("0d_both", make(), r())
        yield S("non_contiguous", make(3, 4, nc="T"), r(3, 4, nc="step"))
        yield S("expanded", make(3, 4, nc="expand"), r(3, 4))
        if empty:
            yield S("empty", make(0, 3), r(3))
        if scalar:
            yield S("scalar_other", make(3, 4), make.scalar(lo, hi))
        for e in extra:
            yield from e(op, make)

    return gen


def _alpha_samples(op, make):
    if make.dtype in FLOATS:
        yield S("alpha", make(3, 4), make(4), alpha=2.5)
        yield S("alpha_non_contiguous", make(3, 4, nc="T"), make(3, 4, nc="step"), alpha=-0.5)
        yield S("alpha_scalar_other", make(3, 4), 1.5, alpha=2.0)
    elif make.dtype == "int64":
        yield S("alpha", make(3, 4), make(4), alpha=2)


def reduce_samples(
    *, dims=True, tuple_dims=True, keepdim=True, empty_all=True, empty_dim=True, dim_required=False, extra=()
):
    """All elements, one dim (negative too), several dims, keepdim, non-contiguous, 0-d, empty."""

    def gen(op, make):
        if not dim_required:
            yield S("all", make(3, 4))
            yield S("all_transposed", make(3, 4, nc="T"))
            yield S("all_0d", make())
            if empty_all:
                yield S("all_empty", make(0, 3))
        if dims:
            yield S("dim1", make(3, 4), 1)
            yield S("dim_neg", make(2, 3, 4), -1)
            if keepdim:
                yield S("dim0_keepdim", make(3, 4), 0, keepdim=True)
                yield S("dim_kw_keepdim", make(2, 3, 4), dim=1, keepdim=True)
            yield S("dim_transposed", make(3, 4, nc="T"), 0)
            yield S("dim_strided", make(3, 2, nc="step"), 1)
            yield S("dim_0d", make(), 0)
            if tuple_dims:
                yield S("dims_tuple", make(2, 3, 4), (0, 2))
                yield S("dims_tuple_keepdim", make(2, 3, 4), (-1, 0), keepdim=True)
            if empty_dim:
                yield S("dim_empty", make(0, 3), 1)
        for s in extra:
            yield from s(op, make)

    return gen


def positive(lo=0.5, hi=2.0):
    return (lo, hi)


# ---- samples for single ops ---------------------------------------------------------------------------
def _where_samples(op, make):
    yield S("same_shape", make.mask(3, 4), make(3, 4), make(3, 4))
    yield S("bcast", make.mask(3, 1), make(4), make(3, 4))
    yield S("bcast_cond", make.mask(4), make(3, 4), make(3, 1))
    yield S("non_contiguous", make.mask(3, 4), make(3, 4, nc="T"), make(3, 4, nc="step"))
    yield S("0d", make.mask(), make(), make())
    yield S("0d_other", make.mask(2, 3), make(2, 3), make())
    yield S("scalar_other", make.mask(2, 3), make(2, 3), make.scalar())
    yield S("empty", make.mask(0, 3), make(0, 3), make(3))
    yield S("scalars", make.mask(2, 3), make.scalar(), make.scalar())


def _where_method_args(args):
    return (args[1], args[0]) + tuple(args[2:])


def _clamp_samples(op, make):
    yield S("both", make(3, 4), -0.5 if make.dtype in FLOATS else -1, 0.5 if make.dtype in FLOATS else 0)
    yield S("min_only", make(3, 4, nc="T"), min=make.scalar())
    yield S("max_only", make(2, 3, nc="step"), max=make.scalar())
    yield S("0d", make(), -0.2 if make.dtype in FLOATS else 0, 0.3 if make.dtype in FLOATS else 1)
    yield S("empty", make(0, 2), min=0)
    if make.dtype != "bool":
        yield S("tensor_bounds", make(3, 4), make(4, low=-1, high=0), make(3, 1, low=0, high=1))
        yield S("tensor_min", make(3, 4), make(4, low=-1, high=0))
        yield S("tensor_max_kw", make(2, 4, nc="T"), max=make(4, low=-0.3, high=0.3))


def _masked_fill_samples(op, make):
    v = make.scalar()
    yield S("scalar_value", make(3, 4), make.mask(3, 4), v)
    yield S("bcast_mask", make(3, 4), make.mask(4), v)
    yield S("non_contiguous", make(3, 4, nc="T"), make.mask(3, 4), v)
    yield S("0d", make(), make.mask(), v)
    yield S("0d_tensor_value", make(3, 4), make.mask(3, 1), make())
    yield S("empty", make(0, 4), make.mask(0, 4), v)


def _pow_samples(op, make):
    yield from binary_samples(rhs=(-2.0, 2.0) if make.dtype in FLOATS else (0, 3), scalar=False)(op, make)
    if make.dtype in FLOATS:
        for e in (2, 3, 0.5, -1.0, 2.7):
            yield S(f"exp_{e}", make(3, 4), e)
        yield no_gradgrad(S("exp_0", make(3, 4), 0))  # a constant gradient: nothing to differentiate
        yield S("exp_transposed", make(3, 4, nc="T"), 2)
    else:
        yield S("exp_2", make(3, 4), 2)
    yield S("scalar_base", 2 if make.dtype == "int64" else 2.5, make(3, 4, low=0, high=2))


def _matmul_samples(op, make):
    yield S("mm", make(3, 4), make(4, 5))
    yield S("mv", make(3, 4), make(4))
    yield S("vm", make(4), make(4, 3))
    yield S("dot", make(4), make(4))
    yield S("bmm", make(2, 3, 4), make(2, 4, 2))
    yield S("batched_broadcast", make(2, 1, 3, 4), make(3, 4, 2))
    yield S("batch_times_matrix", make(2, 3, 4), make(4, 2))
    yield S("matrix_times_batch", make(3, 4), make(2, 4, 2))
    yield S("vector_times_batch", make(4), make(2, 4, 3))
    yield S("non_contiguous", make(3, 4, nc="T"), make(4, 2, nc="step"))
    yield S("empty_rows", make(0, 3), make(3, 2))
    yield S("empty_inner", make(2, 0), make(0, 3))


def _cat_samples(op, make):
    yield S("dim0", [make(2, 3), make(1, 3), make(3, 3)])
    yield S("dim1", [make(2, 3), make(2, 1)], 1)
    yield S("dim_neg", [make(2, 3, 2), make(2, 3, 1)], dim=-1)
    yield S("non_contiguous", [make(3, 2, nc="T"), make(3, 2, nc="step")], 1)
    yield S("single", [make(2, 3)])
    yield S("tuple_input", (make(2), make(3)))
    yield S("with_empty", [make(2, 3), make(0, 3)])


def _stack_samples(op, make):
    yield S("dim0", [make(2, 3), make(2, 3), make(2, 3)])
    yield S("dim1", [make(2, 3), make(2, 3)], 1)
    yield S("dim_last", [make(2, 3), make(2, 3)], dim=-1)
    yield S("non_contiguous", [make(3, 2, nc="T"), make(3, 2, nc="step")], 2)
    yield S("0d", [make(), make()])
    yield S("empty", [make(0, 3), make(0, 3)], 1)


def _norm_samples(op, make):
    yield S("default", make(3, 4))
    yield S("p2_dim", make(3, 4), 2, 1)
    yield S("p1", make(3, 4), 1)
    yield S("p1_dim_keepdim", make(2, 3, 4), 1, -1, True)
    yield S("pinf", make(3, 4), float("inf"))
    yield S("pinf_dim", make(3, 4), float("inf"), 0)
    yield S("pneginf", make(3, 4), float("-inf"))
    yield S("p3", make(3, 4), 3)
    yield S("p0", make(3, 4), 0)
    yield S("p_half_dim", make(3, 4, low=0.5, high=2), 0.5, 1)
    yield S("p_fro_dims", make(2, 3, 4), "fro", (1, 2))
    yield S("p2_dims_tuple", make(2, 3, 4), 2, (0, 2))
    yield S("transposed", make(3, 4, nc="T"), 2, 0)
    yield S("0d", make())
    yield S("empty", make(0, 3))


def _var_samples(op, make):
    yield S("all", make(3, 4))
    yield S("all_biased", make(3, 4), unbiased=False)
    yield S("dim", make(3, 4), 1)
    yield S("dim_biased_keepdim", make(2, 3, 4), 1, False, True)
    yield S("dims_tuple", make(2, 3, 4), (0, 2))
    yield S("correction0", make(3, 4), 0, correction=0)
    yield S("correction2", make(3, 5), dim=1, correction=2)
    yield S("transposed", make(3, 4, nc="T"), 0)
    yield S("strided", make(3, 2, nc="step"), -1, keepdim=True)


def _logsumexp_samples(op, make):
    yield S("dim1", make(3, 4), 1)
    yield S("dim0_keepdim", make(3, 4), 0, True)
    yield S("dims_tuple", make(2, 3, 4), (0, 2))
    yield S("transposed", make(3, 4, nc="T"), -1)
    yield S("0d", make(), 0)
    yield S("empty_dim", make(3, 0), 1)
    yield S("empty_kept", make(0, 3), 1)


def _softmax_samples(op, make):
    yield S("dim1", make(3, 4), 1)
    yield S("dim0", make(3, 4), 0)
    yield S("dim_neg_3d", make(2, 3, 4), -1)
    yield S("dim_middle", make(2, 3, 4), dim=1)
    yield S("transposed", make(3, 4, nc="T"), 1)
    yield S("strided", make(3, 2, nc="step"), 1)
    yield S("0d", make(), 0)
    yield S("empty", make(0, 3), 1)
    if make.dtype == "float32":
        yield S("dtype_float64", make(3, 4), 1, DT("float64"))


def _softmax_rule(args, kwargs):
    d = args[2] if len(args) > 2 else kwargs.get("dtype")
    return d if d is not None else args[0].dtype


def _max_samples(op, make):
    yield S("all", make(3, 4))
    yield S("all_transposed", make(3, 4, nc="T"))
    yield S("all_0d", make())
    yield S("dim", make(3, 4), 1)
    yield S("dim_keepdim", make(2, 3, 4), 0, True)
    yield S("dim_kw_neg", make(2, 3, 4), dim=-1)
    yield S("dim_transposed", make(3, 4, nc="T"), 0)
    yield S("dim_0d", make(), 0)


def _arg_samples(op, make):
    yield S("all", make(3, 4))
    yield S("all_keepdim", make(3, 4), keepdim=True)
    yield S("dim", make(3, 4), 1)
    yield S("dim_keepdim", make(2, 3, 4), 0, True)
    yield S("dim_neg", make(2, 3, 4), -1)
    yield S("transposed", make(3, 4, nc="T"), 1)
    yield S("0d", make())
    yield S("empty_dim", make(0, 3), 1)


def _prod_samples(op, make):
    yield S("all", make(3, 4))
    yield S("all_transposed", make(3, 4, nc="T"))
    yield S("all_0d", make())
    yield S("all_empty", make(0, 3))
    yield S("dim", make(3, 4), 1)
    yield S("dim_keepdim", make(2, 3, 4), -1, True)
    yield S("dim_strided", make(3, 2, nc="step"), 0)
    yield S("dim_empty", make(0, 3), 0)
    if make.dtype in FLOATS:
        z = make(2, 4)
        z.array[0, 1] = 0  # one zero in a row
        z.array[1, :2] = 0  # two zeros in a row
        yield S("with_zeros", z, 1)
        yield S("with_zeros_all", Arg(z.array[0]))
    if make.dtype == "int64":
        yield S("dtype_float64", make(3, 4), dtype=DT("float64"))


def _sum_samples(op, make):
    yield from reduce_samples()(op, make)
    if make.dtype != "float64":
        yield S("dtype_float64", make(3, 4), 1, dtype=DT("float64"))


def _mean_samples(op, make):
    yield from reduce_samples()(op, make)
    if make.dtype == "float32":
        yield S("dtype_float64", make(3, 4), 1, dtype=DT("float64"))


def _batch_norm_samples(op, make):
    pos = dict(low=0.5, high=2.0)
    rm = lambda n: make(n, grad=False)  # noqa: E731
    rv = lambda n: make(n, grad=False, **pos)  # noqa: E731
    yield S("train_2d", make(4, 3), rm(3), rv(3), make(3), make(3), True)
    yield S("train_3d", make(2, 3, 4), rm(3), rv(3), make(3), make(3), training=True)
    yield S("train_no_stats", make(4, 3), None, None, make(3), make(3), True)
    yield S("train_no_affine", make(4, 3, nc="T"), rm(3), rv(3), None, None, True, 0.2, 1e-3)
    yield S("eval_2d", make(4, 3), rm(3), rv(3), make(3), make(3), False)
    yield S("eval_4d", make(2, 3, 2, 2), rm(3), rv(3), make(3), make(3))


def _layer_norm_samples(op, make):
    yield S("last_dim", make(3, 4), (4,), make(4), make(4))
    yield S("two_dims", make(2, 3, 4), (3, 4), make(3, 4), make(3, 4))
    yield S("no_affine", make(3, 4), [4])
    yield S("weight_only", make(5, 2, nc="T"), (2,), make(2), None, 1e-3)
    yield S("strided", make(3, 3, nc="step"), (3,), make(3), make(3), eps=1e-4)


def _gather_samples(op, make):
    yield S("dim0", make(3, 4), 0, make.index((2, 4), 3))
    yield S("dim1", make(3, 4), 1, make.index((3, 6), 4))
    yield S("dim_neg_3d", make(2, 3, 4), -1, make.index((2, 3, 2), 4))
    yield S("smaller_index", make(3, 4), 1, make.index((2, 2), 4))
    yield S("transposed", make(3, 4, nc="T"), 1, make.index((3, 3), 4))
    yield S("empty_index", make(3, 4), 1, make.index((3, 0), 4))


def _take_along_dim_samples(op, make):
    yield S("dim1", make(3, 4), make.index((3, 2), 4), 1)
    yield S("dim0_bcast", make(3, 4), make.index((2, 1), 3), 0)
    yield S("dim_neg_3d", make(2, 3, 4), make.index((2, 3, 5), 4), dim=-1)
    yield S("transposed", make(3, 4, nc="T"), make.index((3, 4), 4), 1)
    yield S("no_dim", make(3, 4), make.index((5,), 12))


def _index_select_samples(op, make):
    yield S("dim0", make(3, 4), 0, make.index((5,), 3))
    yield S("dim1", make(3, 4), 1, make.index((2,), 4))
    yield S("dim_neg", make(2, 3, 4), -1, make.index((3,), 4))
    yield S("repeated", make(3, 4), 0, Arg(np.array([1, 1, 0], dtype=np.int64)))
    yield S("transposed", make(3, 4, nc="T"), 1, make.index((3,), 4))
    yield S("empty_index", make(3, 4), 0, Arg(np.zeros(0, dtype=np.int64)))


def _shape_samples(*cases):
    """Samples from (name, shape, nc, args, kwargs) tuples."""

    def gen(op, make):
        for name, shape, nc, args, kwargs in cases:
            yield S(name, make(*shape, nc=nc), *args, **kwargs)

    return gen


def _expand_as_samples(op, make):
    yield S("row", make(4), Arg(np.zeros((3, 4)), grad=False))
    yield S("col", make(3, 1), Arg(np.zeros((2, 3, 5)), grad=False))
    yield S("same", make(2, 3, nc="T"), Arg(np.zeros((2, 3)), grad=False))
    yield S("0d", make(), Arg(np.zeros((2,)), grad=False))


def _view_as_samples(op, make):
    yield S("flat", make(3, 4), Arg(np.zeros(12), grad=False))
    yield S("split", make(12), Arg(np.zeros((2, 3, 2)), grad=False))
    yield S("0d", make(1), Arg(np.zeros(()), grad=False))


def _reshape_as_samples(op, make):
    yield from _view_as_samples(op, make)
    yield S("transposed", make(3, 4, nc="T"), Arg(np.zeros((4, 3)), grad=False))


def _copy_samples(op, make):
    yield S("same_shape", make(3, 4), make(3, 4))
    yield S("bcast_src", make(3, 4), make(4))
    yield S("transposed_src", make(3, 4), make(3, 4, nc="T"))
    yield S("0d", make(), make())
    yield S("empty", make(0, 2), make(2))


def _fill_samples(op, make):
    yield S("scalar", make(3, 4), make.scalar())
    yield S("0d_tensor", make(3, 4), make())
    yield S("0d", make(), make.scalar())
    yield S("empty", make(0, 2), make.scalar())


def _conversion_samples(op, make):
    yield S("2d", make(3, 4))
    yield S("transposed", make(3, 4, nc="T"))
    yield S("0d", make())
    yield S("empty", make(0, 3))


def _to_samples(op, make):
    for target in ALL_DTYPES:
        yield S(f"to_{target}", make(3, 4), DT(target))
    yield S("to_kw_float64", make(2, 3, nc="T"), dtype=DT("float64"))
    yield S("to_0d", make(), DT("float32"))


def _to_rule(args, kwargs):
    return args[1] if len(args) > 1 else kwargs["dtype"]


def _loss_samples(*, reductions=("mean", "sum", "none"), extra_args=(), target=None):
    """(input, target, reduction, *extra) on equal shapes, non-contiguous inputs, 0-d and empty."""
    lo, hi = target if target else (None, None)

    def gen(op, make):
        for r in reductions:
            yield S(f"{r}", make(3, 4), make(3, 4, low=lo, high=hi), r, *extra_args)
        yield S("transposed", make(3, 4, nc="T"), make(3, 4, nc="step", low=lo, high=hi), "mean", *extra_args)
        yield S("3d", make(2, 3, 2), make(2, 3, 2, low=lo, high=hi), "sum", *extra_args)
        yield S("0d", make(), make(low=lo, high=hi), "mean", *extra_args)
        yield S("empty_sum", make(0, 3), make(0, 3, low=lo, high=hi), "sum", *extra_args)
        yield S("empty_none", make(0, 3), make(0, 3, low=lo, high=hi), "none", *extra_args)

    return gen


def _huber_samples(op, make):
    yield from _loss_samples(extra_args=(1.0,))(op, make)
    a = make(3, 4, low=-3, high=3)
    yield S("delta_half", a, make(3, 4), "mean", 0.5)
    yield S("delta_2", make(3, 4, low=-3, high=3), make(3, 4), "none", 2.0)


def _smooth_l1_samples(op, make):
    yield from _loss_samples(extra_args=(1.0,))(op, make)
    yield S("beta_half", make(3, 4, low=-3, high=3), make(3, 4), "mean", 0.5)
    yield S("beta_0", make(3, 4, low=-3, high=3), make(3, 4), "sum", 0.0)


def _class_weights(make, c):
    return make(c, low=0.2, high=2.0, grad=False)


def _cross_entropy_samples(op, make):
    yield S("mean", make(3, 5), make.index((3,), 5), None, "mean", -100, 0.0)
    yield S("sum", make(3, 5), make.index((3,), 5), None, "sum", -100, 0.0)
    yield S("none", make(3, 5), make.index((3,), 5), None, "none", -100, 0.0)
    yield S("weight", make(4, 5), make.index((4,), 5), _class_weights(make, 5), "mean", -100, 0.0)
    yield S("ignore_index", make(4, 3), Arg(np.array([0, 2, 1, 2])), None, "mean", 2, 0.0)
    yield S("weight_ignore", make(4, 3), Arg(np.array([0, 2, 1, 2])), _class_weights(make, 3), "mean", 1, 0.0)
    yield S("label_smoothing", make(3, 5), make.index((3,), 5), None, "mean", -100, 0.1)
    yield S("smoothing_weight", make(3, 5), make.index((3,), 5), _class_weights(make, 5), "sum", -100, 0.2)
    yield S("spatial", make(2, 4, 3), make.index((2, 3), 4), None, "mean", -100, 0.0)
    yield S("unbatched", make(5), Arg(np.array(3)), None, "mean", -100, 0.0)
    yield S("transposed", make(3, 4, nc="T"), make.index((3,), 4), None, "sum", -100, 0.0)
    yield S("probs", make(3, 4), Arg(_probs(make, (3, 4))), None, "mean", -100, 0.0)
    yield S("probs_none", make(3, 4), Arg(_probs(make, (3, 4))), None, "none", -100, 0.0)
    yield S("probs_smoothing", make(3, 4), Arg(_probs(make, (3, 4))), None, "sum", -100, 0.1)
    yield S("ignore_smoothing", make(4, 3), Arg(np.array([0, 2, 1, 2])), None, "mean", 2, 0.1)
    yield S(
        "ignore_smoothing_weight",
        make(4, 3),
        Arg(np.array([0, 2, 1, 2])),
        _class_weights(make, 3),
        "mean",
        0,
        0.2,
    )
    yield S("empty_batch_sum", make(0, 3), make.index((0,), 3), None, "sum", -100, 0.0)
    yield no_gradcheck(S("all_ignored", make(2, 3), Arg(np.array([1, 1])), None, "mean", 1, 0.0))


def _probs(make, shape):
    p = make.values(shape, 0.1, 1.0)
    return (p / p.sum(axis=1, keepdims=True)).astype(p.dtype)


def _nll_samples(op, make):
    yield S("mean", make(3, 5, low=-3, high=0), make.index((3,), 5), None, "mean", -100)
    yield S("sum", make(3, 5, low=-3, high=0), make.index((3,), 5), None, "sum", -100)
    yield S("none", make(3, 5, low=-3, high=0), make.index((3,), 5), None, "none", -100)
    yield S("weight", make(4, 5), make.index((4,), 5), _class_weights(make, 5), "mean", -100)
    yield S("ignore_index", make(4, 3), Arg(np.array([0, 2, 1, 2])), None, "mean", 2)
    yield S("weight_ignore_sum", make(4, 3), Arg(np.array([0, 2, 1, 2])), _class_weights(make, 3), "sum", 0)
    yield S("spatial", make(2, 4, 3), make.index((2, 3), 4), None, "mean", -100)
    yield S("unbatched", make(5), Arg(np.array(3)), None, "mean", -100)
    yield S("transposed", make(3, 4, nc="T"), make.index((3,), 4), None, "sum", -100)
    yield no_gradcheck(S("all_ignored", make(2, 3), Arg(np.array([1, 1])), None, "mean", 1))


def _bce_samples(op, make):
    p = dict(low=0.05, high=0.95)
    t = dict(low=0.0, high=1.0)
    for r in ("mean", "sum", "none"):
        yield S(r, make(3, 4, **p), make(3, 4, **t), None, r)
    yield S("weight", make(3, 4, **p), make(3, 4, **t), make(4, low=0.5, high=2, grad=False), "mean")
    yield S("transposed", make(3, 4, nc="T", **p), make(3, 4, **t), None, "sum")
    yield S("0d", make(**p), make(**t), None, "mean")
    yield S("empty", make(0, 3, **p), make(0, 3, **t), None, "sum")


def _bce_logits_samples(op, make):
    t = dict(low=0.0, high=1.0)
    for r in ("mean", "sum", "none"):
        yield S(r, make(3, 4, low=-3, high=3), make(3, 4, **t), None, None, r)
    yield S("weight", make(3, 4), make(3, 4, **t), make(4, low=0.5, high=2, grad=False), None, "mean")
    yield S("pos_weight", make(3, 4), make(3, 4, **t), None, make(4, low=0.5, high=2, grad=False), "mean")
    yield S(
        "both_weights",
        make(3, 4),
        make(3, 4, **t),
        make(3, 1, low=0.5, high=2, grad=False),
        make(4, low=0.5, high=2, grad=False),
        "sum",
    )
    yield S(
        "large_logits",
        Arg(np.array([[-50.0, 50.0, 0.0]]).astype(_NP[make.dtype])),
        make(1, 3, **t),
        None,
        None,
        "sum",
    )
    yield S("transposed", make(3, 4, nc="T"), make(3, 4, **t), None, None, "sum")
    yield S("0d", make(), make(**t), None, None, "mean")
    yield S("empty", make(0, 3), make(0, 3, **t), None, None, "sum")


# torch references for the internal loss ops (their positional order is chainrule's)
def _ref_mse(torch):
    return lambda i, t, r: torch.nn.functional.mse_loss(i, t, reduction=r)


def _ref_l1(torch):
    return lambda i, t, r: torch.nn.functional.l1_loss(i, t, reduction=r)


def _ref_huber(torch):
    return lambda i, t, r, d: torch.nn.functional.huber_loss(i, t, reduction=r, delta=d)


def _ref_smooth_l1(torch):
    return lambda i, t, r, b: torch.nn.functional.smooth_l1_loss(i, t, reduction=r, beta=b)


def _ref_cross_entropy(torch):
    return lambda i, t, w, r, ii, ls: torch.nn.functional.cross_entropy(
        i, t, weight=w, reduction=r, ignore_index=ii, label_smoothing=ls
    )


def _ref_nll(torch):
    return lambda i, t, w, r, ii: torch.nn.functional.nll_loss(i, t, weight=w, reduction=r, ignore_index=ii)


def _ref_bce(torch):
    return lambda i, t, w, r: torch.nn.functional.binary_cross_entropy(i, t, weight=w, reduction=r)


def _ref_bce_logits(torch):
    return lambda i, t, w, pw, r: torch.nn.functional.binary_cross_entropy_with_logits(
        i, t, weight=w, pos_weight=pw, reduction=r
    )


def _nn(name):
    return lambda torch: getattr(torch.nn.functional, name)


# ---- error inputs ----------------------------------------------------------------------------------------
def err_broadcast(op, make):
    yield E("shapes_do_not_broadcast", ValueError, "cannot be broadcast", make(3, 4), make(3, 5))


def err_dim(*extra):
    """A dim out of range is an IndexError (``extra``: the op's other positional arguments)."""

    def gen(op, make):
        yield E("dim_out_of_range", IndexError, "out of range", make(3, 4), 2, *extra)
        yield E("negative_dim_out_of_range", IndexError, "out of range", make(3, 4), -3, *extra)

    return gen


def err_combine(*gens):
    def gen(op, make):
        for g in gens:
            yield from g(op, make)

    return gen


def _err_alpha(op, make):
    yield from err_broadcast(op, make)
    yield E(
        "float_alpha_with_integer_tensors",
        TypeError,
        "alpha",
        make(3, dtype="int64"),
        make(3, dtype="int64"),
        alpha=0.5,
    )


def _err_norm(op, make):
    yield E("dim_out_of_range", IndexError, "out of range", make(3, 4), 2, 2)


def _err_gather(op, make):
    yield E("index_out_of_bounds", IndexError, "out of bounds", make(3, 4), 1, Arg(np.array([[4]])))
    yield E("negative_index", IndexError, "out of bounds", make(3, 4), 1, Arg(np.array([[-1]])))
    yield E("float_index", TypeError, "int64", make(3, 4), 1, make(1, 1, dtype="float32"))
    yield from err_dim(Arg(np.array([[0]])))(op, make)


def _err_index_select(op, make):
    yield E("index_out_of_bounds", IndexError, "out of bounds", make(3, 4), 0, Arg(np.array([3])))
    yield E("negative_index", IndexError, "out of", make(3, 4), 0, Arg(np.array([-1])))
    yield E("dim_out_of_range", IndexError, "out of range", make(3, 4), 2, Arg(np.array([0])))


def _err_take_along_dim(op, make):
    yield E("index_out_of_bounds", IndexError, "out of bounds", make(3, 4), Arg(np.array([[4]])), 1)
    yield E("dim_out_of_range", IndexError, "out of range", make(3, 4), Arg(np.array([[0]])), 2)


def _err_cat(op, make):
    yield E("sizes_differ", ValueError, "must match", [make(3, 4), make(2, 3)])
    yield E("empty_list", ValueError, "non-empty", [])
    yield E("dim_out_of_range", IndexError, "out of range", [make(3, 4), make(3, 4)], 2)


def _err_stack(op, make):
    yield E("sizes_differ", ValueError, "equal size", [make(3, 4), make(3, 3)])
    yield E("empty_list", ValueError, "non-empty", [])


def _err_matmul(op, make):
    yield E("inner_dims_differ", ValueError, "cannot be multiplied", make(3, 4), make(3, 4))
    yield E("batch_dims_do_not_broadcast", ValueError, "broadcast", make(2, 3, 4), make(3, 4, 2))
    yield E("0d", ValueError, "at least 1 dimension", make(), make())


def _err_reshape(op, make):
    yield E("wrong_numel", ValueError, "invalid", make(3, 4), (5,))
    yield E("two_inferred", ValueError, "only one dimension", make(3, 4), (-1, -1))


def _err_view(op, make):
    yield E("wrong_numel", ValueError, "invalid", make(3, 4), 5, -1)
    yield E("not_viewable", ValueError, "not compatible", make(3, 4, nc="T"), 12)


def _err_select(op, make):
    yield E("index_out_of_range", IndexError, "out of", make(3, 4), 0, 3)
    yield from err_dim(0)(op, make)


def _err_narrow(op, make):
    yield E("past_the_end", ValueError, "exceeds", make(3, 4), 1, 3, 2)
    yield E("start_out_of_range", IndexError, "out of range", make(3, 4), 1, 5, 0)
    yield E("dim_out_of_range", IndexError, "out of range", make(3, 4), 2, 0, 1)


def _err_flip(op, make):
    yield E("repeated_dim", ValueError, "multiple times", make(3, 4), (0, 0))
    yield E("dim_out_of_range", IndexError, "out of range", make(3, 4), (2,))


def _err_permute(op, make):
    yield E("repeated_dim", ValueError, "repeated", make(3, 4), (0, 0))
    yield E("dim_out_of_range", IndexError, "out of range", make(3, 4), (0, 2))


def _err_movedim(op, make):
    yield E("repeated_dim", ValueError, "repeated", make(2, 3, 4), (0, 1), (0, 0))
    yield E("dim_out_of_range", IndexError, "out of range", make(3, 4), 0, 2)


def _err_transpose(op, make):
    yield E("dim_out_of_range", IndexError, "out of range", make(3, 4), 0, 2)


def _err_expand(op, make):
    yield E("incompatible_size", ValueError, "must match", make(3, 4), 3, 5)
    yield E("fewer_sizes", ValueError, "number of sizes", make(3, 4), 4)


def _err_broadcast_to(op, make):
    yield E("incompatible_size", ValueError, "must match", make(3, 4), (2, 4))


def _err_repeat(op, make):
    yield E("fewer_repeats", ValueError, "can not be smaller", make(3, 4), 2)


def _err_masked_fill(op, make):
    yield E("float_mask", TypeError, "bool", make(3, 4), make(3, 4, dtype="float32"), 1.0)
    yield E("mask_does_not_broadcast", ValueError, "cannot be broadcast", make(3, 4), make.mask(3, 5), 1.0)
    yield E("1d_value", ValueError, "0-dimensional", make(3, 4), make.mask(3, 4), make(2))


def _err_where(op, make):
    yield E("float_condition", TypeError, "bool", make(3, 4, dtype="float32"), make(3, 4), make(3, 4))
    yield E(
        "shapes_do_not_broadcast", ValueError, "cannot be broadcast", make.mask(3, 4), make(3, 4), make(3, 5)
    )


def _err_chunk(op, make):
    yield E("zero_chunks", ValueError, "greater than 0", make(3, 4), 0)


def _err_split(op, make):
    yield E("sections_do_not_sum", ValueError, "sum exactly", make(3, 4), [1, 1])
    yield E("zero_size", ValueError, "split_size", make(3, 4), 0)


def _err_clamp(op, make):
    yield E("no_bounds", ValueError, "at least one", make(3, 4))


def _err_prod(op, make):
    yield E("tuple_dim", TypeError, "dim", make(3, 4), (0, 1))
    yield from err_dim()(op, make)


def _err_layer_norm(op, make):
    yield E("shape_mismatch", ValueError, "normalized_shape", make(3, 4), (3,))
    yield E("weight_shape", ValueError, "weight", make(3, 4), (4,), make(3))


def _err_batch_norm(op, make):
    yield E(
        "one_value_per_channel", ValueError, "more than 1 value", make(1, 4), None, None, None, None, True
    )
    yield E(
        "running_stats_size", ValueError, "running_mean", make(3, 4), make(3, grad=False), make(3, grad=False)
    )


def _err_gelu(op, make):
    yield E("unknown_approximation", ValueError, "approximate", make(3, 4), "fast")


def _err_reduction(*extra):
    def gen(op, make):
        yield E("unknown_reduction", ValueError, "reduction", make(3, 4), make(3, 4), "avg", *extra)
        yield E(
            "shapes_do_not_broadcast",
            ValueError,
            "cannot be broadcast",
            make(3, 4),
            make(3, 5),
            "mean",
            *extra,
        )

    return gen


def _err_huber(op, make):
    yield from _err_reduction(1.0)(op, make)
    yield E("zero_delta", ValueError, "delta", make(3, 4), make(3, 4), "mean", 0.0)


def _err_smooth_l1(op, make):
    yield from _err_reduction(1.0)(op, make)
    yield E("negative_beta", ValueError, "beta", make(3, 4), make(3, 4), "mean", -1.0)


def _err_cross_entropy(op, make):
    yield E(
        "target_out_of_bounds",
        IndexError,
        "out of bounds",
        make(3, 4),
        Arg(np.array([0, 1, 4])),
        None,
        "mean",
        -100,
        0.0,
    )
    yield E(
        "negative_target",
        IndexError,
        "out of bounds",
        make(3, 4),
        Arg(np.array([0, -1, 1])),
        None,
        "mean",
        -100,
        0.0,
    )
    yield E(
        "batch_size_differs", ValueError, "target", make(3, 4), Arg(np.array([0, 1])), None, "mean", -100, 0.0
    )
    yield E(
        "weight_size",
        ValueError,
        "weight",
        make(3, 4),
        Arg(np.array([0, 1, 2])),
        make(3, grad=False),
        "mean",
        -100,
        0.0,
    )
    yield E(
        "unknown_reduction",
        ValueError,
        "reduction",
        make(3, 4),
        Arg(np.array([0, 1, 2])),
        None,
        "avg",
        -100,
        0.0,
    )


def _err_nll(op, make):
    yield E(
        "target_out_of_bounds",
        IndexError,
        "out of bounds",
        make(3, 4),
        Arg(np.array([0, 1, 4])),
        None,
        "mean",
        -100,
    )
    yield E(
        "unknown_reduction", ValueError, "reduction", make(3, 4), Arg(np.array([0, 1, 2])), None, "avg", -100
    )


def _err_bce(op, make):
    yield E(
        "input_not_a_probability",
        ValueError,
        "between 0 and 1",
        make(3, 4, low=1.1, high=2),
        make(3, 4, low=0, high=1),
        None,
        "mean",
    )
    yield E(
        "target_size_differs",
        ValueError,
        "size",
        make(3, 4, low=0.1, high=0.9),
        make(3, 2, low=0, high=1),
        None,
        "mean",
    )


def _err_fill(op, make):
    yield E("1d_value", ValueError, "0-dimension", make(3, 4), make(2))


def _err_copy(op, make):
    yield E("src_does_not_broadcast", ValueError, "cannot be broadcast", make(3, 4), make(3))


def _err_to(op, make):
    yield E("other_device", RuntimeError, "CPU only", make(3, 4), "cuda")
    yield E("unknown_dtype", TypeError, "dtype", make(3, 4), dtype="uint16")


def _err_unsqueeze(op, make):
    yield E("dim_out_of_range", IndexError, "out of range", make(3, 4), 3)


def _err_softmax(op, make):
    yield E("dim_out_of_range", IndexError, "out of range", make(3, 4), 2)


# Error inputs by op (binary elementwise rows get err_broadcast unless listed).
ERROR_INPUTS = {
    "add": _err_alpha,
    "sub": _err_alpha,
    "sum": err_dim(),
    "mean": err_dim(),
    "amax": err_dim(),
    "amin": err_dim(),
    "max": err_dim(),
    "min": err_dim(),
    "argmax": err_dim(),
    "argmin": err_dim(),
    "std": err_dim(),
    "var": err_dim(),
    "logsumexp": err_dim(),
    "norm": _err_norm,
    "prod": _err_prod,
    "softmax": _err_softmax,
    "log_softmax": _err_softmax,
    "matmul": _err_matmul,
    "batch_norm": _err_batch_norm,
    "layer_norm": _err_layer_norm,
    "gelu": _err_gelu,
    "where": _err_where,
    "clamp": _err_clamp,
    "masked_fill": _err_masked_fill,
    "broadcast_to": _err_broadcast_to,
    "cat": _err_cat,
    "stack": _err_stack,
    "chunk": _err_chunk,
    "split": _err_split,
    "unbind": err_dim(),
    "flatten": err_dim(),
    "flip": _err_flip,
    "movedim": _err_movedim,
    "narrow": _err_narrow,
    "permute": _err_permute,
    "reshape": _err_reshape,
    "select": _err_select,
    "squeeze": err_dim(),
    "unsqueeze": _err_unsqueeze,
    "transpose": _err_transpose,
    "gather": _err_gather,
    "index_select": _err_index_select,
    "take_along_dim": _err_take_along_dim,
    "expand": _err_expand,
    "view": _err_view,
    "repeat": _err_repeat,
    "to": _err_to,
    "fill": _err_fill,
    "copy": _err_copy,
    "_mse_loss": _err_reduction(),
    "_l1_loss": _err_reduction(),
    "_huber_loss": _err_huber,
    "_smooth_l1_loss": _err_smooth_l1,
    "_cross_entropy": _err_cross_entropy,
    "_nll_loss": _err_nll,
    "_binary_cross_entropy": _err_bce,
}


def _binary_row(
    name,
    variants=FM,
    *,
    dtypes=ALL_DTYPES,
    rule=None,
    rhs=None,
    grad=True,
    aliases=(),
    scalar=True,
    xfails=(),
    extra=(),
    **kw,
):
    kw.setdefault("error_inputs", ERROR_INPUTS.get(name, err_broadcast))
    return OpInfo(
        name,
        variants,
        binary_samples(rhs=rhs, scalar=scalar, extra=extra),
        dtypes=dtypes,
        dtype_rule=rule or promote(0, 1),
        supports_grad=grad,
        aliases=aliases,
        promotes=(0, 1),
        xfails=tuple(xfails),
        **kw,
    )


def _unary_row(
    name, variants=FM, *, dtypes=ALL_DTYPES, rule=floating, kwargs_sets=(), extra_samples=(), **kw
):
    return OpInfo(
        name, variants, unary_samples(*kwargs_sets, extra=extra_samples), dtypes=dtypes, dtype_rule=rule, **kw
    )


def _nan_samples(op, make):
    if make.dtype in FLOATS:
        a = make.values((2, 3))
        a[0, 1] = np.nan
        yield no_gradcheck(S("nan", Arg(a)))


# ---- samples for the elementwise math ops (math.cpp) ------------------------------------------------
def _round_decimals_samples(op, make):
    if make.dtype in FLOATS:
        yield S("decimals", make(3, 4, low=-50.0, high=50.0), decimals=2)
        yield S("decimals_negative", make(3, 4, low=-500.0, high=500.0), decimals=-1)
        halves = Arg(np.array([0.5, 1.5, 2.5, -0.5, -1.5, 0.49], dtype=_NP[make.dtype]))
        yield no_gradcheck(S("halves_to_even", halves))


def _lerp_samples(op, make):
    yield S("scalar_weight", make(3, 4), make(3, 4), 0.3)
    yield S("scalar_weight_far", make(3, 4), make(4), 0.8)
    yield S("tensor_weight", make(3, 4), make(3, 4), make(3, 4, low=0.0, high=1.0))
    yield S("tensor_weight_bcast", make(3, 1), make(1, 4), make(4, low=0.0, high=1.0))
    yield S("non_contiguous", make(3, 4, nc="T"), make(3, 4, nc="step"), make(3, 4, nc="expand"))
    yield S("0d", make(), make(), make())
    yield S("empty", make(0, 3), make(3), 0.5)


def _err_lerp(op, make):
    yield E(
        "mixed_dtypes", TypeError, "expected dtype", make(3, dtype="float64"), make(3, dtype="float32"), 0.5
    )
    yield E("shapes_do_not_broadcast", ValueError, "cannot be broadcast", make(3, 4), make(3, 5), 0.5)


def _nan_to_num_samples(op, make):
    if make.dtype in FLOATS:
        a = make.values((2, 4))
        a[0, 1], a[1, 2], a[1, 3] = np.nan, np.inf, -np.inf
        yield S("specials", Arg(a))
        yield S("specials_replaced", Arg(a), nan=1.5, posinf=9.0, neginf=-9.0)
        yield S("specials_kw_partial", Arg(a), posinf=2.0)


def _special_values_samples(op, make):
    if make.dtype in FLOATS:
        a = np.array([0.0, -0.0, 1.5, -2.0, np.nan, np.inf, -np.inf], dtype=_NP[make.dtype])
        yield no_gradcheck(S("specials", Arg(a)))


def _signed_modulo_samples(op, make):
    yield S("negative_dividend", make(3, 4, low=-5.0, high=-1.0), make(4, low=1.0, high=3.0))
    yield S("negative_divisor", make(3, 4, low=-5.0, high=5.0), make(4, low=-3.0, high=-1.0))


def _err_rounding_bool(op, make):
    yield E("bool_input", TypeError, "bool", make(3, dtype="bool"))


def _err_int_zero_divisor(op, make):
    yield E(
        "integer_zero_divisor",
        ValueError,
        "division by zero",
        make(3, dtype="int64"),
        Arg(np.array([1, 0, 2], dtype=np.int64)),
    )
    yield from err_broadcast(op, make)


def _err_floating_only(op, make):
    yield E("integer_input", TypeError, "floating point", make(3, dtype="int64"), make(3, dtype="int64"))
    yield from err_broadcast(op, make)


# ---- samples for scatter, index_add/copy/fill and the masked ops (scatter.cpp) ----------------------
def _distinct_index(make, shape, high, dim):
    """An index of `shape` whose entries along `dim` are distinct (overwriting ops: no duplicates)."""
    out = np.empty(shape, dtype=np.int64)
    moved = np.moveaxis(out, dim, -1)
    for pos in np.ndindex(moved.shape[:-1]):
        moved[pos] = make.rng.permutation(high)[: moved.shape[-1]]
    return Arg(out)


def _index_put_samples(op, make):
    yield S("rows", make(3, 4), (_distinct_index(make, (2,), 3, 0),), make(2, 4))
    yield S("two_dims", make(3, 4), (Arg(np.array([0, 1, 2])), Arg(np.array([3, 0, 3]))), make(3))
    yield S("broadcast_values", make(3, 4), (Arg(np.array([2, 0])),), make(4))
    yield S("mask", make(3, 4), (Arg(np.array([[True, False, True, False]] * 3)),), make())
    yield S("accumulate_duplicates", make(3, 4), (Arg(np.array([0, 2, 0])),), make(3, 4), True)
    yield S("accumulate_kw", make(3, 4), (Arg(np.array([1, 1])),), make(4), accumulate=True)
    yield S("non_contiguous", make(4, 3, nc="T"), (Arg(np.array([3, 1])),), make(2, 3, nc="T"))


def _scatter_samples(op, make):
    yield S("src_dim0", make(3, 4), 0, _distinct_index(make, (2, 4), 3, 0), make(2, 4))
    yield S("src_dim1", make(3, 4), 1, _distinct_index(make, (3, 2), 4, 1), make(3, 2))
    yield S("src_larger_than_index", make(3, 4), 0, _distinct_index(make, (2, 3), 3, 0), make(3, 5))
    yield S("value", make(3, 4), 1, _distinct_index(make, (2, 3), 4, 1), make.scalar())
    yield S("non_contiguous", make(4, 3, nc="T"), -1, _distinct_index(make, (3, 2), 3, 1), make(3, 2, nc="T"))
    yield S("empty_index", make(3, 4), 1, make.index((3, 0), 4), make(3, 0))


def _scatter_add_samples(op, make):
    yield S("dim0_duplicates", make(3, 4), 0, make.index((5, 4), 3), make(5, 4))
    yield S("dim1", make(3, 4), 1, make.index((3, 6), 4), make(3, 6))
    yield S("src_larger_than_index", make(3, 4), 0, make.index((2, 3), 3), make(3, 5))
    yield S("3d", make(2, 3, 4), 1, make.index((2, 5, 4), 3), make(2, 5, 4))
    yield S("non_contiguous", make(4, 3, nc="T"), -1, make.index((3, 5), 3), make(3, 5, nc="T"))


def _scatter_reduce_samples(op, make):
    for reduce in ("sum", "prod", "mean", "amax", "amin"):
        for include_self in (True, False):
            tag = f"{reduce}{'' if include_self else '_exclude_self'}"
            yield S(tag, make(3, 4), 0, make.index((5, 4), 3), make(5, 4), reduce, include_self=include_self)
    yield S("amax_dim1", make(3, 4), 1, make.index((3, 6), 4), make(3, 6), "amax")


def _index_add_samples(op, make):
    yield S("dim0_duplicates", make(3, 4), 0, make.index((5,), 3), make(5, 4))
    yield S("dim1", make(3, 4), 1, make.index((2,), 4), make(3, 2))
    yield S(
        "alpha", make(3, 4), 1, make.index((3,), 4), make(3, 3), alpha=2 if make.dtype == "int64" else 0.5
    )
    yield S("0d_index", make(3, 4), 0, Arg(np.array(1)), make(1, 4))
    yield S("non_contiguous", make(4, 3, nc="T"), 0, make.index((2,), 4), make(2, 3, nc="T"))


def _index_copy_samples(op, make):
    yield S("dim0", make(3, 4), 0, Arg(make.rng.permutation(3)[:2]), make(2, 4))
    yield S("dim1", make(3, 4), 1, Arg(make.rng.permutation(4)[:3]), make(3, 3))
    yield S("non_contiguous", make(4, 3, nc="T"), 1, Arg(make.rng.permutation(3)[:2]), make(4, 2))


def _index_fill_samples(op, make):
    yield S("dim0", make(3, 4), 0, make.index((2,), 3), make.scalar())
    yield S("dim1_duplicates", make(3, 4), 1, make.index((5,), 4), make.scalar())
    yield S("0d_tensor_value", make(3, 4), 1, make.index((2,), 4), Arg(make.values(()), grad=False))


def _masked_select_samples(op, make):
    yield S("same_shape", make(3, 4), make.mask(3, 4))
    yield S("bcast_mask", make(3, 4), make.mask(4))
    yield S("bcast_input", make(4), make.mask(3, 4))
    yield S("non_contiguous", make(3, 4, nc="T"), make.mask(3, 4))
    yield S("0d", make(), make.mask())


def _masked_scatter_samples(op, make):
    yield S("same_shape", make(3, 4), make.mask(3, 4), make(12))
    yield S("bcast_mask", make(3, 4), make.mask(4), make(4, 4))
    yield S("non_contiguous", make(3, 4, nc="T"), make.mask(3, 4), make(3, 4, nc="T"))


def _nonzero_samples(op, make):
    yield S("2d", make(3, 4))
    yield S("3d", make(2, 3, 4))
    yield S("0d", make())
    yield S("empty", make(0, 3))
    if op.name == "nonzero":
        yield S("as_tuple", make(3, 4), as_tuple=True)
        yield S("as_tuple_0d", make(), as_tuple=True)


def _take_samples(op, make):
    yield S("flat", make(3, 4), make.index((5,), 12))
    yield S("negative", make(3, 4), make.index((2, 3), 0, low=-12))
    yield S("non_contiguous", make(3, 4, nc="T"), make.index((4,), 12))
    yield S("0d_index", make(3, 4), Arg(np.array(5)))


def _err_scatter(op, make):
    yield E(
        "index_out_of_range",
        IndexError,
        "out of bounds",
        make(3, 4),
        0,
        Arg(np.array([[3, 0, 0, 0]])),
        make(1, 4),
    )
    yield E("float_index", TypeError, "int64", make(3, 4), 0, make(1, 4, dtype="float32"), make(1, 4))


def _err_index_add(op, make):
    yield E("index_out_of_range", IndexError, "out of bounds", make(3, 4), 0, Arg(np.array([3])), make(1, 4))
    yield E("source_shape", ValueError, "source", make(3, 4), 0, Arg(np.array([0, 1])), make(3, 4))


# ---- samples for the matrix ops and named products (matrix.cpp) --------------------------------------
def _diagonal_samples(op, make):
    yield S("main", make(3, 4))
    yield S("offset_pos", make(3, 4), 1)
    yield S("offset_neg_3d", make(2, 3, 4), -1, 0, 2)
    yield S("dims_reversed", make(2, 3, 4), 0, 2, 1)
    yield S("offset_past_end", make(3, 4), 5)
    yield S("transposed", make(3, 4, nc="T"), offset=1)


def _diag_embed_samples(op, make):
    yield S("vector", make(3))
    yield S("batch_offset", make(2, 3), 1)
    yield S("dims", make(2, 3), -1, 0, 2)
    yield S("non_contiguous", make(3, 2, nc="T"), offset=-2)


def _diag_samples(op, make):
    yield S("vector", make(3))
    yield S("vector_offset", make(3), -2)
    yield S("matrix", make(3, 4))
    yield S("matrix_offset", make(3, 4), 2)
    yield S("matrix_transposed", make(3, 4, nc="T"), -1)


def _trace_samples(op, make):
    yield S("square", make(3, 3))
    yield S("wide", make(2, 4))
    yield S("transposed", make(3, 4, nc="T"))


def _tri_samples(op, make):
    yield S("main", make(4, 5))
    yield S("above", make(4, 5), 1)
    yield S("below_batched", make(2, 3, 4), -1)
    yield S("kw", make(3, 3, nc="T"), diagonal=2)
    yield S("empty", make(0, 3))


def _mm_samples(op, make):
    yield S("plain", make(3, 4), make(4, 2))
    yield S("transposed", make(3, 4, nc="T"), make(4, 2))
    yield S("empty_inner", make(3, 0), make(0, 2))


def _bmm_samples(op, make):
    yield S("plain", make(2, 3, 4), make(2, 4, 5))
    yield S("transposed", make(2, 3, 4), make(2, 4, 5, nc="T"))


def _mv_samples(op, make):
    yield S("plain", make(3, 4), make(4))
    yield S("transposed", make(3, 4, nc="T"), make(4))


def _dot_samples(op, make):
    yield S("plain", make(4), make(4))
    yield S("strided", make(3, nc="step"), make(3))
    yield S("empty", make(0), make(0))


def _outer_samples(op, make):
    yield S("plain", make(3), make(4))
    yield S("strided", make(3, nc="step"), make(2))


def _ab(make, beta, alpha):
    """beta and alpha for the row's dtype: integers for integer tensors (PyTorch requires it)."""
    if make.dtype == "int64":
        return {"beta": 2, "alpha": 3}
    return {"beta": beta, "alpha": alpha}


def _addmm_samples(op, make):
    yield S("plain", make(3, 2), make(3, 4), make(4, 2))
    yield S("bcast_input", make(2), make(3, 4), make(4, 2))
    yield S("beta_alpha", make(3, 2), make(3, 4), make(4, 2), **_ab(make, 0.5, 2.0))
    yield S("beta_zero", make(3, 2), make(3, 4, nc="T"), make(4, 2), beta=0)


def _addmv_samples(op, make):
    yield S("plain", make(3), make(3, 4), make(4))
    yield S("beta_alpha", make(1), make(3, 4), make(4), **_ab(make, 2.0, -1.0))


def _baddbmm_samples(op, make):
    yield S("plain", make(2, 3, 5), make(2, 3, 4), make(2, 4, 5))
    yield S("bcast_beta_alpha", make(3, 5), make(2, 3, 4), make(2, 4, 5), **_ab(make, 0.5, 2.0))


def _addbmm_samples(op, make):
    yield S("plain", make(3, 5), make(2, 3, 4), make(2, 4, 5))
    yield S("beta_alpha", make(5), make(2, 3, 4), make(2, 4, 5), **_ab(make, 0.5, 2.0))


def _t_samples(op, make):
    yield S("matrix", make(3, 4))
    yield S("vector", make(3))
    yield S("0d", make())


def _err_rank(*shapes):
    def gen(op, make):
        yield E("wrong_rank", ValueError, "", *[make(*s) for s in shapes])

    return gen


# ---- sorting, selection, scans and reductions: samples and error inputs -----------------------------
def _distinct(make, *shape, nc=None, grad=True):
    """Like ``make(*shape, nc=nc)`` but with distinct values (a shuffled range for integer dtypes),
    so that indices among equal values, which PyTorch leaves unspecified, never matter."""
    arg = make(*shape, nc=nc, grad=grad)
    if make.dtype != "int64":
        return arg
    n = arg.array.size
    arg.array = (make.rng.permutation(n) - n // 2).astype(np.int64).reshape(arg.array.shape)
    return arg


def _nan_arg(make, shape, where=((0, 1),)):
    a = make.values(shape)
    for w in where:
        a[w] = np.nan
    return Arg(a)


def _scan_samples(*, dtype_kw=False, zeros=False):
    def gen(op, make):
        yield S("dim1", make(3, 4), 1)
        yield S("dim0", make(3, 4), 0)
        yield S("dim_neg_3d", make(2, 3, 4), -1)
        yield S("dim_kw_middle", make(2, 3, 4), dim=1)
        yield S("transposed", make(3, 4, nc="T"), 1)
        yield S("strided", make(3, 2, nc="step"), 0)
        yield S("expanded", make(3, 2, nc="expand"), 0)
        yield S("0d", make(), 0)
        yield S("0d_neg", make(), -1)
        yield S("empty", make(0, 3), 0)
        yield S("empty_lanes", make(3, 0), 0)
        if dtype_kw and make.dtype in ("int64", "bool"):
            yield S("dtype_float64", make(3, 4), 1, dtype=DT("float64"))
        if zeros and make.dtype in FLOATS:
            z = make.values((3, 5))
            z[0, 2] = 0  # one zero
            z[1, 1] = z[1, 3] = 0  # two zeros
            z[2, 0] = 0  # a zero first
            yield S("with_zeros", Arg(z), 1)
            yield S("with_zeros_dim0", Arg(z.T.copy()), 0)
        if make.dtype in FLOATS and op.name in ("cummax", "cummin"):
            yield no_gradcheck(S("nan", _nan_arg(make, (2, 5), ((0, 1), (1, 2), (1, 4))), 1))

    return gen


def _scan_values_indices(args, kwargs):
    return (args[0].dtype, cr.int64)


def _err_scan(op, make):
    yield E("dim_out_of_range", IndexError, "out of range", make(3, 4), 2)
    yield E("dim_out_of_range_0d", IndexError, "out of range", make(), 1)


def _err_cumsum(op, make):
    yield from _err_scan(op, make)
    yield E("missing_dim", TypeError, "incompatible function arguments", make(3, 4))


def _truth_samples(op, make):
    yield from reduce_samples()(op, make)
    yield S("dim_list_keepdim", make(2, 3, 4), [0, 2], keepdim=True)
    yield S("dim_none_keepdim", make(2, 3), None, True)
    if make.dtype in FLOATS:
        yield S("nan", _nan_arg(make, (2, 3)), 1)
        yield S("zeros", Arg(np.zeros((2, 3), dtype=_NP[make.dtype])), 0)


def _err_reduce_dims(op, make):
    yield from err_dim()(op, make)
    yield E("repeated_dim", ValueError, "multiple times", make(3, 4), (0, 0))


def _count_nonzero_samples(op, make):
    yield S("all", make(3, 4))
    yield S("dim", make(3, 4), 1)
    yield S("dim_kw_neg", make(2, 3, 4), dim=-1)
    yield S("dims_tuple", make(2, 3, 4), (0, 2))
    yield S("transposed", make(3, 4, nc="T"), 0)
    yield S("0d", make())
    yield S("0d_dim", make(), 0)
    yield S("empty", make(0, 3))
    yield S("empty_dim", make(0, 3), 0)
    if make.dtype in FLOATS:
        yield S("nan", _nan_arg(make, (2, 3)), 1)


def _aminmax_samples(op, make):
    yield S("all", make(3, 4))
    yield S("all_transposed", make(3, 4, nc="T"))
    yield S("all_keepdim", make(2, 3), keepdim=True)
    yield S("dim", make(3, 4), dim=1)
    yield S("dim_keepdim", make(2, 3, 4), dim=0, keepdim=True)
    yield S("dim_neg", make(2, 3, 4), dim=-1)
    yield S("strided", make(3, 2, nc="step"), dim=1)
    yield S("0d", make())
    yield S("dim_0d", make(), dim=0)
    yield S("empty_other_dim", make(0, 3), dim=1)


def _aminmax_rule(args, kwargs):
    return (args[0].dtype, args[0].dtype)


def _err_aminmax(op, make):
    yield E("empty", ValueError, "cannot reduce", make(0, 3))
    yield E("empty_dim", ValueError, "cannot reduce", make(3, 0), dim=1)
    yield E("dim_out_of_range", IndexError, "out of range", make(3, 4), dim=2)
    yield E("positional_dim", TypeError, "incompatible function arguments", make(3, 4), 1)


def _nan_reduce_samples(op, make):
    yield from reduce_samples()(op, make)
    if make.dtype in FLOATS:
        yield S("nan", _nan_arg(make, (3, 4), ((0, 1), (2, 0), (2, 3))))
        yield S("nan_dim", _nan_arg(make, (3, 4), ((0, 1), (2, 0), (2, 3))), 1)
        all_nan = make.values((2, 3))
        all_nan[1, :] = np.nan
        yield no_gradcheck(S("nan_whole_row", Arg(all_nan), 1, keepdim=True))
        yield S("dim_none_keepdim", make(2, 3), None, True)
    if make.dtype == "float32" or (op.name == "nansum" and make.dtype != "float64"):
        yield S("dtype_float64", make(3, 4), 1, dtype=DT("float64"))


def _moments_rule(args, kwargs):
    return (args[0].dtype, args[0].dtype)


def _dist_samples(op, make):
    yield S("same_shape", make(3, 4), make(3, 4))
    yield S("bcast", make(3, 4), make(4))
    yield S("bcast_both", make(3, 1), make(1, 4))
    yield S("non_contiguous", make(3, 4, nc="T"), make(3, 4, nc="step"))
    yield S("0d", make(), make())
    yield S("empty", make(0, 3), make(3))
    for p in (1, 3, 0.5, float("inf"), float("-inf"), 0):
        yield S(f"p_{p}", make(2, 3), make(2, 3), p)
    yield S("p_kw", make(4), make(4), p=1.5)


def _err_dist(op, make):
    yield E("shapes_do_not_broadcast", ValueError, "cannot be broadcast", make(3, 4), make(3, 5))


def _cdist_samples(op, make):
    yield S("p2", make(3, 4), make(5, 4))
    yield S("batched", make(2, 3, 4), make(2, 5, 4))
    yield S("batch_broadcast", make(2, 1, 3, 4), make(3, 2, 4))
    yield S("transposed", make(3, 4, nc="T"), make(2, 4, nc="step"))
    for p in (1.0, 3.0, 0.5, float("inf")):
        yield S(f"p_{p}", make(3, 4), make(2, 4), p)
    yield no_gradgrad(S("p_0", make(3, 4), make(2, 4), 0.0))
    yield S("compute_mode", make(3, 4), make(2, 4), compute_mode="donot_use_mm_for_euclid_dist")
    yield S("p_kw", make(2, 3), make(4, 3), p=1.5, compute_mode="use_mm_for_euclid_dist")
    yield S("empty_rows", make(0, 3), make(2, 3))
    yield S("no_columns", make(2, 0), make(3, 0))


def _err_cdist(op, make):
    yield E("columns_differ", ValueError, "columns", make(3, 4), make(2, 3))
    yield E("1d", ValueError, "at least 2 dims", make(4), make(2, 4))
    yield E("negative_p", ValueError, "non-negative", make(3, 4), make(2, 4), -1.0)
    yield E("bad_compute_mode", ValueError, "compute_mode", make(3, 4), make(2, 4), compute_mode="fast")
    yield E("mixed_dtypes", TypeError, "one dtype", make(3, 4), make(2, 4, dtype="float64"))
    yield E("batch_does_not_broadcast", ValueError, "broadcast", make(2, 3, 4), make(3, 2, 4))


def _sort_samples(op, make):
    d = _distinct
    # stable=True where equal values can occur (PyTorch's default sort leaves their order open)
    # (PyTorch takes dim and descending only as keywords when stable is given)
    floats = make.dtype in FLOATS
    st = {} if floats else {"stable": True}
    yield S("default", make(3, 4), **st)
    yield S("dim0", make(3, 4), 0) if floats else S("dim0", make(3, 4), dim=0, **st)
    yield S("descending", make(3, 4), descending=True, **st)
    yield S("dim_neg_3d_descending", make(2, 3, 4), dim=-2, descending=True, **st)
    yield S("transposed", make(3, 4, nc="T"), dim=1, **st)
    yield S("strided", make(3, 2, nc="step"), stable=True)
    yield S("expanded", make(3, 2, nc="expand"), dim=0, stable=True)
    yield S("0d", make(), **st)
    yield S("empty", make(0, 3), dim=0, **st)
    yield S("distinct", d(make, 2, 5), **st)
    if floats:
        yield S("positional", d(make, 2, 5), 0, True)
    if make.dtype in FLOATS:
        v = make.values((2, 6))
        v[0, 1] = v[0, 4] = v[1, 0] = np.nan
        v[1, 3] = np.inf
        v[1, 5] = -np.inf
        yield no_gradcheck(S("nan_inf", Arg(v), stable=True))
        yield no_gradcheck(S("nan_inf_descending", Arg(v.copy()), descending=True, stable=True))
        t = np.array([[1.0, 0.5, 1.0, 0.5, 1.0], [2.0, 2.0, 2.0, -1.0, 2.0]], dtype=_NP[make.dtype])
        yield no_gradcheck(S("ties", Arg(t), stable=True))
        yield no_gradcheck(S("ties_descending", Arg(t.copy()), descending=True, stable=True))


def _err_sort(op, make):
    yield E("dim_out_of_range", IndexError, "out of range", make(3, 4), 2)


def _msort_samples(op, make):
    yield S("2d", make(3, 4) if make.dtype in FLOATS else _distinct(make, 3, 4))
    yield S("3d", _distinct(make, 3, 2, 2))
    yield S("transposed", _distinct(make, 3, 4, nc="T"))
    yield S("0d", make())
    yield S("empty", make(0, 3))
    if make.dtype in FLOATS:
        yield no_gradcheck(S("nan", _nan_arg(make, (3, 2), ((1, 0),))))


def _topk_samples(op, make):
    d = _distinct
    yield S("k2", d(make, 3, 4), 2)
    yield S("dim0", d(make, 3, 4), 2, 0)
    yield S("smallest", d(make, 3, 5), 3, largest=False)
    yield S("dim_neg_3d", d(make, 2, 4, 3), 2, -2)
    yield S("transposed", d(make, 3, 4, nc="T"), 3, 1)
    yield S("strided", d(make, 2, 3, nc="step"), 1)
    yield S("k0", d(make, 3, 4), 0)
    yield S("k_all", d(make, 3, 4), 4)
    yield S("unsorted_kw", d(make, 3, 5), k=2, sorted=False)
    yield S("0d", make(), 1)
    yield S("empty_lanes", make(0, 4), 2)
    if make.dtype in FLOATS:
        yield no_gradcheck(S("nan", _nan_arg(make, (2, 4), ((0, 2),)), 2))
        yield no_gradcheck(S("nan_smallest", _nan_arg(make, (2, 4), ((0, 2),)), 2, largest=False))


def _err_topk(op, make):
    yield E("k_too_large", IndexError, "out of range", make(3, 4), 5)
    yield E("negative_k", IndexError, "out of range", make(3, 4), -1)
    yield E("dim_out_of_range", IndexError, "out of range", make(3, 4), 1, 2)
    yield E("float_k", TypeError, "k must be an int", make(3, 4), 1.5)


def _kthvalue_samples(op, make):
    d = _distinct
    yield S("k2", d(make, 3, 4), 2)
    yield S("dim0_keepdim", d(make, 3, 4), 3, 0, True)
    yield S("dim_kw_3d", d(make, 2, 5, 3), 1, dim=1)
    yield S("k_last", d(make, 3, 4), 4)
    yield S("transposed", d(make, 3, 4, nc="T"), 2, 1)
    yield S("0d", make(), 1)
    yield S("0d_keepdim", make(), 1, 0, True)
    yield S("empty_lanes", make(0, 3), 2, 1)
    if make.dtype in FLOATS:
        yield no_gradcheck(S("nan", _nan_arg(make, (2, 4), ((0, 2),)), 4))


def _err_kthvalue(op, make):
    yield E("k_zero", IndexError, "out of range", make(3, 4), 0)
    yield E("k_too_large", IndexError, "out of range", make(3, 4), 5)
    yield E("empty_dim", IndexError, "non-zero size", make(3, 0), 1)
    yield E("dim_out_of_range", IndexError, "out of range", make(3, 4), 1, 2)


def _median_samples(op, make):
    d = _distinct
    yield S("all_odd", d(make, 3, 3))
    yield S("all_even", d(make, 2, 4))
    yield S("all_transposed", d(make, 3, 4, nc="T"))
    yield S("dim", d(make, 3, 4), 1)
    yield S("dim_odd_keepdim", d(make, 2, 5), 1, True)
    yield S("dim_kw_3d", d(make, 2, 3, 4), dim=0)
    yield S("transposed", d(make, 3, 4, nc="T"), 0)
    yield S("0d", make())
    yield S("dim_0d", make(), 0)
    yield S("empty_lanes", make(0, 3), 1)
    if make.dtype in FLOATS:
        yield S("all_empty", make(0, 3))
        nan = _nan_arg(make, (3, 4), ((0, 1), (2, 0), (2, 3)))
        yield no_gradcheck(S("nan_all", nan)) if op.name == "median" else S("nan_all", nan)
        nan_rows = make.values((3, 4))
        nan_rows[0, 1] = nan_rows[2, 0] = nan_rows[2, 3] = np.nan
        if op.name == "median":  # (nanmedian's index in a lane of NaNs only is unspecified)
            nan_rows[1, :] = np.nan
        yield no_gradcheck(S("nan_dim", Arg(nan_rows), 1))


def _median_rule(args, kwargs):
    has_dim = (len(args) > 1 and args[1] is not None) or kwargs.get("dim") is not None
    return (args[0].dtype, cr.int64) if has_dim else args[0].dtype


def _err_median(op, make):
    yield E("empty_dim", IndexError, "non-zero size", make(3, 0), 1)
    yield E("dim_out_of_range", IndexError, "out of range", make(3, 4), 2)


def _mode_samples(op, make):
    yield S("default", make(3, 6))
    yield S("dim0_keepdim", make(5, 3), 0, True)
    yield S("dim_kw_3d", make(2, 5, 3), dim=1)
    yield S("transposed", make(4, 5, nc="T"), 1)
    yield S("0d", make())
    yield S("empty_lanes", make(0, 3), 1)
    if make.dtype in FLOATS:
        t = np.array([[1.0, 2.0, 2.0, 1.0, 3.0], [5.0, 5.0, 4.0, 4.0, -1.0]], dtype=_NP[make.dtype])
        yield no_gradcheck(S("ties", Arg(t)))


def _err_mode(op, make):
    yield E("empty_dim", IndexError, "non-zero size", make(3, 0))
    yield E("dim_out_of_range", IndexError, "out of range", make(3, 4), 2)


def _quantile_samples(op, make):
    def q(*vals):
        return Arg(np.array(vals, dtype=_NP[make.dtype]), grad=False)

    yield S("all", make(3, 4), 0.3)
    yield S("all_keepdim", make(2, 3), 0.75, None, True)
    yield S("dim", make(3, 5), 0.4, 1)
    yield S("dim_keepdim", make(3, 5), 0.5, 0, True)
    yield S("q_tensor", make(3, 4), q(0.1, 0.5, 1.0), 1)
    yield S("q_tensor_keepdim", make(2, 3, 4), q(0.0, 0.65), -1, True)
    yield S("q_tensor_all", make(3, 4), q(0.25, 0.9))
    yield S("q_tensor_all_keepdim", make(2, 3), q(0.25, 0.9), keepdim=True)
    yield S("q_0d_tensor", make(3, 4), Arg(np.array(0.6, dtype=_NP[make.dtype]), grad=False), 1)
    yield S("q_int", make(3, 4), 1, dim=0)
    yield S("transposed", make(3, 4, nc="T"), 0.3, 1)
    yield S("0d", make(), 0.5)
    yield S("0d_dim_keepdim", make(), 0.5, 0, True)
    for mode in ("lower", "higher", "midpoint", "nearest", "linear"):
        yield S(f"interpolation_{mode}", make(3, 5), q(0.1, 0.375, 0.5, 0.9), 1, interpolation=mode)
    if make.dtype in FLOATS:
        nan = make.values((3, 5))
        nan[0, 1] = nan[2, 0] = nan[2, 3] = np.nan
        nan[1, :] = np.nan
        yield no_gradcheck(S("nan_dim", Arg(nan), q(0.2, 0.7), 1))
        one_nan = make.values((4,))
        one_nan[2] = np.nan
        s = S("nan_all", Arg(one_nan), 0.5)
        yield no_gradcheck(s) if op.name == "quantile" else s


def _err_quantile(op, make):
    yield E("q_above_one", ValueError, r"\[0, 1\]", make(3, 4), 1.5)
    yield E(
        "q_negative",
        ValueError,
        r"\[0, 1\]",
        make(3, 4),
        Arg(np.array([0.5, -0.1], dtype=np.float32), grad=False),
    )
    yield E("q_nan", ValueError, r"\[0, 1\]", make(3, 4), float("nan"))
    yield E("q_2d", ValueError, "1-D", make(3, 4), Arg(np.array([[0.5]], dtype=np.float32), grad=False))
    yield E("q_other_dtype", TypeError, "dtype", make(3, 4), Arg(np.array([0.5]), grad=False))
    yield E("empty", ValueError, "non-empty", make(0, 3), 0.5)
    yield E("bad_interpolation", ValueError, "interpolation", make(3, 4), 0.5, interpolation="cubic")
    yield E("dim_out_of_range", IndexError, "out of range", make(3, 4), 0.5, 2)


def _unique_samples(op, make):
    yield S("default", make(3, 4))
    yield S("inverse", make(3, 4), return_inverse=True)
    yield S("counts", make(2, 5), return_counts=True)
    yield S("inverse_counts", make(4, 3, nc="T"), return_inverse=True, return_counts=True)
    yield S("strided", make(3, 2, nc="step"), return_inverse=True)
    yield S("0d", make(), return_inverse=True, return_counts=True)
    yield S("empty", make(0, 3), return_inverse=True, return_counts=True)
    rows = make.values((2, 3))
    rows = np.concatenate([rows, rows[:1], rows[1:]], axis=0)  # repeated rows
    yield S("dim0", Arg(rows), dim=0, return_inverse=True, return_counts=True)
    yield S("dim1", Arg(rows.T.copy()), dim=1, return_inverse=True, return_counts=True)
    yield S("dim_neg", Arg(rows.copy()), dim=-2)
    yield S("empty_dim", make(0, 3), dim=0, return_inverse=True, return_counts=True)
    if make.dtype in FLOATS:
        dup = np.array([3.0, 1.0, 2.0, 1.0, 3.0, -0.0, 0.0], dtype=_NP[make.dtype])
        yield S("duplicates", Arg(dup), return_inverse=True, return_counts=True)
        yield S("nan", Arg(np.array([np.nan, 1.0, np.nan, 1.0], dtype=_NP[make.dtype])), return_counts=True)
    if op.name == "unique":
        yield S("sorted_false", make(3, 4), sorted=False, return_inverse=True)
        yield S("positional", make(3, 4), True, True, True)


def _unique_rule(*positional):
    """unique's result: the values, then int64 inverse and counts when asked for."""

    def rule(args, kwargs):
        kw = dict(zip(positional, args[1:]))
        kw.update(kwargs)
        n = bool(kw.get("return_inverse")) + bool(kw.get("return_counts"))
        return (args[0].dtype,) + (cr.int64,) * n if n else args[0].dtype

    return rule


def _err_unique(op, make):
    yield E("dim_on_0d", IndexError, "0-d", make(), dim=0)
    yield E("dim_out_of_range", IndexError, "out of range", make(3, 4), dim=2)
    yield E("other_dim_empty", ValueError, "0-sized", make(0, 3), dim=1)


def _sorted_arg(make, *shape):
    return Arg(np.sort(make.values(shape), axis=-1))


def _searchsorted_samples(op, make):
    s = _sorted_arg
    yield S("1d", s(make, 6), make(3, 4))
    yield S("right", s(make, 6), make(2, 5), right=True)
    yield S("side_right", s(make, 5), make(7), side="right")
    yield S("side_left", s(make, 5), make(7), side="left")
    yield S("nd", s(make, 2, 5), make(2, 3))
    yield S("nd_right", s(make, 2, 3, 4), make(2, 3, 2), right=True)
    yield S("scalar", s(make, 6), make.scalar())
    yield S("0d_values", s(make, 6), make())
    yield S("transposed_values", s(make, 6), make(3, 4, nc="T"))
    yield S("empty_values", s(make, 4), make(0, 3))
    yield S("empty_sequence", s(make, 0), make(3))
    seq = make.values((6,))
    order = np.argsort(seq, kind="stable").astype(np.int64)
    yield S("sorter", Arg(seq), make(4), sorter=Arg(order))
    yield S("out_int32_false", s(make, 6), make(3), out_int32=False)
    if make.dtype in FLOATS:
        yield S("nan_values", s(make, 5), _nan_arg(make, (2, 3)))


def _err_searchsorted(op, make):
    yield E("0d_sequence", ValueError, "at least one dimension", make(), make(3))
    yield E("leading_dims_differ", ValueError, "share all dimensions", make(2, 5), make(3, 3))
    yield E("scalar_with_nd", ValueError, "1-D", make(2, 5), 0)
    yield E("side_contradicts_right", ValueError, "contradict", make(5), make(3), right=True, side="left")
    yield E("bad_side", ValueError, "side", make(5), make(3), side="middle")
    yield E("sorter_shape", ValueError, "sorter", make(5), make(3), sorter=Arg(np.arange(4)))
    yield E(
        "sorter_out_of_range", IndexError, "out of range", make(3), make(2), sorter=Arg(np.array([0, 1, 3]))
    )
    yield E("sorter_float", TypeError, "int64", make(3), make(2), sorter=make(3, dtype="float32"))
    yield E("string_value", TypeError, "tensor or a number", make(3), "a")


def _bucketize_samples(op, make):
    b = Arg(np.sort(make.values((5,))))
    yield S("2d", make(3, 4), b)
    yield S("right", make(3, 4), Arg(b.array.copy()), right=True)
    yield S("scalar", make.scalar(), Arg(b.array.copy()))
    yield S("0d", make(), Arg(b.array.copy()))
    yield S("transposed", make(3, 4, nc="T"), Arg(b.array.copy()))
    yield S("empty", make(0, 2), Arg(b.array.copy()))
    yield S("empty_boundaries", make(3), Arg(b.array[:0].copy()))


def _err_bucketize(op, make):
    yield E("2d_boundaries", ValueError, "1-D", make(3), make(1, 3))


def _sdpa_samples(op, make):
    yield S("plain", make(2, 3, 4), make(2, 5, 4), make(2, 5, 3))
    yield S("causal_scale", make(1, 2, 4, 3), make(1, 2, 4, 3), make(1, 2, 4, 2), is_causal=True, scale=0.5)
    yield S("bool_mask", make(2, 3, 4), make(2, 4, 4), make(2, 4, 2), make.mask(3, 4))
    yield S("float_mask", make(2, 3, 2), make(2, 5, 2), make(2, 5, 2), make(3, 5))
    yield S("broadcast_batch", make(2, 1, 3, 2), make(4, 2), make(4, 3))
    yield S("transposed", make(2, 3, 4, nc="T"), make(2, 4, 4), make(2, 4, 3, nc="step"))
    yield S("gqa", make(1, 4, 3, 2), make(1, 2, 3, 2), make(1, 2, 3, 2), enable_gqa=True)


def _err_sdpa(op, make):
    yield E("e_mismatch", ValueError, "last dim E", make(2, 3, 4), make(2, 5, 3), make(2, 5, 3))
    yield E("s_mismatch", ValueError, "same length S", make(2, 3, 4), make(2, 5, 4), make(2, 4, 3))
    yield E("mask_shape", ValueError, "attn_mask", make(2, 3, 4), make(2, 5, 4), make(2, 5, 3), make(4, 5))


OP_DB: list[OpInfo] = [
    # ---- elementwise, one input ----
    _unary_row("abs", FMI, dtypes=NUMERIC, rule=same, aliases=("absolute",), operator=abs),
    _unary_row("neg", FMI, dtypes=NUMERIC, rule=same, aliases=("negative",), operator=operator.neg),
    _unary_row("exp", FMI),
    _unary_row("log", FMI, domain=positive()),
    _unary_row("sqrt", FMI, domain=positive()),
    _unary_row("rsqrt", FMI, domain=positive()),
    _unary_row("sin", FMI, domain=(-3.0, 3.0)),
    _unary_row("cos", FMI, domain=(-3.0, 3.0)),
    _unary_row("tanh", FMI, domain=(-2.0, 2.0)),
    _unary_row("sigmoid", FMI, domain=(-3.0, 3.0)),
    _unary_row("erf", FMI, domain=(-2.0, 2.0)),
    _unary_row("reciprocal", FMI, domain=positive()),
    _unary_row(
        "square",
        FMI,
        rule=_square_rule,
    ),
    _unary_row("relu", FMI, dtypes=NUMERIC, rule=same),
    _unary_row(
        "sign",
        FMI,
        rule=same,
        supports_gradgrad=False,
        extra_samples=(_nan_samples,),
        xfails=(),
    ),
    _unary_row("logical_not", FMI, rule=const("bool"), supports_grad=False),
    _unary_row("bitwise_not", FMI, dtypes=INTEGRAL, rule=same, supports_grad=False, operator=operator.invert),
    # ---- activations (chainrule also takes integer inputs, giving float32, which PyTorch refuses) ----
    _unary_row(
        "elu", F, ref=_nn("elu"), ref_dtypes=FLOATS, domain=(-2.0, 2.0), kwargs_sets=({}, {"alpha": 0.5})
    ),
    _unary_row(
        "gelu",
        F,
        ref=_nn("gelu"),
        ref_dtypes=FLOATS,
        domain=(-3.0, 3.0),
        kwargs_sets=({}, {"approximate": "tanh"}),
    ),
    _unary_row("silu", F, ref=_nn("silu"), ref_dtypes=FLOATS, domain=(-3.0, 3.0)),
    _unary_row(
        "softplus",
        F,
        ref=_nn("softplus"),
        ref_dtypes=FLOATS,
        domain=(-3.0, 3.0),
        kwargs_sets=({}, {"beta": 2.0, "threshold": 1.0}),
    ),
    _unary_row(
        "leaky_relu", F, ref=_nn("leaky_relu"), ref_dtypes=FLOATS, kwargs_sets=({}, {"negative_slope": 0.2})
    ),
    # ---- elementwise, two inputs ----
    _binary_row("add", FMI, extra=(_alpha_samples,), operator=operator.add, inplace_operator=operator.iadd),
    _binary_row(
        "sub",
        FMI,
        dtypes=NUMERIC,
        extra=(_alpha_samples,),
        aliases=("subtract",),
        operator=operator.sub,
        inplace_operator=operator.isub,
        note="PyTorch refuses any bool operand of sub; chainrule only two bool ones",
    ),
    _binary_row("mul", FMI, aliases=("multiply",), operator=operator.mul, inplace_operator=operator.imul),
    _binary_row(
        "div",
        FMI,
        rule=promote_floating(0, 1),
        rhs=positive(),
        aliases=("divide", "true_divide"),
        operator=operator.truediv,
        inplace_operator=operator.itruediv,
    ),
    OpInfo(
        "pow",
        FMI,
        _pow_samples,
        dtypes=ALL_DTYPES,
        ref_dtypes=NUMERIC,
        dtype_rule=_pow_rule,
        operator=operator.pow,
        domain=positive(),
        promotes=(0, 1),
        xfails=(
            XFail(
                "promotion",
                "a bool tensor to a Python bool power gives int64; PyTorch keeps bool",
                sample="bool-bool_scalar",
            ),
        ),
        note="chainrule also raises bool tensors to bool tensor powers (int64), which PyTorch refuses",
    ),
    _binary_row(
        "maximum",
        FM,
        no_ref_samples=("scalar_other",),
        note="chainrule also takes a Python number as other; PyTorch wants a tensor",
    ),
    _binary_row(
        "minimum",
        FM,
        no_ref_samples=("scalar_other",),
        note="chainrule also takes a Python number as other; PyTorch wants a tensor",
    ),
    _binary_row("atan2", FMI, dtypes=ALL_DTYPES, rule=promote_floating(0, 1), scalar=False),
    _binary_row("hypot", FMI, dtypes=FLOATS, rule=promote(0, 1), scalar=False),
    # ---- matrix ops and named products (matrix.cpp) ----
    OpInfo(
        "diagonal", FM, _diagonal_samples, dtypes=ALL_DTYPES, dtype_rule=same, error_inputs=_err_rank((3,))
    ),
    OpInfo("diag_embed", FM, _diag_embed_samples, dtypes=ALL_DTYPES, dtype_rule=same),
    OpInfo("diag", FM, _diag_samples, dtypes=ALL_DTYPES, dtype_rule=same, error_inputs=_err_rank((2, 2, 2))),
    OpInfo("trace", FM, _trace_samples, dtypes=NUMERIC, dtype_rule=sum_rule, error_inputs=_err_rank((3,))),
    OpInfo("tril", FMI, _tri_samples, dtypes=ALL_DTYPES, dtype_rule=same, error_inputs=_err_rank((3,))),
    OpInfo("triu", FMI, _tri_samples, dtypes=ALL_DTYPES, dtype_rule=same, error_inputs=_err_rank((3,))),
    OpInfo("mm", FM, _mm_samples, dtypes=NUMERIC, dtype_rule=same, error_inputs=_err_rank((3,), (3, 2))),
    OpInfo("bmm", FM, _bmm_samples, dtypes=NUMERIC, dtype_rule=same, error_inputs=_err_rank((3, 4), (4, 2))),
    OpInfo("mv", FM, _mv_samples, dtypes=NUMERIC, dtype_rule=same, error_inputs=_err_rank((3, 4), (4, 1))),
    OpInfo("dot", FM, _dot_samples, dtypes=NUMERIC, dtype_rule=same, error_inputs=_err_rank((3, 1), (3, 1))),
    OpInfo(
        "outer",
        FM,
        _outer_samples,
        dtypes=ALL_DTYPES,
        dtype_rule=same,
        aliases=("ger",),
        error_inputs=_err_rank((3, 1), (3,)),
    ),
    OpInfo("addmm", FM, _addmm_samples, dtypes=NUMERIC, dtype_rule=same),
    OpInfo("addmv", FM, _addmv_samples, dtypes=NUMERIC, dtype_rule=same),
    OpInfo("baddbmm", FM, _baddbmm_samples, dtypes=NUMERIC, dtype_rule=same),
    OpInfo("addbmm", FM, _addbmm_samples, dtypes=NUMERIC, dtype_rule=same),
    OpInfo("t", FM, _t_samples, dtypes=ALL_DTYPES, dtype_rule=same, error_inputs=_err_rank((2, 2, 2))),
    # ---- scatter, index_add/copy/fill, masked ops (scatter.cpp) ----
    OpInfo(
        "scatter",
        FMI,
        _scatter_samples,
        dtypes=ALL_DTYPES,
        dtype_rule=same,
        error_inputs=_err_scatter,
        # PyTorch's own backward fails there (it returns the index-shaped gradient for src)
        no_ref_samples=("src_larger_than_index",),
    ),
    OpInfo(
        "scatter_add",
        FMI,
        _scatter_add_samples,
        dtypes=NUMERIC,
        dtype_rule=same,
        error_inputs=_err_scatter,
        no_ref_samples=("src_larger_than_index",),
    ),
    OpInfo(
        "scatter_reduce",
        FMI,
        _scatter_reduce_samples,
        dtypes=NUMERIC,
        dtype_rule=same,
        supports_gradgrad=False,
    ),
    OpInfo("index_put", FMI, _index_put_samples, dtypes=ALL_DTYPES, dtype_rule=same),
    OpInfo(
        "index_add", FMI, _index_add_samples, dtypes=NUMERIC, dtype_rule=same, error_inputs=_err_index_add
    ),
    OpInfo("index_copy", FMI, _index_copy_samples, dtypes=ALL_DTYPES, dtype_rule=same),
    OpInfo("index_fill", FMI, _index_fill_samples, dtypes=ALL_DTYPES, dtype_rule=same),
    OpInfo("masked_select", FM, _masked_select_samples, dtypes=ALL_DTYPES, dtype_rule=same),
    OpInfo("masked_scatter", FMI, _masked_scatter_samples, dtypes=ALL_DTYPES, dtype_rule=same),
    OpInfo(
        "nonzero", FM, _nonzero_samples, dtypes=ALL_DTYPES, dtype_rule=const("int64"), supports_grad=False
    ),
    OpInfo(
        "argwhere", FM, _nonzero_samples, dtypes=ALL_DTYPES, dtype_rule=const("int64"), supports_grad=False
    ),
    OpInfo("take", FM, _take_samples, dtypes=ALL_DTYPES, dtype_rule=same),
    # ---- elementwise math (math.cpp) ----
    _unary_row("log1p", FMI, domain=(-0.5, 2.0)),
    _unary_row("expm1", FMI, domain=(-2.0, 2.0)),
    _unary_row("log2", FMI, domain=positive()),
    _unary_row("log10", FMI, domain=positive()),
    _unary_row("exp2", FMI, domain=(-2.0, 2.0)),
    _unary_row("erfinv", FMI, domain=(-0.9, 0.9), extra_samples=(_special_values_samples,)),
    _unary_row("erfc", FMI, domain=(-2.0, 2.0)),
    _unary_row("asin", FMI, domain=(-0.9, 0.9)),
    _unary_row("acos", FMI, domain=(-0.9, 0.9)),
    _unary_row("atan", FMI, domain=(-3.0, 3.0)),
    _unary_row("sinh", FMI, domain=(-2.0, 2.0)),
    _unary_row("cosh", FMI, domain=(-2.0, 2.0)),
    _unary_row("tan", FMI, domain=(-1.2, 1.2)),
    _unary_row("asinh", FMI, domain=(-3.0, 3.0)),
    _unary_row("acosh", FMI, domain=(1.2, 3.0)),
    _unary_row("atanh", FMI, domain=(-0.9, 0.9)),
    *(
        _unary_row(
            name,
            FMI,
            dtypes=NUMERIC,
            rule=same,
            domain=(-3.0, 3.0),
            supports_gradgrad=False,
            extra_samples=(_special_values_samples,),
            error_inputs=_err_rounding_bool,
        )
        for name in ("floor", "ceil", "trunc", "fix")
    ),
    _unary_row(
        "round",
        FMI,
        dtypes=NUMERIC,
        rule=same,
        domain=(-3.0, 3.0),
        supports_gradgrad=False,
        extra_samples=(_round_decimals_samples, _special_values_samples),
        error_inputs=_err_rounding_bool,
    ),
    _unary_row("frac", FMI, dtypes=FLOATS, rule=same, domain=(-3.0, 3.0), supports_gradgrad=False),
    _binary_row(
        "remainder",
        FMI,
        dtypes=NUMERIC,
        rhs=positive(1.0, 3.0),
        domain=(1.0, 5.0),
        extra=(_signed_modulo_samples,),
        error_inputs=_err_int_zero_divisor,
    ),
    _binary_row(
        "fmod",
        FMI,
        dtypes=NUMERIC,
        rhs=positive(1.0, 3.0),
        domain=(1.0, 5.0),
        extra=(_signed_modulo_samples,),
        error_inputs=_err_int_zero_divisor,
    ),
    _binary_row(
        "copysign",
        FMI,
        dtypes=ALL_DTYPES,
        rule=promote_floating(0, 1),
        domain=(0.2, 2.0),
        supports_gradgrad=False,
    ),
    _binary_row(
        "logaddexp", FM, dtypes=FLOATS, domain=(-3.0, 3.0), scalar=False, error_inputs=_err_floating_only
    ),
    _binary_row(
        "logaddexp2", FM, dtypes=FLOATS, domain=(-3.0, 3.0), scalar=False, error_inputs=_err_floating_only
    ),
    _binary_row("xlogy", FMI, dtypes=ALL_DTYPES, rule=promote_floating(0, 1), rhs=positive()),
    OpInfo("lerp", FMI, _lerp_samples, dtypes=FLOATS, error_inputs=_err_lerp),
    _unary_row("nan_to_num", FMI, dtypes=ALL_DTYPES, rule=same, extra_samples=(_nan_to_num_samples,)),
    *(
        _unary_row(
            name,
            dtypes=ALL_DTYPES,
            rule=const("bool"),
            supports_grad=False,
            extra_samples=(_special_values_samples,),
        )
        for name in ("isnan", "isinf", "isfinite", "isposinf", "isneginf", "signbit")
    ),
    # ---- comparisons and logic ----
    _binary_row("eq", rule=const("bool"), grad=False, operator=operator.eq),
    _binary_row("ne", rule=const("bool"), grad=False, aliases=("not_equal",), operator=operator.ne),
    _binary_row("lt", rule=const("bool"), grad=False, aliases=("less",), operator=operator.lt),
    _binary_row("le", rule=const("bool"), grad=False, aliases=("less_equal",), operator=operator.le),
    _binary_row("gt", rule=const("bool"), grad=False, aliases=("greater",), operator=operator.gt),
    _binary_row("ge", rule=const("bool"), grad=False, aliases=("greater_equal",), operator=operator.ge),
    _binary_row("logical_and", rule=const("bool"), grad=False, scalar=False),
    _binary_row("logical_or", rule=const("bool"), grad=False, scalar=False),
    _binary_row("logical_xor", rule=const("bool"), grad=False, scalar=False),
    _binary_row("bitwise_and", dtypes=INTEGRAL, grad=False, operator=operator.and_),
    _binary_row("bitwise_or", dtypes=INTEGRAL, grad=False, operator=operator.or_),
    _binary_row("bitwise_xor", dtypes=INTEGRAL, grad=False, operator=operator.xor),
    # ---- selection ----
    OpInfo(
        "where",
        FM,
        _where_samples,
        dtypes=ALL_DTYPES,
        dtype_rule=promote(1, 2),
        method_args=_where_method_args,
        promotes=(1, 2),
    ),
    OpInfo(
        "clamp",
        FMI,
        _clamp_samples,
        dtypes=NUMERIC,
        aliases=("clip",),
        dtype_rule=same,
    ),
    OpInfo(
        "masked_fill",
        FMI,
        _masked_fill_samples,
        dtypes=ALL_DTYPES,
        dtype_rule=same,
    ),
    # ---- reductions ----
    OpInfo("sum", FM, _sum_samples, dtypes=ALL_DTYPES, dtype_rule=sum_rule),
    OpInfo("mean", FM, _mean_samples, dtypes=FLOATS, dtype_rule=dtype_kwarg_or_same),
    OpInfo(
        "prod",
        FM,
        _prod_samples,
        dtypes=ALL_DTYPES,
        dtype_rule=sum_rule,
    ),
    OpInfo("amax", FM, reduce_samples(empty_all=False), dtypes=NUMERIC),
    OpInfo("amin", FM, reduce_samples(empty_all=False), dtypes=NUMERIC),
    OpInfo("max", FM, _max_samples, dtypes=NUMERIC, dtype_rule=values_and_indices(same)),
    OpInfo("min", FM, _max_samples, dtypes=NUMERIC, dtype_rule=values_and_indices(same)),
    OpInfo(
        "argmax",
        FM,
        _arg_samples,
        dtypes=NUMERIC,
        dtype_rule=const("int64"),
        supports_grad=False,
    ),
    OpInfo(
        "argmin",
        FM,
        _arg_samples,
        dtypes=NUMERIC,
        dtype_rule=const("int64"),
        supports_grad=False,
    ),
    OpInfo("std", FM, _var_samples, domain=(-2.0, 2.0)),
    OpInfo("var", FM, _var_samples, domain=(-2.0, 2.0)),
    OpInfo("norm", FM, _norm_samples, domain=(-2.0, 2.0)),
    OpInfo("logsumexp", FM, _logsumexp_samples, dtypes=ALL_DTYPES, dtype_rule=floating),
    OpInfo("softmax", FM, _softmax_samples, dtype_rule=_softmax_rule, domain=(-2.0, 2.0)),
    OpInfo("log_softmax", FM, _softmax_samples, dtype_rule=_softmax_rule, domain=(-2.0, 2.0)),
    # ---- linear algebra and normalization ----
    OpInfo("matmul", FM, _matmul_samples, dtypes=NUMERIC, dtype_rule=same, operator=operator.matmul),
    OpInfo("batch_norm", F, _batch_norm_samples, ref=_nn("batch_norm")),
    OpInfo("layer_norm", F, _layer_norm_samples, ref=_nn("layer_norm")),
    # ---- shape ----
    OpInfo(
        "broadcast_to",
        FM,
        _shape_samples(
            ("row", (4,), None, ((3, 4),), {}),
            ("col", (3, 1), None, ((2, 3, 5),), {}),
            ("same", (2, 3), "T", ((2, 3),), {}),
            ("0d", (), None, ((2, 2),), {}),
            ("minus_one", (3, 1), None, ((-1, 4),), {}),
            ("to_empty", (1, 3), None, ((0, 3),), {}),
        ),
        dtypes=ALL_DTYPES,
    ),
    OpInfo("cat", F, _cat_samples, dtypes=ALL_DTYPES, aliases=("concat", "concatenate")),
    OpInfo("stack", F, _stack_samples, dtypes=ALL_DTYPES),
    OpInfo(
        "chunk",
        FM,
        _shape_samples(
            ("even", (4, 3), None, (2,), {}),
            ("uneven", (5, 2), None, (3,), {}),
            ("dim1", (2, 5), None, (2, 1), {}),
            ("more_chunks_than_rows", (2, 3), None, (4,), {}),
            ("transposed", (3, 4), "T", (2,), {"dim": -1}),
        ),
        dtypes=ALL_DTYPES,
    ),
    OpInfo(
        "split",
        FM,
        _shape_samples(
            ("size", (5, 2), None, (2,), {}),
            ("sections", (6, 2), None, ([1, 2, 3],), {}),
            ("dim1", (2, 5), None, (3, 1), {}),
            ("sections_dim_kw", (2, 4), "T", ((3, 1),), {"dim": 1}),
            ("empty_section", (3, 2), None, ([0, 3],), {}),
        ),
        dtypes=ALL_DTYPES,
    ),
    OpInfo(
        "unbind",
        FM,
        _shape_samples(
            ("dim0", (3, 4), None, (), {}),
            ("dim1", (3, 4), None, (1,), {}),
            ("dim_neg", (2, 3, 2), None, (-1,), {}),
            ("transposed", (3, 4), "T", (0,), {}),
            ("empty", (0, 3), None, (1,), {}),
        ),
        dtypes=ALL_DTYPES,
    ),
    OpInfo(
        "flatten",
        FM,
        _shape_samples(
            ("all", (2, 3, 4), None, (), {}),
            ("start1", (2, 3, 4), None, (1,), {}),
            ("start_end", (2, 3, 4, 2), None, (1, 2), {}),
            ("neg_kw", (2, 3, 4), None, (), {"start_dim": -2}),
            ("transposed", (3, 4), "T", (), {}),
            ("0d", (), None, (), {}),
            ("empty", (0, 3), None, (), {}),
        ),
        dtypes=ALL_DTYPES,
    ),
    OpInfo(
        "flip",
        FM,
        _shape_samples(
            ("dim0", (3, 4), None, ((0,),), {}),
            ("both", (3, 4), None, ((0, 1),), {}),
            ("neg", (2, 3, 4), None, ((-1,),), {}),
            ("transposed", (3, 4), "T", ((1,),), {}),
            ("empty", (0, 3), None, ((0,),), {}),
        ),
        dtypes=ALL_DTYPES,
    ),
    OpInfo(
        "movedim",
        FM,
        _shape_samples(
            ("one", (2, 3, 4), None, (0, 2), {}),
            ("neg", (2, 3, 4), None, (-1, 0), {}),
            ("tuples", (2, 3, 4), None, ((0, 1), (2, 0)), {}),
            ("transposed", (3, 4), "T", (0, 1), {}),
        ),
        dtypes=ALL_DTYPES,
        aliases=("moveaxis",),
    ),
    OpInfo(
        "narrow",
        FM,
        _shape_samples(
            ("dim0", (4, 3), None, (0, 1, 2), {}),
            ("dim1", (3, 4), None, (1, 0, 3), {}),
            ("neg_dim", (2, 3, 4), None, (-1, 2, 2), {}),
            ("transposed", (3, 4), "T", (1, 1, 2), {}),
            ("zero_length", (3, 4), None, (1, 2, 0), {}),
        ),
        dtypes=ALL_DTYPES,
    ),
    OpInfo(
        "permute",
        FM,
        _shape_samples(
            ("2d", (3, 4), None, ((1, 0),), {}),
            ("3d", (2, 3, 4), None, ((2, 0, 1),), {}),
            ("neg", (2, 3, 4), None, ((-1, 0, 1),), {}),
            ("transposed", (3, 4), "T", ((1, 0),), {}),
            ("0d", (), None, ((),), {}),
            ("empty", (0, 3), None, ((1, 0),), {}),
        ),
        dtypes=ALL_DTYPES,
    ),
    OpInfo(
        "reshape",
        FM,
        _shape_samples(
            ("flat", (3, 4), None, ((12,),), {}),
            ("split", (12,), None, ((2, 3, 2),), {}),
            ("minus_one", (3, 4), None, ((-1, 2),), {}),
            ("transposed_copy", (3, 4), "T", ((12,),), {}),
            ("strided", (3, 2), "step", ((2, 3),), {}),
            ("to_0d", (1,), None, ((),), {}),
            ("from_0d", (), None, ((1, 1),), {}),
            ("empty", (0, 3), None, ((3, 0),), {}),
        ),
        dtypes=ALL_DTYPES,
    ),
    OpInfo(
        "select",
        FM,
        _shape_samples(
            ("dim0", (3, 4), None, (0, 1), {}),
            ("dim1_neg_index", (3, 4), None, (1, -1), {}),
            ("neg_dim", (2, 3, 4), None, (-2, 2), {}),
            ("transposed", (3, 4), "T", (1, 2), {}),
            ("to_0d", (3,), None, (0, 1), {}),
        ),
        dtypes=ALL_DTYPES,
    ),
    OpInfo(
        "squeeze",
        FM,
        _shape_samples(
            ("all", (1, 3, 1, 2), None, (), {}),
            ("dim", (1, 3, 1, 2), None, (2,), {}),
            ("dim_not_one", (1, 3, 1, 2), None, (1,), {}),
            ("dims_tuple", (1, 3, 1), None, ((0, 2),), {}),
            ("transposed", (1, 4), "T", (), {}),
            ("0d", (), None, (), {}),
            ("empty", (0, 1), None, (1,), {}),
        ),
        dtypes=ALL_DTYPES,
    ),
    OpInfo(
        "unsqueeze",
        FM,
        _shape_samples(
            ("front", (3, 4), None, (0,), {}),
            ("end", (3, 4), None, (2,), {}),
            ("neg", (3, 4), None, (-1,), {}),
            ("transposed", (3, 4), "T", (1,), {}),
            ("0d", (), None, (0,), {}),
            ("empty", (0, 3), None, (1,), {}),
        ),
        dtypes=ALL_DTYPES,
    ),
    OpInfo(
        "transpose",
        FM,
        _shape_samples(
            ("2d", (3, 4), None, (0, 1), {}),
            ("neg", (2, 3, 4), None, (-1, 0), {}),
            ("same_dim", (3, 4), None, (1, 1), {}),
            ("transposed", (3, 4), "T", (0, 1), {}),
            ("empty", (0, 3), None, (0, 1), {}),
        ),
        dtypes=ALL_DTYPES,
        aliases=("swapaxes", "swapdims"),
    ),
    # ---- indexing ----
    OpInfo("gather", FM, _gather_samples, dtypes=ALL_DTYPES),
    OpInfo("index_select", FM, _index_select_samples, dtypes=ALL_DTYPES),
    OpInfo(
        "take_along_dim",
        FM,
        _take_along_dim_samples,
        dtypes=ALL_DTYPES,
    ),
    # ---- Tensor-only ops ----
    OpInfo("clone", FM, _conversion_samples, dtypes=ALL_DTYPES),
    OpInfo("contiguous", M, _conversion_samples, dtypes=ALL_DTYPES),
    OpInfo("detach", FMI, _conversion_samples, dtypes=ALL_DTYPES, supports_grad=False),
    OpInfo(
        "expand",
        M,
        _shape_samples(
            ("row", (4,), None, (3, 4), {}),
            ("col", (3, 1), None, (2, 3, 5), {}),
            ("minus_one", (3, 1), None, (-1, 4), {}),
            ("0d", (), None, (2,), {}),
            ("transposed", (1, 3), "T", (2, 3), {}),
            ("to_empty", (1, 3), None, (0, 3), {}),
        ),
        dtypes=ALL_DTYPES,
    ),
    OpInfo("expand_as", M, _expand_as_samples, dtypes=ALL_DTYPES),
    OpInfo(
        "view",
        M,
        _shape_samples(
            ("flat", (3, 4), None, (12,), {}),
            ("split", (12,), None, (2, 3, 2), {}),
            ("minus_one", (3, 4), None, (-1, 2), {}),
            ("tuple", (3, 4), None, ((4, 3),), {}),
            ("to_0d", (1,), None, ((),), {}),
            ("empty", (0, 3), None, (3, 0), {}),
        ),
        dtypes=ALL_DTYPES,
    ),
    OpInfo("view_as", M, _view_as_samples, dtypes=ALL_DTYPES),
    OpInfo("reshape_as", M, _reshape_as_samples, dtypes=ALL_DTYPES),
    OpInfo(
        "repeat",
        M,
        _shape_samples(
            ("2d", (2, 3), None, (2, 1), {}),
            ("new_dims", (3,), None, (2, 2), {}),
            ("tuple", (2, 2), None, ((1, 3),), {}),
            ("transposed", (2, 3), "T", (2, 2), {}),
            ("0d", (), None, (3,), {}),
            ("zero", (2, 3), None, (0, 1), {}),
        ),
        dtypes=ALL_DTYPES,
    ),
    OpInfo(
        "to",
        M,
        _to_samples,
        dtypes=ALL_DTYPES,
        dtype_rule=_to_rule,
        gc_eps=1e-3,
        gc_atol=1e-4,
        gc_rtol=1e-2,
        supports_gradgrad=False,
        note="gradients flow only into floating results",
    ),
    OpInfo(
        "float",
        M,
        _conversion_samples,
        dtypes=ALL_DTYPES,
        dtype_rule=const("float32"),
        gc_eps=1e-3,
        gc_atol=1e-4,
        gc_rtol=1e-2,
        supports_gradgrad=False,
    ),
    OpInfo("double", M, _conversion_samples, dtypes=ALL_DTYPES, dtype_rule=const("float64")),
    OpInfo(
        "long",
        M,
        _conversion_samples,
        dtypes=ALL_DTYPES,
        dtype_rule=const("int64"),
        supports_grad=False,
        domain=(-3.0, 3.0),
    ),
    OpInfo("bool", M, _conversion_samples, dtypes=ALL_DTYPES, dtype_rule=const("bool"), supports_grad=False),
    OpInfo(
        "int",
        M,
        _conversion_samples,
        dtypes=ALL_DTYPES,
        dtype_rule=const("int32"),
        supports_grad=False,
        domain=(-3.0, 3.0),
    ),
    *(
        OpInfo(
            name,
            M,
            _conversion_samples,
            dtypes=ALL_DTYPES,
            dtype_rule=const(target),
            supports_grad=False,
            domain=(-3.0, 3.0),
        )
        for name, target in (("short", "int16"), ("char", "int8"), ("byte", "uint8"))
    ),
    # float16 / bfloat16 round to 11 / 8 significant bits: no float64 finite-difference gradcheck.
    OpInfo(
        "half", M, _conversion_samples, dtypes=ALL_DTYPES, dtype_rule=const("float16"), supports_grad=False
    ),
    OpInfo(
        "bfloat16",
        M,
        _conversion_samples,
        dtypes=ALL_DTYPES,
        dtype_rule=const("bfloat16"),
        supports_grad=False,
    ),
    OpInfo(
        "fill",
        I,
        _fill_samples,
        dtypes=ALL_DTYPES,
    ),
    OpInfo("zero", I, _conversion_samples, dtypes=ALL_DTYPES),
    OpInfo("copy", I, _copy_samples, dtypes=ALL_DTYPES),
    # ---- losses (internal ops behind chainrule.nn.functional) ----
    OpInfo("_mse_loss", F, _loss_samples(), ref=_ref_mse),
    OpInfo("_l1_loss", F, _loss_samples(), ref=_ref_l1),
    OpInfo("_huber_loss", F, _huber_samples, ref=_ref_huber),
    OpInfo("_smooth_l1_loss", F, _smooth_l1_samples, ref=_ref_smooth_l1),
    OpInfo(
        "_cross_entropy",
        F,
        _cross_entropy_samples,
        ref=_ref_cross_entropy,
        domain=(-2.0, 2.0),
    ),
    OpInfo("_nll_loss", F, _nll_samples, ref=_ref_nll),
    OpInfo("_binary_cross_entropy", F, _bce_samples, ref=_ref_bce),
    OpInfo("_binary_cross_entropy_with_logits", F, _bce_logits_samples, ref=_ref_bce_logits),
    # ---- sorting, selection, scans and reductions ----
    OpInfo(
        "cumsum",
        FMI,
        _scan_samples(dtype_kw=True),
        dtypes=ALL_DTYPES,
        dtype_rule=sum_rule,
        error_inputs=_err_cumsum,
    ),
    OpInfo(
        "cumprod",
        FMI,
        _scan_samples(dtype_kw=True, zeros=True),
        dtypes=ALL_DTYPES,
        dtype_rule=sum_rule,
        error_inputs=_err_cumsum,
    ),
    OpInfo("logcumsumexp", FM, _scan_samples(), domain=(-3.0, 3.0), error_inputs=_err_scan),
    OpInfo(
        "cummax",
        FM,
        _scan_samples(),
        dtypes=ALL_DTYPES,
        dtype_rule=_scan_values_indices,
        error_inputs=_err_scan,
    ),
    OpInfo(
        "cummin",
        FM,
        _scan_samples(),
        dtypes=ALL_DTYPES,
        dtype_rule=_scan_values_indices,
        error_inputs=_err_scan,
    ),
    OpInfo(
        "all",
        FM,
        _truth_samples,
        dtypes=ALL_DTYPES,
        dtype_rule=const("bool"),
        supports_grad=False,
        error_inputs=_err_reduce_dims,
    ),
    OpInfo(
        "any",
        FM,
        _truth_samples,
        dtypes=ALL_DTYPES,
        dtype_rule=const("bool"),
        supports_grad=False,
        error_inputs=_err_reduce_dims,
    ),
    OpInfo(
        "count_nonzero",
        FM,
        _count_nonzero_samples,
        dtypes=ALL_DTYPES,
        dtype_rule=const("int64"),
        supports_grad=False,
        error_inputs=_err_reduce_dims,
    ),
    OpInfo(
        "aminmax",
        FM,
        _aminmax_samples,
        dtypes=ALL_DTYPES,
        dtype_rule=_aminmax_rule,
        error_inputs=_err_aminmax,
    ),
    OpInfo(
        "nansum",
        FM,
        _nan_reduce_samples,
        dtypes=ALL_DTYPES,
        dtype_rule=sum_rule,
        error_inputs=_err_reduce_dims,
    ),
    OpInfo(
        "nanmean",
        FM,
        _nan_reduce_samples,
        dtype_rule=dtype_kwarg_or_same,
        error_inputs=_err_reduce_dims,
        xfails=(
            XFail(
                "torch",
                "over a row of NaNs only, the NaN entries get a zero gradient; PyTorch gives them NaN",
                sample="nan_whole_row",
            ),
        ),
    ),
    OpInfo("var_mean", F, _var_samples, dtype_rule=_moments_rule, domain=(-2.0, 2.0), error_inputs=err_dim()),
    OpInfo("std_mean", F, _var_samples, dtype_rule=_moments_rule, domain=(-2.0, 2.0), error_inputs=err_dim()),
    OpInfo(
        "dist",
        FM,
        _dist_samples,
        dtype_rule=promote(0, 1),
        promotes=(0, 1),
        domain=(-2.0, 2.0),
        error_inputs=_err_dist,
        no_ref_samples=("p_0",),
        note="PyTorch's backward of dist with p=0 fails (an undefined gradient); chainrule's is 0",
    ),
    OpInfo("cdist", F, _cdist_samples, domain=(-2.0, 2.0), error_inputs=_err_cdist),
    OpInfo(
        "sort", FM, _sort_samples, dtypes=ALL_DTYPES, dtype_rule=_scan_values_indices, error_inputs=_err_sort
    ),
    OpInfo(
        "argsort",
        FM,
        _sort_samples,
        dtypes=ALL_DTYPES,
        dtype_rule=const("int64"),
        supports_grad=False,
        error_inputs=_err_sort,
    ),
    OpInfo("msort", FM, _msort_samples, dtypes=ALL_DTYPES),
    OpInfo(
        "topk", FM, _topk_samples, dtypes=NUMERIC, dtype_rule=_scan_values_indices, error_inputs=_err_topk
    ),
    OpInfo(
        "kthvalue",
        FM,
        _kthvalue_samples,
        dtypes=NUMERIC,
        dtype_rule=_scan_values_indices,
        error_inputs=_err_kthvalue,
    ),
    OpInfo("median", FM, _median_samples, dtypes=NUMERIC, dtype_rule=_median_rule, error_inputs=_err_median),
    OpInfo(
        "nanmedian", FM, _median_samples, dtypes=NUMERIC, dtype_rule=_median_rule, error_inputs=_err_median
    ),
    OpInfo(
        "mode", FM, _mode_samples, dtypes=ALL_DTYPES, dtype_rule=_scan_values_indices, error_inputs=_err_mode
    ),
    OpInfo("quantile", FM, _quantile_samples, error_inputs=_err_quantile),
    OpInfo("nanquantile", FM, _quantile_samples, error_inputs=_err_quantile),
    OpInfo(
        "unique",
        FM,
        _unique_samples,
        dtypes=ALL_DTYPES,
        dtype_rule=_unique_rule("sorted", "return_inverse", "return_counts"),
        supports_grad=False,
        error_inputs=_err_unique,
    ),
    OpInfo(
        "unique_consecutive",
        FM,
        _unique_samples,
        dtypes=ALL_DTYPES,
        dtype_rule=_unique_rule("return_inverse", "return_counts"),
        supports_grad=False,
        error_inputs=_err_unique,
    ),
    OpInfo(
        "searchsorted",
        F,
        _searchsorted_samples,
        dtypes=NUMERIC,
        dtype_rule=const("int64"),
        supports_grad=False,
        error_inputs=_err_searchsorted,
    ),
    OpInfo(
        "bucketize",
        F,
        _bucketize_samples,
        dtypes=NUMERIC,
        dtype_rule=const("int64"),
        supports_grad=False,
        error_inputs=_err_bucketize,
    ),
    OpInfo(
        "_scaled_dot_product_attention",
        F,
        _sdpa_samples,
        ref=_nn("scaled_dot_product_attention"),
        error_inputs=_err_sdpa,
    ),
]


# ---- convolution and pooling (csrc/ops/conv.cpp) ----------------------------------------------------------
def _conv1d_samples(op, make):
    yield S("basic", make(2, 3, 6), make(4, 3, 3), make(4))
    yield S("stride_pad_dil_groups", make(2, 4, 9), make(4, 2, 2), None, 2, 1, 2, 2)
    yield S("same", make(1, 2, 5), make(3, 2, 4), make(3), padding="same")
    yield S("unbatched", make(3, 6), make(2, 3, 3))


def _conv2d_samples(op, make):
    yield S("basic", make(2, 3, 5, 4), make(4, 3, 3, 2), make(4))
    yield S("stride_pad_dil_groups", make(2, 4, 6, 5), make(4, 2, 2, 3), None, (2, 1), (1, 0), (1, 2), 2)
    yield S("same", make(1, 2, 4, 4), make(3, 2, 2, 3), make(3), padding="same", dilation=(2, 1))
    yield S("valid_unbatched", make(2, 5, 4), make(3, 2, 3, 3), padding="valid")
    yield S("depthwise", make(2, 3, 4, 4), make(3, 1, 3, 3), make(3), 1, 1, 1, 3)
    yield S("noncontiguous", make(2, 3, 4, 5, nc="T"), make(2, 3, 2, 2))


def _conv_transpose1d_samples(op, make):
    yield S("basic", make(2, 3, 4), make(3, 2, 3), make(2))
    yield S("stride_pad_out_groups_dil", make(2, 4, 4), make(4, 1, 3), make(2), 2, 1, 1, 2, 2)


def _conv_transpose2d_samples(op, make):
    yield S("basic", make(2, 3, 3, 4), make(3, 2, 3, 2), make(2))
    yield S("stride_pad_out", make(2, 2, 3, 3), make(2, 3, 3, 3), None, 2, 1, 1)
    yield S("groups_dilation", make(1, 4, 3, 3), make(4, 1, 2, 2), make(2), (1, 2), 0, (0, 1), 2, 2)
    yield S("unbatched", make(2, 3, 3), make(2, 2, 2, 2))


def _max_pool_samples(op, make):
    yield S("2d", make(2, 2, 5, 6), 2, 2)
    yield S("2d_options", make(2, 2, 7, 6), 2, 3, 2, 1, 2, True)
    yield S("2d_unbatched", make(2, 5, 5), 2, (2, 3), (1, 2), (1, 1))
    yield S("1d", make(2, 3, 9), 1, 3, None, 1, 1, True)


def _avg_pool_samples(op, make):
    yield S("2d", make(2, 2, 5, 6), 2, 2)
    yield S("2d_options", make(2, 2, 7, 6), 2, 3, 2, 1, True, False)
    yield S("2d_divisor", make(2, 5, 5), 2, (2, 3), (1, 2), (1, 1), False, True, 4)
    yield S("1d", make(2, 3, 9), 1, 3, 2, 1, True, True)


def _adaptive_pool_samples(op, make):
    yield S("2d", make(2, 2, 5, 6), 2, (3, 4))
    yield S("2d_none", make(2, 5, 5), 2, (None, 2))
    yield S("1d", make(2, 3, 9), 1, 4)


def _ref_pool(kind):
    def ref(torch):
        TF = torch.nn.functional

        def call(x, nd, *args, **kwargs):
            fn = getattr(TF, kind.format(nd=nd))
            if kind.startswith("max"):
                return fn(x, *args, **kwargs, return_indices=True)
            if kind.startswith("adaptive_max"):
                return fn(x, *args, return_indices=True)
            return fn(x, *args, **kwargs)

        return call

    return ref


OP_DB += [
    OpInfo("conv1d", F, _conv1d_samples),
    OpInfo("conv2d", F, _conv2d_samples),
    OpInfo("conv_transpose1d", F, _conv_transpose1d_samples),
    OpInfo("conv_transpose2d", F, _conv_transpose2d_samples),
    OpInfo(
        "_max_pool", F, _max_pool_samples, dtype_rule=values_and_indices(same), ref=_ref_pool("max_pool{nd}d")
    ),
    OpInfo("_avg_pool", F, _avg_pool_samples, ref=_ref_pool("avg_pool{nd}d")),
    OpInfo("_adaptive_avg_pool", F, _adaptive_pool_samples, ref=_ref_pool("adaptive_avg_pool{nd}d")),
    OpInfo(
        "_adaptive_max_pool",
        F,
        _adaptive_pool_samples,
        dtype_rule=values_and_indices(same),
        ref=_ref_pool("adaptive_max_pool{nd}d"),
    ),
]

OPS_BY_NAME: dict[str, list[OpInfo]] = {}
for _op in OP_DB:
    OPS_BY_NAME.setdefault(_op.name, []).append(_op)


# Names of chainrule._core that are not ops (no rows): creation, random numbers and
# configuration, autograd internals, fused optimizer steps, dtypes and classes.
NOT_OPS = frozenset(
    """
    zeros ones full arange linspace eye rand rand_like randn randn_like randint randint_like randperm
    empty_like zeros_like ones_like full_like from_numpy _tensor _zeros _ones _empty
    manual_seed seed set_num_threads get_num_threads initial_seed get_rng_state set_rng_state
    is_grad_enabled _set_grad_enabled _build_info _has_openmp default_generator
    _run_backward _make_function_node Node _HookFlag _SavedTensorsHandle _op_registry
    ShapeError DTypeError IndexingError ArgumentError AutogradError
    _sgd_step _adam_step _rmsprop_step _adagrad_step _clip_by_total_norm_ _total_norm _clamp_abs_
    _copy_from_flat_ _zero_ _normal_ _uniform_ normal bernoulli multinomial
    Tensor dtype Generator float32 float64 int64 bool
""".split()
)
INTERNAL_OPS = (
    "_scaled_dot_product_attention",
    "_mse_loss",
    "_l1_loss",
    "_huber_loss",
    "_smooth_l1_loss",
    "_cross_entropy",
    "_nll_loss",
    "_binary_cross_entropy",
    "_binary_cross_entropy_with_logits",
    "_max_pool",
    "_avg_pool",
    "_adaptive_avg_pool",
    "_adaptive_max_pool",
)
# Tensor methods that are neither ops nor variants of one (attributes, conversions to Python,
# autograd state, factories, random fills).
NOT_OP_METHODS = frozenset(
    """
    backward register_hook retain_grad requires_grad_ item tolist numpy data_ptr dim element_size
    is_contiguous is_floating_point nelement numel size stride storage_offset type
    register_post_accumulate_grad_hook as_subclass
    new_empty new_full new_ones new_tensor new_zeros normal_ uniform_ cpu cuda get_device
    bernoulli bernoulli_ multinomial
    allclose equal isclose is_nonzero floor_divide ravel repeat_interleave roll rot90 tensor_split tile
    unflatten addcmul addcdiv addcmul_ addcdiv_ bincount histc histogram type_as
""".split()
)
# The methods on the last two lines are Python compositions of ops (chainrule/_compose.py), tested
# in tests/test_compose.py.


def derive_registry_from_bindings() -> dict[str, tuple[tuple, tuple]]:
    """The registry as today's bindings imply it: every public function of chainrule._core that is
    not in NOT_OPS, the internal loss ops, and every public Tensor method that is an op. Aliases
    are recognised by their row (they are separate bindings to the same op)."""
    alias_of = {a: op.name for op in OP_DB for a in op.aliases}
    names = set()
    for n in dir(_core):
        if n.startswith("__") or n in NOT_OPS or (n.startswith("_") and n not in INTERNAL_OPS):
            continue
        if callable(getattr(_core, n)):
            names.add(alias_of.get(n, n))
    for n in dir(cr.Tensor):
        if n.startswith("_") or n in NOT_OP_METHODS:
            continue
        attr = getattr(cr.Tensor, n)
        if isinstance(attr, property) or not callable(attr):
            continue
        base = n[:-1] if n.endswith("_") else n
        names.add(alias_of.get(base, base))
    out = {}
    for n in sorted(names):
        variants = tuple(
            v
            for v, has in (
                (FUNCTION, is_function(_core, n)),
                (METHOD, not n.startswith("_") and hasattr(cr.Tensor, n)),
                (INPLACE, not n.startswith("_") and hasattr(cr.Tensor, n + "_")),
            )
            if has
        )
        aliases = tuple(
            a for a, b in alias_of.items() if b == n and (hasattr(_core, a) or hasattr(cr.Tensor, a))
        )
        out[n] = (variants, aliases)
    return out


def is_function(holder, name) -> bool:
    """A callable that is not a class or a dtype (chainrule.float is float32, not a function)."""
    f = getattr(holder, name, None)
    return callable(f) and not isinstance(f, (type, cr.dtype))


def sample_count(dtypes=None) -> int:
    return sum(len(op.samples(d)) for op in OP_DB for d in (dtypes or op.dtypes))
