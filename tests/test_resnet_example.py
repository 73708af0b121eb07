"""examples/resnet_digits.py: a small ResNet (Conv2d, BatchNorm2d, skip connections,
adaptive_avg_pool2d) learns scikit-learn's 8x8 digits in a short run."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "resnet_digits.py"


def _load():
    spec = importlib.util.spec_from_file_location("resnet_digits", EXAMPLE)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_resnet_shapes_and_fused_batchnorm():
    mod = _load()
    cr.manual_seed(0)
    model = mod.ResNet()
    y = model(cr.tensor(np.zeros((3, 1, 8, 8), dtype=np.float32)))
    assert tuple(y.shape) == (3, 10)
    block = mod.BasicBlock(4, 8, stride=2)
    out = block.bn2(block.conv2(block.conv1(cr.zeros(2, 4, 8, 8))))
    assert (
        "NativeBatchNormBackward0" in repr(out.grad_fn)
        or type(out.grad_fn).__name__ == "NativeBatchNormBackward0"
    )
    assert tuple(block(cr.zeros(2, 4, 8, 8)).shape) == (2, 8, 4, 4)


def test_short_training_run_is_well_above_chance():
    pytest.importorskip("sklearn")
    acc = _load().train(epochs=2, verbose=False)
    assert acc > 0.8  # chance is 0.1
