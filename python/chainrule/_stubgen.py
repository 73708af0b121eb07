"""Writes ``_core.pyi``, the type stub of the C++ extension, from the imported module.

``python scripts/gen_stubs.py`` regenerates ``python/chainrule/_core.pyi``; tests/test_stubs.py
regenerates it again and fails when the shipped stub differs, so a change to the bindings (or to
the Tensor methods that ``chainrule/_tensor.py`` adds in Python, which the stub includes because
it describes ``chainrule._core`` as ``import chainrule`` leaves it) shows up as a failing test.

pybind11-stubgen reads the signatures; the fixes below make its output valid for mypy:

- an annotation pybind11 printed as a C++ type (it prints ``...`` for those) becomes typing.Any;
- ``self`` is never annotated (some bindings name another type there), ``*args`` and ``**kwargs``
  always are (typing.Any where pybind11 gives no type);
- a parameter named after a Python keyword (Tensor.uniform_'s ``from``) cannot be passed by name,
  so it becomes the positional-only ``from_``;
- a name in the annotations of a method written in Python is qualified with the module that defines
  it (``chainrule._tensor.RemovableHandle``), as the stub cannot see that module's imports;
- an arithmetic or ordering operator bound to return ``object`` (so that it can return
  NotImplemented) returns its class, typeshed's convention for NotImplemented (``==`` and ``!=``
  keep typing.Any: object's bool-returning versions cannot be overridden with another type);
- a builtin type that the module shadows (``chainrule._core.bool``; the Tensor methods ``bool``,
  ``float``) is written ``builtins.bool``, ``builtins.float`` in annotations.

The output depends only on the imported module, never on the time or the machine.
"""

from __future__ import annotations

import builtins
import keyword
from pathlib import Path
from types import ModuleType
from typing import Any

# Operators that return their class, or NotImplemented for an operand they do not take.
_OPERATORS = {
    f"__{prefix}{name}__"
    for name in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and", "or", "xor")
    for prefix in ("", "r", "i")
} | {"__lt__", "__le__", "__gt__", "__ge__"}

HEADER = "# Generated from the built extension by `python scripts/gen_stubs.py`; do not edit.\n"
STUB_NAME = "_core.pyi"


def generate(module: ModuleType | None = None) -> str:
    """The text of the stub for ``module`` (default: the imported ``chainrule._core``)."""
    from pybind11_stubgen import CLIArgs, Printer, arg_parser, stub_parser_from_args
    from pybind11_stubgen.structs import Identifier, Import, InvalidExpression, QualifiedName, ResolvedType

    if module is None:
        from chainrule import _core

        module = _core
    name = module.__name__
    parser = stub_parser_from_args(arg_parser().parse_args([name], namespace=CLIArgs()))
    stub = parser.handle_module(QualifiedName.from_str(name), module)
    if stub is None:
        raise RuntimeError(f"pybind11-stubgen could not parse {name}")
    parser.finalize()

    shadowed = _shadowed_builtin_types(stub)
    _qualify_python_annotations(stub, module)
    for cls in stub.classes:
        for method in cls.methods:
            _fix_arguments(method.function, is_method=True)
            returns = method.function.returns
            if method.function.name in _OPERATORS and isinstance(returns, ResolvedType):
                if str(returns.name) in ("typing.Any", "object") and not returns.parameters:
                    method.function.returns = ResolvedType(QualifiedName((cls.name,)))
        for prop in cls.properties:
            for accessor in (prop.getter, prop.setter):
                if accessor is not None:
                    _fix_arguments(accessor, is_method=True)
    for func in stub.functions:
        _fix_arguments(func, is_method=False)
    if shadowed:
        stub.imports.add(Import(name=None, origin=QualifiedName.from_str("builtins")))

    class _Printer(Printer):
        def print_annotation(self, annotation: Any) -> str:
            if isinstance(annotation, InvalidExpression):
                return "typing.Any"
            return super().print_annotation(annotation)

        def print_type(self, type_: ResolvedType) -> str:
            if len(type_.name) == 1 and type_.name[0] in shadowed:
                type_ = ResolvedType(QualifiedName((Identifier("builtins"), *type_.name)), type_.parameters)
            return super().print_type(type_)

    stub.imports.add(Import(name=None, origin=QualifiedName.from_str("typing")))
    lines = _Printer(invalid_expr_as_ellipses=True).print_module(stub)
    return HEADER + "\n".join(_define_exceptions(lines, module)) + "\n"


