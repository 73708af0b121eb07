"""Neural-network building blocks: Module and layers, Parameter, init, functional."""

from chainrule.nn import functional, init, utils
from chainrule.nn.modules import *  # noqa: F403
from chainrule.nn.modules import __all__ as _modules_all
from chainrule.nn.parameter import Parameter

__all__ = ["Parameter", "functional", "init", "utils"] + list(_modules_all)
