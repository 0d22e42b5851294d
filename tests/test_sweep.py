import os
import subprocess
import sys

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import massfit
from massfit import designs


N = 4


def _net():
    w = np.ones((N, N)) - np.eye(N)
    lengths = 20.0 * w
    return massfit.Network(massfit.Hopf(a=-0.1), massfit.Connectome(w, lengths), k=0.5, speed=5.0)


def _fn(m):
    """Closed form in several parameters, with an array output."""
    return {
        "f": m.k**2 * jnp.exp(-m.speed / 10.0) + jnp.sum(m.node.a),
        "v": m.k * jnp.arange(3.0),
    }


def _reference(k, speed, a):
    """The same formula in NumPy."""
    return k**2 * np.exp(-speed / 10.0) + np.sum(a)


def _set(net, **values):
    paths = {"k": lambda n: n.k, "speed": lambda n: n.speed, "node.a": lambda n: n.node.a}
    for p, v in values.items():
        net = eqx.tree_at(paths[p], net, jnp.broadcast_to(jnp.asarray(v), jnp.shape(paths[p](net))))
    return net


def test_grid_equals_python_loop():
    net = _net()
    k, speed = designs.linear(0.0, 1.0, 7), designs.log(1.0, 20.0, 5)
    result = massfit.sweep(_fn, net, {"k": k, "speed": speed}, chunk_size=8, progress=False)
    assert result.dims == ("k", "speed")
    assert result.values["f"].shape == (7, 5)
    assert result.values["v"].shape == (7, 5, 3)
    np.testing.assert_array_equal(result.coords["k"], np.linspace(0.0, 1.0, 7))
    np.testing.assert_allclose(result.coords["speed"], np.geomspace(1.0, 20.0, 5), rtol=1e-15)
    one = jax.jit(_fn)
    for i in range(7):
        for j in range(5):
            expected = one(_set(net, k=k[i], speed=speed[j]))
            assert result.values["f"][i, j] == expected["f"]  # bitwise
            np.testing.assert_array_equal(result.values["v"][i, j], expected["v"])
            np.testing.assert_allclose(
                result.values["f"][i, j], _reference(k[i], speed[j], -0.1), rtol=1e-13
            )
    assert not result.failed.any() and result.done.all()


def test_zipped_and_random_designs_equal_python_loop():
    net = _net()
    one = jax.jit(_fn)
    zipped = designs.zipped({"k": [0.1, 0.2, 0.3], "speed": [2.0, 3.0, 4.0]})
    space = {"k": designs.Uniform(0.0, 1.0), "speed": designs.LogUniform(1.0, 20.0)}
    rand = designs.random(space, 11, key=jr.key(0))
    for design in (zipped, rand):
        result = massfit.sweep(_fn, net, design, chunk_size=4, progress=False)
        assert result.dims == ("point",)
        for i in range(design.size):
            k, s = result.coords["k"][i], result.coords["speed"][i]
            assert result.values["f"][i] == one(_set(net, k=k, speed=s))["f"]
    np.testing.assert_array_equal(
        result.coords["k"], designs.random(space, 11, key=jr.key(0)).axes["k"]
    )
    assert not np.array_equal(
        result.coords["k"], designs.random(space, 11, key=jr.key(1)).axes["k"]
    )
    assert np.all((rand.axes["speed"] >= 1.0) & (rand.axes["speed"] <= 20.0))


def test_latin_hypercube_and_sobol():
    space = {"k": designs.Uniform(0.0, 2.0), "node.a": designs.LogUniform(np.full(3, 0.1), 10.0)}
    lhs = designs.latin_hypercube(space, 16, key=jr.key(3))
    assert lhs.axes["node.a"].shape == (16, 3)
    # one point in each of the 16 strata along every scalar dimension
    np.testing.assert_array_equal(np.sort(np.floor(lhs.axes["k"] / 2.0 * 16)), np.arange(16))
    for r in range(3):
        u = np.log(lhs.axes["node.a"][:, r] / 0.1) / np.log(100.0)
        np.testing.assert_array_equal(np.sort(np.floor(u * 16)), np.arange(16))
    sob = designs.sobol(space, 16, key=jr.key(3))
    assert sob.axes["k"].shape == (16,)
    assert np.all((sob.axes["k"] >= 0) & (sob.axes["k"] <= 2.0))
    # a scrambled Sobol base-2 block is also stratified in 16 along each dimension
    np.testing.assert_array_equal(np.sort(np.floor(sob.axes["k"] / 2.0 * 16)), np.arange(16))


