"""Tensor factories implemented in C++ (rand, randn, arange, full, *_like, ...) are re-exported from
``chainrule._core`` by ``chainrule/__init__.py``; this module adds the generator objects."""

from __future__ import annotations

from chainrule._core import Generator, default_generator

__all__: list = ["Generator", "default_generator"]
