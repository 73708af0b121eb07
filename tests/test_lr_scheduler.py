"""Learning-rate schedulers: step-by-step agreement with torch.optim.lr_scheduler."""

import math
import warnings

import numpy as np
import pytest

import chainrule as cr
import chainrule.optim as optim
from chainrule.optim import lr_scheduler as S


def _cr_opt(kind="sgd"):
    a, b = cr.tensor([1.0], requires_grad=True), cr.tensor([2.0], requires_grad=True)
    groups = [{"params": [a]}, {"params": [b], "lr": 0.05}]
    return optim.SGD(groups, lr=0.1, momentum=0.9) if kind == "sgd" else optim.Adam(groups, lr=0.1)


def _torch_opt(torch, kind="sgd"):
    a, b = torch.tensor([1.0], requires_grad=True), torch.tensor([2.0], requires_grad=True)
    groups = [{"params": [a]}, {"params": [b], "lr": 0.05}]
    return (
        torch.optim.SGD(groups, lr=0.1, momentum=0.9) if kind == "sgd" else torch.optim.Adam(groups, lr=0.1)
    )


CASES = {
    "StepLR": lambda M, o: M.StepLR(o, step_size=7, gamma=0.5),
    "MultiStepLR": lambda M, o: M.MultiStepLR(o, milestones=[5, 12, 12, 30], gamma=0.3),
    "ExponentialLR": lambda M, o: M.ExponentialLR(o, gamma=0.93),
    "CosineAnnealingLR": lambda M, o: M.CosineAnnealingLR(o, T_max=10, eta_min=0.001),
    "LinearLR": lambda M, o: M.LinearLR(o, start_factor=0.25, end_factor=0.9, total_iters=8),
    "LambdaLR": lambda M, o: M.LambdaLR(o, lr_lambda=[lambda e: 0.95**e, lambda e: 1 / (1 + e)]),
    "OneCycleLR-cos": lambda M, o: M.OneCycleLR(o, max_lr=[1.0, 0.5], total_steps=51),
    "OneCycleLR-linear-3phase": lambda M, o: M.OneCycleLR(
        o, max_lr=0.8, epochs=5, steps_per_epoch=11, anneal_strategy="linear", three_phase=True
    ),
    "MultiplicativeLR": lambda M, o: M.MultiplicativeLR(
        o, lr_lambda=[lambda e: 0.95, lambda e: 1 - 0.01 * e]
    ),
    "ConstantLR": lambda M, o: M.ConstantLR(o, factor=0.3, total_iters=7),
    "PolynomialLR": lambda M, o: M.PolynomialLR(o, total_iters=30, power=2.0),
    "PolynomialLR-default": lambda M, o: M.PolynomialLR(o),
    "CosineAnnealingWarmRestarts": lambda M, o: M.CosineAnnealingWarmRestarts(o, T_0=7, eta_min=0.002),
    "CosineAnnealingWarmRestarts-Tmult": lambda M, o: M.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2),
    "CyclicLR-triangular": lambda M, o: M.CyclicLR(o, base_lr=0.01, max_lr=[0.1, 0.2], step_size_up=4),
    "CyclicLR-triangular2": lambda M, o: M.CyclicLR(
        o, base_lr=[0.01, 0.02], max_lr=0.3, step_size_up=3, step_size_down=7, mode="triangular2"
    ),
    "CyclicLR-exp_range": lambda M, o: M.CyclicLR(
        o, base_lr=0.01, max_lr=0.1, step_size_up=5, mode="exp_range", gamma=0.97, base_momentum=0.7
    ),
    "CyclicLR-scale_fn-iterations": lambda M, o: M.CyclicLR(
        o,
        base_lr=0.01,
        max_lr=0.1,
        step_size_up=6,
        step_size_down=2,
        scale_fn=lambda x: 1 / (1 + 0.05 * x),
        scale_mode="iterations",
        max_momentum=[0.95, 0.99],
    ),
    "CyclicLR-no-momentum": lambda M, o: M.CyclicLR(o, 0.01, 0.1, step_size_up=3, cycle_momentum=False),
    "ChainedScheduler": lambda M, o: M.ChainedScheduler(
        [M.ConstantLR(o, factor=0.5, total_iters=4), M.ExponentialLR(o, gamma=0.9), M.PolynomialLR(o, 40)]
    ),
    "SequentialLR-new": lambda M, o: M.SequentialLR(
        o,
        [M.ConstantLR(o, factor=0.2, total_iters=3), M.PolynomialLR(o, total_iters=20, power=0.5)],
        milestones=[6],
    ),
    "SequentialLR": lambda M, o: M.SequentialLR(
        o,
        [
            M.LinearLR(o, start_factor=0.1, total_iters=5),
            M.CosineAnnealingLR(o, T_max=20),
            M.StepLR(o, step_size=3),
        ],
        milestones=[5, 30],
    ),
}


