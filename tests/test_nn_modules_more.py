"""nn modules around the functional forms: activations, losses, distances, Bilinear, RMSNorm,
GroupNorm, InstanceNorm, LocalResponseNorm, dropouts, padding, Fold/Unfold, Upsample, shuffles,
Unflatten, ParameterList/ParameterDict and Embedding options.

Against PyTorch: repr, state_dict keys, outputs and gradients (inputs and parameters) with the same
parameters, and running statistics. Without PyTorch: closed forms, gradchecks and container rules.
"""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn
from helpers import gradcheck, leaf, rand, to_np

TIGHT = {"atol": 1e-12, "rtol": 1e-10}


def _load_from_torch(mod, tmod):
    """Copies every parameter and buffer of the PyTorch module into ours (same keys)."""
    own = mod.state_dict()
    assert list(own) == list(tmod.state_dict())
    for key, value in tmod.state_dict().items():
        nn.init._copy_(own[key], value.detach().numpy())


# ---- reprs --------------------------------------------------------------------------------------------
REPRS = """
nn.ReLU() nn.ReLU(True) nn.ReLU6() nn.ReLU6(True) nn.PReLU() nn.PReLU(3,0.1) nn.Mish() nn.Mish(True)
nn.Hardtanh() nn.Hardtanh(-2,2,True) nn.Hardswish() nn.Hardswish(True) nn.Hardsigmoid() nn.SELU()
nn.SELU(True) nn.CELU() nn.CELU(0.5,True) nn.Softsign() nn.Softmin() nn.Softmin(1) nn.LogSigmoid()
nn.GLU() nn.GLU(0) nn.Threshold(0.1,20) nn.Threshold(0.1,20,True) nn.Tanhshrink() nn.Hardshrink()
nn.Softshrink(0.3) nn.RReLU() nn.RReLU(0.1,0.3,True) nn.Softmax2d() nn.LeakyReLU()
nn.LeakyReLU(0.2,True) nn.ELU() nn.ELU(0.5,True) nn.GELU() nn.GELU('tanh') nn.SiLU() nn.SiLU(True)
nn.Softplus() nn.Softmax() nn.Softmax(1) nn.LogSoftmax() nn.Sigmoid() nn.Tanh()
nn.CosineSimilarity() nn.PairwiseDistance() nn.KLDivLoss() nn.BCELoss() nn.MarginRankingLoss()
nn.TripletMarginLoss() nn.CosineEmbeddingLoss() nn.PoissonNLLLoss() nn.GaussianNLLLoss()
nn.MultiMarginLoss() nn.SoftMarginLoss() nn.HingeEmbeddingLoss() nn.MultiLabelSoftMarginLoss()
nn.TripletMarginWithDistanceLoss() nn.CrossEntropyLoss() nn.Unflatten(1,(2,3)) nn.Identity()
nn.Flatten() nn.Bilinear(2,3,4) nn.Bilinear(2,3,4,bias=False) nn.RMSNorm(3)
nn.RMSNorm([3,4],eps=1e-3,elementwise_affine=False) nn.GroupNorm(2,4) nn.GroupNorm(2,4,affine=False)
nn.InstanceNorm1d(3) nn.InstanceNorm2d(3,affine=True,track_running_stats=True) nn.InstanceNorm3d(2)
nn.LocalResponseNorm(2) nn.Dropout() nn.Dropout1d() nn.Dropout2d(0.3,True) nn.Dropout3d()
nn.AlphaDropout(0.2) nn.FeatureAlphaDropout() nn.Upsample(scale_factor=2)
nn.Upsample(size=(3,4),mode='bilinear',align_corners=True) nn.Upsample(size=3)
nn.Upsample(scale_factor=(2,3)) nn.UpsamplingNearest2d(scale_factor=2)
nn.UpsamplingBilinear2d(size=4) nn.ZeroPad1d(2) nn.ZeroPad2d((1,2,3,4)) nn.ZeroPad3d(1)
nn.ConstantPad1d(2,1.5) nn.ConstantPad2d((1,2,3,4),0.) nn.ConstantPad3d(1,2) nn.ReflectionPad1d(2)
nn.ReflectionPad2d((1,2,3,4)) nn.ReflectionPad3d(1) nn.ReplicationPad1d(2) nn.ReplicationPad2d(1)
nn.ReplicationPad3d(1) nn.CircularPad1d(2) nn.CircularPad2d((1,2,3,4)) nn.CircularPad3d(1)
nn.Fold((4,5),2) nn.Unfold(2,padding=1) nn.ChannelShuffle(2) nn.PixelShuffle(2) nn.PixelUnshuffle(2)
nn.Embedding(3,2) nn.Embedding(3,2,padding_idx=1,max_norm=1.0,norm_type=1.0,scale_grad_by_freq=True)
nn.ParameterList([nn.Parameter(cr.zeros(2,3)),nn.Parameter(cr.zeros(1,dtype=cr.float64))])
nn.ParameterDict({'a':nn.Parameter(cr.zeros(2)),'b':nn.Parameter(cr.zeros(2,3),requires_grad=False)})
nn.ParameterList() nn.ParameterDict() nn.BatchNorm3d(4) nn.ParameterList([cr.zeros(2),3])
nn.Sequential(nn.Linear(2,3),nn.ParameterList([nn.Parameter(cr.zeros(2))]),nn.PReLU())
""".split()


