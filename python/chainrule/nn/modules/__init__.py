"""Layers: one file per family (module.py holds the Module base class)."""

from chainrule.nn.modules.activation import (
    ELU,
    GELU,
    LeakyReLU,
    LogSoftmax,
    ReLU,
    Sigmoid,
    SiLU,
    Softmax,
    Softplus,
    Tanh,
)
from chainrule.nn.modules.batchnorm import BatchNorm1d, BatchNorm2d
from chainrule.nn.modules.container import ModuleDict, ModuleList, Sequential
from chainrule.nn.modules.dropout import Dropout
from chainrule.nn.modules.flatten import Flatten
from chainrule.nn.modules.linear import Identity, Linear
from chainrule.nn.modules.loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HuberLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
    SmoothL1Loss,
)
from chainrule.nn.modules.module import Module, RemovableHandle
from chainrule.nn.modules.normalization import LayerNorm
from chainrule.nn.modules.residual import Residual
from chainrule.nn.modules.sparse import Embedding

__all__ = [
    "Module",
    "RemovableHandle",
    "Identity",
    "Linear",
    "Sequential",
    "ModuleList",
    "ModuleDict",
    "Flatten",
    "Dropout",
    "Embedding",
    "Residual",
    "BatchNorm1d",
    "BatchNorm2d",
    "LayerNorm",
    "ReLU",
    "LeakyReLU",
    "ELU",
    "GELU",
    "SiLU",
    "Sigmoid",
    "Tanh",
    "Softplus",
    "Softmax",
    "LogSoftmax",
    "MSELoss",
    "L1Loss",
    "HuberLoss",
    "SmoothL1Loss",
    "CrossEntropyLoss",
    "NLLLoss",
    "BCELoss",
    "BCEWithLogitsLoss",
]
