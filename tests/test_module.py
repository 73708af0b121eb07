"""Module mechanics: registration, traversal, modes, conversion, hooks, state_dict, repr.

These use modules whose parameters need no random init (custom ones, BatchNorm, LayerNorm)."""

import copy
import pickle

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn
from chainrule.nn import Parameter
from helpers import to_np


class Affine(nn.Module):
    def __init__(self, n, bias=True):
        super().__init__()
        self.weight = Parameter(cr.ones(n))
        self.bias = Parameter(cr.zeros(n)) if bias else None
        self.register_buffer("steps", cr.zeros((), dtype=cr.int64))
        self.register_buffer("scratch", cr.zeros(n), persistent=False)

    def forward(self, x):
        y = x * self.weight
        return y + self.bias if self.bias is not None else y


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = Affine(3)
        self.bn = nn.BatchNorm1d(3)
        self.blocks = nn.Sequential(nn.LayerNorm(3), nn.Identity(), Affine(3, bias=False))

    def forward(self, x):
        return self.blocks(self.bn(self.a(x)))


# ---- Parameter ---------------------------------------------------------------------------------
def test_parameter_shares_data_and_is_a_leaf_requiring_grad():
    t = cr.zeros(2)
    p = Parameter(t)
    assert isinstance(p, cr.Tensor) and p.requires_grad and p.is_leaf
    np.asarray(t)[0] = 5.0
    assert to_np(p)[0] == 5.0
    assert not Parameter(cr.zeros(2), requires_grad=False).requires_grad


def test_parameter_repr_and_copies_keep_the_type():
    p = Parameter(cr.tensor([1.0, 2.0]))
    assert repr(p) == "Parameter containing:\ntensor([1., 2.], requires_grad=True)"
    assert isinstance(copy.deepcopy(p), Parameter)
    q = pickle.loads(pickle.dumps(p))
    assert isinstance(q, Parameter) and q.requires_grad and to_np(q).tolist() == [1.0, 2.0]


# ---- registration ------------------------------------------------------------------------------
def test_setattr_registers_parameters_buffers_and_modules():
    m = Affine(2)
    assert list(m._parameters) == ["weight", "bias"]
    assert list(m._buffers) == ["steps", "scratch"]
    net = Net()
    assert list(net._modules) == ["a", "bn", "blocks"]
    assert net.a is net._modules["a"] and net.bn.running_mean is net.bn._buffers["running_mean"]


def test_assigning_plain_tensor_to_parameter_name_raises_type_error():
    m = Affine(2)
    with pytest.raises(TypeError, match="cannot assign 'Tensor' as parameter 'weight'"):
        m.weight = cr.ones(2)
    m.weight = None
    assert m.weight is None and "weight" in m._parameters


def test_registration_before_init_and_bad_names_raise():
    class Bad(nn.Module):
        def __init__(self):
            self.w = Parameter(cr.ones(1))

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Bad()
    m = nn.Module()
    with pytest.raises(KeyError, match="contain"):
        m.register_buffer("a.b", cr.ones(1))
    m.x = 3
    with pytest.raises(KeyError, match="already exists"):
        m.register_parameter("x", Parameter(cr.ones(1)))
    with pytest.raises(TypeError, match="parameter 'p'"):
        m.register_parameter("p", cr.ones(1))
    with pytest.raises(TypeError, match="is not a Module subclass"):
        m.add_module("c", 3)


def test_getattr_and_delattr_reach_registered_members():
    m = Affine(2)
    assert isinstance(m.weight, Parameter)
    del m.weight
    assert "weight" not in m._parameters
    with pytest.raises(AttributeError, match="'Affine' object has no attribute 'weight'"):
        _ = m.weight
    del m.steps
    assert "steps" not in m._buffers
    assert "bias" in dir(m) and "scratch" in dir(m)


# ---- traversal ---------------------------------------------------------------------------------
def test_named_parameters_use_dotted_names_in_registration_order():
    names = [n for n, _ in Net().named_parameters()]
    assert names == [
        "a.weight",
        "a.bias",
        "bn.weight",
        "bn.bias",
        "blocks.0.weight",
        "blocks.0.bias",
        "blocks.2.weight",
    ]
    assert [n for n, _ in Net().named_parameters(prefix="model", recurse=False)] == []


def test_shared_parameters_and_modules_are_listed_once():
    shared = Affine(2)
    seq = nn.Sequential(shared, nn.ReLU(), shared)
    assert len(list(seq.parameters())) == 2
    assert [n for n, _ in seq.named_modules()] == ["", "0", "1"]
    m = nn.Module()
    m.p = Parameter(cr.ones(1))
    m.q = m.p
    assert [n for n, _ in m.named_parameters()] == ["p"]
    assert len(list(m.named_parameters(remove_duplicate=False))) == 2


