"""Optimizers (fused multi-tensor C++ steps) and learning-rate schedulers, as torch.optim."""

from chainrule.optim.optimizer import Optimizer
from chainrule.optim.sgd import SGD
from chainrule.optim.adam import Adam
from chainrule.optim.adamw import AdamW
from chainrule.optim.rmsprop import RMSprop
from chainrule.optim.adagrad import Adagrad
from chainrule.optim import lr_scheduler

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "lr_scheduler"]