@pytest.mark.parametrize("kind", ["sgd", "adam"])
@pytest.mark.parametrize("name", list(CASES))
def test_scheduler_matches_torch_for_50_steps(torch, name, kind):
    opt, topt = _cr_opt(kind), _torch_opt(torch, kind)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sched = CASES[name](S, opt)
        tsched = CASES[name](torch.optim.lr_scheduler, topt)
        for step in range(51):
            assert sched.get_last_lr() == pytest.approx(tsched.get_last_lr(), rel=1e-12, abs=1e-15), step
            for g, tg in zip(opt.param_groups, topt.param_groups):
                assert g["lr"] == pytest.approx(tg["lr"], rel=1e-12, abs=1e-15)
                if kind == "sgd":
                    assert g["momentum"] == pytest.approx(tg["momentum"], rel=1e-12)
                else:
                    assert g["betas"][0] == pytest.approx(tg["betas"][0], rel=1e-12)
            if step == 50:
                break
            opt.step()
            topt.step()
            sched.step()
            tsched.step()


@pytest.mark.parametrize(
    "kwargs,metrics",
    [
        (dict(), [1.0] * 30),
        (
            dict(
                mode="max",
                factor=0.5,
                patience=2,
                threshold=0.1,
                threshold_mode="abs",
                cooldown=2,
                min_lr=0.01,
            ),
            [float(x) for x in np.random.default_rng(0).uniform(0, 1, 50)],
        ),
        (
            dict(factor=0.3, patience=0, cooldown=1, min_lr=[0.0, 0.04], eps=1e-3),
            [float(x) for x in np.linspace(1, 0.5, 25)] + [0.6] * 25,
        ),
    ],
)
def test_reduce_lr_on_plateau_matches_torch(torch, kwargs, metrics):
    opt, topt = _cr_opt(), _torch_opt(torch)
    sched = S.ReduceLROnPlateau(opt, **kwargs)
    tsched = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, **kwargs)
    for m in metrics:
        sched.step(m)
        tsched.step(m)
        assert sched.get_last_lr() == pytest.approx(tsched.get_last_lr(), rel=1e-12)
        assert sched.num_bad_epochs == tsched.num_bad_epochs


# ---- without PyTorch -------------------------------------------------------------------------------
def test_step_lr_closed_form():
    opt = _cr_opt()
    sched = S.StepLR(opt, step_size=2, gamma=0.1)
    seen = []
    for _ in range(6):
        seen.append(sched.get_last_lr()[0])
        opt.step()
        sched.step()
    assert seen == pytest.approx([0.1, 0.1, 0.01, 0.01, 0.001, 0.001])
    assert opt.param_groups[0]["initial_lr"] == 0.1 and sched.base_lrs == [0.1, 0.05]


def test_cosine_annealing_recursive_form_equals_closed_form():
    opt = _cr_opt()
    sched = S.CosineAnnealingLR(opt, T_max=10, eta_min=0.0)
    for epoch in range(1, 25):
        sched.step()
        expect = 0.1 * (1 + math.cos(math.pi * epoch / 10)) / 2
        assert sched.get_last_lr()[0] == pytest.approx(expect, abs=1e-12)


