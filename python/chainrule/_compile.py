"""chainrule.compile: trace a function (a whole training step) once, replay it from C++.

See docs/compile.md and Note [Capture and replay] in csrc/autograd/capture.h.
"""

from __future__ import annotations

import copy
import copyreg
import functools
import types
import weakref
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, overload

from chainrule import _core
from chainrule._core import Tensor
from chainrule.nn.modules.module import Module

__all__ = ["compile", "OptimizedModule"]

_F = TypeVar("_F", bound=Callable[..., Any])

#: How many traces one compiled function keeps (PyTorch's recompile limit is 8 too).
DEFAULT_CACHE_SIZE = 8

_TENSOR = object()  # placeholder for a tensor in a flattened structure
_MISS = object()  # what a _FastReplay answers when the call is not the same as the last one
_SCALARS = (int, float, bool, str, type(None), complex)


# ---- flattening arguments and results -----------------------------------------------------------
def _flatten(obj: Any, tensors: list[Tensor]) -> Any:
    """A hashable description of ``obj`` with its tensors appended to ``tensors`` in order."""
    if isinstance(obj, Tensor):
        tensors.append(obj)
        return _TENSOR
    t = type(obj)
    if t is tuple or t is list:
        return (t, tuple(_flatten(x, tensors) for x in obj))
    if t is dict:
        return (dict, tuple(obj.keys()), tuple(_flatten(v, tensors) for v in obj.values()))
    if isinstance(obj, _SCALARS):
        return (t, obj)
    try:
        hash(obj)
    except TypeError:
        return ("id", id(obj))
    return (t, obj)


def _out_spec(obj: Any, tensors: list[Tensor]) -> Any:
    """Like _flatten, for a result: anything that is not a tensor is kept as it was returned."""
    if isinstance(obj, Tensor):
        tensors.append(obj)
        return _TENSOR
    t = type(obj)
    if t is tuple or t is list:
        return (t, [_out_spec(x, tensors) for x in obj])
    if t is dict:
        return (dict, list(obj.keys()), [_out_spec(v, tensors) for v in obj.values()])
    return ("const", obj)


def _unflatten(spec: Any, tensors: list[Tensor], pos: list[int]) -> Any:
    if spec is _TENSOR:
        t = tensors[pos[0]]
        pos[0] += 1
        return t
    kind = spec[0]
    if kind is tuple:
        return tuple(_unflatten(s, tensors, pos) for s in spec[1])
    if kind is list:
        return [_unflatten(s, tensors, pos) for s in spec[1]]
    if kind is dict:
        return {k: _unflatten(s, tensors, pos) for k, s in zip(spec[1], spec[2])}
    return spec[1]


# ---- guards on Python state the step reads ------------------------------------------------------
def _freeze(v: Any) -> Any:
    """A hashable stand-in for a hyperparameter value."""
    if isinstance(v, _SCALARS):
        return v
    if isinstance(v, (tuple, list)):
        return tuple(_freeze(x) for x in v)
    if isinstance(v, Tensor):
        return ("tensor", id(v))
    try:
        hash(v)
        return v
    except TypeError:
        return ("id", id(v))


def _value_key(v: Any) -> Any:
    """What a value the step reads adds to the guard key (Note [Guard keys of compiled functions] in
    csrc/bindings/guard_key.cpp): Python numbers and strings by value; tensors, and lists of
    tensors, by identity; an optimizer's hyperparameters, state size and parameters; a module's
    training flags and parameters; nothing for other objects."""
    return _core._guard_key([], [], [], (v,))


_NO_KEY = _value_key(object())  # what a value of no known kind adds


def _object_key(obj: Any) -> Any:
    """An object argument (a method's self): its own key, else the keys of its attributes."""
    k = _value_key(obj)
    if k != _NO_KEY or isinstance(obj, type):
        return k
    return _core._guard_key([], [], [], tuple(vars(obj).values()))


