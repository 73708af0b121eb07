"""Neural-network building blocks: Module and layers, Parameter, init, functional."""

from chainrule.nn import functional, init, parallel, utils
from chainrule.nn.modules import *  # noqa: F403
from chainrule.nn.modules import __all__ as _modules_all
from chainrule.nn.parameter import Buffer, Parameter

__all__ = ["Buffer", "Parameter", "functional", "init", "parallel", "utils"] + list(_modules_all)

from typing import TYPE_CHECKING as _TYPE_CHECKING

from chainrule._missing import module_getattr as _module_getattr

if not _TYPE_CHECKING:  # a name PyTorch has and chainrule lacks says so (see docs/api-coverage.md)
    __getattr__ = _module_getattr(__name__, "torch.nn")
