"""DistributedDataParallel: one model replica per process, gradients averaged over MPI.

Note [Gradient buckets]
The parameters that require grad are split, in reverse registration order (roughly the order
backward produces their gradients), into buckets of one dtype and at most ``bucket_cap_mb`` MiB
(the first bucket at most 1 MiB, so that communication starts early). Each parameter carries a
post-accumulate-grad hook. When it fires, the parameter's gradient is copied into its slot of the
bucket's flat buffer; when the bucket's last gradient is in, the bucket's non-blocking all-reduce
(SUM) is started, while backward goes on computing the gradients of earlier layers. Buckets are
started strictly in bucket order on every rank, as MPI requires collectives to be issued in the
same order everywhere. The first hook of an iteration queues a callback on the engine
(``_core._queue_callback``: it runs once backward has finished every node). The callback waits
for every bucket, divides by the world size and writes the averages back into ``p.grad``, so
that when ``loss.backward()`` returns every gradient is the average over the ranks (PyTorch's
semantics); it also finds the parameters that got no gradient and raises, naming them, where
PyTorch would hang.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any

import numpy as np

from chainrule import _core
from chainrule import distributed as dist
from chainrule.autograd.grad_mode import no_grad
from chainrule.nn.modules.module import Module

__all__ = ["DistributedDataParallel"]

_FIRST_BUCKET_BYTES = 1024 * 1024


class _Bucket:
    def __init__(self, indices: list[int], params: list[Any]) -> None:
        self.indices = indices
        sizes = [params[i].numel() for i in indices]
        self.offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        dtype = params[indices[0]].detach().numpy().dtype
        self.flat = np.zeros(int(self.offsets[-1]), dtype=dtype)
        self.pending = len(indices)
        self.work: dist.Work | None = None


def _tensors_in(obj: Any) -> Iterator[Any]:
    if isinstance(obj, _core.Tensor):
        yield obj
    elif isinstance(obj, (list, tuple)):
        for o in obj:
            yield from _tensors_in(o)
    elif isinstance(obj, dict):
        for o in obj.values():
            yield from _tensors_in(o)


def _reachable_leaves(outputs: Any) -> set[int]:
    """ids of the leaf tensors that backward from ``outputs`` reaches (iterative graph walk)."""
    seen: set[int] = set()
    leaves: set[int] = set()
    stack = [t.grad_fn for t in _tensors_in(outputs) if t.grad_fn is not None]
    while stack:
        node = stack.pop()
        key = node._id()  # Python wrappers of one node come and go; the node's own id does not
        if key in seen:
            continue
        seen.add(key)
        variable = getattr(node, "variable", None)
        if variable is not None:
            leaves.add(id(variable))
        for nxt, _ in node.next_functions:
            if nxt is not None:
                stack.append(nxt)
    return leaves


class DistributedDataParallel(Module):
    """Wraps ``module`` for data-parallel training (torch.nn.parallel.DistributedDataParallel).

    At construction rank 0's parameters and buffers are broadcast to every rank. Each forward
    broadcasts rank 0's buffers first (``broadcast_buffers``; BatchNorm's batch statistics stay
    per process), and during backward the gradients are averaged over the ranks bucket by bucket,
    overlapping communication with the rest of backward (Note [Gradient buckets]); when
    ``backward()`` returns, every ``p.grad`` holds the average. Inside ``no_sync()`` gradients
    only accumulate locally; the first backward after it averages the accumulated sum.

    ``find_unused_parameters=True`` walks the autograd graph from the forward's outputs and lets
    parameters it does not reach contribute zeros (a parameter no rank used keeps its ``.grad``).
    Without it, a parameter that gets no gradient makes ``backward()`` raise a RuntimeError naming
    the parameters (PyTorch would hang, or fail at the next forward). ``state_dict()`` keys carry
    the ``module.`` prefix, as in PyTorch. Only CPU tensors and the default process group exist,
    so ``device_ids`` must be None.
    """

    def __init__(
        self,
        module: Module,
        device_ids: list[int] | None = None,
        output_device: Any = None,
        dim: int = 0,
        broadcast_buffers: bool = True,
        process_group: Any = None,
        bucket_cap_mb: float | None = None,
        find_unused_parameters: bool = False,
        check_reduction: bool = False,
        gradient_as_bucket_view: bool = False,
        static_graph: bool = False,
    ) -> None:
        super().__init__()
        if device_ids not in (None, []) or output_device is not None:
            raise ValueError("DistributedDataParallel: chainrule runs on the CPU; device_ids must be None")
        group = dist._require(process_group)
        self.module = module
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self.require_backward_grad_sync = True
        self.bucket_bytes_cap = int((25 if bucket_cap_mb is None else bucket_cap_mb) * 1024 * 1024)
        names: dict[int, str] = {}
        params: list[Any] = []
        for name, p in module.named_parameters():
            if p.requires_grad and id(p) not in names:
                names[id(p)] = name
                params.append(p)
        self._params = params
        self._param_names = [names[id(p)] for p in params]
        self._world_size = group.size
        with no_grad():
            for _, t in module.state_dict(keep_vars=True).items():
                dist.broadcast(t.detach(), 0)
        self._buckets = self._build_buckets()
        self._bucket_of: dict[int, tuple[int, int]] = {}
        for b, bucket in enumerate(self._buckets):
            for slot, i in enumerate(bucket.indices):
                self._bucket_of[i] = (b, slot)
        self._syncing = False
        self._ready: list[bool] = [False] * len(params)
        self._used = np.ones(len(params), dtype=np.float64)
        self._remaining = 0
        self._next_bucket = 0
        self._last_exposed_wait_s = 0.0
        self._last_launch_time = 0.0
        self._hooks_fired = False
        self._callback_queued = False
        for i, p in enumerate(params):
            p.register_post_accumulate_grad_hook(lambda t, i=i: self._grad_ready(i))

    # ---- buckets ----------------------------------------------------------------------------
    def _build_buckets(self) -> list[_Bucket]:
        buckets: list[_Bucket] = []
        current: list[int] = []
        size = 0
        cap = min(_FIRST_BUCKET_BYTES, self.bucket_bytes_cap)
        for i in reversed(range(len(self._params))):
            p = self._params[i]
            nbytes = p.numel() * p.element_size()
            if current and (size + nbytes > cap or p.dtype != self._params[current[0]].dtype):
                buckets.append(_Bucket(current, self._params))
                current, size, cap = [], 0, self.bucket_bytes_cap
            current.append(i)
            size += nbytes
        if current:
            buckets.append(_Bucket(current, self._params))
        return buckets

    def _prepare_for_backward(self, output: Any) -> None:
        for bucket in self._buckets:
            bucket.pending = len(bucket.indices)
            bucket.work = None
        self._ready = [False] * len(self._params)
        self._remaining = len(self._params)
        self._next_bucket = 0
        self._used[:] = 1.0
        self._hooks_fired = False
        self._callback_queued = False
        self._syncing = True
        if self.find_unused_parameters:
            reached = _reachable_leaves(output)
            for i, p in enumerate(self._params):
                if id(p) not in reached:
                    self._used[i] = 0.0
                    self._mark_ready(i, None)

    def _grad_ready(self, i: int) -> None:
        if not self._syncing:
            return
        if not self._hooks_fired and hasattr(_core, "_queue_callback"):
            _core._queue_callback(self._backward_finished)  # Note [Gradient buckets]
            self._callback_queued = True
        self._hooks_fired = True
        if self._ready[i]:
            raise RuntimeError(
                f"DistributedDataParallel: parameter '{self._param_names[i]}' received its gradient "
                "twice in one iteration (a second backward through the same forward, or a parameter "
                "used by two forwards); call the wrapped module's forward once per backward"
            )
        self._mark_ready(i, self._params[i].grad)

    def _mark_ready(self, i: int, grad: Any) -> None:
        b, slot = self._bucket_of[i]
        bucket = self._buckets[b]
        lo, hi = bucket.offsets[slot], bucket.offsets[slot + 1]
        if grad is None:
            bucket.flat[lo:hi] = 0
        else:
            bucket.flat[lo:hi] = grad.detach().numpy().reshape(-1)
        self._ready[i] = True
        for launched in self._buckets[: self._next_bucket]:
            if launched.work is not None:
                launched.work.is_completed()  # lets MPI progress the all-reduces in flight
        bucket.pending -= 1
        self._remaining -= 1
        while self._next_bucket < len(self._buckets) and self._buckets[self._next_bucket].pending == 0:
            ready = self._buckets[self._next_bucket]
            ready.work = dist.all_reduce(_core.from_numpy(ready.flat), dist.ReduceOp.SUM, async_op=True)
            self._next_bucket += 1
            self._last_launch_time = time.perf_counter()
        if self._remaining == 0 and not self._callback_queued:
            self._finish_reduction()

    def _backward_finished(self) -> None:
        """Runs when the engine has finished backward: every bucket must have started by now."""
        if self._remaining > 0:
            missing = [self._param_names[i] for i, r in enumerate(self._ready) if not r]
            self._syncing = False
            raise RuntimeError(
                "DistributedDataParallel: these parameters received no gradient in this backward, so "
                f"their gradients cannot be averaged: {', '.join(missing)}. Pass "
                "find_unused_parameters=True to DistributedDataParallel if the forward leaves some "
                "parameters unused, and make sure the loss depends on every output."
            )
        self._finish_reduction()

    def _finish_reduction(self) -> None:
        used = self._used
        if self.find_unused_parameters:
            used = self._used.copy()
            dist.all_reduce(_core.from_numpy(used), dist.ReduceOp.SUM)
        start = time.perf_counter()
        for bucket in self._buckets:
            assert bucket.work is not None
            bucket.work.wait()
        self._last_exposed_wait_s = time.perf_counter() - start  # communication backward waited for
        with no_grad():
            for bucket in self._buckets:
                np.divide(bucket.flat, self._world_size, out=bucket.flat)
                for slot, i in enumerate(bucket.indices):
                    if used[i] == 0:
                        continue  # no rank used it: its .grad stays as it was
                    p = self._params[i]
                    lo, hi = bucket.offsets[slot], bucket.offsets[slot + 1]
                    avg = bucket.flat[lo:hi].reshape(tuple(p.shape))
                    if p.grad is None or not p.grad.is_contiguous() or p.grad.requires_grad:
                        p.grad = _core.from_numpy(avg.copy())
                    else:
                        p.grad.detach().numpy()[...] = avg

    def _check_previous_reduction(self) -> None:
        if not self._syncing or self._remaining == 0:
            return
        if not self._hooks_fired:
            # A forward that no backward followed (evaluation with grad enabled): nothing to
            # reduce; finish what find_unused_parameters may have started, then start afresh.
            for bucket in self._buckets:
                if bucket.work is not None:
                    bucket.work.wait()
            self._syncing = False
            return
        missing = [self._param_names[i] for i, r in enumerate(self._ready) if not r]
        self._syncing = False
        raise RuntimeError(
            "Expected to have finished reduction in the prior iteration before starting a new one. "
            "These parameters received no gradient in the previous backward: "
            f"{', '.join(missing)}. Pass find_unused_parameters=True to DistributedDataParallel if the "
            "forward leaves some parameters unused, and make sure the loss depends on every output."
        )

    # ---- forward ----------------------------------------------------------------------------
    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        self._check_previous_reduction()
        if self.broadcast_buffers and self._world_size > 1:
            with no_grad():
                for _, b in self.module.named_buffers():
                    dist.broadcast(b.detach(), 0)
        output = self.module(*inputs, **kwargs)
        if _core.is_grad_enabled() and self.require_backward_grad_sync and self._params:
            self._prepare_for_backward(output)
        else:
            self._syncing = False
        return output

    @contextlib.contextmanager
    def no_sync(self) -> Iterator[None]:
        """Within this context, backward only accumulates gradients locally (no communication);
        the first forward-backward outside it averages the accumulated gradients."""
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous
