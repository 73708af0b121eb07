"""What runs in a DataLoader worker process, and what it tells the main process.

Note [DataLoader workers]
Each worker owns one index queue (main -> worker) and all share one result queue (worker ->
main). The main process keeps ``prefetch_factor * num_workers`` tasks outstanding, hands them out
round-robin, and delivers results in task order whatever order they arrive in. A worker:

1. seeds chainrule's, Python's and NumPy's legacy global RNGs from ``base_seed + worker_id``
   (``base_seed`` is drawn by the main process once per iterator), limits chainrule to one
   thread (a worker that also ran OpenMP teams would oversubscribe the cores), sets
   ``get_worker_info()`` and runs ``worker_init_fn(worker_id)``;
2. answers each ``(task_index, index)`` with ``(task_index, payload)``, where ``payload`` is the
   pickled batch, or the pickled ``ExceptionWrapper`` of what went wrong (the traceback as text,
   re-raised in the main process). Pickling happens here, in the worker, so that a batch that
   cannot be pickled is reported as an error instead of being dropped by the queue's feeder
   thread (which would leave the main process waiting);
3. for an iterable-style dataset, answers ``_IterableDatasetStopIteration`` once its iterator is
   exhausted, and ignores further tasks until told to resume;
4. answers ``_ResumeIteration`` with itself (persistent workers, at the start of an epoch: the
   main process discards whatever arrives before it) and restarts its dataset iterator;
5. exits on ``None``, when the main process sets ``done_event`` (shutdown), or when the main
   process is gone (its parent pid changed). Shutdown does not rely on the ``None`` arriving:
   the iterator's ``__del__`` may run from the garbage collector in any thread, the feeder
   thread of that very index queue included, and then the ``None`` is not sent until it
   returns.
"""

from __future__ import annotations

import os
import pickle
import queue
import random
import sys
import traceback
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

import chainrule

from .fetch import create_fetcher

__all__ = ["ExceptionWrapper", "WorkerInfo", "get_worker_info"]

# Seconds a worker waits on its index queue before checking that the main process is alive.
STATUS_CHECK_INTERVAL = 0.2


class WorkerInfo:
    """Information about the current DataLoader worker process (read-only).

    Attributes: ``id`` (0 to ``num_workers - 1``), ``num_workers``, ``seed`` (the seed this
    worker's RNGs were given) and ``dataset`` (this process's copy of the dataset).
    """

    id: int
    num_workers: int
    seed: int
    dataset: Any

    def __init__(self, **kwargs: Any) -> None:
        for key, value in kwargs.items():
            object.__setattr__(self, key, value)
        object.__setattr__(self, "_keys", tuple(kwargs))

    def __setattr__(self, key: str, value: Any) -> None:
        raise RuntimeError(f"Cannot assign attributes to {type(self).__name__} objects")

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={getattr(self, k)}" for k in self._keys)  # type: ignore[attr-defined]
        return f"{type(self).__name__}({fields})"


_worker_info: WorkerInfo | None = None


def get_worker_info() -> WorkerInfo | None:
    """In a DataLoader worker process, its ``WorkerInfo`` (``id``, ``num_workers``, ``seed``,
    ``dataset``); ``None`` in the main process. An ``IterableDataset.__iter__`` or a
    ``worker_init_fn`` uses it to give each worker its own share of the data."""
    return _worker_info


class _KeyErrorMessage(str):
    """A KeyError shows ``repr`` of its argument; this keeps a multi-line message readable."""

    def __repr__(self) -> str:
        return str(self)


class ExceptionWrapper:
    """An exception caught in a worker, carried to the main process as its type and the text of
    its traceback, and re-raised there (same type when it can be built from a message, else
    ``RuntimeError``)."""

    def __init__(self, exc_info: Any = None, where: str = "in background") -> None:
        if exc_info is None:
            exc_info = sys.exc_info()
        self.exc_type: type[BaseException] = exc_info[0]
        self.msg = f"Caught {self.exc_type.__name__} {where}.\nOriginal " + "".join(
            traceback.format_exception(*exc_info)
        )
        self.where = where

    def reraise(self) -> None:
        msg: str = self.msg
        if issubclass(self.exc_type, KeyError):
            msg = _KeyErrorMessage(msg)
        try:
            exception = self.exc_type(msg)
        except Exception:  # an exception type whose constructor takes other arguments
            raise RuntimeError(msg) from None
        try:
            raise exception
        finally:
            del exception  # no cycle through this frame keeps the iterator alive


