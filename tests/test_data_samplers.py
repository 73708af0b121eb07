"""chainrule.utils.data samplers: SequentialSampler, RandomSampler (lazy independent draws with
replacement), SubsetRandomSampler, WeightedRandomSampler and BatchSampler."""

import itertools

import numpy as np
import pytest

import chainrule as cr
from chainrule.utils.data import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)
from chainrule.utils.data.distributed import DistributedSampler
from chainrule.utils.data.sampler import RandomSampler as RandomSamplerFromSubmodule


def _gen(seed):
    return cr.Generator().manual_seed(seed)


# ---- SequentialSampler and the Sampler base ----------------------------------------------------------
def test_sequential_sampler_is_range_of_len():
    s = SequentialSampler(range(5))
    assert list(s) == [0, 1, 2, 3, 4] and list(s) == [0, 1, 2, 3, 4] and len(s) == 5


def test_sampler_base_has_no_len_and_subclasses_iterate():
    class Evens(Sampler):
        def __iter__(self):
            return iter([0, 2, 4])

    s = Evens()
    assert list(s) == [0, 2, 4]
    with pytest.raises(TypeError):
        len(s)
    with pytest.raises(NotImplementedError):
        iter(Sampler())
    assert RandomSamplerFromSubmodule is RandomSampler


# ---- RandomSampler with replacement --------------------------------------------------------------------
def test_random_sampler_huge_num_samples_is_lazy():
    s = RandomSampler(range(7), replacement=True, num_samples=10**15, generator=_gen(0))
    assert len(s) == 10**15
    it = iter(s)  # building 10**15 indices up front would never return
    first = list(itertools.islice(it, 100))
    assert len(first) == 100 and all(0 <= i < 7 for i in first)


def test_random_sampler_with_replacement_len_and_range():
    s = RandomSampler(range(10), replacement=True, num_samples=77, generator=_gen(1))
    out = list(s)
    assert len(s) == 77 and len(out) == 77
    assert all(isinstance(i, int) and 0 <= i < 10 for i in out)
    # num_samples defaults to the dataset's length, with replacement too
    assert len(list(RandomSampler(range(10), replacement=True, generator=_gen(1)))) == 10


def test_random_sampler_with_replacement_draws_are_uniform():
    n, draws = 10, 20000
    out = np.array(list(RandomSampler(range(n), replacement=True, num_samples=draws, generator=_gen(3))))
    counts = np.bincount(out, minlength=n)
    expected = draws / n
    chi2 = float(((counts - expected) ** 2 / expected).sum())
    assert counts.min() > 0
    assert chi2 < 40.0, counts  # 9 degrees of freedom: P(chi2 > 40) < 1e-5 for uniform draws


def test_random_sampler_with_replacement_draws_are_independent_not_permutations():
    # Concatenated permutations would make every aligned block of n draws a permutation; for
    # independent draws a block of 10 is a permutation with probability 10!/10**10 (~0.04%).
    out = list(RandomSampler(range(10), replacement=True, num_samples=1000, generator=_gen(4)))
    blocks = [out[i : i + 10] for i in range(0, 1000, 10)]
    assert sum(sorted(b) == list(range(10)) for b in blocks) <= 1
    # a sample of 2 from 2 items repeats an item about half the time
    pairs = [
        tuple(RandomSampler(range(2), replacement=True, num_samples=2, generator=_gen(s))) for s in range(200)
    ]
    repeats = sum(a == b for a, b in pairs)
    assert 60 < repeats < 140


def test_random_sampler_honours_generator():
    def draws(gen):
        return list(RandomSampler(range(50), replacement=True, num_samples=100, generator=gen))

    assert draws(_gen(5)) == draws(_gen(5))
    assert draws(_gen(5)) != draws(_gen(6))
    assert draws(np.random.default_rng(5)) == draws(np.random.default_rng(5))
    g = _gen(7)
    s = RandomSampler(range(50), replacement=True, num_samples=100, generator=g)
    assert list(s) != list(s)  # the generator advances: a new sample each epoch


