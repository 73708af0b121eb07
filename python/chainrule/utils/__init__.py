"""Utilities for training loops: data loading (chainrule.utils.data), gradient-flow diagnostics
(chainrule.utils.gradflow)."""

from chainrule.utils import data, gradflow

__all__ = ["data", "gradflow"]
