"""Saving without pickle: save_model/load_model, save_result/load_result, to_xarray."""

import dataclasses
import hashlib
import io
import json
import sys
from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import massfit as mf
import massfit.datasets as md
import massfit.io as mio
from massfit.io import _model

from .helpers import flipped


# Stand-ins for the classes other modules define, with the same kinds of fields.


class State(NamedTuple):
    x: jax.Array
    y: jax.Array


class Trajectory(eqx.Module):
    ts: jax.Array
    ys: jax.Array
    final_state: State
    variables: tuple[str, ...] = eqx.field(static=True)


@dataclasses.dataclass(frozen=True)
class FitResult:
    params: dict
    history: dict
    best_loss: float
    best_step: int | None
    method: str
    model: eqx.Module


class Node(eqx.Module):
    a: jax.Array
    omega: jax.Array
    name: str = eqx.field(static=True)


class Model(eqx.Module):
    node: Node
    k: jax.Array
    weights: jax.Array


class OtherNode(eqx.Module):  # Node's fields, another class
    a: jax.Array
    omega: jax.Array
    name: str = eqx.field(static=True)


class PerVariable(NamedTuple):
    ts: jax.Array
    ys: State


def _model_instance(scale=1.0):
    node = Node(jnp.linspace(0.0, 1.0, 4) * scale, jnp.asarray(2.0 * scale), "hopf")
    return Model(node, jnp.asarray(0.3 * scale), jnp.eye(4) * scale)


def _trajectory():
    ts = jnp.arange(5.0) * 0.1
    ys = jnp.sin(jnp.arange(30.0)).reshape(5, 2, 3)
    return Trajectory(ts, ys, State(ys[-1, 0], ys[-1, 1]), ("x", "y"))


def _fit_result():
    return FitResult(
        params={"node.a": jnp.asarray(0.25), "coupling.k": np.array([0.1, 0.2], np.float32)},
        history={"loss": np.linspace(1.0, 0.1, 7), "step": np.arange(7)},
        best_loss=0.1 + 1e-17,
        best_step=6,
        method="fit (reverse mode)",
        model=_model_instance(),
    )


def _assert_same(a, b):
    """Equal leaves (exactly), equal types and dtypes, equal static data."""
    assert jax.tree_util.tree_structure(a) == jax.tree_util.tree_structure(b)
    for x, y in zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)):
        assert type(x) is type(y)
        if hasattr(x, "dtype"):
            assert x.dtype == y.dtype and x.shape == y.shape
        np.testing.assert_array_equal(x, y)


# --- models ----------------------------------------------------------------------------


def test_model_round_trip_is_exact(tmp_path):
    model = _model_instance(scale=3.7)
    mio.save_model(tmp_path / "m.eqx", model)
    loaded = mio.load_model(tmp_path / "m.eqx", like=_model_instance())
    _assert_same(loaded, model)
    assert loaded.node.name == "hopf"


def test_connectome_round_trip(tmp_path):
    conn = md.load_dataset("realistic_connectome", n_regions=10)
    mio.save_model(tmp_path / "c.eqx", conn)
    like = mf.Connectome(np.zeros((10, 10)), labels=conn.labels)
    _assert_same(mio.load_model(tmp_path / "c.eqx", like), conn)


def test_model_header(tmp_path):
    mio.save_model(tmp_path / "m.eqx", _model_instance())
    header = mio.read_model_header(tmp_path / "m.eqx")
    assert header["class"] == f"{__name__}.Model"
    assert header["massfit_version"] == mf.__version__
    assert header["leaves"][0][0] == "node.a" and header["leaves"][0][1].endswith("[4]")
    with open(tmp_path / "m.eqx", "rb") as f:
        assert json.loads(f.readline()) == header


def test_model_header_must_match_the_class(tmp_path):
    mio.save_model(tmp_path / "m.eqx", _model_instance())
    with pytest.raises(ValueError, match=rf"holds a {__name__}.Model, but `like` is a .*Node"):
        mio.load_model(tmp_path / "m.eqx", like=_model_instance().node)


def test_model_structure_must_match(tmp_path):
    mio.save_model(tmp_path / "m.eqx", _model_instance())
    other = eqx.tree_at(lambda m: m.weights, _model_instance(), jnp.eye(5))
    with pytest.raises(ValueError, match=r"leaf `weights` is float64\[4, 4\] in the file but"):
        mio.load_model(tmp_path / "m.eqx", like=other)
    other = eqx.tree_at(lambda m: m.k, _model_instance(), jnp.asarray(0.3, jnp.float32))
    with pytest.raises(ValueError, match=r"leaf `k` is float64\[\] in the file but float32"):
        mio.load_model(tmp_path / "m.eqx", like=other)


