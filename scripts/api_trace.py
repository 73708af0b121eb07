#!/usr/bin/env python
"""Finds, for every name of the PyTorch API list that chainrule has, the tests that check it against
PyTorch, and writes them to docs/api-tests.json (read by scripts/api_coverage.py).

    python scripts/api_trace.py                 # runs the test suite (needs torch) and writes the file
    python scripts/api_trace.py -- -k conv      # extra arguments after -- go to pytest

How: before the tests run, every listed name that chainrule has is wrapped so that using it records
the test that is running (functions and methods when called, properties when read, classes when an
instance is made). Only tests that compare with PyTorch count: those that take the ``torch``
fixture or whose module imports torch. Names that are values rather than callables (dtypes,
constants) count when such a test module reads them as an attribute (``cr.float64``,
``torch.float64``). The tests run with their results ignored: a name counts as checked against
PyTorch when a test that compares with PyTorch uses it; whether that test passes is the test
suite's business.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import inspect
import json
import re
import sys
import types
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "api-tests.json"
sys.path.insert(0, str(ROOT / "python"))

import chainrule  # noqa: E402
from chainrule._missing import PYTORCH_API, pytorch_names  # noqa: E402

MAX_TESTS = 3  # tests listed per name

# Names whose use is not a call of the object itself: the attribute whose call counts instead.
USED_THROUGH = {
    "torch.nn.Module.forward": ("chainrule.nn.Module", "__call__"),
    "torch.autograd.Function": ("chainrule.autograd.Function", "apply"),
}


def _container(path: str) -> tuple[Any, str] | None:
    """(object holding the attribute, attribute name) for a dotted chainrule path."""
    parts = path.split(".")
    obj: Any = chainrule
    for i, part in enumerate(parts[1:-1], start=1):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            try:
                obj = importlib.import_module(".".join(parts[: i + 1]))
            except ImportError:
                return None
    if not hasattr(obj, parts[-1]):
        try:
            importlib.import_module(path)
        except ImportError:
            return None
        if not hasattr(obj, parts[-1]):
            return None
    return obj, parts[-1]


def _resolve_path(path: str) -> Any:
    obj: Any = chainrule
    for part in path.split(".")[1:]:
        obj = getattr(obj, part)
    return obj


class Tracer:
    def __init__(self) -> None:
        self.current: str | None = None
        self.hits: dict[str, list[str]] = defaultdict(list)
        self.values: dict[str, tuple[str, str]] = {}  # full name -> (attribute, group)

    def record(self, full: str) -> None:
        test = self.current
        if test is None:
            return
        tests = self.hits[full]
        if len(tests) < MAX_TESTS and test not in tests:
            tests.append(test)

    def _wrap_callable(self, full: str, fn: Any) -> Any:
        @functools.wraps(fn)
        def traced(*args: Any, **kwargs: Any) -> Any:
            self.record(full)
            return fn(*args, **kwargs)

        return traced

    def install(self) -> None:
        for group in PYTORCH_API:
            base = "chainrule" + group[len("torch") :]
            for name in pytorch_names(group):
                full = f"{group}.{name}"
                where = _container(f"{base}.{name}")
                if where is None:
                    continue
                holder, attr = where
                static = inspect.getattr_static(holder, attr, None)
                value = getattr(holder, attr)
                try:
                    if isinstance(value, type):
                        self._wrap_class(full, value)
                    elif isinstance(static, property):
                        self._wrap_property(full, holder, attr, static)
                    elif isinstance(static, staticmethod):
                        setattr(holder, attr, staticmethod(self._wrap_callable(full, static.__func__)))
                    elif isinstance(static, classmethod):
                        setattr(holder, attr, classmethod(self._wrap_callable(full, static.__func__)))
                    elif callable(value) and not isinstance(value, types.ModuleType):
                        setattr(holder, attr, self._wrap_callable(full, value))
                    else:
                        self.values[full] = (attr, group)
                except (TypeError, AttributeError):
                    self.values[full] = (attr, group)  # not wrappable: found by reading the tests

    def install_used_through(self) -> None:
        for full, (path, attr) in USED_THROUGH.items():
            holder = _resolve_path(path)
            static = inspect.getattr_static(holder, attr)
            if isinstance(static, classmethod):

                def traced(
                    cls: Any, *args: Any, _fn: Any = static.__func__, _full: str = full, **kwargs: Any
                ) -> Any:
                    self.record(_full)
                    return _fn(cls, *args, **kwargs)

                setattr(holder, attr, classmethod(traced))
            else:
                setattr(holder, attr, self._wrap_callable(full, getattr(holder, attr)))

    def _wrap_property(self, full: str, holder: type, attr: str, prop: property) -> None:
        tracer = self

        def fget(obj: Any) -> Any:
            tracer.record(full)
            return prop.__get__(obj, type(obj))

        fset = (lambda obj, v: prop.__set__(obj, v)) if prop.fset is not None else None
        fdel = (lambda obj: prop.__delete__(obj)) if prop.fdel is not None else None
        setattr(holder, attr, property(fget, fset, fdel, prop.__doc__))

    def _wrap_class(self, full: str, cls: type) -> None:
        tracer = self
        if cls.__module__ == "builtins" or not cls.__module__.startswith("chainrule"):
            raise TypeError("not a chainrule class")
        if "_core" in cls.__module__:  # extension types: record their construction
            raise TypeError("extension type")
        if cls.__init__ is object.__init__:  # made by __new__ alone (Size, named tuples)
            original_new = cls.__new__

            def __new__(klass: type, *args: Any, **kwargs: Any) -> Any:
                tracer.record(full)
                if original_new is object.__new__:
                    return object.__new__(klass)
                return original_new(klass, *args, **kwargs)

            cls.__new__ = staticmethod(__new__)  # type: ignore[assignment]
            return
        original = cls.__init__

        @functools.wraps(original)
        def __init__(obj: Any, *args: Any, **kwargs: Any) -> None:
            tracer.record(full)
            original(obj, *args, **kwargs)

        cls.__init__ = __init__  # type: ignore[misc]


def _compares_with_torch(item: Any) -> bool:
    if "torch" in getattr(item, "fixturenames", ()):
        return True
    module = getattr(item, "module", None)
    mod_torch = getattr(module, "torch", None) or getattr(module, "_torch", None)
    return isinstance(mod_torch, types.ModuleType) and mod_torch.__name__ == "torch"


class Plugin:
    def __init__(self, tracer: Tracer) -> None:
        self.tracer = tracer
        self.torch_modules: set[str] = set()

    def pytest_runtest_call(self, item: Any) -> None:
        if _compares_with_torch(item):
            self.tracer.current = item.nodeid
            path = getattr(item, "path", None)
            if path is not None:
                self.torch_modules.add(str(path))
        else:
            self.tracer.current = None

    def pytest_runtest_teardown(self, item: Any) -> None:
        self.tracer.current = None


def _value_hits(tracer: Tracer, modules: set[str]) -> None:
    """Values (dtypes, constants): a torch-comparing test module that reads them as an attribute."""
    sources = {m: Path(m).read_text(encoding="utf-8") for m in sorted(modules)}
    for full, (attr, _group) in tracer.values.items():
        pattern = re.compile(r"\." + re.escape(attr) + r"\b")
        for path, text in sources.items():
            if pattern.search(text):
                rel = str(Path(path).relative_to(ROOT))
                tracer.hits[full].append(rel)
                break


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--output", type=Path, default=OUT)
    parser.add_argument(
        "--merge", action="store_true", help="add to the names already in the file instead of replacing it"
    )
    parser.add_argument("pytest_args", nargs="*")
    args = parser.parse_args(argv)
    import pytest

    tracer = Tracer()
    tracer.install()
    tracer.install_used_through()
    plugin = Plugin(tracer)
    pytest.main(
        [str(ROOT / "tests"), "-q", "-p", "no:cacheprovider", "-m", "not slow", *args.pytest_args],
        plugins=[plugin],
    )
    _value_hits(tracer, plugin.torch_modules)
    data = {name: tracer.hits[name] for name in sorted(tracer.hits) if tracer.hits[name]}
    if args.merge and args.output.exists():
        old = json.loads(args.output.read_text(encoding="utf-8"))
        for name, tests in data.items():
            merged = old.get(name, [])
            merged += [t for t in tests if t not in merged]
            old[name] = merged[:MAX_TESTS]
        data = dict(sorted(old.items()))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"{len(data)} names checked against PyTorch; written to {args.output.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
