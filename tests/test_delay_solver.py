"""The delay solvers: convergence order, exact delay propagation, agreement with an independent
reference, and behaviour under jit / vmap / grad."""

import math
from typing import ClassVar

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import massfit as mf
from massfit._models import param

from .helpers import finite_difference


class Linear1(mf.AbstractNodeModel):
    """x' = -gamma x + input: a test node whose responses are known in closed form."""

    gamma: jax.Array = param(0.0)
    x0: jax.Array = param(1.0)
    variables: ClassVar = ("x",)
    coupled_variables: ClassVar = ("x",)

    def vector_field(self, t, state, inputs):
        return -self.gamma * state + inputs

    def initial_state(self, n_regions):
        return jnp.full((1, n_regions), self.x0)


def _exact_delayed_decay(t: float) -> float:
    # y'(t) = -y(t - 1) + cos(t), y = 1 for t <= 0, solved by the method of steps.
    if t <= 0:
        return 1.0
    if t <= 1:
        return 1 - t + math.sin(t)
    assert t <= 2
    return -2 * (t - 1) + (t**2 - 1) / 2 + math.cos(t - 1) - 1 + math.sin(t)


def _delayed_decay_network():
    conn = mf.Connectome([[1.0]], [[1.0]], diagonal="keep")
    return mf.Network(Linear1(), conn, mf.Linear(), k=-1.0, speed=1.0)


@pytest.mark.parametrize(
    "solver, order, dts",
    [
        # Heun on and off the step grid by default; Euler and RK4 in the slow suite.
        pytest.param(mf.Euler(), 1, [1 / 40, 1 / 80, 1 / 160], marks=pytest.mark.slow),
        (mf.Heun(), 2, [1 / 10, 1 / 20, 1 / 40]),
        pytest.param(mf.RK4(), 4, [1 / 5, 1 / 10, 1 / 20], marks=pytest.mark.slow),
        # The 1 ms delay off the step grid (an odd number of steps in 2 ms), read by
        # interpolation: linear for Euler/Heun, cubic Hermite for RK4.
        (mf.Heun(interpolate_delays=True), 2, [2 / 9, 2 / 19, 2 / 39]),
        pytest.param(
            mf.RK4(interpolate_delays=True), 4, [2 / 9, 2 / 19, 2 / 39], marks=pytest.mark.slow
        ),
        pytest.param(
            mf.Euler(interpolate_delays=True), 1, [2 / 39, 2 / 79, 2 / 159],
            marks=pytest.mark.slow,
        ),
    ],
)
def test_convergence_order_delayed_decay(solver, order, dts):
    net = _delayed_decay_network()
    exact = _exact_delayed_decay(2.0)
    errors = []
    for dt in dts:
        traj = mf.simulate(net, duration=2.0, dt=dt, solver=solver, save_every=2.0,
                           inputs={"x": jnp.cos})
        errors.append(abs(float(traj["x"][-1, 0]) - exact))
    rates = np.log(np.divide(errors[:-1], errors[1:])) / np.log(np.divide(dts[:-1], dts[1:]))
    assert np.all(np.abs(rates - order) < 0.25), (errors, rates)


def test_method_of_steps_reference_itself():
    # The closed form solves the DDE: check y'(t) = -y(t - 1) + cos t by finite differences.
    for t in [0.3, 0.9, 1.4, 1.8]:
        h = 1e-6
        deriv = (_exact_delayed_decay(t + h) - _exact_delayed_decay(t - h)) / (2 * h)
        assert deriv == pytest.approx(-_exact_delayed_decay(t - 1) + math.cos(t), abs=1e-6)


