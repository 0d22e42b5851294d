"""massfit.objectives: the seed page's values, independent numpy/scipy references, jit/grad/vmap,
identity, combine, units and error messages."""

import pathlib
import subprocess
import sys

import hypothesis.strategies as st
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.signal
import scipy.stats
from hypothesis import given, settings

from massfit import metrics, objectives

from .helpers import finite_difference


ROOT = pathlib.Path(__file__).resolve().parents[1]


def _series(seed, shape, *, scale=1.0, offset=0.0):
    return scale * np.random.default_rng(seed).standard_normal(shape) + offset


def _upper(m):
    return m[np.triu_indices_from(m, k=1)]


def _fcd_numpy(x, window_size, step_size):
    vectors = [
        _upper(np.corrcoef(x[s : s + window_size].T))
        for s in range(0, x.shape[0] - window_size + 1, step_size)
    ]
    return np.corrcoef(np.array(vectors))


# ---------------------------------------------------------------- the seed page


# The page's printed values (brainmass, float32): an external reference.
SEED_VALUES = {
    "timeseries_rmse": 1.433825135231018,
    "fc_corr": -0.19663743674755096,
    "fc_corr loss": 1.1966373920440674,
    "cosine_sim": -0.025183098390698433,
    "fcd loss": 0.5260788798332214,
    "combined": 2.0321438312530518,
}
FLOAT32 = 1e-6  # relative agreement expected with a float32 computation


def _seed_inputs():
    rng = np.random.default_rng(0)
    pred = jnp.asarray(rng.standard_normal((200, 6)))  # (time, regions)
    target = jnp.asarray(rng.standard_normal((200, 6)))
    return rng, pred, target


def test_seed_page_values():
    rng, pred, target = _seed_inputs()
    got = {
        "timeseries_rmse": objectives.timeseries_rmse()(pred, target),
        "fc_corr": objectives.fc_corr()(pred, target),
        "fc_corr loss": objectives.fc_corr(as_loss=True)(pred, target),
        "cosine_sim": objectives.cosine_sim()(pred, target),
        "fcd loss": objectives.fcd(as_loss=True)(pred, target),
        "combined": objectives.combine(
            (1.0, objectives.timeseries_rmse()),
            (0.5, objectives.fc_corr(as_loss=True)),
        )(pred, target),
    }
    for name, value in SEED_VALUES.items():
        assert float(got[name]) == pytest.approx(value, rel=FLOAT32), name

    # "Identity is exact"
    x = jnp.zeros((50, 4)) + jnp.asarray(rng.standard_normal((50, 4)))
    assert float(objectives.timeseries_rmse()(x, x)) == 0.0
    assert float(objectives.fc_corr()(x, x)) == 1.0

    a = jnp.zeros((10, 3))
    check = objectives.combine(
        (2.0, objectives.timeseries_rmse()), (0.5, objectives.timeseries_rmse())
    )
    assert float(check(a + 1.0, a)) == 2.5


def _sine_bank(rng, freqs_hz):
    samples = np.arange(1000)  # 1 ms sampling
    cols = [
        np.sin(2 * np.pi * f * samples * 1e-3) + 0.05 * rng.standard_normal(1000) for f in freqs_hz
    ]
    return jnp.asarray(np.stack(cols, axis=1))


def peak_frequency_mse(dt_ms=1.0):
    """The seed page's hand-written objective, in plain jax.numpy (argmax of a periodogram)."""

    def loss(prediction, target):
        def peak_freqs(sig):
            power = jnp.abs(jnp.fft.rfft(sig - jnp.mean(sig, axis=0), axis=0)) ** 2
            freqs = jnp.fft.rfftfreq(sig.shape[0], d=dt_ms)  # cycles per ms, as on the page
            return freqs[jnp.argmax(power, axis=0)]

        diff = peak_freqs(prediction) - peak_freqs(target)
        return jnp.mean(diff**2)

    return loss


