"""Observers: sampling schedule, Balloon–Windkessel BOLD against scipy, HRF kernels against
their closed forms, lead fields against numpy, online == post hoc, gradients, errors."""

from fractions import Fraction

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.integrate
import scipy.stats

import massfit
from massfit.observation import (
    advance,
    BOLD,
    DoubleExponentialHRF,
    DoubleGammaHRF,
    GammaHRF,
    GammaMixtureHRF,
    HRFConvolution,
    init_carry,
    LeadField,
    sample_steps,
    Subsample,
    TemporalAverage,
    VolterraHRF,
)


# ---------------------------------------------------------------- sampling schedule


@pytest.mark.parametrize("dt", [0.1, 0.3, 0.7])
def test_sample_steps_period_720(dt):
    n_steps = int(20 * 720 / dt) + 3
    steps = sample_steps(720.0, dt, n_steps)
    m = np.arange(1, len(steps) + 1)
    # nearest step time to m * 720 ms, computed on the exact ratio 7200/(10 dt)
    ratio = Fraction(7200, round(10 * dt))
    expected = np.array([int(Fraction(int(k)) * ratio + Fraction(1, 2)) for k in m])
    np.testing.assert_array_equal(steps, expected)
    assert len(steps) == 20
    assert np.all(np.abs(steps * dt - m * 720.0) <= dt / 2 + 1e-9)
    # the observer samples exactly those steps: a drive equal to the step number
    series = jnp.broadcast_to(jnp.arange(1.0, n_steps + 1.0)[:, None], (n_steps, 2))
    samples = Subsample(period=720.0, drive="x")(series, dt=dt)
    np.testing.assert_array_equal(np.asarray(samples[:, 0]), steps.astype(float))


def test_sample_steps_examples():
    np.testing.assert_array_equal(sample_steps(720.0, 0.7, 3100), [1029, 2057, 3086])
    np.testing.assert_array_equal(sample_steps(1.5, 1.0, 6), [2, 3, 5, 6])  # halves up
    assert len(sample_steps(10.0, 1.0, 9)) == 0


def test_temporal_average_uneven_periods():
    # period 1.5 steps: samples after steps 2, 3, 5, 6 -> means over (1,2), (3), (4,5), (6)
    series = jnp.arange(1.0, 7.0)[:, None]
    out = TemporalAverage(period=1.5, drive="x")(series, dt=1.0)
    np.testing.assert_allclose(np.asarray(out[:, 0]), [1.5, 3.0, 4.5, 6.0])


# ---------------------------------------------------------------- Balloon–Windkessel


def _balloon_scipy(
    z, t_switch, t_samples, kappa=0.65, gamma=0.41, tau=0.98, alpha=0.32, rho=0.34, V0=0.02
):
    """Friston et al. 2000 in (s, f, v, q), classic coefficients, by solve_ivp; `z(t)` is
    piecewise constant, switching at `t_switch` (s)."""

    def rhs(t, y, zt):
        s, f, v, q = y
        return [
            zt - kappa * s - gamma * (f - 1),
            s,
            (f - v ** (1 / alpha)) / tau,
            (f * (1 - (1 - rho) ** (1 / f)) / rho - v ** (1 / alpha) * q / v) / tau,
        ]

    edges = np.unique(np.concatenate([[0.0], t_switch, [t_samples[-1]]]))
    y, out = np.array([0.0, 1.0, 1.0, 1.0]), []
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        inside = t_samples[(t_samples > a) & (t_samples < b)]
        sol = scipy.integrate.solve_ivp(
            rhs,
            (a, b),
            y,
            args=(z(0.5 * (a + b)),),
            t_eval=np.append(inside, b),
            rtol=1e-11,
            atol=1e-13,
            method="DOP853",
        )
        y = sol.y[:, -1]
        out.append(sol.y if np.any(np.isclose(t_samples, b)) else sol.y[:, :-1])
    s, f, v, q = np.concatenate(out, axis=1)
    k1, k2, k3 = 7 * rho, 2.0, 2 * rho - 0.2
    return V0 * (k1 * (1 - q) + k2 * (1 - q / v) + k3 * (1 - v))


