"""chainrule.distributed: collectives between processes over MPI, with torch.distributed's names.

Each process of an ``mpiexec -n N`` job (or ``python -m chainrule.distributed.run -n N``) calls
``init_process_group("mpi")``; its rank and the world size come from MPI. Collectives work in place
on contiguous CPU tensors of dtype float32, float64 or int64, whose memory is handed to MPI as a
buffer without a copy. Every blocking collective is a non-blocking MPI call polled until done or
until the group's timeout, after which it raises ``DistBackendError`` instead of hanging; an
uncaught exception in any rank aborts the whole job (``MPI_Abort``), so no rank waits forever on
one that died. mpi4py is imported lazily: ``import chainrule.distributed`` works without it, and
``is_available()`` says whether it is there.
"""

from __future__ import annotations

import datetime
import enum
import os
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from chainrule import _core

__all__ = [
    "DistBackendError",
    "ReduceOp",
    "Work",
    "all_gather",
    "all_reduce",
    "barrier",
    "broadcast",
    "destroy_process_group",
    "get_backend",
    "get_rank",
    "get_world_size",
    "init_process_group",
    "is_available",
    "is_initialized",
    "is_mpi_available",
    "reduce_scatter",
]

_DEFAULT_TIMEOUT = datetime.timedelta(minutes=30)


class DistBackendError(RuntimeError):
    """A collective failed or timed out (torch.distributed.DistBackendError)."""


class ReduceOp(enum.Enum):
    """How all_reduce / reduce_scatter combine the ranks' values (torch.distributed.ReduceOp)."""

    SUM = "sum"
    AVG = "avg"
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"


def _mpi() -> Any:
    from mpi4py import MPI

    return MPI


def is_available() -> bool:
    """True when the distributed package can be used (mpi4py and an MPI library are installed)."""
    return is_mpi_available()


def is_mpi_available() -> bool:
    """True when mpi4py imports (with the MPI library it was built against)."""
    try:
        _mpi()
    except (ImportError, RuntimeError, OSError):
        return False
    return True


class _Group:
    def __init__(self, comm: Any, timeout: float) -> None:
        self.comm = comm
        self.rank: int = comm.Get_rank()
        self.size: int = comm.Get_size()
        self.timeout = timeout


_group: _Group | None = None
_previous_excepthook: Callable[..., Any] | None = None


def _abort_on_uncaught(exc_type: type[BaseException], exc: BaseException, tb: Any) -> None:
    """sys.excepthook while a group is live: print the traceback, then abort every rank."""
    group = _group
    rank = group.rank if group is not None else "?"
    sys.stderr.write(f"chainrule.distributed: uncaught exception on rank {rank}; aborting all ranks\n")
    traceback.print_exception(exc_type, exc, tb)
    sys.stderr.flush()
    if group is not None:
        group.comm.Abort(1)


def init_process_group(
    backend: str | None = "mpi",
    init_method: str | None = None,
    timeout: datetime.timedelta | None = None,
    world_size: int = -1,
    rank: int = -1,
    store: Any = None,
    group_name: str = "",
    pg_options: Any = None,
    device_id: Any = None,
) -> None:
    """Joins this process to the default group (torch.distributed.init_process_group).

    Only the "mpi" backend exists (None means "mpi"); rank and world size come from MPI. ``rank``,
    ``world_size`` and the RANK / WORLD_SIZE environment variables are optional and, when given,
    must agree with MPI (ValueError otherwise). ``timeout`` bounds every collective (30 minutes by
    default). Installs an excepthook that aborts all ranks on an uncaught exception. Calling it
    twice raises RuntimeError, as in PyTorch.
    """
    global _group, _previous_excepthook
    if backend is None:
        backend = "mpi"
    if str(backend).lower() != "mpi":
        raise ValueError(f"Invalid backend {backend!r}: chainrule.distributed supports only 'mpi'")
    if _group is not None:
        raise RuntimeError("trying to initialize the default process group twice!")
    if store is not None or init_method not in (None, "env://", "mpi://"):
        raise ValueError(
            "the 'mpi' backend takes rank and world size from MPI: init_method and store are not used"
        )
    if not is_mpi_available():
        raise RuntimeError(
            "chainrule.distributed needs mpi4py and an MPI library: pip install 'chainrule[mpi]' "
            "(or pip install mpi4py mpich)"
        )
    comm = _mpi().COMM_WORLD
    mpi_rank, mpi_size = comm.Get_rank(), comm.Get_size()
    for what, given, actual in (
        ("rank", rank, mpi_rank),
        ("world_size", world_size, mpi_size),
        ("RANK", int(os.environ.get("RANK", -1)), mpi_rank),
        ("WORLD_SIZE", int(os.environ.get("WORLD_SIZE", -1)), mpi_size),
    ):
        if given != -1 and given != actual:
            raise ValueError(
                f"init_process_group: {what}={given} disagrees with MPI ({actual}); "
                "launch with mpiexec or python -m chainrule.distributed.run"
            )
    seconds = (timeout if timeout is not None else _DEFAULT_TIMEOUT).total_seconds()
    if seconds <= 0:
        raise ValueError("timeout must be positive")
    _group = _Group(comm.Dup(), seconds)
    _previous_excepthook = sys.excepthook
    sys.excepthook = _abort_on_uncaught