def test_user_objective_composes_with_combine():
    rng2 = np.random.default_rng(1)
    pred_sig = _sine_bank(rng2, [5, 10, 20, 30])
    fast_sig = _sine_bank(rng2, [8, 16, 28, 40])
    spec_loss = peak_frequency_mse(dt_ms=1.0)
    # 3, 6, 8 and 10 Hz apart, in cycles per ms
    assert float(spec_loss(pred_sig, fast_sig)) == pytest.approx(
        np.mean(np.array([3, 6, 8, 10]) ** 2) * 1e-6, rel=1e-9
    )
    assert float(spec_loss(pred_sig, pred_sig)) == 0.0
    mixed = objectives.combine(
        (1.0, objectives.fc_corr(as_loss=True)),
        (0.1, spec_loss),
    )
    value = float(mixed(pred_sig, fast_sig))
    parts = mixed.parts(pred_sig, fast_sig)
    assert list(parts) == ["fc_corr", "loss"]
    assert not objectives.is_score(spec_loss)
    assert value == pytest.approx(float(parts["fc_corr"]) + 0.1 * float(parts["loss"]), rel=1e-12)
    # The page printed 1.7818667888641357; its spectral term (float32, a coarser periodogram)
    # contributes ~6e-6 of it, ours ~5e-6, so agreement is to ~1e-6.
    assert value == pytest.approx(1.7818667888641357, abs=1e-6)
    # and it runs under jit and grad like a built-in
    assert float(jax.jit(mixed)(pred_sig, fast_sig)) == pytest.approx(value, rel=1e-12)
    assert np.all(np.isfinite(jax.grad(mixed)(pred_sig, fast_sig)))


# ---------------------------------------------------------------- each objective vs references


PRED = _series(100, (240, 5), scale=2.0, offset=1.0)
TARGET = 0.6 * PRED + _series(101, (240, 5))


def _welch(x, nperseg):
    return scipy.signal.welch(x, fs=1000.0, nperseg=nperseg, axis=0)  # dt = 1 ms


def test_timeseries_rmse_reference():
    want = np.sqrt(np.mean((PRED - TARGET) ** 2))
    assert float(objectives.timeseries_rmse()(PRED, TARGET)) == pytest.approx(want, rel=1e-12)


def test_fc_objectives_reference():
    fc_p, fc_t = np.corrcoef(PRED.T), np.corrcoef(TARGET.T)
    corr = np.corrcoef(_upper(fc_p), _upper(fc_t))[0, 1]
    assert float(objectives.fc_corr()(PRED, TARGET)) == pytest.approx(corr, rel=1e-12)
    assert float(objectives.fc_corr(as_loss=True)(PRED, TARGET)) == pytest.approx(1 - corr)
    rmse = np.sqrt(np.mean((_upper(fc_p) - _upper(fc_t)) ** 2))
    assert float(objectives.fc_rmse()(PRED, TARGET)) == pytest.approx(rmse, rel=1e-12)
    # lengths may differ
    short = TARGET[:150]
    corr_short = np.corrcoef(_upper(fc_p), _upper(np.corrcoef(short.T)))[0, 1]
    assert float(objectives.fc_corr()(PRED, short)) == pytest.approx(corr_short, rel=1e-12)


def test_cosine_sim_reference():
    p, t = PRED.ravel(), TARGET.ravel()
    want = p @ t / np.linalg.norm(p) / np.linalg.norm(t)
    assert float(objectives.cosine_sim()(PRED, TARGET)) == pytest.approx(want, rel=1e-12)
    assert float(objectives.cosine_sim(as_loss=True)(PRED, TARGET)) == pytest.approx(1 - want)