@pytest.mark.parametrize("kind", ["step", "pulse"])
def test_bold_matches_solve_ivp(kind):
    dt, period, duration = 5.0, 100.0, 20000.0  # ms
    if kind == "step":
        z, switch = (lambda t: 1.0 if t >= 0.5 else 0.0), [0.5]
    else:
        z, switch = (lambda t: 1.0 if 1.0 <= t < 1.1 else 0.0), [1.0, 1.1]
    n = int(duration / dt)
    drive = np.array([z(i * dt / 1000) for i in range(n)])  # row i is held over step i+1
    ours = BOLD(period=period, drive="x")(jnp.asarray(drive)[:, None], dt=dt)[:, 0]
    t_samples = sample_steps(period, dt, n) * dt / 1000
    reference = _balloon_scipy(z, np.array(switch), t_samples)
    error = np.max(np.abs(np.asarray(ours) - reference)) / np.max(np.abs(reference))
    assert error <= 1e-4, error


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64])
def test_bold_at_rest_is_exactly_zero(dtype):
    for coefficients in ("classic", "stephan2007"):
        bold = BOLD(period=50.0, drive="x", coefficients=coefficients)
        out = bold(jnp.zeros((2000, 3), dtype), dt=0.1)
        assert out.dtype == dtype
        assert np.all(np.asarray(out) == 0.0)


def _pulse_response(bold, dt=5.0, duration=30000.0, amplitude=1.0, onset=0.0, width=100.0):
    n = int(duration / dt)
    t = np.arange(n) * dt
    drive = np.where((t >= onset) & (t < onset + width), amplitude, 0.0)
    out = bold(jnp.asarray(drive)[:, None], dt=dt)[:, 0]
    return np.asarray(out), sample_steps(bold.period, dt, n) * dt


def test_bold_pulse_peak_and_undershoot():
    y, t = _pulse_response(BOLD(period=10.0, drive="x"))
    peak = t[np.argmax(y)] / 1000 - 0.05  # from the pulse's centre, s
    assert 2.9 <= peak <= 3.3, peak  # ≈ 3.1 s with kappa 0.65, gamma 0.41, tau 0.98 s
    assert y.max() > 0
    after = y[t > t[np.argmax(y)]]
    assert after.min() < -0.05 * y.max()  # post-stimulus undershoot
    y_slow, _ = _pulse_response(BOLD(period=10.0, drive="x", tau=2.0))
    slow_peak = t[np.argmax(y_slow)] / 1000 - 0.05
    assert slow_peak > peak + 0.3 and slow_peak <= 6.0


def test_bold_small_drives_are_linear():
    bold = BOLD(period=50.0, drive="x")
    a, _ = _pulse_response(bold, amplitude=1e-3, onset=0.0)
    a2, _ = _pulse_response(bold, amplitude=2e-3, onset=0.0)
    b, _ = _pulse_response(bold, amplitude=1e-3, onset=2000.0)
    t = np.arange(int(30000.0 / 5.0)) * 5.0
    both = np.where(t < 100.0, 1e-3, 0.0) + np.where((t >= 2000.0) & (t < 2100.0), 1e-3, 0.0)
    ab = np.asarray(bold(jnp.asarray(both)[:, None], dt=5.0)[:, 0])
    scale = np.max(np.abs(a))
    assert np.max(np.abs(a2 - 2 * a)) < 1e-2 * 2 * scale
    assert np.max(np.abs(ab - (a + b))) < 1e-2 * scale
    # and a large drive is not linear (the test can tell)
    big, _ = _pulse_response(bold, amplitude=3.0)
    assert np.max(np.abs(big - 3000 * a)) > 5e-2 * 3000 * scale