def test_product_of_designs():
    net = _net()
    design = designs.product(
        designs.zipped({"k": [0.1, 0.2], "node.a": [-0.1, -0.2]}),
        designs.grid({"speed": [1.0, 2.0, 3.0]}),
    )
    result = massfit.sweep(_fn, net, design, progress=False)
    assert result.values["f"].shape == (2, 3)
    assert result.dims == ("point", "speed")
    for i in range(2):
        for j in range(3):
            ref = _reference(
                result.coords["k"][i], result.coords["speed"][j], result.coords["node.a"][i]
            )
            np.testing.assert_allclose(result.values["f"][i, j], ref, rtol=1e-13)


def test_last_chunk_padded_compiled_once():
    traces = []

    def fn(m):
        traces.append(1)
        return m.k * 2.0

    result = massfit.sweep(
        fn, _net(), {"k": designs.linear(0.0, 1.0, 10)}, chunk_size=4, progress=False
    )
    np.testing.assert_array_equal(result.values, np.linspace(0.0, 1.0, 10) * 2.0)
    # one trace for the output's shape, one for the compiled chunk: 3 chunks, the last padded
    assert len(traces) == 2


def test_per_region_glob_and_constraint():
    net = eqx.tree_at(lambda n: n.k, _net(), massfit.Bounded(0.5, lower=0.0, upper=1.0))
    net = eqx.tree_at(lambda n: n.node.a, net, jnp.full(N, -0.1))
    a = np.array([[-0.1, -0.2, -0.3, -0.4], [-1.0, -2.0, -3.0, -4.0]])
    fn = lambda m: (massfit.unwrap(m).k, m.node.a, m.node.x0 + m.node.y0)
    result = massfit.sweep(
        fn, net, {"node.a": a, "k": [0.25, 0.75], "node.[xy]0": [1.0, 2.0]}, progress=False
    )
    k, node_a, xy = result.values
    np.testing.assert_array_equal(node_a[:, 0, 0], a)
    np.testing.assert_array_equal(k[0, :, 0], [0.25, 0.75])  # the physical value, exactly
    np.testing.assert_array_equal(xy[0, 0], [2.0, 4.0])  # the glob set x0 and y0
    # a scalar axis value on a per-region parameter sets every region
    net = _net()
    net = eqx.tree_at(lambda n: n.node.a, net, jnp.full(N, -0.1))
    result = massfit.sweep(lambda m: m.node.a, net, {"node.a": [-0.5]}, progress=False)
    np.testing.assert_array_equal(result.values[0], np.full(N, -0.5))


def test_failed_points_and_nonfinite_never_best():
    def fn(m):
        x = eqx.error_if(m.k, m.k > 0.65, "k too large")
        return jnp.where(m.k < 0.15, jnp.nan, (x - 0.1) ** 2)

    ks = designs.linear(0.0, 1.0, 11)
    with pytest.warns(RuntimeWarning, match="4 of 11 points raised"):
        result = massfit.sweep(fn, _net(), {"k": ks}, chunk_size=4, progress=False)
    np.testing.assert_array_equal(result.failed, ks > 0.65)
    assert np.all(np.isnan(result.values[ks > 0.65]))
    assert np.all(np.isnan(result.values[ks < 0.15]))  # non-finite stays non-finite
    best = result.best()
    assert best.index == (2,) and best.coords["k"] == ks[2]
    np.testing.assert_allclose(best.value, (0.2 - 0.1) ** 2)
    worst = result.best(minimise=False)
    assert worst.index == (6,)


