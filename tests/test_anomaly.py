"""Anomaly detection: detect_anomaly / set_detect_anomaly, the forward trace kept on each node, and
backward's NaN/Inf report (Note [Anomaly mode] in csrc/core/node.h)."""

import inspect
import threading
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule.autograd import (
    detect_anomaly,
    is_anomaly_check_nan_enabled,
    is_anomaly_enabled,
    set_detect_anomaly,
)


@pytest.fixture(autouse=True)
def _anomaly_off():
    warnings.simplefilter("ignore", UserWarning)
    yield
    set_detect_anomaly(False)


def _line() -> int:
    frame = inspect.currentframe()
    assert frame is not None and frame.f_back is not None
    return frame.f_back.f_lineno


def test_anomaly_mode_is_off_by_default_and_nodes_keep_no_trace():
    assert not is_anomaly_enabled()
    assert cr.is_anomaly_enabled() is False
    x = cr.ones(3, requires_grad=True)
    assert (x * 2).grad_fn._creation_trace is None


def test_detect_anomaly_context_manager_sets_and_restores_flags():
    with detect_anomaly(check_nan=False):
        assert is_anomaly_enabled()
        assert not is_anomaly_check_nan_enabled()
        with detect_anomaly():
            assert is_anomaly_check_nan_enabled()
        assert not is_anomaly_check_nan_enabled()
    assert not is_anomaly_enabled()
    assert is_anomaly_check_nan_enabled()


def test_detect_anomaly_warns_as_pytorch_does():
    with pytest.warns(UserWarning, match="Anomaly Detection has been enabled"):
        detect_anomaly()


def test_detect_anomaly_decorates_a_function():
    @detect_anomaly()
    def f():
        return is_anomaly_enabled()

    assert f() is True
    assert not is_anomaly_enabled()


def test_set_detect_anomaly_as_call_and_as_context_manager():
    set_detect_anomaly(True)
    assert is_anomaly_enabled()
    with set_detect_anomaly(False):
        assert not is_anomaly_enabled()
    assert is_anomaly_enabled()
    set_detect_anomaly(False)
    assert not is_anomaly_enabled()
    with pytest.raises(TypeError):
        set_detect_anomaly("yes")  # type: ignore[arg-type]


def test_nodes_created_in_anomaly_mode_record_the_forward_line():
    x = cr.ones(3, requires_grad=True)
    with detect_anomaly():
        y = x.exp()
        line = _line() - 1
    trace = y.grad_fn._creation_trace
    assert f"line {line}, in test_nodes_created_in_anomaly_mode_record_the_forward_line" in trace
    assert "y = x.exp()" in trace
    assert "chainrule" + "/" not in trace.split("test_anomaly.py")[0]  # starts at user code


def test_nan_gradient_names_the_op_its_shapes_and_the_forward_line():
    x = cr.tensor([[1.0, 0.0, 4.0], [1.0, 1.0, 1.0]], requires_grad=True)
    with detect_anomaly():
        r = cr.sqrt(x)
        line = _line() - 1
        loss = (r * cr.zeros(2, 3)).sum()  # 0 * d sqrt(0) = 0 * inf = nan
        with pytest.raises(RuntimeError) as info:
            loss.backward()
    msg = str(info.value)
    assert msg.startswith("Function 'SqrtBackward0' returned nan values in its 0th output")
    assert "Input shapes: [(2, 3)]" in msg
    assert f'test_anomaly.py", line {line}' in msg
    assert "r = cr.sqrt(x)" in msg
    assert isinstance(info.value, cr.AutogradError)


def test_inf_gradient_is_reported_as_inf():
    x = cr.tensor([0.0, 1.0], requires_grad=True)
    with detect_anomaly():
        y = cr.log(x).sum()
        with pytest.raises(RuntimeError, match="'LogBackward0' returned inf values"):
            y.backward()


def test_the_first_bad_node_is_named_not_its_consumers():
    # the division's backward is the first to produce a non-finite value (1/x at x=0 for its
    # first input); the multiplication that receives it is not blamed
    x = cr.tensor([0.0, 2.0], requires_grad=True)
    with detect_anomaly():
        y = x * 3.0
        z = (y / x).sum()
        with pytest.raises(RuntimeError, match="'DivBackward0' returned inf values in its 0th output"):
            z.backward()


def test_check_nan_false_records_traces_and_lets_nan_through():
    x = cr.tensor([0.0], requires_grad=True)
    with detect_anomaly(check_nan=False):
        y = (cr.sqrt(x) * 0.0).sum()
        y.backward()
        assert y.grad_fn._creation_trace is not None
    assert np.isnan(x.grad.numpy()).all()


def test_without_anomaly_mode_nan_gradients_pass_silently():
    x = cr.tensor([0.0], requires_grad=True)
    (cr.sqrt(x) * 0.0).sum().backward()
    assert np.isnan(x.grad.numpy()).all()


def test_node_created_before_the_mode_is_reported_without_trace():
    x = cr.tensor([0.0], requires_grad=True)
    y = (cr.sqrt(x) * 0.0).sum()
    with detect_anomaly(), pytest.raises(RuntimeError, match="No forward trace was recorded"):
        y.backward()


