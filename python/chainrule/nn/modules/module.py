"""Module: the base class of every layer, with PyTorch's registration, state_dict and hook rules."""

from __future__ import annotations

import itertools
from collections import OrderedDict, namedtuple
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, Callable, Protocol, TypeVar

import numpy as np

from chainrule import _core
from chainrule._core import Tensor
from chainrule.autograd.grad_mode import no_grad
from chainrule.nn.init import _copy_
from chainrule.nn.parameter import Buffer, Parameter

__all__ = ["Module", "RemovableHandle"]

_M = TypeVar("_M", bound="Module")

if TYPE_CHECKING:
    from typing_extensions import ParamSpec

    _P = ParamSpec("_P")
    _R_co = TypeVar("_R_co", covariant=True)

    class _Forward(Protocol[_P, _R_co]):
        def forward(self, *args: _P.args, **kwargs: _P.kwargs) -> _R_co: ...


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


class RemovableHandle:
    """Returned by the register_*_hook methods; ``remove()`` (or leaving a ``with`` block) unregisters."""

    _next_id = itertools.count()

    def __init__(self, hooks_dict: dict[int, Any]) -> None:
        self._hooks_dict = hooks_dict
        self.id = next(RemovableHandle._next_id)

    def remove(self) -> None:
        self._hooks_dict.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


def _addindent(s: str, num_spaces: int) -> str:
    lines = s.split("\n")
    if len(lines) == 1:
        return s
    first = lines.pop(0)
    return first + "\n" + "\n".join(" " * num_spaces + line for line in lines)


def _check_name(module: Module, name: object, kind: str) -> None:
    if not isinstance(name, str):
        raise TypeError(f"{kind} name should be a string. Got {type(name).__name__}")
    if name == "":
        raise KeyError(f'{kind} name can\'t be empty string ""')
    if "." in name:
        raise KeyError(f'{kind} name can\'t contain ".", got: {name}')


def _forward_unimplemented(self: Module, *args: Any, **kwargs: Any) -> Any:
    raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required "forward" function')