@pytest.mark.parametrize("solver, last_stage", [(mf.Euler(), 0), (mf.Heun(), 1), (mf.RK4(), 1)])
def test_pulse_arrives_exactly_lag_steps_later(solver, last_stage):
    # Region 0 is kicked at step 0; region 1 integrates region 0's delayed activity. The
    # delayed signal reaches region 1 exactly `lag` steps after region 0 moved: one step later
    # still for Euler, whose only stage is at the start of a step, while Heun's and RK4's last
    # stage at the end of the step already sees it.
    dt, lag = 0.1, 7
    w = np.array([[0.0, 0.0], [1.0, 0.0]])  # from 0 to 1
    lengths = np.array([[0.0, 0.0], [lag * dt * 2.0, 0.0]])  # speed 2 mm/ms
    net = mf.Network(Linear1(x0=0.0), mf.Connectome(w, lengths), mf.Linear(), k=1.0, speed=2.0)
    kick = np.zeros((40, 2))
    kick[0, 0] = 1.0
    traj = mf.simulate(net, duration=4.0, dt=dt, solver=solver, inputs={"x": kick})
    x = np.asarray(traj["x"])  # sample s is step s + 1
    first0 = np.flatnonzero(x[:, 0])[0]
    first1 = np.flatnonzero(x[:, 1])[0]
    assert first1 - first0 == lag + 1 - last_stage
    # And the amount arriving is exactly what left: x1 gains dt * x0 (Euler) or dt / 2 * x0
    # (Heun's corrector weight). RK4's mid stages interpolate, so it has no such simple form.
    if not isinstance(solver, mf.RK4):
        weight = 1.0 if isinstance(solver, mf.Euler) else 0.5
        np.testing.assert_allclose(x[first1, 1], weight * dt * x[first0, 0], rtol=1e-12)


def _numpy_heun_hopf(a, omega, beta, k, w, lags, x0, y0, dt, n_steps):
    """An independent delayed-Heun Hopf network with diffusive coupling on x, in numpy."""
    n = len(x0)
    max_lag = int(lags.max())
    xs = [np.array(x0, float)] * (max_lag + 1)  # constant past
    x, y = np.array(x0, float), np.array(y0, float)
    out = []

    def f(x, y, delayed_x):
        c = k * ((w * delayed_x).sum(1) - w.sum(1) * x)
        r = a - beta * (x**2 + y**2)
        return r * x - omega * y + c, r * y + omega * x

    cols = np.arange(n)[None, :]
    for _ in range(n_steps):
        past = np.stack(xs)  # (time, N); last row is the current step
        d0 = past[-1 - lags, cols]
        dx0, dy0 = f(x, y, d0)
        xp, yp = x + dt * dx0, y + dt * dy0
        past1 = np.concatenate([past, xp[None]])
        d1 = past1[-1 - lags, cols]
        dx1, dy1 = f(xp, yp, d1)
        x, y = x + dt / 2 * (dx0 + dx1), y + dt / 2 * (dy0 + dy1)
        xs.append(x)
        out.append(np.stack([x, y]))
    return np.stack(out)


@pytest.fixture(scope="module")
def small_network():
    rng = np.random.default_rng(3)
    n = 5
    w = rng.uniform(0, 1, (n, n)) * (rng.uniform(size=(n, n)) < 0.7)
    np.fill_diagonal(w, 0.4)  # a self-connection of zero length: zero delay
    lengths = rng.uniform(3.0, 30.0, (n, n))
    np.fill_diagonal(lengths, 0.0)
    node = mf.Hopf(a=rng.uniform(-0.2, 0.3, n), omega=2 * np.pi * 0.04, beta=1.0,
                   x0=rng.uniform(-1, 1, n), y0=rng.uniform(-1, 1, n))
    return mf.Network(node, mf.Connectome(w, lengths), k=0.3, speed=6.0)


