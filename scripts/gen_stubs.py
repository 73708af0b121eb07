#!/usr/bin/env python
"""Regenerates python/chainrule/_core.pyi, the type stub of the C++ extension.

    python scripts/gen_stubs.py           # rewrite the stub after changing the bindings
    python scripts/gen_stubs.py --check   # exit 1 (and print the difference) if it is out of date

The stub is generated from the extension built in the source tree (scripts/dev_build.sh) when there
is one, else from the installed chainrule, and is always written into the source tree. Needs
pybind11-stubgen (``pip install ".[dev]"``). tests/test_stubs.py fails while the stub is stale.
"""

from __future__ import annotations

import argparse
import difflib
import importlib.machinery
import logging
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "python" / "chainrule"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args(argv)
    logging.basicConfig(format="%(name)s: %(message)s", level=logging.WARNING)

    if any(PACKAGE.glob(f"_core*{suffix}") for suffix in importlib.machinery.EXTENSION_SUFFIXES):
        sys.path.insert(0, str(PACKAGE.parent))
    import chainrule
    from chainrule import _stubgen

    text = _stubgen.generate()
    path = _stubgen.stub_path(PACKAGE)
    source = Path(chainrule._core.__file__)
    if args.check:
        old = path.read_text(encoding="utf-8") if path.exists() else ""
        if old == text:
            print(f"{path.relative_to(ROOT)} is up to date with {source}")
            return 0
        sys.stdout.writelines(
            difflib.unified_diff(old.splitlines(True), text.splitlines(True), str(path), "regenerated")
        )
        print(f"{path.relative_to(ROOT)} is out of date: run python scripts/gen_stubs.py", file=sys.stderr)
        return 1
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    print(f"wrote {path.relative_to(ROOT)} from {source}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
