"""default_collate, default_convert and collate(collate_fn_map=...): output structure and dtypes,
by hand and against torch.utils.data."""

import collections

import numpy as np
import pytest

import chainrule as cr
from chainrule.utils.data import DataLoader, default_collate, default_convert
from chainrule.utils.data._utils.collate import collate, default_collate_fn_map

Point = collections.namedtuple("Point", "x y")


class Ordered(collections.OrderedDict):
    pass


class Pair(list):
    pass


def _structure(obj):
    """A comparable picture of a collated batch: containers by type name, tensors by dtype name,
    shape and values (so chainrule's and PyTorch's outputs can be compared)."""
    if type(obj).__name__ == "Tensor":
        return ("tensor", str(obj.dtype).split(".")[-1], tuple(obj.shape), np.asarray(obj.tolist()).tolist())
    if isinstance(obj, dict):
        return (type(obj).__name__, {k: _structure(v) for k, v in obj.items()})
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        return (type(obj).__name__, [_structure(v) for v in obj])
    if isinstance(obj, (list, tuple)):
        return (type(obj).__name__, [_structure(v) for v in obj])
    return (type(obj).__name__, obj)


BATCHES = {
    "floats": [1.0, 2.5],
    "ints": [1, 2, 3],
    "bools": [True, False],
    "ints_and_floats": [1, 2.5],
    "strings": ["a", "b"],
    "bytes": [b"a", b"b"],
    "float32_arrays": [np.ones(2, np.float32), np.zeros(2, np.float32)],
    "float64_arrays": [np.ones((2, 2)), np.zeros((2, 2))],
    "int64_arrays": [np.arange(3), np.arange(3)],
    "0d_arrays": [np.array(1.0), np.array(2.0)],
    "numpy_scalars": [np.float64(1.5), np.float64(2.5)],
    "numpy_int_scalars": [np.int64(1), np.int64(2)],
    "numpy_bools": [np.bool_(True), np.bool_(False)],
    "dicts": [{"a": 1, "b": "x", "c": 1.5}, {"a": 2, "b": "y", "c": 2.5}],
    "ordered_dicts": [Ordered(a=1), Ordered(a=2)],
    "tuples": [(1, "a"), (2, "b")],
    "lists": [[1, 2], [3, 4]],
    "list_subclass": [Pair([1, 2]), Pair([3, 4])],
    "namedtuples": [Point(1, 2.0), Point(3, 4.0)],
    "nested": [
        {"p": Point(1, [1.0, 2.0]), "t": (1, {"q": 1.0})},
        {"p": Point(2, [3.0, 4.0]), "t": (2, {"q": 2.0})},
    ],
}


def _to_torch(torch, sample):
    """The same sample with chainrule tensors replaced by PyTorch's."""
    if isinstance(sample, cr.Tensor):
        return torch.tensor(np.asarray(sample.detach()))
    if isinstance(sample, dict):
        return type(sample)({k: _to_torch(torch, v) for k, v in sample.items()})
    if isinstance(sample, tuple) and hasattr(sample, "_fields"):
        return type(sample)(*(_to_torch(torch, v) for v in sample))
    if isinstance(sample, (list, tuple)):
        return type(sample)(_to_torch(torch, v) for v in sample)
    return sample


# ---- by hand -----------------------------------------------------------------------------------------
def test_numbers_become_tensors_of_pytorchs_dtypes():
    assert default_collate([1.0, 2.5]).dtype == cr.float64
    assert default_collate([1, 2]).dtype == cr.int64
    assert default_collate([True, False]).dtype == cr.bool
    assert default_collate([np.float32(1), np.float32(2)]).dtype == cr.float32
    assert default_collate([1, 2.5]).tolist() == [1.0, 2.5]


def test_tensors_and_arrays_are_stacked():
    out = default_collate([cr.ones(2, 3), cr.zeros(2, 3)])
    assert tuple(out.shape) == (2, 2, 3) and out.sum().item() == 6.0
    out = default_collate([np.arange(3.0), np.arange(3.0)])
    assert tuple(out.shape) == (2, 3) and out.dtype == cr.float64
    out = default_collate([np.array(1.0), np.array(2.0)])
    assert tuple(out.shape) == (2,) and out.tolist() == [1.0, 2.0]


def test_containers_are_collated_position_by_position():
    out = default_collate([{"x": cr.ones(2), "name": "a"}, {"x": cr.zeros(2), "name": "b"}])
    assert tuple(out["x"].shape) == (2, 2) and out["name"] == ["a", "b"]
    out = default_collate([(1, "a"), (2, "b")])
    assert isinstance(out, list) and out[0].tolist() == [1, 2] and out[1] == ("a", "b")
    out = default_collate([Point(1, 2.0), Point(3, 4.0)])
    assert isinstance(out, Point) and out.x.tolist() == [1, 3] and out.y.dtype == cr.float64
    out = default_collate([Pair([1, 2]), Pair([3, 4])])
    assert isinstance(out, Pair) and [t.tolist() for t in out] == [[1, 3], [2, 4]]
    out = default_collate([Ordered(a=1), Ordered(a=2)])
    assert isinstance(out, Ordered) and out["a"].tolist() == [1, 2]


