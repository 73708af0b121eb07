"""Type information shipped with chainrule: the extension's stub matches the built extension, and
mypy sees real types in a user's training script."""

from __future__ import annotations

import difflib
import runpy
import textwrap
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


# What mypy must infer for a user's code: each line of the snippet below that ends in "# -> T"
# reveals type T; the line marked "# error" must be rejected.
REVEAL = """
import chainrule as cr
import chainrule.nn as nn
import chainrule.nn.functional as F

model = nn.Linear(3, 1)
x = cr.randn(2, 3)
reveal_type(cr.tensor([1.0]))  # -> chainrule._core.Tensor
reveal_type(cr.zeros(2, 3))  # -> chainrule._core.Tensor
reveal_type(cr.ones((2, 3), requires_grad=True))  # -> chainrule._core.Tensor
reveal_type(cr.randn(2, 3))  # -> chainrule._core.Tensor
reveal_type(x @ x.T + 1.0)  # -> chainrule._core.Tensor
reveal_type(model(x))  # -> chainrule._core.Tensor
reveal_type(F.relu(x))  # -> chainrule._core.Tensor
reveal_type(nn.MSELoss()(model(x), cr.zeros(2, 1)))  # -> chainrule._core.Tensor
reveal_type(model.parameters())  # -> typing.Iterator[chainrule.nn.parameter.Parameter]
reveal_type(model.train())  # -> chainrule.nn.modules.linear.Linear
reveal_type(cr.optim.Adam(model.parameters(), lr=1e-3))  # -> chainrule.optim.adam.Adam
reveal_type(cr.no_grad())  # -> chainrule.autograd.grad_mode.no_grad
model("not a tensor")  # error
"""


@pytest.fixture(scope="module")
def mypy_output(tmp_path_factory):
    """mypy --strict on tests/typing/user_script.py and on REVEAL, against the chainrule that
    is imported here (installed, or the source tree on PYTHONPATH)."""
    api = pytest.importorskip("mypy.api")
    tmp = tmp_path_factory.mktemp("mypy")
    (tmp / "reveal.py").write_text(textwrap.dedent(REVEAL), encoding="utf-8")
    (tmp / "mypy.ini").write_text("[mypy]\n", encoding="utf-8")
    args = ["--strict", "--config-file", str(tmp / "mypy.ini"), "--cache-dir", str(tmp / "cache")]
    stdout, stderr, _ = api.run([*args, "--show-error-codes", str(USER_SCRIPT), str(tmp / "reveal.py")])
    return stdout + stderr


def test_user_training_script_type_checks_without_errors(mypy_output):
    errors = [line for line in mypy_output.splitlines() if "user_script.py" in line]
    assert not errors, "\n".join(errors)


def test_mypy_sees_real_types_in_user_code(mypy_output):
    lines = textwrap.dedent(REVEAL).splitlines()
    for number, line in enumerate(lines, start=1):
        if "# -> " in line:
            expected = line.split("# -> ")[1]
            wanted = f'reveal.py:{number}: note: Revealed type is "{expected}"'
        elif line.endswith("# error"):
            wanted = f"reveal.py:{number}: error:"
        else:
            continue
        assert wanted in mypy_output, f"{line}\n{mypy_output}"
    assert mypy_output.count(": error:") == 1, mypy_output


def test_user_training_script_runs(capsys):
    accuracy = runpy.run_path(str(USER_SCRIPT))["train"](epochs=1)
    assert 0.0 <= accuracy <= 1.0
    assert "loss" in capsys.readouterr().out