class _Reads:
    """Where a function finds the Python state it reads: its closure cells and default argument
    values, the globals its code names, its bound ``self`` (and, one level down, the functions it
    calls that way). Each call reads
    their current values into the guard key, so that a changed learning rate, a replaced parameter,
    ``model.eval()`` or a rebound global number trace again instead of replaying stale constants."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.cells: list[Any] = []
        self.globals: list[tuple[dict[str, Any], str]] = []
        self.objects: list[Any] = []
        self._seen: set[int] = set()
        self._add(fn, depth=0)

    def _add(self, fn: Any, depth: int) -> None:
        if id(fn) in self._seen or depth > 2:
            return
        self._seen.add(id(fn))
        owner = getattr(fn, "__self__", None)
        if owner is not None and not isinstance(owner, types.ModuleType):
            self.objects.append(owner)
        func = getattr(fn, "__func__", fn)
        if isinstance(func, functools.partial):
            self.objects.extend(a for a in func.args if not isinstance(a, Tensor))
            self._add(func.func, depth + 1)
            return
        code = getattr(func, "__code__", None)
        if code is None:
            if hasattr(fn, "__dict__") and not isinstance(fn, type):
                self.objects.append(fn)  # a callable object, such as a Module
            return
        if (getattr(func, "__module__", "") or "").startswith("chainrule."):
            return
        # default argument values are read like closure cells (an optimizer passed as a default
        # has its state keyed too); reassigning __defaults__ after compiling is not seen
        defaults = list(getattr(func, "__defaults__", None) or ())
        defaults += list((getattr(func, "__kwdefaults__", None) or {}).values())
        for v in defaults:
            self.cells.append(types.CellType(v))
            if isinstance(v, types.FunctionType):
                self._add(v, depth + 1)
        for cell in getattr(func, "__closure__", None) or ():
            self.cells.append(cell)
            try:
                v = cell.cell_contents
            except ValueError:
                continue
            if isinstance(v, types.FunctionType):
                self._add(v, depth + 1)
        glob = getattr(func, "__globals__", {})
        for name in self._names(code):
            if name in glob:
                self.globals.append((glob, name))
                v = glob[name]
                if isinstance(v, types.FunctionType):
                    self._add(v, depth + 1)

    @staticmethod
    def _names(code: types.CodeType) -> list[str]:
        names = list(code.co_names)
        for c in code.co_consts:
            if isinstance(c, types.CodeType):
                names.extend(_Reads._names(c))
        return names

    def lists(self) -> tuple[list[Any], list[tuple[dict[str, Any], str]], list[Any]]:
        """(cells, globals, objects): what the fast replay reads each call."""
        return (self.cells, self.globals, self.objects)

    def key(self) -> Any:
        """The current values of the cells, the globals, and the objects and their attributes, as
        one key (bytes, or a tuple of bytes and the values that have no byte form)."""
        return _core._guard_key(self.cells, self.globals, self.objects)


# ---- the compiled function -----------------------------------------------------------------------
class _Trace:
    __slots__ = ("schedule", "out_spec")

    def __init__(self, schedule: Any, out_spec: Any) -> None:
        self.schedule = schedule
        self.out_spec = out_spec


#: Every live compiled function, so that chainrule.compiler.reset() reaches them all.
_LIVE: weakref.WeakSet[CompiledFunction] = weakref.WeakSet()


class CompiledFunction(_core._CompiledBase):
    """A function traced once per guard key and replayed from C++ afterwards (see ``compile``).

    A call without arguments that repeats the last one is replayed by the base class's C++ call
    (Note [Compiled function calls] in csrc/bindings/guard_key.cpp); every other call runs
    ``_call``."""

    def __init__(self, fn: Callable[..., Any], cache_size: int = DEFAULT_CACHE_SIZE) -> None:
        _LIVE.add(self)
        self._fn = fn
        self._cache_size = max(1, int(cache_size))
        self._cache: OrderedDict[Any, list[_Trace]] = OrderedDict()
        self._last: tuple[Any, list[_Trace]] | None = None  # the key and traces of the last replay
        self._fast: Any = None  # the last replay of a call without arguments, from C++
        self._reads = _Reads(fn)
        self._read_lists = self._reads.lists()
        #: How many times the function was traced (the first call, and each failed guard).
        self.trace_count = 0
        self._replays = 0  # replays not counted by the current _fast
        functools.update_wrapper(self, fn, updated=())  # not a Module's __dict__

    # The base class's fields (the fast replay, the read lists) are not state: a copy takes the
    # instance's __dict__ and finds its fast replay again on its own replays.
    def __reduce_ex__(self, protocol: Any) -> Any:
        return (copyreg.__newobj__, (type(self),), self.__dict__)  # type: ignore[attr-defined]

    def __deepcopy__(self, memo: dict[int, Any]) -> CompiledFunction:
        # traces hold the tensors they were traced with: a deep copy (of a compiled module: an EMA
        # copy of a model) compiles a copy of the function afresh, as torch.compile's does
        return type(self)(copy.deepcopy(self._fn, memo), self._cache_size)

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        _LIVE.add(self)
        self._read_lists = self._reads.lists()

    def __get__(self, obj: Any, objtype: Any = None) -> Any:
        # @chainrule.compile on a method: bind like a function does
        if obj is None:
            return self
        return functools.partial(self, obj)

    @property
    def replay_count(self) -> int:
        """How many calls were replayed from a trace."""
        return self._replays + (self._fast.replays if self._fast is not None else 0)

    def _set_fast(self, fast: Any) -> None:
        if self._fast is not None:
            self._replays += self._fast.replays
        self._fast = fast

    @property
    def num_traces(self) -> int:
        """How many traces are cached now."""
        return sum(len(v) for v in self._cache.values())

    def traces(self) -> list[Any]:
        """The cached schedules (chainrule._core._CaptureSchedule), most recently used first."""
        return [t.schedule for v in reversed(self._cache.values()) for t in v]

    def _key(self, args: tuple[Any, ...], kwargs: dict[str, Any], tensors: list[Tensor]) -> Any:
        if not args and not kwargs:  # a training step that takes no arguments
            return (_core.is_grad_enabled(), self._reads.key())
        arg_spec = _flatten(args, tensors)
        kw_spec = _flatten(kwargs, tensors) if kwargs else None
        extra = tuple(_object_key(a) for a in args if not isinstance(a, Tensor) and hasattr(a, "__dict__"))
        return (arg_spec, kw_spec, _core.is_grad_enabled(), self._reads.key(), extra)

    if TYPE_CHECKING:

        def __call__(self, *args: Any, **kwargs: Any) -> Any: ...

    def _call(self, *args: Any, **kwargs: Any) -> Any:
        # (the base class's C++ call came first: a call without arguments whose fast replay
        # answered is not seen here)
        if _core._is_tracing():
            # called from a function being traced: its calls are part of that trace
            return self._fn(*args, **kwargs)
        tensors: list[Tensor] = []
        key = self._key(args, kwargs, tensors)
        traces = self._last_traces(key)
        if traces is None:
            try:
                traces = self._cache.get(key)
            except TypeError:  # an unhashable hyperparameter (a list): compare a hashable copy
                key = _freeze(key)
                traces = self._cache.get(key)
        if traces is not None:
            for i, tr in enumerate(traces):
                outs = tr.schedule.replay(tensors)
                if outs is not None:
                    self._replays += 1
                    self._last = (key, traces)
                    if i:
                        traces.insert(0, traces.pop(i))
                    if len(self._cache) > 1:  # (hashing the key again costs a microsecond)
                        self._cache.move_to_end(key)
                    spec = tr.out_spec
                    if (
                        not args
                        and not kwargs
                        and type(key[1]) is bytes  # (a key with objects kept in it compares them by ==)
                        and (spec is _TENSOR or (spec[0] == "const" and spec[1] is None))
                    ):
                        self._set_fast(_core._FastReplay(key[1], key[0], tr.schedule, spec is _TENSOR, _MISS))
                    if spec is _TENSOR:
                        return outs[0]
                    if spec[0] == "const":  # (a step that returns None)
                        return spec[1]
                    return _unflatten(spec, outs, [0])
        return self._trace(key, tensors, args, kwargs)

    def _last_traces(self, key: Any) -> list[_Trace] | None:
        """The traces of the previous call when its key equals this one (a training loop calls with
        the same key every step): an equality test instead of hashing the key."""
        last = self._last
        if last is None:
            return None
        try:
            same = last[0] == key
        except Exception:  # a value whose == is not a truth value (an array): look it up instead
            return None
        return last[1] if same is True else None

    def _trace(self, key: Any, tensors: list[Tensor], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        schedule = _core._CaptureSchedule()
        schedule.begin(tensors)
        try:
            out = self._fn(*args, **kwargs)
            out_tensors: list[Tensor] = []
            spec = _out_spec(out, out_tensors)
        except BaseException:
            schedule.abort()
            raise
        schedule.end(out_tensors)
        self.trace_count += 1
        self._last = None
        self._set_fast(None)
        self._cache.setdefault(key, []).insert(0, _Trace(schedule, spec))
        self._cache.move_to_end(key)
        while self.num_traces > self._cache_size:
            oldest_key = next(iter(self._cache))
            oldest = self._cache[oldest_key]
            oldest.pop()
            if not oldest:
                del self._cache[oldest_key]
        return out

    def reset(self) -> None:
        """Forgets every trace: the next call traces again."""
        self._cache.clear()
        self._last = None
        self._set_fast(None)


@overload
def compile(
    model: _F,
    *,
    fullgraph: bool = ...,
    dynamic: bool | None = ...,
    backend: str | Callable[..., Any] | None = ...,
    mode: str | None = ...,
    options: dict[str, Any] | None = ...,
    disable: bool = ...,
    **kwargs: Any,
) -> _F: ...
@overload
def compile(
    model: None = ...,
    *,
    fullgraph: bool = ...,
    dynamic: bool | None = ...,
    backend: str | Callable[..., Any] | None = ...,
    mode: str | None = ...,
    options: dict[str, Any] | None = ...,
    disable: bool = ...,
    **kwargs: Any,
) -> Callable[[_F], _F]: ...
def compile(
    model: Callable[..., Any] | None = None,
    *,
    fullgraph: bool = False,
    dynamic: bool | None = None,
    backend: str | Callable[..., Any] | None = "inductor",
    mode: str | None = None,
    options: dict[str, Any] | None = None,
    disable: bool = False,
    **kwargs: Any,
) -> Any:
    """Compiles ``model`` (any callable: a function, a whole training step, a Module) by tracing,
    with the call forms of ``torch.compile``: ``compile(fn)``, ``@compile`` and ``@compile(...)``.

    The first call with given inputs runs ``model`` eagerly (its results are the eager results)
    while every C++ kernel it calls is recorded: forward ops, ``loss.backward()``, reads and
    resets of ``.grad``, the optimizer's fused step, ``clip_grad_norm_``, random ops. Later calls
    whose guards hold bind the new input tensors and replay the recorded calls from C++, without
    running the Python code: the results are bitwise equal to running ``model`` eagerly.

    Python control flow is frozen at trace time, as with ``tf.function`` or tinygrad's TinyJit:
    ``if``/``for`` over Python values take the branch they took in the first call, and Python
    values computed inside are constants. Reading a tensor into Python inside ``model``
    (``.item()``, ``float(t)``, ``bool(t)``, ``.tolist()``, ``.numpy()``, printing) raises
    AutogradError at trace time; return the tensor and read it outside instead.

    Guards (a call that fails them traces again; up to ``recompile_limit`` (8) traces are kept,
    least recently used first out): the input tensors' shapes, strides, dtypes, requires_grad and
    aliasing; non-tensor arguments (by value); grad mode; for every tensor the step reached
    without computing it (parameters, optimizer state) its shape, dtype, requires_grad and, when
    the step reads its ``.grad`` before setting it, whether it has one; and the Python state the
    function reads through its closure, globals and bound ``self``: optimizers' hyperparameters (a
    scheduler's new ``lr``), their state size and parameter lists, modules' ``training`` flags and
    parameter identities, and Python numbers.

    Tensors reached without being computed are held by reference: in-place updates (the
    optimizer's step, ``.grad`` resets) reach the same tensors the rest of the program sees. A
    tensor the step stores into a Python object (``self.last = y``) stays the trace's tensor.
    Hooks registered on tensors outside the step run during a replay's backward (they are Python:
    the replay holds the GIL); hooks registered inside the step are registered again by each replay.
    A custom ``autograd.Function`` inside the step raises AutogradError at trace time.

    When the step's ``loss.backward()`` graph allows it (docs/compile.md, "Replays without graph
    nodes"), a replay records no autograd graph: the traced backward's nodes run again on the
    replay's tensors. The returned loss then has no ``grad_fn``.

    ``fullgraph``, ``dynamic``, ``backend``, ``mode`` and ``options`` are accepted for
    compatibility and have no effect; ``disable=True`` returns ``model`` unchanged.
    """
    del fullgraph, dynamic, backend, mode, options
    cache_size = kwargs.pop("recompile_limit", None) or DEFAULT_CACHE_SIZE
    kwargs.pop("name", None)
    kwargs.pop("isolate_recompiles", None)
    kwargs.pop("shapes_spec", None)
    if kwargs:
        raise TypeError(f"compile() got an unexpected keyword argument '{next(iter(kwargs))}'")
    if model is None:

        def decorate(fn: Callable[..., Any]) -> Any:
            return compile(fn, disable=disable, recompile_limit=cache_size)

        return decorate
    if disable:
        return model
    if not callable(model):
        raise TypeError(f"A callable function is expected, but {type(model)} is provided.")
    if isinstance(model, Module):
        return OptimizedModule(model, cache_size)
    return CompiledFunction(model, cache_size)


class OptimizedModule(Module):
    """What ``compile(module)`` returns, as ``torch.compile`` does: a Module that holds the
    original module as its child ``_orig_mod`` and runs the original module's call (its forward
    hooks included) through ``compile``. Attributes it does not have itself are the original's
    (``compiled.fc1``, ``compiled.some_method()``); its parameters are the original's, and its
    ``state_dict`` keys start with ``_orig_mod.``, as PyTorch's do."""

    def __init__(self, mod: Module, cache_size: int = DEFAULT_CACHE_SIZE) -> None:
        super().__init__()
        self._orig_mod = mod
        self.__dict__["_compiled_call"] = CompiledFunction(mod, cache_size)
        self.training = mod.training

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self._compiled_call(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        try:
            return super().__getattr__(name)
        except AttributeError:
            if name.startswith("__") or "_modules" not in self.__dict__:
                raise
        return getattr(self._modules["_orig_mod"], name)

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(dir(self._orig_mod)))


def _module_compile(self: Any, **kwargs: Any) -> None:
    """Compiles this module's ``forward`` in place, as ``torch.nn.Module.compile``: later calls of
    the module run ``chainrule.compile(forward)`` (its forward hooks still run around it)."""
    self.forward = compile(type(self).forward.__get__(self), **kwargs)


def _install() -> None:
    from chainrule.optim.optimizer import Optimizer

    _core._set_guard_types(Optimizer, Module)
    if not hasattr(Module, "compile"):
        setattr(Module, "compile", _module_compile)  # noqa: B010 - Module is defined before this file


_install()