def test_model_file_checks(tmp_path, monkeypatch):
    (tmp_path / "x.eqx").write_bytes(b"\x93NUMPY not ours")
    with pytest.raises(ValueError, match="not a model file written by massfit.io.save_model"):
        mio.load_model(tmp_path / "x.eqx", like=_model_instance())
    mio.save_model(tmp_path / "m.eqx", _model_instance(2.0))
    monkeypatch.setattr(_model, "massfit_version", lambda: "99.0")
    with pytest.warns(UserWarning, match="saved by massfit .*, loading with 99.0"):
        loaded = mio.load_model(tmp_path / "m.eqx", like=_model_instance())
    _assert_same(loaded, _model_instance(2.0))


def test_model_file_with_changed_bytes_is_refused(tmp_path):
    path = tmp_path / "m.eqx"
    mio.save_model(path, _model_instance())
    intact = path.read_bytes()
    start = intact.index(b"\n") + 1
    damages = [
        flipped(intact, start + 20),  # the first array's npy header
        flipped(intact, (start + len(intact)) // 2),  # values
        flipped(intact, len(intact) - 4),
        # One bit of the header's class name: "Model" reads "model", still valid JSON.
        flipped(intact, intact.index(b"Model"), n=1, bits=0x20),
        # ... or of the checksum's name, which must not pass for a file from before checksums.
        flipped(intact, intact.index(b'"sha256"') + 1, n=1, bits=0x20),
    ]
    for damaged in damages:
        path.write_bytes(damaged)
        with pytest.raises(ValueError, match=r"m\.eqx: the file is truncated or damaged \(its"):
            mio.load_model(path, like=_model_instance())


def test_truncated_model_file_is_refused(tmp_path):
    path = tmp_path / "m.eqx"
    mio.save_model(path, _model_instance())
    intact = path.read_bytes()
    start = intact.index(b"\n") + 1
    size = len(intact) - start
    cuts = {
        0: "the file is empty",
        10: "its header is cut short",
        start // 2: "its header is cut short",
        start - 1: "its header is cut short",
        start: f"its data has 0 of the {size} bytes written: {size} short",
        start + size // 2: f"its data has {size // 2} of the {size} bytes written",
        len(intact) - 1: f"its data has {size - 1} of the {size} bytes written: 1 short",
    }
    for cut, detail in cuts.items():
        path.write_bytes(intact[:cut])
        with pytest.raises(
            ValueError, match=rf"m\.eqx: the file is truncated or damaged \({detail}"
        ):
            mio.load_model(path, like=_model_instance())
    path.write_bytes(intact + b"\0")
    with pytest.raises(
        ValueError, match=rf"damaged \(its data has {size + 1} bytes where {size} were"
    ):
        mio.load_model(path, like=_model_instance())


def test_newer_model_file_is_refused_and_damage_never_reads_as_newer(tmp_path):
    path = tmp_path / "m.eqx"
    mio.save_model(path, _model_instance())
    line, data = path.read_bytes().split(b"\n", 1)
    header = json.loads(line)
    del header["sha256"]
    header["format_version"] = 3
    # The checksum as documented: sha256 of the header's JSON without it, a newline, the data.
    header["sha256"] = hashlib.sha256(json.dumps(header).encode() + b"\n" + data).hexdigest()
    path.write_bytes(json.dumps(header).encode() + b"\n" + data)
    with pytest.raises(ValueError, match=r"m\.eqx: written by a newer massfit \(format version 3"):
        mio.load_model(path, like=_model_instance())
    mio.save_model(path, _model_instance())
    intact = path.read_bytes()
    version = intact.index(b'"format_version": 2') + len(b'"format_version": ')
    path.write_bytes(flipped(intact, version, n=1, bits=0x01))  # 2 reads 3
    with pytest.raises(ValueError, match=r"m\.eqx: the file is truncated or damaged"):
        mio.load_model(path, like=_model_instance())


def test_model_nested_classes_must_match(tmp_path):
    mio.save_model(tmp_path / "m.eqx", _model_instance())
    node = _model_instance().node
    other = eqx.tree_at(lambda m: m.node, _model_instance(), OtherNode(node.a, node.omega, "x"))
    with pytest.raises(
        ValueError, match=r"`node` is a .*\.Node in the file but a .*\.OtherNode in"
    ):
        mio.load_model(tmp_path / "m.eqx", like=other)


def test_model_file_without_checksum_loads_with_a_warning(tmp_path):
    # What massfit wrote before files carried checks: format version 1, no classes, no
    # length, no checksum.
    model = _model_instance(2.0)
    header = {
        "format": "massfit.model",
        "format_version": 1,
        "class": f"{__name__}.Model",
        "massfit_version": mf.__version__,
        "fingerprint": "0123456789abcdef",
        "leaves": [
            ["node.a", "float64[4]"],
            ["node.omega", "float64[]"],
            ["k", "float64[]"],
            ["weights", "float64[4, 4]"],
        ],
    }
    data = io.BytesIO()
    eqx.tree_serialise_leaves(data, model)
    path = tmp_path / "old.eqx"
    path.write_bytes(json.dumps(header).encode() + b"\n" + data.getvalue())
    with pytest.warns(UserWarning, match=r"old\.eqx: written by an older massfit, without a chec"):
        loaded = mio.load_model(path, like=_model_instance())
    _assert_same(loaded, model)
    other = eqx.tree_at(lambda m: m.weights, _model_instance(), jnp.eye(5))
    with pytest.warns(UserWarning), pytest.raises(ValueError, match=r"leaf `weights` is float64"):
        mio.load_model(path, like=other)
    path.write_bytes(path.read_bytes()[:-100])
    with (
        pytest.warns(UserWarning),
        pytest.raises(ValueError, match="old.eqx: cannot be read .* It is truncated or damaged"),
    ):
        mio.load_model(path, like=_model_instance())


def test_files_of_another_kind_say_what_they_are(tmp_path):
    mio.save_result(tmp_path / "r.npz", _trajectory())
    mio.save_model(tmp_path / "m.eqx", _model_instance())
    with pytest.raises(ValueError, match=r"r\.npz: not a model file .*; it is a zip archive"):
        mio.load_model(tmp_path / "r.npz", like=_model_instance())
    with pytest.raises(ValueError, match=r"m\.eqx: not a file .*save_result; it is a model file"):
        mio.load_result(tmp_path / "m.eqx", Trajectory)


# --- results ---------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["class", "like"])
def test_trajectory_round_trip(tmp_path, how):
    traj = _trajectory()
    mio.save_result(tmp_path / "t.npz", traj)
    loaded = mio.load_result(tmp_path / "t.npz", Trajectory if how == "class" else traj)
    assert type(loaded) is Trajectory and type(loaded.final_state) is State
    assert loaded.variables == ("x", "y")
    _assert_same(loaded, traj)


def test_fit_result_round_trip(tmp_path):
    result = _fit_result()
    mio.save_result(tmp_path / "fit.npz", result)
    loaded = mio.load_result(tmp_path / "fit.npz", FitResult)
    assert loaded.best_loss == result.best_loss and type(loaded.best_loss) is float
    assert loaded.best_step == 6 and loaded.method == result.method
    assert list(loaded.params) == ["node.a", "coupling.k"]
    assert isinstance(loaded.params["node.a"], jax.Array)
    assert type(loaded.params["coupling.k"]) is np.ndarray
    assert loaded.params["coupling.k"].dtype == np.float32
    _assert_same(loaded.params, result.params)
    _assert_same(loaded.history, result.history)
    _assert_same(loaded.model, result.model)


def test_result_file_is_plain_npz_with_dotted_names(tmp_path):
    mio.save_result(tmp_path / "fit.npz", _fit_result())
    with np.load(tmp_path / "fit.npz", allow_pickle=False) as data:
        names = set(data.files)
        np.testing.assert_array_equal(data["history.loss"], np.linspace(1.0, 0.1, 7))
    assert {"params.node.a", "params.coupling.k", "model.node.a", "model.k"} <= names
    assert "best_loss" not in names  # a JSON value, in the manifest


def test_result_keeps_special_values(tmp_path):
    @dataclasses.dataclass
    class Odd:
        key: jax.Array
        scalar: np.float32
        nested: tuple
        inf: float

    odd = Odd(jax.random.key(3), np.float32(1.5), ((1, "a"), [None, True]), float("inf"))
    mio.save_result(tmp_path / "o.npz", odd)
    loaded = mio.load_result(tmp_path / "o.npz", odd)
    assert jnp.all(jax.random.key_data(loaded.key) == jax.random.key_data(odd.key))
    assert type(loaded.scalar) is np.float32 and loaded.scalar == 1.5
    assert loaded.nested == ((1, "a"), [None, True]) and loaded.inf == float("inf")


def test_result_class_must_match(tmp_path):
    mio.save_result(tmp_path / "t.npz", _trajectory())
    with pytest.raises(ValueError, match=rf"holds a {__name__}.Trajectory, not a .*FitResult"):
        mio.load_result(tmp_path / "t.npz", FitResult)


def test_result_fields_must_match(tmp_path, monkeypatch):
    mio.save_result(tmp_path / "t.npz", _trajectory())

    class Trajectory(eqx.Module):  # same name, other fields: a changed class
        ts: jax.Array
        ys: jax.Array

    Trajectory.__qualname__ = "Trajectory"
    monkeypatch.setattr(sys.modules[__name__], "Trajectory", Trajectory)
    with pytest.raises(ValueError, match=r"has fields \('ts', 'ys', 'final_state', 'varia"):
        mio.load_result(tmp_path / "t.npz", Trajectory)


def test_unsaveable_values_are_refused(tmp_path):
    mio.save_result(tmp_path / "b.npz", _trajectory())
    before = (tmp_path / "b.npz").read_bytes()
    bad = dataclasses.replace(_fit_result(), method=print)
    with pytest.raises(TypeError, match=r"cannot save `method` \(builtin_function_or_method"):
        mio.save_result(tmp_path / "b.npz", bad)
    assert (tmp_path / "b.npz").read_bytes() == before  # a failed save leaves the old file
    bad = dataclasses.replace(_fit_result(), history={1: np.zeros(2)})
    with pytest.raises(TypeError, match="`history`: dictionary keys must be strings"):
        mio.save_result(tmp_path / "b.npz", bad)
    bad = dataclasses.replace(_fit_result(), history={"x": np.array([None])})
    with pytest.raises(TypeError, match="`history.x`: an object array would need pickle"):
        mio.save_result(tmp_path / "b.npz", bad)


def test_not_a_result_file(tmp_path):
    np.savez(tmp_path / "plain.npz", ts=np.zeros(3))
    with pytest.raises(ValueError, match="not a file written by massfit.io.save_result"):
        mio.load_result(tmp_path / "plain.npz", Trajectory)


def test_result_file_with_changed_bytes_is_refused(tmp_path):
    path = tmp_path / "t.npz"
    traj = _trajectory()
    mio.save_result(path, traj)
    intact = path.read_bytes()
    ys_shape = intact.index(b"'shape': (5, 2, 3)") + len(b"'shape': (")
    damages = [
        flipped(intact, intact.index(np.asarray(traj.ys).tobytes()) + 40),  # a value of ys
        # One bit: ys's shape (5, 2, 3) reads (4, 2, 3), a plausible, shorter array.
        flipped(intact, ys_shape, n=1, bits=0x01),
        flipped(intact, intact.index("Trajectory".encode("utf-32-le"))),  # in the manifest
        flipped(intact, len(intact) - 30),  # the zip's directory
    ]
    assert b"'shape': (4, 2, 3)" in damages[1]
    for damaged in damages:
        path.write_bytes(damaged)
        with pytest.raises(ValueError, match=r"t\.npz: the file is truncated or damaged"):
            mio.load_result(path, Trajectory)
    for cut in (10, len(intact) // 2, len(intact) - 1):
        path.write_bytes(intact[:cut])
        with pytest.raises(ValueError, match=r"t\.npz: the file is truncated or damaged"):
            mio.load_result(path, Trajectory)


# --- xarray ----------------------------------------------------------------------------


def test_to_xarray_without_xarray(monkeypatch):
    monkeypatch.setitem(sys.modules, "xarray", None)
    with pytest.raises(ImportError, match="to_xarray needs xarray"):
        mio.to_xarray(_trajectory())


def test_to_xarray_trajectory_and_signal():
    pytest.importorskip("xarray")
    traj = _trajectory()
    da = mio.to_xarray(traj, regions=("a", "b", "c"))
    assert da.dims == ("time", "variable", "region")
    assert list(da.coords["variable"].values) == ["x", "y"]
    assert list(da.coords["region"].values) == ["a", "b", "c"]
    assert da.coords["time"].attrs["units"] == "ms"
    np.testing.assert_array_equal(da.sel(variable="y", region="c").values, traj.ys[:, 1, 2])
    # ys as a NamedTuple of (time, region) arrays: variables named by its fields.
    by_state = mio.to_xarray(PerVariable(traj.ts, State(traj.ys[:, 0], traj.ys[:, 1])))
    assert list(by_state.coords["variable"].values) == ["x", "y"]
    np.testing.assert_array_equal(by_state.values, np.asarray(traj.ys))
    signal = mio.Signal(np.ones((4, 2)), 2.0, ("L", "R"))
    da = mio.to_xarray(signal)
    assert da.dims == ("time", "region") and list(da.region.values) == ["L", "R"]
    np.testing.assert_array_equal(da.time.values, [0.0, 2.0, 4.0, 6.0])
    with pytest.raises(ValueError, match="must name all 3 regions"):
        mio.to_xarray(traj, regions=("a",))
    with pytest.raises(TypeError, match="takes a trajectory"):
        mio.to_xarray(np.zeros(3))
