"""chainrule.utils.data.DataLoader in the main process: the package layout, argument validation
(with PyTorch's exception types), batch boundaries, samplers and batch samplers, generators,
iterable datasets and len()."""

import multiprocessing
import warnings

import numpy as np
import pytest

import chainrule as cr
import chainrule.utils.data as data
from chainrule.utils.data import (
    BatchSampler,
    DataLoader,
    Dataset,
    IterableDataset,
    RandomSampler,
    SequentialSampler,
    TensorDataset,
)


def _gen(seed):
    return cr.Generator().manual_seed(seed)


def _ds(n=10):
    return TensorDataset(cr.arange(float(2 * n)).reshape(n, 2), cr.arange(n))


class Stream(IterableDataset):
    def __init__(self, n, with_len=True):
        self.n, self.with_len = n, with_len

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        if not self.with_len:
            raise TypeError("no len")
        return self.n


def _ys(loader):
    return [b[1].tolist() for b in loader]


# ---- layout ------------------------------------------------------------------------------------------
def test_submodules_have_pytorchs_names():
    from chainrule.utils.data._utils.collate import default_collate as dc2
    from chainrule.utils.data.dataloader import DataLoader as DL
    from chainrule.utils.data.dataloader import default_collate, default_convert, get_worker_info
    from chainrule.utils.data.dataset import (
        ChainDataset,
        ConcatDataset,
        StackDataset,
        Subset,
        random_split,
    )
    from chainrule.utils.data.dataset import Dataset as D
    from chainrule.utils.data.sampler import (
        SubsetRandomSampler,
        WeightedRandomSampler,
    )

    assert DL is DataLoader and D is Dataset and default_collate is data.default_collate is dc2
    assert default_convert is data.default_convert and get_worker_info is data.get_worker_info
    for obj in (ChainDataset, ConcatDataset, StackDataset, Subset, random_split, SubsetRandomSampler):
        assert getattr(data, obj.__name__) is obj
    assert data.WeightedRandomSampler is WeightedRandomSampler
    assert cr.utils.data is data


def test_every_name_of_torch_utils_data_that_we_implement_is_exported():
    names = {
        "BatchSampler",
        "ChainDataset",
        "ConcatDataset",
        "DataLoader",
        "Dataset",
        "DistributedSampler",
        "IterableDataset",
        "RandomSampler",
        "Sampler",
        "SequentialSampler",
        "StackDataset",
        "Subset",
        "SubsetRandomSampler",
        "TensorDataset",
        "WeightedRandomSampler",
        "default_collate",
        "default_convert",
        "get_worker_info",
        "random_split",
    }
    assert names <= set(data.__all__)
    for name in data.__all__:
        assert hasattr(data, name)


def test_get_worker_info_is_none_in_main_process():
    assert data.get_worker_info() is None


def test_dataset_is_generic_like_pytorchs():
    class Ints(Dataset[int]):
        def __getitem__(self, i):
            return i

    assert Ints()[3] == 3
    assert DataLoader[int] is not None and data.Sampler[int] is not None


# ---- validation --------------------------------------------------------------------------------------
BAD_LOADER_ARGS = [
    ({"num_workers": -1}, ValueError),
    ({"timeout": -1}, ValueError),
    ({"timeout": "1"}, TypeError),
    ({"num_workers": "2"}, TypeError),
    ({"batch_size": 0}, ValueError),
    ({"batch_size": -2}, ValueError),
    ({"batch_size": 1.5}, ValueError),
    ({"batch_size": True}, ValueError),
    ({"drop_last": "x"}, ValueError),
    ({"sampler": [0, 1], "shuffle": True}, ValueError),
    ({"batch_sampler": [[0, 1]], "batch_size": 2}, ValueError),
    ({"batch_sampler": [[0, 1]], "shuffle": True}, ValueError),
    ({"batch_sampler": [[0, 1]], "sampler": [0]}, ValueError),
    ({"batch_sampler": [[0, 1]], "drop_last": True}, ValueError),
    ({"batch_size": None, "drop_last": True}, ValueError),
    ({"prefetch_factor": 2}, ValueError),
    ({"num_workers": 1, "prefetch_factor": -1}, ValueError),
    ({"persistent_workers": True}, ValueError),
    ({"multiprocessing_context": "fork"}, ValueError),
    ({"num_workers": 1, "multiprocessing_context": "no-such-method"}, ValueError),
    ({"num_workers": 1, "multiprocessing_context": 5}, TypeError),
]


