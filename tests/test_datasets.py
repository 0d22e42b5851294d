"""massfit.datasets: the registry and the bundled synthetic connectomes."""

import numpy as np
import pytest

import massfit as mf
import massfit.datasets as md
from massfit.datasets import _registry
from massfit.datasets._random import StableRandom
from massfit.io import Regions


@pytest.fixture
def clean_registry():
    saved = dict(_registry._REGISTRY)
    yield
    _registry._REGISTRY.clear()
    _registry._REGISTRY.update(saved)


def test_list_datasets_names_and_describes_the_bundled_ones():
    listed = md.list_datasets()
    assert {"example_connectome", "realistic_connectome"} <= set(listed)
    assert list(listed) == sorted(listed)
    assert all(isinstance(d, str) and d for d in listed.values())


def test_unknown_name_lists_the_valid_ones():
    with pytest.raises(ValueError, match="unknown dataset 'example_conectome'") as info:
        md.load_dataset("example_conectome")
    assert "realistic_connectome" in str(info.value)
    assert "Did you mean 'example_connectome'?" in str(info.value)
    with pytest.raises(ValueError, match="registered ones are"):
        md.load_regions("nope")


def test_register_and_load_a_user_dataset(clean_registry):
    md.register_dataset("twice", lambda x=1: 2 * x, description="doubles")
    assert md.list_datasets()["twice"] == "doubles"
    assert md.load_dataset("twice") == 2
    assert md.load_dataset("twice", x=5) == 10
    with pytest.raises(ValueError, match="already registered"):
        md.register_dataset("twice", lambda: 0, description="again")
    md.register_dataset("twice", lambda: 0, description="again", overwrite=True)
    assert md.load_dataset("twice") == 0
    with pytest.raises(ValueError, match="has no region geometry.*example_connectome"):
        md.load_regions("twice")


def test_register_rejects_bad_arguments(clean_registry):
    with pytest.raises(TypeError, match="loader"):
        md.register_dataset("x", 3, description="")
    with pytest.raises(ValueError, match="non-empty string"):
        md.register_dataset("", lambda: 0, description="")


def test_stable_random_stream_is_pinned():
    # The bundled data depend on these numbers; they must not change with NumPy's version.
    u = StableRandom(0).uniform(3)
    expected = (np.random.PCG64(0).random_raw(3) >> np.uint64(11)) * 2.0**-53
    np.testing.assert_array_equal(u, expected)
    assert 0.0 <= u.min() and u.max() < 1.0
    z = StableRandom(1).normal(20_000)
    assert abs(z.mean()) < 0.03 and abs(z.std() - 1.0) < 0.03


def test_example_connectome():
    conn = md.load_dataset("example_connectome")
    regions = md.load_regions("example_connectome")
    assert isinstance(conn, mf.Connectome) and isinstance(regions, Regions)
    w, ln = np.asarray(conn.weights), np.asarray(conn.lengths)
    assert w.shape == (8, 8) and conn.labels == regions.labels
    np.testing.assert_array_equal(w, w.T)
    np.testing.assert_array_equal(np.diag(w), 0.0)
    assert w.max() == 1.0 and (w >= 0).all()
    assert round(float((w[~np.eye(8, dtype=bool)] > 0).mean()), 2) == 0.61
    # Lengths are the Euclidean distances between the centres, in mm.
    np.testing.assert_allclose(ln, np.asarray(regions.distances()), rtol=1e-6)
    assert 10.0 < ln[w > 0].min() and ln.max() < 200.0
    # Two hemispheres of four, mirrored in x.
    c = np.asarray(regions.centres)
    np.testing.assert_array_equal(np.asarray(regions.hemispheres), [False] * 4 + [True] * 4)
    np.testing.assert_allclose(c[4:], c[:4] * np.array([-1.0, 1.0, 1.0]))
    assert (c[:4, 0] < 0).all()


def test_bundled_data_are_deterministic_and_seeded():
    a = md.load_dataset("realistic_connectome", n_regions=20, seed=3)
    b = md.load_dataset("realistic_connectome", n_regions=20, seed=3)
    c = md.load_dataset("realistic_connectome", n_regions=20, seed=4)
    np.testing.assert_array_equal(a.weights, b.weights)
    np.testing.assert_array_equal(a.lengths, b.lengths)
    assert not np.array_equal(np.asarray(a.weights), np.asarray(c.weights))
    # Pinned content: a change to the recipe or the random stream shows up here.
    example = md.load_dataset("example_connectome")
    assert float(np.sum(example.weights)) == pytest.approx(10.39771, abs=1e-4)
    assert float(np.sum(example.lengths)) == pytest.approx(4682.948, abs=1e-2)