def _define_exceptions(lines: list[str], module: ModuleType) -> list[str]:
    """The engine's exception classes are named chainrule.X, which pybind11-stubgen writes as
    ``from chainrule import X`` (a cycle for type checkers); define them in the stub instead."""
    out = []
    for line in lines:
        prefix = "from chainrule import "
        cls = getattr(module, line[len(prefix) :], None) if line.startswith(prefix) else None
        if isinstance(cls, type) and issubclass(cls, BaseException):
            bases = ", ".join(b.__name__ for b in cls.__bases__)
            out.append(f"class {cls.__name__}({bases}): ...")
        else:
            out.append(line)
    return out


def stub_path(package_dir: str | Path) -> Path:
    """Where the stub lives in a package directory (the source tree's or an installed one)."""
    return Path(package_dir) / STUB_NAME


def write(package_dir: str | Path, module: ModuleType | None = None) -> Path:
    """Writes the stub of ``module`` into ``package_dir`` and returns its path."""
    path = stub_path(package_dir)
    text = generate(module)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    return path


def _module_names(stub: Any) -> set[str]:
    names = {f.name for f in stub.functions} | {a.name for a in stub.attributes}
    return names | {c.name for c in stub.classes}


def _shadowed_builtin_types(stub: Any) -> set[str]:
    """Builtin types whose name the stub also defines, at module or class level."""
    names = _module_names(stub)
    for cls in stub.classes:
        names |= {m.function.name for m in cls.methods} | {p.name for p in cls.properties}
        names |= {f.attribute.name for f in cls.fields}
    return {n for n in names if isinstance(getattr(builtins, n, None), type)}


def _qualify_python_annotations(stub: Any, module: ModuleType) -> None:
    from pybind11_stubgen.structs import Import, QualifiedName, ResolvedType

    defined = _module_names(stub)

    def qualify(annotation: Any, namespace: dict[str, Any]) -> None:
        if not isinstance(annotation, ResolvedType):
            return
        for parameter in annotation.parameters or ():
            qualify(parameter, namespace)
        if (
            len(annotation.name) != 1
            or annotation.name[0] in defined
            or hasattr(builtins, annotation.name[0])
        ):
            return
        obj = namespace.get(annotation.name[0])
        if isinstance(obj, type):
            annotation.name = QualifiedName.from_str(f"{obj.__module__}.{obj.__qualname__}")
            stub.imports.add(Import(name=None, origin=QualifiedName.from_str(obj.__module__)))

    for cls in stub.classes:
        for method in cls.methods:
            func = getattr(getattr(module, cls.name, None), method.function.name, None)
            namespace = getattr(func, "__globals__", None)
            if namespace is None:
                continue
            for arg in method.function.args:
                qualify(arg.annotation, namespace)
            qualify(method.function.returns, namespace)
        for prop in cls.properties:
            attr = getattr(getattr(module, cls.name, None), prop.name, None)
            namespace = getattr(getattr(attr, "fget", None), "__globals__", None)
            if namespace is not None and prop.getter is not None:
                qualify(prop.getter.returns, namespace)


def _fix_arguments(func: Any, is_method: bool) -> None:
    from pybind11_stubgen.structs import QualifiedName, ResolvedType

    args = func.args
    if is_method and args and args[0].name == "self":
        args[0].annotation = None
    for i, arg in enumerate(args):
        if arg.annotation is None and (arg.variadic or arg.kw_variadic):
            arg.annotation = ResolvedType(QualifiedName.from_str("typing.Any"))
        if arg.name is not None and keyword.iskeyword(arg.name):
            arg.name = f"{arg.name}_"
            if not any(a.variadic or a.kw_only for a in args[:i]):
                for earlier in args[: i + 1]:
                    earlier.pos_only = True
