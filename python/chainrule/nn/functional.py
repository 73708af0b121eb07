"""Functional forms of activations, softmax and losses (PyTorch's torch.nn.functional)."""
from __future__ import annotations
