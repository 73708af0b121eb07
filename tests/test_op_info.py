"""Every row of the op table (tests/op_info.py) through the same checks:

(a) gradients by central differences in float64 on every sample (no PyTorch), and second
    derivatives the same way;
(b) forward values and gradients against PyTorch on the same inputs;
(c) dtype rules: the result dtype of each supported dtype, type promotion between operands, and a
    TypeError for a dtype the op does not take (no PyTorch);
(d) the method, in-place and alias variants agree with the function;
(e) the op registry of the C++ engine and the table name the same ops.

Test ids are op names. A known mismatch is its own strict xfail case, ``<op>-xfail-...``, which
runs only the samples it names; the op's main case runs all the others.
"""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule import _core
from op_info import (
    ALL_DTYPES,
    DT,
    FUNCTION,
    INPLACE,
    METHOD,
    OP_DB,
    OPS_BY_NAME,
    Arg,
    Maker,
    derive_registry_from_bindings,
    is_function,
)

try:  # pin PyTorch's threads: two OpenMP runtimes in one process oversubscribe the cores
    import torch as _torch
except ImportError:  # the reference tests skip, visibly, through the torch fixture
    pass
else:
    _torch.set_num_threads(1)


# ---- building samples in either library ----------------------------------------------------------
def _args_of(obj, out):
    """The Args of a (nested) argument structure, in order."""
    if isinstance(obj, Arg):
        out.append(obj)
    elif isinstance(obj, (list, tuple)):
        for o in obj:
            _args_of(o, out)
    elif isinstance(obj, dict):
        for o in obj.values():
            _args_of(o, out)
    return out


def sample_args(sample):
    return _args_of(sample.kwargs, _args_of(sample.args, []))


def _assemble(obj, lib, bases):
    if isinstance(obj, Arg):
        t = bases[id(obj)]
        return obj.view(t) if obj.view else t
    if isinstance(obj, DT):
        return obj.resolve(lib)
    if isinstance(obj, list):
        return [_assemble(o, lib, bases) for o in obj]
    if isinstance(obj, tuple):
        return tuple(_assemble(o, lib, bases) for o in obj)
    if isinstance(obj, dict):
        return {k: _assemble(v, lib, bases) for k, v in obj.items()}
    return obj


def new_tensor(lib, array):
    if lib is cr:
        return cr.tensor(array.copy())
    return lib.tensor(array.copy())


def instantiate(sample, lib, grad=False):
    """(args, kwargs, leaves): fresh tensors for every Arg; with ``grad`` the floating ones are
    leaves that require grad (views applied after)."""
    bases, leaves = {}, []
    for a in sample_args(sample):
        t = new_tensor(lib, a.array)
        if grad and a.grad:
            t.requires_grad_(True)
            leaves.append(t)
        bases[id(a)] = t
    return _assemble(sample.args, lib, bases), _assemble(sample.kwargs, lib, bases), leaves


