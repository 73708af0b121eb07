"""Benchmarks comparing chainrule with micrograd, HIPS autograd and PyTorch: ``python -m benchmarks``."""
