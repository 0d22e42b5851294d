"""The Wong–Wang family (ReducedWongWang, ReducedWongWangExcInh, WongWang) and feedback
inhibition control, against independent numpy transcriptions of the papers' equations in
the papers' own units (Hz, s), their published behaviour, TVB, and inside delayed networks."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.integrate
import scipy.optimize

import massfit as mf
from massfit._models._transfer import wong_wang_transfer

from .helpers import check_network_simulation, delayed_network, finite_difference, isolated


# --- independent references, in the papers' units: H in Hz, time in s --------------------
# The models' parameters are in ms units; these convert them back (a: 1/(nA ms) -> Hz/nA,
# b: 1/ms -> Hz, d: ms -> s, tau: ms -> s) and return d/dt per ms (per s / 1000).


def np_H(x, a_hz, b_hz, d_s):
    y = a_hz * x - b_hz
    return y / (1 - np.exp(-d_s * y))


def np_rww(p, s, u):
    # Deco et al. (2013): x = w J_N S + I_0 (+ input current), dS/dt = -S/tau + (1-S) gamma H.
    (S,) = s
    x = p["w"] * p["J_N"] * S + p["I_0"] + u[0]
    H = np_H(x, 1e3 * p["a"], 1e3 * p["b"], 1e-3 * p["d"])
    per_second = -S / (1e-3 * p["tau_S"]) + (1 - S) * p["gamma"] * H
    return np.stack([per_second / 1e3])


def np_rww_exc_inh(p, s, u):
    # Deco et al. (2014), Eqs. 1-6 (+ TVB's lambda on the long-range input to I).
    S_E, S_I = s
    I_E = p["W_E"] * p["I_0"] + p["w_plus"] * p["J_NMDA"] * S_E - p["J_I"] * S_I + u[0]
    I_I = p["W_I"] * p["I_0"] + p["J_NMDA"] * S_E - S_I + p["lambda_"] * u[0] + u[1]
    r_E = np_H(I_E, 1e3 * p["a_E"], 1e3 * p["b_E"], 1e-3 * p["d_E"])
    r_I = np_H(I_I, 1e3 * p["a_I"], 1e3 * p["b_I"], 1e-3 * p["d_I"])
    dS_E = -S_E / (1e-3 * p["tau_E"]) + (1 - S_E) * p["gamma"] * r_E
    dS_I = -S_I / (1e-3 * p["tau_I"]) + r_I
    return np.stack([dS_E, dS_I]) / 1e3


def np_wong_wang(p, s, u):
    # Wong & Wang (2006), Eqs. 7-11, stimulus I_i = J_A,ext mu_0 (1 +- c'/100%), with
    # J_A,ext in nA/Hz and mu_0 in Hz.
    S1, S2 = s
    stim = (p["J_ext"] * 1e-3) * (p["mu_0"] * 1e3)
    x1 = p["J_N11"] * S1 - p["J_N12"] * S2 + p["I_0"] + stim * (1 + p["coherence"] / 100) + u[0]
    x2 = p["J_N22"] * S2 - p["J_N21"] * S1 + p["I_0"] + stim * (1 - p["coherence"] / 100) + u[1]
    H = [np_H(x, 1e3 * p["a"], 1e3 * p["b"], 1e-3 * p["d"]) for x in (x1, x2)]
    tau = 1e-3 * p["tau_S"]
    return (
        np.stack(
            [-S1 / tau + (1 - S1) * p["gamma"] * H[0], -S2 / tau + (1 - S2) * p["gamma"] * H[1]]
        )
        / 1e3
    )


# model, reference, parameter ranges, per-variable state ranges, per-variable input ranges
SPECS = {
    "ReducedWongWang": (
        mf.ReducedWongWang,
        np_rww,
        {
            "a": (0.2, 0.35),
            "b": (0.08, 0.13),
            "d": (100, 200),
            "gamma": (0.4, 0.9),
            "tau_S": (50, 150),
            "w": (0.3, 1.4),
            "J_N": (0.15, 0.35),
            "I_0": (0.2, 0.45),
        },
        [(0, 1)],
        [(-0.1, 0.1)],
    ),
    "ReducedWongWangExcInh": (
        mf.ReducedWongWangExcInh,
        np_rww_exc_inh,
        {
            "a_E": (0.25, 0.35),
            "b_E": (0.1, 0.15),
            "d_E": (120, 200),
            "gamma": (0.4, 0.9),
            "tau_E": (50, 150),
            "w_plus": (1.0, 1.8),
            "J_NMDA": (0.1, 0.2),
            "J_I": (0.5, 2.0),
            "W_E": (0.8, 1.2),
            "a_I": (0.5, 0.7),
            "b_I": (0.15, 0.2),
            "d_I": (60, 110),
            "tau_I": (5, 20),
            "W_I": (0.5, 0.9),
            "I_0": (0.3, 0.45),
            "lambda_": (0, 1),
        },
        [(0, 1), (0, 1)],
        [(-0.1, 0.1), (-0.1, 0.1)],
    ),
    "WongWang": (
        mf.WongWang,
        np_wong_wang,
        {
            "a": (0.2, 0.35),
            "b": (0.08, 0.13),
            "d": (100, 200),
            "gamma": (0.4, 0.9),
            "tau_S": (50, 150),
            "J_N11": (0.2, 0.3),
            "J_N22": (0.2, 0.3),
            "J_N12": (0.02, 0.08),
            "J_N21": (0.02, 0.08),
            "I_0": (0.3, 0.35),
            "J_ext": (0.3, 0.7),
            "mu_0": (0, 0.06),
            "coherence": (-100, 100),
        },
        [(0, 1), (0, 1)],
        [(-0.05, 0.05), (-0.05, 0.05)],
    ),
}
NAMES = list(SPECS)


def _random_case(name, n, seed=0):
    cls, reference, param_ranges, state_ranges, input_ranges = SPECS[name]
    rng = np.random.default_rng(seed)
    params = {k: rng.uniform(lo, hi, n) for k, (lo, hi) in param_ranges.items()}
    state = np.stack([rng.uniform(lo, hi, n) for lo, hi in state_ranges])
    inputs = np.stack([rng.uniform(lo, hi, n) for lo, hi in input_ranges])
    return cls, reference, params, state, inputs


def _vf(model, state, inputs=None):
    state = jnp.asarray(state, dtype=float)
    inputs = jnp.zeros_like(state) if inputs is None else jnp.asarray(inputs, dtype=float)
    return model.vector_field(jnp.asarray(0.0), state, inputs)


@pytest.mark.parametrize("name", NAMES)
def test_vector_field_matches_the_papers_equations(name):
    cls, reference, params, state, inputs = _random_case(name, n=9)
    expected = reference(params, state, inputs)
    np.testing.assert_allclose(_vf(cls(**params), state, inputs), expected, rtol=1e-10, atol=1e-15)


@pytest.mark.parametrize("name", NAMES)
def test_defaults_are_the_papers(name):
    cls, reference, _, state_ranges, _ = SPECS[name]
    model = cls()
    published = {
        # Deco et al. 2013 (w as TVB's default): a 270 Hz/nA, b 108 Hz, d 0.154 s ...
        "ReducedWongWang": dict(a=0.270, b=0.108, d=154.0, gamma=0.641, tau_S=100.0, w=0.6)
        | dict(J_N=0.2609, I_0=0.3),
        # Deco et al. 2014: a_E 310 nC^-1, b_E 125 Hz, d_E 0.16 s, a_I 615, b_I 177, d_I 0.087
        "ReducedWongWangExcInh": dict(a_E=0.310, b_E=0.125, d_E=160.0, gamma=0.641)
        | dict(tau_E=100.0, w_plus=1.4, J_NMDA=0.15, J_I=1.0, W_E=1.0, a_I=0.615, b_I=0.177)
        | dict(d_I=87.0, tau_I=10.0, W_I=0.7, I_0=0.382, lambda_=0.0),
        # Wong & Wang 2006: J_A,ext 5.2e-4 nA/Hz, I_0 0.3255 nA, J_N11 0.2609, J_N12 0.0497
        "WongWang": dict(a=0.270, b=0.108, d=154.0, gamma=0.641, tau_S=100.0, J_N11=0.2609)
        | dict(J_N22=0.2609, J_N12=0.0497, J_N21=0.0497, I_0=0.3255, J_ext=0.52),
    }[name]
    for key, value in published.items():
        assert float(getattr(model, key)) == pytest.approx(value, rel=1e-12), key
    state = model.initial_state(3)
    assert state.shape == (len(model.variables), 3)
    assert np.abs(np.asarray(_vf(model, state))).max() > 1e-6  # not a fixed point


# --- TVB (optional) -------------------------------------------------------------------------


def _tvb_dfun(tvb_model, state, coupling):
    tvb_model.configure()
    out = tvb_model.dfun(np.asarray(state)[..., None], np.asarray(coupling)[..., None])
    return np.asarray(out)[..., 0]


def test_reduced_wong_wang_matches_tvb():
    models = pytest.importorskip("tvb.simulator.models")
    _, _, params, state, inputs = _random_case("ReducedWongWang", n=6, seed=1)
    renamed = {"tau_S": "tau_s", "I_0": "I_o"}
    tvb = models.ReducedWongWang(**{renamed.get(k, k): np.asarray(v) for k, v in params.items()})
    # TVB adds J_N * coupling to x; here the input is that current.
    expected = _tvb_dfun(tvb, state, inputs / params["J_N"])
    np.testing.assert_allclose(
        _vf(mf.ReducedWongWang(**params), state, inputs), expected, rtol=1e-9
    )


def test_reduced_wong_wang_exc_inh_matches_tvb():
    models = pytest.importorskip("tvb.simulator.models")
    _, _, p, state, inputs = _random_case("ReducedWongWangExcInh", n=6, seed=2)
    inputs[1] = 0.0  # TVB has no input on S_I
    G = 2.0
    tvb = models.ReducedWongWangExcInh(
        a_e=1e3 * p["a_E"], b_e=1e3 * p["b_E"], d_e=1e-3 * p["d_E"], gamma_e=p["gamma"] / 1e3,
        tau_e=p["tau_E"], w_p=p["w_plus"], J_N=p["J_NMDA"], W_e=p["W_E"], a_i=1e3 * p["a_I"],
        b_i=1e3 * p["b_I"], d_i=1e-3 * p["d_I"], gamma_i=np.full(6, 1e-3), tau_i=p["tau_I"],
        W_i=p["W_I"], J_i=p["J_I"], I_o=p["I_0"], I_ext=np.zeros(6), G=np.full(6, G),
        lamda=p["lambda_"],
    )  # fmt: skip
    expected = _tvb_dfun(tvb, state, inputs[:1] / (G * p["J_NMDA"]))
    model = mf.ReducedWongWangExcInh(**p)
    np.testing.assert_allclose(_vf(model, state, inputs), expected, rtol=1e-9)


# --- the transfer function's removable singularity ------------------------------------------


def test_transfer_function_is_finite_and_smooth_at_its_singularity():
    a, b, d = 0.270, 0.108, 154.0
    at = b / a  # a x - b = 0: 0/0 in the closed form
    H = lambda x: wong_wang_transfer(x, a, b, d)  # noqa: E731
    values_and_slopes = jax.jit(jax.vmap(jax.value_and_grad(H)))

    def reference(x):  # with expm1: near a x = b, 1 - exp(-z) itself loses digits
        y = a * x - b
        return y / -np.expm1(-d * y)

    # The limit and its derivatives: H(b/a) = 1/d, H' = a/2, H'' = a^2 d / 6.
    value, slope = values_and_slopes(jnp.asarray([at]))
    assert float(value[0]) == pytest.approx(1 / d, rel=1e-14)
    assert float(slope[0]) == pytest.approx(a / 2, rel=1e-12)
    curvature = jax.jit(jax.grad(jax.grad(H)))(jnp.asarray(at))
    assert float(curvature) == pytest.approx(a**2 * d / 6, rel=1e-10)
    # Continuous across the switch to the series (at |z| = 1e-2), in value and slope.
    dz = np.array([-2e-2, -1.001e-2, -0.999e-2, -1e-5, 1e-5, 0.999e-2, 1.001e-2, 2e-2])
    xs = at + dz / (a * d)
    value, slope = values_and_slopes(jnp.asarray(xs))
    np.testing.assert_allclose(value, reference(xs), rtol=1e-14)
    fd_slopes = (reference(xs + 1e-7) - reference(xs - 1e-7)) / 2e-7
    np.testing.assert_allclose(slope, fd_slopes, rtol=1e-7)
    # Far from it, in float32 too: no overflow, finite gradients; linear far above threshold.
    x32 = jnp.asarray([-50.0, -1.0, 0.0, 0.4, 5.0, 50.0], dtype=jnp.float32)
    h32, g32 = values_and_slopes(x32)
    assert h32.dtype == jnp.float32
    assert np.all(np.isfinite(h32)) and np.all(np.isfinite(g32))
    with np.errstate(over="ignore"):
        np.testing.assert_allclose(h32, reference(np.asarray(x32, float)), rtol=1e-5, atol=1e-30)
    np.testing.assert_allclose(h32[-1], a * 50.0 - b, rtol=1e-6)
    np.testing.assert_allclose(g32[-2:], a, rtol=1e-6)
    assert g32[0] >= 0


# --- ReducedWongWang: Deco et al. 2013 fixed points ----------------------------------------


def _rww_fixed_points(w, I_0=0.3):
    """Roots of S/tau_S = (1 - S) gamma H(w J_N S + I_0), in the paper's units (H in Hz, tau
    in s), found on a grid and polished with brentq."""
    J_N, gamma, tau = 0.2609, 0.641, 0.1

    def residual(S):
        return -S / tau + (1 - S) * gamma * np_H(w * J_N * S + I_0, 270.0, 108.0, 0.154)

    grid = np.linspace(0.0, 1.0, 100_001)
    brackets = np.flatnonzero(np.diff(np.sign(residual(grid))))
    roots = np.array(
        [scipy.optimize.brentq(residual, grid[i], grid[i + 1], xtol=1e-15) for i in brackets]
    )
    rates = np_H(w * J_N * roots + I_0, 270.0, 108.0, 0.154)
    return roots, rates, residual


def test_reduced_wong_wang_fixed_points_of_deco_2013():
    low, low_rate, _ = _rww_fixed_points(w=0.9)
    # Deco et al. 2013: at w = 0.9 one spontaneous state, S ~ 0.034 at H ~ 0.56 Hz; these
    # equations give S = 0.03436 at H = 0.555 Hz.
    assert len(low) == 1
    assert low[0] == pytest.approx(0.0344, abs=5e-4)
    assert low_rate[0] == pytest.approx(0.56, abs=0.01)
    # At w = 1.2, three: low and high stable (the residual falls through them), the middle
    # one a saddle.
    roots, rates, residual = _rww_fixed_points(w=1.2)
    assert len(roots) == 3
    slopes = [(residual(r + 1e-7) - residual(r - 1e-7)) / 2e-7 for r in roots]
    assert slopes[0] < 0 < slopes[1] and slopes[2] < 0
    assert rates[0] < 1.0 and rates[2] > 20.0  # Hz

    model = mf.ReducedWongWang(w=np.array([0.9, 1.2, 1.2, 1.2, 1.2]))
    states = np.array([[low[0], *roots, roots[0]]])
    np.testing.assert_allclose(_vf(model, states), 0.0, atol=1e-15)
    np.testing.assert_allclose(
        1e3 * model.rate(jnp.asarray(states))[:4], [*low_rate, *rates], rtol=1e-10
    )
    # Simulated, the w = 0.9 node settles on its state from the default start, and the
    # bistable ones land on the low or the high state from either side of the saddle.
    start = np.array([[0.2, roots[1] - 0.05, roots[1] + 0.05, 0.0, 0.9]])
    end = mf.simulate(
        isolated(model, 5), duration=4000.0, dt=0.1, save_every=4000.0, initial_state=start
    )
    np.testing.assert_allclose(
        end.final_state[0], [low[0], roots[0], roots[2], roots[0], roots[2]], rtol=1e-7
    )


# --- ReducedWongWangExcInh: feedback inhibition control (Deco et al. 2014) -----------------


def _np_exc_inh_rates(p, S_E, S_I, long_range):
    I_E = p["W_E"] * p["I_0"] + p["w_plus"] * p["J_NMDA"] * S_E - p["J_I"] * S_I + long_range
    return np_H(I_E, 310.0, 125.0, 0.16)  # Hz


@pytest.mark.slow
def test_feedback_inhibition_holds_every_region_at_3_hz():
    conn = mf.datasets.load_dataset("realistic_connectome", n_regions=20)
    weights = np.asarray(conn.weights, dtype=float)
    k = 0.5 * 0.15  # the paper's G = 0.5, times J_NMDA (nA)
    net = mf.Network(mf.ReducedWongWangExcInh(), conn, mf.Linear(), k=k, speed=10.0)

    def steady_rates(network):  # both runs with an (N,) J_I: one compilation
        end = mf.simulate(network, duration=3000.0, dt=0.1, save_every=3000.0).final_state
        S_E, S_I = np.asarray(end)
        p = {
            name: np.asarray(getattr(network.node, name))
            for name in SPECS["ReducedWongWangExcInh"][2]
        }
        return _np_exc_inh_rates(p, S_E, S_I, k * weights @ S_E)

    without = steady_rates(eqx.tree_at(lambda n: n.node.J_I, net, jnp.ones(20)))
    assert without.max() > 10.0  # Hz: the strongly connected regions are far off 3 Hz

    J_I = mf.feedback_inhibition_weights(net)
    assert J_I.shape == (20,) and np.all(np.asarray(J_I) > 0)
    # More inhibition where more long-range excitation arrives.
    assert np.corrcoef(np.asarray(J_I), weights.sum(axis=1))[0, 1] > 0.99
    with_fic = steady_rates(eqx.tree_at(lambda n: n.node.J_I, net, J_I))
    np.testing.assert_allclose(with_fic, 3.0, atol=0.5)
    np.testing.assert_allclose(with_fic, 3.0, rtol=1e-5)  # the exact steady state


@pytest.mark.slow
def test_feedback_inhibition_under_jit_vmap_and_grad():
    conn = mf.datasets.load_dataset("realistic_connectome", n_regions=6)
    net = mf.Network(mf.ReducedWongWangExcInh(lambda_=0.5), conn, mf.Linear(), k=0.05, speed=10.0)

    def weights_at(k):
        return mf.feedback_inhibition_weights(eqx.tree_at(lambda n: n.k, net, k))

    plain = weights_at(jnp.asarray(0.05))
    ks = jnp.asarray([0.0, 0.05, 0.1])
    batched = jax.jit(jax.vmap(weights_at))(ks)
    np.testing.assert_allclose(batched[1], plain, rtol=1e-12)
    # Implicit-function gradient (through both root solves, lambda != 0) against FD.
    fd = (weights_at(jnp.asarray(0.05 + 1e-6)) - weights_at(jnp.asarray(0.05 - 1e-6))) / 2e-6
    np.testing.assert_allclose(jax.jacfwd(weights_at)(jnp.asarray(0.05)), fd, rtol=1e-6)
    np.testing.assert_allclose(jax.jacrev(weights_at)(jnp.asarray(0.05)), fd, rtol=1e-6)
    # Uncoupled: every region needs the same weight, ~1 (the paper's J_I = 1 gives 3.08 Hz).
    assert np.ptp(np.asarray(batched[0])) < 1e-12


def test_feedback_inhibition_refuses_other_networks():
    conn = mf.Connectome(np.ones((2, 2)) - np.eye(2))
    with pytest.raises(TypeError, match="ReducedWongWangExcInh"):
        mf.feedback_inhibition_weights(mf.Network(mf.ReducedWongWang(), conn))
    both = mf.Network(mf.ReducedWongWangExcInh(), conn, coupled=("S_E", "S_I"))
    with pytest.raises(ValueError, match="coupled on S_E only"):
        mf.feedback_inhibition_weights(both)
    with pytest.raises(ValueError, match="`rate` must be > 0"):
        mf.feedback_inhibition_weights(mf.Network(mf.ReducedWongWangExcInh(), conn), rate=0.0)


# --- WongWang: a decision (Wong & Wang 2006) ------------------------------------------------


def test_wong_wang_biased_stimulus_decides_for_the_favoured_pool():
    # mu_0 = 30 Hz at coherence +12.8 % and -12.8 %, and no stimulus, in three uncoupled
    # regions, all from the same symmetric start.
    model = mf.WongWang(mu_0=np.array([0.030, 0.030, 0.0]), coherence=np.array([12.8, -12.8, 0.0]))
    start = np.full((2, 3), 0.1)
    end = mf.simulate(
        isolated(model, 3), duration=2000.0, dt=0.1, save_every=2000.0, initial_state=start
    )
    end = np.asarray(end.final_state)
    winner, loser = end[[0, 1], [0, 1]], end[[1, 0], [0, 1]]
    assert np.all(winner > 0.6) and np.all(loser < 0.06)
    np.testing.assert_allclose(end[:, 0], end[::-1, 1], rtol=1e-10)  # mirror images
    # The numpy transcription, integrated by scipy, lands on the same states.
    for region in range(3):
        p = {
            k: float(np.broadcast_to(getattr(model, k), (3,))[region]) for k in SPECS["WongWang"][2]
        }
        rhs = lambda t, s: np_wong_wang(p, s[:, None], np.zeros((2, 1)))[:, 0]  # noqa: E731, B023
        ref = scipy.integrate.solve_ivp(rhs, (0, 2000.0), [0.1, 0.1], rtol=1e-10, atol=1e-12).y[
            :, -1
        ]
        np.testing.assert_allclose(end[:, region], ref, rtol=1e-5)
    # The winner fires above the paper's 15 Hz decision threshold, the loser below 1 Hz.
    rate_1, rate_2 = (1e3 * np.asarray(r) for r in model.rates(jnp.asarray(end)))
    assert rate_1[0] > 15.0 and rate_2[0] < 1.0
    # Without a stimulus: the symmetric spontaneous state, a few Hz.
    assert end[0, 2] == pytest.approx(end[1, 2], rel=1e-12)
    assert 1.0 < rate_1[2] < 3.0


# --- networks, errors ------------------------------------------------------------------------


NETWORK_CASES = [
    pytest.param(mf.ReducedWongWang(), "w", [0.6, 0.9, 1.1], 0.1, id="ReducedWongWang"),
    # One family per file in the default suite (each network compiles twice): the rest in
    # the slow suite.
    pytest.param(
        mf.ReducedWongWangExcInh(),
        "J_I",
        [1.0, 1.3, 0.8],
        0.1,
        id="ReducedWongWangExcInh",
        marks=pytest.mark.slow,
    ),
    pytest.param(
        mf.WongWang(mu_0=0.03, coherence=10.0),
        "coherence",
        [10.0, 30.0, -20.0],
        0.05,
        id="WongWang",
        marks=pytest.mark.slow,
    ),
]


@pytest.mark.parametrize("node, name, values, k", NETWORK_CASES)
def test_delayed_network_simulates_under_jit_and_vmap(node, name, values, k):
    check_network_simulation(delayed_network(node, k=k), name, values, grad=False)


# The gradient through a delayed network compiles for ~30-60 s on a loaded 2-core machine:
# slow suite. Every vector field's gradient is checked in the default suite below.
@pytest.mark.slow
@pytest.mark.parametrize("node, name, values, k", NETWORK_CASES)
def test_gradient_through_a_delayed_network(node, name, values, k):
    check_network_simulation(delayed_network(node, k=k), name, values[:2])


@pytest.mark.parametrize("name", NAMES)
def test_vector_field_gradient_matches_finite_differences(name):
    cls, _, params, state, inputs = _random_case(name, n=3, seed=3)
    projection = np.random.default_rng(4).normal(size=state.shape)
    for key in params:

        def scalar(value):
            return jnp.sum(_vf(cls(**{**params, key: value}), state, inputs) * projection)

        x = jnp.asarray(params[key])
        eps = 1e-6 * float(np.max(np.abs(params[key])))
        fd = finite_difference(scalar, x, eps=eps)
        atol = 1e-7 * np.abs(fd).max()  # FD round-off, relative to the largest entry
        np.testing.assert_allclose(jax.grad(scalar)(x), fd, rtol=1e-5, atol=atol, err_msg=key)
    # and with respect to the state (the solver's Jacobian-vector products)
    state_grad = jax.grad(lambda s: jnp.sum(_vf(cls(**params), s, inputs) * projection))
    fd = finite_difference(lambda s: jnp.sum(_vf(cls(**params), s, inputs) * projection), state)
    np.testing.assert_allclose(state_grad(jnp.asarray(state)), fd, rtol=1e-5, atol=1e-12)


@pytest.mark.parametrize("cls", [mf.ReducedWongWang, mf.ReducedWongWangExcInh, mf.WongWang])
def test_unknown_parameter_names_the_valid_ones(cls):
    valid = list(SPECS[cls.__name__][2])
    with pytest.raises(
        TypeError, match=r"has no parameter 'tau_s'; its parameters are .*gamma"
    ) as info:
        cls(tau_s=100.0)
    assert all(name in str(info.value) for name in valid)
    with pytest.raises(TypeError, match="has no parameter 'tau_s'"):
        jax.jit(lambda t: cls(tau_s=t).gamma)(1.0)
    with pytest.raises(TypeError, match="has no parameter 'tau_s'"):
        jax.vmap(lambda t: cls(tau_s=t).gamma)(jnp.ones(2))


@pytest.mark.parametrize("cls", [mf.ReducedWongWang, mf.ReducedWongWangExcInh, mf.WongWang])
def test_per_region_parameters_of_the_wrong_length_are_refused(cls):
    conn = mf.Connectome(np.ones((3, 3)) - np.eye(3))
    name = "gamma"
    mf.Network(cls(**{name: np.full(3, 0.6)}), conn)  # one per region: fine
    with pytest.raises(
        ValueError, match=rf"{cls.__name__}.{name} must be a scalar or have shape \(3,\).*\(4,\)"
    ):
        mf.Network(cls(**{name: np.full(4, 0.6)}), conn)


@pytest.mark.parametrize(
    "cls, name, value",
    [
        (mf.ReducedWongWang, "tau_S", 0.0),
        (mf.ReducedWongWang, "d", -1.0),
        (mf.ReducedWongWang, "J_N", -0.1),
        (mf.ReducedWongWangExcInh, "tau_I", -10.0),
        (mf.ReducedWongWangExcInh, "J_I", np.array([1.0, -0.5])),
        (mf.WongWang, "a", 0.0),
        (mf.WongWang, "mu_0", -0.03),
    ],
)
def test_bad_parameter_raises(cls, name, value):
    with pytest.raises(ValueError, match=rf"{cls.__name__}: `{name}` must be >=? 0"):
        cls(**{name: value})