class Module:
    """Base class for all neural network modules (PyTorch's torch.nn.Module).

    Assigning a Parameter, a Module or (through register_buffer) a Tensor to an attribute registers
    it; parameters(), state_dict(), to(), train()/eval() and zero_grad() then reach it recursively.
    """

    training: bool
    _version: int = 1
    # Set through __dict__ in __init__, so that __setattr__ can rely on them.
    _parameters: dict[str, Parameter | None]
    _buffers: dict[str, Tensor | None]
    _non_persistent_buffers_set: set[str]
    _modules: dict[str, Module | None]
    _forward_hooks: OrderedDict[int, Callable[..., Any]]
    _forward_pre_hooks: OrderedDict[int, Callable[..., Any]]
    _load_state_dict_pre_hooks: OrderedDict[int, Callable[..., Any]]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if args or kwargs:
            raise TypeError(f"{type(self).__name__}.__init__() got unexpected arguments")
        d = self.__dict__
        d["training"] = True
        d["_parameters"] = OrderedDict()
        d["_buffers"] = OrderedDict()
        d["_non_persistent_buffers_set"] = set()
        d["_modules"] = OrderedDict()
        d["_forward_hooks"] = OrderedDict()
        d["_forward_pre_hooks"] = OrderedDict()
        d["_load_state_dict_pre_hooks"] = OrderedDict()
        d["_backward_hooks"] = OrderedDict()
        d["_backward_pre_hooks"] = OrderedDict()

    # Subclasses override forward with their own signature, which calling the module then has
    # (see __call__); a plain Callable attribute lets them narrow it, as in PyTorch.
    forward: Callable[..., Any] = _forward_unimplemented

    # ---- registration ------------------------------------------------------------------------
    def _require_init(self, what: str) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot assign {what} before Module.__init__() call")

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Registers a tensor that is state but not a parameter (e.g. BatchNorm's running_mean).
        Persistent buffers are part of state_dict()."""
        self._require_init("buffer")
        _check_name(self, name, "buffer")
        if hasattr(self, name) and name not in self._buffers:
            raise KeyError(f"attribute '{name}' already exists")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(
                f"cannot assign '{type(tensor).__name__}' object to buffer '{name}' (Tensor or None required)"
            )
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Registers a Parameter (or None, a declared but absent parameter such as a missing bias)."""
        self._require_init("parameters")
        _check_name(self, name, "parameter")
        if hasattr(self, name) and name not in self._parameters:
            raise KeyError(f"attribute '{name}' already exists")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"cannot assign '{type(param).__name__}' object to parameter '{name}' "
                "(chainrule.nn.Parameter or None required)"
            )
        if param is not None and param.grad_fn is not None:
            raise ValueError(
                f"Cannot assign non-leaf Tensor to parameter '{name}'. Model parameters must be "
                "created explicitly; to express '{name}' as a function of another Tensor, compute "
                "the value in the forward() method."
            )
        self._parameters[name] = param

    def add_module(self, name: str, module: Module | None) -> None:
        """Registers a child module under ``name``."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        self._require_init("child module")
        _check_name(self, name, "module")
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        self._modules[name] = module

    register_module = add_module

    def get_submodule(self, target: str) -> Module:
        """The submodule at a dotted path ("encoder.layers.0"); "" is the module itself."""
        if target == "":
            return self
        mod = self
        for item in target.split("."):
            if not hasattr(mod, item):
                raise AttributeError(f"{mod._get_name()} has no attribute `{item}`")
            mod = getattr(mod, item)
            if not isinstance(mod, Module):
                raise AttributeError(f"`{item}` is not an nn.Module")
        return mod

    def get_parameter(self, target: str) -> Parameter | None:
        """The parameter at a dotted path ("0.weight"); None for one registered as None."""
        module_path, _, name = target.rpartition(".")
        mod = self.get_submodule(module_path)
        if name not in mod._parameters:
            raise AttributeError(f"{mod._get_name()} has no parameter `{name}`")
        return mod._parameters[name]

    def get_buffer(self, target: str) -> Tensor | None:
        """The buffer at a dotted path ("bn.running_mean"); None for one registered as None."""
        module_path, _, name = target.rpartition(".")
        mod = self.get_submodule(module_path)
        if name not in mod._buffers:
            raise AttributeError(f"{mod._get_name()} has no buffer `{name}`")
        return mod._buffers[name]

    def __setattr__(self, name: str, value: Any) -> None:
        d = self.__dict__
        params = d.get("_parameters")

        def remove_from(*dicts: Any) -> None:
            for dd in dicts:
                if name in dd:
                    if isinstance(dd, set):
                        dd.discard(name)
                    else:
                        del dd[name]

        if isinstance(value, Buffer):
            if params is None:
                raise AttributeError("cannot assign buffer before Module.__init__() call")
            remove_from(d, self._parameters, self._modules)
            self.register_buffer(name, value, persistent=value.persistent)
        elif isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            remove_from(d, self._buffers, self._modules, self._non_persistent_buffers_set)
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                    "(chainrule.nn.Parameter or None expected)"
                )
            self.register_parameter(name, value)
        else:
            modules = d.get("_modules")
            if isinstance(value, Module):
                if modules is None:
                    raise AttributeError("cannot assign module before Module.__init__() call")
                remove_from(d, self._parameters, self._buffers, self._non_persistent_buffers_set)
                modules[name] = value
            elif modules is not None and name in modules:
                if value is not None:
                    raise TypeError(
                        f"cannot assign '{type(value).__name__}' as child module '{name}' "
                        "(chainrule.nn.Module or None expected)"
                    )
                modules[name] = value
            else:
                buffers = d.get("_buffers")
                if buffers is not None and name in buffers:
                    if value is not None and not isinstance(value, Tensor):
                        raise TypeError(
                            f"cannot assign '{type(value).__name__}' as buffer '{name}' "
                            "(Tensor or None expected)"
                        )
                    buffers[name] = value
                else:
                    object.__setattr__(self, name, value)

    def __getattr__(self, name: str) -> Any:
        d = self.__dict__
        for key in ("_parameters", "_buffers", "_modules"):
            store = d.get(key)
            if store is not None and name in store:
                return store[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        if name in self._parameters:
            del self._parameters[name]
        elif name in self._buffers:
            del self._buffers[name]
            self._non_persistent_buffers_set.discard(name)
        elif name in self._modules:
            del self._modules[name]
        else:
            object.__delattr__(self, name)

    def __dir__(self) -> list[str]:
        keys = list(super().__dir__()) + list(self._parameters) + list(self._modules) + list(self._buffers)
        return sorted(k for k in set(keys) if not k[0].isdigit())

    # ---- traversal ---------------------------------------------------------------------------
    def _named_members(
        self,
        get_members: Callable[[Module], Any],
        prefix: str = "",
        recurse: bool = True,
        remove_duplicate: bool = True,
    ) -> Iterator[tuple[str, Any]]:
        memo: set[int] = set()
        modules = (
            self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
            if recurse
            else [(prefix, self)]
        )
        for module_prefix, module in modules:
            for k, v in get_members(module):
                if v is None or (remove_duplicate and id(v) in memo):
                    continue
                if remove_duplicate:
                    memo.add(id(v))
                yield (module_prefix + ("." if module_prefix else "") + k, v)

    def named_parameters(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        """(name, parameter) pairs, each shared parameter once (under its first name)."""
        yield from self._named_members(lambda m: m._parameters.items(), prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Tensor]]:
        yield from self._named_members(lambda m: m._buffers.items(), prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def named_children(self) -> Iterator[tuple[str, Module]]:
        memo: set[int] = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in memo:
                memo.add(id(module))
                yield name, module

    def children(self) -> Iterator[Module]:
        for _, m in self.named_children():
            yield m

    def named_modules(
        self, memo: set[int] | None = None, prefix: str = "", remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Module]]:
        """(dotted name, module) for this module and every descendant, depth first."""
        if memo is None:
            memo = set()
        if id(self) in memo:
            return
        if remove_duplicate:
            memo.add(id(self))
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            sub = prefix + ("." if prefix else "") + name
            yield from module.named_modules(memo, sub, remove_duplicate)

    def modules(self) -> Iterator[Module]:
        for _, m in self.named_modules():
            yield m

    # ---- modes and gradients -----------------------------------------------------------------
    def train(self: _M, mode: bool = True) -> _M:
        """Sets training mode on this module and every descendant (Dropout, BatchNorm obey it)."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        self.training = mode
        for m in self.children():
            m.train(mode)
        return self

    def eval(self: _M) -> _M:
        return self.train(False)

    def requires_grad_(self: _M, requires_grad: bool = True) -> _M:
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Resets the gradients of all parameters: to None (default) or to zeros."""
        for p in self.parameters():
            if set_to_none:
                p.grad = None  # without reading it first (see Optimizer.zero_grad)
                continue
            if p.grad is None:
                continue
            if hasattr(p.grad, "zero_") and p.grad.grad_fn is None:
                p.grad.zero_()
            else:
                p.grad = _core._zeros(*p.shape, dtype=p.dtype)

    # ---- conversion --------------------------------------------------------------------------
    def _apply(self: _M, fn: Callable[[Tensor], Tensor]) -> _M:
        """Applies fn to every parameter, gradient and buffer, keeping each tensor object (its data
        is swapped in place, as PyTorch's ``param.data = fn(param)``)."""
        for module in self.modules():
            for store in (module._parameters, module._buffers):
                for t in store.values():
                    if t is None:
                        continue
                    with no_grad():
                        new = fn(t)
                        grad = t.grad
                        new_grad = fn(grad) if grad is not None else None
                    if new is not t:
                        t.data = new.detach()
                    if new_grad is not None and new_grad is not grad:
                        t.grad = new_grad.detach()
        return self

    def apply(self: _M, fn: Callable[[Module], None]) -> _M:
        """Calls fn on every submodule (children first) and then on this module."""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    def to(self: _M, *args: Any, **kwargs: Any) -> _M:
        """to(dtype), to("cpu"), to(tensor) or to("cpu", dtype): floating parameters and buffers
        take the dtype, in place (Parameter objects are kept)."""
        dtype = kwargs.pop("dtype", None)
        kwargs.pop("device", None)
        kwargs.pop("non_blocking", None)
        if kwargs:
            raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
        for a in args:
            if isinstance(a, _core.dtype):
                dtype = a
            elif isinstance(a, Tensor):
                dtype = a.dtype
            elif isinstance(a, str):
                if a != "cpu":
                    raise ValueError(f"to(): chainrule runs on the CPU only, got device '{a}'")
            elif a is not None:
                raise TypeError(f"to() expects a dtype, a device string or a tensor, got {type(a).__name__}")
        if dtype is None:
            return self
        if not dtype.is_floating_point:
            raise TypeError(f"nn.Module.to only accepts floating point dtypes, but got desired dtype={dtype}")
        return self._apply(lambda t: t.to(dtype) if t.is_floating_point() and t.dtype != dtype else t)

    def float(self: _M) -> _M:
        return self.to(_core.float32)

    def double(self: _M) -> _M:
        return self.to(_core.float64)

    def half(self: _M) -> _M:
        """Floating parameters and buffers to float16, as torch.nn.Module.half."""
        return self.to(_core.float16)

    def bfloat16(self: _M) -> _M:
        """Floating parameters and buffers to bfloat16, as torch.nn.Module.bfloat16."""
        return self.to(_core.bfloat16)

    def cpu(self: _M) -> _M:
        return self

    def type(self: _M, dst_type: _core.dtype) -> _M:
        return self._apply(lambda t: t.to(dst_type))

    # ---- hooks and calling -------------------------------------------------------------------
    def register_forward_pre_hook(
        self, hook: Callable[[Module, tuple[Any, ...]], Any], *, prepend: bool = False
    ) -> RemovableHandle:
        """hook(module, args) -> None or new args, run before forward."""
        handle = RemovableHandle(self._forward_pre_hooks)
        self._forward_pre_hooks[handle.id] = hook
        if prepend:
            self._forward_pre_hooks.move_to_end(handle.id, last=False)
        return handle

    def register_forward_hook(
        self, hook: Callable[[Module, tuple[Any, ...], Any], Any], *, prepend: bool = False
    ) -> RemovableHandle:
        """hook(module, args, output) -> None or a replacement output, run after forward."""
        handle = RemovableHandle(self._forward_hooks)
        self._forward_hooks[handle.id] = hook
        if prepend:
            self._forward_hooks.move_to_end(handle.id, last=False)
        return handle

    def register_full_backward_hook(
        self, hook: Callable[[Module, tuple[Any, ...], tuple[Any, ...]], Any], prepend: bool = False
    ) -> RemovableHandle:
        """hook(module, grad_input, grad_output) -> None or a replacement grad_input, run when the
        gradients with respect to the module's tensor inputs have been computed (grad_input holds
        None for inputs that need no gradient)."""
        hooks = self.__dict__.setdefault("_backward_hooks", OrderedDict())
        handle = RemovableHandle(hooks)
        hooks[handle.id] = hook
        if prepend:
            hooks.move_to_end(handle.id, last=False)
        return handle

    register_backward_hook = register_full_backward_hook

    def register_full_backward_pre_hook(
        self, hook: Callable[[Module, tuple[Any, ...]], Any], prepend: bool = False
    ) -> RemovableHandle:
        """hook(module, grad_output) -> None or a replacement grad_output, run when the gradients
        with respect to the module's outputs are known, before those of its inputs are computed."""
        hooks = self.__dict__.setdefault("_backward_pre_hooks", OrderedDict())
        handle = RemovableHandle(hooks)
        hooks[handle.id] = hook
        if prepend:
            hooks.move_to_end(handle.id, last=False)
        return handle

    def _register_load_state_dict_pre_hook(
        self, hook: Callable[..., None], with_module: bool = False
    ) -> RemovableHandle:
        """hook(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
        error_msgs) runs before load_state_dict reads this module's entries (prefix is this
        module's dotted path plus "."); it may rename or convert entries of state_dict (a copy of
        the caller's). With ``with_module`` the module is passed first."""
        hooks = self.__dict__.setdefault("_load_state_dict_pre_hooks", OrderedDict())
        handle = RemovableHandle(hooks)
        hooks[handle.id] = (lambda *a: hook(self, *a)) if with_module else hook
        return handle

    def _call_impl(self, *args: Any, **kwargs: Any) -> Any:
        if self._forward_pre_hooks:
            for hook in list(self._forward_pre_hooks.values()):
                result = hook(self, args)
                if result is not None:
                    args = result if isinstance(result, tuple) else (result,)
        hooked = bool(self.__dict__.get("_backward_hooks") or self.__dict__.get("_backward_pre_hooks"))
        if hooked and _core.is_grad_enabled():
            from chainrule.nn.modules._backward_hooks import BackwardHooks

            bh = BackwardHooks(self)
            args = bh.wrap_inputs(args)
            out = bh.wrap_outputs(self.forward(*args, **kwargs))
        else:
            out = self.forward(*args, **kwargs)
        if self._forward_hooks:
            for hook in list(self._forward_hooks.values()):
                result = hook(self, args, out)
                if result is not None:
                    out = result
        return out

    if TYPE_CHECKING:
        # Calling a module has the signature of its forward: model(x) is a Tensor when forward says so.
        def __call__(self: _Forward[_P, _R_co], *args: _P.args, **kwargs: _P.kwargs) -> _R_co: ...

    else:
        __call__ = _call_impl

    # ---- state dict --------------------------------------------------------------------------
    def _save_to_state_dict(self, destination: dict[str, Tensor], prefix: str, keep_vars: bool) -> None:
        for name, p in self._parameters.items():
            if p is not None:
                destination[prefix + name] = p if keep_vars else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = b if keep_vars else b.detach()

    def state_dict(
        self,
        *args: Any,
        destination: dict[str, Tensor] | None = None,
        prefix: str = "",
        keep_vars: bool = False,
    ) -> dict[str, Tensor]:
        """An ordered dict of every parameter and persistent buffer under PyTorch's dotted keys
        ("0.weight", "bn.running_mean"...). Values share memory with the module (detached unless
        keep_vars)."""
        if args:  # PyTorch's deprecated positional form state_dict(destination, prefix, keep_vars)
            destination = args[0]
            if len(args) > 1:
                prefix = args[1]
            if len(args) > 2:
                keep_vars = args[2]
        if destination is None:
            destination = OrderedDict()
        self._save_to_state_dict(destination, prefix, keep_vars)
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination=destination, prefix=prefix + name + ".", keep_vars=keep_vars)
        return destination

    def load_state_dict(
        self, state_dict: Mapping[str, Any], strict: bool = True, assign: bool = False
    ) -> _IncompatibleKeys:
        """Copies values from state_dict into the parameters and buffers (in place, under no_grad).

        Returns (missing_keys, unexpected_keys). With strict, either being non-empty raises
        RuntimeError. A shape mismatch raises ValueError naming the key and both shapes. Nothing is
        written unless every check passes.
        """
        if not isinstance(state_dict, dict):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict).__name__}.")
        hooked = [
            (prefix, m) for prefix, m in self.named_modules() if m.__dict__.get("_load_state_dict_pre_hooks")
        ]
        if hooked:
            state_dict = OrderedDict(state_dict)  # hooks edit a copy, as in PyTorch
            for prefix, m in hooked:
                for hook in list(m._load_state_dict_pre_hooks.values()):
                    hook(state_dict, prefix + "." if prefix else "", {}, strict, [], [], [])
        own = self.state_dict(keep_vars=True)
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        pairs = []
        for key, dst in own.items():
            if key not in state_dict:
                continue
            src = state_dict[key]
            if isinstance(src, np.ndarray):
                src = _core._tensor(src, None, False)
            if not isinstance(src, Tensor):
                raise TypeError(
                    f'While copying the parameter named "{key}", expected Tensor from checkpoint '
                    f"but received {type(src).__name__}"
                )
            if tuple(src.shape) != tuple(dst.shape):
                raise ValueError(
                    f"size mismatch for {key}: copying a param with shape {tuple(src.shape)} from "
                    f"checkpoint, the shape in current model is {tuple(dst.shape)}."
                )
            pairs.append((dst, src))
        if strict and (missing or unexpected):
            msgs = []
            if missing:
                msgs.append("Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing) + ". ")
            if unexpected:
                msgs.append(
                    "Unexpected key(s) in state_dict: " + ", ".join(f'"{k}"' for k in unexpected) + ". "
                )
            raise RuntimeError(
                f"Error(s) in loading state_dict for {self._get_name()}:\n\t" + "\n\t".join(msgs)
            )
        with no_grad():
            for dst, src in pairs:
                _copy_(dst, src)
        return _IncompatibleKeys(missing, unexpected)

    # ---- printing ----------------------------------------------------------------------------
    def _get_name(self) -> str:
        return type(self).__name__

    def extra_repr(self) -> str:
        """The text inside this module's parentheses in repr (override in layers)."""
        return ""

    def __repr__(self) -> str:
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({key}): " + _addindent(repr(module), 2) for key, module in self._modules.items()]
        lines = extra_lines + child_lines
        main = self._get_name() + "("
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                main += extra_lines[0]
            else:
                main += "\n  " + "\n  ".join(lines) + "\n"
        return main + ")"
