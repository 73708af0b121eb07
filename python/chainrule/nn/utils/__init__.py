"""Training utilities: gradient clipping, parameter/vector conversion, parametrizations
(parametrize, parametrizations.weight_norm / spectral_norm) and the older hook-based
weight_norm / spectral_norm."""

from chainrule.nn.utils import parametrizations, parametrize, rnn
from chainrule.nn.utils.clip_grad import clip_grad_norm_, clip_grad_value_
from chainrule.nn.utils.convert_parameters import parameters_to_vector, vector_to_parameters
from chainrule.nn.utils.spectral_norm import remove_spectral_norm, spectral_norm
from chainrule.nn.utils.weight_norm import remove_weight_norm, weight_norm

__all__ = [
    "clip_grad_norm_",
    "clip_grad_value_",
    "parameters_to_vector",
    "vector_to_parameters",
    "parametrize",
    "parametrizations",
    "rnn",
    "weight_norm",
    "remove_weight_norm",
    "spectral_norm",
    "remove_spectral_norm",
]

from typing import TYPE_CHECKING as _TYPE_CHECKING

from chainrule._missing import module_getattr as _module_getattr

if not _TYPE_CHECKING:  # a name PyTorch has and chainrule lacks says so (see docs/api-coverage.md)
    __getattr__ = _module_getattr(__name__, "torch.nn.utils")