def test_python_function_nodes_are_checked_and_traced():
    class Bad(cr.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, g):
            return g * float("nan")

    x = cr.ones(2, requires_grad=True)
    with detect_anomaly():
        y = Bad.apply(x)
        line = _line() - 1
        with pytest.raises(RuntimeError, match="'BadBackward' returned nan") as info:
            y.sum().backward()
    assert f"line {line}" in str(info.value)


def test_error_in_multithreaded_backward_propagates_and_graph_stays_usable():
    old = cr.get_num_threads()
    cr.set_num_threads(2)
    try:
        x = cr.ones(200, 200, requires_grad=True)
        z = cr.zeros(200, 200)
        z[0, 0] = -1.0
        with detect_anomaly():
            a = (x * 2.0).exp()  # a large clean branch
            b = cr.sqrt(x + z)  # a large branch whose gradient is inf at [0, 0]
            loss = a.sum() + (b * 1.0).sum()
            with pytest.raises(RuntimeError, match="'SqrtBackward0' returned inf"):
                loss.backward(retain_graph=True)
        # the same graph still runs backward with the mode off
        x.grad = None
        loss.backward()
        g = x.grad.numpy()
        assert np.isinf(g[0, 0])
        np.testing.assert_allclose(g[1, 1], 2 * np.exp(2.0) + 0.5 / np.sqrt(1.0), rtol=1e-5)
    finally:
        cr.set_num_threads(old)


def test_anomaly_errors_from_several_python_threads_do_not_hang():
    errors = []

    def work():
        x = cr.tensor([0.0, 1.0], requires_grad=True)
        y = (cr.sqrt(x) * 0.0).sum()
        try:
            y.backward()
        except RuntimeError as e:
            errors.append(str(e))

    with detect_anomaly():
        threads = [threading.Thread(target=work) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    assert len(errors) == 4 and all("SqrtBackward0" in e for e in errors)


def test_gradients_are_unchanged_by_anomaly_mode():
    rng = np.random.default_rng(0)
    w = cr.tensor(rng.standard_normal((4, 3)), requires_grad=True)
    x = cr.tensor(rng.standard_normal((5, 4)))
    (cr.tanh(x @ w) ** 2).sum().backward()
    plain = w.grad.numpy().copy()
    w.grad = None
    with detect_anomaly():
        (cr.tanh(x @ w) ** 2).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), plain)


def test_message_matches_pytorch(torch):
    x = torch.tensor([0.0, 1.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with torch.autograd.detect_anomaly(), pytest.raises(RuntimeError) as theirs:
            (torch.sqrt(x) * 0.0).sum().backward()
    xc = cr.tensor([0.0, 1.0], requires_grad=True)
    with detect_anomaly(), pytest.raises(RuntimeError) as ours:
        (cr.sqrt(xc) * 0.0).sum().backward()
    # PyTorch: "Function 'SqrtBackward0' returned nan values in its 0th output."
    assert str(ours.value).startswith(str(theirs.value).rstrip("."))
    assert torch.is_anomaly_enabled() is cr.is_anomaly_enabled() is False


def test_overhead_benchmark_runs(capsys):
    import os
    import sys

    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if repo not in sys.path:
        sys.path.insert(0, repo)
    from benchmarks import anomaly_overhead

    anomaly_overhead.main(["--rounds", "1", "--repeats", "1"])
    out = capsys.readouterr().out
    assert "off" in out and "on, no NaN check" in out and "best vs off" in out


def test_double_backward_in_anomaly_mode():
    # nodes created by backward formulas (create_graph) are recorded in anomaly mode too, from the
    # engine's threads; nothing deadlocks and the result is the same
    old = cr.get_num_threads()
    cr.set_num_threads(2)
    try:
        x = cr.tensor([0.5, 1.5], dtype=cr.float64, requires_grad=True)
        with detect_anomaly():
            y = (x**3).sum()
            (g,) = cr.autograd.grad(y, x, create_graph=True)
            g.sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), 6 * np.array([0.5, 1.5]))
    finally:
        cr.set_num_threads(old)


def test_other_backward_errors_carry_the_forward_call_in_anomaly_mode():
    x = cr.ones(3, requires_grad=True)
    with detect_anomaly():
        y = x.exp()
        line = _line() - 1
        z = y.sum()
        with cr.no_grad():
            y.add_(1.0)  # modifies the output exp saved for backward
        with pytest.raises(RuntimeError, match="modified by an inplace operation") as info:
            z.backward()
    msg = str(info.value)
    assert "in the backward of ExpBackward0" in msg and f"line {line}" in msg
    assert isinstance(info.value, cr.AutogradError)
    # without the mode, the message is the plain one
    y2 = x.exp()
    z2 = y2.sum()
    with cr.no_grad():
        y2.add_(1.0)
    with pytest.raises(RuntimeError) as plain:
        z2.backward()
    assert "anomaly mode" not in str(plain.value)
