"""simulate(): noise statistics, reproducibility and chunking, saving, inputs, bad input."""

from typing import ClassVar

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import massfit as mf
from massfit._models import param

from .helpers import Blowup, isolated


class Linear1(mf.AbstractNodeModel):
    """x' = -gamma x + input."""

    gamma: jax.Array = param(0.5)
    x0: jax.Array = param(0.0)
    variables: ClassVar = ("x",)
    coupled_variables: ClassVar = ("x",)

    def vector_field(self, t, state, inputs):
        return -self.gamma * state + inputs

    def initial_state(self, n_regions):
        return jnp.full((1, n_regions), self.x0)






@pytest.mark.parametrize("dt", [0.1, pytest.param(0.025, marks=pytest.mark.slow)])
def test_additive_noise_stationary_variance(dt, getkey):
    gamma, sigma = 0.5, 0.3
    net = isolated(Linear1(gamma=gamma), 32, mf.AdditiveNoise(sigma))
    traj = mf.simulate(net, duration=2000.0, dt=dt, key=getkey(), transient=20.0, save_every=0.5)
    var = float(jnp.var(traj["x"]))
    assert var == pytest.approx(sigma**2 / (2 * gamma), rel=0.05)


@pytest.mark.slow
def test_noise_does_not_depend_on_dt_brainmass_defect(getkey):
    # brainmass adds white noise without sqrt(dt): its variance scales with dt. Ours doesn't.
    net = isolated(Linear1(gamma=1.0), 32, mf.AdditiveNoise(0.2))
    key = getkey()
    v = [
        float(
            jnp.var(
                mf.simulate(net, duration=1000.0, dt=dt, key=key, transient=10.0, save_every=0.5)[
                    "x"
                ]
            )
        )
        for dt in (0.1, 0.01)
    ]
    assert v[0] == pytest.approx(v[1], rel=0.08)


def test_multiplicative_noise_mean_and_second_moment(getkey):
    # Ito geometric Brownian motion dX = sigma X dW: E[X] = x0, E[X^2] = x0^2 exp(sigma^2 t).
    # (Read as Stratonovich it would give E[X] = exp(sigma^2 t / 2) = 1.051: 7 sd away.)
    sigma, t_end, n = 0.1, 10.0, 2000
    net = isolated(Linear1(gamma=0.0, x0=1.0), n, mf.MultiplicativeNoise(sigma))
    x = mf.simulate(net, duration=t_end, dt=0.05, key=getkey(), save_every=t_end)["x"][-1]
    var = sigma**2 * t_end
    assert float(jnp.mean(x)) == pytest.approx(1.0, abs=4 * np.sqrt(np.expm1(var) / n))
    sd_x2 = np.sqrt((np.exp(6 * var) - np.exp(2 * var)) / n)
    assert float(jnp.mean(x**2)) == pytest.approx(np.exp(var), abs=4 * sd_x2)


def test_ou_noise_variance_and_correlation_time(getkey):
    # With x' = eta and Euler, x_{n+1} - x_n = dt * eta_n exactly: read eta off x.
    sigma, tau, dt = 0.4, 5.0, 0.1
    net = isolated(Linear1(gamma=0.0), 16, mf.OrnsteinUhlenbeckNoise(sigma, tau))
    x = np.asarray(mf.simulate(net, duration=3000.0, dt=dt, key=getkey(), solver=mf.Euler())["x"])
    eta = np.diff(x, axis=0) / dt
    assert eta.var() == pytest.approx(sigma**2, rel=0.06)
    lag = round(tau / dt)
    corr = np.mean(eta[:-lag] * eta[lag:]) / eta.var()
    assert corr == pytest.approx(np.exp(-1), abs=0.05)


@pytest.mark.slow
def test_ou_input_noise_drives_linear_node(getkey):
    # x' = -gamma x + eta, eta OU(sigma, tau): Var x = sigma^2 / (gamma (gamma + 1/tau)).
    gamma, sigma, tau = 0.5, 0.3, 2.0
    net = isolated(Linear1(gamma=gamma), 32, mf.OrnsteinUhlenbeckNoise(sigma, tau))
    x = mf.simulate(net, duration=2000.0, dt=0.1, key=getkey(), transient=20.0, save_every=0.5)["x"]
    assert float(jnp.var(x)) == pytest.approx(sigma**2 / (gamma * (gamma + 1 / tau)), rel=0.06)