@pytest.mark.parametrize("expr", REPRS)
def test_repr_matches_torch(torch, expr):
    ours = eval(expr, {"nn": nn, "cr": cr})
    theirs = eval(expr, {"nn": torch.nn, "cr": torch})
    assert repr(ours) == repr(theirs).replace("torch.", "chainrule.")


def test_reprs_without_torch():
    assert repr(nn.Hardtanh(-2, 2, True)) == "Hardtanh(min_val=-2, max_val=2, inplace=True)"
    assert repr(nn.PReLU(3)) == "PReLU(num_parameters=3)"
    assert repr(nn.RMSNorm(3)) == "RMSNorm((3,), eps=None, elementwise_affine=True)"
    assert repr(nn.Upsample(scale_factor=2)) == "Upsample(scale_factor=2.0, mode='nearest')"
    assert repr(nn.ZeroPad2d(1)) == "ZeroPad2d((1, 1, 1, 1))"
    assert repr(nn.ParameterList([nn.Parameter(cr.zeros(2, 3))])) == (
        "ParameterList(  (0): Parameter containing: [chainrule.float32 of size 2x3])"
    )


# ---- modules with parameters: keys, init, forward and gradients against PyTorch -----------------------
def _param_modules(m):
    return [
        ("PReLU", lambda: m.PReLU(), rand(2, 3, 4, seed=1)),
        ("PReLU_channels", lambda: m.PReLU(3, 0.1), rand(2, 3, 4, seed=2)),
        ("RMSNorm", lambda: m.RMSNorm([3, 4]), rand(2, 3, 4, seed=3)),
        ("RMSNorm_eps", lambda: m.RMSNorm(4, eps=1e-2), rand(2, 3, 4, seed=4)),
        ("RMSNorm_no_affine", lambda: m.RMSNorm(4, elementwise_affine=False), rand(2, 3, 4, seed=5)),
        ("GroupNorm", lambda: m.GroupNorm(2, 4), rand(3, 4, 5, seed=6)),
        ("GroupNorm_no_bias", lambda: m.GroupNorm(4, 4, bias=False), rand(3, 4, 2, 3, seed=7)),
        ("InstanceNorm1d_affine", lambda: m.InstanceNorm1d(3, affine=True), rand(2, 3, 5, seed=8)),
        ("InstanceNorm2d", lambda: m.InstanceNorm2d(3), rand(2, 3, 4, 4, seed=9)),
        ("InstanceNorm1d_unbatched", lambda: m.InstanceNorm1d(3, affine=True), rand(3, 5, seed=10)),
        (
            "InstanceNorm3d",
            lambda: m.InstanceNorm3d(2, track_running_stats=True),
            rand(2, 2, 3, 3, 2, seed=11),
        ),
        ("LocalResponseNorm", lambda: m.LocalResponseNorm(3, 0.2, 0.5, 2.0), rand(2, 5, 3, seed=12)),
        ("BatchNorm3d", lambda: m.BatchNorm3d(2, momentum=0.3), rand(2, 2, 3, 2, 2, seed=34)),
        ("Unflatten", lambda: m.Unflatten(1, (2, -1)), rand(3, 6, seed=13)),
        ("Upsample", lambda: m.Upsample(scale_factor=2, mode="bilinear"), rand(1, 2, 3, 3, seed=14)),
        ("UpsamplingBilinear2d", lambda: m.UpsamplingBilinear2d(size=(4, 5)), rand(1, 2, 3, 3, seed=15)),
        ("UpsamplingNearest2d", lambda: m.UpsamplingNearest2d(scale_factor=3), rand(1, 2, 3, 3, seed=16)),
        ("ReflectionPad2d", lambda: m.ReflectionPad2d((1, 2, 0, 1)), rand(1, 2, 3, 4, seed=17)),
        ("ReplicationPad1d", lambda: m.ReplicationPad1d(3), rand(2, 3, seed=18)),
        ("CircularPad2d", lambda: m.CircularPad2d(1), rand(1, 2, 3, 3, seed=19)),
        ("ZeroPad2d_short", lambda: m.ZeroPad2d((1, 2)), rand(1, 2, 3, 3, seed=20)),
        ("ConstantPad3d", lambda: m.ConstantPad3d(1, -0.5), rand(1, 2, 2, 2, seed=21)),
        ("Fold", lambda: m.Fold((3, 4), 2), rand(2, 8, 6, seed=22)),
        ("Unfold", lambda: m.Unfold((2, 3), stride=2, padding=1), rand(2, 2, 4, 5, seed=23)),
        ("PixelShuffle", lambda: m.PixelShuffle(2), rand(1, 8, 2, 3, seed=24)),
        ("ChannelShuffle", lambda: m.ChannelShuffle(2), rand(1, 4, 2, 2, seed=25)),
        ("Softmax2d", lambda: m.Softmax2d(), rand(2, 3, 2, 2, seed=26)),
        ("Softmin", lambda: m.Softmin(1), rand(2, 3, seed=27)),
        ("GLU", lambda: m.GLU(1), rand(2, 4, seed=28)),
        ("Hardswish", lambda: m.Hardswish(), rand(3, 4, seed=29, low=-4, high=4)),
        ("Mish", lambda: m.Mish(), rand(3, 4, seed=30, low=-4, high=4)),
        ("CELU", lambda: m.CELU(0.6), rand(3, 4, seed=31, low=-4, high=4)),
        ("Threshold", lambda: m.Threshold(0.2, -1.0), rand(3, 4, seed=32)),
        ("RReLU_eval", lambda: m.RReLU().eval(), rand(3, 4, seed=33)),
    ]