def test_collate_errors():
    with pytest.raises(RuntimeError):  # shapes differ (ShapeError is a RuntimeError)
        default_collate([cr.ones(2), cr.ones(3)])
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([[1, 2], [3]])
    with pytest.raises(TypeError, match="default_collate"):
        default_collate([None, None])
    with pytest.raises(TypeError, match="default_collate"):
        default_collate([np.array(["a"]), np.array(["b"])])
    with pytest.raises(KeyError):
        default_collate([{"a": 1}, {"b": 2}])
    with pytest.raises(IndexError):
        default_collate([])


def test_default_convert_converts_without_batching():
    assert isinstance(default_convert(np.arange(3)), cr.Tensor)
    t = default_convert(np.float32(2.0))
    assert isinstance(t, cr.Tensor) and t.ndim == 0 and t.dtype == cr.float32
    out = default_convert((np.ones(2), 3, "s"))
    assert isinstance(out, list) and isinstance(out[0], cr.Tensor) and out[1:] == [3, "s"]
    out = default_convert({"a": np.zeros(1), "b": [np.ones(1)]})
    assert (
        isinstance(out["a"], cr.Tensor) and isinstance(out["b"], list) and isinstance(out["b"][0], cr.Tensor)
    )
    p = default_convert(Point(np.ones(1), 2))
    assert isinstance(p, Point) and isinstance(p.x, cr.Tensor) and p.y == 2
    strings = np.array(["a", "b"])
    assert (
        default_convert(strings) is strings and default_convert("s") == "s" and default_convert(b"b") == b"b"
    )
    t = cr.ones(2)
    assert default_convert(t) is t


def test_collate_fn_map_extends_the_rules():
    class Box:
        def __init__(self, v):
            self.v = v

    def collate_boxes(batch, *, collate_fn_map=None):
        return sum(b.v for b in batch)

    rules = {**default_collate_fn_map, Box: collate_boxes}
    out = collate([{"b": Box(1), "n": 1.0}, {"b": Box(2), "n": 2.0}], collate_fn_map=rules)
    assert out["b"] == 3 and out["n"].tolist() == [1.0, 2.0]
    with pytest.raises(TypeError):
        default_collate([Box(1)])


def test_loader_uses_default_collate_and_default_convert():
    samples = [{"x": np.full(2, i, np.float32), "i": i} for i in range(3)]
    batch = next(iter(DataLoader(samples, batch_size=3)))
    assert tuple(batch["x"].shape) == (3, 2) and batch["i"].tolist() == [0, 1, 2]
    single = next(iter(DataLoader(samples, batch_size=None)))
    assert isinstance(single["x"], cr.Tensor) and single["i"] == 0


# ---- against PyTorch ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(BATCHES))
def test_default_collate_structure_matches_torch(torch, name):
    batch = BATCHES[name]
    ours = default_collate(batch)
    theirs = torch.utils.data.default_collate(batch)
    assert _structure(ours) == _structure(theirs)


def test_default_collate_of_tensors_matches_torch(torch):
    batch = [{"x": cr.ones(2, 3), "y": (cr.tensor(1), "a")}, {"x": cr.zeros(2, 3), "y": (cr.tensor(2), "b")}]
    ours = default_collate(batch)
    theirs = torch.utils.data.default_collate(_to_torch(torch, batch))
    assert _structure(ours) == _structure(theirs)


@pytest.mark.parametrize(
    "sample",
    [
        np.arange(3.0),
        np.float32(2.0),
        (np.ones(2), 3, "s"),
        {"a": np.zeros(1), "b": [np.ones(1), 2]},
        Point(np.ones(1), 2),
        [1, "a", b"b"],
        "text",
        5,
    ],
    ids=["array", "np_scalar", "tuple", "dict", "namedtuple", "list", "str", "int"],
)
def test_default_convert_structure_matches_torch(torch, sample):
    assert _structure(default_convert(sample)) == _structure(torch.utils.data.default_convert(sample))


@pytest.mark.parametrize(
    "batch",
    [[[1, 2], [3]], [None, None], [np.array(["a"]), np.array(["b"])], [{"a": 1}, {"b": 2}], []],
    ids=["ragged_lists", "none", "string_arrays", "different_keys", "empty"],
)
def test_collate_errors_have_torchs_types(torch, batch):
    with pytest.raises(Exception) as theirs:
        torch.utils.data.default_collate(batch)
    with pytest.raises(theirs.type):
        default_collate(batch)