@pytest.mark.parametrize("kwargs, exc", BAD_LOADER_ARGS, ids=[str(k) for k, _ in BAD_LOADER_ARGS])
def test_loader_argument_errors(kwargs, exc):
    with pytest.raises(exc):
        DataLoader(_ds(), **kwargs)


@pytest.mark.parametrize("kwargs, exc", BAD_LOADER_ARGS, ids=[str(k) for k, _ in BAD_LOADER_ARGS])
def test_loader_argument_errors_match_torch(torch, kwargs, exc):
    with pytest.raises(exc):
        torch.utils.data.DataLoader(list(range(10)), **kwargs)


@pytest.mark.filterwarnings(
    "ignore::pytest.PytestUnraisableExceptionWarning"
)  # PyTorch's half-built iterator
def test_loader_arguments_torch_rejects_only_when_iterating_are_rejected_at_construction(torch):
    # PyTorch raises AssertionError at iter() for these; ValueError here, at construction.
    for kwargs in ({"timeout": 5}, {"num_workers": 1, "prefetch_factor": 0}):
        with pytest.raises(AssertionError):
            list(torch.utils.data.DataLoader(list(range(4)), **kwargs))
        with pytest.raises(ValueError):
            DataLoader(list(range(4)), **kwargs)


def test_iterable_dataset_refuses_shuffle_sampler_and_batch_sampler(torch):
    class TorchStream(torch.utils.data.IterableDataset):
        def __iter__(self):
            return iter(range(3))

    for kwargs in ({"shuffle": True}, {"sampler": [0]}, {"batch_sampler": [[0]]}):
        with pytest.raises(ValueError, match="IterableDataset"):
            DataLoader(Stream(3), **kwargs)
        with pytest.raises(ValueError, match="IterableDataset"):
            torch.utils.data.DataLoader(TorchStream(), **kwargs)
    DataLoader(Stream(3), shuffle=False)  # an explicit False is fine, as in PyTorch


def test_collate_fn_and_worker_init_fn_must_be_callable():
    with pytest.raises(TypeError):
        DataLoader(_ds(), collate_fn=5)
    with pytest.raises(TypeError):
        DataLoader(_ds(), num_workers=1, worker_init_fn=5)


def test_attributes_are_frozen_after_init():
    loader = DataLoader(_ds(), batch_size=2)
    for attr, value in [("batch_size", 3), ("sampler", None), ("dataset", []), ("drop_last", True)]:
        with pytest.raises(ValueError, match="should not be set"):
            setattr(loader, attr, value)
    loader.collate_fn = len  # other attributes stay writable
    assert list(loader)[0] == 2


def test_multiprocessing_context_is_normalised_to_a_context():
    loader = DataLoader(_ds(), num_workers=1, multiprocessing_context="spawn")
    assert isinstance(loader.multiprocessing_context, multiprocessing.context.BaseContext)
    assert loader.multiprocessing_context.get_start_method() == "spawn"
    assert DataLoader(_ds(), num_workers=1).multiprocessing_context is None


def test_pin_memory_is_accepted_and_changes_nothing():
    assert _ys(DataLoader(_ds(5), batch_size=2, pin_memory=True, pin_memory_device="")) == _ys(
        DataLoader(_ds(5), batch_size=2)
    )


# ---- batching ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("drop_last", [False, True])
@pytest.mark.parametrize("n, batch_size", [(10, 3), (9, 3), (3, 5), (0, 4), (1, 1)])
def test_batch_boundaries(n, batch_size, drop_last):
    loader = DataLoader(list(range(n)), batch_size=batch_size, drop_last=drop_last)
    out = [b.tolist() for b in loader]
    flat = [i for b in out for i in b]
    assert all(len(b) == batch_size for b in out[:-1])
    assert flat == list(range(len(out) * batch_size if drop_last else n))
    assert len(loader) == len(out)


