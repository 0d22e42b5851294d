"""Coupling functions against explicit-loop numpy references of TVB's definitions, and their
analytic special cases."""

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from massfit._coupling import (
    Diffusive,
    KuramotoSine,
    Linear,
    Sigmoidal,
    SigmoidalJansenRit,
    Tanh,
)
from massfit._models import JansenRit, Kuramoto

from .helpers import finite_difference


def np_reference(coupling, k, w, delayed, current):
    """One afferent at a time: c_i = post(sum_j w_ij pre(x_j(t - d_ij), x_i(t)))."""
    p = {name: float(value) for name, value in vars(coupling).items()}
    n_c, n, _ = delayed.shape
    if isinstance(coupling, SigmoidalJansenRit):
        out = np.zeros((2, n))
        for i in range(n):
            for j in range(n):
                v = delayed[0, i, j] - delayed[1, i, j]
                rate = p["cmin"] + (p["cmax"] - p["cmin"]) / (
                    1 + np.exp(p["r"] * (p["midpoint"] - v))
                )
                out[0, i] += k * w[i, j] * rate
        return out
    out = np.zeros((n_c, n))
    for c in range(n_c):
        for i in range(n):
            total = 0.0
            for j in range(n):
                x_j, x_i = delayed[c, i, j], current[c, i]
                if isinstance(coupling, Diffusive):
                    total += w[i, j] * (x_j - x_i)
                elif isinstance(coupling, (Linear, Sigmoidal)):
                    total += w[i, j] * x_j
                elif isinstance(coupling, Tanh):
                    total += (
                        w[i, j]
                        * p["a"]
                        * (1 + np.tanh((p["b"] * x_j - p["midpoint"]) / p["sigma"]))
                    )
                elif isinstance(coupling, KuramotoSine):
                    total += w[i, j] * np.sin(x_j - x_i)
            if isinstance(coupling, Linear):
                out[c, i] = k * total + p["bias"]
            elif isinstance(coupling, Sigmoidal):
                out[c, i] = p["cmin"] + (p["cmax"] - p["cmin"]) / (
                    1 + np.exp(-p["a"] * (k * total - p["midpoint"]) / p["sigma"])
                )
            elif isinstance(coupling, KuramotoSine):
                out[c, i] = k / n * total
            else:
                out[c, i] = k * total
    return out


COUPLINGS = {
    "Diffusive": (Diffusive(), 3),
    "Linear": (Linear(bias=0.3), 3),
    "Sigmoidal": (Sigmoidal(cmin=-0.5, cmax=2.0, midpoint=0.4, a=1.7, sigma=1.3), 2),
    "Tanh": (Tanh(a=0.8, b=1.5, midpoint=0.2, sigma=0.7), 2),
    "SigmoidalJansenRit": (SigmoidalJansenRit(cmin=0.001, cmax=0.006, midpoint=5.0, r=0.6), 2),
    "KuramotoSine": (KuramotoSine(), 1),
}


def _random_inputs(n_c, n, seed=0, scale=1.0):
    rng = np.random.default_rng(seed)
    w = rng.uniform(0, 1, (n, n))
    delayed = scale * rng.normal(size=(n_c, n, n))
    current = scale * rng.normal(size=(n_c, n))
    return w, delayed, current


def _call(coupling, k, w, delayed, current):
    return coupling(jnp.asarray(k), jnp.asarray(w), jnp.asarray(delayed), jnp.asarray(current))


@pytest.mark.parametrize("name", list(COUPLINGS))
def test_matches_reference(name):
    coupling, n_c = COUPLINGS[name]
    scale = 5.0 if name == "SigmoidalJansenRit" else 1.0  # potentials of a few mV
    w, delayed, current = _random_inputs(n_c, 6, scale=scale)
    out = _call(coupling, 0.7, w, delayed, current)
    assert out.shape == (n_c, 6)
    np.testing.assert_allclose(out, np_reference(coupling, 0.7, w, delayed, current), rtol=1e-12)


