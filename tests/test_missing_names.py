"""chainrule._missing.module_getattr: a module's missing attributes say whether PyTorch has them."""

from __future__ import annotations

import sys
import types

import pytest

from chainrule._missing import COVERAGE_DOC, PYTORCH_API, module_getattr, pytorch_names


@pytest.fixture
def fake_module():
    """A throwaway module with the hook installed as chainrule's modules will have it."""
    name = "_chainrule_missing_probe"
    mod = types.ModuleType(name)
    mod.present = 1
    mod.__getattr__ = module_getattr(name, "torch")
    sys.modules[name] = mod
    yield mod
    del sys.modules[name]


@pytest.fixture
def fake_nn():
    name = "_chainrule_missing_probe_nn"
    mod = types.ModuleType(name)
    mod.__getattr__ = module_getattr(name, "torch.nn")
    sys.modules[name] = mod
    yield mod
    del sys.modules[name]


def test_listed_pytorch_name_is_reported_as_not_yet_implemented(fake_module):
    assert "einsum" in pytorch_names("torch")
    with pytest.raises(AttributeError) as e:
        fake_module.einsum  # noqa: B018
    msg = str(e.value)
    assert "has no 'einsum'" in msg
    assert "PyTorch's torch.einsum is not yet implemented" in msg
    assert COVERAGE_DOC in msg


def test_unknown_name_gets_the_usual_message(fake_module):
    with pytest.raises(AttributeError) as e:
        fake_module.not_a_torch_name  # noqa: B018
    assert str(e.value) == "module '_chainrule_missing_probe' has no attribute 'not_a_torch_name'"


def test_hasattr_and_getattr_default_keep_working(fake_module):
    assert hasattr(fake_module, "present")
    assert not hasattr(fake_module, "einsum")
    assert not hasattr(fake_module, "nothing_like_this")
    assert getattr(fake_module, "einsum", None) is None
    assert fake_module.present == 1  # real attributes never reach the hook


def test_from_import_of_a_missing_name_is_an_import_error(fake_module):
    with pytest.raises(ImportError):
        exec("from _chainrule_missing_probe import einsum", {})


def test_dunder_probes_are_plain_attribute_errors(fake_module):
    # Tools probe modules for __path__, __wrapped__, ...; they must get AttributeError.
    for name in ("__path__", "__wrapped__", "_private"):
        assert not hasattr(fake_module, name)


def test_namespaces_and_dotted_names_are_known_by_their_first_part(fake_module, fake_nn):
    with pytest.raises(AttributeError, match=r"PyTorch's torch\.cuda is not yet implemented"):
        fake_module.cuda  # noqa: B018
    with pytest.raises(AttributeError, match=r"PyTorch's torch\.linalg is not yet implemented"):
        fake_module.linalg  # noqa: B018
    with pytest.raises(AttributeError, match=r"PyTorch's torch\.nn\.LSTM is not yet implemented"):
        fake_nn.LSTM  # noqa: B018
    with pytest.raises(AttributeError, match="has no attribute 'einsum'"):
        fake_nn.einsum  # noqa: B018  (a torch name, but not a torch.nn one)


def test_error_carries_name_and_module_for_did_you_mean_hints(fake_module):
    with pytest.raises(AttributeError) as e:
        fake_module.presnt  # noqa: B018
    assert e.value.name == "presnt"
    assert e.value.obj is fake_module


def test_every_group_prefix_has_hookable_children():
    # Each namespace that chainrule mirrors as a module knows the names listed under it.
    for prefix in ("torch", "torch.nn", "torch.nn.functional", "torch.optim", "torch.utils.data"):
        hook = module_getattr("m", prefix)
        listed = pytorch_names(prefix)[0].split(".")[0]
        with pytest.raises(AttributeError, match="not yet implemented"):
            hook(listed)
    assert "torch.Tensor" in PYTORCH_API  # a class, not a module: no hook there


def test_chainrule_autograd_has_the_hook():
    import chainrule as cr

    # every listed torch.autograd name exists now (detect_anomaly was the last); unknown names
    # still get the hook's message
    assert callable(cr.autograd.detect_anomaly) and callable(cr.autograd.set_detect_anomaly)
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        cr.autograd.nope  # noqa: B018
    assert hasattr(cr.autograd, "functional") and hasattr(cr.autograd, "inference_mode")
    assert hasattr(cr.autograd, "forward_ad") and hasattr(cr.autograd, "graph")