@dataclass(frozen=True)
class _IterableDatasetStopIteration:
    """A worker's answer once its iterable dataset's iterator is exhausted."""

    worker_id: int


@dataclass(frozen=True)
class _ResumeIteration:
    """Sent to a persistent worker at the start of an epoch, and echoed back by it."""

    epoch: int


def _encode(data: Any, worker_id: int) -> bytes:
    """The pickled ``data``, or the pickled error that pickling it raised."""
    try:
        return pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:
        if isinstance(data, ExceptionWrapper):  # an exception type that does not pickle
            data.exc_type = RuntimeError
            return pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL)
        where = f"in DataLoader worker process {worker_id} while pickling a batch to send it"
        return pickle.dumps(ExceptionWrapper(where=where), protocol=pickle.HIGHEST_PROTOCOL)


def _seed_worker(base_seed: int, worker_id: int) -> int:
    """Seeds chainrule's, Python's and NumPy's legacy global RNGs for one worker; returns its seed."""
    seed = base_seed + worker_id
    random.seed(seed)
    chainrule.manual_seed(seed)
    # NumPy's legacy seed takes 32-bit words: spread the 64-bit seed and the worker id over four.
    np.random.seed(np.random.SeedSequence(base_seed, spawn_key=(worker_id,)).generate_state(4))
    return seed


def _worker_loop(
    iterable: bool,
    dataset: Any,
    index_queue: Any,
    result_queue: Any,
    done_event: Any,
    auto_collation: bool,
    collate_fn: Callable[[Any], Any],
    drop_last: bool,
    base_seed: int,
    init_fn: Callable[[int], None] | None,
    worker_id: int,
    num_workers: int,
) -> None:
    """The body of a worker process (Note [DataLoader workers])."""
    global _worker_info
    parent_pid = os.getppid()
    try:
        seed = _seed_worker(base_seed, worker_id)
        chainrule.set_num_threads(1)
        _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed, dataset=dataset)
        where = f"in DataLoader worker process {worker_id}"
        fetcher = None
        init_error: ExceptionWrapper | None = None
        try:
            if init_fn is not None:
                init_fn(worker_id)
            fetcher = create_fetcher(iterable, dataset, auto_collation, collate_fn, drop_last)
        except Exception:
            init_error = ExceptionWrapper(where=where)
        iteration_end = False
        while os.getppid() == parent_pid and not done_event.is_set():
            try:
                task = index_queue.get(timeout=STATUS_CHECK_INTERVAL)
            except queue.Empty:
                continue
            if task is None:  # this worker is done (its iterable ran out, or shutdown)
                break
            if isinstance(task, _ResumeIteration):
                iteration_end = False
                if iterable and init_error is None:
                    try:
                        fetcher = create_fetcher(iterable, dataset, auto_collation, collate_fn, drop_last)
                    except Exception:
                        init_error = ExceptionWrapper(where=where)
                result_queue.put((task, b""))
                continue
            if done_event.is_set() or iteration_end:
                continue  # stale work after the end: no answer expected
            task_index, index = task
            data: Any
            if init_error is not None:
                data = init_error
            else:
                try:
                    assert fetcher is not None
                    data = fetcher.fetch(index)
                except StopIteration:
                    if iterable:
                        data = _IterableDatasetStopIteration(worker_id)
                        iteration_end = True
                    else:
                        data = ExceptionWrapper(where=where)
                except Exception:
                    data = ExceptionWrapper(where=where)
            result_queue.put((task_index, _encode(data, worker_id)))
            del data, task, index
    except KeyboardInterrupt:  # Ctrl-C reaches the workers too; the main process reports it
        pass
    if done_event.is_set():
        # Results nobody will read must not keep this process alive at exit.
        result_queue.cancel_join_thread()
        result_queue.close()