def test_buffers_children_and_modules():
    net = Net()
    assert [n for n, _ in net.named_buffers()] == [
        "a.steps",
        "a.scratch",
        "bn.running_mean",
        "bn.running_var",
        "bn.num_batches_tracked",
        "blocks.2.steps",
        "blocks.2.scratch",
    ]
    assert [n for n, _ in net.named_children()] == ["a", "bn", "blocks"]
    assert len(list(net.modules())) == 7
    assert net.get_submodule("blocks.2") is net.blocks[2]
    assert net.get_parameter("blocks.0.weight") is net.blocks[0].weight
    with pytest.raises(AttributeError, match="has no attribute `nope`"):
        net.get_submodule("blocks.nope")


# ---- modes, grads, conversion ------------------------------------------------------------------
def test_train_and_eval_propagate_to_all_submodules():
    net = Net()
    assert net.eval() is net
    assert all(not m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    with pytest.raises(ValueError, match="boolean"):
        net.train("yes")


def test_zero_grad_sets_none_or_zeros():
    m = Affine(2)
    (m(cr.ones(2)).sum()).backward()
    assert m.weight.grad is not None
    m.zero_grad(set_to_none=False)
    assert to_np(m.weight.grad).tolist() == [0.0, 0.0]
    m.zero_grad()
    assert m.weight.grad is None and m.bias.grad is None


def test_to_double_converts_float_params_and_buffers_in_place_keeping_identity():
    net = Net()
    w = net.a.weight
    rm = net.bn.running_mean
    assert net.double() is net
    assert net.a.weight is w and isinstance(w, Parameter) and w.dtype == cr.float64 and w.requires_grad
    assert net.bn.running_mean is rm and rm.dtype == cr.float64
    assert net.bn.num_batches_tracked.dtype == cr.int64
    y = net(cr.tensor(np.ones((4, 3))))
    assert y.dtype == cr.float64
    net.to(cr.float32)
    assert w.dtype == cr.float32
    with pytest.raises(TypeError, match="floating point dtypes"):
        net.to(cr.int64)


def test_apply_visits_children_before_parent():
    seen = []
    Net().apply(lambda m: seen.append(type(m).__name__))
    assert seen[-1] == "Net" and seen.index("LayerNorm") < seen.index("Sequential")
    assert seen.count("Affine") == 2


def test_requires_grad_toggles_every_parameter():
    net = Net().requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())


# ---- hooks -------------------------------------------------------------------------------------
def test_forward_pre_hook_can_replace_input_and_forward_hook_can_replace_output():
    m = Affine(2)
    calls = []
    h1 = m.register_forward_pre_hook(lambda mod, args: (args[0] * 2,))
    h2 = m.register_forward_hook(lambda mod, args, out: calls.append(to_np(out).tolist()))
    assert to_np(m(cr.ones(2))).tolist() == [2.0, 2.0]
    assert calls == [[2.0, 2.0]]
    h3 = m.register_forward_hook(lambda mod, args, out: out + 1)
    assert to_np(m(cr.ones(2))).tolist() == [3.0, 3.0]
    for h in (h1, h2, h3):
        h.remove()
    assert to_np(m(cr.ones(2))).tolist() == [1.0, 1.0]
    assert len(calls) == 2


def test_hook_handle_works_as_context_manager():
    m = Affine(1)
    with m.register_forward_hook(lambda mod, a, out: out * 0):
        assert to_np(m(cr.ones(1))).tolist() == [0.0]
    assert to_np(m(cr.ones(1))).tolist() == [1.0]


# ---- state_dict --------------------------------------------------------------------------------
def test_state_dict_keys_follow_pytorch_naming_and_skip_non_persistent_buffers():
    keys = list(Net().state_dict())
    assert keys == [
        "a.weight",
        "a.bias",
        "a.steps",
        "bn.weight",
        "bn.bias",
        "bn.running_mean",
        "bn.running_var",
        "bn.num_batches_tracked",
        "blocks.0.weight",
        "blocks.0.bias",
        "blocks.2.weight",
        "blocks.2.steps",
    ]


def test_state_dict_values_are_detached_unless_keep_vars():
    net = Net()
    sd = net.state_dict()
    assert not sd["a.weight"].requires_grad
    assert net.state_dict(keep_vars=True)["a.weight"] is net.a.weight


