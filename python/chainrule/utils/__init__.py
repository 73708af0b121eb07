"""Utilities for training loops: data loading (chainrule.utils.data)."""

from chainrule.utils import data

__all__ = ["data"]