def test_one_cycle_peaks_at_max_lr_and_cycles_momentum():
    opt = _cr_opt()
    sched = S.OneCycleLR(opt, max_lr=1.0, total_steps=100, pct_start=0.25)
    assert opt.param_groups[0]["lr"] == pytest.approx(1.0 / 25)
    assert opt.param_groups[0]["momentum"] == pytest.approx(0.95)
    lrs = []
    for _ in range(99):
        opt.step()
        sched.step()
        lrs.append(opt.param_groups[0]["lr"])
    assert max(lrs) == pytest.approx(1.0) and lrs.index(max(lrs)) == 23
    assert lrs[-1] == pytest.approx(1.0 / 25 / 1e4)
    sched.step()  # step 100 is the last one allowed
    with pytest.raises(ValueError, match="Tried to step 101 times"):
        sched.step()


def test_reduce_lr_on_plateau_closed_form():
    opt = _cr_opt()
    sched = S.ReduceLROnPlateau(opt, factor=0.5, patience=1)
    for m in [1.0, 1.0, 1.0, 1.0, 1.0]:
        sched.step(m)
    assert sched.get_last_lr() == pytest.approx([0.025, 0.0125])


def test_scheduler_state_dict_round_trip():
    opt = _cr_opt()
    sched = S.MultiStepLR(opt, milestones=[2, 4], gamma=0.5)
    for _ in range(3):
        opt.step()
        sched.step()
    sd = sched.state_dict()
    assert "optimizer" not in sd and sd["last_epoch"] == 3
    opt2 = _cr_opt()
    opt2.load_state_dict(opt.state_dict())
    sched2 = S.MultiStepLR(opt2, milestones=[2, 4], gamma=0.5)
    sched2.load_state_dict(sd)
    for s, o in ((sched, opt), (sched2, opt2)):
        o.step()
        s.step()
    assert sched2.get_last_lr() == sched.get_last_lr() == pytest.approx([0.025, 0.0125])


def test_scheduler_argument_errors():
    opt = _cr_opt()
    with pytest.raises(TypeError, match="is not an Optimizer"):
        S.StepLR(object(), step_size=1)
    with pytest.raises(ValueError, match="Factor should be < 1.0"):
        S.ReduceLROnPlateau(opt, factor=1.5)
    with pytest.raises(ValueError, match="Starting multiplicative factor"):
        S.LinearLR(opt, start_factor=0)
    with pytest.raises(ValueError, match="total_steps OR"):
        S.OneCycleLR(opt, max_lr=1.0)
    with pytest.raises(ValueError, match="number of milestone points"):
        S.SequentialLR(opt, [S.ExponentialLR(opt, 0.9)], milestones=[3])
    with pytest.raises(KeyError, match="initial_lr"):
        S.StepLR(optim.SGD([cr.tensor([1.0], requires_grad=True)], lr=0.1), step_size=1, last_epoch=3)


# ---- MultiplicativeLR, ConstantLR, PolynomialLR, CosineAnnealingWarmRestarts, CyclicLR, ChainedScheduler
def _run_lrs(opt, sched, steps):
    seen = [sched.get_last_lr()]
    for _ in range(steps):
        opt.step()
        sched.step()
        seen.append(sched.get_last_lr())
    return seen


def test_multiplicative_lr_multiplies_from_epoch_1():
    opt = _cr_opt()
    sched = S.MultiplicativeLR(opt, lr_lambda=lambda e: 0.5 if e % 2 else 1.0)
    seen = _run_lrs(opt, sched, 4)
    assert [lr[0] for lr in seen] == pytest.approx([0.1, 0.05, 0.05, 0.025, 0.025])
    with pytest.raises(TypeError, match="lr_lambda should be a function"):
        S.MultiplicativeLR(_cr_opt(), lr_lambda=[lambda e: 1.0, 0.5])
    with pytest.raises(ValueError, match="Expected 2 lr_lambdas, but got 1"):
        S.MultiplicativeLR(_cr_opt(), lr_lambda=[lambda e: 1.0])


