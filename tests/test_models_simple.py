"""LinearNode (TVB's Linear model) and Lorenz: analytic solutions, linear algebra, chaos."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.integrate

import massfit as mf

from .helpers import check_network_simulation, delayed_network, finite_difference, isolated


def np_linear(p, s, u):
    return p["gamma"] * s + u


def np_lorenz(p, s, u):
    # Lorenz (1963) in time units of tau ms.
    x, y, z = s
    dx = p["sigma"] * (y - x)
    dy = x * (p["rho"] - z) - y
    dz = x * y - p["beta"] * z
    return np.stack([dx, dy, dz]) / p["tau"] + u


SPECS = {
    "LinearNode": (mf.LinearNode, np_linear, {"gamma": (-20, 1)}, 1),
    "Lorenz": (
        mf.Lorenz,
        np_lorenz,
        {"sigma": (5, 15), "rho": (10, 40), "beta": (1, 4), "tau": (1, 20)},
        3,
    ),
}


def _random_case(name, n, seed=0):
    cls, reference, param_ranges, n_vars = SPECS[name]
    rng = np.random.default_rng(seed)
    params = {k: rng.uniform(lo, hi, n) for k, (lo, hi) in param_ranges.items()}
    state = rng.uniform(-20, 20, (n_vars, n))
    inputs = rng.uniform(-1, 1, (n_vars, n))
    return cls, reference, params, state, inputs


def _vf(model, state, inputs):
    return model.vector_field(jnp.asarray(0.0), jnp.asarray(state), jnp.asarray(inputs))


@pytest.mark.parametrize("name", list(SPECS))
def test_vector_field_matches_reference_and_its_gradient_finite_differences(name):
    cls, reference, params, state, inputs = _random_case(name, n=5)
    np.testing.assert_allclose(
        _vf(cls(**params), state, inputs), reference(params, state, inputs), rtol=1e-12
    )
    projection = np.random.default_rng(1).normal(size=state.shape)
    for key in params:

        def scalar(value):
            return jnp.sum(_vf(cls(**{**params, key: value}), state, inputs) * projection)

        x = jnp.asarray(params[key])
        fd = finite_difference(scalar, x, eps=1e-6)
        np.testing.assert_allclose(jax.grad(scalar)(x), fd, rtol=1e-6, err_msg=key)
    model = cls()
    start = model.initial_state(3)
    assert start.shape == (len(model.variables), 3)
    assert np.abs(np.asarray(_vf(model, start, jnp.zeros_like(start)))).max() > 1e-3


def test_linear_matches_tvb():
    models = pytest.importorskip("tvb.simulator.models")
    _, _, params, state, inputs = _random_case("LinearNode", n=6, seed=2)
    tvb = models.Linear(gamma=params["gamma"][:, None])  # per node: (N, 1) in TVB
    tvb.configure()
    expected = tvb.dfun(state[..., None], inputs[..., None])[..., 0]
    np.testing.assert_allclose(_vf(mf.LinearNode(**params), state, inputs), expected, rtol=1e-12)


# --- LinearNode ----------------------------------------------------------------------------


def test_linear_node_decays_exponentially():
    gamma = np.array([-0.01, -0.05, -0.2, -10.0])
    x0 = np.array([1.0, -2.0, 0.5, 3.0])
    model = mf.LinearNode(gamma=gamma, x0=x0)
    traj = mf.simulate(
        isolated(model, 4), duration=100.0, dt=0.01, save_every=10.0, solver=mf.RK4()
    )
    ts = np.asarray(traj.ts)
    # RK4 multiplies by its stability polynomial R(gamma dt) each step: exactly, to rounding,
    z = gamma * 0.01
    steps = np.round(ts / 0.01)[:, None]
    rk4 = x0 * (1 + z + z**2 / 2 + z**3 / 6 + z**4 / 24) ** steps
    np.testing.assert_allclose(traj["x"], rk4, rtol=1e-10, atol=1e-300)
    # and the analytic decay to RK4's accuracy (|gamma dt| <= 0.1: 1e-4 after 1000 steps).
    np.testing.assert_allclose(traj["x"], x0 * np.exp(gamma * ts[:, None]), rtol=1e-3, atol=1e-300)
    np.testing.assert_allclose(
        traj["x"][:, :3], x0[:3] * np.exp(gamma[:3] * ts[:, None]), rtol=1e-9
    )


def test_linear_network_steady_state_solves_the_linear_system():
    # dx/dt = gamma x + k W x(t - d) + I: at rest x* = -(gamma I + k W)^-1 I, delays or not.
    n, gamma, k = 5, -1.0, 0.3
    rng = np.random.default_rng(3)
    drive = rng.uniform(-1.0, 1.0, n)
    net = delayed_network(mf.LinearNode(gamma=gamma), k=k, n=n, seed=4)
    weights = np.asarray(net.connectome.weights)
    matrix = gamma * np.eye(n) + k * weights
    assert np.linalg.eigvals(matrix).real.max() < -0.1
    expected = -np.linalg.solve(matrix, drive)
    # (The delays slow the approach: the slowest mode decays at ~0.05/ms here.)
    traj = mf.simulate(net, duration=400.0, dt=0.1, save_every=400.0, inputs={"x": drive})
    np.testing.assert_allclose(traj.final_state[0], expected, rtol=1e-7)


# --- Lorenz ---------------------------------------------------------------------------------


def test_lorenz_is_bounded_chaos_with_the_known_lyapunov_exponent():
    tau = 10.0  # ms per Lorenz time unit
    p = dict(sigma=10.0, rho=28.0, beta=8.0 / 3.0, tau=1.0)
    # Eight points on the attractor, from scipy on the numpy transcription (time units).
    rhs = lambda t, s: np_lorenz(p, s[:, None], 0.0)[:, 0]  # noqa: E731
    on = scipy.integrate.solve_ivp(
        rhs, (0, 60.0), [1.0, 1.0, 1.0], t_eval=np.arange(25.0, 60.0, 5.0), rtol=1e-11, atol=1e-11
    ).y
    n = on.shape[1]
    start = np.concatenate([on, on + np.array([[1e-8], [0.0], [0.0]])], axis=1)
    model = mf.Lorenz(tau=tau)
    traj = mf.simulate(
        isolated(model, 2 * n), duration=250.0, dt=0.1, save_every=1.0, solver=mf.RK4(),
        initial_state=start,
    )  # fmt: skip
    ys, ts = np.asarray(traj.ys), np.asarray(traj.ts)
    # The time scale: the first 2 time units (20 ms) follow the scipy solution (to RK4's
    # accuracy at 0.01 time units per step, on a flow with rates up to ~23 per unit).
    early = scipy.integrate.solve_ivp(
        rhs, (0, 2.0), on[:, 0], t_eval=ts[ts <= 20.0] / tau, rtol=1e-12, atol=1e-12
    ).y.T
    np.testing.assert_allclose(ys[: len(early), :, 0], early, rtol=5e-3)
    # Bounded: inside the attractor's box, and visiting both wings.
    x, y, z = ys[:, 0], ys[:, 1], ys[:, 2]
    assert np.abs(x).max() < 25 and np.abs(y).max() < 30 and 0 < z.min() and z.max() < 55
    assert np.all((x.min(axis=0) < -5) & (x.max(axis=0) > 5))
    # Chaotic: the 1e-8 separations grow exponentially; the mean log separation, while it is
    # between 1e-7 and 1e-2, grows at the largest Lyapunov exponent (0.906 per time unit).
    separation = np.linalg.norm(ys[:, :, :n] - ys[:, :, n:], axis=1)
    log_sep = np.log(separation).mean(axis=1)
    window = (log_sep > np.log(1e-7)) & (log_sep < np.log(1e-2))
    assert window.sum() > 50
    slope = np.polyfit(ts[window] / tau, log_sep[window], 1)[0]
    assert 0.7 < slope < 1.15, slope
    assert separation[-1].min() > 1.0  # macroscopically apart in the end


# --- networks, errors ------------------------------------------------------------------------

NETWORK_CASES = [
    pytest.param(mf.LinearNode(gamma=-0.5), "gamma", [-0.5, -0.2, -1.0], 0.1, id="LinearNode"),
    # (one family per file in the default suite: each network compiles twice)
    pytest.param(
        mf.Lorenz(), "rho", [28.0, 20.0, 35.0], 0.05, id="Lorenz", marks=pytest.mark.slow
    ),
]


@pytest.mark.parametrize("node, name, values, k", NETWORK_CASES)
def test_delayed_network_simulates_under_jit_and_vmap(node, name, values, k):
    check_network_simulation(delayed_network(node, k=k), name, values, grad=False)


# The gradient through a delayed network compiles for ~30-60 s on a loaded 2-core machine.
@pytest.mark.slow
@pytest.mark.parametrize("node, name, values, k", NETWORK_CASES)
def test_gradient_through_a_delayed_network(node, name, values, k):
    check_network_simulation(delayed_network(node, k=k), name, values[:2])


@pytest.mark.parametrize("cls", [mf.LinearNode, mf.Lorenz])
def test_unknown_parameter_names_the_valid_ones(cls):
    with pytest.raises(TypeError, match=r"has no parameter 'alpha'; its parameters are") as info:
        cls(alpha=1.0)
    assert all(name in str(info.value) for name in SPECS[cls.__name__][2])
    with pytest.raises(TypeError, match="has no parameter 'alpha'"):
        jax.jit(lambda a: cls(alpha=a).x0)(1.0)


@pytest.mark.parametrize("cls", [mf.LinearNode, mf.Lorenz])
def test_per_region_parameters_of_the_wrong_length_are_refused(cls):
    conn = mf.Connectome(np.ones((3, 3)) - np.eye(3))
    mf.Network(cls(x0=np.ones(3)), conn)
    with pytest.raises(ValueError, match=rf"{cls.__name__}.x0 must be a scalar or have shape"):
        mf.Network(cls(x0=np.ones(2)), conn)


def test_lorenz_tau_must_be_positive():
    with pytest.raises(ValueError, match="Lorenz: `tau` must be > 0"):
        mf.Lorenz(tau=0.0)