def destroy_process_group(group: Any = None) -> None:
    """Leaves the default group (torch.distributed.destroy_process_group)."""
    global _group, _previous_excepthook
    g = _require(group)
    _group = None
    if _previous_excepthook is not None:
        sys.excepthook = _previous_excepthook
        _previous_excepthook = None
    g.comm.Free()


def is_initialized() -> bool:
    """True between init_process_group and destroy_process_group."""
    return _group is not None


def _require(group: Any = None) -> _Group:
    if group is not None and group is not _group:
        raise ValueError("only the default process group (group=None) is supported")
    if _group is None:
        raise ValueError(
            "Default process group has not been initialized, please make sure to call init_process_group."
        )
    return _group


def get_rank(group: Any = None) -> int:
    """This process's rank in the default group (ValueError when none is initialized)."""
    return _require(group).rank


def get_world_size(group: Any = None) -> int:
    """The number of processes in the default group (ValueError when none is initialized)."""
    return _require(group).size


def get_backend(group: Any = None) -> str:
    """ "mpi"."""
    _require(group)
    return "mpi"


class Work:
    """A collective in flight (torch.distributed.Work): ``wait()`` blocks until it is done (or the
    group's timeout passes: DistBackendError), ``is_completed()`` polls."""

    def __init__(
        self, name: str, group: _Group, request: Any, finish: Callable[[], None] | None = None
    ) -> None:
        self._name = name
        self._group = group
        self._request = request
        self._finish = finish
        self._done = False

    def _complete(self) -> None:
        self._done = True
        self._request = None
        if self._finish is not None:
            finish, self._finish = self._finish, None
            finish()

    def is_completed(self) -> bool:
        """True once the collective has finished (results then in place)."""
        if not self._done and self._request.Test():
            self._complete()
        return self._done

    def is_success(self) -> bool:
        return self.is_completed()

    def wait(self, timeout: datetime.timedelta | None = None) -> bool:
        """Blocks until the collective is done; DistBackendError after the timeout (the group's by
        default), which means another rank failed or never called the same collective."""
        if self._done:
            return True
        limit = timeout.total_seconds() if timeout is not None else self._group.timeout
        start = time.monotonic()
        spins = 0
        while not self._request.Test():
            # Poll, yielding the core, first (MPI progresses only inside its calls; a sleep would add
            # its whole length to the latency), then back off to short sleeps for long waits.
            spins += 1
            os.sched_yield()  # keeps a spinning rank from starving others on a shared core
            if spins % 256 == 0:
                waited = time.monotonic() - start
                if waited > limit:
                    raise DistBackendError(
                        f"chainrule.distributed: {self._name} timed out after {limit:g} s on rank "
                        f"{self._group.rank} of {self._group.size}: another rank failed, exited or "
                        "did not call the same collective"
                    )
                if waited > 0.05:
                    time.sleep(1e-4)
        self._complete()
        return True


_NUMPY_DTYPES = {
    _core.float32: np.float32,
    _core.float64: np.float64,
    _core.int64: np.int64,
}


def _buffer(tensor: Any, what: str) -> np.ndarray:
    """The tensor's own memory as a NumPy array (no copy)."""
    if not isinstance(tensor, _core.Tensor):
        raise TypeError(f"{what}: expected a Tensor, got {type(tensor).__name__}")
    if tensor.dtype not in _NUMPY_DTYPES:
        raise TypeError(f"{what}: dtype {tensor.dtype} is not supported; use float32, float64 or int64")
    if not tensor.is_contiguous():
        raise ValueError(f"{what}: tensors must be contiguous (call .contiguous())")
    arr: np.ndarray = tensor.detach().numpy()
    return arr.reshape(-1)


def _mpi_op(op: ReduceOp, what: str) -> Any:
    MPI = _mpi()
    if not isinstance(op, ReduceOp):
        raise TypeError(f"{what}: op must be a ReduceOp, got {op!r}")
    return {
        ReduceOp.SUM: MPI.SUM,
        ReduceOp.AVG: MPI.SUM,
        ReduceOp.PRODUCT: MPI.PROD,
        ReduceOp.MIN: MPI.MIN,
        ReduceOp.MAX: MPI.MAX,
    }[op]