@pytest.mark.parametrize("drop_last", [False, True])
@pytest.mark.parametrize("n, batch_size", [(10, 3), (9, 3), (3, 5), (0, 4), (1, 1)])
def test_batch_boundaries_match_torch(torch, n, batch_size, drop_last):
    theirs = torch.utils.data.DataLoader(list(range(n)), batch_size=batch_size, drop_last=drop_last)
    ours = DataLoader(list(range(n)), batch_size=batch_size, drop_last=drop_last)
    assert [b.tolist() for b in ours] == [b.tolist() for b in theirs]
    assert len(ours) == len(theirs)


def test_batch_size_none_yields_converted_samples():
    loader = DataLoader([np.arange(2.0), np.arange(2.0) + 1], batch_size=None)
    out = list(loader)
    assert len(loader) == 2 and isinstance(out[0], cr.Tensor) and out[1].tolist() == [1.0, 2.0]
    assert list(DataLoader([1, 2, 3], batch_size=None)) == [1, 2, 3]


def test_batch_sampler_gives_the_batches():
    loader = DataLoader(_ds(10), batch_sampler=[[3, 1], [0], [9, 8, 7]])
    assert _ys(loader) == [[3, 1], [0], [9, 8, 7]] and len(loader) == 3
    assert loader.batch_size is None and loader.drop_last is False
    bs = BatchSampler(SequentialSampler(range(5)), 2, True)
    assert _ys(DataLoader(_ds(5), batch_sampler=bs)) == [[0, 1], [2, 3]]


def test_batch_sampler_matches_torch(torch):
    batches = [[3, 1], [0], [9, 8, 7]]
    theirs = torch.utils.data.DataLoader(list(range(10)), batch_sampler=batches)
    ours = DataLoader(list(range(10)), batch_sampler=batches)
    assert [b.tolist() for b in ours] == [b.tolist() for b in theirs] and len(ours) == len(theirs)


def test_sampler_sets_the_order():
    assert _ys(DataLoader(_ds(10), sampler=[9, 0, 5], batch_size=2)) == [[9, 0], [5]]
    assert [y.tolist() for _, y in DataLoader(_ds(10), sampler=[4, 2], batch_size=None)] == [4, 2]


def test_getitems_loads_a_batch_in_one_call():
    class Batched(Dataset):
        calls = []

        def __len__(self):
            return 5

        def __getitem__(self, i):
            raise AssertionError("__getitems__ should be used")

        def __getitems__(self, indices):
            self.calls.append(list(indices))
            return [i * 10 for i in indices]

    assert [b.tolist() for b in DataLoader(Batched(), batch_size=2)] == [[0, 10], [20, 30], [40]]
    assert Batched.calls == [[0, 1], [2, 3], [4]]


def test_collate_fn_receives_the_list_of_samples():
    loader = DataLoader(list(range(5)), batch_size=2, collate_fn=lambda b: tuple(b))
    assert list(loader) == [(0, 1), (2, 3), (4,)]


# ---- shuffling and generators ------------------------------------------------------------------------
def test_shuffle_uses_the_loaders_generator_and_reshuffles_each_epoch():
    loader = DataLoader(list(range(30)), batch_size=30, shuffle=True, generator=_gen(1))
    e1, e2 = (next(iter(loader)).tolist() for _ in range(2))
    assert sorted(e1) == sorted(e2) == list(range(30)) and e1 != e2
    again = DataLoader(list(range(30)), batch_size=30, shuffle=True, generator=_gen(1))
    assert [next(iter(again)).tolist() for _ in range(2)] == [e1, e2]
    assert isinstance(loader.sampler, RandomSampler) and loader.sampler.generator is loader.generator


