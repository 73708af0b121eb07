"""DataLoader with torch.utils.data.dataloader's names and semantics: batching, shuffling,
collation, and loading in worker processes.

``num_workers=0`` loads in the calling process. ``num_workers > 0`` starts that many worker
processes per iterator (once per DataLoader with ``persistent_workers=True``), each with its
own copy of the dataset; batches come back pickled, in sampler order (Note [DataLoader workers]
in ``_utils/worker.py``). The start method is ``fork`` where the platform has it (Linux; macOS
and Windows use their default, ``spawn``); ``multiprocessing_context`` chooses another.

``pin_memory=True`` (and ``pin_memory_device``) are accepted and do nothing: chainrule's tensors
live in ordinary host memory, so there is no device copy that pinning would speed up.
"""

from __future__ import annotations

import atexit
import itertools
import math
import multiprocessing
import multiprocessing.context
import multiprocessing.util
import os
import pickle
import queue
import sys
import time
import warnings
import weakref
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Callable, Generic, TypeVar

from . import _random
from ._random import GeneratorLike
from ._utils.collate import default_collate, default_convert
from ._utils.fetch import _BaseDatasetFetcher, create_fetcher
from ._utils.worker import (
    STATUS_CHECK_INTERVAL,
    ExceptionWrapper,
    WorkerInfo,
    _IterableDatasetStopIteration,
    _ResumeIteration,
    _worker_loop,
    get_worker_info,
)
from .dataset import Dataset, IterableDataset
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

__all__ = ["DataLoader", "WorkerInfo", "default_collate", "default_convert", "get_worker_info"]

T_co = TypeVar("T_co", covariant=True)

# Seconds the main process waits for workers to exit by themselves before terminating them.
_SHUTDOWN_TIMEOUT = 5.0


class _DatasetKind:
    Map = 0
    Iterable = 1


class _InfiniteConstantSampler(Sampler[None]):
    """The sampler of an IterableDataset: ``None`` forever (each is a placeholder for "the next
    element"; the dataset's iterator decides when the data ends)."""

    def __iter__(self) -> Iterator[None]:
        while True:
            yield None


