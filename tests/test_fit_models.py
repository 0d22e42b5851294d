"""Small models and functions with known optima, shared by the fitting tests, and checks that
they are what they claim to be."""

from typing import Any

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from massfit._params import Bounded, Positive, unwrap


class Logistic(eqx.Module):
    """y(t) = height / (1 + exp(-rate (t - mid)))."""

    rate: Any
    mid: Any
    height: Any = 2.0

    def __call__(self, t):
        return self.height / (1 + jnp.exp(-self.rate * (t - self.mid)))


TIMES = jnp.linspace(0.0, 10.0, 41)
TRUE_RATE, TRUE_MID = 1.3, 4.0
DATA = Logistic(jnp.array(TRUE_RATE), jnp.array(TRUE_MID))(TIMES)


def logistic_start(rate=0.6, mid=6.0) -> Logistic:
    """The logistic model with both parameters bounded, away from the truth."""
    return Logistic(rate=Bounded(rate, 0.05, 5.0), mid=Bounded(mid, 0.0, 10.0))


def logistic_mse(model) -> jax.Array:
    return jnp.mean((model(TIMES) - DATA) ** 2)


class Point(eqx.Module):
    """A bare parameter vector, for the standard test functions."""

    x: Any


def sphere(model) -> jax.Array:
    return jnp.sum(model.x**2)


def rosenbrock(model) -> jax.Array:
    x = model.x
    return jnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def fc_corr_score(prediction, target) -> jax.Array:
    """A score (to be maximised), marked as one as massfit's own objectives are."""
    return jnp.corrcoef(prediction, target)[0, 1]


fc_corr_score.is_score = True


def count_calls(fn):
    """`fn`, and a list that grows by one at each call: under `jit`, at each trace."""
    calls = []

    def counted(*args):
        calls.append(1)
        return fn(*args)

    return counted, calls


class DampedOscillator(eqx.Module):
    """x'' + 2 zeta omega x' + omega^2 x = 0, x(0) = 1, x'(0) = 0, solved by diffrax."""

    zeta: Any
    omega: Any

    def solve(self, ts, adjoint=diffrax.RecursiveCheckpointAdjoint()):
        def field(t, y, args):
            x, v = y
            return jnp.stack([v, -2 * self.zeta * self.omega * v - self.omega**2 * x])

        sol = diffrax.diffeqsolve(
            diffrax.ODETerm(field),
            diffrax.Tsit5(),
            t0=0.0,
            t1=ts[-1],
            dt0=0.05,
            y0=jnp.array([1.0, 0.0]),
            saveat=diffrax.SaveAt(ts=ts),
            stepsize_controller=diffrax.ConstantStepSize(),
            adjoint=adjoint,
        )
        return sol.ys[:, 0]

    def closed_form(self, ts):
        decay = self.zeta * self.omega
        damped = self.omega * jnp.sqrt(1 - self.zeta**2)
        return jnp.exp(-decay * ts) * (jnp.cos(damped * ts) + decay / damped * jnp.sin(damped * ts))


OSC_TIMES = jnp.linspace(0.0, 10.0, 51)
TRUE_ZETA, TRUE_OMEGA = 0.2, 2.0


def test_oscillator_solve_matches_closed_form():
    model = DampedOscillator(jnp.array(TRUE_ZETA), jnp.array(TRUE_OMEGA))
    np.testing.assert_allclose(
        model.solve(OSC_TIMES), model.closed_form(OSC_TIMES), rtol=0, atol=1e-6
    )


def test_known_optima():
    assert float(logistic_mse(Logistic(jnp.array(TRUE_RATE), jnp.array(TRUE_MID)))) == 0.0
    assert float(logistic_mse(unwrap(logistic_start()))) > 1e-2
    assert float(rosenbrock(Point(jnp.ones(4)))) == 0.0
    grad = jax.grad(lambda x: rosenbrock(Point(x)))(jnp.ones(4))
    np.testing.assert_array_equal(grad, 0.0)
    assert float(rosenbrock(Point(jnp.zeros(4)))) == 3.0
    # The constrained starting values are what they say.
    start = unwrap(Logistic(Bounded(0.6, 0.05, 5.0), Positive(6.0)))
    np.testing.assert_allclose([start.rate, start.mid], [0.6, 6.0], rtol=1e-12)