def test_constant_lr_scales_until_total_iters():
    opt = _cr_opt()
    seen = _run_lrs(opt, S.ConstantLR(opt, factor=0.5, total_iters=3), 5)
    assert [lr[1] for lr in seen] == pytest.approx([0.025, 0.025, 0.025, 0.05, 0.05, 0.05])
    with pytest.raises(ValueError, match="Constant multiplicative factor expected to be between 0 and 1"):
        S.ConstantLR(_cr_opt(), factor=1.5)


def test_polynomial_lr_recursive_form_equals_closed_form():
    opt = _cr_opt()
    seen = _run_lrs(opt, S.PolynomialLR(opt, total_iters=8, power=1.5), 12)
    expect = [0.1 * (1 - min(t, 8) / 8) ** 1.5 for t in range(13)]
    assert [lr[0] for lr in seen] == pytest.approx(expect, abs=1e-15)


def test_cosine_warm_restarts_by_hand():
    opt = _cr_opt()
    sched = S.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=2, eta_min=0.01)
    seen = [lr[0] for lr in _run_lrs(opt, sched, 8)]

    def cos(t_cur, t_i):
        return 0.01 + (0.1 - 0.01) * (1 + math.cos(math.pi * t_cur / t_i)) / 2

    # periods of 2, 4, 8 epochs: restarts at epochs 2 and 6
    expect = [
        cos(0, 2),
        cos(1, 2),
        cos(0, 4),
        cos(1, 4),
        cos(2, 4),
        cos(3, 4),
        cos(0, 8),
        cos(1, 8),
        cos(2, 8),
    ]
    assert seen == pytest.approx(expect, abs=1e-15)
    assert sched.T_i == 8 and sched.T_cur == 2


def test_cosine_warm_restarts_fractional_epochs_by_hand():
    opt = _cr_opt()
    sched = S.CosineAnnealingWarmRestarts(opt, T_0=4, T_mult=2)
    for epoch, (t_cur, t_i) in [
        (0.5, (0.5, 4)),
        (3.75, (3.75, 4)),
        (4.0, (0.0, 8)),
        (13.5, (1.5, 16)),
        (2.0, (2.0, 4)),
    ]:
        sched.step(epoch)
        assert (sched.T_cur, sched.T_i) == (pytest.approx(t_cur), t_i)
        assert sched.last_epoch == math.floor(epoch)
        assert sched.get_last_lr()[1] == pytest.approx(0.05 * (1 + math.cos(math.pi * t_cur / t_i)) / 2)
    with pytest.raises(ValueError, match="Expected non-negative epoch"):
        sched.step(-1)


def test_cosine_warm_restarts_fractional_epochs_match_torch(torch):
    for t_mult in (1, 3):
        opt, topt = _cr_opt(), _torch_opt(torch)
        sched = S.CosineAnnealingWarmRestarts(opt, T_0=3, T_mult=t_mult, eta_min=0.001)
        tsched = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(
            topt, T_0=3, T_mult=t_mult, eta_min=0.001
        )
        for epoch in range(20):
            for batch in range(4):
                e = epoch + batch / 4
                sched.step(e)
                tsched.step(e)
                assert sched.get_last_lr() == pytest.approx(tsched.get_last_lr(), rel=1e-12, abs=1e-15)
                assert (sched.T_cur, sched.T_i, sched.last_epoch) == (
                    pytest.approx(tsched.T_cur),
                    tsched.T_i,
                    tsched.last_epoch,
                )
            opt.step()
            topt.step()
        sched.step()  # back to plain steps after explicit epochs
        tsched.step()
        assert sched.get_last_lr() == pytest.approx(tsched.get_last_lr(), rel=1e-12)


def test_cosine_warm_restarts_argument_errors():
    opt = _cr_opt()
    with pytest.raises(ValueError, match="Expected positive integer T_0"):
        S.CosineAnnealingWarmRestarts(opt, T_0=0)
    with pytest.raises(ValueError, match="Expected positive integer T_0"):
        S.CosineAnnealingWarmRestarts(opt, T_0=2.5)
    with pytest.raises(ValueError, match="Expected integer T_mult >= 1"):
        S.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=0)
    with pytest.raises(ValueError, match="Expected float or int eta_min"):
        S.CosineAnnealingWarmRestarts(opt, T_0=2, eta_min="0")


