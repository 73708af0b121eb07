"""Regression tests for defects found by probing chainrule as a hostile user would: each pins a
behaviour that was wrong (a NaN gradient, a leak, a silent acceptance) and matches PyTorch now."""

import gc
import math
import weakref

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn
import chainrule.nn.functional as F


# ---- every target ignored ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "loss",
    [
        lambda x: F.cross_entropy(x, cr.tensor([-100, -100])),
        lambda x: F.cross_entropy(x, cr.tensor([-100, -100]), label_smoothing=0.1),
        lambda x: F.nll_loss(x.log_softmax(1), cr.tensor([-100, -100])),
        lambda x: F.nll_loss(x.log_softmax(1), cr.tensor([2, 2]), ignore_index=2),
    ],
)
def test_all_targets_ignored_gives_nan_mean_and_zero_gradient(loss):
    x = cr.randn(2, 3, requires_grad=True)
    value = loss(x)
    value.backward()
    assert math.isnan(value.item())  # 0 / 0, as PyTorch
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros((2, 3), np.float32))


def test_all_ignored_batch_leaves_weights_finite_after_a_step():
    model = nn.Linear(4, 3)
    opt = cr.optim.SGD(model.parameters(), lr=0.1)
    F.cross_entropy(model(cr.randn(2, 4)), cr.tensor([-100, -100])).backward()
    opt.step()
    assert all(np.isfinite(p.detach().numpy()).all() for p in model.parameters())


def test_all_ignored_matches_torch(torch):
    x = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    target = [-100, -100, -100]
    xc = cr.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    lc = F.cross_entropy(xc, cr.tensor(target))
    lt = torch.nn.functional.cross_entropy(xt, torch.tensor(target))
    lc.backward()
    lt.backward()
    assert math.isnan(lc.item()) and math.isnan(lt.item())
    np.testing.assert_array_equal(xc.grad.numpy(), xt.grad.numpy())


# ---- hooks that refer to their own tensor --------------------------------------------------------
def _collected(make, n=20):
    refs = [weakref.ref(make()) for _ in range(n)]
    gc.collect()
    return sum(r() is None for r in refs) == n


def test_leaf_whose_hook_refers_to_it_is_collected():
    def make():
        x = cr.randn(1000, requires_grad=True)
        x.register_hook(lambda g, x=x: g)
        return x

    assert _collected(make)


def test_non_leaf_whose_hook_refers_to_it_is_collected():
    def make():
        y = cr.randn(1000, requires_grad=True) * 2
        y.register_hook(lambda g, y=y: g)
        return y

    assert _collected(make)


def test_parameter_with_a_bound_method_hook_of_its_module_is_collected():
    class Scaled(nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(cr.randn(1000))
            self.weight.register_hook(self._hook)

        def _hook(self, g):
            return g * 0.5

    def make():
        return Scaled()

    assert _collected(make)


def test_hooks_still_run_while_their_tensor_is_alive():
    x = cr.ones(3, requires_grad=True)
    seen = []
    x.register_hook(lambda g, x=x: seen.append(g.shape))
    gc.collect()
    (x * 2).sum().backward()
    assert seen == [(3,)]
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0, 2.0])


def test_hook_on_intermediate_runs_after_its_python_object_is_dropped():
    # The graph, not the Python object, owns the hook: dropping y and collecting must not remove it.
    x = cr.ones(3, requires_grad=True)
    seen = []
    y = x * 2
    y.register_hook(lambda g: seen.append(1))
    loss = (y * 3).sum()
    del y
    gc.collect()
    loss.backward()
    assert seen == [1]


# ---- indices: PyTorch's rule, wrap only where PyTorch wraps -------------------------------------
def test_embedding_rejects_negative_index():
    with pytest.raises(IndexError, match="out of bounds"):
        nn.Embedding(5, 2)(cr.tensor([-1]))


@pytest.mark.parametrize(
    "call",
    [
        lambda x: cr.index_select(x, 0, cr.tensor([-1])),
        lambda x: cr.gather(x, 1, cr.tensor([[-1]])),
        lambda x: cr.take_along_dim(x, cr.tensor([[-1]]), 1),
        lambda x: F.one_hot(cr.tensor([-1]), 3),
        lambda x: F.cross_entropy(x, cr.tensor([-1])),
    ],
)
def test_negative_index_raises_where_pytorch_raises(call):
    with pytest.raises(IndexError):
        call(cr.randn(1, 3))


def test_tensor_indexing_still_counts_from_the_end():
    x = cr.tensor([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_array_equal(x[-1].numpy(), [3.0, 4.0])
    np.testing.assert_array_equal(x[cr.tensor([-1])].numpy(), [[3.0, 4.0]])