def test_fcd_reference_and_matrix():
    fcd_p, fcd_t = _fcd_numpy(PRED, 30, 5), _fcd_numpy(TARGET, 30, 5)
    want = np.corrcoef(_upper(fcd_p), _upper(fcd_t))[0, 1]
    assert float(objectives.fcd()(PRED, TARGET)) == pytest.approx(want, rel=1e-10)
    assert float(objectives.fcd(30, 5, as_loss=True)(PRED, TARGET)) == pytest.approx(1 - want)
    matrix = objectives.fcd(window_size=20, step_size=7)(PRED)  # target=None: the matrix
    np.testing.assert_allclose(matrix, _fcd_numpy(PRED, 20, 7), atol=1e-12)
    np.testing.assert_allclose(matrix, metrics.fcd(PRED, 20, 7), atol=0)


def test_fcd_distribution_objectives_reference():
    other = _series(102, (300, 5)) + 0.8 * np.sin(np.arange(300) / 9.0)[:, None]
    values_p = _upper(_fcd_numpy(PRED, 30, 5))
    values_t = _upper(_fcd_numpy(other, 30, 5))
    grid = np.linspace(-1, 1, 161)
    bandwidth = 0.04

    def density(values):
        return scipy.stats.gaussian_kde(values, bw_method=bandwidth / values.std(ddof=1))(grid)

    p, q = density(values_p), density(values_t)
    cdf_p, cdf_q = np.cumsum(p) / p.sum(), np.cumsum(q) / q.sum()
    ks = objectives.fcd_ks(30, 5, grid=grid, bandwidth=bandwidth)(PRED, other)
    assert float(ks) == pytest.approx(np.abs(cdf_p - cdf_q).max(), rel=1e-10)
    w1 = objectives.fcd_wasserstein(30, 5, grid=grid, bandwidth=bandwidth)(PRED, other)
    assert float(w1) == pytest.approx(scipy.stats.wasserstein_distance(grid, grid, p, q), rel=1e-10)
    # Sharp kernels on a fine grid approach the raw-sample statistics.
    fine = np.linspace(-1, 1, 4001)
    ks_sharp = objectives.fcd_ks(30, 5, grid=fine, bandwidth=0.002)(PRED, other)
    assert float(ks_sharp) == pytest.approx(
        scipy.stats.ks_2samp(values_p, values_t).statistic, abs=0.01
    )
    w1_sharp = objectives.fcd_wasserstein(30, 5, grid=fine, bandwidth=0.002)(PRED, other)
    assert float(w1_sharp) == pytest.approx(
        scipy.stats.wasserstein_distance(values_p, values_t), rel=0.01
    )


def test_spectral_objectives_reference():
    freqs, p = _welch(PRED, 64)
    _, q = _welch(TARGET, 64)
    band = (40.0, 300.0)
    mask = (freqs >= band[0]) & (freqs <= band[1])
    want = np.mean((np.log(p[mask]) - np.log(q[mask])) ** 2)
    got = objectives.psd_distance(1.0, band, nperseg=64)(PRED, TARGET)
    assert float(got) == pytest.approx(want, rel=1e-10)

    def soft_peak(power, temperature):
        logits = np.log(power[mask]) / temperature
        w = np.exp(logits - logits.max(0))
        return (w / w.sum(0) * freqs[mask][:, None]).sum(0)

    want = np.mean((soft_peak(p, 0.3) - soft_peak(q, 0.3)) ** 2)
    got = objectives.peak_frequency(1.0, band, temperature=0.3, nperseg=64)(PRED, TARGET)
    assert float(got) == pytest.approx(want, rel=1e-10)

    df = freqs[1] - freqs[0]
    want = np.mean((np.log(p[mask].sum(0) * df) - np.log(q[mask].sum(0) * df)) ** 2)
    got = objectives.band_power(1.0, band, nperseg=64)(PRED, TARGET)
    assert float(got) == pytest.approx(want, rel=1e-10)
    rel_p, rel_q = p[mask].sum(0) / p.sum(0), q[mask].sum(0) / q.sum(0)
    want = np.mean((np.log(rel_p) - np.log(rel_q)) ** 2)
    got = objectives.band_power(1.0, band, relative=True, nperseg=64)(PRED, TARGET)
    assert float(got) == pytest.approx(want, rel=1e-10)