def _is_int(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _default_context() -> multiprocessing.context.BaseContext:
    """``fork`` where it is safe and available (as PyTorch on Linux), else the platform default."""
    if sys.platform != "darwin" and "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context()


def _cpu_count() -> int | None:
    if hasattr(os, "sched_getaffinity"):
        try:
            return len(os.sched_getaffinity(0))
        except OSError:
            pass
    return os.cpu_count()


class DataLoader(Generic[T_co]):
    """Iterates over ``dataset`` in batches, as ``torch.utils.data.DataLoader``.

    Args:
        dataset: a map-style ``Dataset`` (or any object with ``__getitem__`` and ``__len__``) or
            an ``IterableDataset``.
        batch_size: samples per batch (default 1); ``None`` turns batching off (each sample is
            passed through ``collate_fn``, ``default_convert`` by default).
        shuffle: a new random order every epoch (``RandomSampler``); mutually exclusive with
            ``sampler``.
        sampler: the order of indices (any iterable; a length is needed for ``len()``).
        batch_sampler: yields whole lists of indices; mutually exclusive with ``batch_size``,
            ``shuffle``, ``sampler`` and ``drop_last``.
        num_workers: worker processes (0: load in this process).
        collate_fn: merges a list of samples into a batch (default ``default_collate``).
        pin_memory: accepted, no effect (see the module docstring).
        drop_last: drop the last batch when it is shorter than ``batch_size``.
        timeout: with workers, seconds to wait for a batch before ``RuntimeError`` (0: forever).
        worker_init_fn: called as ``worker_init_fn(worker_id)`` in each worker after seeding.
        multiprocessing_context: a start method name or a ``multiprocessing`` context.
        generator: the RNG of ``shuffle`` and of the workers' base seed (a ``chainrule.Generator``
            or a ``numpy.random.Generator``; chainrule's global generator when ``None``).
        prefetch_factor: batches each worker loads ahead (default 2; only with workers).
        persistent_workers: keep the workers (and their copies of the dataset) between epochs.
        pin_memory_device: accepted, no effect.
        in_order: with workers, deliver batches in sampler order (``False``: as they come).

    Bad arguments raise what PyTorch raises: ``ValueError`` for negative ``num_workers`` or
    ``timeout``, options that exclude each other, ``prefetch_factor`` or ``persistent_workers``
    without workers, and a non-positive ``batch_size``; ``TypeError`` for values of the wrong
    type. A positive ``timeout`` and ``prefetch_factor=0`` without, respectively with, workers
    raise ``ValueError`` here at construction, where PyTorch raises ``AssertionError`` when
    iterating.

    Each iterator (each epoch) draws a base seed from ``generator``; worker ``i`` seeds
    chainrule's, Python's and NumPy's global RNGs from ``base_seed + i`` (``get_worker_info()
    .seed``) and runs with ``chainrule.set_num_threads(1)``.
    """

    dataset: Any
    batch_size: int | None
    num_workers: int
    pin_memory: bool
    drop_last: bool
    timeout: float
    sampler: Any
    prefetch_factor: int | None
    _iterator: _BaseDataLoaderIter | None

    __initialized = False

    def __init__(
        self,
        dataset: Dataset[T_co] | Sequence[T_co],
        batch_size: int | None = 1,
        shuffle: bool | None = None,
        sampler: Sampler[Any] | Iterable[Any] | None = None,
        batch_sampler: Sampler[list[Any]] | Iterable[list[Any]] | None = None,
        num_workers: int = 0,
        collate_fn: Callable[[Any], Any] | None = None,
        pin_memory: bool = False,
        drop_last: bool = False,
        timeout: float = 0,
        worker_init_fn: Callable[[int], None] | None = None,
        multiprocessing_context: str | multiprocessing.context.BaseContext | None = None,
        generator: GeneratorLike = None,
        *,
        prefetch_factor: int | None = None,
        persistent_workers: bool = False,
        pin_memory_device: str = "",
        in_order: bool = True,
    ) -> None:
        if not _is_int(num_workers):
            raise TypeError(f"num_workers option should be an integer, but got num_workers={num_workers!r}")
        if num_workers < 0:
            raise ValueError(
                "num_workers option should be non-negative; use num_workers=0 to disable multiprocessing."
            )
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
            raise TypeError(f"timeout option should be a number, but got timeout={timeout!r}")
        if not timeout >= 0:  # NaN too
            raise ValueError("timeout option should be non-negative")
        if timeout > 0 and num_workers == 0:
            raise ValueError(
                f"timeout option bounds the wait for a worker's batch and needs num_workers > 0, "
                f"but got timeout={timeout} with num_workers=0"
            )
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError(
                "prefetch_factor option could only be specified in multiprocessing. Let num_workers > 0 "
                "to enable multiprocessing, otherwise set prefetch_factor to None."
            )
        if num_workers > 0:
            if prefetch_factor is None:
                prefetch_factor = 2
            elif not _is_int(prefetch_factor):
                raise TypeError(
                    "prefetch_factor option should be an integer, "
                    f"but got prefetch_factor={prefetch_factor!r}"
                )
            elif prefetch_factor < 0:
                raise ValueError("prefetch_factor option should be non-negative")
            elif prefetch_factor == 0:
                raise ValueError("prefetch_factor option should be positive with num_workers > 0")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        if collate_fn is not None and not callable(collate_fn):
            raise TypeError(f"collate_fn should be callable, but got {type(collate_fn).__name__}")
        if worker_init_fn is not None and not callable(worker_init_fn):
            raise TypeError(f"worker_init_fn should be callable, but got {type(worker_init_fn).__name__}")

        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.in_order = in_order

        if isinstance(dataset, IterableDataset):
            self._dataset_kind = _DatasetKind.Iterable
            # The elements' order is the dataset's own: no shuffling and no custom samplers.
            if shuffle not in (False, None):
                raise ValueError(
                    "DataLoader with IterableDataset: expected unspecified shuffle option, "
                    f"but got shuffle={shuffle}"
                )
            if sampler is not None:
                raise ValueError(
                    "DataLoader with IterableDataset: expected unspecified sampler option, "
                    f"but got sampler={sampler}"
                )
            if batch_sampler is not None:
                raise ValueError(
                    "DataLoader with IterableDataset: expected unspecified batch_sampler option, "
                    f"but got batch_sampler={batch_sampler}"
                )
        else:
            shuffle = bool(shuffle)
            self._dataset_kind = _DatasetKind.Map

        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError(
                    "batch_sampler option is mutually exclusive with batch_size, shuffle, "
                    "sampler, and drop_last"
                )
            batch_size = None
            drop_last = False
        elif batch_size is None and drop_last:
            raise ValueError(
                "batch_size=None option disables auto-batching and is mutually exclusive with drop_last"
            )

        if sampler is None:
            if self._dataset_kind == _DatasetKind.Iterable:
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)  # type: ignore[arg-type]

        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self.persistent_workers = persistent_workers
        self._IterableDataset_len_called: int | None = None
        self._iterator = None
        self.__initialized = True
        self.check_worker_number_rationality()

    # ---- properties ---------------------------------------------------------------------------------
    @property
    def multiprocessing_context(self) -> multiprocessing.context.BaseContext | None:
        """The multiprocessing context of the workers (``None``: the default, see the module doc)."""
        return self.__multiprocessing_context

    @multiprocessing_context.setter
    def multiprocessing_context(self, context: str | multiprocessing.context.BaseContext | None) -> None:
        if context is not None:
            if self.num_workers == 0:
                raise ValueError(
                    "multiprocessing_context can only be used with multi-process loading "
                    f"(num_workers > 0), but got num_workers={self.num_workers}"
                )
            if isinstance(context, str):
                methods = multiprocessing.get_all_start_methods()
                if context not in methods:
                    raise ValueError(
                        f"multiprocessing_context option should specify a valid start method in {methods!r}, "
                        f"but got multiprocessing_context={context!r}"
                    )
                context = multiprocessing.get_context(context)
            if not isinstance(context, multiprocessing.context.BaseContext):
                raise TypeError(
                    "multiprocessing_context option should be a valid context object or a string "
                    f"specifying the start method, but got multiprocessing_context={context}"
                )
        self.__multiprocessing_context = context

    def __setattr__(self, attr: str, value: Any) -> None:
        if self.__initialized and attr in (
            "batch_size",
            "batch_sampler",
            "sampler",
            "drop_last",
            "dataset",
            "persistent_workers",
        ):
            raise ValueError(f"{attr} attribute should not be set after {type(self).__name__} is initialized")
        super().__setattr__(attr, value)

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None

    @property
    def _index_sampler(self) -> Any:
        """What the iterator draws from: the batch sampler when batching, else the sampler."""
        return self.batch_sampler if self._auto_collation else self.sampler

    # ---- iteration ----------------------------------------------------------------------------------
    def _get_iterator(self) -> _BaseDataLoaderIter:
        if self.num_workers == 0:
            return _SingleProcessDataLoaderIter(self)
        self.check_worker_number_rationality()
        return _MultiProcessingDataLoaderIter(self)

    def __iter__(self) -> _BaseDataLoaderIter:
        """A new iterator; with ``persistent_workers``, the same one, reset for a new epoch."""
        if self.persistent_workers and self.num_workers > 0:
            if self._iterator is None or self._iterator._is_shut_down():
                self._iterator = self._get_iterator()
            else:
                self._iterator._reset(self)
            return self._iterator
        return self._get_iterator()

    def __len__(self) -> int:
        """Batches per epoch: from the (batch) sampler, or for an IterableDataset from its own
        ``len()`` (``TypeError`` without one) divided by ``batch_size``."""
        if self._dataset_kind == _DatasetKind.Iterable:
            length = self._IterableDataset_len_called = len(self.dataset)
            if self.batch_size is not None:
                length = length // self.batch_size if self.drop_last else math.ceil(length / self.batch_size)
            return length
        return len(self._index_sampler)

    def check_worker_number_rationality(self) -> None:
        """Warns when there are more workers than CPUs this process may run on."""
        if self.num_workers == 0:
            return
        cpus = _cpu_count()
        if cpus is None or self.num_workers > cpus:
            warnings.warn(
                f"This DataLoader will create {self.num_workers} worker processes in total, more than the "
                f"{cpus} CPUs this process may use: excessive workers slow loading down.",
                stacklevel=3,
            )


