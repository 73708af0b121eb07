"""Type information shipped with chainrule: the extension's stub matches the built extension, and
mypy sees real types in a user's training script."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

import chainrule

PACKAGE_DIR = Path(chainrule.__file__).parent
USER_SCRIPT = Path(__file__).parent / "typing" / "user_script.py"


def test_core_stub_matches_the_built_extension(tmp_path):
    pytest.importorskip("pybind11_stubgen")
    from chainrule import _stubgen

    shipped = _stubgen.stub_path(PACKAGE_DIR)
    assert shipped.is_file(), f"{shipped} is missing: run python scripts/gen_stubs.py"
    expected = shipped.read_text(encoding="utf-8")
    actual = _stubgen.write(tmp_path).read_text(encoding="utf-8")
    if actual != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(True), actual.splitlines(True), str(shipped), "regenerated", n=1
            )
        )
        message = f"{shipped.name} does not match the built extension: run python scripts/gen_stubs.py"
        pytest.fail(f"{message}\n{diff[:6000]}")


def test_package_is_marked_typed():
    assert (PACKAGE_DIR / "py.typed").is_file()