def test_scale_free_objectives_ignore_gain_and_offset():
    """A real invariance (not bitwise identity): scale-free objectives reach their optimum."""
    y = 3.0 * PRED + 2.0
    assert float(objectives.fc_corr()(PRED, y)) == pytest.approx(1.0, abs=1e-12)
    assert float(objectives.fc_rmse()(PRED, y)) == pytest.approx(0.0, abs=1e-12)
    assert float(objectives.cosine_sim()(PRED, 3.0 * PRED)) == pytest.approx(1.0, abs=1e-12)
    assert float(objectives.fcd()(PRED, y)) == pytest.approx(1.0, abs=1e-12)
    assert float(objectives.fcd_ks()(PRED, y)) == pytest.approx(0.0, abs=1e-12)
    assert float(objectives.peak_frequency(1.0, (10, 400), nperseg=64)(PRED, y)) == (
        pytest.approx(0.0, abs=1e-9)
    )
    assert float(
        objectives.band_power(1.0, (10, 400), relative=True, nperseg=64)(PRED, y)
    ) == pytest.approx(0.0, abs=1e-12)
    # ... while the log-power objectives see the gain: log(3^2) in every bin
    assert float(objectives.psd_distance(1.0, (10, 400), nperseg=64)(PRED, y)) == (
        pytest.approx(np.log(9.0) ** 2, rel=1e-10)
    )


def test_soft_peak_frequency_objective_follows_a_shift():
    rng = np.random.default_rng(3)
    base = _sine_bank(rng, [10.0, 20.0])
    shifted = _sine_bank(rng, [10.4, 21.0])
    loss = objectives.peak_frequency(1.0, (2.0, 45.0))
    hard = metrics.peak_frequency(base, 1.0, (2.0, 45.0)) - metrics.peak_frequency(
        shifted, 1.0, (2.0, 45.0)
    )
    assert float(hard[0]) == 0.0  # argmax cannot see the 0.4 Hz shift
    assert float(loss(base, shifted)) > 0.01  # the soft peak does


# ---------------------------------------------------------------- jit, grad, vmap, identity


GRID = np.linspace(-1, 1, 41)
CASES = {
    "timeseries_rmse": objectives.timeseries_rmse(),
    "fc_corr": objectives.fc_corr(),
    "fc_corr_loss": objectives.fc_corr(as_loss=True),
    "fc_rmse": objectives.fc_rmse(),
    "cosine_sim": objectives.cosine_sim(),
    "cosine_sim_loss": objectives.cosine_sim(as_loss=True),
    "fcd": objectives.fcd(10, 2),
    "fcd_loss": objectives.fcd(10, 2, as_loss=True),
    "fcd_ks": objectives.fcd_ks(10, 2, grid=GRID, bandwidth=0.2),
    "fcd_wasserstein": objectives.fcd_wasserstein(10, 2, grid=GRID, bandwidth=0.2),
    "psd_distance": objectives.psd_distance(1.0, (100.0, 400.0), nperseg=8),
    "peak_frequency": objectives.peak_frequency(1.0, (100.0, 500.0), nperseg=8, temperature=0.5),
    "band_power": objectives.band_power(1.0, (100.0, 400.0), nperseg=8),
    "band_power_relative": objectives.band_power(1.0, (100.0, 400.0), nperseg=8, relative=True),
    "combined": objectives.combine(
        (1.0, objectives.timeseries_rmse()),
        (0.5, objectives.fc_corr(as_loss=True)),
        (-0.2, objectives.cosine_sim()),
    ),
}
SCORES = {"fc_corr", "cosine_sim", "fcd"}


def _ideal(objective):
    """The value at prediction == target: 1 for a score, 0 for a loss, and for `combine` the
    weighted sum of its terms' ideals."""
    if isinstance(objective, objectives.Combined):
        return sum(w * _ideal(o) for w, o in zip(objective.weights, objective.objectives))
    return 1.0 if objectives.is_score(objective) else 0.0


