"""The convention differences between massfit and brainmass stated in docs/brainmass.md and
docs/getting_started.md, each checked against an independent NumPy/SciPy computation: the
massfit spelling of brainmass's behaviour gives brainmass's numbers."""

import equinox as eqx
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.stats

import massfit as mf
from massfit import metrics, objectives


RNG = np.random.default_rng(0)


def _fc_numpy(x):
    return np.corrcoef(x, rowvar=False)


@pytest.mark.parametrize("n", [3, 6, 10])
def test_fc_rmse_full_matrix_is_upper_triangle_times_sqrt_n_minus_1_over_n(n):
    prediction = RNG.standard_normal((200, n))
    target = RNG.standard_normal((200, n)) + 0.5 * prediction
    diff = _fc_numpy(prediction) - _fc_numpy(target)
    full = np.sqrt(np.mean(diff**2))  # brainmass: every entry, the diagonal included
    upper = np.sqrt(np.mean(diff[np.triu_indices(n, 1)] ** 2))
    ours = float(objectives.fc_rmse()(jnp.asarray(prediction), jnp.asarray(target)))
    np.testing.assert_allclose(ours, upper, rtol=1e-10)
    np.testing.assert_allclose(full, ours * np.sqrt((n - 1) / n), rtol=1e-10)
    # the factor is not 1: the two conventions really differ
    assert abs(full - ours) > 1e-3 * ours


def _delayed(n, c=1):
    # delayed[c, i, j]: variable c of region j as region i sees it
    return RNG.standard_normal((c, n, n)), RNG.standard_normal((c, n))


def test_tanh_is_tvbs_pre_summation_form():
    n = 5
    w = RNG.uniform(0, 1, (n, n))
    delayed, current = _delayed(n)
    a, b, midpoint, sigma, k = 0.7, 1.3, 0.2, 0.8, 0.4
    coupling = mf.Tanh(a=a, b=b, midpoint=midpoint, sigma=sigma)
    got = coupling(k, jnp.asarray(w), jnp.asarray(delayed), jnp.asarray(current))
    expected = k * np.sum(w * a * (1 + np.tanh((b * delayed[0] - midpoint) / sigma)), axis=1)
    np.testing.assert_allclose(np.asarray(got)[0], expected, rtol=1e-12)


def test_brainmass_tanh_coupling_is_sigmoidal():
    # brainmass's HyperbolicTangentCoupling: k * tanh(scale * sum_j w_ij x_j), after the sum.
    n = 5
    w = RNG.uniform(0, 1, (n, n))
    delayed, current = _delayed(n)
    k, scale = 0.5, 2.0
    expected = k * np.tanh(scale * np.sum(w * delayed[0], axis=1))
    coupling = mf.Sigmoidal(cmin=-k, cmax=k, a=2 * scale, sigma=1.0)  # with Network k = 1
    got = coupling(1.0, jnp.asarray(w), jnp.asarray(delayed), jnp.asarray(current))
    np.testing.assert_allclose(np.asarray(got)[0], expected, rtol=1e-12)
    # and massfit's Tanh is not that form
    tanh = mf.Tanh(a=k / 2, b=scale)
    other = tanh(1.0, jnp.asarray(w), jnp.asarray(delayed), jnp.asarray(current))
    assert not np.allclose(np.asarray(other)[0], expected)


def _wc_numpy(e, i, p, shifted):
    def s(u, a, mu):
        value = 1 / (1 + np.exp(-a * (u - mu)))
        return value - 1 / (1 + np.exp(a * mu)) if shifted else value

    de = (-e + (1 - e) * s(p["c_ee"] * e - p["c_ie"] * i + p["p_e"], p["a_e"], p["mu_e"]))
    di = (-i + (1 - i) * s(p["c_ei"] * e - p["c_ii"] * i + p["p_i"], p["a_i"], p["mu_i"]))
    return de / p["tau_e"], di / p["tau_i"]


@pytest.mark.parametrize("shifted", [False, True])
def test_wilson_cowan_sigmoids(shifted):
    p = dict(c_ee=16.0, c_ie=12.0, c_ei=15.0, c_ii=3.0, a_e=1.3, mu_e=4.0, a_i=2.0, mu_i=3.7,
             p_e=1.25, p_i=0.0, tau_e=8.0, tau_i=8.0)
    model = mf.WilsonCowan(sigmoid="shifted" if shifted else "unshifted", **p)
    state = RNG.uniform(0, 0.5, (2, 4))
    got = model.vector_field(0.0, jnp.asarray(state), jnp.zeros((2, 4)))
    np.testing.assert_allclose(np.asarray(got), _wc_numpy(*state, p, shifted), rtol=1e-12)
    # Only the shifted (1972) sigmoid has E = I = 0 at rest without drive.
    no_drive = eqx_replace(model, p_e=0.0)
    rest = no_drive.vector_field(0.0, jnp.zeros((2, 1)), jnp.zeros((2, 1)))
    assert np.allclose(np.asarray(rest), 0.0) == shifted


def eqx_replace(model, **values):
    for name, value in values.items():
        model = eqx.tree_at(lambda m, name=name: getattr(m, name), model, jnp.asarray(value))
    return model