@pytest.fixture(scope="module")
def noisy_delayed_network():
    rng = np.random.default_rng(0)
    n = 6
    w = rng.uniform(size=(n, n))
    lengths = rng.uniform(5, 40, (n, n))
    conn = mf.Connectome(w, lengths, diagonal="zero")
    return conn


@pytest.mark.parametrize(
    "noise",
    [
        mf.AdditiveNoise(0.05),
        pytest.param(mf.OrnsteinUhlenbeckNoise(0.1, 3.0), marks=pytest.mark.slow),
    ],
)
@pytest.mark.parametrize("solver", [mf.Heun(), pytest.param(mf.RK4(), marks=pytest.mark.slow)])
def test_chunked_run_is_bit_identical(noisy_delayed_network, noise, solver):
    net = mf.Network(mf.Hopf(a=0.1), noisy_delayed_network, k=0.2, speed=5.0, noise=noise)
    key = jr.key(42)
    whole = mf.simulate(net, duration=40.0, dt=0.1, key=key, solver=solver)
    first = mf.simulate(net, duration=15.0, dt=0.1, key=key, solver=solver)
    second = mf.simulate(
        net,
        duration=25.0,
        dt=0.1,
        key=key,
        solver=solver,
        initial_state=first.final_state,
        history=first.final_history,
    )
    np.testing.assert_array_equal(np.concatenate([first.ys, second.ys]), whole.ys)
    np.testing.assert_array_equal(np.concatenate([first.ts, second.ts]), whole.ts)
    np.testing.assert_array_equal(second.final_state, whole.final_state)


def test_reproducible_and_key_dependent(noisy_delayed_network):
    net = mf.Network(
        mf.Hopf(), noisy_delayed_network, k=0.2, speed=5.0, noise=mf.AdditiveNoise(0.05)
    )
    a = mf.simulate(net, duration=5.0, dt=0.1, key=jr.key(1))
    b = mf.simulate(net, duration=5.0, dt=0.1, key=jr.key(1))
    c = mf.simulate(net, duration=5.0, dt=0.1, key=jr.key(2))
    np.testing.assert_array_equal(a.ys, b.ys)
    assert not np.allclose(a.ys, c.ys)


def test_noiseless_hopf_oscillates_at_analytic_amplitude_and_frequency():
    # brainmass's HopfStep starts at its fixed point, so a noiseless run is zero. Ours
    # starts off it and settles on the limit cycle: amplitude sqrt(a / beta), frequency omega.
    a, beta, omega = np.array([0.25, 1.0, 0.5]), np.array([1.0, 1.0, 2.0]), 2 * np.pi * 0.02
    net = isolated(mf.Hopf(a=a, beta=beta, omega=omega), 3)
    traj = mf.simulate(net, duration=400.0, dt=0.05, transient=200.0, solver=mf.RK4())
    x, y = np.asarray(traj["x"]), np.asarray(traj["y"])
    np.testing.assert_allclose(np.sqrt(x**2 + y**2).mean(0), np.sqrt(a / beta), rtol=1e-4)
    phase = np.unwrap(np.arctan2(y, x), axis=0)
    freq = (phase[-1] - phase[0]) / (traj.ts[-1] - traj.ts[0])
    np.testing.assert_allclose(freq, omega, rtol=1e-4)


@pytest.mark.slow
def test_saving_options():
    net = isolated(mf.Hopf(), 2)
    traj = mf.simulate(net, duration=10.0, dt=0.1, transient=4.0, save_every=0.5, variables="x")
    np.testing.assert_allclose(traj.ts, 4.5 + 0.5 * np.arange(12))
    assert traj.ys.shape == (12, 1, 2) and traj.variables == ("x",)
    full = mf.simulate(net, duration=10.0, dt=0.1)
    np.testing.assert_array_equal(traj["x"], full["x"][44::5])
    picked = mf.simulate(net, duration=10.0, dt=0.1, ts=[0.3, 7.0, 10.0])
    np.testing.assert_array_equal(picked.ys, np.asarray(full.ys)[[2, 69, 99]])
    with pytest.raises(KeyError, match="saved"):
        traj["y"]


