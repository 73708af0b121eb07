"""chainrule.utils.data datasets: TensorDataset, StackDataset, ConcatDataset, ChainDataset,
Subset, IterableDataset and random_split, by hand and against torch.utils.data."""

import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule.utils.data import (
    ChainDataset,
    ConcatDataset,
    DataLoader,
    Dataset,
    IterableDataset,
    StackDataset,
    Subset,
    TensorDataset,
    random_split,
)


def _gen(seed):
    return cr.Generator().manual_seed(seed)


class Stream(IterableDataset):
    def __init__(self, items):
        self.items = list(items)

    def __iter__(self):
        return iter(self.items)

    def __len__(self):
        return len(self.items)


# ---- TensorDataset and StackDataset ------------------------------------------------------------------
def test_tensor_dataset_rows_and_errors():
    ds = TensorDataset(cr.arange(6.0).reshape(3, 2), cr.tensor([7, 8, 9]))
    x, y = ds[1]
    assert len(ds) == 3 and x.tolist() == [2.0, 3.0] and y.item() == 8
    x, y = ds[-1]
    assert y.item() == 9
    with pytest.raises(ValueError, match="Size mismatch"):
        TensorDataset(cr.ones(3), cr.ones(4))
    with pytest.raises(IndexError):
        ds[3]


def test_stack_dataset_tuple_and_dict_forms():
    a, b = list(range(4)), [x * 10 for x in range(4)]
    s = StackDataset(a, b)
    assert len(s) == 4 and s[2] == (2, 20) and s.__getitems__([0, 3]) == [(0, 0), (3, 30)]
    d = StackDataset(x=a, y=b)
    assert d[1] == {"x": 1, "y": 10} and d.__getitems__([2]) == [{"x": 2, "y": 20}]
    batch = next(iter(DataLoader(d, batch_size=4)))
    assert batch["y"].tolist() == [0, 10, 20, 30]
    with pytest.raises(ValueError, match="Size mismatch"):
        StackDataset(a, [1])
    with pytest.raises(ValueError):
        StackDataset(a, y=b)
    with pytest.raises(ValueError, match="At least one"):
        StackDataset()


def test_stack_dataset_matches_torch(torch):
    a, b = list(range(4)), [x * 10 for x in range(4)]
    ts = torch.utils.data.StackDataset(x=a, y=b)
    cs = StackDataset(x=a, y=b)
    assert [cs[i] for i in range(4)] == [ts[i] for i in range(4)]
    assert cs.__getitems__([3, 1]) == ts.__getitems__([3, 1]) and len(cs) == len(ts)
    for args, kwargs in [((a, [1]), {}), ((), {}), ((a,), {"y": b})]:
        with pytest.raises(ValueError):
            torch.utils.data.StackDataset(*args, **kwargs)
        with pytest.raises(ValueError):
            StackDataset(*args, **kwargs)


# ---- ConcatDataset and ChainDataset ------------------------------------------------------------------
def test_concat_dataset_indexing():
    cd = ConcatDataset([[0, 1, 2], [3], [], [4, 5]])
    assert (
        len(cd) == 6 and [cd[i] for i in range(6)] == list(range(6)) and cd.cumulative_sizes == [3, 4, 4, 6]
    )
    assert cd[-1] == 5 and cd[-6] == 0
    with pytest.raises(ValueError, match="absolute value"):
        cd[-7]
    with pytest.raises(IndexError):
        cd[6]
    with pytest.raises(ValueError):
        ConcatDataset([])
    with pytest.raises(TypeError):
        ConcatDataset([Stream([1])])
    with pytest.warns(DeprecationWarning):
        assert cd.cummulative_sizes == cd.cumulative_sizes


def test_dataset_add_concatenates():
    class Small(Dataset):
        def __init__(self, base):
            self.base = base

        def __len__(self):
            return 2

        def __getitem__(self, i):
            return self.base + i

    both = Small(0) + Small(10)
    assert isinstance(both, ConcatDataset) and [both[i] for i in range(4)] == [0, 1, 10, 11]


def test_concat_dataset_matches_torch(torch):
    parts = [[0, 1, 2], [3], [], [4, 5]]
    tc, cc = torch.utils.data.ConcatDataset(parts), ConcatDataset(parts)
    assert [cc[i] for i in range(-6, 6)] == [tc[i] for i in range(-6, 6)]
    assert cc.cumulative_sizes == tc.cumulative_sizes and len(cc) == len(tc)
    with pytest.raises(ValueError):
        tc[-7]
    with pytest.raises(ValueError):
        cc[-7]


def test_chain_dataset_chains_streams_lazily():
    ch = ChainDataset([Stream([1, 2]), Stream([]), Stream([3])])
    assert list(ch) == [1, 2, 3] and list(ch) == [1, 2, 3] and len(ch) == 3
    both = Stream([1]) + Stream([2])
    assert isinstance(both, ChainDataset) and list(both) == [1, 2]
    bad = ChainDataset([Stream([1]), [2]])
    it = iter(bad)
    assert next(it) == 1
    with pytest.raises(TypeError):
        next(it)
    with pytest.raises(TypeError):
        len(bad)
    assert [b.tolist() for b in DataLoader(ch, batch_size=2)] == [[1, 2], [3]]