def test_random_sampler_draws_in_chunks_of_32_from_the_generator():
    # PyTorch draws with replacement 32 at a time from randint(high=n); the same stream here.
    got = list(RandomSampler(range(9), replacement=True, num_samples=70, generator=_gen(8)))
    g = _gen(8)
    want = []
    for size in (32, 32, 6):
        want += cr.randint(0, 9, (size,), generator=g).tolist()
    assert got == want


def test_random_sampler_without_generator_follows_manual_seed():
    def epoch():
        return list(RandomSampler(range(20), replacement=True, num_samples=40))

    cr.manual_seed(11)
    a = epoch()
    cr.manual_seed(11)
    assert epoch() == a
    assert epoch() != a


def test_random_sampler_without_replacement_permutations_and_num_samples():
    s = RandomSampler(range(6), generator=_gen(0))
    out = list(s)
    assert sorted(out) == list(range(6)) and len(s) == 6
    out = list(RandomSampler(range(4), num_samples=10, generator=_gen(0)))
    assert len(out) == 10
    assert sorted(out[:4]) == sorted(out[4:8]) == [0, 1, 2, 3] and len(set(out[8:])) == 2


@pytest.mark.parametrize("replacement", [True, False])
def test_random_sampler_empty_dataset_raises_value_error(replacement):
    with pytest.raises(ValueError, match="num_samples should be a positive integer"):
        RandomSampler([], replacement=replacement)
    s = RandomSampler([], replacement=replacement, num_samples=3)
    with pytest.raises(ValueError, match="empty"):
        list(s)
    with pytest.raises(RuntimeError):  # ArgumentError: code written for PyTorch catches it too
        list(s)


@pytest.mark.parametrize(
    "kwargs, exc",
    [
        ({"num_samples": 0}, ValueError),
        ({"num_samples": -1}, ValueError),
        ({"num_samples": 1.5}, ValueError),
        ({"num_samples": "3"}, ValueError),
        ({"replacement": "x"}, TypeError),
        ({"replacement": 1}, TypeError),
    ],
)
def test_random_sampler_argument_errors(kwargs, exc):
    with pytest.raises(exc):
        RandomSampler(range(4), **kwargs)


@pytest.mark.parametrize(
    "kwargs",
    [{"num_samples": 0}, {"num_samples": -1}, {"num_samples": 1.5}, {"replacement": "x"}, {"replacement": 1}],
)
def test_random_sampler_argument_errors_match_torch(torch, kwargs):
    with pytest.raises(Exception) as theirs:
        torch.utils.data.RandomSampler(range(4), **kwargs)
    with pytest.raises(theirs.type):
        RandomSampler(range(4), **kwargs)


# ---- SubsetRandomSampler ----------------------------------------------------------------------------
def test_subset_random_sampler_permutes_the_given_indices():
    s = SubsetRandomSampler([10, 20, 30, 40], generator=_gen(0))
    out = list(s)
    assert sorted(out) == [10, 20, 30, 40] and len(s) == 4
    assert list(SubsetRandomSampler([10, 20, 30, 40], generator=_gen(0))) == out
    assert list(SubsetRandomSampler([], generator=_gen(0))) == []


# ---- WeightedRandomSampler --------------------------------------------------------------------------
def test_weighted_sampler_frequencies_follow_weights():
    weights = [1.0, 0.0, 3.0, 4.0]
    out = np.array(list(WeightedRandomSampler(weights, 40000, generator=_gen(0))))
    counts = np.bincount(out, minlength=4)
    assert counts[1] == 0  # a zero weight is never drawn
    np.testing.assert_allclose(counts / 40000, [0.125, 0.0, 0.375, 0.5], atol=0.015)


def test_weighted_sampler_accepts_tensor_and_array_weights_and_is_lazy():
    s = WeightedRandomSampler(cr.tensor([0.0, 1.0, 0.0]), 10**12, generator=_gen(0))
    assert len(s) == 10**12 and s.weights.dtype == cr.float64
    assert list(itertools.islice(iter(s), 50)) == [1] * 50
    s = WeightedRandomSampler(np.array([2.0, 0.0]), 5, generator=_gen(0))
    assert list(s) == [0] * 5