SMALL_P = _series(103, (24, 4))
SMALL_T = 0.5 * SMALL_P + _series(104, (24, 4))


@pytest.mark.parametrize("name", list(CASES))
def test_jit_vmap_grad_identity(name):
    objective = CASES[name]
    assert objectives.is_score(objective) == (name in SCORES)
    eager = objective(SMALL_P, SMALL_T)
    assert eager.shape == () and np.isfinite(float(eager))

    # jit (the objective itself is a pytree, so jax.jit accepts it directly)
    assert float(jax.jit(objective)(SMALL_P, SMALL_T)) == pytest.approx(float(eager), rel=1e-12)

    # vmap over a batch of (prediction, target) pairs
    batch_p = np.stack([SMALL_P, SMALL_P[::-1], 2 * SMALL_P])
    batch_t = np.stack([SMALL_T, SMALL_T, SMALL_T[::-1]])
    batched = jax.vmap(objective)(batch_p, batch_t)
    for b in range(3):
        assert float(batched[b]) == pytest.approx(
            float(objective(batch_p[b], batch_t[b])), rel=1e-10, abs=1e-14
        )

    # grad against central finite differences (x64)
    value = jax.jit(lambda p: objective(p, SMALL_T))
    grad = jax.jit(jax.grad(lambda p: objective(p, SMALL_T)))(SMALL_P)
    np.testing.assert_allclose(grad, finite_difference(value, SMALL_P), rtol=1e-5, atol=1e-8)
    assert np.abs(grad).max() > 0

    # identity, exactly, eagerly and under jit
    ideal = _ideal(objective)
    assert float(objective(SMALL_P, SMALL_P)) == ideal
    assert float(jax.jit(objective)(SMALL_T, SMALL_T)) == ideal


@settings(max_examples=8, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_time=st.sampled_from([24, 31]),
    n_regions=st.sampled_from([3, 5]),
    scale=st.floats(1e-3, 1e3),
    offset=st.floats(-1e3, 1e3),
)
@pytest.mark.slow
def test_identity_property(seed, n_time, n_regions, scale, offset):
    x = _series(seed, (n_time, n_regions), scale=scale, offset=offset)
    for name, objective in CASES.items():
        assert float(objective(x, x)) == _ideal(objective), name


def test_is_score_protocol():
    for builder in (objectives.fc_corr, objectives.cosine_sim, objectives.fcd):
        assert builder().is_score is True and objectives.is_score(builder())
        assert builder(as_loss=True).is_score is False
        assert not objectives.is_score(builder(as_loss=True))
    for loss in (objectives.timeseries_rmse(), objectives.fc_rmse(), objectives.fcd_ks()):
        assert loss.is_score is False
    assert objectives.is_score(lambda p, t: jnp.sum(p)) is False  # no attribute: a loss
    assert isinstance(objectives.fc_corr(), objectives.AbstractObjective)


# ---------------------------------------------------------------- combine


def test_combine_parts_and_names():
    combined = objectives.combine(
        (1.0, objectives.timeseries_rmse()),
        (2, objectives.timeseries_rmse()),
        (np.float32(0.25), objectives.fc_corr(as_loss=True)),
        (jnp.asarray(-0.5), objectives.fc_corr()),
        (0.1, peak_frequency_mse()),
    )
    parts = combined.parts(SMALL_P, SMALL_T)
    assert list(parts) == ["timeseries_rmse", "timeseries_rmse_2", "fc_corr", "fc_corr_2", "loss"]
    assert combined.weights == (1.0, 2.0, 0.25, -0.5, 0.1)
    assert combined.names == tuple(parts)
    total = sum(w * float(parts[n]) for w, n in zip(combined.weights, combined.names, strict=True))
    assert float(combined(SMALL_P, SMALL_T)) == pytest.approx(total, rel=1e-12)
    rmse = float(objectives.timeseries_rmse()(SMALL_P, SMALL_T))
    assert float(parts["timeseries_rmse_2"]) == pytest.approx(rmse)  # unweighted
    assert combined.is_score is False
    jitted = jax.jit(combined.parts)(SMALL_P, SMALL_T)
    assert sorted(jitted) == sorted(parts)  # (jit returns dicts with sorted keys)
    assert float(jitted["fc_corr_2"]) == pytest.approx(float(parts["fc_corr_2"]), rel=1e-12)
    # combined losses nest
    outer = objectives.combine((2.0, combined))
    assert float(outer(SMALL_P, SMALL_T)) == pytest.approx(2 * total, rel=1e-12)
    assert list(outer.parts(SMALL_P, SMALL_T)) == ["combined"]