def test_realistic_connectome_looks_like_diffusion_mri():
    conn = md.load_dataset("realistic_connectome")
    regions = md.load_regions("realistic_connectome")
    w, ln = np.asarray(conn.weights, np.float64), np.asarray(conn.lengths, np.float64)
    n = 80
    assert w.shape == (n, n) and len(regions.labels) == n
    np.testing.assert_array_equal(w, w.T)
    np.testing.assert_array_equal(ln, ln.T)
    np.testing.assert_array_equal(np.diag(w), 0.0)
    edges = w > 0
    pairs = n * (n - 1)
    assert edges.sum() == 2 * round(0.3 * pairs / 2)
    assert edges.any(axis=1).all()  # no isolated region
    # Tracts are never shorter than the straight line, and reach ~250 mm.
    d = np.asarray(regions.distances(), np.float64)
    off = ~np.eye(n, dtype=bool)
    assert (ln[off] >= d[off] - 1e-3).all()
    assert 180.0 < ln.max() < 260.0
    assert 5.0 < ln[edges].min() < 15.0
    # Both hemispheres, both intra- and inter-hemispheric edges.
    h = np.asarray(regions.hemispheres)
    assert h.sum() == n // 2
    between = h[:, None] != h[None, :]
    assert 0.1 < (edges & between).sum() / edges.sum() < 0.5
    # Exponential distance rule: short tracts are far more often connected than long ones.
    short, long = ln < np.percentile(ln[off], 33), ln > np.percentile(ln[off], 67)
    assert edges[short & off].mean() > 3 * edges[long & off].mean()
    # Log-normal weights spanning orders of magnitude, strongest 1.
    logw = np.log(w[edges])
    assert w.max() == 1.0 and 1.0 < logw.std() < 2.5
    assert np.corrcoef(logw, ln[edges])[0, 1] < -0.2
    # Brain-sized: centres inside a ~170 mm long ellipsoid.
    c = np.asarray(regions.centres)
    assert 120.0 < np.ptp(c[:, 1]) < 175.0 and 80.0 < np.ptp(c[:, 0]) < 140.0


@pytest.mark.parametrize("n", [4, 20, 160])
def test_realistic_connectome_size_is_selectable(n):
    conn = md.load_dataset("realistic_connectome", n_regions=n, density=0.25)
    assert conn.weights.shape == (n, n)
    assert len(md.load_regions("realistic_connectome", n_regions=n, density=0.25).labels) == n


def test_realistic_connectome_rejects_bad_sizes():
    with pytest.raises(ValueError, match="must be even"):
        md.load_dataset("realistic_connectome", n_regions=81)
    with pytest.raises(ValueError, match="at least 4"):
        md.load_dataset("realistic_connectome", n_regions=2)
    with pytest.raises(ValueError, match="density"):
        md.load_dataset("realistic_connectome", density=1.5)


@pytest.mark.slow
def test_example_signal_is_a_reproducible_simulation_with_its_truth():
    import jax.random as jr

    ex = md.load_dataset("example_signal")
    assert isinstance(ex, md.ExampleSignal)
    assert ex.data.shape == (10_000, 8) and ex.dt == 2.0  # 20 s at 2 ms
    assert ex.signal.labels == ex.network.connectome.labels
    assert md.load_dataset("example_signal") is ex  # cached
    # FC against an independent computation.
    np.testing.assert_allclose(ex.fc, np.corrcoef(np.asarray(ex.data).T), atol=1e-12)
    # The recorded truth is the network's, and the connectome is example_connectome.
    net = ex.network
    assert float(net.k) == ex.truth["k"] == 0.02
    assert float(net.speed) == ex.truth["speed"]
    assert float(net.node.a) == ex.truth["node.a"] < 0  # noise-driven, below the bifurcation
    assert float(net.node.omega) == pytest.approx(2 * np.pi * 0.010)  # 10 Hz
    assert float(net.noise.sigma) == ex.truth["noise.sigma"]
    np.testing.assert_array_equal(
        net.connectome.weights, md.load_dataset("example_connectome").weights
    )
    with pytest.raises(TypeError):
        ex.truth["k"] = 2.0  # read-only
    # The data are what `ex.simulate` gives for the truth and the recorded seed (the data
    # were made under `jit`, called eagerly here: XLA may fuse, and round, differently).
    np.testing.assert_allclose(ex.simulate(net, jr.key(ex.seed)), ex.data, rtol=1e-9, atol=1e-15)
    # An alpha rhythm: every region's spectral peak is near the nodes' 10 Hz (1 Hz bins; the
    # delayed coupling shifts it a little), far above the 1/f-like floor of a low-pass.
    freqs, power = mf.metrics.psd(ex.data, ex.dt)
    np.testing.assert_allclose(freqs[np.argmax(np.asarray(power), axis=0)], 9.5, atol=2.5)
    # Linear regime: the amplitude stays where the cubic term is negligible (beta r^2 << |a|).
    assert float(np.mean(np.asarray(ex.data) ** 2)) < 0.1 * abs(ex.truth["node.a"])
    # Coupled regions are positively correlated, more so along stronger connections.
    iu = np.triu_indices(8, 1)
    fc = np.asarray(ex.fc)[iu]
    w = np.asarray(net.connectome.weights)[iu]
    assert fc[w > 0.2].mean() > 2 * abs(fc[w == 0]).mean()
    assert np.corrcoef(fc, np.asarray(net.connectome.weights)[iu])[0, 1] > 0.6


def test_example_signal_seed_and_duration():
    a = md.load_dataset("example_signal", seed=1, duration=400.0)
    assert a.data.shape == (200, 8)
    assert not np.allclose(a.data[:100], md.load_dataset("example_signal").data[:100])
    for bad in (-1.0, 0.0, 401.0, float("nan")):
        with pytest.raises(ValueError, match="`duration` must be a positive whole number of 2 ms"):
            md.load_dataset("example_signal", duration=bad)