def test_weighted_sampler_without_replacement_gives_distinct_indices():
    weights = [0.1, 0.9, 0.4, 0.7, 3.0, 0.6]
    s = WeightedRandomSampler(weights, 6, replacement=False, generator=_gen(2))
    out = list(s)
    assert sorted(out) == list(range(6))
    # heavy weights tend to come first: index 4 (weight 3.0) leads most permutations
    firsts = [
        next(iter(WeightedRandomSampler(weights, 3, replacement=False, generator=_gen(k))))
        for k in range(300)
    ]
    assert firsts.count(4) > 300 * 0.4  # its probability of being first is 3.0 / 5.7 ~ 0.53
    zero = WeightedRandomSampler([1.0, 0.0, 1.0], 2, replacement=False, generator=_gen(0))
    assert sorted(zero) == [0, 2]


def test_weighted_sampler_honours_generator():
    w = [1.0, 2.0, 3.0]
    a = list(WeightedRandomSampler(w, 30, generator=_gen(1)))
    assert a == list(WeightedRandomSampler(w, 30, generator=_gen(1)))
    assert a != list(WeightedRandomSampler(w, 30, generator=_gen(2)))


@pytest.mark.parametrize(
    "args, kwargs",
    [
        (([1.0, 2.0], 0), {}),
        (([1.0, 2.0], -1), {}),
        (([1.0, 2.0], 1.5), {}),
        (([1.0, 2.0], True), {}),
        (([1.0, 2.0], 2), {"replacement": "x"}),
        (([[1.0, 2.0]], 2), {}),
    ],
)
def test_weighted_sampler_argument_errors_are_value_errors(args, kwargs):
    with pytest.raises(ValueError):
        WeightedRandomSampler(*args, **kwargs)


@pytest.mark.parametrize(
    "weights, num_samples, replacement",
    [
        ([1.0, -1.0], 2, True),
        ([0.0, 0.0], 2, True),
        ([1.0, float("nan")], 2, True),
        ([1.0, float("inf")], 2, True),
        ([1.0, 2.0], 3, False),
        ([1.0, 0.0, 0.0], 2, False),
        ([], 1, True),
    ],
)
def test_weighted_sampler_invalid_distributions_raise_when_iterated(weights, num_samples, replacement):
    s = WeightedRandomSampler(weights, num_samples, replacement=replacement)
    with pytest.raises(RuntimeError):  # PyTorch's multinomial raises RuntimeError
        list(s)
    with pytest.raises(ValueError):
        list(s)


@pytest.mark.parametrize(
    "args, kwargs",
    [
        (([1.0, 2.0], 0), {}),
        (([1.0, 2.0], 1.5), {}),
        (([1.0, 2.0], True), {}),
        (([1.0, 2.0], 2), {"replacement": "x"}),
        (([[1.0, 2.0]], 2), {}),
    ],
)
def test_weighted_sampler_argument_errors_match_torch(torch, args, kwargs):
    with pytest.raises(Exception) as theirs:
        torch.utils.data.WeightedRandomSampler(*args, **kwargs)
    with pytest.raises(theirs.type):
        WeightedRandomSampler(*args, **kwargs)


def test_weighted_sampler_invalid_distributions_raise_as_torch(torch):
    for weights, n, repl in [([1.0, -1.0], 2, True), ([0.0, 0.0], 2, True), ([1.0, 2.0], 3, False)]:
        with pytest.raises(RuntimeError):
            list(torch.utils.data.WeightedRandomSampler(weights, n, replacement=repl))
        with pytest.raises(RuntimeError):
            list(WeightedRandomSampler(weights, n, replacement=repl))


# ---- BatchSampler -----------------------------------------------------------------------------------
@pytest.mark.parametrize("drop_last", [False, True])
@pytest.mark.parametrize("n, batch_size", [(10, 3), (9, 3), (2, 5), (0, 2), (7, 1)])
def test_batch_sampler_batches_and_len(n, batch_size, drop_last):
    s = BatchSampler(SequentialSampler(range(n)), batch_size, drop_last)
    out = list(s)
    full, rest = divmod(n, batch_size)
    expected = [list(range(i * batch_size, (i + 1) * batch_size)) for i in range(full)]
    if rest and not drop_last:
        expected.append(list(range(full * batch_size, n)))
    assert out == expected and len(s) == len(expected)