@pytest.mark.parametrize(
    "terms, error, match",
    [
        ((), ValueError, "at least one"),
        (((True, objectives.timeseries_rmse()),), TypeError, r"weight of term 0 .* not bool"),
        (
            ((1.0, objectives.timeseries_rmse()), ("0.5", objectives.fc_rmse())),
            TypeError,
            r"weight of term 1 must be a real number .* got str '0.5'",
        ),
        (((np.ones(2), objectives.fc_rmse()),), TypeError, "weight of term 0"),
        (((float("nan"), objectives.fc_rmse()),), ValueError, "must be finite"),
        (((1.0, "fc_corr"),), TypeError, r"objective of term 0 must be a callable .* str"),
        (((1.0, objectives.fc_rmse),), TypeError, r"builder `fc_rmse` itself; call it"),
        (((1.0, objectives.fc_rmse(), "x"),), TypeError, r"Term 0 .* \(weight, objective\) pair"),
        (
            ((0.5, objectives.fc_corr()),),
            ValueError,
            r"Term 0 \(fc_corr\) is a score .*`fc_corr\(as_loss=True\)`.* negative weight",
        ),
    ],
)
def test_combine_errors(terms, error, match):
    with pytest.raises(error, match=match):
        objectives.combine(*terms)


def test_combine_refuses_a_non_scalar_term():
    combined = objectives.combine((1.0, lambda p, t: jnp.mean((p - t) ** 2, axis=0)))
    with pytest.raises(ValueError, match=r"'<lambda>' returned an array of shape \(4,\)"):
        combined(SMALL_P, SMALL_T)


# ---------------------------------------------------------------- bad input


ALL_BUILT = [(name, objective) for name, objective in CASES.items() if name != "combined"]


@pytest.mark.parametrize("name, objective", ALL_BUILT)
def test_non_2d_input(name, objective):
    with pytest.raises(
        ValueError,
        match=r"`prediction` must be a 2-D \(time, regions\) array; "
        r"got ndarray of shape \(24,\)",
    ):
        objective(SMALL_P[:, 0], SMALL_T)
    with pytest.raises(ValueError, match=r"`target` must be a 2-D .* shape \(2, 24, 4\)"):
        objective(SMALL_P, np.stack([SMALL_T, SMALL_T]))


@pytest.mark.parametrize("name, objective", ALL_BUILT)
def test_non_finite_input(name, objective):
    bad = SMALL_T.copy()
    bad[3, 1] = np.inf
    with pytest.raises(ValueError, match=r"`target` must be finite; .* time index 3, region 1"):
        objective(SMALL_P, bad)
    with pytest.raises(ValueError, match=r"`prediction` must be finite"):
        objective(bad * np.nan, SMALL_T)


def test_shape_mismatch():
    for objective in (objectives.timeseries_rmse(), objectives.cosine_sim(), objectives.fcd()):
        with pytest.raises(
            ValueError,
            match=r"same \(time, regions\) shape; got \(240, 5\) and "
            r"\(200, 5\)",
        ):
            objective(PRED, TARGET[:200])
    for objective in (objectives.fc_corr(), objectives.fcd_ks(), objectives.band_power(1, (1, 9))):
        with pytest.raises(
            ValueError,
            match=r"same number of regions .* \(240, 5\) and "
            r"\(240, 4\)",
        ):
            objective(PRED, TARGET[:, :4])