PARAM_IDS = [name for name, _, _ in _param_modules(nn)]


@pytest.mark.parametrize("idx", range(len(PARAM_IDS)), ids=PARAM_IDS)
def test_module_matches_torch(torch, idx):
    name, build, x = _param_modules(nn)[idx]
    _, tbuild, _ = _param_modules(torch.nn)[idx]
    mod, tmod = build().double(), tbuild().double()
    assert [k for k, _ in mod.named_parameters()] == [k for k, _ in tmod.named_parameters()]
    assert list(mod.state_dict()) == list(tmod.state_dict())
    # default init is deterministic for these: same values
    for k, v in tmod.state_dict().items():
        np.testing.assert_allclose(to_np(mod.state_dict()[k]), v.numpy(), **TIGHT)
    # with random parameters, same outputs and gradients
    gen = np.random.default_rng(idx)
    for v in tmod.state_dict().values():
        if v.is_floating_point():
            v.copy_(torch.tensor(gen.uniform(0.5, 1.5, tuple(v.shape))))
    _load_from_torch(mod, tmod)
    xc, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yc, yt = mod(xc), tmod(xt)
    np.testing.assert_allclose(to_np(yc), yt.detach().numpy(), **TIGHT)
    seed = rand(*yt.shape, seed=99)
    yc.backward(cr.tensor(seed))
    yt.backward(torch.tensor(seed))
    # PyTorch's CELU backward rounds 1/alpha to float32 even in float64 (off by ~1e-7 relative)
    grad_tol = {"atol": 1e-12, "rtol": 1e-6} if name == "CELU" else TIGHT
    np.testing.assert_allclose(to_np(xc.grad), xt.grad.numpy(), **grad_tol)
    for (k, p), (_, q) in zip(mod.named_parameters(), tmod.named_parameters()):
        np.testing.assert_allclose(to_np(p.grad), q.grad.numpy(), err_msg=k, **TIGHT)
    for k, v in tmod.state_dict().items():  # running statistics, updated alike
        np.testing.assert_allclose(to_np(mod.state_dict()[k]), v.numpy(), err_msg=k, **TIGHT)


def test_bilinear_init_keys_and_gradients_match_torch(torch):
    mod, tmod = nn.Bilinear(3, 4, 2).double(), torch.nn.Bilinear(3, 4, 2).double()
    assert list(mod.state_dict()) == list(tmod.state_dict()) == ["weight", "bias"]
    assert mod.weight.shape == tuple(tmod.weight.shape) == (2, 3, 4)
    bound = 1 / np.sqrt(3)
    assert np.abs(to_np(mod.weight)).max() <= bound and np.abs(to_np(mod.bias)).max() <= bound
    _load_from_torch(mod, tmod)
    a, b = rand(5, 3, seed=40), rand(5, 4, seed=41)
    ac, bc = cr.tensor(a, requires_grad=True), cr.tensor(b, requires_grad=True)
    at, bt = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    yc, yt = mod(ac, bc), tmod(at, bt)
    np.testing.assert_allclose(to_np(yc), yt.detach().numpy(), **TIGHT)
    (yc * yc).sum().backward()
    (yt * yt).sum().backward()
    for c, t in ((ac, at), (bc, bt), (mod.weight, tmod.weight), (mod.bias, tmod.bias)):
        np.testing.assert_allclose(to_np(c.grad), t.grad.numpy(), **TIGHT)


