"""The lesson examples (examples/*.py): each claim as an assertion, and each script run end to end
(in fast mode; the full-length runs are marked slow)."""

import math
import os
import subprocess
import sys

import pytest

import chainrule as cr
import chainrule.nn.functional as F

pytest.importorskip("sklearn", reason="the examples use scikit-learn's bundled digits")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(ROOT, "examples")
sys.path.insert(0, EXAMPLES)

import _lessons  # noqa: E402
import chain_rule  # noqa: E402
import exploding_gradients  # noqa: E402
import train_digits  # noqa: E402
import vanishing_gradients  # noqa: E402


def run_script(name, tmp_path, *args, fast=True):
    # the chainrule under test (the source tree's python/ or site-packages), not necessarily ROOT's
    here = os.path.dirname(os.path.dirname(os.path.abspath(cr.__file__)))
    env = dict(os.environ, PYTHONPATH=here)
    if fast:
        env["CHAINRULE_EXAMPLES_FAST"] = "1"
    proc = subprocess.run(
        [sys.executable, os.path.join(EXAMPLES, name), *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def has_matplotlib():
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


# ---- vanishing gradients ---------------------------------------------------------------------
def _ratio(kind):
    xtr, ytr, _, _ = _lessons.digits()
    cr.manual_seed(0)
    model = vanishing_gradients.build(kind)
    first, last, norms = vanishing_gradients.first_last_ratio(model, xtr[:128], ytr[:128])
    return first / last, norms


def test_sigmoid_depth_20_first_layer_gradient_vanishes():
    ratio, norms = _ratio("sigmoid")
    assert len(norms) == 21  # 20 hidden layers and the output layer
    assert ratio < 1e-4


@pytest.mark.parametrize("kind", ["relu_he", "sigmoid_residual", "tanh_xavier", "sigmoid_batchnorm"])
def test_remedies_keep_the_first_layer_gradient_well_above_the_sigmoid_one(kind):
    ratio, _ = _ratio(kind)
    assert ratio > 1e-3  # ten times the 1e-4 line, 1e13 times the plain sigmoid net


def test_vanishing_gradients_script_prints_the_table_and_the_bound(tmp_path):
    out = run_script("vanishing_gradients.py", tmp_path, "--plot", "v.png")
    assert "0.25^20 = 9.1e-13" in out
    for label in vanishing_gradients.CONFIGS.values():
        assert label in out
    assert os.path.exists(tmp_path / "v.png") == has_matplotlib()


# ---- exploding gradients ---------------------------------------------------------------------
def test_unclipped_run_reaches_nan_and_clipped_runs_stay_finite():
    data = _lessons.digits()
    plain, _ = exploding_gradients.train(None, 6, data)
    assert exploding_gradients.first_nonfinite(plain) is not None
    for clip in ("norm", "value"):
        losses, _ = exploding_gradients.train(clip, 6, data)
        assert all(math.isfinite(v) for v in losses)
        assert losses[-1] < losses[0]


def test_detect_anomaly_pinpoints_the_first_nan_in_the_example():
    message = exploding_gradients.pinpoint(_lessons.digits(), 10)
    assert "returned nan values" in message
    assert "NllLossBackward0" in message  # cross_entropy is one node (Note [Fused cross-entropy])
    assert "exploding_gradients.py" in message and "F.cross_entropy(model(xtr[idx]), ytr[idx])" in message


def test_exploding_gradients_script(tmp_path):
    out = run_script("exploding_gradients.py", tmp_path, "--plot", "e.png")
    assert "clip_grad_norm_(1.0)" in out and "never" in out and "step 3" in out
    assert "detect_anomaly on the unclipped run" in out
    assert os.path.exists(tmp_path / "e.png") == has_matplotlib()


# ---- the chain rule --------------------------------------------------------------------------
def test_hand_derived_gradients_match_the_library():
    assert chain_rule.composite() < 1e-12
    assert chain_rule.two_layer() < 1e-12


def test_chain_rule_script_prints_the_graph(tmp_path):
    out = run_script("chain_rule.py", tmp_path)
    assert 'digraph "graph" {' in out and "TanhBackward0" in out and "W1\\n(4, 3)" in out


# ---- training loop ---------------------------------------------------------------------------
def test_train_digits_resumes_where_it_stopped(tmp_path):
    args = ["--epochs", "2", "--plot", str(tmp_path / "t.png")]
    straight = train_digits.main([*args, "--checkpoint", str(tmp_path / "a.ckpt")])
    train_digits.main([*args, "--checkpoint", str(tmp_path / "b.ckpt"), "--stop-after", "1"])
    resumed = train_digits.main([*args, "--checkpoint", str(tmp_path / "b.ckpt"), "--resume"])
    assert resumed == straight
    assert straight["val_acc"][-1] > 0.85
    assert os.path.exists(tmp_path / "t.png") == has_matplotlib()


def test_examples_skip_plots_cleanly_without_matplotlib(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    assert _lessons.pyplot() is None
    assert "matplotlib is not installed" in capsys.readouterr().out


def test_digits_split_is_fixed():
    a = _lessons.digits()
    b = _lessons.digits()
    assert a[0].shape == (1438, 64) and a[2].shape == (359, 64)
    assert bool((a[1] == b[1]).all()) and F.one_hot(a[1], 10).shape == (1438, 10)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["vanishing_gradients.py", "exploding_gradients.py", "train_digits.py"])
def test_full_length_examples(name, tmp_path):
    out = run_script(name, tmp_path, fast=False)
    assert out