def test_too_few_regions_for_fc():
    with pytest.raises(
        ValueError,
        match=r"fc_rmse needs at least 2 regions; `prediction` has "
        r"shape \(50, 1\) \(1 region\)",
    ):
        objectives.fc_rmse()(PRED[:50, :1], TARGET[:50, :1])
    with pytest.raises(ValueError, match=r"fc_corr .* needs at least 3 regions"):
        objectives.fc_corr()(PRED[:, :2], TARGET[:, :2])
    with pytest.raises(ValueError, match=r"needs at least 3 regions"):
        objectives.fcd()(PRED[:, :2], TARGET[:, :2])


def test_series_shorter_than_the_fcd_window():
    with pytest.raises(
        ValueError,
        match=r"`prediction` has 20 time points, fewer than "
        r"`window_size`=30",
    ):
        objectives.fcd()(PRED[:20], TARGET[:20])
    with pytest.raises(
        ValueError,
        match=r"`target` has 25 time points, fewer than "
        r"`window_size`=30",
    ):
        objectives.fcd_wasserstein()(PRED, TARGET[:25])
    with pytest.raises(ValueError, match=r"`prediction` has 20 time points"):
        objectives.fcd()(PRED[:20])  # target=None too
    with pytest.raises(ValueError, match=r"gives 2 FCD window\(s\) .* needs at least 3"):
        objectives.fcd(10, 5)(PRED[:19], TARGET[:19])


def test_zero_variance_region():
    x = PRED.copy()
    x[:, 3] = 1.0
    with pytest.raises(ValueError, match=r"`prediction` has zero variance in region\(s\) \[3\]"):
        objectives.fc_corr()(x, TARGET)
    with pytest.raises(
        ValueError,
        match=r"`target` has zero variance in region\(s\) \[3\] "
        r"within FCD window 0",
    ):
        objectives.fcd_ks()(TARGET, x)
    # Traced, the values cannot be checked: the result is NaN (never silently zeroed), and so
    # is the gradient.
    assert np.isnan(float(jax.jit(objectives.fc_corr())(x, TARGET)))
    assert np.isnan(float(jax.jit(objectives.fcd(as_loss=True))(x, TARGET)))
    assert np.all(np.isnan(jax.grad(objectives.fc_corr(as_loss=True))(jnp.asarray(x), TARGET)))


def test_all_zero_series_has_no_cosine():
    with pytest.raises(ValueError, match="`target` is all zeros"):
        objectives.cosine_sim()(SMALL_P, np.zeros_like(SMALL_T))


def test_spectral_length_mismatch_needs_explicit_nperseg():
    loss = objectives.psd_distance(1.0, (10.0, 100.0))
    with pytest.raises(ValueError, match=r"Welch segments of 240 and 200 samples.*Pass `nperseg`"):
        loss(PRED, TARGET[:200])
    fixed = objectives.psd_distance(1.0, (10.0, 100.0), nperseg=100)
    assert np.isfinite(float(fixed(PRED, TARGET[:200])))


@pytest.mark.parametrize(
    "build, error, match",
    [
        (lambda: objectives.fcd(window_size=1), ValueError, "`window_size` must be at least 2"),
        (lambda: objectives.fcd(step_size=0), ValueError, "`step_size` must be at least 1"),
        (lambda: objectives.fcd_ks(bandwidth=-0.1), ValueError, "`bandwidth` must be a positive"),
        (lambda: objectives.fcd_wasserstein(grid=[0.0, -1.0]), ValueError, "strictly increasing"),
        (lambda: objectives.psd_distance(0.0, (1, 10)), ValueError, "`dt` must be a positive"),
        (lambda: objectives.psd_distance(1.0, (10, 5)), ValueError, "0 <= low < high"),
        (lambda: objectives.band_power(10.0, (10, 80)), ValueError, "Nyquist frequency 50 Hz"),
        (
            lambda: objectives.peak_frequency(1.0, (1, 40), temperature=0),
            ValueError,
            "`temperature` must be a positive",
        ),
        (
            lambda: objectives.psd_distance(1.0, (1, 40), nperseg=8, noverlap=8),
            ValueError,
            "`noverlap`=8 must be smaller",
        ),
    ],
)
def test_builder_errors(build, error, match):
    with pytest.raises(error, match=match):
        build()