def test_instance_norm_running_stats_train_then_eval_match_torch(torch):
    mod = nn.InstanceNorm1d(3, affine=True, track_running_stats=True, momentum=0.3).double()
    tmod = torch.nn.InstanceNorm1d(3, affine=True, track_running_stats=True, momentum=0.3).double()
    for step in range(3):
        x = rand(4, 3, 6, seed=50 + step)
        np.testing.assert_allclose(to_np(mod(cr.tensor(x))), tmod(torch.tensor(x)).detach().numpy(), **TIGHT)
    for k, v in tmod.state_dict().items():
        np.testing.assert_allclose(to_np(mod.state_dict()[k]), v.numpy(), err_msg=k, **TIGHT)
    mod.eval()
    tmod.eval()
    x = rand(2, 3, 5, seed=60)
    np.testing.assert_allclose(to_np(mod(cr.tensor(x))), tmod(torch.tensor(x)).detach().numpy(), **TIGHT)


LOSSES = [
    ("KLDivLoss", lambda m: m.KLDivLoss(reduction="batchmean"), 2),
    ("KLDivLoss_log_target", lambda m: m.KLDivLoss(reduction="sum", log_target=True), 2),
    ("MarginRankingLoss", lambda m: m.MarginRankingLoss(0.2), 3),
    ("TripletMarginLoss", lambda m: m.TripletMarginLoss(0.5, p=1.0, swap=True), 3),
    ("TripletMarginWithDistanceLoss", lambda m: m.TripletMarginWithDistanceLoss(margin=0.5), 3),
    ("CosineEmbeddingLoss", lambda m: m.CosineEmbeddingLoss(0.1, reduction="sum"), 3),
    ("PoissonNLLLoss", lambda m: m.PoissonNLLLoss(log_input=False, full=True), 2),
    ("GaussianNLLLoss", lambda m: m.GaussianNLLLoss(full=True), 3),
    ("SoftMarginLoss", lambda m: m.SoftMarginLoss(), 2),
    ("HingeEmbeddingLoss", lambda m: m.HingeEmbeddingLoss(0.5), 2),
    ("MultiLabelSoftMarginLoss", lambda m: m.MultiLabelSoftMarginLoss(), 2),
    ("MultiMarginLoss", lambda m: m.MultiMarginLoss(p=2, margin=0.5), 2),
    ("SmoothL1Loss_legacy", lambda m: m.SmoothL1Loss(None, None, "sum", 0.5), 2),
    ("MSELoss_legacy_reduce", lambda m: m.MSELoss(reduce=False), 2),
    ("CrossEntropyLoss_positional", lambda m: m.CrossEntropyLoss(None, None, 1, None, "sum", 0.1), 2),
]


def _loss_inputs(name):
    p = rand(4, 3, seed=70, low=0.1, high=0.9)
    x = rand(4, 3, seed=71)
    if name.startswith("KLDiv"):
        return [np.log(p), (np.log(p[::-1].copy()) if "log_target" in name else p[::-1].copy())], [1]
    if name.startswith(("BCE", "Poisson")):
        return [p, p[::-1].copy() * 2 if name.startswith("Poisson") else p[::-1].copy()], [1]
    if name.startswith("MarginRanking"):
        return [x[0], x[1], np.array([1.0, -1.0, 1.0])], [2]
    if name.startswith("Triplet"):
        return [x, rand(4, 3, seed=72), rand(4, 3, seed=73)], []
    if name.startswith("CosineEmbedding"):
        return [x, rand(4, 3, seed=74), np.array([1.0, -1.0, -1.0, 1.0])], [2]
    if name.startswith("Gaussian"):
        return [x, rand(4, 3, seed=75), p], []
    if name.startswith(("SoftMargin", "HingeEmbedding")):
        return [x, np.sign(rand(4, 3, seed=76))], [1]
    if name.startswith("MultiLabel"):
        return [x, (rand(4, 3, seed=77) > 0).astype(np.float64)], [1]
    if name.startswith(("MultiMargin", "CrossEntropy")):
        return [x, np.array([0, 2, 1, 1])], [1]
    return [x, rand(4, 3, seed=78)], []