def outputs(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


def to_np(t):
    # bfloat16 has no NumPy dtype (in either library): compare it through float32, which holds it.
    t = t.detach()
    return np.asarray(t.float() if dtype_name(t.dtype) == "bfloat16" else t)


def dtype_name(d):
    return str(d).split(".")[-1]


def tols(op, dtype):
    """Tolerances by the dtype of the result compared."""
    if dtype_name(dtype) == "float32":
        return dict(atol=op.atol, rtol=op.rtol)
    return dict(atol=1e-10, rtol=1e-7)


# ---- parametrization: one case per row, one more per known failure ------------------------------
def cases(test, rows=OP_DB):
    for op in rows:
        marks = (
            []
            if op.available
            else [pytest.mark.skip(reason=f"chainrule.{op.requires} is not implemented yet")]
        )
        yield pytest.param(op, None, id=op.name, marks=marks)
        for xf in op.xfails:
            if xf.applies_to(test):
                yield pytest.param(
                    op,
                    xf,
                    id=f"{op.name}-{xf.id}",
                    marks=marks + [pytest.mark.xfail(strict=True, reason=xf.reason)],
                )


def selected(op, xf, test, sample_name, dtype):
    """In the main case: every combination no known failure names; in an xfail case: only its own."""
    if xf is None:
        return not op.known(test, sample_name, dtype)
    return xf.matches(test, sample_name, dtype)


def _report(failures, what):
    if failures:
        raise AssertionError(f"{what} failed for {len(failures)} sample(s):\n" + "\n".join(failures))


# ---- (a) gradients by central differences ------------------------------------------------------------
def _gradcheck_cases(op, test, xf, *, second_order=False):
    """(sample, fn, leaves) for each float64 sample with a differentiable input: fn rebuilds the
    sample's arguments around the leaves (views applied inside, so the op sees them)."""
    for s in op.samples("float64"):
        if not selected(op, xf, test, s.name, "float64"):
            continue
        diff = [a for a in sample_args(s) if a.grad]
        if not diff or not s.gradcheck or (second_order and not s.gradgrad):
            continue
        leaves = [cr.tensor(a.array.copy(), requires_grad=True) for a in diff]
        consts = {id(a): new_tensor(cr, a.array) for a in sample_args(s) if not a.grad}

        def fn(*ls, s=s, diff=diff, consts=consts):
            bases = dict(consts)
            bases.update({id(a): t for a, t in zip(diff, ls)})
            return op(*_assemble(s.args, cr, bases), **_assemble(s.kwargs, cr, bases))

        yield s, fn, leaves


@pytest.mark.parametrize("op,xf", cases("gradcheck", [o for o in OP_DB if o.supports_grad]))
def test_gradcheck(op, xf):
    failures, checked = [], 0
    for s, fn, leaves in _gradcheck_cases(op, "gradcheck", xf):
        checked += 1
        try:
            cr.autograd.gradcheck(fn, leaves, eps=op.gc_eps, atol=op.gc_atol, rtol=op.gc_rtol)
        except Exception as e:  # reported with the sample's name
            failures.append(f"  {s.name}: {type(e).__name__}: {str(e)[:600]}")
    assert checked or xf is not None, f"{op.name}: no sample has a differentiable input"
    _report(failures, f"gradcheck of {op.name}")


@pytest.mark.parametrize(
    "op,xf", cases("gradgradcheck", [o for o in OP_DB if o.supports_grad and o.supports_gradgrad])
)
def test_gradgradcheck(op, xf):
    """Second derivatives: the gradients computed with create_graph=True are themselves checked."""
    failures = []
    for s, fn, leaves in _gradcheck_cases(op, "gradgradcheck", xf, second_order=True):
        try:
            cr.autograd.gradgradcheck(fn, leaves, eps=op.gc_eps, atol=op.gc_atol * 10, rtol=op.gc_rtol)
        except Exception as e:
            failures.append(f"  {s.name}: {type(e).__name__}: {str(e)[:600]}")
    _report(failures, f"gradgradcheck of {op.name}")


# ---- (b) against PyTorch -------------------------------------------------------------------------------
def _compare(c, t, op, what):
    assert tuple(c.shape) == tuple(t.shape), f"{what}: shape {tuple(c.shape)} vs PyTorch {tuple(t.shape)}"
    assert dtype_name(c.dtype) == dtype_name(t.dtype), f"{what}: dtype {c.dtype} vs PyTorch {t.dtype}"
    cn, tn = to_np(c), to_np(t)
    if cn.dtype.kind == "f":
        np.testing.assert_allclose(cn, tn, equal_nan=True, err_msg=what, **tols(op, c.dtype))
    else:
        np.testing.assert_array_equal(cn, tn, err_msg=what)


def _check_sample_against_torch(op, s, dtype, torch):
    grad = op.supports_grad and dtype in ("float32", "float64")
    c_args, c_kwargs, c_leaves = instantiate(s, cr, grad=grad)
    t_args, t_kwargs, t_leaves = instantiate(s, torch, grad=grad)
    outs_c = outputs(op(*c_args, **c_kwargs))
    outs_t = outputs(op.torch_ref(torch)(*t_args, **t_kwargs))
    assert len(outs_c) == len(outs_t), f"{len(outs_c)} outputs vs PyTorch {len(outs_t)}"
    for k, (c, t) in enumerate(zip(outs_c, outs_t)):
        _compare(c, t, op, f"output {k}")
    if not c_leaves:
        return
    rng = np.random.default_rng(7)
    pairs = [(c, t) for c, t in zip(outs_c, outs_t) if t.requires_grad and t.dtype.is_floating_point]
    if not pairs:
        return
    seeds = [rng.standard_normal(tuple(t.shape)).astype(t.detach().numpy().dtype) for _, t in pairs]
    torch.autograd.backward([t for _, t in pairs], [torch.tensor(g) for g in seeds])
    assert all(c.requires_grad for c, _ in pairs), "PyTorch's output requires grad, chainrule's does not"
    cr.autograd.backward([c for c, _ in pairs], [cr.tensor(g) for g in seeds])
    for k, (lc, lt) in enumerate(zip(c_leaves, t_leaves)):
        # no gradient and a gradient of zeros are the same answer
        if lt.grad is None or lc.grad is None:
            tg = None if lt.grad is None else lt.grad.numpy()
            cg = None if lc.grad is None else to_np(lc.grad)
            assert tg is None or not np.any(tg), f"grad of input {k}: chainrule has none, PyTorch's isn't 0"
            assert cg is None or not np.any(cg), f"grad of input {k}: PyTorch has none, chainrule's isn't 0"
        else:
            _compare(lc.grad, lt.grad, op, f"grad of input {k}")


@pytest.mark.parametrize("op,xf", cases("torch"))
def test_matches_torch(op, xf, torch):
    failures = []
    for dtype in op.ref_dtypes or op.dtypes:
        for s in op.samples(dtype):
            if s.name in op.no_ref_samples or not selected(op, xf, "torch", s.name, dtype):
                continue
            try:
                _check_sample_against_torch(op, s, dtype, torch)
            except Exception as e:  # reported with the sample's name
                failures.append(f"  {dtype} {s.name}: {type(e).__name__}: {str(e)[:600]}")
    _report(failures, f"PyTorch reference of {op.name}")


# ---- (c) dtype rules -----------------------------------------------------------------------------------
def _check_dtypes(out, expected, what):
    outs = outputs(out)
    exp = list(expected) if isinstance(expected, tuple) else [expected] * len(outs)
    got = [o.dtype for o in outs]
    assert got == exp, (
        f"{what}: result dtype {[dtype_name(d) for d in got]}, expected {[dtype_name(d) for d in exp]}"
    )


@pytest.mark.parametrize("op,xf", cases("dtype"))
def test_dtype_rules(op, xf):
    failures = []
    for dtype in op.dtypes:
        for s in op.samples(dtype):
            if not selected(op, xf, "dtype", s.name, dtype):
                continue
            args, kwargs, _ = instantiate(s, cr)
            try:
                _check_dtypes(op(*args, **kwargs), op.dtype_rule(args, kwargs), f"{dtype} {s.name}")
            except Exception as e:
                failures.append(f"  {dtype} {s.name}: {type(e).__name__}: {e}")
    if xf is None:
        for dtype in ALL_DTYPES:
            if dtype in op.dtypes:
                continue
            s = op.samples(dtype)[0]
            args, kwargs, _ = instantiate(s, cr)
            try:
                op(*args, **kwargs)
            except TypeError:
                continue
            except Exception as e:
                failures.append(f"  unsupported {dtype}: {type(e).__name__} instead of TypeError: {e}")
            else:
                failures.append(f"  unsupported {dtype}: accepted (add it to the row's dtypes?)")
    _report(failures, f"dtype rules of {op.name}")


def _promotion_cases(op):
    """(name, args): the op's first sample in dtype a, with its other promoted operand replaced by a
    dtype-b tensor, 0-d tensor or Python number."""
    i, j = op.promotes
    for da in op.dtypes:
        samples = op.samples(da)
        takes_numbers = any(not isinstance(s.args[j], Arg) for s in samples)
        args, kwargs, _ = instantiate(samples[0], cr)
        for db in op.dtypes:
            make = Maker(op, db)
            shape = tuple(args[i].shape[-1:])
            kinds = [("", cr.tensor(make.values(shape))), ("_0d", cr.tensor(make.values(())))]
            if takes_numbers:
                kinds.append(("_scalar", make.scalar()))
            for kind, value in kinds:
                new = list(args)
                new[j] = value
                yield f"{da}-{db}{kind}", new, kwargs


@pytest.mark.parametrize("op,xf", cases("promotion", [o for o in OP_DB if o.promotes]))
def test_type_promotion(op, xf):
    failures = []
    for name, args, kwargs in _promotion_cases(op):
        if not selected(op, xf, "promotion", name, None):
            continue
        try:
            _check_dtypes(op(*args, **kwargs), op.dtype_rule(args, kwargs), name)
        except Exception as e:
            failures.append(f"  {name}: {type(e).__name__}: {e}")
    _report(failures, f"type promotion of {op.name}")


# ---- (d) variants --------------------------------------------------------------------------------------
def _same(a, b, what):
    oa, ob = outputs(a), outputs(b)
    assert len(oa) == len(ob), what
    for x, y in zip(oa, ob):
        assert x.dtype == y.dtype and tuple(x.shape) == tuple(y.shape), (
            f"{what}: {x.dtype}{tuple(x.shape)} vs {y.dtype}{tuple(y.shape)}"
        )
        np.testing.assert_array_equal(to_np(x), to_np(y), err_msg=what)


_KIND = {"bool": 0, "int64": 1, "float32": 2, "float64": 2}


def _inplace_allowed(self_t, out):
    """PyTorch's rule for ``self.op_(...)``: the result must have self's shape and a dtype that can be
    cast to self's without going down a kind (float -> int, int -> bool)."""
    if not isinstance(out, cr.Tensor) or tuple(out.shape) != tuple(self_t.shape):
        return False
    if any(st == 0 and n > 1 for st, n in zip(self_t.stride(), self_t.shape)):
        return False  # elements sharing memory (an expanded tensor) cannot be written to
    return _KIND[dtype_name(out.dtype)] <= _KIND[dtype_name(self_t.dtype)]


def test_declared_variants_exist():
    """Each row's variants are exactly the callables chainrule has for it (a new in-place or method
    variant must be added to its row, so that it gets tested)."""
    problems = []
    for op in OP_DB:
        if not op.available:
            continue
        have = {
            FUNCTION: is_function(cr, op.name) or is_function(_core, op.name),
            METHOD: not op.name.startswith("_") and callable(getattr(cr.Tensor, op.name, None)),
            INPLACE: not op.name.startswith("_") and hasattr(cr.Tensor, op.name + "_"),
        }
        declared = set(op.variants)
        actual = {v for v, h in have.items() if h}
        if declared != actual:
            problems.append(f"{op.name}: declared {sorted(declared)}, chainrule has {sorted(actual)}")
        for a in op.aliases:
            if not hasattr(cr, a) and not hasattr(cr.Tensor, a):
                problems.append(f"{op.name}: alias {a} does not exist")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("op,xf", cases("variants"))
def test_variants_agree(op, xf):
    failures = []
    for dtype in op.dtypes:
        for s in op.samples(dtype):
            if not selected(op, xf, "variants", s.name, dtype):
                continue
            try:
                _check_variants(op, s)
            except Exception as e:
                failures.append(f"  {dtype} {s.name}: {type(e).__name__}: {str(e)[:600]}")
    _report(failures, f"variants of {op.name}")


def _check_variants(op, s):
    args, kwargs, _ = instantiate(s, cr)
    expected = op(*args, **kwargs)
    self_index = 1 if op.method_args else 0
    if FUNCTION in op.variants and METHOD in op.variants and isinstance(args[self_index], cr.Tensor):
        a2, k2, _ = instantiate(s, cr)
        _same(op.call_method(a2, k2), expected, "method")
    if op.operator is not None and not s.kwargs and any(isinstance(a, cr.Tensor) for a in args):
        a2, _, _ = instantiate(s, cr)
        _same(op.operator(*a2), expected, f"operator {op.operator.__name__}")
    for alias in op.aliases:
        for holder, kind in ((cr, "function"), (cr.Tensor, "method")):
            f = getattr(holder, alias, None)
            if f is None:
                continue
            a2, k2, _ = instantiate(s, cr)
            a2 = op.method_args(a2) if (kind == "method" and op.method_args) else a2
            _same(f(*a2, **k2), expected, f"alias {kind} {alias}")
        f_ = getattr(cr.Tensor, alias + "_", None)
        if f_ is not None and INPLACE in op.variants:
            a2, k2, _ = instantiate(s, cr)
            if _inplace_allowed(a2[0], expected):
                r = f_(*a2, **k2)
                assert r is a2[0], f"alias in-place {alias}_ does not return self"
    if INPLACE in op.variants:
        a2, k2, _ = instantiate(s, cr)
        self_t = op.method_args(a2)[0] if op.method_args else a2[0]
        if not isinstance(self_t, cr.Tensor):
            return
        if op.inplace_operator is not None and not k2 and _inplace_allowed(self_t, expected):
            r = op.inplace_operator(*a2)
            assert r is self_t, f"{op.inplace_operator.__name__} does not give back self"
            exp = to_np(outputs(expected)[0]).astype(to_np(self_t).dtype)
            np.testing.assert_allclose(
                to_np(self_t), exp, rtol=1e-6, atol=1e-6, err_msg=op.inplace_operator.__name__
            )
            a2, k2, _ = instantiate(s, cr)
            self_t = op.method_args(a2)[0] if op.method_args else a2[0]
        before = to_np(self_t).copy()
        if _inplace_allowed(self_t, expected):
            version = self_t._version
            r = op.call_inplace(a2, k2)
            assert r is self_t, "in-place variant does not return self"
            assert self_t._version > version or self_t.numel() == 0 or op.name == "detach", (
                "in-place variant did not bump the version counter"
            )
            exp = to_np(outputs(expected)[0]).astype(to_np(self_t).dtype)
            np.testing.assert_allclose(to_np(self_t), exp, rtol=1e-6, atol=1e-6, err_msg="in-place result")
        else:
            with pytest.raises((RuntimeError, ValueError, TypeError)):
                op.call_inplace(a2, k2)
            np.testing.assert_array_equal(to_np(self_t), before, err_msg="failed in-place call changed self")


@pytest.mark.parametrize(
    "op,xf", cases("inplace_gradcheck", [o for o in OP_DB if INPLACE in o.variants and o.supports_grad])
)
def test_inplace_gradcheck(op, xf):
    """Gradients through the in-place variant applied to a non-leaf (a clone of the leaf, viewed the
    way the sample says: in-place writes into transposed and strided views too)."""
    failures, checked = [], 0
    for s in op.samples("float64"):
        if not selected(op, xf, "inplace_gradcheck", s.name, "float64"):
            continue
        all_args = sample_args(s)
        diff = [a for a in all_args if a.grad] if s.gradcheck else []
        args, kwargs, _ = instantiate(s, cr)
        self_index = 1 if op.method_args else 0
        if (
            not diff
            or not isinstance(args[self_index], cr.Tensor)
            or not _inplace_allowed(args[self_index], op(*args, **kwargs))
        ):
            continue
        if not all_args[0].grad:
            continue
        checked += 1
        leaves = [cr.tensor(a.array.copy(), requires_grad=True) for a in diff]
        consts = {id(a): new_tensor(cr, a.array) for a in all_args if not a.grad}
        self_arg = s.args[self_index]

        def fn(*ls, s=s, diff=diff, consts=consts, self_arg=self_arg):
            bases = dict(consts)
            bases.update({id(a): t for a, t in zip(diff, ls)})
            base = bases[id(self_arg)] = bases[id(self_arg)].clone()
            a2 = _assemble(s.args, cr, bases)
            k2 = _assemble(s.kwargs, cr, bases)
            out = op.call_inplace(a2, k2)
            # Writing into a view rebases its base's history (PyTorch's CopySlices): the view and
            # the base both differentiate through the write.
            return (out, base) if self_arg.view is not None else out

        try:
            cr.autograd.gradcheck(fn, leaves, eps=op.gc_eps, atol=op.gc_atol, rtol=op.gc_rtol)
        except Exception as e:
            failures.append(f"  {s.name}: {type(e).__name__}: {str(e)[:600]}")
    assert checked or xf is not None, f"{op.name}: no sample for the in-place variant"
    _report(failures, f"in-place gradcheck of {op.name}")


# ---- error inputs ------------------------------------------------------------------------------------
@pytest.mark.parametrize("op,xf", cases("errors", [o for o in OP_DB if o.error_inputs is not None]))
def test_error_inputs(op, xf):
    """Misuse raises the documented class (shape: ValueError, dtype and argument type: TypeError, index
    and dim: IndexError) with a message that says what is wrong, and never crashes."""
    failures = []
    for e in op.errors():
        if not selected(op, xf, "errors", e.name, None):
            continue
        args, kwargs, _ = instantiate(e.sample, cr)
        try:
            with pytest.raises(e.error, match=e.match):
                op(*args, **kwargs)
        except BaseException as exc:  # pytest's Failed is a BaseException
            failures.append(
                f"  {e.name}: expected {e.error.__name__}({e.match!r}): "
                f"{type(exc).__name__}: {str(exc)[:300]}"
            )
    _report(failures, f"error inputs of {op.name}")


def test_errors_are_also_runtime_errors():
    """chainrule's ShapeError/DTypeError/IndexingError subclass both the specific Python class and
    RuntimeError, so `except ValueError` and PyTorch-style `except RuntimeError` both work."""
    x = cr.zeros(3, 4)
    for call in (lambda: cr.add(x, cr.zeros(3, 5)), lambda: cr.sum(x, 2), lambda: cr.where(x, x, x)):
        with pytest.raises(RuntimeError):
            call()


def _make_sample_tensor_from_numpy_scalar():
    return cr.tensor(np.float64(0.5))


def test_tensor_from_numpy_float64_scalar_keeps_float64():
    # Found building the table: samples therefore hold 0-d arrays, never NumPy scalars.
    assert cr.tensor(np.array(0.5)).dtype == cr.float64
    assert _make_sample_tensor_from_numpy_scalar().dtype == cr.float64


# ---- (e) the op registry -------------------------------------------------------------------------------
def _registry():
    return {name: (tuple(variants), tuple(aliases)) for name, variants, aliases in _core._op_registry()}


def test_registry_has_a_row_for_every_op_and_no_row_is_unregistered():
    registry = _registry()
    rows = set(OPS_BY_NAME)
    pending = {op.name for op in OP_DB if not op.available}
    missing_rows = sorted(set(registry) - rows)
    unregistered = sorted(rows - set(registry) - pending)
    assert not missing_rows and not unregistered, (
        f"ops in the registry without a row in tests/op_info.py: {missing_rows}; "
        f"rows for ops not in the registry: {unregistered}"
    )


def test_registry_variants_and_aliases_match_rows():
    registry = _registry()
    problems = []
    for name, (variants, aliases) in sorted(registry.items()):
        for op in OPS_BY_NAME.get(name, []):
            if set(variants) != set(op.variants):
                problems.append(f"{name}: registry variants {sorted(variants)}, row {sorted(op.variants)}")
            if set(aliases) != set(op.aliases):
                problems.append(f"{name}: registry aliases {sorted(aliases)}, row {sorted(op.aliases)}")
    assert not problems, "\n".join(problems)


def test_every_bound_op_is_a_registry_row():
    """Every op-like name the module and Tensor expose comes from a registry row (none is bound
    by hand outside it), with the row's variants and aliases."""
    derived = derive_registry_from_bindings()
    registry = {name: (tuple(v), tuple(sorted(a))) for name, v, a in _core._op_registry()}
    derived = {name: (v, tuple(sorted(a))) for name, (v, a) in derived.items()}
    assert derived == registry, (
        f"bound outside the registry: {sorted(set(derived) - set(registry))}; "
        f"registry rows not bound: {sorted(set(registry) - set(derived))}; "
        f"different variants or aliases: "
        f"{sorted(n for n in set(derived) & set(registry) if derived[n] != registry[n])}"
    )


def test_every_row_has_samples_in_every_dtype():
    for op in OP_DB:
        for dtype in ALL_DTYPES:
            assert op.samples(dtype), f"{op.name}: no samples in {dtype}"
