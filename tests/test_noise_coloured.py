"""Power-law (1/f^alpha) input noise, coloured in time: the measured spectral slope of each
colour over its documented band (Welch, scipy), its variance, chunk invariance through
`continue_from`, reproducibility from the key, and errors."""

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
import scipy.signal

import massfit as mf


def _series(noise, n_steps, dt, n_regions, key):
    # The noise on its own, advanced as the solvers advance it: one driven row, n regions.
    dt = jnp.asarray(dt)
    eta0 = noise.initial_input_state(key, 1, n_regions, dt, jnp.float64)

    def body(eta, step):
        draw = noise.input_draws(key, step, 1, eta)[0]
        eta = noise.advance_input(eta, dt, draw)
        return eta, noise.input_value(eta)[0]

    _, values = jax.jit(lambda e: jax.lax.scan(body, e, jnp.arange(n_steps)))(eta0)
    return np.asarray(values)


def _measured_exponent(x, dt_ms, f_lo, f_hi):
    # Welch PSD averaged over regions, averaged in 10 log-spaced bins of [f_lo, f_hi], and
    # the least-squares slope of log PSD against log f: the spectrum goes as f^-alpha.
    f, psd = scipy.signal.welch(x, fs=1000.0 / dt_ms, nperseg=2**13, axis=0)
    psd = psd.mean(axis=1)
    edges = np.logspace(np.log10(f_lo), np.log10(f_hi), 11)
    log_f, log_p = [], []
    for a, b in zip(edges[:-1], edges[1:]):
        m = (f >= a) & (f < b)
        log_f.append(np.log(f[m]).mean())
        log_p.append(np.log(psd[m]).mean())
    return -np.polyfit(log_f, log_p, 1)[0]


# dt 0.5 ms and a 1-40 Hz band: f_max * dt = 0.02 (dt in s), the documented limit.
@pytest.mark.parametrize(
    "colour, alpha",
    [("pink", 1.0), ("brown", 2.0), ("blue", -1.0), ("violet", -2.0),
     pytest.param(0.5, 0.5, marks=pytest.mark.slow),
     pytest.param(-1.5, -1.5, marks=pytest.mark.slow),
     pytest.param("white", 0.0, marks=pytest.mark.slow)],
)  # fmt: skip
def test_spectral_slope_over_the_band(colour, alpha):
    noise = mf.PowerLawNoise(colour=colour, sigma=0.3, f_min=1.0, f_max=40.0)
    assert noise.alpha == alpha
    x = _series(noise, 2**16, 0.5, 32, jr.key(0))
    assert abs(_measured_exponent(x, 0.5, 1.0, 40.0) - alpha) < 0.1
    # sigma is the stationary standard deviation (2M samples; brown's are correlated)
    assert abs(x.std() / 0.3 - 1) < (0.1 if colour == "brown" else 0.02)


def _network(colour):
    conn = mf.Connectome(
        np.array([[0.0, 1.0, 0.5], [1.0, 0.0, 0.2], [0.5, 0.2, 0.0]]),
        lengths=np.array([[0.0, 10.0, 20.0], [10.0, 0.0, 15.0], [20.0, 15.0, 0.0]]),
    )
    noise = mf.PowerLawNoise(colour=colour, sigma=0.05, f_min=1.0, f_max=100.0)
    return mf.Network(mf.Hopf(a=0.2, x0=0.4), conn, k=0.3, speed=5.0, noise=noise)


@pytest.mark.parametrize(
    "colour",
    # Slow: test_simulate_reliability keeps continue_from's bit identity (white noise) by default.
    [pytest.param(c, marks=pytest.mark.slow) for c in ("blue", "pink", "brown", "violet")],
)
def test_continue_from_is_bit_identical(colour):
    net = _network(colour)
    key = jr.key(3)
    whole = mf.simulate(net, duration=50.0, dt=0.1, key=key)
    first = mf.simulate(net, duration=25.0, dt=0.1, key=key)
    second = mf.simulate(net, duration=25.0, dt=0.1, key=key, continue_from=first)
    np.testing.assert_array_equal(np.concatenate([first.ys, second.ys]), whole.ys)
    np.testing.assert_array_equal(second.final_state, whole.final_state)
    np.testing.assert_array_equal(second.final_history.noise, whole.final_history.noise)
    # the noise state of the one driven variable (Hopf's x): the components (two per decade
    # of [0.1, 1000] Hz and one more; violet's base is one white row), then the value
    n_components = 1 if colour == "violet" else 2 * 4 + 1
    assert whole.final_history.noise.shape == (n_components + 1, 3)