# ---- iterators ---------------------------------------------------------------------------------------
class _BaseDataLoaderIter:
    def __init__(self, loader: DataLoader[Any]) -> None:
        self._dataset = loader.dataset
        self._dataset_kind = loader._dataset_kind
        self._IterableDataset_len_called = loader._IterableDataset_len_called
        self._auto_collation = loader._auto_collation
        self._drop_last = loader.drop_last
        self._index_sampler = loader._index_sampler
        self._num_workers = loader.num_workers
        self._prefetch_factor = loader.prefetch_factor or 0
        self._pin_memory = loader.pin_memory
        self._timeout = loader.timeout
        self._collate_fn = loader.collate_fn
        self._persistent_workers = loader.persistent_workers
        self._sampler_iter: Iterator[Any] | None = None
        self._num_yielded = 0
        # Drawn for every iterator, with or without workers, so that the draws from the
        # generator (and the shuffled order that follows) do not depend on num_workers.
        self._base_seed = _random.draw_seed(loader.generator)
        self._loader_name = type(loader).__name__

    def __iter__(self) -> _BaseDataLoaderIter:
        return self

    def _reset(self, loader: DataLoader[Any], first_iter: bool = False) -> None:
        self._sampler_iter = iter(self._index_sampler)
        self._num_yielded = 0
        self._IterableDataset_len_called = loader._IterableDataset_len_called

    def _is_shut_down(self) -> bool:
        return False

    def _next_index(self) -> Any:
        assert self._sampler_iter is not None
        return next(self._sampler_iter)

    def _next_data(self) -> Any:
        raise NotImplementedError

    def __next__(self) -> Any:
        data = self._next_data()
        self._num_yielded += 1
        if (
            self._dataset_kind == _DatasetKind.Iterable
            and self._IterableDataset_len_called is not None
            and self._num_yielded > self._IterableDataset_len_called
        ):
            msg = (
                f"Length of IterableDataset {self._dataset} was reported to be "
                f"{self._IterableDataset_len_called} (when accessing len(dataloader)), but "
                f"{self._num_yielded} samples have been fetched."
            )
            if self._num_workers > 0:
                msg += (
                    " For multiprocessing data-loading, this could be caused by not properly "
                    "configuring the IterableDataset replica at each worker."
                )
            warnings.warn(msg, stacklevel=2)
        return data

    def __len__(self) -> int:
        return len(self._index_sampler)

    def __getstate__(self) -> Any:
        raise NotImplementedError(f"{type(self).__name__} cannot be pickled")