def test_bold_float32_stable_20_minutes():
    dt, n = 2.0, 20 * 60 * 500  # 20 min at dt 2 ms
    rng = np.random.default_rng(0)
    slow = np.repeat(rng.standard_normal((n // 250, 4)), 250, axis=0)  # 0.5 s blocks
    drive = 0.5 + 0.5 * slow
    bold = BOLD(period=720.0, drive="x")
    out32 = np.asarray(bold(jnp.asarray(drive, jnp.float32), dt=dt))
    out64 = np.asarray(bold(jnp.asarray(drive, jnp.float64), dt=dt))
    assert out32.dtype == np.float32 and out32.shape == (n * 2 // 720, 4)
    assert np.all(np.isfinite(out32)) and np.max(np.abs(out32)) < 0.1
    assert np.max(np.abs(out32 - out64)) < 1e-3 * np.max(np.abs(out64))


def test_non_finite_drive_stays_non_finite():
    drive = np.zeros((400, 2))
    drive[10, 0] = np.nan
    for observer, stays in (
        (BOLD(period=20.0, drive="x"), 20),
        (TemporalAverage(period=20.0, drive="x"), 1),
        (HRFConvolution(period=20.0, drive="x", length=200.0), 10),
    ):
        out = np.asarray(observer(jnp.asarray(drive), dt=1.0))
        # BOLD keeps it; the mean only in its period; the convolution for its 10 taps
        assert np.all(np.isnan(out[:stays, 0])), type(observer).__name__
        assert np.all(np.isfinite(out[stays:, 0])) and np.all(np.isfinite(out[:, 1]))


# ---------------------------------------------------------------- online == post hoc


def _observers(n_regions):
    gain = np.random.default_rng(1).standard_normal((3, n_regions))
    return [
        BOLD(period=7.0, drive="x"),
        BOLD(period=7.0, drive="x", coefficients="stephan2007"),
        TemporalAverage(period=2.5, drive="x"),
        Subsample(period=2.5, drive="x"),
        HRFConvolution(period=5.0, drive="x", length=60.0, kernel=DoubleGammaHRF(peak=0.02)),
        LeadField(gain, period=3.0, drive="x", average_reference=True, offset=0.5),
    ]


@pytest.mark.parametrize("index", range(6))
def test_online_equals_post_hoc(index):
    dt, n, n_regions = 0.7, 200, 4
    observer = _observers(n_regions)[index]
    states = np.random.default_rng(2).standard_normal((n, 2, n_regions))
    post_hoc = observer(jnp.asarray(states), dt=dt, variables=("x", "y"))

    @eqx.filter_jit
    def step(obs, carry, k, state):
        return advance(obs, carry, k, obs.drive_of(state, ("x", "y")), dt)

    carry = init_carry(observer, n_regions, dt, n, jnp.float64)
    for k in range(n):
        carry = step(observer, carry, jnp.int32(k + 1), jnp.asarray(states[k]))
    assert int(carry.count) == len(sample_steps(observer.period, dt, n)) == post_hoc.shape[0]
    np.testing.assert_allclose(
        np.asarray(carry.samples), np.asarray(post_hoc), rtol=1e-12, atol=1e-15
    )


def test_trajectory_post_hoc():
    conn = massfit.Connectome(jnp.ones((2, 2)) - jnp.eye(2))
    traj = massfit.simulate(
        massfit.Network(massfit.Hopf(), conn, k=0.5), duration=50.0, dt=0.1, variables=("x", "y")
    )
    energy = TemporalAverage(period=10.0, drive=lambda s: s["x"] ** 2 + s["y"] ** 2)
    out = energy(traj, dt=0.1)
    expected = np.asarray(traj["x"] ** 2 + traj["y"] ** 2).reshape(5, 100, 2).mean(axis=1)
    np.testing.assert_allclose(np.asarray(out), expected, rtol=1e-12)


# ---------------------------------------------------------------- HRF kernels


def test_hrf_kernels_match_closed_forms():
    t = np.linspace(-1.0, 32.0, 331)
    pos = np.maximum(t, 0)
    g = scipy.stats.gamma.pdf
    np.testing.assert_allclose(GammaHRF(5.0, 1.2)(t), g(t, 5.0, scale=1.2), atol=1e-14)
    spm = g(t, 6.0) - g(t, 16.0) / 6.0
    np.testing.assert_allclose(DoubleGammaHRF()(t), spm, atol=1e-14)
    np.testing.assert_allclose(
        DoubleGammaHRF(peak=5.0, peak_dispersion=0.9)(t),
        g(t, 5.0 / 0.9, scale=0.9) - g(t, 16.0) / 6.0,
        atol=1e-14,
    )
    mix = GammaMixtureHRF([1.0, -0.3], [6.0, 12.0], [1.0, 1.5])
    np.testing.assert_allclose(mix(t), g(t, 6.0) - 0.3 * g(t, 12.0, scale=1.5), atol=1e-14)
    expo = (np.exp(-pos / 4.0) - np.exp(-pos / 1.0)) / 3.0 * (t >= 0)
    np.testing.assert_allclose(DoubleExponentialHRF()(t), expo, atol=1e-14)
    w = np.sqrt(1 / 0.4 - 1 / (4 * 0.8**2))
    volterra = np.exp(-0.5 * pos / 0.8) * np.sin(w * pos) / (3 * w) * (t >= 0)
    np.testing.assert_allclose(VolterraHRF()(t), volterra, atol=1e-14)
    # SPM's canonical HRF: response mode at 5 s, undershoot, integral 1 - 1/6
    fine = np.linspace(0, 60, 60001)
    values = np.asarray(DoubleGammaHRF()(fine))
    assert abs(fine[np.argmax(values)] - 5.0) < 0.01  # the undershoot moves it 1.5 ms
    assert abs(np.trapezoid(values, fine) - 5 / 6) < 1e-6


@pytest.mark.parametrize("method", ["direct", "fft"])
def test_hrf_convolution_matches_numpy(method):
    dt, period, length = 10.0, 500.0, 20000.0
    x = np.random.default_rng(3).standard_normal((12000, 3))
    obs = HRFConvolution(period=period, drive="x", length=length, method=method)
    out = np.asarray(obs(jnp.asarray(x), dt=dt))
    means = x.reshape(-1, 50, 3).mean(axis=1)
    taps = 0.5 * (
        scipy.stats.gamma.pdf((np.arange(40) + 0.5) * 0.5, 6.0)
        - scipy.stats.gamma.pdf((np.arange(40) + 0.5) * 0.5, 16.0) / 6.0
    )
    expected = np.stack([np.convolve(means[:, r], taps)[: len(means)] for r in range(3)], 1)
    np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------- lead fields


def test_lead_field_matches_numpy(tmp_path):
    rng = np.random.default_rng(4)
    np.savetxt(tmp_path / "projection_eeg_5.txt", rng.standard_normal((5, 3)))
    gain = massfit.io.load_gain(tmp_path / "projection_eeg_5.txt", n_regions=3)
    x = rng.standard_normal((40, 3))
    offset = rng.standard_normal(5)
    lf = massfit.LeadField(
        gain, period=2.0, drive="x", scale=1.7, offset=offset, average_reference=True
    )
    g = np.asarray(gain)
    raw = x @ g.T
    expected = 1.7 * (raw - raw.mean(axis=1, keepdims=True)) + offset
    np.testing.assert_allclose(np.asarray(lf.project(x)), expected, rtol=1e-12)
    # sampled every 2 ms at dt 0.5: rows 3, 7, 11, ...
    np.testing.assert_allclose(np.asarray(lf(jnp.asarray(x), dt=0.5)), expected[3::4], rtol=1e-12)
    plain = massfit.LeadField(gain, period=0.5, drive="x")
    np.testing.assert_allclose(np.asarray(plain(jnp.asarray(x), dt=0.5)), raw, rtol=1e-12)


# ---------------------------------------------------------------- gradients


def _directional_fd(loss, x, v, h=1e-6):
    return (loss(x + h * v) - loss(x - h * v)) / (2 * h)


@pytest.mark.parametrize("index", [0, 2, 3, 4, 5])
def test_gradients_wrt_drive_match_finite_differences(index):
    dt, n, n_regions = 0.7, 120, 4
    observer = _observers(n_regions)[index]
    rng = np.random.default_rng(5)
    x = jnp.asarray(0.3 + 0.2 * rng.standard_normal((n, n_regions)))
    weights = jnp.asarray(rng.standard_normal(observer(x, dt=dt).shape))

    @jax.jit
    def loss(series):
        return jnp.sum(weights * observer(series, dt=dt))

    grad = jax.grad(loss)(x)
    for _ in range(2):
        v = jnp.asarray(rng.standard_normal(x.shape))
        fd = _directional_fd(loss, x, v, h=1e-3)
        np.testing.assert_allclose(float(jnp.sum(grad * v)), float(fd), rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize(
    "observer, where",
    [
        (BOLD(period=7.0, drive="x"), lambda o: o.kappa),
        (
            HRFConvolution(period=5.0, drive="x", length=60.0, kernel=DoubleGammaHRF(peak=0.02)),
            lambda o: o.kernel.peak,
        ),
        (LeadField(np.eye(3, 4) + 0.1, period=2.1, drive="x"), lambda o: o.scale),
        (LeadField(np.eye(3, 4) + 0.1, period=2.1, drive="x"), lambda o: o.gain),
    ],
)
def test_gradients_wrt_parameters_match_finite_differences(observer, where):
    dt, n = 0.7, 120
    rng = np.random.default_rng(6)
    x = jnp.asarray(0.3 + 0.5 * rng.standard_normal((n, 4)))
    value = where(observer)
    v = jnp.asarray(rng.standard_normal(jnp.shape(value)))

    @jax.jit
    def loss(p):
        return jnp.sum(eqx.tree_at(where, observer, p)(x, dt=dt) ** 2)

    grad = jax.grad(loss)(value)
    fd = _directional_fd(loss, value, v, h=1e-4 * float(jnp.max(jnp.abs(value))))
    np.testing.assert_allclose(float(jnp.sum(grad * v)), float(fd), rtol=1e-5)


# ---------------------------------------------------------------- errors


def test_period_must_be_positive():
    x = jnp.ones((10, 2))
    for period in (0.0, -720.0, float("nan")):
        with pytest.raises(ValueError, match="`period` must be a positive"):
            BOLD(period=period, drive="x")
        with pytest.raises(ValueError, match="`period` must be a positive"):
            jax.jit(lambda x: TemporalAverage(period=period, drive="x")(x, dt=1.0))(x)
        with pytest.raises(ValueError, match="`period` must be a positive"):
            jax.vmap(lambda x: Subsample(period=period, drive="x")(x, dt=1.0))(x[None])
    with pytest.raises(TypeError, match="concrete number of ms"):
        jax.jit(lambda p: BOLD(period=p, drive="x"))(720.0)
    with pytest.raises(ValueError, match=r"at least the step `dt`"):
        TemporalAverage(period=0.05, drive="x")(x, dt=0.1)


def test_dt_must_be_positive():
    x = jnp.ones((10, 2))
    obs = BOLD(period=1.0, drive="x")
    for dt in (0.0, -0.1, float("inf")):
        with pytest.raises(ValueError, match="`dt` must be a positive"):
            obs(x, dt=dt)
        with pytest.raises(ValueError, match="`dt` must be a positive"):
            jax.jit(lambda x: obs(x, dt=dt))(x)
        with pytest.raises(ValueError, match="`dt` must be a positive"):
            jax.vmap(lambda x: obs(x, dt=dt))(x[None])
        with pytest.raises(ValueError, match="`dt` must be a positive"):
            init_carry(obs, 2, dt, 10)
    with pytest.raises(TypeError, match="static argument"):
        jax.jit(lambda x, dt: obs(x, dt=dt))(x, 0.1)


def test_unknown_drive_variable():
    obs = TemporalAverage(period=1.0, drive="z")
    state = jnp.ones((2, 3))
    match = r"unknown drive variable 'z'; the state has \('x', 'y'\)"
    with pytest.raises(ValueError, match=match):
        obs.drive_of(state, ("x", "y"))
    with pytest.raises(ValueError, match=match):
        jax.jit(lambda s: obs.drive_of(s, ("x", "y")))(state)
    with pytest.raises(ValueError, match=match):
        jax.vmap(lambda s: obs.drive_of(s, ("x", "y")))(state[None])
    with pytest.raises(ValueError, match=match):
        obs(jnp.ones((5, 2, 3)), dt=1.0, variables=("x", "y"))
    with pytest.raises(TypeError, match="`drive` must be a state variable name"):
        TemporalAverage(period=1.0, drive=3)


def test_lead_field_wrong_shape():
    with pytest.raises(ValueError, match=r"`gain` must be a non-empty 2-D \(sensors, regions\)"):
        LeadField(np.ones(4), period=1.0, drive="x")
    lf = LeadField(np.ones((3, 4)), period=1.0, drive="x")
    x = jnp.ones((10, 5))
    match = r"`gain` has shape \(3, 4\) .* for 4 regions, but the activity has 5 regions"
    for call in (lambda x: lf(x, dt=1.0), jax.jit(lambda x: lf(x, dt=1.0)), lf.project):
        with pytest.raises(ValueError, match=match):
            call(x)
    with pytest.raises(ValueError, match=match):
        jax.vmap(lambda x: lf(x, dt=1.0))(x[None])
    with pytest.raises(ValueError, match=r"`offset` must be a scalar or one value per sensor"):
        LeadField(np.ones((3, 4)), period=1.0, drive="x", offset=np.ones(4))


def test_lead_field_non_finite_gain():
    gain = np.ones((3, 4))
    gain[1, 2] = np.nan
    with pytest.raises(ValueError, match=r"`gain` must be finite.*sensor 1, region 2"):
        LeadField(gain, period=1.0, drive="x")
    x = jnp.ones((4, 4))
    with pytest.raises(RuntimeError, match="`gain` must be finite"):
        jax.jit(lambda g: LeadField(g, period=1.0, drive="x")(x, dt=1.0))(jnp.asarray(gain))
    gains = jnp.stack([jnp.ones((3, 4)), jnp.asarray(gain)])
    with pytest.raises(RuntimeError, match="`gain` must be finite"):
        jax.vmap(lambda g: LeadField(g, period=1.0, drive="x")(x, dt=1.0))(gains)
    finite = jax.vmap(lambda g: LeadField(g, period=1.0, drive="x")(x, dt=1.0))(gains[:1])
    np.testing.assert_allclose(np.asarray(finite), 4.0)


@pytest.mark.parametrize(
    "observer",
    [
        massfit.BOLD(period=3.0, drive="x"),
        massfit.observation.TemporalAverage(period=2.6, drive="x"),  # resets after a sample
    ],
    ids=["bold", "average"],
)
def test_advance_block_equals_advance_step_by_step(observer):
    # A solver's block of K sub-steps (the last one short) holding at most one sample step:
    # one readout per block gives the numbers of advancing step by step.
    from massfit.observation._base import advance_block, at_most_one_sample_per

    dt, k, n_steps, n = 0.5, 5, 43, 3
    assert at_most_one_sample_per(observer, k, dt)
    assert not at_most_one_sample_per(observer, k + 2, dt)
    xs = np.random.default_rng(0).normal(size=(n_steps, n))
    stepwise = init_carry(observer, n, dt, n_steps)
    for step in range(1, n_steps + 1):
        stepwise = advance(observer, stepwise, step, jnp.asarray(xs[step - 1]), dt)
    blockwise = init_carry(observer, n, dt, n_steps)
    padded = np.concatenate([xs, np.zeros((k, n))])
    for first in range(1, n_steps + 1, k):
        count = min(k, n_steps - first + 1)
        block = jnp.asarray(padded[first - 1 : first - 1 + k])
        blockwise = advance_block(observer, blockwise, first, block, count, dt)
    assert int(blockwise.count) == len(stepwise.steps) > 0
    np.testing.assert_allclose(blockwise.samples, stepwise.samples, rtol=1e-12, atol=1e-15)
    for a, b in zip(jax.tree.leaves(blockwise.state), jax.tree.leaves(stepwise.state)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
