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