@pytest.mark.parametrize("name", list(COUPLINGS))
def test_grad_and_vmap(name):
    coupling, n_c = COUPLINGS[name]
    w, delayed, current = _random_inputs(n_c, 4, seed=1)
    fn = lambda k: jnp.sum(_call(coupling, k, w, delayed, current) ** 2)
    k = jnp.asarray(0.9)
    np.testing.assert_allclose(jax.grad(fn)(k), finite_difference(fn, k), rtol=1e-6)
    ks = jnp.asarray([0.1, 0.5, 2.0])
    batched = jax.vmap(lambda k: _call(coupling, k, w, delayed, current))(ks)
    np.testing.assert_allclose(
        batched, np.stack([_call(coupling, k, w, delayed, current) for k in ks])
    )


def test_diffusive_is_zero_when_delayed_equals_current():
    w, _, current = _random_inputs(2, 5, seed=2)
    # Every afferent of region i delivers region i's own current value.
    delayed = np.broadcast_to(current[:, :, None], (2, 5, 5))
    np.testing.assert_allclose(_call(Diffusive(), 1.3, w, delayed, current), 0.0, atol=1e-15)


def test_kuramoto_is_zero_when_synchronised():
    w, _, _ = _random_inputs(1, 5, seed=3)
    theta = np.full((1, 5), 0.7)
    # In phase, also when some phases differ by whole turns.
    delayed = np.broadcast_to(theta[:, None, :] + 2 * np.pi * np.arange(5), (1, 5, 5))
    np.testing.assert_allclose(_call(KuramotoSine(), 2.0, w, delayed, theta), 0.0, atol=1e-13)


def test_kuramoto_two_oscillators_lock_at_the_analytic_phase_difference():
    # theta_1' = w1 + k/2 sin(theta_2 - theta_1) and vice versa: the difference phi obeys
    # phi' = (w2 - w1) - k sin(phi), which locks at arcsin((w2 - w1) / k).
    omega, k = np.array([0.05, 0.08]), 0.1
    node, coupling = Kuramoto(omega=omega, theta0=np.array([0.0, 2.0])), KuramotoSine()
    weights = jnp.asarray([[0.0, 1.0], [1.0, 0.0]])

    def field(t, state, args):
        delayed = jnp.broadcast_to(state[:, None, :], (1, 2, 2))  # no delays
        return node.vector_field(t, state, coupling(jnp.asarray(k), weights, delayed, state))

    sol = diffrax.diffeqsolve(
        diffrax.ODETerm(field),
        diffrax.Tsit5(),
        0.0,
        300.0,
        0.1,
        node.initial_state(2),
        stepsize_controller=diffrax.PIDController(rtol=1e-10, atol=1e-12),
    )
    theta = np.asarray(sol.ys[-1, 0])
    np.testing.assert_allclose(theta[1] - theta[0], np.arcsin((omega[1] - omega[0]) / k), rtol=1e-7)


def test_sigmoidal_limits_and_midpoint():
    coupling = Sigmoidal(cmin=-0.5, cmax=2.0, midpoint=0.4, a=1.0, sigma=0.1)
    w = np.ones((1, 1))
    at = lambda x: float(_call(coupling, 2.0, w, np.full((1, 1, 1), x), np.zeros((1, 1)))[0, 0])
    assert at(0.2) == pytest.approx(0.75, rel=1e-14)  # k * x = midpoint: half-way
    assert at(50.0) == pytest.approx(2.0, rel=1e-12)
    assert at(-50.0) == pytest.approx(-0.5, rel=1e-12)


def test_tanh_limits():
    coupling = Tanh(a=0.8, b=2.0, midpoint=1.0, sigma=0.5)
    w = np.full((1, 3), 0.5)
    at = lambda x: _call(coupling, 1.0, w, np.full((1, 1, 3), x), np.zeros((1, 1)))[0, 0]
    assert at(0.5) == pytest.approx(3 * 0.5 * 0.8, rel=1e-14)  # b x = midpoint: a per afferent
    assert at(100.0) == pytest.approx(3 * 0.5 * 1.6, rel=1e-14)
    assert at(-100.0) == pytest.approx(0.0, abs=1e-14)