def test_jansen_rit_rate_input_on_y1_is_an_increase_of_mu():
    # brainmass's E_inp (a rate in Hz, onto the excitatory interneuron PSP) is massfit's row
    # y1 of the inputs, in 1/ms: E_inp / 1000.
    jr = mf.JansenRit()
    state = jnp.asarray(RNG.uniform(-1, 1, (6, 3)))
    e_inp_hz = 30.0
    inputs = jnp.zeros((6, 3)).at[1].set(e_inp_hz / 1000.0)
    got = jr.vector_field(0.0, state, inputs)
    expected = eqx_replace(jr, mu=0.22 + e_inp_hz / 1000.0).vector_field(
        0.0, state, jnp.zeros((6, 3))
    )
    np.testing.assert_allclose(np.asarray(got), np.asarray(expected), rtol=1e-12)


def test_montbrio_inputs():
    mpr = mf.MontbrioPazoRoxin(tau=2.0, I=0.3)
    state = jnp.asarray(RNG.uniform(0.05, 1.0, (2, 3)))
    zero = jnp.zeros((2, 3))
    # row V adds to I; row r enters the V equation as tau * I_r (neither enters dr/dt)
    got_v = mpr.vector_field(0.0, state, zero.at[1].set(0.5))
    got_r = mpr.vector_field(0.0, state, zero.at[0].set(0.5))
    np.testing.assert_allclose(
        np.asarray(got_v), np.asarray(eqx_replace(mpr, I=0.8).vector_field(0.0, state, zero))
    )
    np.testing.assert_allclose(
        np.asarray(got_r), np.asarray(eqx_replace(mpr, I=1.3).vector_field(0.0, state, zero))
    )


def _hopf_euler_numpy(x0, y0, w, lags, k, dt, n_steps, a=-0.1, omega=0.3):
    """Euler for Hopf nodes with Linear coupling on x, integer lags, constant past."""
    n = len(x0)
    xs = [np.array(x0, float)]
    x, y = np.array(x0, float), np.array(y0, float)
    for step in range(n_steps):
        delayed = np.array(
            [[xs[max(step - lags[i, j], 0)][j] for j in range(n)] for i in range(n)]
        )
        c = k * np.sum(w * delayed, axis=1)
        r = a - (x**2 + y**2)
        x, y = x + dt * (r * x - omega * y + c), y + dt * (r * y + omega * x)
        xs.append(x)
    return np.array(xs[1:])


@pytest.mark.slow
def test_delays_rounded_to_nearest_step_and_brainmass_rounding_up():
    dt, speed, k = 0.1, 2.0, 0.3
    w = np.array([[0.0, 1.0, 0.5], [0.8, 0.0, 0.4], [0.3, 0.9, 0.0]])
    steps = np.array([[0.0, 3.3, 5.6], [3.3, 0.0, 4.2], [5.6, 4.2, 0.0]])  # delays in steps
    lengths = steps * speed * dt  # mm
    x0, y0 = np.array([0.5, -0.2, 0.1]), np.array([0.0, 0.3, -0.4])

    def run(lengths):
        node = mf.Hopf(a=-0.1, omega=0.3, x0=jnp.asarray(x0), y0=jnp.asarray(y0))
        net = mf.Network(node, mf.Connectome(w, lengths), mf.Linear(), k=k, speed=speed)
        return np.asarray(mf.simulate(net, duration=6.0, dt=dt, solver=mf.Euler())["x"])

    nearest = _hopf_euler_numpy(x0, y0, w, np.rint(steps).astype(int), k, dt, 60)
    up = _hopf_euler_numpy(x0, y0, w, np.ceil(steps).astype(int), k, dt, 60)
    assert np.abs(nearest - up).max() > 1e-4  # the two roundings differ here
    np.testing.assert_allclose(run(lengths), nearest, rtol=1e-10, atol=1e-12)
    # brainmass's rounding up, spelled in massfit: lengths moved up to whole steps
    lengths_up = np.ceil(lengths / (speed * dt) - 1e-9) * speed * dt
    np.testing.assert_allclose(run(lengths_up), up, rtol=1e-10, atol=1e-12)


def test_connectome_diagonal_kept_and_brainmass_zeroed():
    n = 4
    w = RNG.uniform(0.1, 1, (n, n))
    x = RNG.standard_normal(n)
    state = jnp.asarray(np.stack([x, np.zeros(n)]))

    def coupling(conn):
        net = mf.Network(mf.Hopf(), conn, mf.Linear(), k=0.5)
        return np.asarray(net.instantaneous_coupling(state))[0]

    np.testing.assert_allclose(coupling(mf.Connectome(w)), 0.5 * w @ x, rtol=1e-12)
    zeroed = w * (1 - np.eye(n))
    np.testing.assert_allclose(
        coupling(mf.Connectome(w, diagonal="zero")), 0.5 * zeroed @ x, rtol=1e-12
    )


def test_fcd_distribution_with_scotts_bandwidth_is_scipys_gaussian_kde():
    series = RNG.standard_normal((300, 6)) + 0.3 * RNG.standard_normal((300, 1))
    fcd = np.asarray(metrics.fcd(jnp.asarray(series), window_size=30, step_size=5))
    values = fcd[np.triu_indices_from(fcd, 1)]
    grid = np.linspace(-0.99, 0.99, 100)  # brainmass's grid
    scott = values.std(ddof=1) * len(values) ** (-1 / 5)  # brainmass's bandwidth
    ours = metrics.fcd_distribution(jnp.asarray(fcd), grid=grid, bandwidth=float(scott))
    np.testing.assert_allclose(
        np.asarray(ours), scipy.stats.gaussian_kde(values)(grid), rtol=1e-8, atol=1e-12
    )
