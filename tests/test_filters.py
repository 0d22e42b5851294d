"""Filters, detrending and z-scoring in massfit.metrics against scipy, and their guards."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.signal
import scipy.stats

from massfit import metrics

from .helpers import finite_difference


def _series(seed, shape):
    return np.random.default_rng(seed).standard_normal(shape)


def _scipy_filtfilt(x, dt, kind, edges, order):
    b, a = scipy.signal.butter(order, edges, kind, fs=1000.0 / dt)
    return scipy.signal.filtfilt(b, a, x, axis=0)


def _massfit_filter(x, dt, kind, edges, order):
    if kind == "bandpass":
        return metrics.bandpass(x, dt, *edges, order=order)
    return {"lowpass": metrics.lowpass, "highpass": metrics.highpass}[kind](
        x, dt, edges, order=order
    )


# The three ways every guard and value must be right: a plain call, under jit, under vmap.
CALLS = {
    "plain": lambda f, x: f(x),
    "jit": lambda f, x: jax.jit(f)(x),
    "vmap": lambda f, x: jax.vmap(f)(x[None])[0],
}


# ---------------------------------------------------------------- against scipy


@pytest.mark.parametrize(
    "kind, dt, edges, order",
    [
        ("bandpass", 1.0, (8.0, 12.0), 1),
        ("bandpass", 1.0, (8.0, 12.0), 2),
        ("bandpass", 4.0, (1.0, 40.0), 4),
        ("bandpass", 2000.0, (0.01, 0.1), 4),  # BOLD at TR = 2 s
        ("lowpass", 2.0, 30.0, 6),
        ("highpass", 2.0, 3.0, 3),
    ],
)
def test_filters_match_scipy_filtfilt(kind, dt, edges, order):
    x = _series(0, (20_000, 5)) + np.linspace(0.0, 3.0, 20_000)[:, None]  # with a drift
    expected = _scipy_filtfilt(x, dt, kind, edges, order)
    got = _massfit_filter(x, dt, kind, edges, order)
    assert got.shape == x.shape and got.dtype == jnp.float64
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-5 * np.abs(expected).max())


def test_narrow_band_far_below_nyquist_is_accurate():
    # 8-12 Hz at dt = 0.1 ms with 2 x 6 poles: the (b, a) polynomials lose their accuracy to
    # rounding here, second-order sections do not. The reference is scipy's sosfiltfilt with
    # filtfilt's padding, and both must pass a pure 10 Hz tone and stop a 100 Hz one.
    dt, order = 0.1, 6
    t = np.arange(60_000) * dt / 1000.0  # s
    tone, hum = np.sin(2 * np.pi * 10.0 * t), np.sin(2 * np.pi * 100.0 * t)
    x = np.stack([tone + hum, _series(1, t.size)], axis=1)
    sos = scipy.signal.butter(order, (8.0, 12.0), "bandpass", fs=1000.0 / dt, output="sos")
    expected = scipy.signal.sosfiltfilt(sos, x, axis=0, padlen=3 * (2 * order + 1))
    got = metrics.bandpass(x, dt, 8.0, 12.0, order=order)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-9)
    # Away from the edges: the slowest poles decay in ~0.3 s, here 2.5 s before and after.
    middle = slice(25_000, 35_000)
    np.testing.assert_allclose(got[middle, 0], tone[middle], atol=2e-3)


def test_float32_stays_float32():
    x = _series(2, (3000, 3))
    got = metrics.bandpass(x.astype(np.float32), 1.0, 4.0, 30.0, order=3)
    assert got.dtype == jnp.float32
    expected = _scipy_filtfilt(x, 1.0, "bandpass", (4.0, 30.0), 3)
    np.testing.assert_allclose(got, expected, atol=1e-4)


def test_dt_as_a_quantity():
    u = pytest.importorskip("brainunit")
    x = _series(3, (500, 2))
    np.testing.assert_allclose(
        metrics.lowpass(x, 1.0 * u.ms, 50.0), metrics.lowpass(x, 0.001 * u.second, 50.0)
    )
    np.testing.assert_allclose(
        metrics.lowpass(x, 1.0 * u.ms, 50.0), _scipy_filtfilt(x, 1.0, "lowpass", 50.0, 4)
    )


def test_shortest_series_is_the_padding_plus_one():
    order = 3
    padlen = 3 * (2 * order + 1)  # filtfilt's default for a band-pass
    x = _series(4, (padlen + 1, 2))
    np.testing.assert_allclose(
        metrics.bandpass(x, 1.0, 10.0, 40.0, order=order),
        _scipy_filtfilt(x, 1.0, "bandpass", (10.0, 40.0), order),
        atol=1e-12,
    )
    with pytest.raises(ValueError, match="padlen"):  # scipy refuses one sample less too
        _scipy_filtfilt(x[:-1], 1.0, "bandpass", (10.0, 40.0), order)
    with pytest.raises(
        ValueError,
        match=rf"order-3 Butterworth bandpass \(it pads 21 samples at each end\) needs at least "
        rf"{padlen + 1} time points; `x` has shape \({padlen}, 2\)",
    ):
        metrics.bandpass(x[:-1], 1.0, 10.0, 40.0, order=order)
    with pytest.raises(ValueError, match="lowpass .*needs at least 13 time points"):
        metrics.lowpass(x[:12], 1.0, 10.0, order=3)


@pytest.mark.parametrize(
    "fn, reference",
    [
        (lambda x: metrics.detrend(x), lambda x: scipy.signal.detrend(x, axis=0)),
        (
            lambda x: metrics.detrend(x, type="constant"),
            lambda x: scipy.signal.detrend(x, axis=0, type="constant"),
        ),
        (metrics.zscore, lambda x: scipy.stats.zscore(x, axis=0)),
    ],
)
def test_detrend_and_zscore_match_scipy(fn, reference):
    x = 3.0 * _series(5, (400, 4)) + np.linspace(-2.0, 5.0, 400)[:, None] * [1.0, -1.0, 0.0, 2.0]
    for call in CALLS.values():
        np.testing.assert_allclose(call(fn, jnp.asarray(x)), reference(x), rtol=0, atol=1e-12)


# ---------------------------------------------------------------- jit, vmap, grad


def test_filters_under_jit_and_vmap():
    batch = _series(6, (3, 1000, 2))
    fn = lambda x: metrics.bandpass(x, 1.0, 8.0, 12.0, order=2)
    expected = np.stack([_scipy_filtfilt(x, 1.0, "bandpass", (8.0, 12.0), 2) for x in batch])
    np.testing.assert_allclose(jax.jit(fn)(batch[0]), expected[0], atol=1e-9)
    np.testing.assert_allclose(jax.vmap(fn)(batch), expected, atol=1e-9)
    np.testing.assert_allclose(jax.jit(jax.vmap(fn))(batch), expected, atol=1e-9)


@pytest.mark.parametrize(
    "fn",
    [
        lambda x: metrics.bandpass(x, 1.0, 50.0, 150.0, order=2),
        lambda x: metrics.highpass(x, 1.0, 100.0, order=3),
        metrics.zscore,
    ],
)
def test_gradient_matches_finite_differences(fn):
    x = _series(7, (40, 2))
    weights = jnp.asarray(_series(8, (40, 2)))
    loss = jax.jit(lambda v: jnp.sum(weights * fn(v) ** 2))
    np.testing.assert_allclose(
        jax.grad(loss)(jnp.asarray(x)), finite_difference(loss, x), rtol=1e-6, atol=1e-7
    )


# ---------------------------------------------------------------- non-finite and constant input


def test_non_finite_input_is_refused_concrete_and_stays_non_finite_traced():
    x = _series(9, (300, 3))
    clean = _scipy_filtfilt(x, 1.0, "lowpass", 40.0, 4)
    x[100, 1] = np.nan
    x[200, 2] = np.inf
    fn = lambda v: metrics.lowpass(v, 1.0, 40.0)
    with pytest.raises(ValueError, match=r"2 non-finite value\(s\), the first at time index 100"):
        fn(x)
    for name in ("jit", "vmap"):
        got = np.asarray(CALLS[name](fn, jnp.asarray(x)))
        # Forwards then backwards, a bad sample reaches its whole region, and only it.
        assert not np.isfinite(got[:, 1:]).any(), name
        np.testing.assert_allclose(got[:, 0], clean[:, 0], atol=1e-12)
    for fn in (metrics.zscore, metrics.detrend):
        assert not np.isfinite(np.asarray(jax.jit(fn)(x))[:, 1:]).any()
        with pytest.raises(ValueError, match="must be finite"):
            fn(x)


def test_zscore_of_a_constant_region():
    x = _series(10, (50, 3))
    x[:, 1] = 0.1  # the mean of 50 samples of 0.1 is not exactly 0.1
    with pytest.raises(
        ValueError,
        match=r"`x` has zero variance in region\(s\) \[1\]: their standard deviation is 0, so "
        r"their z-score is undefined",
    ):
        metrics.zscore(x)
    for name in ("jit", "vmap"):
        got = np.asarray(CALLS[name](metrics.zscore, jnp.asarray(x)))
        assert np.isnan(got[:, 1]).all(), name
        np.testing.assert_allclose(got[:, [0, 2]], scipy.stats.zscore(x[:, [0, 2]]), atol=1e-12)


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize("call", CALLS)
@pytest.mark.parametrize(
    "fn, error, match",
    [
        (
            lambda x: metrics.bandpass(x, 1.0, 8.0, 500.0),
            ValueError,
            r"`high` must lie strictly between 0 Hz and the Nyquist frequency 500 Hz "
            r"\(1000 / \(2 dt\) with dt=1 ms\); got 500 Hz. .*smaller `dt`",
        ),
        (
            lambda x: metrics.lowpass(x, 4.0, 130.0),
            ValueError,
            r"`cutoff` must lie .* Nyquist frequency 125 Hz .*dt=4 ms\); got 130 Hz",
        ),
        (
            lambda x: metrics.bandpass(x, 1.0, 0.0, 30.0),
            ValueError,
            r"`low` must lie strictly between 0 Hz and the Nyquist frequency 500 Hz.*got 0 Hz. "
            r"A band with no lower edge is a `lowpass`",
        ),
        (
            lambda x: metrics.highpass(x, 1.0, -1.0),
            ValueError,
            r"`cutoff` must lie strictly between 0 Hz",
        ),
        (
            lambda x: metrics.bandpass(x, 1.0, 30.0, 30.0),
            ValueError,
            r"`low` must be below `high`; got low=30 Hz and high=30 Hz",
        ),
        (
            lambda x: metrics.bandpass(x, 1.0, 8.0, 12.0, order=0),
            ValueError,
            r"`order` must be at least 1 \(the Butterworth order\); got 0",
        ),
        (
            lambda x: metrics.lowpass(x, 1.0, 8.0, order=True),
            TypeError,
            r"`order` must be an integer \(the Butterworth order\); got bool",
        ),
        (
            lambda x: metrics.lowpass(x, 0.0, 8.0),
            ValueError,
            r"`dt` must be a positive, finite sampling interval in ms; got 0.0",
        ),
        (
            lambda x: metrics.highpass(x, -1.0, 8.0),
            ValueError,
            r"`dt` must be a positive",
        ),
        (
            lambda x: metrics.bandpass(x[:20], 1.0, 8.0, 12.0),
            ValueError,
            r"order-4 Butterworth bandpass .* needs at least 28 time points; `x` has shape "
            r"\(20, 2\)",
        ),
        (
            lambda x: metrics.zscore(x[:1]),
            ValueError,
            r"zscore needs at least 2 time points",
        ),
        (
            lambda x: metrics.detrend(x[:1]),
            ValueError,
            r"detrend\(type='linear'\) needs at least 2 time points",
        ),
        (
            lambda x: metrics.bandpass(x[:, 0], 1.0, 8.0, 12.0),
            ValueError,
            r"`x` must be a 2-D \(time, regions\) array.*x\[:, None\]",
        ),
    ],
)
def test_errors(call, fn, error, match):
    x = jnp.asarray(_series(11, (100, 2)))
    with pytest.raises(error, match=match):
        CALLS[call](fn, x)


def test_traced_settings_are_refused_by_name():
    x = jnp.asarray(_series(12, (100, 2)))
    with pytest.raises(TypeError, match=r"`cutoff` must be a concrete number in Hz; got a traced"):
        jax.jit(lambda c: metrics.lowpass(x, 1.0, c))(30.0)
    with pytest.raises(TypeError, match=r"`high` must be a concrete number"):
        jax.vmap(lambda h: metrics.bandpass(x, 1.0, 8.0, h))(jnp.array([12.0, 13.0]))
    with pytest.raises(TypeError, match=r"`dt` must be a concrete number .* cannot be traced"):
        jax.jit(lambda dt: metrics.lowpass(x, dt, 30.0))(1.0)


def test_unknown_detrend_type():
    # Under the suite's runtime type checks the `Literal` annotation refuses it first; the
    # function's own message is for users without them.
    x = _series(13, (10, 2))
    with pytest.raises((TypeError, ValueError), match="type"):
        metrics.detrend(x, type="quadratic")