def test_sigmoidal_jansen_rit_is_the_jansen_rit_sigmoid_of_y1_minus_y2():
    w, delayed, current = _random_inputs(2, 5, seed=4, scale=5.0)
    out = _call(SigmoidalJansenRit(), 1.5, w, delayed, current)
    rates = JansenRit().sigmoid(jnp.asarray(delayed[0] - delayed[1]))
    np.testing.assert_allclose(out[0], 1.5 * np.sum(w * np.asarray(rates), axis=1), rtol=1e-12)
    np.testing.assert_array_equal(out[1], 0.0)
    # Only the difference y1 - y2 matters.
    shifted = _call(SigmoidalJansenRit(), 1.5, w, delayed + 3.0, current)
    np.testing.assert_allclose(shifted, out, rtol=1e-12)


@pytest.mark.parametrize("n_c", [1, 3])
def test_sigmoidal_jansen_rit_needs_two_coupled_variables(n_c):
    w, delayed, current = _random_inputs(n_c, 3)
    with pytest.raises(ValueError, match=rf"couple exactly two.*got {n_c}"):
        _call(SigmoidalJansenRit(), 1.0, w, delayed, current)


@pytest.mark.parametrize(
    "coupling, name, value",
    [
        (Sigmoidal, "sigma", 0.0),
        (Sigmoidal, "a", -1.0),
        (Tanh, "sigma", -0.5),
        (SigmoidalJansenRit, "r", 0.0),
    ],
)
def test_bad_parameter_raises(coupling, name, value):
    with pytest.raises(ValueError, match=rf"{coupling.__name__}: `{name}` must be > 0.*{value}"):
        coupling(**{name: value})


def test_couplings_are_modules_that_filter_jit():
    coupling = Sigmoidal(midpoint=0.2)
    w, delayed, current = _random_inputs(1, 3)
    call = eqx.filter_jit(lambda c: _call(c, 1.0, w, delayed, current))
    np.testing.assert_allclose(call(coupling), _call(coupling, 1.0, w, delayed, current))


@pytest.mark.slow
def test_user_summed_coupling_takes_the_block_path_and_matches_the_generic_one():
    # The same coupling written both ways: as an AbstractSummedCoupling the solver sums each
    # block's afferents at once; as a plain AbstractCoupling it calls it stage by stage.
    import massfit as mf

    class RectifiedSummed(mf.AbstractSummedCoupling):
        def pre(self, delayed):
            return jnp.maximum(delayed, 0.0)

        def post(self, k, weights, summed, current):
            return k * summed

    class RectifiedGeneric(mf.AbstractCoupling):
        def __call__(self, k, weights, delayed, current):
            return k * jnp.sum(weights * jnp.maximum(delayed, 0.0), axis=-1)

    rng = np.random.default_rng(3)
    w = rng.uniform(0, 1, (5, 5)) * (rng.uniform(size=(5, 5)) < 0.6)
    np.fill_diagonal(w, 0.0)
    lengths = rng.uniform(5.0, 40.0, (5, 5))
    conn = mf.Connectome(w, lengths)
    node = mf.Hopf(a=0.1, x0=jnp.asarray(rng.uniform(-0.5, 0.5, 5)))

    def run(coupling):
        net = mf.Network(node, conn, coupling, k=0.3, speed=4.0)
        return mf.simulate(net, duration=60.0, dt=0.1, solver=mf.Heun(interpolate_delays=True))

    summed, generic = run(RectifiedSummed()), run(RectifiedGeneric())
    np.testing.assert_allclose(summed.ys, generic.ys, rtol=0, atol=1e-12)
    assert float(jnp.max(jnp.abs(summed["x"]))) > 0.1  # it did oscillate