@pytest.mark.slow
def test_reproducible_and_key_dependent():
    net = _network("pink")
    run = jax.jit(lambda key: mf.simulate(net, duration=20.0, dt=0.1, key=key).ys)
    a, b, c = run(jr.key(1)), run(jr.key(1)), run(jr.key(2))
    np.testing.assert_array_equal(a, b)
    assert np.max(np.abs(a - c)) > 1e-4  # only the noise depends on the key: it reaches the node


def test_noise_is_independent_across_regions():
    # (brainmass colours its noise across regions.) Blue noise decorrelates within a few
    # steps, so 16384 steps estimate each correlation to about +-0.01.
    x = _series(mf.PowerLawNoise(colour="blue", sigma=1.0), 2**14, 0.5, 4, jr.key(5))
    assert np.max(np.abs(np.corrcoef(x.T) - np.eye(4))) < 0.05


# --- errors -------------------------------------------------------------------------------


@pytest.mark.parametrize("colour", [2.5, -3.0])
def test_colour_exponent_out_of_range(colour):
    match = r"PowerLawNoise: `colour` as an exponent alpha .* must be a number in \[-2, 2\]"
    with pytest.raises(ValueError, match=match):
        mf.PowerLawNoise(colour=colour)
    with pytest.raises(ValueError, match=match):
        jax.jit(lambda s: mf.PowerLawNoise(colour=colour, sigma=s).sigma)(0.1)
    with pytest.raises(ValueError, match=match):
        jax.vmap(lambda s: mf.PowerLawNoise(colour=colour, sigma=s).sigma)(jnp.ones(2))


def test_unknown_colour_name():
    match = r"PowerLawNoise: unknown `colour` 'purple'; use one of \('white', 'pink'"
    with pytest.raises(ValueError, match=match):
        mf.PowerLawNoise(colour="purple")
    with pytest.raises(ValueError, match=match):
        jax.jit(lambda s: mf.PowerLawNoise(colour="purple", sigma=s).sigma)(0.1)


def test_bad_band_and_sigma():
    with pytest.raises(ValueError, match=r"0 < `f_min` < `f_max` \(Hz\); got f_min=10.0"):
        mf.PowerLawNoise(f_min=10.0, f_max=5.0)
    with pytest.raises(ValueError, match=r"PowerLawNoise: `sigma` must be >= 0"):
        mf.PowerLawNoise(sigma=-0.1)


@pytest.mark.slow
def test_vmap_and_grad_over_sigma():
    # Under vmap each member equals its own run; the gradient with respect to sigma matches
    # central finite differences (x64).
    net = _network("pink")

    def loss(sigma):
        net_ = mf.Network(
            net.node, net.connectome, k=net.k, speed=net.speed,
            noise=mf.PowerLawNoise(colour="pink", sigma=sigma, f_min=1.0, f_max=100.0),
        )  # fmt: skip
        return jnp.mean(mf.simulate(net_, duration=10.0, dt=0.1, key=jr.key(4)).ys ** 2)

    sigmas = jnp.asarray([0.02, 0.05])
    batched = jax.jit(jax.vmap(loss))(sigmas)
    np.testing.assert_allclose(batched[1], loss(sigmas[1]), rtol=1e-12)
    eps = 1e-6
    grad = jax.grad(loss)(0.05)
    fd = (loss(0.05 + eps) - loss(0.05 - eps)) / (2 * eps)
    np.testing.assert_allclose(grad, fd, rtol=1e-5)
