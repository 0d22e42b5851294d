"""The online FC observer: numpy's correlation/covariance of each window, float32 precision
over long series with a large mean, NaN for a constant region (under jit and vmap too), and
gradients through a simulation equal to those of the FC of the stored trace."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import massfit
from massfit.observation import FC, sample_steps


def _windows(x, period, dt, start):
    """The rows of each window, written independently of the observer."""
    steps = sample_steps(period, dt, x.shape[0])
    skip = round(start / dt)
    bounds = [0, *steps]
    return [x[max(a, skip) : b] for a, b in zip(bounds[:-1], bounds[1:])]


@pytest.mark.parametrize("period, start", [(30.0, 0.0), (23.37, 7.0)])
def test_windows_equal_numpy_corrcoef_and_cov(period, start):
    dt = 0.1
    x = np.random.default_rng(0).normal(size=(1000, 5)) @ np.triu(np.ones((5, 5)))
    windows = _windows(x, period, dt, start)
    corr = FC(period=period, drive="x", start=start)(jnp.asarray(x), dt=dt)
    cov = FC(period=period, drive="x", start=start, covariance=True)(jnp.asarray(x), dt=dt)
    assert corr.shape == (len(windows), 5, 5)
    for m, rows in enumerate(windows):
        np.testing.assert_allclose(corr[m], np.corrcoef(rows.T), rtol=0, atol=1e-13)
        np.testing.assert_allclose(cov[m], np.cov(rows.T), rtol=1e-12, atol=1e-13)


def test_float32_keeps_precision_over_a_long_series_with_a_large_mean():
    rng = np.random.default_rng(1)
    x = 100.0 + rng.normal(size=(50_000, 4)) @ np.array(
        [[1, 0.5, 0, 0], [0, 1, 0.5, 0], [0, 0, 1, 0.5], [0, 0, 0, 1]]
    )
    got = FC(period=5000.0, drive="x")(jnp.asarray(x, jnp.float32), dt=0.1)
    assert got.dtype == jnp.float32
    # A naive sum of squares in float32 loses ~1e4 x eps here (mean 100, std 1).
    np.testing.assert_allclose(got[0], np.corrcoef(x.T), rtol=0, atol=2e-5)


def test_a_constant_region_gives_nan_not_zero_eager_jit_and_vmap():
    x = np.random.default_rng(2).normal(size=(200, 3))
    x[:, 1] = 0.7
    observer = FC(period=20.0, drive="x")

    def run(series):
        return observer(series, dt=0.1)

    for out in (run(jnp.asarray(x)), jax.jit(run)(jnp.asarray(x))):
        assert np.all(np.isnan(out[0, 1])) and np.all(np.isnan(out[0, :, 1]))
        assert np.isfinite(out[0, 0, 2])
    batched = jax.vmap(run)(jnp.stack([jnp.asarray(x), jnp.asarray(x) + 1.0]))
    assert np.all(np.isnan(batched[:, 0, 1]))
    np.testing.assert_allclose(batched[1, 0, 0, 2], np.corrcoef(x.T)[0, 2], atol=1e-12)


def test_bad_start_is_refused():
    with pytest.raises(ValueError, match="`start`"):
        FC(period=10.0, drive="x", start=-1.0)
    with pytest.raises(ValueError, match="`start`"):
        FC(period=10.0, drive="x", start=float("nan"))
    with pytest.raises(TypeError, match="`start`"):
        FC(period=10.0, drive="x", start="1 s")


@pytest.mark.slow
def test_gradient_through_online_fc_matches_the_stored_trace_and_finite_differences():
    conn = massfit.datasets.load_dataset("example_connectome")
    net = massfit.Network(massfit.Hopf(a=-0.02, x0=0.1, y0=0.05), conn, k=0.05, speed=5.0)
    duration, dt = 120.0, 0.5
    target = jnp.eye(conn.n_regions)

    def online(k):
        n = eqx.tree_at(lambda m: m.k, net, k)
        fc = massfit.simulate(
            n, duration=duration, dt=dt, observers={"fc": FC(period=duration, drive="x")}
        ).observed["fc"][0]
        return jnp.mean((fc - target) ** 2)

    def stored(k):
        n = eqx.tree_at(lambda m: m.k, net, k)
        x = massfit.simulate(n, duration=duration, dt=dt, variables="x")["x"]
        return jnp.mean((massfit.metrics.fc(x) - target) ** 2)

    k = jnp.asarray(0.05)
    np.testing.assert_allclose(online(k), stored(k), rtol=1e-12)
    g = jax.grad(online)(k)
    np.testing.assert_allclose(g, jax.grad(stored)(k), rtol=1e-9)
    h = 1e-6
    fd = (online(k + h) - online(k - h)) / (2 * h)
    np.testing.assert_allclose(g, fd, rtol=1e-5)


@pytest.mark.parametrize("start, lo, hi", [(0.0, 0, 8), (0.35, 2, 7), (0.9, 0, 5)])
def test_accumulate_equals_steps_one_by_one(start, lo, hi):
    # What a solver does with a block: the masked (consecutive) rows in one product,
    # against `step` row by row; `start` = 0.35 ms at dt 0.1 leaves out steps 1-4.
    rng = np.random.default_rng(3)
    observer = FC(period=10.0, drive="x", start=start)
    carry = observer.init(4, 0.1, jnp.float64)
    first = jnp.asarray(50.0 + rng.normal(size=(3, 4)))
    for x in first:
        carry = observer.step(carry, x, 0.1)
    xs = jnp.asarray(50.0 + rng.normal(size=(8, 4)))
    mask = jnp.zeros(8, bool).at[lo:hi].set(True)
    block = observer.accumulate(carry, xs, mask, 0.1)
    for x in xs[lo:hi]:
        carry = observer.step(carry, x, 0.1)
    assert int(block[0]) == int(carry[0]) == 3 + hi - lo
    for a, b in zip(block[1:], carry[1:]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(observer.readout(block), observer.readout(carry), atol=1e-12)
