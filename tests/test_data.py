"""chainrule.utils.data: datasets, samplers, DataLoader batching, shuffling and collation."""

import collections

import numpy as np
import pytest

import chainrule as cr
from chainrule.utils.data import DataLoader, Dataset, Subset, TensorDataset, default_collate, random_split


def _gen(seed):
    """A generator for shuffling: chainrule's when the engine has one, else NumPy's."""
    if hasattr(cr, "Generator"):
        return cr.Generator().manual_seed(seed)
    return np.random.default_rng(seed)


def _data(n=10):
    x = cr.tensor(np.arange(n * 2, dtype=np.float32).reshape(n, 2))
    y = cr.tensor(np.arange(n))
    return TensorDataset(x, y)


class Squares(Dataset):
    def __len__(self):
        return 7

    def __getitem__(self, i):
        return {"x": float(i), "y": i * i, "name": f"s{i}", "arr": np.full(2, i, np.float32)}


def test_tensor_dataset_indexing_and_len():
    ds = _data(4)
    assert len(ds) == 4
    x, y = ds[2]
    assert x.tolist() == [4.0, 5.0] and y.item() == 2


def test_tensor_dataset_size_mismatch_raises_value_error():
    with pytest.raises(ValueError, match="Size mismatch between tensors"):
        TensorDataset(cr.zeros(3, 2), cr.zeros(4))


def test_sequential_batches_and_last_partial_batch():
    loader = DataLoader(_data(10), batch_size=4)
    batches = list(loader)
    assert len(loader) == 3 and len(batches) == 3
    assert [tuple(b[0].shape) for b in batches] == [(4, 2), (4, 2), (2, 2)]
    assert batches[0][1].tolist() == [0, 1, 2, 3] and batches[2][1].tolist() == [8, 9]
    assert batches[0][0].dtype == cr.float32 and batches[0][1].dtype == cr.int64


def test_drop_last_drops_partial_batch():
    loader = DataLoader(_data(10), batch_size=4, drop_last=True)
    assert len(loader) == 2
    assert [b[1].tolist() for b in loader] == [[0, 1, 2, 3], [4, 5, 6, 7]]


def test_shuffle_is_a_permutation_reproducible_with_same_generator():
    orders = []
    for _ in range(2):
        loader = DataLoader(_data(20), batch_size=5, shuffle=True, generator=_gen(123))
        epoch1 = [i for _, y in loader for i in y.tolist()]
        epoch2 = [i for _, y in loader for i in y.tolist()]
        orders.append((epoch1, epoch2))
    assert orders[0] == orders[1]
    assert sorted(orders[0][0]) == list(range(20)) and orders[0][0] != list(range(20))
    assert orders[0][0] != orders[0][1]  # a new permutation every epoch


def test_default_collate_dicts_numbers_strings_and_arrays():
    batch = next(iter(DataLoader(Squares(), batch_size=3)))
    assert batch["x"].dtype == cr.float64 and batch["x"].tolist() == [0.0, 1.0, 2.0]
    assert batch["y"].dtype == cr.int64 and batch["y"].tolist() == [0, 1, 4]
    assert batch["name"] == ["s0", "s1", "s2"]
    assert batch["arr"].dtype == cr.float32 and tuple(batch["arr"].shape) == (3, 2)


def test_default_collate_tuples_become_lists_and_namedtuples_stay():
    out = default_collate([(1, 2.0), (3, 4.0)])
    assert isinstance(out, list) and out[0].tolist() == [1, 3] and out[1].tolist() == [2.0, 4.0]
    P = collections.namedtuple("P", "a b")
    out = default_collate([P(1, True), P(2, False)])
    assert isinstance(out, P) and out.a.tolist() == [1, 2] and out.b.tolist() == [True, False]
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([[1, 2], [3]])


def test_custom_collate_fn_and_batch_size_none():
    loader = DataLoader(_data(5), batch_size=2, collate_fn=lambda b: len(b))
    assert list(loader) == [2, 2, 1]
    single = list(DataLoader(Squares(), batch_size=None))
    assert len(single) == 7 and single[3]["y"] == 9 and single[3]["arr"].tolist() == [3.0, 3.0]


def test_sampler_and_shuffle_are_exclusive():
    with pytest.raises(ValueError, match="mutually exclusive"):
        DataLoader(_data(), sampler=[0, 1], shuffle=True)
    loader = DataLoader(_data(), sampler=[3, 1], batch_size=2)
    assert next(iter(loader))[1].tolist() == [3, 1]


def test_random_split_lengths_and_fractions():
    ds = _data(10)
    a, b = random_split(ds, [7, 3], generator=_gen(0))
    assert len(a) == 7 and len(b) == 3
    assert sorted(a.indices + b.indices) == list(range(10))
    a2, b2 = random_split(ds, [7, 3], generator=_gen(0))
    assert a2.indices == a.indices
    parts = random_split(ds, [0.5, 0.3, 0.2], generator=_gen(1))
    assert [len(p) for p in parts] == [5, 3, 2]
    parts = random_split(range(11), [0.5, 0.5], generator=_gen(1))
    assert [len(p) for p in parts] == [6, 5]
    with pytest.raises(ValueError, match="Sum of input lengths"):
        random_split(ds, [5, 6])


def test_subset_indexes_into_dataset():
    sub = Subset(_data(10), [9, 2])
    assert len(sub) == 2 and sub[0][1].item() == 9


@pytest.mark.skipif(
    not (hasattr(cr, "manual_seed") and hasattr(cr, "randperm")),
    reason="needs chainrule.manual_seed / randperm (merged separately)",
)
def test_manual_seed_makes_shuffle_reproducible():
    def order():
        return [i for _, y in DataLoader(_data(16), batch_size=4, shuffle=True) for i in y.tolist()]

    cr.manual_seed(7)
    first = order()
    cr.manual_seed(7)
    assert order() == first


def test_shuffle_without_generator_uses_global_randomness():
    loader = DataLoader(_data(12), batch_size=12, shuffle=True)
    e1, e2 = (next(iter(loader))[1].tolist() for _ in range(2))
    assert sorted(e1) == sorted(e2) == list(range(12))
    assert e1 != e2
