"""chainrule.autograd.inference_mode and is_inference_mode_enabled (as torch.inference_mode)."""

from __future__ import annotations

import threading

import pytest

import chainrule as cr
from chainrule.autograd import inference_mode, is_inference_mode_enabled


def state():
    return is_inference_mode_enabled(), cr.is_grad_enabled()


def test_block_records_no_graph_and_restores_modes():
    x = cr.ones(3, requires_grad=True)
    assert state() == (False, True)
    with inference_mode():
        assert state() == (True, False)
        y = x * 2
        assert not y.requires_grad and y.grad_fn is None
    assert state() == (False, True)
    assert (x * 2).requires_grad


def test_mode_false_leaves_inference_mode_and_enables_grad():
    with inference_mode():
        with inference_mode(False):
            assert state() == (False, True)
        assert state() == (True, False)
    with cr.no_grad():
        with inference_mode(mode=False):
            assert state() == (False, True)
        assert state() == (False, False)


def test_decorator_bare_called_and_with_mode():
    @inference_mode
    def bare():
        return state()

    @inference_mode()
    def called():
        return state()

    @inference_mode(False)
    def off():
        return state()

    assert bare() == (True, False)
    assert called() == (True, False)
    with inference_mode():
        assert off() == (False, True)
    assert bare.__name__ == "bare"
    assert state() == (False, True)


def test_decorated_generator_runs_each_step_in_the_mode():
    @inference_mode()
    def gen():
        sent = yield state()
        yield sent, state()

    g = gen()
    assert next(g) == (True, False)
    assert state() == (False, True)  # the caller's code between steps is outside the mode
    assert g.send("x") == ("x", (True, False))
    with pytest.raises(StopIteration):
        next(g)


def test_modes_are_restored_after_an_exception():
    with pytest.raises(ValueError):
        with inference_mode():
            raise ValueError("boom")
    assert state() == (False, True)


def test_reentrant_instance_and_clone():
    ctx = inference_mode()
    with ctx:
        with ctx:
            assert state() == (True, False)
        assert state() == (True, False)
    assert state() == (False, True)
    c = ctx.clone()
    assert isinstance(c, inference_mode) and c.mode is True


def test_inference_mode_is_per_thread():
    seen = []
    with inference_mode():
        t = threading.Thread(target=lambda: seen.append(is_inference_mode_enabled()))
        t.start()
        t.join()
        assert is_inference_mode_enabled()
    assert seen == [False]


def test_matches_torch_mode_transitions(torch):
    def trace(m, im, is_enabled):
        out = []
        with im():
            out.append((is_enabled(), m.is_grad_enabled()))
            with im(False):
                out.append((is_enabled(), m.is_grad_enabled()))
        with m.no_grad():
            with im(mode=False):
                out.append((is_enabled(), m.is_grad_enabled()))
            with im(True):
                out.append((is_enabled(), m.is_grad_enabled()))
        out.append((is_enabled(), m.is_grad_enabled()))
        x = m.ones(2, requires_grad=True)
        with im():
            out.append((x * 2).requires_grad)
        return out

    assert trace(cr, inference_mode, is_inference_mode_enabled) == trace(
        torch, torch.inference_mode, torch.is_inference_mode_enabled
    )