class _SingleProcessDataLoaderIter(_BaseDataLoaderIter):
    def __init__(self, loader: DataLoader[Any]) -> None:
        super().__init__(loader)
        self._fetcher: _BaseDatasetFetcher = create_fetcher(
            self._dataset_kind == _DatasetKind.Iterable,
            self._dataset,
            self._auto_collation,
            self._collate_fn,
            self._drop_last,
        )
        self._reset(loader, first_iter=True)

    def _next_data(self) -> Any:
        index = self._next_index()  # StopIteration at the end of the sampler
        return self._fetcher.fetch(index)  # StopIteration at the end of an iterable dataset


# Iterators with live workers, shut down at interpreter exit before multiprocessing's own
# exit handler terminates the (daemonic) workers.
_live_iterators: weakref.WeakSet[_MultiProcessingDataLoaderIter] = weakref.WeakSet()


def _shutdown_live_iterators() -> None:
    for it in list(_live_iterators):
        it._shutdown_workers()


atexit.register(_shutdown_live_iterators)


class _MultiProcessingDataLoaderIter(_BaseDataLoaderIter):
    """Loads with worker processes (Note [DataLoader workers] in ``_utils/worker.py``).

    Bookkeeping: ``_send_idx`` numbers the tasks sent, ``_rcvd_idx`` is the next one to deliver;
    ``_task_info[i]`` is ``(worker_id,)`` while task ``i`` is out, ``(worker_id, data)`` once its
    result came early. ``_workers_status[w]`` turns False when an iterable dataset's worker has
    run out; its outstanding tasks will never be answered and are skipped.
    """

    def __init__(self, loader: DataLoader[Any]) -> None:
        self._shutdown = True  # nothing to shut down until the workers exist
        self._owner_pid = os.getpid()
        super().__init__(loader)
        assert self._num_workers > 0 and self._prefetch_factor > 0
        self._in_order = loader.in_order
        ctx = loader.multiprocessing_context or _default_context()
        self._worker_result_queue = ctx.Queue()
        self._workers_done_event = ctx.Event()
        self._index_queues: list[Any] = []
        self._workers: list[Any] = []
        self._epoch = 0
        self._shutdown = False
        try:
            for worker_id in range(self._num_workers):
                index_queue = ctx.Queue()
                # Indices nobody will read (a dead worker's) must not block this process's exit.
                index_queue.cancel_join_thread()
                w = ctx.Process(  # type: ignore[attr-defined]
                    target=_worker_loop,
                    args=(
                        self._dataset_kind == _DatasetKind.Iterable,
                        self._dataset,
                        index_queue,
                        self._worker_result_queue,
                        self._workers_done_event,
                        self._auto_collation,
                        self._collate_fn,
                        self._drop_last,
                        self._base_seed,
                        loader.worker_init_fn,
                        worker_id,
                        self._num_workers,
                    ),
                    daemon=True,
                )
                self._index_queues.append(index_queue)
                w.start()
                self._workers.append(w)
        except BaseException:
            self._shutdown_workers()
            raise
        _live_iterators.add(self)
        self._reset(loader, first_iter=True)

    def _is_shut_down(self) -> bool:
        return self._shutdown

    def _reset(self, loader: DataLoader[Any], first_iter: bool = False) -> None:
        super()._reset(loader, first_iter)
        self._send_idx = 0
        self._rcvd_idx = 0
        self._task_info: dict[int, tuple[Any, ...]] = {}
        self._tasks_outstanding = 0
        self._workers_status = [True] * self._num_workers
        self._worker_queue_idx_cycle = itertools.cycle(range(self._num_workers))
        if not first_iter:
            # Persistent workers: every worker echoes the token after whatever it still had
            # queued from the previous epoch; everything before the echoes is stale.
            self._epoch += 1
            token = _ResumeIteration(self._epoch)
            for q in self._index_queues:
                q.put(token)
            remaining = self._num_workers
            while remaining:
                task_index, _ = self._get_data()
                if task_index == token:
                    remaining -= 1
        for _ in range(self._prefetch_factor * self._num_workers):
            self._try_put_index()

    # ---- receiving ----------------------------------------------------------------------------------
    def _check_workers_alive(self) -> None:
        failed = [w for w, active in zip(self._workers, self._workers_status) if active and not w.is_alive()]
        if failed:
            detail = ", ".join(f"{w.pid} (exit code {w.exitcode})" for w in failed)
            self._shutdown_workers()
            raise RuntimeError(f"DataLoader worker (pid(s) {detail}) exited unexpectedly")

    def _get_data(self) -> tuple[Any, Any]:
        """The next ``(task_index, data)`` from any worker; ``RuntimeError`` when a worker died
        or ``timeout`` seconds passed without one."""
        if self._shutdown:
            raise RuntimeError("DataLoader iterator used after its workers were shut down")
        deadline = time.monotonic() + self._timeout if self._timeout > 0 else None
        while True:
            wait = STATUS_CHECK_INTERVAL
            if deadline is not None:
                wait = max(0.0, min(wait, deadline - time.monotonic()))
            try:
                task_index, payload = self._worker_result_queue.get(timeout=wait)
            except queue.Empty:
                self._check_workers_alive()
                if deadline is not None and time.monotonic() >= deadline:
                    raise RuntimeError(f"DataLoader timed out after {self._timeout} seconds") from None
                continue
            if isinstance(task_index, _ResumeIteration):
                return task_index, None
            return task_index, pickle.loads(payload)

    # ---- sending ------------------------------------------------------------------------------------
    def _try_put_index(self) -> None:
        if self._tasks_outstanding >= self._prefetch_factor * self._num_workers:
            return
        try:
            index = self._next_index()
        except StopIteration:
            return
        for _ in range(self._num_workers):  # the next worker that still has data
            worker_id = next(self._worker_queue_idx_cycle)
            if self._workers_status[worker_id]:
                break
        else:
            return
        self._index_queues[worker_id].put((self._send_idx, index))
        self._task_info[self._send_idx] = (worker_id,)
        self._tasks_outstanding += 1
        self._send_idx += 1

    def _process_data(self, data: Any) -> Any:
        self._try_put_index()
        if isinstance(data, ExceptionWrapper):
            data.reraise()
        return data

    def _mark_worker_as_unavailable(self, worker_id: int) -> None:
        """An iterable dataset's worker that ran out: told to exit (unless persistent)."""
        self._workers_status[worker_id] = False
        if not self._persistent_workers:
            self._index_queues[worker_id].put(None)

    def _next_data(self) -> Any:
        while True:
            # Skip tasks already delivered (in_order=False) and tasks of workers that ran out.
            while self._rcvd_idx < self._send_idx:
                info = self._task_info.get(self._rcvd_idx)
                if info is not None and (len(info) == 2 or self._workers_status[info[0]]):
                    break
                self._task_info.pop(self._rcvd_idx, None)
                self._rcvd_idx += 1
            else:
                if not self._persistent_workers:
                    self._shutdown_workers()
                raise StopIteration
            info = self._task_info[self._rcvd_idx]
            if len(info) == 2:
                del self._task_info[self._rcvd_idx]
                self._rcvd_idx += 1
                return self._process_data(info[1])
            task_index, data = self._get_data()
            if isinstance(task_index, _ResumeIteration):
                continue
            self._tasks_outstanding -= 1
            if isinstance(data, _IterableDatasetStopIteration):
                self._mark_worker_as_unavailable(data.worker_id)
                self._try_put_index()
                continue
            if task_index == self._rcvd_idx:
                del self._task_info[task_index]
                self._rcvd_idx += 1
                return self._process_data(data)
            if not self._in_order:
                del self._task_info[task_index]
                return self._process_data(data)
            self._task_info[task_index] += (data,)

    # ---- shutting down ------------------------------------------------------------------------------
    def _shutdown_workers(self) -> None:
        """Stops the workers: asks them to exit, waits a little, then terminates what is left.
        Safe to call more than once, from ``__del__`` and at interpreter exit."""
        if getattr(self, "_shutdown", True) or os.getpid() != self._owner_pid:
            return  # a forked child's copy of this iterator owns no workers
        self._shutdown = True
        try:
            self._workers_done_event.set()
            for q in self._index_queues:
                try:
                    q.put(None)
                except Exception:  # a queue already closed
                    pass
            deadline = time.monotonic() + _SHUTDOWN_TIMEOUT
            for w in self._workers:
                w.join(timeout=max(0.0, deadline - time.monotonic()))
        finally:
            for w in self._workers:
                if w.is_alive():
                    w.terminate()
                    w.join(timeout=1.0)
                    if w.is_alive():
                        w.kill()
                        w.join(timeout=1.0)
            for q in [*self._index_queues, self._worker_result_queue]:
                q.cancel_join_thread()
                q.close()
            _live_iterators.discard(self)

    def __del__(self) -> None:
        self._shutdown_workers()