@pytest.mark.slow
def test_external_inputs_array_and_function():
    net = isolated(Linear1(gamma=0.0), 2)
    # Constant drive 0.5 into region 1 for 10 ms, as an array and as a function.
    drive = np.zeros((100, 2))
    drive[:, 1] = 0.5
    a = mf.simulate(net, duration=10.0, dt=0.1, inputs={"x": drive})
    b = mf.simulate(net, duration=10.0, dt=0.1, inputs={"x": lambda t: jnp.array([0.0, 0.5])})
    np.testing.assert_allclose(a["x"][-1], [0.0, 5.0], rtol=1e-12)
    np.testing.assert_allclose(b["x"][-1], [0.0, 5.0], rtol=1e-12)
    # A time-dependent input, x' = cos(t): Heun integrates it to second order.
    c = mf.simulate(net, duration=10.0, dt=0.01, inputs={"x": jnp.cos})
    np.testing.assert_allclose(c["x"][-1], np.sin(10.0), atol=1e-4)


@pytest.mark.slow
def test_plain_diffrax_solver_for_delay_free_network():
    import diffrax

    net = isolated(mf.Hopf(a=0.25), 2)
    adaptive = mf.simulate(net, duration=50.0, dt=0.1, solver=diffrax.Tsit5())
    ours = mf.simulate(net, duration=50.0, dt=0.1, solver=mf.RK4())
    np.testing.assert_allclose(adaptive.ys, ours.ys, atol=1e-6)


# --- bad input ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def delayed():
    conn = mf.Connectome(np.ones((2, 2)), 10 * np.ones((2, 2)), diagonal="zero")
    return mf.Network(mf.Hopf(), conn, k=0.1, speed=10.0)


def test_errors(delayed):
    with pytest.raises(ValueError, match="whole number of steps"):
        mf.simulate(delayed, duration=10.05, dt=0.1)
    with pytest.raises(ValueError, match="transient"):
        mf.simulate(delayed, duration=10.0, dt=0.1, transient=10.0)
    with pytest.raises(ValueError, match="dt"):
        mf.simulate(delayed, duration=10.0, dt=-0.1)
    with pytest.raises(TypeError, match="Python number"):
        mf.simulate(delayed, duration=jnp.array([10.0]), dt=0.1)
    with pytest.raises(ValueError, match="initial_state"):
        mf.simulate(delayed, duration=1.0, dt=0.1, initial_state=np.zeros((2, 3)))
    with pytest.raises(ValueError, match="no state variable 'z'"):
        mf.simulate(delayed, duration=1.0, dt=0.1, variables=("z",))
    with pytest.raises(ValueError, match="inputs"):
        mf.simulate(delayed, duration=1.0, dt=0.1, inputs={"x": np.zeros((7, 2))})
    with pytest.raises(ValueError, match="save_every"):
        mf.simulate(delayed, duration=1.0, dt=0.1, save_every=0.3)
    with pytest.raises(ValueError, match="max_delay"):
        short = mf.Network(delayed.node, delayed.connectome, k=0.1, speed=10.0, max_delay=0.5)
        mf.simulate(short, duration=1.0, dt=0.1)


def test_history_mismatch_and_missing_key(delayed):
    first = mf.simulate(delayed, duration=1.0, dt=0.1)
    with pytest.raises(ValueError, match="history"):
        mf.simulate(
            delayed,
            duration=1.0,
            dt=0.05,
            initial_state=first.final_state,
            history=first.final_history,
        )
    noisy = mf.Network(
        delayed.node, delayed.connectome, k=0.1, speed=10.0, noise=mf.AdditiveNoise(0.1)
    )
    with pytest.raises(ValueError, match="key"):
        mf.simulate(noisy, duration=1.0, dt=0.1)


def test_dt_longer_than_shortest_delay_warns():
    conn = mf.Connectome(np.ones((2, 2)), 0.3 * np.ones((2, 2)), diagonal="zero")
    net = mf.Network(mf.Hopf(), conn, speed=10.0)  # 0.03 ms delays
    with pytest.warns(UserWarning, match="rounded"):
        mf.simulate(net, duration=1.0, dt=0.1)
    with pytest.raises(ValueError, match="shorter than one step"):
        mf.simulate(net, duration=1.0, dt=0.1, solver=mf.Heun(interpolate_delays=True))


def test_divergence_reports_time_and_region():
    net = isolated(Blowup(), 2)
    with pytest.raises(FloatingPointError, match=r"t = 1\.\d+ ms in region 0"):
        mf.simulate(net, duration=3.0, dt=0.01)