def test_model_at_reproduces_values():
    net = _net()
    result = massfit.sweep(_fn, net, {"k": [0.1, 0.2], "speed": [1.0, 2.0, 8.0]}, progress=False)
    m = result.model(1, 2)
    assert float(m.k) == 0.2 and float(m.speed) == 8.0
    assert m.max_delay == pytest.approx(20.0 / 1.0) and m.min_delay == pytest.approx(20.0 / 8.0)
    assert _fn(result.model_at((1, 2)))["f"] == result.values["f"][1, 2]


def test_xarray_and_dataframe():
    result = massfit.sweep(_fn, _net(), {"k": [0.1, 0.2], "speed": [1.0, 2.0, 8.0]}, progress=False)
    ds = result.to_xarray()
    np.testing.assert_array_equal(ds["f"].sel(k=0.2, speed=8.0).values, result.values["f"][1, 2])
    assert ds["v"].shape == (2, 3, 3)
    df = result.to_dataframe()
    assert len(df) == 6
    row = df[(df["k"] == 0.2) & (df["speed"] == 8.0)].iloc[0]
    assert row["f"] == result.values["f"][1, 2] and row["v[2]"] == result.values["v"][1, 2, 2]


def test_errors():
    net = _net()
    with pytest.raises(ValueError, match=r"Unknown parameter path 'nope'.*'node\.a'.*'speed'"):
        massfit.sweep(_fn, net, {"nope": [1.0]}, progress=False)
    with pytest.raises(ValueError, match=r"same length.*'k': 2.*'speed': 3"):
        designs.zipped({"k": [0.1, 0.2], "speed": [1.0, 2.0, 3.0]})
    for bad in (0, -1):
        with pytest.raises(
            ValueError, match=r"`chunk_size` must be an integer >= 1; got int " + str(bad)
        ):
            massfit.sweep(_fn, net, {"k": [0.1]}, chunk_size=bad, progress=False)
    with pytest.raises(ValueError, match=r"axis 'node\.a'.*'node\.a'.*\(n, \*\(\)\).*got \(2, 3\)"):
        massfit.sweep(_fn, net, {"node.a": np.zeros((2, 3))}, progress=False)
    with pytest.raises(ValueError, match=r"speed.*> 0"):
        massfit.sweep(_fn, net, {"speed": [0.0, 1.0]}, progress=False)
    with pytest.raises(TypeError, match="`axes` must be a dict"):
        massfit.sweep(_fn, net, [0.1], progress=False)


def test_resume_after_interrupt(tmp_path, monkeypatch):
    import massfit._sweep._sweep as sweep_module

    net = _net()
    axes = {"k": designs.linear(0.0, 1.0, 9), "speed": [1.0, 2.0]}
    full = massfit.sweep(_fn, net, axes, chunk_size=4, progress=False)
    real = sweep_module.evaluate_batch
    calls = []

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(sweep_module, "evaluate_batch", interrupted)
    with pytest.warns(RuntimeWarning, match="interrupted: 8 of 18"):
        part = massfit.sweep(_fn, net, axes, chunk_size=4, directory=tmp_path, progress=False)
    assert part.done.sum() == 8 and np.isnan(part.values["f"][~part.done]).all()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "chunk_000000.npy",
        "chunk_000001.npy",
        "manifest.json",
        "values_0.npy",
        "values_1.npy",
    ]
    calls.clear()
    monkeypatch.setattr(
        sweep_module, "evaluate_batch", lambda *a, **k: calls.append(1) or real(*a, **k)
    )
    again = massfit.sweep(_fn, net, axes, chunk_size=4, directory=tmp_path, progress=False)
    assert len(calls) == 3  # chunks 2, 3 and 4 only
    for leaf, ref in zip(jax.tree.leaves(again.values), jax.tree.leaves(full.values)):
        assert leaf.tobytes() == ref.tobytes()
    assert again.done.all()


