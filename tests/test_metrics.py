"""massfit.metrics against independent numpy/scipy implementations, and its error messages."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.signal
import scipy.stats

from massfit import metrics

from .helpers import finite_difference


def _series(seed, shape, *, scale=1.0, offset=0.0):
    return scale * np.random.default_rng(seed).standard_normal(shape) + offset


def _fcd_numpy(x, window_size, step_size):
    """FCD from its definition: FC of each window, upper triangles correlated across windows."""
    n_time, n_regions = x.shape
    rows, cols = np.triu_indices(n_regions, k=1)
    vectors = [
        np.corrcoef(x[start : start + window_size].T)[rows, cols]
        for start in range(0, n_time - window_size + 1, step_size)
    ]
    return np.corrcoef(np.array(vectors))


# ---------------------------------------------------------------- functional connectivity


def test_fc_matches_corrcoef():
    x = _series(0, (300, 7), scale=3.0, offset=-2.0)
    np.testing.assert_allclose(metrics.fc(x), np.corrcoef(x.T), rtol=0, atol=1e-12)
    # float32 in, float32 out, to float32 precision
    fc32 = metrics.fc(x.astype(np.float32))
    assert fc32.dtype == jnp.float32
    np.testing.assert_allclose(fc32, np.corrcoef(x.T), atol=1e-5)
    # integer input is promoted, not rejected
    xi = np.round(x * 10).astype(np.int32)
    np.testing.assert_allclose(metrics.fc(xi), np.corrcoef(xi.T.astype(float)), atol=1e-12)


def test_fc_fisher_z():
    x = _series(1, (120, 5))
    z = np.asarray(metrics.fc(x, fisher_z=True))
    r = np.corrcoef(x.T)
    off = ~np.eye(5, dtype=bool)
    np.testing.assert_allclose(z[off], np.arctanh(r[off]), atol=1e-12)
    assert np.all(np.diag(z) == 0)
    # the zeroed diagonal does not poison the gradient with inf * 0
    grad = jax.grad(lambda v: jnp.sum(metrics.fc(v, fisher_z=True)))(jnp.asarray(x))
    assert np.all(np.isfinite(grad))


def test_fc_jit_vmap_grad():
    batch = _series(2, (3, 40, 4))
    fc_jit = jax.jit(metrics.fc)
    np.testing.assert_allclose(fc_jit(batch[0]), np.corrcoef(batch[0].T), atol=1e-12)
    stacked = jax.vmap(metrics.fc)(jnp.asarray(batch))
    for b in range(3):
        np.testing.assert_allclose(stacked[b], np.corrcoef(batch[b].T), atol=1e-12)

    def edge(v):
        return metrics.fc(v)[0, 2] + 0.5 * metrics.fc(v)[1, 3]

    grad = jax.grad(edge)(jnp.asarray(batch[0]))
    np.testing.assert_allclose(
        grad, finite_difference(jax.jit(edge), batch[0]), rtol=1e-5, atol=1e-8
    )


def test_fc_zero_variance_concrete_names_regions():
    x = _series(3, (50, 5))
    x[:, 1] = 2.0
    x[:, 3] = 0.0
    with pytest.raises(ValueError, match=r"zero variance in region\(s\) \[1, 3\]"):
        metrics.fc(x)


def test_fc_zero_variance_traced_gives_nan_rows():
    """Under jit the values are unknown: the constant region's row and column are NaN, the rest
    is untouched (no nan_to_num)."""
    x = _series(4, (60, 4))
    x[:, 2] = 1.5
    r = np.asarray(jax.jit(metrics.fc)(x))
    assert np.all(np.isnan(r[2])) and np.all(np.isnan(r[:, 2]))
    keep = [0, 1, 3]
    np.testing.assert_allclose(r[np.ix_(keep, keep)], np.corrcoef(x[:, keep].T), atol=1e-12)


# ---------------------------------------------------------------- FCD and matrix correlation


@pytest.mark.parametrize(
    "shape, window_size, step_size",
    [((200, 6), 30, 5), ((103, 4), 20, 7), ((40, 3), 30, 1), ((61, 5), 20, 1)],
)
def test_fcd_matches_numpy(shape, window_size, step_size):
    x = _series(5, shape)
    got = metrics.fcd(x, window_size, step_size)
    want = _fcd_numpy(x, window_size, step_size)
    assert got.shape == want.shape == ((shape[0] - window_size) // step_size + 1,) * 2
    np.testing.assert_allclose(got, want, atol=1e-12)


def test_fcd_defaults_are_30_and_5():
    x = _series(6, (200, 6))
    assert metrics.fcd(x).shape == (35, 35)
    np.testing.assert_allclose(metrics.fcd(x), _fcd_numpy(x, 30, 5), atol=1e-12)


def test_fcd_vmap_and_grad():
    batch = _series(7, (2, 30, 4))
    fcd = jax.vmap(lambda v: metrics.fcd(v, 10, 5))(jnp.asarray(batch))
    for b in range(2):
        np.testing.assert_allclose(fcd[b], _fcd_numpy(batch[b], 10, 5), atol=1e-12)

    def f(v):
        return metrics.fcd(v, 10, 5)[0, 3]

    np.testing.assert_allclose(
        jax.grad(f)(jnp.asarray(batch[0])),
        finite_difference(jax.jit(f), batch[0]),
        rtol=1e-5,
        atol=1e-8,
    )


def test_matrix_corr_matches_numpy():
    a = _series(8, (6, 6))
    b = a + _series(9, (6, 6))
    rows, cols = np.triu_indices(6, k=1)
    want = np.corrcoef(a[rows, cols], b[rows, cols])[0, 1]
    np.testing.assert_allclose(metrics.matrix_corr(a, b), want, atol=1e-12)
    # the lower triangle and diagonal are ignored
    b2 = b.copy()
    b2[cols, rows] = 100.0
    np.fill_diagonal(b2, -7.0)
    np.testing.assert_allclose(metrics.matrix_corr(a, b2), want, atol=1e-12)


# ---------------------------------------------------------------- spectra


@pytest.mark.parametrize(
    "dt, nperseg, noverlap, window, detrend, scaling",
    [
        (1.0, 64, None, "hann", "constant", "density"),
        (0.5, 51, 10, "hamming", "linear", "spectrum"),
        (2.0, 40, 39, "boxcar", False, "density"),
        (0.1, 33, 0, "hann", "linear", "density"),
    ],
)
def test_psd_matches_welch(dt, nperseg, noverlap, window, detrend, scaling):
    x = _series(10, (300, 3), scale=2.0, offset=1.0) + np.linspace(0, 3, 300)[:, None]
    freqs, power = metrics.psd(
        x,
        dt,
        nperseg=nperseg,
        noverlap=noverlap,
        window=window,
        detrend=detrend,
        scaling=scaling,
    )
    want_f, want_p = scipy.signal.welch(
        x,
        fs=1000.0 / dt,
        nperseg=nperseg,
        noverlap=noverlap,
        window=window,
        detrend=detrend,
        scaling=scaling,
        axis=0,
    )
    np.testing.assert_allclose(freqs, want_f, rtol=1e-12)
    np.testing.assert_allclose(power, want_p, rtol=1e-10, atol=1e-14 * want_p.max())


def test_psd_array_window_and_default_nperseg():
    x = _series(11, (3000, 2))
    # default: one second of samples (dt = 0.5 ms -> 2000), at least 256, at most the length
    freqs, power = metrics.psd(x, 0.5)
    want_f, want_p = scipy.signal.welch(x, fs=2000.0, nperseg=2000, axis=0)
    np.testing.assert_allclose(freqs, want_f)
    np.testing.assert_allclose(power, want_p, rtol=1e-10)
    assert metrics.psd(x[:100], 0.5)[0].shape == (51,)  # capped at the series length
    assert metrics.psd(x, 20.0)[0].shape == (129,)  # at least 256 samples
    window = scipy.signal.get_window("blackman", 128)
    _, power = metrics.psd(x, 1.0, nperseg=128, window=window)
    np.testing.assert_allclose(
        power, scipy.signal.welch(x, fs=1000.0, nperseg=128, window=window, axis=0)[1], rtol=1e-10
    )


def test_psd_of_a_sine_peaks_at_its_frequency_in_hz():
    t_ms = np.arange(4000) * 0.25  # dt = 0.25 ms, 1 s
    x = np.sin(2 * np.pi * 40.0 * t_ms / 1000.0)[:, None]  # 40 Hz
    freqs, power = metrics.psd(x, 0.25, nperseg=4000)
    assert float(freqs[np.argmax(power[:, 0])]) == 40.0


def test_psd_grad_and_vmap():
    x = _series(12, (64, 2))

    def total(v):
        return jnp.sum(metrics.psd(v, 1.0, nperseg=16)[1][2:6])

    np.testing.assert_allclose(
        jax.grad(total)(jnp.asarray(x)),
        finite_difference(jax.jit(total), x),
        rtol=1e-5,
        atol=1e-10,
    )
    batch = _series(13, (3, 64, 2))
    batched = jax.vmap(lambda v: metrics.psd(v, 1.0, nperseg=16)[1])(jnp.asarray(batch))
    for b in range(3):
        want = scipy.signal.welch(batch[b], fs=1000.0, nperseg=16, axis=0)[1]
        np.testing.assert_allclose(batched[b], want, rtol=1e-10)


def test_band_power_matches_welch():
    x = _series(14, (500, 3))
    freqs, density = scipy.signal.welch(x, fs=500.0, nperseg=100, axis=0)  # dt = 2 ms
    in_band = (freqs >= 20.0) & (freqs <= 60.0)
    df = freqs[1] - freqs[0]
    got = metrics.band_power(x, 2.0, (20.0, 60.0), nperseg=100)
    np.testing.assert_allclose(got, density[in_band].sum(0) * df, rtol=1e-10)
    relative = metrics.band_power(x, 2.0, (20, 60), nperseg=100, relative=True)
    np.testing.assert_allclose(relative, density[in_band].sum(0) / density.sum(0), rtol=1e-10)
    # Parseval, roughly: all of white noise's power is its variance
    full = metrics.band_power(x, 2.0, (0.0, 250.0), nperseg=100, window="boxcar", noverlap=0)
    np.testing.assert_allclose(full, x.var(0), rtol=0.02)


def test_peak_frequency_hard_and_soft():
    t = np.arange(2000) * 1.0  # ms
    rng = np.random.default_rng(15)
    x = np.stack(
        [np.sin(2 * np.pi * f * t / 1000) + 0.1 * rng.standard_normal(2000) for f in (7, 23)], 1
    )
    freqs, density = scipy.signal.welch(x, fs=1000.0, nperseg=1000, axis=0)
    in_band = (freqs >= 2.0) & (freqs <= 45.0)
    f_band, p_band = freqs[in_band], density[in_band]
    hard = metrics.peak_frequency(x, 1.0, (2.0, 45.0), nperseg=1000)
    np.testing.assert_array_equal(hard, f_band[np.argmax(p_band, axis=0)])
    np.testing.assert_array_equal(hard, [7.0, 23.0])  # 1 Hz bins
    for temperature in (0.1, 0.5, 2.0):
        logits = np.log(p_band) / temperature
        weights = np.exp(logits - logits.max(0))
        weights /= weights.sum(0)
        soft = metrics.peak_frequency(x, 1.0, (2.0, 45.0), temperature=temperature, nperseg=1000)
        np.testing.assert_allclose(soft, (weights * f_band[:, None]).sum(0), rtol=1e-10)
    cold = metrics.peak_frequency(x, 1.0, (2.0, 45.0), temperature=1e-3, nperseg=1000)
    np.testing.assert_allclose(cold, hard, atol=1e-6)


def test_soft_peak_frequency_has_gradients():
    t = np.arange(256) * 1.0
    x = np.stack([np.sin(2 * np.pi * 0.05 * t), np.cos(2 * np.pi * 0.11 * t)], 1)
    x = x + 0.05 * np.random.default_rng(16).standard_normal(x.shape)

    def f(v):
        return jnp.sum(metrics.peak_frequency(v, 1.0, (10.0, 200.0), temperature=0.5, nperseg=64))

    grad = jax.grad(f)(jnp.asarray(x))
    assert np.abs(grad).max() > 0
    np.testing.assert_allclose(grad, finite_difference(jax.jit(f), x), rtol=1e-4, atol=1e-7)


# ---------------------------------------------------------------- distributions


def test_fcd_distribution_matches_gaussian_kde():
    fcd = np.asarray(metrics.fcd(_series(17, (150, 5)), 20, 4))
    values = fcd[np.triu_indices_from(fcd, k=1)]
    grid = np.linspace(-1, 1, 57)
    bandwidth = 0.07
    kde = scipy.stats.gaussian_kde(values, bw_method=bandwidth / values.std(ddof=1))
    got = metrics.fcd_distribution(fcd, grid, bandwidth)
    np.testing.assert_allclose(got, kde(grid), rtol=1e-10, atol=1e-14)
    default = metrics.fcd_distribution(fcd)
    assert default.shape == (201,)
    np.testing.assert_allclose(
        default,
        scipy.stats.gaussian_kde(values, bw_method=0.05 / values.std(ddof=1))(
            np.linspace(-1, 1, 201)
        ),
        rtol=1e-10,
        atol=1e-14,
    )


@pytest.mark.parametrize("sizes", [(50, 70), (200, 13), (1, 5)])
def test_sample_distances_match_scipy(sizes):
    rng = np.random.default_rng(sum(sizes))
    a = rng.standard_normal(sizes[0])
    b = 0.5 + 1.5 * rng.standard_normal(sizes[1])
    assert float(metrics.ks_distance(a, b)) == pytest.approx(
        scipy.stats.ks_2samp(a, b).statistic, abs=1e-14
    )
    assert float(metrics.wasserstein_1d(a, b)) == pytest.approx(
        scipy.stats.wasserstein_distance(a, b), rel=1e-12
    )


def test_sample_distances_with_ties():
    rng = np.random.default_rng(18)
    a = rng.integers(0, 6, 40).astype(float)
    b = rng.integers(1, 8, 25).astype(float)
    assert float(metrics.ks_distance(a, b)) == pytest.approx(
        scipy.stats.ks_2samp(a, b).statistic, abs=1e-14
    )
    assert float(metrics.wasserstein_1d(a, b)) == pytest.approx(
        scipy.stats.wasserstein_distance(a, b), rel=1e-12
    )
    assert float(metrics.ks_distance(a, a)) == 0.0
    assert float(metrics.wasserstein_1d(a, a)) == 0.0


def test_wasserstein_1d_gradient():
    rng = np.random.default_rng(19)
    a, b = rng.standard_normal(12), rng.standard_normal(9) + 0.3
    f = jax.jit(lambda v: metrics.wasserstein_1d(v, b))
    np.testing.assert_allclose(jax.grad(f)(jnp.asarray(a)), finite_difference(f, a), atol=1e-7)


def test_on_grid_distances_match_scipy():
    rng = np.random.default_rng(20)
    a = rng.integers(0, 30, 400)
    b = rng.binomial(29, 0.6, 300)
    grid = np.arange(30.0)
    p = np.bincount(a, minlength=30).astype(float)
    q = np.bincount(b, minlength=30).astype(float)
    # Histograms of integer samples: the grid versions are the sample versions.
    assert float(metrics.ks_distance_on_grid(p, q)) == pytest.approx(
        scipy.stats.ks_2samp(a, b).statistic, abs=1e-12
    )
    assert float(metrics.wasserstein_1d_on_grid(p, q, grid)) == pytest.approx(
        scipy.stats.wasserstein_distance(a, b), rel=1e-12
    )
    # Weights at grid points, non-uniform grid
    grid2 = np.sort(rng.uniform(-3, 3, 30))
    assert float(metrics.wasserstein_1d_on_grid(p, q, grid2)) == pytest.approx(
        scipy.stats.wasserstein_distance(grid2, grid2, p, q), rel=1e-12
    )


def test_wasserstein_on_refined_grid_converges_to_continuous():
    # W1 between N(0, 1) and N(0.5, 1) is 0.5; KS is 2 Phi(0.25) - 1.
    for n, tolerance in ((101, 2e-3), (2001, 1e-5)):
        grid = np.linspace(-8, 8.5, n)
        p = scipy.stats.norm.pdf(grid)
        q = scipy.stats.norm.pdf(grid, loc=0.5)
        assert float(metrics.wasserstein_1d_on_grid(p, q, grid)) == pytest.approx(
            0.5, abs=tolerance
        )
    assert float(metrics.ks_distance_on_grid(p, q)) == pytest.approx(
        2 * scipy.stats.norm.cdf(0.25) - 1, abs=1e-3
    )


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "bad, match",
    [
        (np.zeros(10), r"`x` must be a 2-D \(time, regions\) array; got ndarray of shape \(10,\)"),
        (np.zeros((2, 10, 3)), r"`x` must be a 2-D .*shape \(2, 10, 3\).*jax.vmap"),
    ],
)
def test_non_2d_input(bad, match):
    for fn in (metrics.fc, metrics.fcd, lambda x: metrics.psd(x, 1.0)):
        with pytest.raises(ValueError, match=match):
            fn(bad)


def test_too_few_regions():
    with pytest.raises(ValueError, match=r"FC needs at least 2 regions; `x` has shape \(50, 1\)"):
        metrics.fc(_series(21, (50, 1)))
    with pytest.raises(ValueError, match=r"FCD .* needs at least 3 regions"):
        metrics.fcd(_series(21, (50, 2)), 10, 5)


def test_non_finite_input_says_where():
    x = _series(22, (40, 3))
    x[7, 2] = np.nan
    x[9, 0] = np.inf
    with pytest.raises(
        ValueError,
        match=r"`x` must be finite; it has 2 non-finite value\(s\), "
        r"the first at time index 7, region 2 \(nan\)",
    ):
        metrics.fc(x)
    for fn in (lambda v: metrics.fcd(v, 10, 5), lambda v: metrics.psd(v, 1.0)):
        with pytest.raises(ValueError, match="must be finite"):
            fn(x)


def test_fcd_short_series_and_constant_window():
    with pytest.raises(ValueError, match=r"`x` has 20 time points, fewer than `window_size`=30"):
        metrics.fcd(_series(23, (20, 4)))
    x = _series(24, (60, 4))
    x[20:40, 1] = 3.0  # constant inside windows starting at 20 (window 4 of step 5)
    with pytest.raises(
        ValueError,
        match=r"region\(s\) \[1\] within FCD window 4 \(time "
        r"indices 20 to 29\)",
    ):
        metrics.fcd(x, 10, 5)
    # (under the test suite's runtime type checks the annotation catches it first)
    with pytest.raises(TypeError, match="window_size"):
        metrics.fcd(x, 10.0, 5)
    with pytest.raises(ValueError, match="`window_size` must be at least 2"):
        metrics.fcd(x, 1, 5)
    with pytest.raises(ValueError, match="`step_size` must be at least 1"):
        metrics.fcd(x, 10, 0)


def test_matrix_corr_errors():
    with pytest.raises(
        ValueError,
        match=r"`a` and `b` must have the same shape; got \(4, 4\) "
        r"and \(5, 5\)",
    ):
        metrics.matrix_corr(np.eye(4), np.eye(5))
    with pytest.raises(ValueError, match="`b` must be a square"):
        metrics.matrix_corr(np.eye(4), np.ones((4, 3)))
    with pytest.raises(ValueError, match="at least 3 x 3"):
        metrics.matrix_corr(np.eye(2), np.eye(2))


def test_spectral_errors():
    x = _series(25, (100, 2))
    with pytest.raises(ValueError, match=r"`nperseg`=200 is longer than the series \(100"):
        metrics.psd(x, 1.0, nperseg=200)
    with pytest.raises(ValueError, match="`noverlap`=16 must be smaller than `nperseg`=16"):
        metrics.psd(x, 1.0, nperseg=16, noverlap=16)
    with pytest.raises(ValueError, match="`dt` must be a positive"):
        metrics.psd(x, -1.0)
    with pytest.raises(ValueError, match="`window` must be one of"):
        metrics.psd(x, 1.0, window="kaiser")
    with pytest.raises(ValueError, match=r"above the Nyquist frequency 50 Hz of dt=10 ms"):
        metrics.band_power(x, 10.0, (10.0, 80.0))
    with pytest.raises(ValueError, match=r"holds no frequency bin: .* bins are 62.5 Hz apart"):
        metrics.band_power(x, 1.0, (10.0, 20.0), nperseg=16)
    with pytest.raises(ValueError, match="0 <= low < high"):
        metrics.peak_frequency(x, 1.0, (20.0, 10.0))
    with pytest.raises(ValueError, match="`temperature` must be a positive"):
        metrics.peak_frequency(x, 1.0, (10.0, 200.0), temperature=0.0)


def test_distribution_errors():
    with pytest.raises(ValueError, match="`a` must be a non-empty 1-D array"):
        metrics.ks_distance(np.zeros((3, 2)), np.zeros(3))
    with pytest.raises(ValueError, match="`b` must be finite"):
        metrics.wasserstein_1d(np.zeros(3), np.array([0.0, np.nan]))
    with pytest.raises(ValueError, match="`grid` must be strictly increasing"):
        metrics.wasserstein_1d_on_grid(np.ones(3), np.ones(3), np.array([0.0, 2.0, 1.0]))
    with pytest.raises(ValueError, match=r"`q` must be a 1-D array of 3 values"):
        metrics.wasserstein_1d_on_grid(np.ones(3), np.ones(4), np.arange(3.0))
    with pytest.raises(ValueError, match="`p` must be non-negative"):
        metrics.ks_distance_on_grid(-np.ones(3), np.ones(3))
    with pytest.raises(ValueError, match="`fcd_matrix` must be a square"):
        metrics.fcd_distribution(np.ones((3, 4)))
    with pytest.raises(ValueError, match="`bandwidth` must be a positive"):
        metrics.fcd_distribution(np.eye(3), bandwidth=0.0)


def test_quantity_input_is_refused_with_a_pointer():
    u = pytest.importorskip("brainunit")
    # The message points to `get_magnitude` and the objectives; under the suite's runtime type
    # checks, the `ArrayLike` annotation refuses the Quantity first.
    with pytest.raises(TypeError, match="Quantity"):
        metrics.fc(jnp.asarray(_series(26, (20, 3))) * u.mV)
    from massfit._metrics._checks import as_series

    with pytest.raises(TypeError, match="brainunit Quantity; the metrics take plain arrays"):
        as_series("x", jnp.asarray(_series(26, (20, 3))) * u.mV)
    # ... but a Quantity sampling interval is converted to ms
    x = _series(27, (200, 2))
    np.testing.assert_allclose(
        metrics.psd(x, 0.001 * u.second, nperseg=64)[1], metrics.psd(x, 1.0, nperseg=64)[1]
    )
