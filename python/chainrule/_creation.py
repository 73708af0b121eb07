"""Tensor factories implemented in Python (random tensors, ranges, *_like)."""
from __future__ import annotations

__all__: list = []