def test_directory_values_are_memory_maps_equal_to_in_memory(tmp_path):
    net = _net()
    axes = {"k": designs.linear(0.0, 1.0, 9), "speed": [1.0, 2.0, 4.0]}
    memory = massfit.sweep(_fn, net, axes, chunk_size=4, progress=False)
    disk = massfit.sweep(_fn, net, axes, chunk_size=4, directory=tmp_path, progress=False)
    for name, shape in [("f", (9, 3)), ("v", (9, 3, 3))]:
        leaf = disk.values[name]
        assert isinstance(leaf, np.memmap) and leaf.shape == shape
        assert not leaf.flags.writeable
        assert leaf.tobytes() == memory.values[name].tobytes()
    # The files are plain .npy, in leaf order ("f", "v"), the design flattened.
    on_disk = np.load(tmp_path / "values_1.npy")
    np.testing.assert_array_equal(on_disk, disk.values["v"].reshape(27, 3))
    k, speed = np.meshgrid(designs.linear(0.0, 1.0, 9), [1.0, 2.0, 4.0], indexing="ij")
    expected = _reference(k, speed, np.asarray(net.node.a))
    np.testing.assert_allclose(disk.values["f"], expected, rtol=1e-6)
    # Read back from the directory without evaluating anything, bitwise the same.
    again = massfit.sweep(_fn, net, axes, chunk_size=4, directory=tmp_path, progress=False)
    assert again.values["f"].tobytes() == memory.values["f"].tobytes() and again.done.all()
    best = again.best(lambda out: out["f"], minimise=False)
    assert best.index == (8, 0) and best.value == memory.values["f"][8, 0]


def test_rows_of_an_unrecorded_chunk_are_written_again(tmp_path):
    # A sweep killed between a chunk's rows and its record: the chunk is evaluated again.
    net = _net()
    axes = {"k": designs.linear(0.0, 1.0, 6)}
    ref = massfit.sweep(_fn, net, axes, chunk_size=2, directory=tmp_path, progress=False)
    ref_f = np.array(ref.values["f"])
    values = np.lib.format.open_memmap(tmp_path / "values_0.npy", mode="r+")
    values[2:4] = -1.0  # the rows of chunk 1, half written
    values.flush()
    del values
    (tmp_path / "chunk_000001.npy").unlink()
    again = massfit.sweep(_fn, net, axes, chunk_size=2, directory=tmp_path, progress=False)
    assert again.values["f"].tobytes() == ref_f.tobytes()


def test_resume_refuses_a_different_sweep(tmp_path):
    net = _net()
    massfit.sweep(_fn, net, {"k": [0.1, 0.2]}, chunk_size=2, directory=tmp_path, progress=False)
    with pytest.raises(ValueError, match=r"different sweep \(differs in design\b"):
        massfit.sweep(_fn, net, {"k": [0.1, 0.3]}, chunk_size=2, directory=tmp_path, progress=False)
    with pytest.raises(ValueError, match=r"differs in chunk_size \(directory 2, this sweep 4\)"):
        massfit.sweep(_fn, net, {"k": [0.1, 0.2]}, chunk_size=4, directory=tmp_path, progress=False)
    other = eqx.tree_at(lambda n: n.node.omega, net, 2.0)
    with pytest.raises(ValueError, match=r"differs in model"):
        massfit.sweep(
            _fn, other, {"k": [0.1, 0.2]}, chunk_size=2, directory=tmp_path, progress=False
        )