def test_matches_independent_reference(small_network):
    net, dt, n_steps = small_network, 0.1, 300
    traj = mf.simulate(net, duration=n_steps * dt, dt=dt)
    lags = np.round(np.asarray(net.connectome.lengths) / 6.0 / dt).astype(int)
    node = net.node
    ref = _numpy_heun_hopf(np.asarray(node.a), float(node.omega), 1.0, 0.3,
                           np.asarray(net.connectome.weights), lags, np.asarray(node.x0),
                           np.asarray(node.y0), dt, n_steps)
    np.testing.assert_allclose(np.asarray(traj.ys), ref, rtol=1e-10, atol=1e-12)
    # Saving every 10th step gives exactly those samples.
    coarse = mf.simulate(net, duration=n_steps * dt, dt=dt, save_every=1.0)
    np.testing.assert_array_equal(np.asarray(coarse.ys), np.asarray(traj.ys)[9::10])


@pytest.mark.slow
def test_jit_vmap_grad_agree(small_network):
    net = small_network

    def loss(k, adjoint=None):
        m = eqx.tree_at(lambda n: n.k, net, k)
        return jnp.mean(mf.simulate(m, duration=10.0, dt=0.1, adjoint=adjoint)["x"] ** 2)

    ks = jnp.array([0.1, 0.3, 0.5])
    eager = jnp.stack([loss(k) for k in ks])
    np.testing.assert_allclose(jax.jit(jax.vmap(loss))(ks), eager, rtol=1e-12)
    grad = jax.grad(loss)(jnp.asarray(0.3))
    fd = finite_difference(lambda k: loss(k), np.asarray(0.3))
    np.testing.assert_allclose(grad, fd, rtol=1e-5)
    fwd = jax.jacfwd(lambda k: loss(k, diffrax.ForwardMode()))(jnp.asarray(0.3))
    np.testing.assert_allclose(fwd, grad, rtol=1e-9)


@pytest.mark.slow
def test_grad_per_region_parameter(small_network):
    net = small_network

    def loss(a):
        m = eqx.tree_at(lambda n: n.node.a, net, a)
        return jnp.mean(mf.simulate(m, duration=10.0, dt=0.1)["x"] ** 2)

    a0 = np.asarray(net.node.a)
    np.testing.assert_allclose(jax.grad(loss)(jnp.asarray(a0)),
                               finite_difference(loss, a0), rtol=1e-5, atol=1e-9)


@pytest.mark.slow
def test_grad_speed_interpolated(small_network):
    s = small_network
    net = mf.Network(s.node, s.connectome, k=s.k, speed=s.speed, max_delay=10.0)
    solver = mf.Heun(interpolate_delays=True)

    def loss(speed):
        m = eqx.tree_at(lambda n: n.speed, net, speed)
        return jnp.mean(mf.simulate(m, duration=20.0, dt=0.1, solver=solver)["x"] ** 2)

    grad = jax.grad(loss)(jnp.asarray(6.0))
    np.testing.assert_allclose(grad, finite_difference(loss, np.asarray(6.0)), rtol=1e-4)
    assert abs(float(grad)) > 1e-6  # the interpolated read really depends on speed


@pytest.mark.slow
def test_network_inside_user_module(small_network):
    class Wrapper(eqx.Module):
        net: mf.Network
        gain: jax.Array

        def __call__(self):
            x = mf.simulate(self.net, duration=5.0, dt=0.1)["x"]
            return self.gain * jnp.mean(x**2)

    model = Wrapper(small_network, jnp.asarray(2.0))
    value = eqx.filter_jit(lambda m: m())(model)
    np.testing.assert_allclose(value, model(), rtol=1e-12)
    grads = eqx.filter_grad(lambda m: m())(model)
    assert grads.net.k.shape == () and jnp.isfinite(grads.net.k)
    # vmap over a batch of whole models (every array stacked), as a sweep would.
    ks = jnp.array([0.1, 0.2])
    batch = jax.vmap(lambda k: eqx.tree_at(lambda m: m.net.k, model, k))(ks)
    assert batch.net.connectome.weights.shape == (2, 5, 5)
    out = eqx.filter_vmap(lambda m: m())(batch)
    single = eqx.tree_at(lambda m: m.net.k, model, jnp.asarray(0.2))()
    np.testing.assert_allclose(out[1], single, rtol=1e-12)
