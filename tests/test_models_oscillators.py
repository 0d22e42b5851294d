"""FitzHugh–Nagumo, van der Pol, Generic2dOscillator, Epileptor, Larter–Breakspear and
Coombes–Byrne against independent numpy transcriptions of their papers' (and TVB's)
equations, TVB itself when it is installed, one published behaviour each, and simulation in a
delayed network under jit, vmap and grad."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.integrate
import scipy.optimize

import massfit as mf

from .helpers import random_case, vector_field as _vf


# --- independent references, written from the papers (and TVB's dfuns) ----------------------


def np_fitzhugh_nagumo(p, s, u):
    # FitzHugh (1961): v' = v - v^3/3 - w + I, w' = eps (v + a - b w); one time unit is tau ms.
    v, w = s
    dv = v - v**3 / 3 - w + p["I"] + u[0]
    dw = p["epsilon"] * (v + p["a"] - p["b"] * w) + u[1]
    return np.stack([dv, dw]) / p["tau"]


def np_van_der_pol(p, s, u):
    # x'' - mu (1 - x^2) x' + x = 0 in s = omega t, with y = dx/ds.
    x, y = s
    return np.stack([p["omega"] * y + u[0], p["omega"] * (p["mu"] * (1 - x**2) * y - x) + u[1]])


def np_generic_2d(p, s, u):
    # Sanz-Leon et al. (2015), TVB's Generic2dOscillator; coupling enters as gamma * c.
    V, W = s
    dV = (
        p["d"]
        * p["tau"]
        * (
            p["alpha"] * W
            - p["f"] * V**3
            + p["e"] * V**2
            + p["g"] * V
            + p["gamma"] * p["I"]
            + p["gamma"] * u[0]
        )
    )
    dW = p["d"] * (p["a"] + p["b"] * V + p["c"] * V**2 - p["beta"] * W) / p["tau"] + u[1]
    return np.stack([dV, dW])


def np_epileptor(p, s, u):
    # Jirsa et al. (2014) as TVB's Epileptor dfun (linear z nullcline): c1 = u[0], c2 = u[3].
    x1, y1, z, x2, y2, g = s
    c1, c2 = u[0], u[3]
    tt = p["tt"]
    if_neg = -p["a"] * x1**2 + p["b"] * x1
    if_pos = p["slope"] - x2 + 0.6 * (z - 4.0) ** 2
    dx1 = tt * (y1 - z + p["Iext"] + p["Kvf"] * c1 + np.where(x1 < 0, if_neg, if_pos) * x1)
    dy1 = tt * (p["c"] - p["d"] * x1**2 - y1)
    h = 4 * (x1 - p["x0"]) + np.where(z < 0, -0.1 * z**7, 0.0)
    dz = tt * p["r"] * (h - z + p["Ks"] * c1)
    dx2 = tt * (-y2 + x2 - x2**3 + p["Iext2"] + p["bb"] * g - 0.3 * (z - 3.5) + p["Kf"] * c2)
    dy2 = tt * (-y2 + np.where(x2 < -0.25, 0.0, p["aa"] * (x2 + 0.25))) / p["tau"]
    dg = tt * (-0.01 * (g - 0.1 * x1))
    return np.stack([dx1, dy1 + u[1], dz + u[2], dx2, dy2 + u[4], dg + u[5]])


def np_larter_breakspear(p, s, u):
    # Breakspear et al. (2003), as TVB's LarterBreakspear (rates with TVB's factor 1/2).
    V, W, Z = s

    def act(v, threshold, width):
        return 0.5 * (1 + np.tanh((v - threshold) / width))

    m_ca, m_na, m_k = (
        act(V, p[t], p[d]) for t, d in [("TCa", "d_Ca"), ("TNa", "d_Na"), ("TK", "d_K")]
    )
    qv = p["QV_max"] * act(V, p["VT"], p["d_V"])
    qz = p["QZ_max"] * act(Z, p["ZT"], p["d_Z"])
    C, c0 = p["C"], u[0]
    dV = (
        -(p["gCa"] + (1 - C) * p["rNMDA"] * p["aee"] * qv + C * p["rNMDA"] * p["aee"] * c0)
        * m_ca
        * (V - p["VCa"])
        - p["gK"] * W * (V - p["VK"])
        - p["gL"] * (V - p["VL"])
        - (p["gNa"] * m_na + (1 - C) * p["aee"] * qv + C * p["aee"] * c0) * (V - p["VNa"])
        - p["aie"] * Z * qz
        + p["ane"] * p["Iext"]
    )
    dW = p["phi"] * (m_k - W) / p["tau_K"]
    dZ = p["b"] * (p["ani"] * p["Iext"] + p["aei"] * V * qv)
    ts = p["t_scale"]
    return np.stack([ts * dV, ts * dW + u[1], ts * dZ + u[2]])


def np_coombes_byrne(p, s, u):
    # Coombes & Byrne (2019): QIF mean field with an alpha-filtered synaptic conductance.
    r, V, g, q = s
    dr = p["delta"] / np.pi + 2 * r * V - g * r
    dV = V**2 - np.pi**2 * r**2 + p["eta"] + g * (p["v_syn"] - V) + u[0] + u[1]
    dg = p["alpha"] * q + u[2]
    dq = p["alpha"] * (p["kappa"] * np.pi * r - g - 2 * q) + u[3]
    return np.stack([dr, dV, dg, dq])


LB_RANGES = {
    "gCa": (0.9, 1.5),
    "gK": (1.9, 2.1),
    "gL": (0.4, 0.6),
    "phi": (0.3, 0.9),
    "gNa": (0, 10),
    "TK": (-0.1, 0.1),
    "TCa": (-0.02, 0),
    "TNa": (0.25, 0.3),
    "VCa": (0.9, 1.1),
    "VK": (-0.8, -0.6),
    "VL": (-0.7, -0.4),
    "VNa": (0.5, 0.55),
    "d_K": (0.1, 0.4),
    "tau_K": (0.5, 2),
    "d_Na": (0.1, 0.2),
    "d_Ca": (0.1, 0.2),
    "aei": (0.1, 2),
    "aie": (0.5, 2),
    "b": (0.05, 0.2),
    "C": (0, 1),
    "ane": (0.4, 1),
    "ani": (0.3, 0.5),
    "aee": (0, 0.6),
    "Iext": (0.1, 0.3),
    "rNMDA": (0.2, 0.3),
    "VT": (-0.1, 0.1),
    "d_V": (0.5, 0.7),
    "ZT": (0, 0.1),
    "d_Z": (0.3, 0.8),
    "QV_max": (0.5, 1),
    "QZ_max": (0.5, 1),
    "t_scale": (0.5, 2),
}

# model, reference, parameter ranges, per-variable state ranges, per-variable input ranges
SPECS = {
    "FitzHughNagumo": (
        mf.FitzHughNagumo,
        np_fitzhugh_nagumo,
        {"a": (0.5, 1), "b": (0.5, 1), "epsilon": (0.01, 0.2), "I": (-1, 1), "tau": (0.5, 5)},
        [(-2, 2), (-1, 2)],
        [(-1, 1)] * 2,
    ),
    "VanDerPol": (
        mf.VanDerPol,
        np_van_der_pol,
        {"mu": (0, 5), "omega": (0.01, 0.2)},
        [(-2.5, 2.5), (-5, 5)],
        [(-1, 1)] * 2,
    ),
    "Generic2dOscillator": (
        mf.Generic2dOscillator,
        np_generic_2d,
        {
            "tau": (1, 5),
            "I": (-5, 5),
            "a": (-5, 5),
            "b": (-20, 15),
            "c": (-10, 10),
            "d": (0.001, 1),
            "e": (-5, 5),
            "f": (-5, 5),
            "g": (-5, 5),
            "alpha": (-5, 5),
            "beta": (-5, 5),
            "gamma": (-1, 1),
        },
        [(-2, 4), (-6, 6)],
        [(-1, 1)] * 2,
    ),
    "Epileptor": (
        mf.Epileptor,
        np_epileptor,
        {
            "x0": (-3, -1),
            "Iext": (1.5, 5),
            "Iext2": (0, 1),
            "slope": (-16, 6),
            "a": (0.5, 1.5),
            "b": (2, 4),
            "c": (0.5, 1.5),
            "d": (4, 6),
            "r": (0.0001, 0.001),
            "aa": (5, 7),
            "bb": (1, 3),
            "tau": (5, 15),
            "Kvf": (0, 4),
            "Kf": (0, 4),
            "Ks": (-4, 4),
            "tt": (0.5, 2),
        },
        # z spans both signs, so both branches of every piecewise term are exercised.
        [(-2, 1), (-20, 2), (-1, 5), (-2, 0.5), (0, 2), (-1, 1)],
        [(-1, 1)] * 6,
    ),
    "LarterBreakspear": (
        mf.LarterBreakspear,
        np_larter_breakspear,
        LB_RANGES,
        [(-1.5, 1.5), (-1.5, 1.5), (-1.5, 1.5)],
        [(0, 1), (-1, 1), (-1, 1)],
    ),
    "CoombesByrne": (
        mf.CoombesByrne,
        np_coombes_byrne,
        {
            "delta": (0.1, 2),
            "eta": (-15, 20),
            "alpha": (0.5, 2),
            "kappa": (0, 3),
            "v_syn": (-10, 10),
        },
        [(0, 6), (-10, 10), (0, 5), (-1, 1)],
        [(-1, 1)] * 4,
    ),
}
NAMES = list(SPECS)


def _random_case(name, n, seed=0):
    return random_case(SPECS, name, n, seed)


def _isolated(node, n):
    return mf.Network(node, mf.Connectome(np.zeros((n, n))), k=0.0)


def _run(node, initial_state, duration, dt, save_every):
    """Uncoupled copies of `node`, one per column of `initial_state`; returns (ts, ys)."""
    initial_state = np.asarray(initial_state, dtype=float)
    traj = mf.simulate(
        _isolated(node, initial_state.shape[1]),
        duration=duration,
        dt=dt,
        save_every=save_every,
        initial_state=jnp.asarray(initial_state),
    )
    return np.asarray(traj.ts), np.asarray(traj.ys)


def _scipy(reference, params, y0, t1, **kwargs):
    zero = np.zeros(len(y0))
    return scipy.integrate.solve_ivp(
        lambda t, y: reference(params, y, zero), (0.0, t1), np.asarray(y0, dtype=float), **kwargs
    )


# --- vector fields ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_vector_field_matches_reference(name):
    cls, reference, params, state, inputs = _random_case(name, n=7)
    expected = reference(params, state, inputs)
    np.testing.assert_allclose(_vf(cls(**params), state, inputs), expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_default_parameters_match_reference_defaults(name):
    # The defaults are the papers'/TVB's: the reference is evaluated with them written out.
    defaults = {
        "FitzHughNagumo": dict(a=0.7, b=0.8, epsilon=0.08, I=0.0, tau=1.0),
        "VanDerPol": dict(mu=1.0, omega=2 * np.pi * 0.010),
        "Generic2dOscillator": dict(
            tau=1.0,
            I=0.0,
            a=-2.0,
            b=-10.0,
            c=0.0,
            d=0.02,
            e=3.0,
            f=1.0,
            g=0.0,
            alpha=1.0,
            beta=1.0,
            gamma=1.0,
        ),  # fmt: skip
        "Epileptor": dict(
            x0=-1.6,
            Iext=3.1,
            Iext2=0.45,
            slope=0.0,
            a=1.0,
            b=3.0,
            c=1.0,
            d=5.0,
            r=0.00035,
            aa=6.0,
            bb=2.0,
            tau=10.0,
            Kvf=0.0,
            Kf=0.0,
            Ks=0.0,
            tt=1.0,
        ),  # fmt: skip
        "LarterBreakspear": dict(
            gCa=1.1,
            gK=2.0,
            gL=0.5,
            phi=0.7,
            gNa=6.7,
            TK=0.0,
            TCa=-0.01,
            TNa=0.3,
            VCa=1.0,
            VK=-0.7,
            VL=-0.5,
            VNa=0.53,
            d_K=0.3,
            tau_K=1.0,
            d_Na=0.15,
            d_Ca=0.15,
            aei=2.0,
            aie=2.0,
            b=0.1,
            C=0.1,
            ane=1.0,
            ani=0.4,
            aee=0.4,
            Iext=0.3,
            rNMDA=0.25,
            VT=0.0,
            d_V=0.65,
            ZT=0.0,
            d_Z=0.7,
            QV_max=1.0,
            QZ_max=1.0,
            t_scale=1.0,
        ),  # fmt: skip
        "CoombesByrne": dict(delta=0.5, eta=20.0, alpha=0.95, kappa=1.0, v_syn=-10.0),
    }[name]
    _, reference, _, state, inputs = _random_case(name, n=3, seed=7)
    model = SPECS[name][0]()
    np.testing.assert_allclose(
        _vf(model, state, inputs), reference(defaults, state, inputs), rtol=1e-10, atol=1e-12
    )


# TVB model name, our input row per TVB coupling row, parameter renames (ours -> TVB's),
# parameter shape suffix (TVB's numpy dfuns want (N, 1) with the mode axis; its numba ones (N,)).
TVB = {
    "Generic2dOscillator": ("Generic2dOscillator", [0], {}, ()),
    "Epileptor": ("Epileptor", [0, 3], {}, ()),
    "LarterBreakspear": ("LarterBreakspear", [0], {}, (1,)),
    "CoombesByrne": (
        "CoombesByrne",
        [0, None, None, None],
        {"delta": "Delta", "kappa": "k"},
        (1,),
    ),  # fmt: skip
}


@pytest.mark.parametrize("name", list(TVB))
def test_matches_tvb(name):
    tvb_models = pytest.importorskip("tvb.simulator.models")
    tvb_name, rows, renames, suffix = TVB[name]
    cls, _, params, state, _ = _random_case(name, n=5, seed=11)
    rng = np.random.default_rng(12)
    coupling = rng.uniform(-1, 1, (len(rows), 5))
    tvb_model = getattr(tvb_models, tvb_name)(
        **{renames.get(k, k): np.reshape(v, v.shape + suffix) for k, v in params.items()}
    )
    tvb_model.configure()
    expected = tvb_model.dfun(state[..., None], coupling[..., None])[..., 0]
    inputs = np.zeros_like(state)
    for tvb_row, row in enumerate(rows):
        if row is not None:  # TVB's CoombesByrne reads only its first coupling row
            inputs[row] = coupling[tvb_row]
    np.testing.assert_allclose(_vf(cls(**params), state, inputs), expected, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_default_initial_state_is_not_a_fixed_point(name):
    model = SPECS[name][0]()
    state = model.initial_state(4)
    assert state.shape == (len(model.variables), 4)
    assert set(model.coupled_variables) <= set(model.variables)
    assert np.all(np.abs(_vf(model, state)).max(axis=0) > 1e-6)


# --- published behaviours ---------------------------------------------------------------------


def test_fitzhugh_nagumo_is_excitable():
    # From rest, a pulse (an instantaneous jump of v) below threshold decays back; one above
    # it makes a full spike. Rest and threshold come from numpy/scipy, not from massfit.
    p = dict(a=0.7, b=0.8, epsilon=0.08, I=0.0, tau=2.0)
    roots = np.roots([-1 / 3, 0.0, 1 - 1 / p["b"], p["I"] - p["a"] / p["b"]])
    v_rest = roots[np.abs(roots.imag) < 1e-12].real.item()
    w_rest = (v_rest + p["a"]) / p["b"]

    def peak(kick):
        sol = _scipy(np_fitzhugh_nagumo, p, [v_rest + kick, w_rest], 40.0, rtol=1e-10,
                     atol=1e-12, max_step=0.2)  # fmt: skip
        return sol.y[0].max()

    threshold = scipy.optimize.brentq(lambda kick: peak(kick) - 0.5, 0.0, 1.5, xtol=1e-6)
    assert 0.3 < threshold < 0.8

    kicks = np.array([threshold - 0.05, threshold + 0.05])
    y0 = np.stack([v_rest + kicks, np.full(2, w_rest)])
    ts, ys = _run(mf.FitzHughNagumo(**p), y0, duration=200.0, dt=0.05, save_every=0.1)
    sub, supra = ys[:, 0, 0], ys[:, 0, 1]
    assert sub.max() < 0.0  # no spike: it rises a little and relaxes
    assert supra.max() > 1.5  # a full spike
    np.testing.assert_allclose([sub[-1], supra[-1]], v_rest, atol=1e-3)  # both back at rest
    # the spike takes tau-scaled time: its peak is reached later with a larger tau
    assert 2.0 < ts[np.argmax(supra)] < 20.0


def test_van_der_pol_relaxation_period():
    # mu = 10: the period in dimensionless time approaches (3 - 2 ln 2) mu + 7.014 mu^(-1/3)
    # (Strogatz §7.5); in ms it is that over omega.
    mu, omega = 10.0, 1.0
    ts, ys = _run(mf.VanDerPol(mu=mu, omega=omega), [[2.0], [0.0]], 80.0, 0.002, 0.002)
    x = ys[:, 0, 0]
    up = np.flatnonzero((x[:-1] < 0) & (x[1:] >= 0))
    crossings = ts[up] - x[up] * (ts[up + 1] - ts[up]) / (x[up + 1] - x[up])
    period = np.diff(crossings)[1:].mean() * omega
    asymptotic = (3 - 2 * np.log(2)) * mu + 7.014 * mu ** (-1 / 3)
    assert abs(period / asymptotic - 1) < 0.03
    # and, more tightly, the period of an independent scipy solution (19.078...)
    sol = _scipy(np_van_der_pol, dict(mu=mu, omega=1.0), [2.0, 0.0], 100.0, rtol=1e-10,
                 atol=1e-12, max_step=0.01)  # fmt: skip
    xs = sol.y[0]
    up = np.flatnonzero((xs[:-1] < 0) & (xs[1:] >= 0))
    ref = np.diff(sol.t[up] - xs[up] * (sol.t[up + 1] - sol.t[up]) / (xs[up + 1] - xs[up]))
    np.testing.assert_allclose(period, ref[1:].mean(), rtol=1e-3)


def test_generic_2d_oscillator_defaults_settle_on_a_stable_focus():
    # TVB's defaults: one fixed point, V* real root of -V^3 + 3V^2 + (a + bV) = 0 (beta = 1,
    # c = g = 0); its Jacobian has complex eigenvalues with negative real part.
    p = dict(tau=1.0, I=0.0, a=-2.0, b=-10.0, d=0.02, e=3.0, f=1.0, alpha=1.0, beta=1.0)
    roots = np.roots([-p["f"], p["e"], p["alpha"] * p["b"], p["alpha"] * p["a"]])
    (v_star,) = roots[np.abs(roots.imag) < 1e-12].real
    w_star = p["a"] + p["b"] * v_star
    jac = p["d"] * np.array(
        [[-3 * p["f"] * v_star**2 + 2 * p["e"] * v_star, p["alpha"]], [p["b"], -p["beta"]]]
    )
    eig = np.linalg.eigvals(jac)
    assert np.all(eig.real < 0) and np.all(eig.imag != 0)

    node = mf.Generic2dOscillator()
    ts, ys = _run(node, node.initial_state(1), duration=2000.0, dt=0.1, save_every=1.0)
    np.testing.assert_allclose(ys[-1, :, 0], [v_star, w_star], atol=1e-4)
    # it spirals in: V overshoots the fixed point on the way
    assert np.any(ys[:, 0, 0] < v_star - 1e-3) and np.any(ys[:, 0, 0] > v_star + 1e-3)


def test_epileptor_seizures_recur():
    # x0 = -1.6: seizures start when the slow z falls through the saddle-node of the fast
    # (x1, y1) subsystem. On its lower branch (x1 < 0, y1 = c - d x1^2) the fixed points lie
    # on z = Iext + c + (b - d) x1^2 - a x1^3, whose local minimum is that onset threshold.
    p = dict(a=1.0, b=3.0, c=1.0, d=5.0, Iext=3.1)
    x1 = np.linspace(-3, 0, 30001)
    z_onset = (p["Iext"] + p["c"] + (p["b"] - p["d"]) * x1**2 - p["a"] * x1**3).min()
    assert abs(z_onset - 2.9148) < 1e-3

    # dt = 0.1 ms (TVB's) is near the largest that Heun keeps stable here: the x1 equation
    # has a rate of ~16 /ms on the interictal branch.
    ts, ys = _run(mf.Epileptor(), mf.Epileptor().initial_state(1), 2600.0, 0.1, 1.0)
    x1, z = ys[:, 0, 0], ys[:, 2, 0]
    onsets, armed = [], True
    for i, x in enumerate(x1):
        if x < -1.0:
            armed = True
        elif x > 0.0 and armed:
            onsets.append(i)
            armed = False
    assert len(onsets) >= 2
    # each onset happens just after z has passed below the threshold, and between seizures z
    # climbs back above 4 (the offset side): it oscillates between its thresholds
    assert np.all(z[onsets] < z_onset) and np.all(z[onsets] > z_onset - 0.15)
    assert z[onsets[0] : onsets[1]].max() > 4.0
    assert np.ptp(ts[onsets]) > 1000.0  # onsets are seizures apart, not spikes of one burst


@pytest.mark.parametrize("d_V, chaotic", [(0.65, True), (0.5, False)])
def test_larter_breakspear_chaos(d_V, chaotic):
    # TVB documents Alstott et al. (2009)'s set (its Table 2: the defaults with gCa = 1, aee =
    # 0.36) as chaotic for d_V > 0.59; a single column (C = 0). Two starts 1e-9 apart
    # separate exponentially to the attractor's size and stay bounded; with d_V = 0.5 (a
    # fixed point) they converge instead.
    node = mf.LarterBreakspear(gCa=1.0, aee=0.36, C=0.0, d_V=d_V)
    transient = _scipy(np_larter_breakspear, _params(node), [-0.2, 0.0, 0.0], 500.0,
                       rtol=1e-10, atol=1e-12).y[:, -1]  # fmt: skip
    y0 = np.stack([transient, transient + np.array([1e-9, 0.0, 0.0])], axis=1)
    ts, ys = _run(node, y0, duration=2500.0, dt=0.1, save_every=10.0)
    separation = np.linalg.norm(ys[:, :, 0] - ys[:, :, 1], axis=1)
    assert np.all(np.isfinite(ys)) and np.abs(ys).max() < 2.0
    if chaotic:
        assert separation.max() > 1e-2  # grown ten million fold
        early = (ts > 100) & (separation < 1e-5)  # before saturation: log-linear growth
        slope = np.polyfit(ts[early], np.log(separation[early]), 1)[0]
        assert slope > 2e-3  # a positive Lyapunov exponent, 1/ms
    else:
        assert separation[-1] < 1e-10


def _params(node):
    return {k: float(getattr(node, k)) for k in LB_RANGES}


def _cb_fixed_points(p):
    # q = 0, g = kappa pi r, V = g / 2 - delta / (2 pi r) from dr = 0; the rest is a scalar
    # equation in r > 0. Stability from a finite-difference Jacobian of the numpy reference.
    def residual(r):
        g = p["kappa"] * np.pi * r
        V = g / 2 - p["delta"] / (2 * np.pi * r)
        return V**2 - np.pi**2 * r**2 + p["eta"] + g * (p["v_syn"] - V)

    grid = np.geomspace(1e-6, 100, 20001)
    sign_changes = np.flatnonzero(np.diff(np.sign(residual(grid))))
    points = []
    for i in sign_changes:
        r = scipy.optimize.brentq(residual, grid[i], grid[i + 1], xtol=1e-14)
        g = p["kappa"] * np.pi * r
        x = np.array([r, g / 2 - p["delta"] / (2 * np.pi * r), g, 0.0])
        jac = np.stack(
            [
                (np_coombes_byrne(p, x + e, np.zeros(4)) - np_coombes_byrne(p, x - e, np.zeros(4)))
                / 2e-7
                for e in 1e-7 * np.eye(4)
            ],
            axis=1,
        )
        points.append((x, np.linalg.eigvals(jac).real.max() < 0))
    return points


def test_coombes_byrne_bistability():
    # Excitatory synapses (v_syn = 10) with a negative mean drive: a low-activity and a
    # high-activity state, both stable, separated by an unstable one.
    p = dict(delta=1.0, eta=-15.0, alpha=0.95, kappa=1.0, v_syn=10.0)
    points = _cb_fixed_points(p)
    assert [stable for _, stable in points] == [True, False, True]
    low, high = points[0][0], points[2][0]
    assert high[0] > 10 * low[0]

    y0 = np.array([[0.05, -3.0, 0.0, 0.0], [2.0, 3.0, 6.0, 0.0]]).T
    ts, ys = _run(mf.CoombesByrne(**p), y0, duration=300.0, dt=0.002, save_every=1.0)
    np.testing.assert_allclose(ys[-1, :, 0], low, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(ys[-1, :, 1], high, rtol=1e-5, atol=1e-7)


def test_coombes_byrne_without_synapse_is_montbrio():
    # kappa = 0 and g = q = 0: the (r, V) equations are Montbrió–Pazó–Roxin's with tau = 1 ms,
    # J = 0 (the derivation in the docstring).
    cls, _, params, state, inputs = _random_case("CoombesByrne", n=5, seed=3)
    params["kappa"] = np.zeros(5)
    state[2:] = 0.0
    inputs[2:] = 0.0
    mpr = mf.MontbrioPazoRoxin(tau=1.0, delta=params["delta"], eta=params["eta"], J=0.0)
    np.testing.assert_allclose(
        _vf(cls(**params), state, inputs)[:2], _vf(mpr, state[:2], inputs[:2]), rtol=1e-12
    )


# --- in a delayed network: jit, vmap, grad ------------------------------------------------------

# node, coupling, parameter to vary (and its value), variable to observe, dt (ms)
NETWORKS = {
    "FitzHughNagumo": (mf.FitzHughNagumo(I=0.5), mf.Diffusive(), "I", 0.5, "v", 0.05),
    "VanDerPol": (mf.VanDerPol(mu=2.0, omega=0.2), mf.Diffusive(), "mu", 2.0, "x", 0.05),
    "Generic2dOscillator": (
        mf.Generic2dOscillator(a=2.0, d=0.2),
        mf.Linear(),
        "a",
        2.0,
        "V",
        0.05,
    ),  # fmt: skip
    "Epileptor": (mf.Epileptor(Ks=-0.2, Kvf=0.5, Kf=0.3), mf.Diffusive(), "x0", -1.6, "x1", 0.05),
    "LarterBreakspear": (
        mf.LarterBreakspear(),
        mf.Tanh(a=0.5, sigma=0.65),
        "d_V",
        0.65,
        "V",
        0.05,
    ),  # fmt: skip
    "CoombesByrne": (mf.CoombesByrne(), mf.Linear(), "eta", 20.0, "r", 0.005),
}

N_NET = 3
WEIGHTS = np.array([[0.0, 0.6, 0.3], [0.5, 0.0, 0.4], [0.2, 0.7, 0.0]])
LENGTHS = np.array([[0.0, 4.0, 7.0], [4.0, 0.0, 5.0], [7.0, 5.0, 0.0]])


def _network_loss(name):
    node, coupling, field, _, variable, dt = NETWORKS[name]
    connectome = mf.Connectome(WEIGHTS, LENGTHS)

    def loss(value):
        # per-region values: region i gets value * (1 + 0.05 i), so regions differ
        scaled = value * (1 + 0.05 * jnp.arange(N_NET, dtype=float))
        node_ = eqx.tree_at(lambda n: getattr(n, field), node, scaled)
        net = mf.Network(node_, connectome, coupling, k=0.3, speed=5.0, coupled=(variable,))
        traj = mf.simulate(net, duration=10.0, dt=dt, save_every=1.0, variables=(variable,))
        return jnp.mean(traj.ys**2)

    return loss


# One family in the default suite (each compiles for ~10 s); all of them in the slow suite.
@pytest.mark.parametrize(
    "name", [n if n == "Epileptor" else pytest.param(n, marks=pytest.mark.slow) for n in NAMES]
)
def test_delayed_network_jit_vmap(name):
    value = NETWORKS[name][3]
    losses = jax.jit(jax.vmap(_network_loss(name)))(jnp.asarray([0.9, 1.0, 1.1]) * value)
    assert np.all(np.isfinite(losses))
    assert len(np.unique(np.asarray(losses))) == 3  # the parameter matters


# Compiling reverse mode through the delay solver under vmap takes ~30-50 s per model here.
@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_delayed_network_jit_vmap_grad(name):
    # One compiled call: jit of a vmap over five values of the parameter, each with its
    # reverse-mode gradient; two of the five are the finite-difference points.
    value = NETWORKS[name][3]
    loss = _network_loss(name)
    eps = 1e-5 * abs(value)
    values = jnp.asarray([0.9 * value, value, 1.1 * value, value - eps, value + eps])
    losses, grads = jax.jit(jax.vmap(jax.value_and_grad(loss)))(values)
    assert np.all(np.isfinite(losses)) and np.all(np.isfinite(grads))
    assert len(np.unique(np.asarray(losses[:3]))) == 3  # the parameter matters
    finite_difference = (losses[4] - losses[3]) / (2 * eps)
    np.testing.assert_allclose(grads[1], finite_difference, rtol=1e-4, atol=1e-12)


@pytest.mark.slow
def test_delayed_network_batched_equals_unbatched():
    # vmap changes nothing: one member of a batch equals its own run (FitzHugh–Nagumo).
    loss = _network_loss("FitzHughNagumo")
    values = jnp.asarray([0.3, 0.5])
    np.testing.assert_allclose(jax.vmap(loss)(values)[1], loss(values[1]), rtol=1e-10)


# --- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_unknown_parameter_names_the_valid_ones(name):
    cls = SPECS[name][0]
    real = next(iter(SPECS[name][2]))
    match = rf"{name} has no parameter 'not_a_parameter'; its parameters are \(.*'{real}'"
    with pytest.raises(TypeError, match=match):
        cls(not_a_parameter=1.0)
    with pytest.raises(TypeError, match=match):
        jax.jit(lambda x: cls(not_a_parameter=x).variables)(1.0)
    with pytest.raises(TypeError, match=match):
        jax.vmap(lambda x: cls(not_a_parameter=x).variables)(jnp.ones(2))


@pytest.mark.parametrize("name", NAMES)
def test_per_region_parameter_of_the_wrong_length(name):
    cls = SPECS[name][0]
    field = next(iter(SPECS[name][2]))
    connectome = mf.Connectome(WEIGHTS, LENGTHS)
    match = rf"{name}\.{field} must be a scalar or have shape \(3,\).*got shape \(4,\)"

    def build(value):
        return mf.Network(cls(**{field: value}), connectome, speed=5.0).k

    good = getattr(cls(), field)
    with pytest.raises(ValueError, match=match):
        build(jnp.full(4, good))
    with pytest.raises(ValueError, match=match):
        jax.jit(build)(jnp.full(4, good))
    with pytest.raises(ValueError, match=match):
        jax.vmap(build)(jnp.full((2, 4), good))
    build(jnp.full(3, good))  # one value per region is fine


BAD = [
    (mf.FitzHughNagumo, "epsilon", 0.0),
    (mf.FitzHughNagumo, "tau", -1.0),
    (mf.VanDerPol, "mu", -0.5),
    (mf.VanDerPol, "omega", 0.0),
    (mf.Generic2dOscillator, "d", 0.0),
    (mf.Generic2dOscillator, "tau", -1.0),
    (mf.Epileptor, "r", 0.0),
    (mf.Epileptor, "tt", -1.0),
    (mf.Epileptor, "tau", np.array([10.0, -1.0])),
    (mf.LarterBreakspear, "d_V", 0.0),
    (mf.LarterBreakspear, "tau_K", -1.0),
    (mf.CoombesByrne, "alpha", 0.0),
    (mf.CoombesByrne, "delta", -0.5),
]


@pytest.mark.parametrize("cls, name, value", BAD, ids=lambda x: getattr(x, "__name__", str(x)))
def test_bad_parameter_raises(cls, name, value):
    with pytest.raises(ValueError, match=rf"{cls.__name__}: `{name}` must be >=? 0") as info:
        cls(**{name: value})
    assert str(float(np.min(value))).rstrip("0") in str(info.value)