def test_load_state_dict_round_trip_copies_values_in_place():
    src, dst = Net().double(), Net().double()
    for i, p in enumerate(src.parameters()):
        nn.init.constant_(p, float(i + 1))
    src.bn(cr.tensor(np.arange(12.0).reshape(4, 3)))
    w = dst.a.weight
    result = dst.load_state_dict(src.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert dst.a.weight is w
    for (k, a), b in zip(src.state_dict().items(), dst.state_dict().values()):
        np.testing.assert_array_equal(to_np(a), to_np(b), err_msg=k)


def test_load_state_dict_strict_reports_missing_and_unexpected_keys():
    net = Net()
    sd = net.state_dict()
    del sd["bn.running_var"]
    sd["extra.weight"] = cr.ones(1)
    with pytest.raises(
        RuntimeError,
        match=r'Missing key\(s\) in state_dict: "bn.running_var"(.|\n)*'
        r'Unexpected key\(s\) in state_dict: "extra.weight"',
    ):
        net.load_state_dict(sd)
    result = net.load_state_dict(sd, strict=False)
    assert result.missing_keys == ["bn.running_var"] and result.unexpected_keys == ["extra.weight"]


def test_load_state_dict_shape_mismatch_names_key_and_shapes_and_writes_nothing():
    net = Net()
    sd = net.state_dict()
    sd = {k: (cr.ones(*v.shape) * 7.0 if k == "a.weight" else v) for k, v in sd.items()}
    sd["bn.bias"] = cr.zeros(4)
    with pytest.raises(ValueError, match=r"bn.bias.*\(4,\).*\(3,\)"):
        net.load_state_dict(sd)
    assert to_np(net.a.weight).tolist() == [1.0, 1.0, 1.0]


# ---- repr --------------------------------------------------------------------------------------
def test_repr_nests_children_like_pytorch():
    assert repr(Net()) == (
        "Net(\n"
        "  (a): Affine()\n"
        "  (bn): BatchNorm1d(3, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)\n"
        "  (blocks): Sequential(\n"
        "    (0): LayerNorm((3,), eps=1e-05, elementwise_affine=True, bias=True)\n"
        "    (1): Identity()\n"
        "    (2): Affine()\n"
        "  )\n"
        ")"
    )


def test_module_list_repr_groups_repeated_modules():
    ml = nn.ModuleList([nn.ReLU(), nn.ReLU(), nn.ReLU(), nn.LayerNorm(2)])
    assert repr(ml) == (
        "ModuleList(\n  (0-2): 3 x ReLU()\n"
        "  (3): LayerNorm((2,), eps=1e-05, elementwise_affine=True, bias=True)\n)"
    )


# ---- containers --------------------------------------------------------------------------------
def test_sequential_indexing_slicing_append_and_iteration():
    a, b, c = nn.Identity(), nn.ReLU(), nn.Flatten()
    seq = nn.Sequential(a, b)
    assert len(seq) == 2 and seq[0] is a and seq[-1] is b and list(seq) == [a, b]
    seq.append(c)
    sub = seq[1:]
    assert isinstance(sub, nn.Sequential) and list(sub) == [b, c]
    del seq[0]
    assert list(seq._modules) == ["0", "1"] and seq[0] is b
    with pytest.raises(IndexError, match="out of range"):
        seq[5]


def test_module_list_and_dict_register_their_modules():
    ml = nn.ModuleList([Affine(1), Affine(1)])
    ml.append(Affine(1))
    assert len(list(ml.parameters())) == 6 and list(ml.state_dict())[0] == "0.weight"
    md = nn.ModuleDict({"x": Affine(1), "y": nn.ReLU()})
    assert list(md.keys()) == ["x", "y"] and "x" in md
    assert list(md.state_dict()) == ["x.weight", "x.bias", "x.steps"]


def test_flatten_merges_the_requested_dims():
    x = cr.zeros(2, 3, 4, 5)
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Flatten(0, 1)(x).shape == (6, 4, 5)
    assert nn.Flatten(-2)(x).shape == (2, 3, 20)


def test_identity_and_sequential_forward_compose():
    net = nn.Sequential(nn.Identity(), nn.LayerNorm(2), nn.Flatten(0))
    assert to_np(net(cr.tensor([[1.0, 3.0]]))).round(3).tolist() == [-1.0, 1.0]


def test_dropout_eval_is_identity_and_rejects_bad_p():
    d = nn.Dropout(0.3).eval()
    x = cr.ones(4)
    assert d(x) is x
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)


def test_deepcopy_of_module_copies_parameters():
    net = Net()
    clone = copy.deepcopy(net)
    assert clone.a.weight is not net.a.weight and isinstance(clone.a.weight, Parameter)
    nn.init.constant_(clone.a.weight, 3.0)
    assert to_np(net.a.weight).tolist() == [1.0, 1.0, 1.0]


def test_state_dict_keys_equal_pytorch_for_same_architecture(torch):
    c = nn.Sequential(nn.BatchNorm1d(4), nn.LayerNorm(4), nn.ModuleList([nn.BatchNorm1d(4)]))
    t = torch.nn.Sequential(
        torch.nn.BatchNorm1d(4), torch.nn.LayerNorm(4), torch.nn.ModuleList([torch.nn.BatchNorm1d(4)])
    )
    assert list(c.state_dict()) == list(t.state_dict())
    assert repr(c) == repr(t)