@pytest.mark.slow  # two simulate compilations (vmapped, unbatched): 28-50 s on the shared CPU
def test_speed_sweep_of_a_simulated_network():
    """A k x speed sweep of the example network (slower speeds than it was built for, so
    longer delays than its `max_delay`), against a Python loop of unbatched simulations."""
    from massfit.datasets._example_signal import true_network

    net = true_network()
    settings = dict(duration=50.0, dt=0.2, save_every=1.0, variables="x")
    key = jr.key(0)
    fn = lambda m: massfit.simulate(m, key=key, **settings)["x"]
    ks, speeds = [0.0, 0.05], [1.0, 20.0]
    result = massfit.sweep(fn, net, {"k": ks, "speed": speeds}, chunk_size=4, progress=False)
    assert not result.failed.any()
    one = jax.jit(fn)
    for i, k in enumerate(ks):
        for j, s in enumerate(speeds):
            model = massfit.Network(
                net.node,
                net.connectome,
                k=k,
                speed=s,
                noise=net.noise,
                max_delay=result.model(i, j).max_delay,
                min_delay=result.model(i, j).min_delay,
            )
            expected = np.asarray(one(model))
            np.testing.assert_array_equal(result.values[i, j], expected)  # bitwise on CPU
    assert np.all(np.isfinite(result.values))
    # the speed changes the trajectory once coupled
    assert not np.allclose(result.values[1, 0], result.values[1, 1])


_SHARDED = """
import jax, numpy as np
jax.config.update("jax_enable_x64", True)
import massfit
from massfit import designs
w = np.ones((4, 4)) - np.eye(4)
net = massfit.Network(massfit.Hopf(a=-0.1), massfit.Connectome(w, 20.0 * w), k=0.5, speed=5.0)
fn = lambda m: m.k ** 2 * jax.numpy.exp(-m.speed / 10.0) + jax.numpy.sum(m.node.a)
axes = {"k": designs.linear(0.0, 1.0, 7), "speed": designs.log(1.0, 20.0, 5)}
assert len(jax.devices()) == 2
a = massfit.sweep(fn, net, axes, chunk_size=6, shard=True, progress=False).values
b = massfit.sweep(fn, net, axes, chunk_size=6, shard=False, progress=False).values
assert a.tobytes() == b.tobytes(), np.abs(a - b).max()
print("ok")
"""


def test_sharded_equals_unsharded():
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=2", JAX_ENABLE_X64="1")
    out = subprocess.run([sys.executable, "-c", _SHARDED], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "ok" in out.stdout


_PROCESS = """
import sys, jax, numpy as np
jax.config.update("jax_enable_x64", True)
jax.config.update("jax_cpu_collectives_implementation", "gloo")
port, n, i, directory, out = sys.argv[1:]
if int(n) > 1:
    jax.distributed.initialize(f"127.0.0.1:{port}", num_processes=int(n), process_id=int(i))
import massfit
from massfit import designs
w = np.ones((4, 4)) - np.eye(4)
net = massfit.Network(massfit.Hopf(a=-0.1), massfit.Connectome(w, 20.0 * w), k=0.5, speed=5.0)
fn = lambda m: m.k ** 2 * jax.numpy.exp(-m.speed / 10.0) + jax.numpy.sum(m.node.a)
axes = {"k": designs.linear(0.0, 1.0, 7), "speed": designs.log(1.0, 20.0, 5)}
d = None if directory == "-" else directory
r = massfit.sweep(fn, net, axes, chunk_size=4, directory=d, progress=False)
assert r.done.all()
np.save(out, r.values)
"""


@pytest.mark.slow  # two JAX processes and one more: ~25 s each
@pytest.mark.parametrize("directory", [False, True])
def test_two_processes_equal_one(tmp_path, directory):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = str(s.getsockname()[1])
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    env.pop("XLA_FLAGS", None)
    where = str(tmp_path / "sweep") if directory else "-"

    def start(n, i, out, where=where):
        args = [sys.executable, "-c", _PROCESS, port, str(n), str(i), where, str(out)]
        return subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    procs = [start(2, i, tmp_path / f"p{i}.npy") for i in range(2)]
    for p in procs:
        _, err = p.communicate(timeout=240)
        assert p.returncode == 0, err.decode()[-3000:]
    one = start(1, 0, tmp_path / "one.npy", "-")  # evaluated afresh, not read back
    _, err = one.communicate(timeout=240)
    assert one.returncode == 0, err.decode()[-3000:]
    ref = np.load(tmp_path / "one.npy")
    assert ref.shape == (7, 5) and np.isfinite(ref).all()
    for i in range(2):
        assert np.load(tmp_path / f"p{i}.npy").tobytes() == ref.tobytes()
