"""Summary-statistic targets: FC matrices, FCD values and spectra stated as such, averaged
over the model's realisations, against numpy/scipy references; the ambiguous square target."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
import scipy.signal

import massfit
from massfit import objectives

from .helpers import finite_difference


def _upper(m):
    return m[np.triu_indices_from(m, k=1)]


def _fcd_values_numpy(x, window_size, step_size):
    vectors = [
        _upper(np.corrcoef(x[s : s + window_size].T))
        for s in range(0, x.shape[0] - window_size + 1, step_size)
    ]
    return _upper(np.corrcoef(np.array(vectors)))


def _kde_numpy(values, grid, bandwidth):
    z = (grid[:, None] - values[None, :]) / bandwidth
    return np.mean(np.exp(-0.5 * z**2), axis=1) / (bandwidth * np.sqrt(2 * np.pi))


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    mixing = rng.standard_normal((6, 6))
    target = rng.standard_normal((400, 6)) @ mixing
    prediction = rng.standard_normal((3, 400, 6)) @ (mixing + 0.5 * rng.standard_normal((6, 6)))
    return prediction, target


def test_fc_objectives_against_an_fc_matrix_match_numpy(data):
    realisations, target = data
    matrix = np.corrcoef(target.T)
    mean_fc = np.mean([np.corrcoef(x.T) for x in realisations], axis=0)
    corr = np.corrcoef(_upper(mean_fc), _upper(matrix))[0, 1]
    rmse = np.sqrt(np.mean((_upper(mean_fc) - _upper(matrix)) ** 2))
    fc_target = objectives.FCMatrix(matrix)
    for call in (lambda f, *a: f(*a), lambda f, *a: jax.jit(f)(*a)):
        np.testing.assert_allclose(call(objectives.fc_corr(), realisations, fc_target), corr)
        np.testing.assert_allclose(call(objectives.fc_rmse(), realisations, fc_target), rmse)
        # One realisation: the FC of the series itself.
        single = np.corrcoef(np.corrcoef(realisations[0].T)[np.triu_indices(6, 1)], _upper(matrix))
        np.testing.assert_allclose(
            call(objectives.fc_corr(as_loss=True), realisations[0], fc_target), 1 - single[0, 1]
        )
    # The same as comparing with the target series, whose FC it is.
    np.testing.assert_allclose(
        objectives.fc_corr()(realisations[1], fc_target),
        objectives.fc_corr()(realisations[1], target),
    )
    # vmap over a batch of predictions against one FC target.
    batched = jax.vmap(lambda x: objectives.fc_rmse()(x, fc_target))(realisations)
    expected = [
        np.sqrt(np.mean((_upper(np.corrcoef(x.T)) - _upper(matrix)) ** 2)) for x in realisations
    ]
    np.testing.assert_allclose(batched, expected)


def test_fc_matrix_from_series_averages_subjects(data):
    realisations, _ = data
    fc = objectives.FCMatrix.from_series(list(realisations))
    np.testing.assert_allclose(fc.matrix, np.mean([np.corrcoef(x.T) for x in realisations], 0))


def test_a_square_target_array_is_refused_naming_both_readings(data):
    realisations, target = data
    matrix = np.corrcoef(target.T)  # (6, 6): also a valid 6-sample series of 6 regions
    for objective in (objectives.fc_corr(), objectives.fc_rmse(), objectives.fcd_ks()):
        for call in (objective, jax.jit(objective)):
            with pytest.raises(ValueError, match=r"FC matrix of 6 regions or a series of 6 time"):
                call(realisations[0], matrix)
    with pytest.raises(ValueError, match="Series"):
        objectives.timeseries_rmse()(matrix, matrix)
    # Stated, each reading works.
    x = realisations[0][:6]
    np.testing.assert_allclose(
        objectives.timeseries_rmse()(x, objectives.Series(matrix)),
        np.sqrt(np.mean((x - matrix) ** 2)),
    )
    objectives.fc_corr()(realisations[0], objectives.FCMatrix(matrix))


def test_fcd_distribution_objectives_against_fcd_values(data):
    realisations, target = data
    values = objectives.FCDValues.from_series(target, window_size=40, step_size=10)
    np.testing.assert_allclose(values.values, _fcd_values_numpy(target, 40, 10), atol=1e-12)
    grid = np.linspace(-1, 1, 101)
    objective = objectives.fcd_wasserstein(40, 10, grid=grid, bandwidth=0.1)
    pooled = np.concatenate([_fcd_values_numpy(x, 40, 10) for x in realisations])
    p = _kde_numpy(pooled, grid, 0.1)
    q = _kde_numpy(values.values, grid, 0.1)
    cdf = np.cumsum(p / p.sum() - q / q.sum())
    expected = np.sum(np.abs(cdf[:-1])) * (grid[1] - grid[0])
    np.testing.assert_allclose(objective(realisations, values), expected, rtol=1e-10)
    np.testing.assert_allclose(jax.jit(objective)(realisations, values), expected, rtol=1e-10)
    # One realisation against the values equals the series-against-series objective.
    np.testing.assert_allclose(
        objective(realisations[0], values), objective(realisations[0], target), rtol=1e-12
    )
    ks = objectives.fcd_ks(40, 10, grid=grid, bandwidth=0.1)
    np.testing.assert_allclose(ks(realisations, values), np.max(np.abs(cdf)), rtol=1e-10)
    with pytest.raises(ValueError, match="regions"):
        objective(realisations[:, :, :5], values)
    with pytest.raises(TypeError, match="summary statistic"):
        objectives.fcd(40, 10)(realisations[0], values)


def test_spectral_objectives_against_a_target_spectrum(data):
    realisations, target = data
    dt = 2.0  # ms: 500 Hz sampling
    freqs, power = scipy.signal.welch(target.T, fs=500.0, nperseg=100)
    # A coarser target spectrum (every other bin, one spectrum for all regions).
    coarse_f, coarse_p = freqs[1::2], power.mean(axis=0)[1::2]
    spectrum = objectives.Spectrum(coarse_f, coarse_p)
    band = (20.0, 200.0)
    _, p = scipy.signal.welch(realisations.transpose(0, 2, 1), fs=500.0, nperseg=100)
    p = p.mean(axis=0).T  # mean over realisations, (freqs, regions)
    in_band = (freqs >= band[0]) & (freqs <= band[1])
    q = np.exp(np.interp(freqs, coarse_f, np.log(coarse_p)))[:, None]
    expected = np.mean((np.log(p[in_band]) - np.log(q[in_band])) ** 2)
    objective = objectives.psd_distance(dt=dt, band=band, nperseg=100)
    np.testing.assert_allclose(objective(realisations, spectrum), expected, rtol=1e-8)
    np.testing.assert_allclose(jax.jit(objective)(realisations, spectrum), expected, rtol=1e-8)
    # Per-region target spectra, relative band power over the bins the target covers.
    per_region = objectives.Spectrum(freqs[1:], power.T[1:])
    relative = objectives.band_power(dt=dt, band=band, nperseg=100, relative=True)
    covered = freqs >= freqs[1]
    share_p = p[in_band].sum(0) / p[covered].sum(0)
    share_q = power.T[in_band].sum(0) / power.T[covered].sum(0)
    np.testing.assert_allclose(
        relative(realisations, per_region),
        np.mean((np.log(share_p) - np.log(share_q)) ** 2),
        rtol=1e-8,
    )
    with pytest.raises(ValueError, match="not covered"):
        objectives.psd_distance(dt=dt, band=(0.0, 200.0), nperseg=100)(realisations, spectrum)
    with pytest.raises(ValueError, match="positive"):
        objectives.Spectrum(coarse_f, -coarse_p)


def test_targets_give_each_objective_its_statistic(data):
    realisations, target = data
    fc_target = objectives.FCMatrix(np.corrcoef(target.T))
    values = objectives.FCDValues.from_series(target, 40, 10)
    loss = objectives.combine(
        (1.0, objectives.fc_rmse()), (0.5, objectives.fcd_wasserstein(40, 10))
    )
    both = objectives.Targets(fc_target, values)
    expected = objectives.fc_rmse()(realisations, fc_target) + 0.5 * objectives.fcd_wasserstein(
        40, 10
    )(realisations, values)
    np.testing.assert_allclose(loss(realisations, both), expected)
    np.testing.assert_allclose(jax.jit(loss)(realisations, both), expected)
    with pytest.raises(ValueError, match="no Series"):
        objectives.timeseries_rmse()(realisations[0], both)
    with pytest.raises(ValueError, match="more than one"):
        objectives.Targets(fc_target, fc_target)


@pytest.mark.parametrize(
    "build, match",
    [
        (lambda: objectives.FCMatrix(np.ones((3, 4))), "square"),
        (lambda: objectives.FCMatrix(np.array([[1.0, 0.5], [0.2, 1.0]])), "symmetric"),
        (lambda: objectives.FCMatrix(2 * np.eye(3)), r"\[-1, 1\]"),
        (lambda: objectives.FCMatrix(np.full((3, 3), np.nan)), "finite"),
        (lambda: objectives.FCDValues(np.ones((3, 3)), 5), "1-D"),
        (lambda: objectives.FCDValues(np.ones(4), 2), "n_regions"),
        (lambda: objectives.Spectrum([1.0, 0.5], [1.0, 1.0]), "increasing"),
        (lambda: objectives.Spectrum([1.0, 2.0], [1.0, 1.0, 1.0]), "one row per frequency"),
    ],
)
def test_bad_targets_are_refused(build, match):
    with pytest.raises((ValueError, TypeError), match=match):
        build()


def test_gradient_through_an_fc_matrix_target_matches_finite_differences(data):
    realisations, target = data
    fc_target = objectives.FCMatrix(np.corrcoef(target.T))
    base = realisations[0]
    mix = np.random.default_rng(3).standard_normal((6, 6))

    def loss(scale):
        return objectives.fc_corr(as_loss=True)(base + scale * (base @ mix), fc_target)

    grad = jax.grad(lambda s: loss(s[0]))(jnp.array([0.3]))
    np.testing.assert_allclose(grad, finite_difference(lambda s: loss(s[0]), [0.3]), rtol=1e-6)


def test_fit_accepts_a_stated_target():
    conn = massfit.datasets.load_dataset("example_connectome")
    n = conn.n_regions
    rng = np.random.default_rng(1)
    w = np.asarray(conn.weights)
    # A linear "model": x = noise @ (I + k W).T, whose FC depends on k.
    noise = rng.standard_normal((2000, n))

    class Linear(eqx.Module):
        k: jax.Array

        def series(self):
            return noise @ (np.eye(n) + self.k * w).T

    target = objectives.FCMatrix(np.corrcoef((noise @ (np.eye(n) + 0.8 * w).T).T))
    result = massfit.fit(
        Linear(jnp.array(0.2)), optax.adam(0.05), trainable="k", n_steps=150,
        objective=objectives.fc_rmse(), predict=lambda m: m.series(), target=target,
        progress=False,
    )
    assert abs(result.best_params["k"] - 0.8) < 0.05