def _check_avg(arr: np.ndarray, op: ReduceOp, what: str) -> None:
    if op is ReduceOp.AVG and arr.dtype.kind != "f":
        raise TypeError(f"{what}: ReduceOp.AVG needs a floating tensor, got {arr.dtype}")


def _run(work: Work, async_op: bool) -> Work | None:
    if async_op:
        return work
    work.wait()
    return None


def all_reduce(
    tensor: Any, op: ReduceOp = ReduceOp.SUM, group: Any = None, async_op: bool = False
) -> Work | None:
    """Combines ``tensor`` across all ranks with ``op``, in place on every rank
    (torch.distributed.all_reduce). AVG is a SUM divided by the world size (floating dtypes)."""
    g = _require(group)
    buf = _buffer(tensor, "all_reduce")
    _check_avg(buf, op, "all_reduce")
    request = g.comm.Iallreduce(_mpi().IN_PLACE, buf, op=_mpi_op(op, "all_reduce"))

    def finish() -> None:
        if op is ReduceOp.AVG:
            np.divide(buf, g.size, out=buf)

    return _run(Work("all_reduce", g, request, finish), async_op)


def broadcast(tensor: Any, src: int, group: Any = None, async_op: bool = False) -> Work | None:
    """Copies rank ``src``'s ``tensor`` into every other rank's, in place (torch.distributed.broadcast)."""
    g = _require(group)
    if not 0 <= src < g.size:
        raise ValueError(f"broadcast: src={src} is not a rank of a group of size {g.size}")
    buf = _buffer(tensor, "broadcast")
    return _run(Work("broadcast", g, g.comm.Ibcast(buf, root=src)), async_op)


def all_gather(
    tensor_list: Sequence[Any], tensor: Any, group: Any = None, async_op: bool = False
) -> Work | None:
    """Fills ``tensor_list[r]`` with rank r's ``tensor`` on every rank (torch.distributed.all_gather);
    ``tensor_list`` has one tensor of ``tensor``'s shape and dtype per rank."""
    g = _require(group)
    src = _buffer(tensor, "all_gather")
    if len(tensor_list) != g.size:
        raise ValueError(
            f"all_gather: tensor_list has {len(tensor_list)} tensors, expected world size {g.size}"
        )
    outs = [_buffer(t, "all_gather") for t in tensor_list]
    for t, o in zip(tensor_list, outs):
        if tuple(t.shape) != tuple(tensor.shape) or o.dtype != src.dtype:
            raise ValueError(
                f"all_gather: every output must have the input's shape {tuple(tensor.shape)} and dtype "
                f"{tensor.dtype}, got {tuple(t.shape)} and {t.dtype}"
            )
    flat = np.empty((g.size, src.size), dtype=src.dtype)
    request = g.comm.Iallgather(src, flat)

    def finish() -> None:
        for r, o in enumerate(outs):
            o[...] = flat[r]

    return _run(Work("all_gather", g, request, finish), async_op)


def reduce_scatter(
    output: Any,
    input_list: Sequence[Any],
    op: ReduceOp = ReduceOp.SUM,
    group: Any = None,
    async_op: bool = False,
) -> Work | None:
    """Reduces ``input_list[r]`` over all ranks with ``op`` into rank r's ``output``
    (torch.distributed.reduce_scatter)."""
    g = _require(group)
    out = _buffer(output, "reduce_scatter")
    _check_avg(out, op, "reduce_scatter")
    if len(input_list) != g.size:
        raise ValueError(
            f"reduce_scatter: input_list has {len(input_list)} tensors, expected world size {g.size}"
        )
    ins = [_buffer(t, "reduce_scatter") for t in input_list]
    if any(i.size != out.size or i.dtype != out.dtype for i in ins):
        raise ValueError("reduce_scatter: every input must have the output's number of elements and dtype")
    send = np.concatenate(ins) if ins else np.empty(0, out.dtype)
    request = g.comm.Ireduce_scatter_block(send, out, op=_mpi_op(op, "reduce_scatter"))

    def finish() -> None:
        del send_keepalive[:]
        if op is ReduceOp.AVG:
            np.divide(out, g.size, out=out)

    send_keepalive = [send]
    return _run(Work("reduce_scatter", g, request, finish), async_op)


def barrier(group: Any = None, async_op: bool = False, device_ids: Any = None) -> Work | None:
    """Waits until every rank has reached the barrier (torch.distributed.barrier)."""
    g = _require(group)
    return _run(Work("barrier", g, g.comm.Ibarrier()), async_op)
