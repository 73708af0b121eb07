"""The part of PyTorch's API that training loops use, and helpful errors for the names chainrule lacks.

``PYTORCH_API`` is a curated list of what CPU training code reaches for (tutorials, character-level
language models, small GPTs, ResNets and LSTMs): functions, dtypes and utilities of ``torch``,
``Tensor`` methods and properties, ``torch.nn`` and its functional, init and utils parts, optimizers
and schedulers, autograd, data loading and the few ``torch.cuda`` queries that device-agnostic code
makes. CUDA internals, distributed training, quantization, sparse and complex tensors and the JIT
are left out. ``scripts/api_coverage.py`` checks each name against chainrule and writes
``docs/api-coverage.md``.

``module_getattr`` makes a module's missing attributes say whether PyTorch has them: a listed name
gets "not yet implemented" and a pointer to the coverage page, anything else Python's usual message.
"""

from __future__ import annotations

import sys
from typing import Any, Callable

__all__ = ["PYTORCH_API", "pytorch_names", "module_getattr", "COVERAGE_DOC"]

COVERAGE_DOC = "docs/api-coverage.md"

# Group (a PyTorch namespace) -> names in it, whitespace separated; ``#`` starts a comment. A dotted
# name reaches into a submodule or class of the namespace (``rnn.pad_sequence``, ``Module.train``).
PYTORCH_API: dict[str, str] = {
    "torch": """
        # tensors and creation
        Tensor Size tensor as_tensor from_numpy is_tensor numel
        zeros ones empty full zeros_like ones_like empty_like full_like
        arange linspace eye rand randn randint randperm rand_like randn_like randint_like
        # dtypes and devices
        dtype float32 float64 float16 bfloat16 int64 int32 int16 int8 uint8 bool
        float double half long int
        finfo get_default_dtype set_default_dtype is_floating_point device
        # random numbers
        Generator manual_seed seed initial_seed get_rng_state set_rng_state default_generator
        multinomial normal bernoulli
        # grad mode, threads, checkpoints, printing
        no_grad enable_grad set_grad_enabled is_grad_enabled inference_mode is_inference_mode_enabled
        set_num_threads get_num_threads save load set_printoptions use_deterministic_algorithms compile
        accelerator.is_available accelerator.current_accelerator backends.mps.is_available
        # elementwise math
        abs neg exp log log1p log2 log10 expm1 sqrt rsqrt sin cos tan tanh
        atan2 sigmoid relu pow add sub mul div true_divide floor_divide remainder fmod
        clamp clip sign floor ceil round trunc reciprocal square erf lerp hypot
        maximum minimum where
        # reductions and scans
        sum mean std var prod max min amax amin argmax argmin logsumexp norm
        cumsum cumprod all any topk sort argsort median unique count_nonzero
        # comparison
        eq ne gt ge lt le equal allclose isclose isnan isinf isfinite
        # linear algebra
        matmul mm bmm mv dot outer einsum addmm
        linalg.norm linalg.vector_norm linalg.inv linalg.solve linalg.svd
        # shape and indexing
        cat concat stack hstack vstack split chunk unbind reshape flatten squeeze unsqueeze
        transpose permute t narrow select gather scatter index_select masked_fill masked_select
        take_along_dim flip roll repeat_interleave tile broadcast_to meshgrid movedim nonzero
        diag diagonal tril triu bincount searchsorted
        clone detach
        # nn-style functions at the top level
        softmax log_softmax
    """,
    "torch.Tensor": """
        # properties
        shape dtype device grad grad_fn requires_grad is_leaf data T mT ndim
        # size and conversion
        size dim numel nelement item tolist numpy to cpu cuda float double long int bool half type
        type_as element_size stride is_contiguous contiguous is_floating_point data_ptr
        new_zeros new_ones new_empty new_full new_tensor
        # autograd
        backward register_hook retain_grad retains_grad requires_grad_ detach detach_ clone
        # views and shape
        view view_as reshape reshape_as flatten squeeze unsqueeze transpose permute t expand expand_as
        repeat narrow split chunk unbind flip roll
        # indexing
        __getitem__ __setitem__ gather scatter scatter_ scatter_add_ index_select index_add_
        masked_fill masked_fill_ masked_select nonzero where
        # math
        abs neg exp log log1p sqrt rsqrt sin cos tanh sigmoid relu pow add sub mul div
        clamp clip sign floor ceil round reciprocal square erf maximum minimum lerp
        # reductions
        sum mean std var prod max min amax amin argmax argmin logsumexp norm cumsum all any
        topk sort argsort softmax log_softmax
        # comparison
        eq ne gt ge lt le equal allclose isnan isinf isfinite
        # linear algebra
        matmul mm bmm dot
        # in place
        add_ sub_ mul_ div_ pow_ sqrt_ exp_ neg_ abs_ clamp_ lerp_ addcmul_ addcdiv_
        zero_ fill_ copy_ normal_ uniform_
    """,
    "torch.nn": """
        # building blocks and containers
        Module Parameter Buffer Sequential ModuleList ModuleDict ParameterList
        Identity Linear Flatten Unflatten Embedding
        # module methods
        Module.forward Module.parameters Module.named_parameters Module.buffers Module.named_buffers
        Module.children Module.named_children Module.modules Module.named_modules Module.train
        Module.eval Module.state_dict Module.load_state_dict Module.zero_grad Module.to Module.apply
        Module.register_buffer Module.register_parameter Module.add_module Module.requires_grad_
        Module.register_forward_hook Module.register_forward_pre_hook
        Module.register_full_backward_hook Module.get_submodule Module.extra_repr Module.cpu
        Module.float Module.double
        # convolution and pooling
        Conv1d Conv2d ConvTranspose2d MaxPool2d AvgPool2d AdaptiveAvgPool2d Upsample
        # normalization and regularization
        BatchNorm1d BatchNorm2d LayerNorm GroupNorm RMSNorm Dropout
        # recurrent and attention
        RNN LSTM GRU RNNCell LSTMCell GRUCell MultiheadAttention TransformerEncoderLayer TransformerEncoder
        # activations
        ReLU LeakyReLU ELU GELU SiLU Mish Sigmoid Tanh Softmax LogSoftmax Softplus ReLU6 PReLU
        # losses and distances
        MSELoss L1Loss SmoothL1Loss HuberLoss CrossEntropyLoss NLLLoss BCELoss BCEWithLogitsLoss KLDivLoss
        # submodules
        functional init utils
    """,
    "torch.nn.functional": """
        linear relu leaky_relu elu gelu silu mish sigmoid tanh softmax log_softmax softplus hardtanh
        relu6 logsigmoid dropout
        conv1d conv2d conv_transpose2d max_pool2d avg_pool2d adaptive_avg_pool2d pad interpolate unfold
        batch_norm layer_norm group_norm rms_norm normalize embedding one_hot
        scaled_dot_product_attention
        mse_loss l1_loss smooth_l1_loss huber_loss cross_entropy nll_loss binary_cross_entropy
        binary_cross_entropy_with_logits kl_div cosine_similarity
    """,
    "torch.nn.init": """
        uniform_ normal_ constant_ ones_ zeros_ eye_ xavier_uniform_ xavier_normal_ kaiming_uniform_
        kaiming_normal_ trunc_normal_ orthogonal_ calculate_gain
    """,
    "torch.nn.utils": """
        clip_grad_norm_ clip_grad_value_ parameters_to_vector vector_to_parameters
        rnn.pad_sequence rnn.pack_padded_sequence rnn.pad_packed_sequence rnn.pack_sequence
        rnn.PackedSequence
        parametrizations.weight_norm parametrizations.spectral_norm parametrizations.orthogonal
        parametrize.register_parametrization parametrize.remove_parametrizations
    """,
    "torch.optim": """
        Optimizer SGD Adam AdamW RMSprop Adagrad Adadelta NAdam RAdam LBFGS
        Optimizer.step Optimizer.zero_grad Optimizer.state_dict Optimizer.load_state_dict
        Optimizer.add_param_group
        lr_scheduler
    """,
    "torch.optim.lr_scheduler": """
        LRScheduler StepLR MultiStepLR ExponentialLR CosineAnnealingLR CosineAnnealingWarmRestarts
        ReduceLROnPlateau OneCycleLR CyclicLR LambdaLR MultiplicativeLR LinearLR ConstantLR
        SequentialLR ChainedScheduler PolynomialLR
        LRScheduler.step LRScheduler.get_last_lr LRScheduler.state_dict LRScheduler.load_state_dict
    """,
    "torch.autograd": """
        backward grad Function Variable gradcheck gradgradcheck no_grad enable_grad set_grad_enabled
        inference_mode set_detect_anomaly detect_anomaly
        function.FunctionCtx function.once_differentiable
        functional.jacobian functional.hessian functional.vjp functional.jvp functional.hvp
        functional.vhp
        forward_ad.dual_level forward_ad.make_dual forward_ad.unpack_dual
        graph.saved_tensors_hooks graph.Node
    """,
    "torch.utils.data": """
        Dataset IterableDataset TensorDataset ConcatDataset Subset random_split DataLoader Sampler
        SequentialSampler RandomSampler SubsetRandomSampler
        WeightedRandomSampler BatchSampler default_collate get_worker_info
    """,
    "torch.cuda": """
        is_available device_count manual_seed manual_seed_all synchronize empty_cache current_device
        get_device_name is_bf16_supported
    """,
}


