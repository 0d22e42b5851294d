"""The Wilson–Cowan family against numpy transcriptions of its equations (Wilson & Cowan
1972 and brainmass's variants), one behaviour each where one is clear, a delayed network
under jit/vmap, and errors."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.optimize

import massfit as mf


def S(u, a, theta):
    # Wilson & Cowan (1972), eq. (1): the logistic minus its value at 0.
    return 1 / (1 + np.exp(-a * (u - theta))) - 1 / (1 + np.exp(a * theta))


def np_wc(p, s, u, shifted):
    e, i = s
    f = S if shifted else (lambda x, a, th: 1 / (1 + np.exp(-a * (x - th))))
    de = (
        -e
        + (1 - p["r"] * e) * f(p["c_ee"] * e - p["c_ie"] * i + p["p_e"] + u[0], p["a_e"], p["mu_e"])
    ) / p["tau_e"]  # noqa: E501
    di = (
        -i
        + (1 - p["r"] * i) * f(p["c_ei"] * e - p["c_ii"] * i + p["p_i"] + u[1], p["a_i"], p["mu_i"])
    ) / p["tau_i"]  # noqa: E501
    return np.stack([de, di])


def np_linear(p, s, u):
    e, i = s
    xe = np.maximum(p["c_ee"] * e - p["c_ie"] * i + p["p_e"] + u[0], 0)
    xi = np.maximum(p["c_ei"] * e - p["c_ii"] * i + p["p_i"] + u[1], 0)
    return np.stack(
        [(-e + (1 - p["r"] * e) * xe) / p["tau_e"], (-i + (1 - p["r"] * i) * xi) / p["tau_i"]]
    )  # noqa: E501


def np_divisive(p, s, u):
    e, i = s
    ge = (1 - p["r"] * e) / (p["sigma_e"] + p["c_ie"] * i)
    gi = (1 - p["r"] * i) / (p["sigma_i"] + p["c_ii"] * i)
    de = -e + ge * S(p["c_ee"] * e + p["p_e"] + u[0], p["a_e"], p["mu_e"])
    di = -i + gi * S(p["c_ei"] * e + p["p_i"] + u[1], p["a_i"], p["mu_i"])
    return np.stack([de / p["tau_e"], di / p["tau_i"]])


def np_adaptive(p, s, u):
    e, i, ae, ai = s
    xe = p["c_ee"] * e - p["c_ie"] * i - ae + p["p_e"] + u[0]
    xi = p["c_ei"] * e - p["c_ii"] * i - ai + p["p_i"] + u[1]
    return np.stack(
        [
            (-e + (1 - p["r"] * e) * S(xe, p["a_e"], p["mu_e"])) / p["tau_e"],
            (-i + (1 - p["r"] * i) * S(xi, p["a_i"], p["mu_i"])) / p["tau_i"],
            (-ae + p["b_e"] * e) / p["tau_ae"] + u[2],
            (-ai + p["b_i"] * i) / p["tau_ai"] + u[3],
        ]
    )


def np_three(p, s, u):
    e, i, m = s
    xe = p["c_ee"] * e - p["c_ie"] * i + p["c_me"] * m + p["p_e"] + u[0]
    xi = p["c_ei"] * e - p["c_ii"] * i + p["c_mi"] * m + p["p_i"] + u[1]
    xm = p["c_em"] * e - p["c_im"] * i + p["c_mm"] * m + p["p_m"] + u[2]
    return np.stack(
        [
            (-e + (1 - p["r"] * e) * S(xe, p["a_e"], p["mu_e"])) / p["tau_e"],
            (-i + (1 - p["r"] * i) * S(xi, p["a_i"], p["mu_i"])) / p["tau_i"],
            (-m + (1 - p["r"] * m) * S(xm, p["a_m"], p["mu_m"])) / p["tau_m"],
        ]
    )


# name: (class, options, numpy reference, brainmass defaults as a numpy reference reads them)
SPECS = {
    "WilsonCowan": (mf.WilsonCowan, {}, lambda p, s, u: np_wc(p, s, u, False)),
    "WilsonCowanShifted": (
        mf.WilsonCowan,
        {"sigmoid": "shifted"},
        lambda p, s, u: np_wc(p, s, u, True),
    ),
    "WilsonCowanLinear": (mf.WilsonCowanLinear, {}, np_linear),
    "WilsonCowanDivisive": (mf.WilsonCowanDivisive, {}, np_divisive),
    "WilsonCowanAdaptive": (mf.WilsonCowanAdaptive, {}, np_adaptive),
    "WilsonCowanThreePopulation": (mf.WilsonCowanThreePopulation, {}, np_three),
}
CLASSES = ["WilsonCowan", "WilsonCowanLinear", "WilsonCowanDivisive", "WilsonCowanAdaptive",
           "WilsonCowanThreePopulation"]  # fmt: skip
POSITIVE = {"tau_e", "tau_i", "tau_m", "tau_ae", "tau_ai", "a_e", "a_i", "a_m", "sigma_e",
            "sigma_i"}  # fmt: skip


def _fields(model):
    return {k: float(v) for k, v in vars(model).items() if k != "sigmoid"}


@pytest.mark.parametrize("name", list(SPECS))
def test_vector_field_matches_numpy(name):
    cls, options, ref = SPECS[name]
    rng = np.random.default_rng(0)
    n = 5
    defaults = _fields(cls(**options))
    # per-region parameters scattered around the defaults (positives kept positive)
    params = {
        k: (v if k.endswith("0") else v * rng.uniform(0.7, 1.3, n) + (0 if k in POSITIVE else 0.1))
        for k, v in defaults.items()
    }
    model = cls(**options, **params)
    n_vars = len(model.variables)
    state = rng.uniform(0, 0.6, (n_vars, n))
    inputs = rng.normal(0, 0.5, (n_vars, n))
    got = model.vector_field(0.0, jnp.asarray(state), jnp.asarray(inputs))
    np.testing.assert_allclose(got, ref(params, state, inputs), rtol=1e-12, atol=1e-14)


def test_brainmass_variants_are_options_of_wilson_cowan():
    # brainmass's symmetric, simplified and no-saturation steps are WilsonCowan with tied
    # parameters, written here as brainmass writes them ("to, from" weights).
    rng = np.random.default_rng(1)
    s, u = rng.uniform(0, 0.5, (2, 4)), rng.normal(0, 0.3, (2, 4))
    e, i = s
    s, u = jnp.asarray(s), jnp.asarray(u)
    base = dict(sigmoid="shifted", tau_e=1.0, tau_i=1.0)
    sym = mf.WilsonCowan(**base, a_e=1.1, a_i=1.1, mu_e=3.4, mu_i=3.4, c_ee=12.0, c_ie=4.0,
                         c_ei=13.0, c_ii=11.0)  # fmt: skip
    ref = np.stack([-e + (1 - e) * S(12 * e - 4 * i + u[0], 1.1, 3.4),
                    -i + (1 - i) * S(13 * e - 11 * i + u[1], 1.1, 3.4)])  # fmt: skip
    np.testing.assert_allclose(sym.vector_field(0.0, s, u), ref, rtol=1e-12)
    simple = mf.WilsonCowan(**base, a_e=1.2, mu_e=2.8, a_i=1.0, mu_i=4.0, c_ee=8.0, c_ei=8.0,
                            c_ie=12.0, c_ii=12.0)  # fmt: skip
    ref = np.stack([-e + (1 - e) * S(8 * e - 12 * i + u[0], 1.2, 2.8),
                    -i + (1 - i) * S(8 * e - 12 * i + u[1], 1.0, 4.0)])  # fmt: skip
    np.testing.assert_allclose(simple.vector_field(0.0, s, u), ref, rtol=1e-12)
    nosat = mf.WilsonCowan(**base, r=0.0, a_e=1.2, mu_e=2.8, a_i=1.0, mu_i=4.0, c_ee=12.0,
                           c_ie=4.0, c_ei=13.0, c_ii=11.0)  # fmt: skip
    ref = np.stack([-e + S(12 * e - 4 * i + u[0], 1.2, 2.8),
                    -i + S(13 * e - 11 * i + u[1], 1.0, 4.0)])  # fmt: skip
    np.testing.assert_allclose(nosat.vector_field(0.0, s, u), ref, rtol=1e-12)


def test_shifted_sigmoid_rests_at_zero():
    model = mf.WilsonCowan(sigmoid="shifted")
    zero = jnp.zeros((2, 3))
    np.testing.assert_allclose(model.vector_field(0.0, zero, zero), 0.0, atol=1e-15)


def _simulate(node, duration, dt=0.05, inputs=None, n=1):
    net = mf.Network(node, mf.Connectome(np.zeros((n, n))))
    return mf.simulate(net, duration=duration, dt=dt, save_every=0.5, inputs=inputs)


# Wilson & Cowan (1972), Fig. 9: the limit cycle (c1..c4 = 16, 12, 15, 3; a_e 1.3, theta_e 4;
# a_i 2, theta_i 3.7; P = 1.25), time in units of the membrane time constant (here 8 ms).
CLASSIC = dict(sigmoid="shifted", c_ee=16.0, c_ie=12.0, c_ei=15.0, c_ii=3.0, a_e=1.3, mu_e=4.0,
               a_i=2.0, mu_i=3.7, p_e=1.25, tau_e=8.0, tau_i=8.0)  # fmt: skip


def test_classic_parameters_give_a_limit_cycle():
    # Independently: the only fixed point in the invariant square [0, 1]^2 is an unstable
    # focus (numpy nullcline scan + Jacobian), so trajectories end on a limit cycle.
    p = {k: v for k, v in CLASSIC.items() if k != "sigmoid"} | {"p_i": 0.0, "r": 1.0}

    def f(x):
        return np_wc(p, np.asarray(x)[:, None], np.zeros((2, 1)), True)[:, 0]

    roots = set()
    for e0 in np.linspace(0.01, 0.99, 15):
        for i0 in np.linspace(0.01, 0.99, 15):
            sol, info, ok, _ = scipy.optimize.fsolve(f, [e0, i0], full_output=True)
            if ok == 1 and np.all((sol > -1e-9) & (sol < 1)) and np.max(np.abs(f(sol))) < 1e-12:
                roots.add(tuple(np.round(sol, 6)))
    assert len(roots) == 1
    x = np.array(roots.pop())
    h = 1e-7
    jac = np.stack([(f(x + h * d) - f(x - h * d)) / (2 * h) for d in np.eye(2)], axis=1)
    eig = np.linalg.eigvals(jac)
    assert np.all(eig.real > 0) and np.all(np.abs(eig.imag) > 0)
    traj = _simulate(mf.WilsonCowan(**CLASSIC), duration=800.0)
    late = np.asarray(traj["E"][-600:, 0])  # the last 300 ms
    assert late.max() - late.min() > 0.1  # a sustained oscillation of E


def test_adaptation_terminates_a_bout():
    # A drive switches E on; without adaptation it stays on, at the stable high state that
    # numpy root finding gives; with adaptation A_E builds up over tau_ae and ends the bout
    # (E falls below a tenth of its peak), which the high state can no longer hold: with
    # A_E = b_e E added, the high state is not a fixed point any more.
    common = dict(p_e=3.0, b_i=0.0, tau_ae=50.0)
    off = mf.WilsonCowanAdaptive(**common, b_e=0.0)
    on = mf.WilsonCowanAdaptive(**common, b_e=20.0)
    z = np.zeros((4, 1))
    traj_off = _simulate(off, duration=600.0)
    guess = np.asarray(traj_off.ys[-1, :, 0])
    p = _fields(off)
    high = scipy.optimize.fsolve(lambda x: np_adaptive(p, x[:, None], z)[:, 0], guess)
    e_off = np.asarray(traj_off["E"][:, 0])
    assert high[0] > 0.4 and np.all(np.abs(e_off[-400:] - high[0]) < 1e-6)
    e_on = np.asarray(_simulate(on, duration=600.0)["E"][:, 0])
    peak = int(np.argmax(e_on))
    assert e_on[peak] > 0.4  # the bout starts as without adaptation ...
    assert e_on[peak:].min() < 0.1 * e_on[peak]  # ... and ends


def test_third_population_moves_the_fixed_point():
    # The fixed point with and without M's drive of I, computed by numpy root finding, is
    # where the simulation settles; the drive moves it (I up by more than 0.1).
    z = np.zeros((3, 1))
    ends = {}
    for c_mi in (0.0, 10.0):
        model = mf.WilsonCowanThreePopulation(c_mi=c_mi, p_e=1.0)
        p = _fields(model)
        end = np.asarray(_simulate(model, duration=300.0).ys[-1, :, 0])
        root = scipy.optimize.fsolve(lambda x: np_three(p, x[:, None], z)[:, 0], end)
        np.testing.assert_allclose(end, root, atol=1e-6)
        ends[c_mi] = root
    assert ends[10.0][1] - ends[0.0][1] > 0.1


N_NET = 3
WEIGHTS = np.array([[0.0, 0.6, 0.3], [0.5, 0.0, 0.4], [0.2, 0.7, 0.0]])
LENGTHS = np.array([[0.0, 4.0, 7.0], [4.0, 0.0, 5.0], [7.0, 5.0, 0.0]])
NETWORKS = {
    "WilsonCowan": (mf.WilsonCowan(**CLASSIC), "p_e", 1.25),
    "WilsonCowanLinear": (mf.WilsonCowanLinear(), "p_e", 0.5),
    "WilsonCowanDivisive": (mf.WilsonCowanDivisive(), "p_e", 3.0),
    "WilsonCowanAdaptive": (mf.WilsonCowanAdaptive(), "p_e", 3.0),
    "WilsonCowanThreePopulation": (mf.WilsonCowanThreePopulation(), "p_e", 1.0),
}


def _network_loss(name):
    node, field, _ = NETWORKS[name]
    connectome = mf.Connectome(WEIGHTS, LENGTHS)

    def loss(value):
        scaled = value * (1 + 0.05 * jnp.arange(N_NET, dtype=float))
        node_ = eqx.tree_at(lambda n: getattr(n, field), node, scaled)
        net = mf.Network(node_, connectome, mf.Linear(), k=0.3, speed=5.0)
        traj = mf.simulate(net, duration=10.0, dt=0.05, save_every=1.0, variables=("E",))
        return jnp.mean(traj.ys**2)

    return loss


# One family in the default suite (each compiles for ~10 s); all of them in the slow suite.
@pytest.mark.parametrize(
    "name",
    [n if n == "WilsonCowanAdaptive" else pytest.param(n, marks=pytest.mark.slow) for n in CLASSES],
)
def test_delayed_network_jit_vmap(name):
    value = NETWORKS[name][2]
    losses = jax.jit(jax.vmap(_network_loss(name)))(jnp.asarray([0.9, 1.0, 1.1]) * value)
    assert np.all(np.isfinite(losses))
    assert len(np.unique(np.asarray(losses))) == 3


@pytest.mark.slow
@pytest.mark.parametrize("name", CLASSES)
def test_delayed_network_grad_matches_finite_differences(name):
    value = NETWORKS[name][2]
    loss = _network_loss(name)
    eps = 1e-5 * abs(value)
    grad = jax.jit(jax.grad(loss))(value)
    fd = (loss(value + eps) - loss(value - eps)) / (2 * eps)
    np.testing.assert_allclose(grad, fd, rtol=1e-4, atol=1e-12)


# --- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", CLASSES)
def test_unknown_parameter_names_the_valid_ones(name):
    cls = getattr(mf, name)
    match = rf"{name} has no parameter 'not_a_parameter'; its parameters are \(.*'tau_e'"
    with pytest.raises(TypeError, match=match):
        cls(not_a_parameter=1.0)
    with pytest.raises(TypeError, match=match):
        jax.jit(lambda x: cls(not_a_parameter=x).variables)(1.0)


@pytest.mark.parametrize("name", CLASSES)
def test_per_region_parameter_of_the_wrong_length(name):
    cls = getattr(mf, name)
    connectome = mf.Connectome(WEIGHTS, LENGTHS)
    match = rf"{name}\.c_ee must be a scalar or have shape \(3,\).*got shape \(4,\)"

    def build(value):
        return mf.Network(cls(c_ee=value), connectome, speed=5.0).k

    with pytest.raises(ValueError, match=match):
        build(jnp.full(4, 1.0))
    with pytest.raises(ValueError, match=match):
        jax.jit(build)(jnp.full(4, 1.0))
    with pytest.raises(ValueError, match=match):
        jax.vmap(build)(jnp.full((2, 4), 1.0))
    build(jnp.full(3, 1.0))


def test_unknown_sigmoid():
    with pytest.raises(ValueError, match=r"WilsonCowan: `sigmoid` must be one of .*'shifted'.*"):
        mf.WilsonCowan(sigmoid="tanh")


@pytest.mark.parametrize(
    "cls, name, value",
    [
        (mf.WilsonCowan, "r", -1.0),
        (mf.WilsonCowanDivisive, "sigma_e", 0.0),
        (mf.WilsonCowanAdaptive, "tau_ae", -5.0),
        (mf.WilsonCowanThreePopulation, "tau_m", 0.0),
        (mf.WilsonCowanLinear, "c_ie", -0.1),
    ],  # fmt: skip
)
def test_bad_parameter_raises(cls, name, value):
    with pytest.raises(ValueError, match=rf"{cls.__name__}: `{name}` must be >=? 0"):
        cls(**{name: value})