# ---------------------------------------------------------------- units


def test_units_rmse_subtracts_before_stripping():
    u = pytest.importorskip("brainunit")
    p_mv = jnp.asarray(PRED) * u.mV
    with pytest.raises(u.UnitMismatchError):
        objectives.timeseries_rmse()(p_mv, jnp.asarray(TARGET) * u.Hz)
    with pytest.raises(u.UnitMismatchError):
        objectives.timeseries_rmse()(p_mv, TARGET)  # a plain array is dimensionless
    # compatible units are converted: the value is in the prediction's unit (mV)
    t_volt = jnp.asarray(TARGET) / 1000.0 * u.volt
    want = np.sqrt(np.mean((PRED - TARGET) ** 2))
    assert float(objectives.timeseries_rmse()(p_mv, t_volt)) == pytest.approx(want, rel=1e-10)
    assert float(jax.jit(objectives.timeseries_rmse())(p_mv, t_volt)) == pytest.approx(
        want, rel=1e-10
    )


def test_units_scale_free_objectives_take_magnitudes():
    u = pytest.importorskip("brainunit")
    p_mv, t_hz = jnp.asarray(PRED) * u.mV, jnp.asarray(TARGET) * u.Hz
    for objective in (
        objectives.fc_corr(),
        objectives.fc_rmse(),
        objectives.cosine_sim(),
        objectives.fcd(),
        objectives.fcd_wasserstein(),
        objectives.peak_frequency(1.0, (10, 400), nperseg=64),
        objectives.band_power(1.0, (10, 400), nperseg=64, relative=True),
    ):
        assert float(objective(p_mv, t_hz)) == pytest.approx(
            float(objective(PRED, TARGET)), rel=1e-12
        )
    assert float(jax.jit(objectives.fc_corr())(p_mv, t_hz)) == pytest.approx(
        float(objectives.fc_corr()(PRED, TARGET)), rel=1e-12
    )


def test_units_spectral_power_needs_one_unit():
    u = pytest.importorskip("brainunit")
    loss = objectives.psd_distance(1.0, (10, 400), nperseg=64)
    p_mv = jnp.asarray(PRED) * u.mV
    t_volt = jnp.asarray(TARGET) / 1000.0 * u.volt
    assert float(loss(p_mv, t_volt)) == pytest.approx(float(loss(PRED, TARGET)), rel=1e-10)
    with pytest.raises(u.UnitMismatchError):
        loss(p_mv, jnp.asarray(TARGET) * u.Hz)
    with pytest.raises(u.UnitMismatchError):
        objectives.band_power(1.0, (10, 400), nperseg=64)(p_mv, jnp.asarray(TARGET) * u.Hz)
    # dt may be a time Quantity
    in_seconds = objectives.psd_distance(0.001 * u.second, (10, 400), nperseg=64)
    assert in_seconds.dt == pytest.approx(1.0)
    assert float(in_seconds(PRED, TARGET)) == pytest.approx(float(loss(PRED, TARGET)), rel=1e-12)


def test_plain_arrays_never_import_brainunit():
    """Plain arrays are the fast path: massfit never imports brainunit itself."""
    code = (
        "import sys, numpy as np\n"
        "from massfit import objectives, metrics\n"
        "x = np.random.default_rng(0).standard_normal((60, 4))\n"
        "objectives.timeseries_rmse()(x, 2 * x); objectives.fc_corr()(x, 2 * x)\n"
        "metrics.psd(x, 1.0)\n"
        "assert 'brainunit' not in sys.modules and 'saiunit' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