def pytorch_names(group: str) -> list[str]:
    """The listed names of one group, in the order written."""
    names = []
    for line in PYTORCH_API[group].splitlines():
        names.extend(line.split("#", 1)[0].split())
    return names


def _children(torch_prefix: str) -> set[str]:
    """Names directly under a PyTorch namespace that the list mentions (``nn`` under ``torch``)."""
    out = set()
    start = torch_prefix + "."
    for group in PYTORCH_API:
        for name in pytorch_names(group):
            full = f"{group}.{name}"
            if full.startswith(start):
                out.add(full[len(start) :].split(".", 1)[0])
    return out


def module_getattr(module_name: str, torch_prefix: str) -> Callable[[str], Any]:
    """A module-level ``__getattr__`` for ``module_name``, the counterpart of PyTorch's
    ``torch_prefix``: it raises AttributeError (so ``hasattr`` stays False) saying, for a name the
    training-loop list knows, that PyTorch has it and chainrule does not yet."""
    known = frozenset(_children(torch_prefix))

    def __getattr__(name: str) -> Any:
        if name in known:
            err = AttributeError(
                f"{module_name} has no {name!r} (PyTorch's {torch_prefix}.{name} is not yet "
                f"implemented); see {COVERAGE_DOC}"
            )
        else:
            err = AttributeError(f"module {module_name!r} has no attribute {name!r}")
        # As for any missing module attribute: Python uses these for its "Did you mean" hint.
        err.name = name
        err.obj = sys.modules.get(module_name)
        raise err

    return __getattr__
