"""Optimizers (fused multi-tensor C++ steps) and learning-rate schedulers, as torch.optim."""

from chainrule.optim import lr_scheduler
from chainrule.optim.adadelta import Adadelta
from chainrule.optim.adagrad import Adagrad
from chainrule.optim.adam import Adam
from chainrule.optim.adamax import Adamax
from chainrule.optim.adamw import AdamW
from chainrule.optim.lbfgs import LBFGS
from chainrule.optim.nadam import NAdam
from chainrule.optim.optimizer import Optimizer
from chainrule.optim.radam import RAdam
from chainrule.optim.rmsprop import RMSprop
from chainrule.optim.sgd import SGD

__all__ = [
    "Optimizer",
    "SGD",
    "Adam",
    "AdamW",
    "RMSprop",
    "Adagrad",
    "NAdam",
    "RAdam",
    "Adamax",
    "Adadelta",
    "LBFGS",
    "lr_scheduler",
]

from typing import TYPE_CHECKING as _TYPE_CHECKING

from chainrule._missing import module_getattr as _module_getattr

if not _TYPE_CHECKING:  # a name PyTorch has and chainrule lacks says so (see docs/api-coverage.md)
    __getattr__ = _module_getattr(__name__, "torch.optim")