def _small_delayed(k, speed=5.0, **kwargs):
    # NumPy inputs: they stay concrete when this runs under jit (a `jnp.array` made there
    # would be a tracer, and then `max_delay` would have to be given).
    conn = mf.Connectome(
        np.array([[0.0, 1.0, 0.5], [1.0, 0.0, 0.2], [0.5, 0.2, 0.0]]),
        lengths=np.array([[0.0, 10.0, 20.0], [10.0, 0.0, 15.0], [20.0, 15.0, 0.0]]),
    )
    return mf.Network(mf.Hopf(a=0.2, x0=0.4), conn, k=k, speed=speed, **kwargs)


@pytest.mark.slow
def test_network_built_inside_jit_with_constant_speed():
    # Since JAX 0.4.36 `jnp.asarray(5.0)` under jit is a tracer; the constructors evaluate
    # constants eagerly, so the delay bounds are read off a constant speed inside jit too.
    def run(k):
        return mf.simulate(_small_delayed(k), duration=20.0, dt=0.1)["x"]

    inside = jax.jit(run)(0.3)
    np.testing.assert_array_equal(inside, jax.jit(lambda: run(0.3))())
    np.testing.assert_allclose(inside, run(0.3), rtol=0, atol=1e-13)
    assert jax.jit(lambda: _small_delayed(0.3).max_delay)() == pytest.approx(4.0)

    # Constant arguments are still checked inside jit.
    def bad():
        return mf.Hopf(beta=-1.0).beta

    with pytest.raises(ValueError, match="beta"):
        jax.jit(bad)()


def test_simulate_unwraps_constraints():
    plain = mf.simulate(_small_delayed(0.3), duration=20.0, dt=0.1)["x"]
    constrained = _small_delayed(
        mf.Bounded(0.3, 0.0, 1.0), speed=mf.Positive(5.0), max_delay=4.0, min_delay=2.0
    )
    np.testing.assert_allclose(
        mf.simulate(constrained, duration=20.0, dt=0.1)["x"], plain, rtol=0, atol=1e-12
    )
    # Unwrapping twice is harmless.
    again = mf.simulate(mf.unwrap(constrained), duration=20.0, dt=0.1)["x"]
    np.testing.assert_allclose(again, plain, rtol=0, atol=1e-12)


def test_default_adjoint_follows_the_differentiation_mode():
    # Forward mode shows JVPTracers (also inside jit, and inside or around vmap); reverse
    # mode shows LinearizeTracers: the checkpointed reverse adjoint is kept there.
    from massfit._solve._simulate import _forward_differentiated

    seen = []

    def record(x):
        seen.append(_forward_differentiated({"a": x}, None))
        return x

    forward, reverse = True, False
    record(1.0)
    jax.grad(record)(1.0)
    jax.jacfwd(record)(1.0)
    jax.jit(jax.jacfwd(record))(1.0)
    jax.jacfwd(jax.vmap(record))(jnp.ones(2))
    jax.vmap(jax.jacfwd(record))(jnp.ones(2))
    jax.vmap(record)(jnp.ones(2))
    assert seen == [reverse, reverse, forward, forward, forward, forward, reverse]


def test_default_checkpoints_bounded_by_memory():
    # diffrax's default (~sqrt(2 n) checkpoints) while the copies fit the budget; fewer when
    # the carry (here a large observer sample buffer) would make them exceed it.
    from massfit._solve._simulate import _checkpoints, CHECKPOINT_BUDGET_BYTES

    small = jnp.zeros(100, jnp.float32)
    assert _checkpoints(12500, small) == 157  # the least c with 2 * 12500 < (c + 1)(c + 2)
    assert _checkpoints(1, small) == 1
    big = jnp.zeros(CHECKPOINT_BUDGET_BYTES // 40, jnp.float32)  # a tenth of the budget
    assert _checkpoints(12500, (small, big)) == 9


@pytest.mark.slow
def test_jacfwd_through_simulate_without_adjoint():
    # Forward mode used to fail ("can't apply forward-mode autodiff (jvp) to a custom_vjp
    # function"): simulate now picks diffrax.ForwardMode() when it is forward-differentiated.
    def loss(k):
        x = mf.simulate(_small_delayed(k), duration=10.0, dt=0.1)["x"]
        return jnp.mean(x**2)

    k = 0.3
    h = 1e-5
    central = (loss(k + h) - loss(k - h)) / (2 * h)
    forward = jax.jacfwd(loss)(k)
    np.testing.assert_allclose(forward, central, rtol=1e-6)
    np.testing.assert_allclose(jax.jit(jax.jacfwd(loss))(k), forward, rtol=1e-12)
    np.testing.assert_allclose(jax.grad(loss)(k), forward, rtol=1e-10)