@pytest.mark.parametrize("drop_last", [False, True])
@pytest.mark.parametrize("n, batch_size", [(10, 3), (9, 3), (2, 5), (0, 2)])
def test_batch_sampler_matches_torch(torch, n, batch_size, drop_last):
    theirs = torch.utils.data.BatchSampler(
        torch.utils.data.SequentialSampler(range(n)), batch_size, drop_last
    )
    ours = BatchSampler(SequentialSampler(range(n)), batch_size, drop_last)
    assert list(ours) == list(theirs) and len(ours) == len(theirs)


def test_batch_sampler_takes_any_iterable_and_is_reiterable():
    s = BatchSampler([5, 3, 1, 0], 3, False)
    assert list(s) == [[5, 3, 1], [0]] == list(s)


@pytest.mark.parametrize(
    "batch_size, drop_last",
    [(0, False), (-1, False), (1.5, False), ("2", False), (True, False), (2, "x"), (2, 1)],
)
def test_batch_sampler_argument_errors(batch_size, drop_last):
    with pytest.raises(ValueError):
        BatchSampler(range(4), batch_size, drop_last)


@pytest.mark.parametrize(
    "batch_size, drop_last", [(0, False), (-1, False), (1.5, False), (True, False), (2, "x"), (2, 1)]
)
def test_batch_sampler_argument_errors_match_torch(torch, batch_size, drop_last):
    with pytest.raises(Exception) as theirs:
        torch.utils.data.BatchSampler(range(4), batch_size, drop_last)
    with pytest.raises(theirs.type):
        BatchSampler(range(4), batch_size, drop_last)


# ---- DistributedSampler -----------------------------------------------------------------------------
@pytest.mark.parametrize("drop_last", [False, True])
@pytest.mark.parametrize("n, replicas", [(10, 3), (9, 3), (2, 4), (0, 2), (7, 1)])
def test_distributed_sampler_shares_without_shuffle(n, replicas, drop_last):
    shares = [
        list(DistributedSampler(range(n), replicas, rank, shuffle=False, drop_last=drop_last))
        for rank in range(replicas)
    ]
    per = n // replicas if drop_last else -(-n // replicas)
    assert all(len(s) == per for s in shares)
    assert all(
        len(DistributedSampler(range(n), replicas, r, drop_last=drop_last)) == per for r in range(replicas)
    )
    seen = sorted(i for s in shares for i in s)
    if drop_last:
        assert len(set(seen)) == len(seen)  # nothing twice
    else:
        assert set(seen) == set(range(n))  # everything, padded by repeating the start
    if per:
        assert shares[0][0] == 0 and (replicas == 1 or shares[1][0] == 1)


def test_distributed_sampler_shuffles_the_same_way_on_every_replica():
    def shares(epoch, seed=0):
        out = []
        for rank in range(3):
            s = DistributedSampler(range(12), num_replicas=3, rank=rank, seed=seed)
            s.set_epoch(epoch)
            out.append(list(s))
        return out

    e0 = shares(0)
    assert sorted(i for s in e0 for i in s) == list(range(12))  # a partition: no overlap
    assert shares(0) == e0 and shares(1) != e0 and shares(0, seed=1) != e0


def test_distributed_sampler_errors():
    with pytest.raises(ValueError, match="Invalid rank 3"):
        DistributedSampler(range(4), num_replicas=3, rank=3)
    with pytest.raises(ValueError):
        DistributedSampler(range(4), num_replicas=3, rank=-1)
    with pytest.raises(RuntimeError):  # no process group to take the defaults from
        DistributedSampler(range(4))


@pytest.mark.parametrize("drop_last", [False, True])
@pytest.mark.parametrize("n, replicas", [(10, 3), (9, 3), (2, 4), (0, 2), (11, 4)])
def test_distributed_sampler_matches_torch_without_shuffle(torch, n, replicas, drop_last):
    from torch.utils.data.distributed import DistributedSampler as TorchDistributedSampler

    for rank in range(replicas):
        theirs = TorchDistributedSampler(range(n), replicas, rank, shuffle=False, drop_last=drop_last)
        ours = DistributedSampler(range(n), replicas, rank, shuffle=False, drop_last=drop_last)
        assert list(ours) == list(theirs) and len(ours) == len(theirs)
    with pytest.raises(ValueError):
        TorchDistributedSampler(range(4), num_replicas=3, rank=3)