def test_cyclic_lr_triangular_by_hand_and_momentum_moves_inversely():
    opt = _cr_opt()
    sched = S.CyclicLR(opt, base_lr=0.0, max_lr=1.0, step_size_up=2, step_size_down=2, base_momentum=0.8)
    lrs, moms = [], []
    for _ in range(9):
        lrs.append(sched.get_last_lr()[0])
        moms.append(opt.param_groups[0]["momentum"])
        opt.step()
        sched.step()
    assert lrs == pytest.approx([0.0, 0.5, 1.0, 0.5, 0.0, 0.5, 1.0, 0.5, 0.0])
    assert moms == pytest.approx([0.9, 0.85, 0.8, 0.85, 0.9, 0.85, 0.8, 0.85, 0.9])
    assert opt.param_groups[0]["max_momentum"] == 0.9 and opt.param_groups[0]["base_momentum"] == 0.8


def test_cyclic_lr_triangular2_halves_each_cycle_and_cycles_adam_beta1():
    opt = _cr_opt("adam")
    sched = S.CyclicLR(opt, base_lr=0.0, max_lr=0.8, step_size_up=1, mode="triangular2")
    peaks = []
    for _ in range(7):
        opt.step()
        sched.step()
        peaks.append(sched.get_last_lr()[0])
        assert opt.param_groups[0]["betas"][1] == 0.999
    assert peaks[0::2] == pytest.approx([0.8, 0.4, 0.2, 0.1])
    # at a peak of the 4th cycle beta1 is at its lowest for that cycle: 0.9 - (0.9 - 0.8) / 2**3
    assert opt.param_groups[0]["betas"][0] == pytest.approx(0.9 - 0.1 / 8)


def test_cyclic_lr_argument_errors():
    with pytest.raises(ValueError, match="mode is invalid and scale_fn is None"):
        S.CyclicLR(_cr_opt(), 0.01, 0.1, mode="sawtooth")
    a = cr.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match="optimizer must support momentum or beta1"):
        S.CyclicLR(optim.Adagrad([a]), 0.01, 0.1)
    with pytest.raises(ValueError, match="max_lr must have the same length as optimizer.param_groups"):
        S.CyclicLR(_cr_opt(), 0.01, [0.1, 0.2, 0.3])
    with pytest.raises(TypeError, match="is not an Optimizer"):
        S.CyclicLR(object(), 0.01, 0.1)


class _Scale:
    """A callable object: its attributes are part of the scheduler's state dict."""

    def __init__(self, rate):
        self.rate = rate

    def __call__(self, x):
        return 1.0 / (1.0 + self.rate * x)


def test_cyclic_lr_state_dict_keeps_callable_object_state():
    opt = _cr_opt()
    sched = S.CyclicLR(opt, 0.01, 0.1, step_size_up=3, scale_fn=_Scale(0.5))
    for _ in range(5):
        opt.step()
        sched.step()
    sd = sched.state_dict()
    assert "_scale_fn_ref" not in sd and sd["_scale_fn_custom"] == {"rate": 0.5}
    opt2 = _cr_opt()
    sched2 = S.CyclicLR(opt2, 0.01, 0.1, step_size_up=3, scale_fn=_Scale(9.0))
    sched2.load_state_dict(sd)
    assert sched2._scale_fn_custom.rate == 0.5
    for s, o in ((sched, opt), (sched2, opt2)):
        o.step()
        s.step()
    assert sched2.get_last_lr() == sched.get_last_lr()
    # a plain function is not saved; the built-in modes come back after loading
    sched3 = S.CyclicLR(_cr_opt(), 0.01, 0.1, mode="exp_range", gamma=0.9)
    sd3 = sched3.state_dict()
    assert sd3["_scale_fn_custom"] is None
    sched3.load_state_dict(sd3)
    assert sched3.scale_fn(2) == pytest.approx(0.81)


def test_chained_scheduler_composes_factors():
    opt = _cr_opt()
    sched = S.ChainedScheduler(
        [S.ConstantLR(opt, factor=0.5, total_iters=2), S.ExponentialLR(opt, gamma=0.9)]
    )
    seen = [lr[0] for lr in _run_lrs(opt, sched, 4)]
    assert seen == pytest.approx([0.05, 0.045, 0.081, 0.0729, 0.06561])
    assert sched.optimizer is opt