def test_iterable_dataset_is_abstract_until_iter_is_defined():
    with pytest.raises(TypeError):
        IterableDataset()

    class NoLen(IterableDataset):
        def __iter__(self):
            return iter([1])

    assert list(NoLen()) == [1]
    with pytest.raises(TypeError):
        len(NoLen())


def test_dataset_base_getitem_raises_not_implemented():
    with pytest.raises(NotImplementedError):
        Dataset()[0]
    with pytest.raises(TypeError):
        len(Dataset())


# ---- Subset --------------------------------------------------------------------------------------------
def test_subset_indexing_and_getitems():
    base = list(range(100, 110))
    sub = Subset(base, [9, 2, 5])
    assert len(sub) == 3 and sub[0] == 109 and sub.__getitems__([2, 0]) == [105, 109]
    assert [b.tolist() for b in DataLoader(sub, batch_size=2)] == [[109, 102], [105]]

    class Batched(Dataset):
        def __getitem__(self, i):
            return i

        def __getitems__(self, indices):
            return [("batched", i) for i in indices]

    assert Subset(Batched(), [4, 6]).__getitems__([1]) == [("batched", 6)]
    with pytest.raises(IndexError):
        Subset(base, [100])[0]


def test_subset_subclass_overriding_getitem_only_is_refused():
    class Doubled(Subset):
        def __getitem__(self, i):
            return 2 * super().__getitem__(i)

    with pytest.raises(NotImplementedError, match="__getitems__"):
        Doubled([1, 2], [0])

    class DoubledBoth(Doubled):
        def __getitems__(self, indices):
            return [self[i] for i in indices]

    assert [b.tolist() for b in DataLoader(DoubledBoth([1, 2], [1, 0]), batch_size=2)] == [[4, 2]]


# ---- random_split --------------------------------------------------------------------------------------
def test_random_split_counts_partition_the_dataset():
    parts = random_split(range(10), [3, 0, 7], generator=_gen(0))
    assert [len(p) for p in parts] == [3, 0, 7]
    assert sorted(i for p in parts for i in p.indices) == list(range(10))
    assert all(isinstance(p, Subset) for p in parts)
    again = random_split(range(10), [3, 0, 7], generator=_gen(0))
    assert [p.indices for p in again] == [p.indices for p in parts]
    other = random_split(range(10), [3, 0, 7], generator=_gen(1))
    assert [p.indices for p in other] != [p.indices for p in parts]


def test_random_split_fractions_hand_out_remainders_round_robin():
    assert [len(p) for p in random_split(range(10), [0.5, 0.3, 0.2], generator=_gen(0))] == [5, 3, 2]
    assert [len(p) for p in random_split(range(11), [0.5, 0.5], generator=_gen(0))] == [6, 5]
    assert [len(p) for p in random_split(range(7), [0.25, 0.25, 0.25, 0.25], generator=_gen(0))] == [
        2,
        2,
        2,
        1,
    ]
    with pytest.warns(UserWarning, match="Length of split at index") as record:
        assert [len(p) for p in random_split(range(2), [0.9, 0.05, 0.05], generator=_gen(0))] == [2, 0, 0]
    assert [str(w.message)[:27] for w in record] == [
        "Length of split at index 1 ",
        "Length of split at index 2 ",
    ]


def test_random_split_follows_manual_seed_without_generator():
    cr.manual_seed(3)
    a = [p.indices for p in random_split(range(20), [10, 10])]
    cr.manual_seed(3)
    assert [p.indices for p in random_split(range(20), [10, 10])] == a


def test_random_split_with_numpy_generator():
    a = random_split(range(6), [2, 4], generator=np.random.default_rng(0))
    b = random_split(range(6), [2, 4], generator=np.random.default_rng(0))
    assert [p.indices for p in a] == [p.indices for p in b]


@pytest.mark.parametrize(
    "lengths",
    [
        [5, 6],
        [0.5, 0.6],
        [1.5, -0.5],
        [],
        [float("nan"), 1.0],
        [-1, 11],
        [10**20, -(10**20) + 10],
        [2.5, 7.5],
    ],
)
def test_random_split_bad_lengths_raise_value_error(lengths):
    with pytest.raises(ValueError):
        random_split(range(10), lengths)


def test_random_split_bad_generator_raises_type_error():
    with pytest.raises(TypeError):
        random_split(range(10), [5, 5], generator="x")


@pytest.mark.parametrize(
    "n, lengths",
    [
        (10, [3, 7]),
        (10, [0.5, 0.3, 0.2]),
        (11, [0.5, 0.5]),
        (7, [0.25, 0.25, 0.25, 0.25]),
        (30, [0.3, 0.3, 0.4]),
        (5, [1]),
        (5, [0, 1]),
        (3, [0.1, 0.9]),
    ],
)
def test_random_split_lengths_match_torch(torch, n, lengths):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = [len(p) for p in torch.utils.data.random_split(range(n), lengths)]
        ours = [len(p) for p in random_split(range(n), lengths)]
    assert ours == theirs


@pytest.mark.parametrize("lengths", [[5, 6], [0.5, 0.6], [1.5, -0.5], [], [float("nan"), 1.0]])
def test_random_split_errors_match_torch(torch, lengths):
    with pytest.raises(ValueError):
        torch.utils.data.random_split(range(10), lengths)
    with pytest.raises(ValueError):
        random_split(range(10), lengths)