def test_shuffle_with_numpy_generator():
    a = [
        b.tolist()
        for b in DataLoader(list(range(8)), batch_size=4, shuffle=True, generator=np.random.default_rng(3))
    ]
    b = [
        b.tolist()
        for b in DataLoader(list(range(8)), batch_size=4, shuffle=True, generator=np.random.default_rng(3))
    ]
    assert a == b and sorted(a[0] + a[1]) == list(range(8))


def test_generator_of_wrong_type_raises_type_error_when_iterating():
    loader = DataLoader(list(range(4)), generator="x")
    with pytest.raises(TypeError):
        iter(loader)


def test_each_iterator_draws_one_base_seed_from_the_generator():
    # A worker seed is drawn per iterator (as PyTorch), with or without workers, so that the
    # shuffled order does not depend on num_workers.
    g = _gen(5)
    it = iter(DataLoader(list(range(4)), generator=g))
    expected_seed = int(cr.randint(0, 2**63 - 1, (), generator=_gen(5)).item())
    assert it._base_seed == expected_seed


# ---- iterable datasets -------------------------------------------------------------------------------
def test_iterable_dataset_batches_and_drop_last():
    assert [b.tolist() for b in DataLoader(Stream(7), batch_size=3)] == [[0, 1, 2], [3, 4, 5], [6]]
    assert [b.tolist() for b in DataLoader(Stream(7), batch_size=3, drop_last=True)] == [[0, 1, 2], [3, 4, 5]]
    assert list(DataLoader(Stream(3), batch_size=None)) == [0, 1, 2]
    assert [b.tolist() for b in DataLoader(Stream(0), batch_size=2)] == []


def test_iterable_dataset_matches_torch(torch):
    class TorchStream(torch.utils.data.IterableDataset):
        def __iter__(self):
            return iter(range(7))

    for kw in (
        {"batch_size": 3},
        {"batch_size": 3, "drop_last": True},
        {"batch_size": 7},
        {"batch_size": 10},
    ):
        theirs = [b.tolist() for b in torch.utils.data.DataLoader(TorchStream(), **kw)]
        assert [b.tolist() for b in DataLoader(Stream(7), **kw)] == theirs


def test_len_of_loader_over_iterable_dataset():
    assert len(DataLoader(Stream(7), batch_size=3)) == 3
    assert len(DataLoader(Stream(7), batch_size=3, drop_last=True)) == 2
    assert len(DataLoader(Stream(7), batch_size=None)) == 7
    with pytest.raises(TypeError):
        len(DataLoader(Stream(7, with_len=False), batch_size=3))


def test_len_of_loader_over_iterable_dataset_matches_torch(torch):
    class TorchStream(torch.utils.data.IterableDataset):
        def __iter__(self):
            return iter(range(7))

        def __len__(self):
            return 7

    for kw in ({"batch_size": 3}, {"batch_size": 3, "drop_last": True}, {"batch_size": None}):
        assert len(DataLoader(Stream(7), **kw)) == len(torch.utils.data.DataLoader(TorchStream(), **kw))

    class NoLen(torch.utils.data.IterableDataset):
        def __iter__(self):
            return iter(range(7))

    with pytest.raises(TypeError):
        len(torch.utils.data.DataLoader(NoLen(), batch_size=3))


def test_iterable_dataset_longer_than_its_len_warns():
    class Liar(Stream):
        def __len__(self):
            return 2

    loader = DataLoader(Liar(4), batch_size=None)
    assert len(loader) == 2
    with pytest.warns(UserWarning, match="was reported to be 2"):
        assert list(loader) == [0, 1, 2, 3]


def test_loader_over_map_dataset_without_len():
    class NoLen(Dataset):
        def __getitem__(self, i):
            return i

    loader = DataLoader(NoLen(), sampler=[2, 0], batch_size=2)
    assert [b.tolist() for b in loader] == [[2, 0]]
    with pytest.raises(TypeError):
        len(DataLoader(NoLen()))


def test_more_workers_than_cpus_warns():
    import os

    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    with pytest.warns(UserWarning, match="worker processes"):
        DataLoader(_ds(), num_workers=cpus + 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        DataLoader(_ds(), num_workers=1)