def test_chained_scheduler_argument_errors():
    opt = _cr_opt()
    with pytest.raises(ValueError, match="expects at least one scheduler"):
        S.ChainedScheduler([])
    with pytest.raises(ValueError, match="does not support `ReduceLROnPlateau`"):
        S.ChainedScheduler([S.ExponentialLR(opt, 0.9), S.ReduceLROnPlateau(opt)])
    with pytest.raises(ValueError, match="expects all schedulers to belong to the same optimizer"):
        S.ChainedScheduler([S.ExponentialLR(opt, 0.9), S.ExponentialLR(_cr_opt(), 0.9)])
    with pytest.raises(TypeError, match="should have `optimizer` as its attribute"):
        S.ChainedScheduler([S.ExponentialLR(opt, 0.9), object()])


_NEW_CASES = [
    "MultiplicativeLR",
    "ConstantLR",
    "PolynomialLR",
    "CosineAnnealingWarmRestarts-Tmult",
    "CyclicLR-triangular2",
    "CyclicLR-exp_range",
    "ChainedScheduler",
]


@pytest.mark.parametrize("name", _NEW_CASES)
def test_state_dict_round_trip_resumes_the_schedule(name):
    opt = _cr_opt()
    sched = CASES[name](S, opt)
    for _ in range(7):
        opt.step()
        sched.step()
    sd = sched.state_dict()
    assert "optimizer" not in sd
    opt2 = _cr_opt()
    sched2 = CASES[name](S, opt2)
    opt2.load_state_dict(opt.state_dict())
    sched2.load_state_dict(sd)
    for _ in range(10):
        for s, o in ((sched, opt), (sched2, opt2)):
            o.step()
            s.step()
        assert sched2.get_last_lr() == sched.get_last_lr()
        assert [g["lr"] for g in opt2.param_groups] == [g["lr"] for g in opt.param_groups]


@pytest.mark.parametrize("name", _NEW_CASES + ["CyclicLR-scale_fn-iterations", "CyclicLR-triangular"])
def test_state_dict_keys_match_torch(torch, name):
    opt, topt = _cr_opt(), _torch_opt(torch)
    sched, tsched = CASES[name](S, opt), CASES[name](torch.optim.lr_scheduler, topt)
    for _ in range(3):
        opt.step()
        topt.step()
        sched.step()
        tsched.step()
    ours, ref = sched.state_dict(), tsched.state_dict()
    # PyTorch's flag for warning about get_lr() calls outside step() is not kept by chainrule
    assert set(ours) == set(ref) - {"_get_lr_called_within_step"}
    for key in ("last_epoch", "base_lrs", "_last_lr", "_step_count"):
        if key in ref:
            assert ours[key] == pytest.approx(ref[key], rel=1e-12), key
    if name == "ChainedScheduler":
        for a, b in zip(ours["_schedulers"], ref["_schedulers"]):
            assert set(a) == set(b) - {"_get_lr_called_within_step"}


@pytest.mark.parametrize("name", ["ConstantLR", "PolynomialLR"])
def test_step_with_epoch_uses_closed_form_and_warns_as_torch(torch, name):
    opt, topt = _cr_opt(), _torch_opt(torch)
    sched, tsched = CASES[name](S, opt), CASES[name](torch.optim.lr_scheduler, topt)
    for epoch in [3, 1, 10, 6, 40, 0]:
        with pytest.warns(
            UserWarning, match="The epoch parameter in `scheduler.step\\(\\)` was not necessary"
        ):
            sched.step(epoch)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tsched.step(epoch)
        assert sched.get_last_lr() == pytest.approx(tsched.get_last_lr(), rel=1e-12, abs=1e-15)


def test_every_torch_scheduler_has_a_counterpart(torch):
    missing = set(torch.optim.lr_scheduler.__all__) - set(S.__all__)
    assert not missing
    assert all(hasattr(S, name) for name in S.__all__)