@pytest.mark.parametrize("name,build,nargs", LOSSES, ids=[c[0] for c in LOSSES])
def test_loss_modules_match_torch(torch, name, build, nargs):
    arrays, frozen = _loss_inputs(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mod, tmod = build(nn), build(torch.nn)
    assert mod.reduction == tmod.reduction
    xs = [cr.tensor(a, requires_grad=a.dtype.kind == "f" and i not in frozen) for i, a in enumerate(arrays)]
    ts = [
        torch.tensor(a, requires_grad=a.dtype.kind == "f" and i not in frozen) for i, a in enumerate(arrays)
    ]
    yc, yt = mod(*xs), tmod(*ts)
    np.testing.assert_allclose(to_np(yc), yt.detach().numpy(), **TIGHT)
    yc.sum().backward()
    yt.sum().backward()
    for c, t in zip(xs, ts):
        if t.requires_grad:
            np.testing.assert_allclose(to_np(c.grad), t.grad.numpy(), **TIGHT)


def test_bce_loss_weight_and_softmin_dtype_match_torch(torch):
    p, t, w = (
        rand(4, 3, seed=80, low=0.1, high=0.9),
        rand(4, 3, seed=81, low=0, high=1),
        rand(3, seed=82, low=0.5),
    )
    mod, tmod = (
        nn.BCELoss(weight=cr.tensor(w), reduction="sum"),
        torch.nn.BCELoss(weight=torch.tensor(w), reduction="sum"),
    )
    xc, xt = cr.tensor(p, requires_grad=True), torch.tensor(p, requires_grad=True)
    yc, yt = mod(xc, cr.tensor(t)), tmod(xt, torch.tensor(t))
    np.testing.assert_allclose(to_np(yc), yt.detach().numpy(), **TIGHT)
    yc.backward()
    yt.backward()
    np.testing.assert_allclose(to_np(xc.grad), xt.grad.numpy(), **TIGHT)
    x32 = rand(2, 3, seed=83).astype(np.float32)
    sc = nn.functional.softmin(cr.tensor(x32), 1, dtype=cr.float64)
    st = torch.nn.functional.softmin(torch.tensor(x32), 1, dtype=torch.float64)
    assert sc.dtype == cr.float64
    np.testing.assert_allclose(to_np(sc), st.numpy(), **TIGHT)


def test_loss_legacy_arguments_map_to_reduction_with_a_warning():
    with pytest.warns(UserWarning, match="reduction='none'"):
        assert nn.L1Loss(reduce=False).reduction == "none"
    with pytest.warns(UserWarning):
        assert nn.NLLLoss(None, False).reduction == "sum"
    assert nn.KLDivLoss(reduction="batchmean").reduction == "batchmean"
    with pytest.raises(ValueError):
        nn.MSELoss(reduction="batchmean")
    assert "weight" in nn.BCELoss(weight=cr.ones(3)).state_dict()


# ---- without PyTorch: closed forms and gradchecks -----------------------------------------------------
def test_prelu_learns_its_slope():
    m = nn.PReLU(2, init=0.5).double()
    x = leaf(np.array([[-2.0, 3.0], [1.0, -4.0]]))
    y = m(x)
    assert to_np(y).tolist() == [[-1.0, 3.0], [1.0, -2.0]]
    y.sum().backward()
    assert to_np(m.weight.grad).tolist() == [-2.0, -4.0]
    gradcheck(lambda w: nn.functional.prelu(cr.tensor(rand(3, 2, seed=3)), w), np.array([0.2, 0.7]))


@pytest.mark.parametrize(
    "build,shape",
    [
        (lambda: nn.Bilinear(2, 3, 2), None),
        (lambda: nn.RMSNorm(3), (2, 3)),
        (lambda: nn.GroupNorm(2, 4), (2, 4, 3)),
        (lambda: nn.InstanceNorm1d(2, affine=True), (2, 2, 4)),
        (lambda: nn.LocalResponseNorm(2), (1, 3, 4)),
        (lambda: nn.Upsample(size=5, mode="linear"), (1, 2, 3)),
        (lambda: nn.ReflectionPad1d((2, 1)), (1, 2, 4)),
    ],
)
def test_module_gradcheck(build, shape):
    m = build().double()
    if isinstance(m, nn.Bilinear):
        gradcheck(lambda a, b: m(a, b), rand(3, 2, seed=1), rand(3, 3, seed=2))
        w = cr.tensor(rand(3, 2, seed=1))
        gradcheck(lambda weight: nn.functional.bilinear(w, w[:, :1] * 2, weight), rand(4, 2, 1, seed=5))
        return
    gradcheck(lambda x: m(x), rand(*shape, seed=3))


def test_rms_norm_and_group_norm_closed_forms():
    y = nn.RMSNorm(2, eps=0.0)(cr.tensor(np.array([[3.0, 4.0]])))
    np.testing.assert_allclose(to_np(y), [[3 / np.sqrt(12.5), 4 / np.sqrt(12.5)]])
    g = nn.GroupNorm(1, 2, eps=0.0)(cr.tensor(np.array([[[1.0], [3.0]]])))
    np.testing.assert_allclose(to_np(g).ravel(), [-1.0, 1.0])
    with pytest.raises(ValueError, match="divisible"):
        nn.GroupNorm(3, 4)


def test_instance_norm_tracks_running_stats_and_uses_them_in_eval():
    m = nn.InstanceNorm1d(1, track_running_stats=True, momentum=0.5).double()
    x = cr.tensor(np.array([[[1.0, 3.0]], [[5.0, 9.0]]]))
    m(x)
    # per-instance means 2 and 7, unbiased variances 2 and 8, averaged over the batch
    np.testing.assert_allclose(to_np(m.running_mean), [0.5 * 4.5])
    np.testing.assert_allclose(to_np(m.running_var), [0.5 + 0.5 * 5.0])
    m.eval()
    y = m(cr.tensor(np.array([[[2.25, 4.25]]])))
    np.testing.assert_allclose(to_np(y), [[[0.0, 2.0 / np.sqrt(3.0 + 1e-5)]]])
    assert list(m.state_dict()) == ["running_mean", "running_var", "num_batches_tracked"]
    with pytest.raises(ValueError, match="2D or 3D"):
        m(cr.zeros(1, 1, 2, 2))
    with pytest.raises(ValueError, match="num_features"):
        nn.InstanceNorm1d(2, affine=True)(cr.zeros(1, 3, 4))


def test_dropout_modules_follow_training_mode():
    cr.manual_seed(0)
    x = cr.tensor(np.ones((4, 8, 6)))
    for m in (nn.Dropout1d(0.5), nn.Dropout2d(0.5), nn.AlphaDropout(0.5), nn.FeatureAlphaDropout(0.5)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert not np.array_equal(to_np(m(x)), to_np(x))
            assert m.eval()(x) is x
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout2d(1.5)


def test_unflatten_and_padding_modules_closed_forms():
    assert nn.Unflatten(1, (2, -1))(cr.zeros(3, 6)).shape == (3, 2, 3)
    assert nn.Unflatten(-1, [2, 2])(cr.zeros(4)).shape == (2, 2)
    with pytest.raises(TypeError, match="tuple of ints"):
        nn.Unflatten(1, 6)
    with pytest.raises(ValueError, match="multiply"):
        nn.Unflatten(1, (4, 2))(cr.zeros(3, 6))
    x = cr.tensor(np.array([[[1.0, 2.0]]]))
    assert nn.ConstantPad1d((1, 0), 9.0)(x).tolist() == [[[9.0, 1.0, 2.0]]]
    assert nn.ReplicationPad1d(1)(x).tolist() == [[[1.0, 1.0, 2.0, 2.0]]]
    assert nn.CircularPad1d(1)(x).tolist() == [[[2.0, 1.0, 2.0, 1.0]]]
    assert nn.ZeroPad2d(1)(cr.ones(1, 1, 1)).tolist() == [[[0.0] * 3, [0.0, 1.0, 0.0], [0.0] * 3]]
    with pytest.raises(ValueError, match="2D or 3D"):
        nn.CircularPad1d(1)(cr.zeros(3))


def test_upsample_fold_and_shuffle_modules():
    x = cr.tensor(np.array([[[1.0, 2.0]]]))
    assert nn.Upsample(scale_factor=2)(x).tolist() == [[[1.0, 1.0, 2.0, 2.0]]]
    np.testing.assert_allclose(
        to_np(nn.Upsample(size=3, mode="linear", align_corners=True)(x)), [[[1.0, 1.5, 2.0]]]
    )
    img = cr.tensor(rand(1, 2, 4, 4, seed=5))
    cols = nn.Unfold(2, stride=2)(img)
    np.testing.assert_array_equal(
        to_np(nn.Fold((4, 4), 2, stride=2)(cols)), to_np(img)
    )  # blocks tile exactly
    np.testing.assert_array_equal(
        to_np(nn.PixelUnshuffle(2)(nn.PixelShuffle(2)(img.reshape(1, 8, 2, 2)))),
        to_np(img).reshape(1, 8, 2, 2),
    )


def test_activation_modules_inplace_and_errors():
    a = leaf(np.array([-2.0, 0.5, 3.0]))
    x = a * 1.0
    assert nn.ReLU6(inplace=True)(x) is x and x.tolist() == [0.0, 0.5, 3.0]
    assert nn.Hardtanh(-1, 1)(cr.tensor([-3.0, 3.0])).tolist() == [-1.0, 1.0]
    with pytest.raises(ValueError, match="greater than min_val"):
        nn.Hardtanh(1.0, -1.0)
    with pytest.warns(FutureWarning):
        assert nn.Hardtanh(min_value=-2.0).min_val == -2.0
    assert nn.LogSigmoid()(cr.tensor([0.0])).item() == pytest.approx(-np.log(2))
    assert nn.Softmin(0)(cr.tensor([0.0, 0.0])).tolist() == [0.5, 0.5]
    with pytest.raises(ValueError, match="3D or 4D"):
        nn.Softmax2d()(cr.zeros(2, 2))


def test_distance_modules():
    a, b = cr.tensor(np.array([[3.0, 4.0]])), cr.tensor(np.array([[0.0, 0.0]]))
    assert nn.PairwiseDistance(eps=0.0)(a, b).tolist() == [5.0]
    assert nn.PairwiseDistance(p=1.0, eps=0.0, keepdim=True)(a, b).tolist() == [[7.0]]
    assert nn.CosineSimilarity(dim=1)(a, a).tolist() == [pytest.approx(1.0)]


# ---- ParameterList / ParameterDict --------------------------------------------------------------------
def test_parameter_list_registers_parameters_under_indices():
    pl = nn.ParameterList([nn.Parameter(cr.zeros(2)), cr.ones(3)])  # a plain tensor becomes a Parameter
    assert isinstance(pl[1], nn.Parameter) and pl[1].requires_grad
    pl.append(cr.zeros(1, 2))
    pl.extend([nn.Parameter(cr.ones(4))])
    pl += [cr.ones(5)]
    assert len(pl) == 5 and [k for k, _ in pl.named_parameters()] == ["0", "1", "2", "3", "4"]
    assert list(pl.state_dict()) == ["0", "1", "2", "3", "4"]
    assert pl[-1].shape == (5,) and isinstance(pl[1:3], nn.ParameterList) and len(pl[1:3]) == 2
    pl[0] = cr.ones(7)
    assert pl[0].shape == (7,) and isinstance(pl[0], nn.Parameter)
    pl.append("not a tensor")
    assert pl[5] == "not a tensor" and len(list(pl.parameters())) == 5
    with pytest.raises(IndexError):
        pl[6]
    with pytest.raises(TypeError, match="iterable"):
        pl.extend(cr.zeros(2))
    with pytest.raises(RuntimeError, match="should not be called"):
        pl(1)
    model = nn.Module()
    model.params = pl
    assert [k for k, _ in model.named_parameters()] == [f"params.{i}" for i in range(5)]
    model.double()
    assert all(p.dtype == cr.float64 for p in pl.parameters()) and pl[0] is model.params[0]


def test_parameter_dict_registers_parameters_under_keys():
    pd = nn.ParameterDict({"b": cr.zeros(2), "a": nn.Parameter(cr.ones(3))})  # a dict is taken sorted
    assert list(pd.keys()) == ["a", "b"] and isinstance(pd["b"], nn.Parameter)
    pd["c"] = cr.ones(1)
    pd.update([("d", cr.zeros(4))])
    assert list(pd.state_dict()) == ["a", "b", "c", "d"] == [k for k, _ in pd.named_parameters()]
    assert "c" in pd and len(pd) == 4 and pd.get("zz") is None
    assert pd.pop("c").shape == (1,) and "c" not in pd and "c" not in dict(pd.named_parameters())
    del pd["d"]
    assert list(pd) == ["a", "b"]
    k, v = pd.popitem()
    assert k == "b" and v.shape == (2,)
    assert pd.setdefault("e", cr.zeros(2)).shape == (2,)
    merged = pd | nn.ParameterDict({"f": cr.ones(1)})
    assert list(merged) == ["a", "e", "f"] and merged["a"] is pd["a"]
    assert list(pd.copy()) == ["a", "e"] and pd.copy()["a"] is pd["a"]
    with pytest.raises(TypeError, match="not a string"):
        pd[1] = cr.zeros(1)
    with pytest.raises(KeyError):
        pd["x.y"] = cr.zeros(1)
    assert "x.y" not in pd
    with pytest.raises(KeyError):
        pd["missing"]
    pd.clear()
    assert len(pd) == 0 and list(pd.parameters()) == []


def test_parameter_containers_load_state_dict_and_deepcopy():
    model = nn.Sequential(nn.Linear(2, 2), nn.ParameterList([cr.zeros(3)]))
    model.extra = nn.ParameterDict({"scale": cr.ones(2)})
    sd = {k: v.detach().clone() + 1 for k, v in model.state_dict().items()}
    model.load_state_dict(sd)
    assert to_np(model[1][0]).tolist() == [1.0, 1.0, 1.0] and to_np(model.extra["scale"]).tolist() == [
        2.0,
        2.0,
    ]
    clone = copy.deepcopy(model)
    assert clone[1][0] is not model[1][0] and to_np(clone[1][0]).tolist() == [1.0, 1.0, 1.0]


def test_parameter_container_keys_match_torch(torch):
    def build(m, t):
        seq = m.Sequential(m.Linear(2, 2), m.ParameterList([t.zeros(3), t.zeros(1)]))
        seq.extra = m.ParameterDict({"w": t.zeros(2), "a": t.zeros(1)})
        return seq

    ours, theirs = build(nn, cr), build(torch.nn, torch)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [k for k, _ in ours.named_parameters()] == [k for k, _ in theirs.named_parameters()]
    assert repr(ours) == repr(theirs).replace("torch.", "chainrule.")


# ---- Embedding options --------------------------------------------------------------------------------
def test_embedding_module_options_match_torch(torch):
    mod = nn.Embedding(5, 3, padding_idx=1, max_norm=1.2, norm_type=1.5, scale_grad_by_freq=True).double()
    tmod = torch.nn.Embedding(
        5, 3, padding_idx=1, max_norm=1.2, norm_type=1.5, scale_grad_by_freq=True
    ).double()
    _load_from_torch(mod, tmod)
    idx = np.array([[1, 2, 2], [4, 0, 2]])
    yc, yt = mod(cr.tensor(idx)), tmod(torch.tensor(idx))
    np.testing.assert_allclose(to_np(yc), yt.detach().numpy(), **TIGHT)
    np.testing.assert_allclose(to_np(mod.weight), tmod.weight.detach().numpy(), **TIGHT)
    g = rand(2, 3, 3, seed=90)
    yc.backward(cr.tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(to_np(mod.weight.grad), tmod.weight.grad.numpy(), **TIGHT)


def test_embedding_from_pretrained_and_sparse():
    w = cr.tensor(np.arange(6.0).reshape(3, 2))
    e = nn.Embedding.from_pretrained(w, padding_idx=0, max_norm=100.0)
    assert not e.weight.requires_grad and e.max_norm == 100.0 and e.padding_idx == 0
    assert to_np(e(cr.tensor([2]))).tolist() == [[4.0, 5.0]]
    assert nn.Embedding.from_pretrained(w, freeze=False).weight.requires_grad
    with pytest.raises(NotImplementedError, match="sparse"):
        nn.Embedding(3, 2, sparse=True)


# ---- errors ------------------------------------------------------------------------------------------
MODULE_ERRORS = [
    ("triplet_margin", lambda m, t: m.TripletMarginLoss(margin=0)),
    ("bilinear_in1", lambda m, t: m.Bilinear(0, 2, 3)),
    ("softmax2d_dims", lambda m, t: m.Softmax2d()(t.zeros(2, 2))),
    ("parameter_list_call", lambda m, t: m.ParameterList()(1)),
    ("parameter_dict_key", lambda m, t: m.ParameterDict().__setitem__(1, t.zeros(1))),
    ("group_norm_groups", lambda m, t: m.GroupNorm(3, 4)),
    ("dropout_p", lambda m, t: m.Dropout1d(-0.1)),
    ("multi_margin_p", lambda m, t: m.MultiMarginLoss(p=3)),
    ("multi_margin_weight", lambda m, t: m.MultiMarginLoss(weight=t.ones(2, 2))),
    ("unflatten_int", lambda m, t: m.Unflatten(1, 6)),
    ("unflatten_float", lambda m, t: m.Unflatten(1, (2.0, 3))),
    ("unflatten_sizes", lambda m, t: m.Unflatten(1, (4, 2))(t.zeros(3, 6))),
    ("instance_norm_features", lambda m, t: m.InstanceNorm1d(2, affine=True)(t.zeros(1, 3, 4))),
    ("instance_norm_dims", lambda m, t: m.InstanceNorm1d(2)(t.zeros(1, 3, 4, 4))),
    ("circular_pad_dims", lambda m, t: m.CircularPad1d(1)(t.zeros(3))),
    ("upsample_no_size", lambda m, t: m.Upsample()(t.zeros(1, 1, 3))),
    ("fold_channels", lambda m, t: m.Fold(3, 2)(t.zeros(1, 5, 4))),
    ("prelu_channels", lambda m, t: m.PReLU(3)(t.zeros(2, 4))),
    ("rms_norm_shape", lambda m, t: m.RMSNorm(3)(t.zeros(2, 4))),
    ("flatten_dims", lambda m, t: m.Flatten(2, 1)(t.zeros(2, 4, 3))),
    ("hardtanh_bounds", lambda m, t: m.Hardtanh(1.0, -1.0)),
    ("embedding_padding_idx", lambda m, t: m.Embedding(3, 2, padding_idx=5)),
]


@pytest.mark.parametrize("name,call", MODULE_ERRORS, ids=[e[0] for e in MODULE_ERRORS])
def test_module_errors_raise_pytorchs_exception_type(torch, name, call):
    with pytest.raises(Exception) as theirs:
        call(torch.nn, torch)
    with pytest.raises(Exception) as ours:
        call(nn, cr)
    if isinstance(theirs.value, AssertionError):
        # PyTorch asserts (Hardtanh bounds, Embedding padding_idx); chainrule raises ValueError
        assert isinstance(ours.value, ValueError)
    else:
        assert isinstance(ours.value, type(theirs.value)), (ours.value, theirs.value)


@pytest.mark.parametrize("name,call", MODULE_ERRORS, ids=[e[0] for e in MODULE_ERRORS])
def test_module_errors_without_torch(name, call):
    with pytest.raises((ValueError, TypeError, IndexError, RuntimeError)):
        call(nn, cr)
