"""Observers advanced inside the solve (`simulate(observers=...)`): the same numbers as post
hoc, under jit and vmap, with chunked blocks, short last blocks and transients; gradients;
errors."""

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import massfit
from massfit.observation import sample_steps, TemporalAverage


def _network(k=0.02):
    conn = massfit.datasets.load_dataset("example_connectome")  # delays 3-28 ms
    node = massfit.Hopf(a=-0.01, x0=0.1, y0=0.0)
    return massfit.Network(node, conn, k=k, speed=5.0, noise=massfit.AdditiveNoise(0.005))


OBSERVERS = {
    "bold": massfit.BOLD(period=100.0, drive="x"),
    # a period that is not a multiple of dt, a function of the state, a reset after samples
    "power": TemporalAverage(period=7.3, drive=lambda s: s["x"] ** 2 + s["y"] ** 2),
    # windows of 248.3 ms after a 20 ms transient: online, a block's steps at once (its
    # samples fall inside blocks: steps 497, 993, ...); post hoc, step by step
    "fc": massfit.observation.FC(period=248.3, drive="x", start=20.0),
}


@pytest.mark.parametrize(
    "solver",
    [
        pytest.param(massfit.Euler(), marks=pytest.mark.slow),
        massfit.Heun(),
        pytest.param(massfit.RK4(), marks=pytest.mark.slow),
    ],
)
def test_online_equals_post_hoc(solver):
    # 1003 ms at dt 0.5: blocks of 5 steps (shortest delay 3.3 ms) and a short last block.
    net, key = _network(), jr.key(0)
    online = massfit.simulate(
        net, duration=1003.0, dt=0.5, key=key, observers=OBSERVERS, solver=solver
    )
    full = massfit.simulate(net, duration=1003.0, dt=0.5, key=key, solver=solver)
    for name, observer in OBSERVERS.items():
        post = observer(full, dt=0.5)
        assert online.observed[name].shape == post.shape
        np.testing.assert_allclose(online.observed[name], post, rtol=1e-10, atol=1e-16)
        steps = sample_steps(observer.period, 0.5, 2006)
        np.testing.assert_allclose(online.observed_ts[name], steps * 0.5)
    assert online.ys.shape == (0, 0, net.n_regions)  # no neural trace kept by default
    np.testing.assert_array_equal(online.final_state, full.final_state)


@pytest.mark.slow
def test_online_under_jit_and_vmap_matches_eager():
    net = _network()
    bold = {"bold": massfit.BOLD(period=50.0, drive="x")}

    def run(k, key):
        n = eqx.tree_at(lambda m: m.k, net, k)
        return massfit.simulate(n, duration=400.0, dt=0.5, key=key, observers=bold).observed[
            "bold"
        ]

    ks = jnp.array([0.0, 0.02, 0.04])
    keys = jr.split(jr.key(3), 3)
    batched = jax.jit(jax.vmap(run))(ks, keys)
    assert batched.shape == (3, 8, 8)
    for i in range(3):
        eager = run(ks[i], keys[i])
        np.testing.assert_allclose(batched[i], eager, rtol=1e-9, atol=1e-15)
    # the coupling changes the BOLD signal
    assert float(jnp.max(jnp.abs(batched[0] - batched[2]))) > 0


@pytest.mark.slow
def test_transient_drops_early_samples_and_trace_on_request():
    net, key = _network(), jr.key(1)
    bold = {"bold": massfit.BOLD(period=100.0, drive="x")}
    whole = massfit.simulate(net, duration=600.0, dt=0.5, key=key, observers=bold)
    later = massfit.simulate(
        net, duration=600.0, dt=0.5, key=key, observers=bold, transient=250.0, save_every=5.0
    )
    np.testing.assert_allclose(later.observed_ts["bold"], [300.0, 400.0, 500.0, 600.0])
    np.testing.assert_array_equal(later.observed["bold"], whole.observed["bold"][2:])
    assert later.ys.shape == (70, 2, 8)  # asked for: saved every 5 ms after 250 ms


@pytest.mark.slow
def test_continue_from_starts_observers_again_at_rest():
    net, key = _network(), jr.key(2)
    bold = {"bold": massfit.BOLD(period=100.0, drive="x")}
    first = massfit.simulate(net, duration=300.0, dt=0.5, key=key, observers=bold)
    second = massfit.simulate(net, duration=300.0, dt=0.5, key=key, observers=bold,
                              continue_from=first)
    np.testing.assert_allclose(second.observed_ts["bold"], [400.0, 500.0, 600.0])
    # The same as the observer run post hoc on the second part alone (hemodynamics at rest).
    trace = massfit.simulate(net, duration=300.0, dt=0.5, key=key, continue_from=first)
    np.testing.assert_allclose(
        second.observed["bold"], bold["bold"](trace, dt=0.5), rtol=1e-10, atol=1e-16
    )


@pytest.mark.slow
def test_gradient_through_online_bold_matches_finite_differences():
    conn = massfit.Connectome(jnp.array([[0.0, 1.0, 0.5], [1.0, 0.0, 0.2], [0.5, 0.2, 0.0]]))
    drive = jnp.array([1.0, 0.0, -0.5])

    def signal(k, adjoint=None):
        net = massfit.Network(massfit.Hopf(a=-0.05, x0=0.3, y0=0.1), conn, k=k)
        traj = massfit.simulate(
            net, duration=2000.0, dt=1.0, inputs={"x": drive * 0.01}, adjoint=adjoint,
            observers={"bold": massfit.BOLD(period=250.0, drive="x")},
        )
        return jnp.sum(traj.observed["bold"] ** 2) * 1e6

    k, h = 0.3, 1e-5
    grad = jax.grad(signal)(k)
    fd = (signal(k + h) - signal(k - h)) / (2 * h)
    assert grad == pytest.approx(fd, rel=1e-6)
    assert abs(grad) > 0
    fwd = jax.jacfwd(lambda k: signal(k, diffrax.ForwardMode()))(k)
    assert fwd == pytest.approx(fd, rel=1e-6)


def test_bad_observers_are_named():
    net = _network()
    kw = dict(duration=10.0, dt=0.5, key=jr.key(0))
    with pytest.raises(TypeError, match="`observers` must be a mapping"):
        massfit.simulate(net, observers=[massfit.BOLD(period=5.0, drive="x")], **kw)
    with pytest.raises(TypeError, match=r"`observers\['b'\]` must be a massfit observer"):
        massfit.simulate(net, observers={"b": lambda x: x}, **kw)
    with pytest.raises(ValueError, match="unknown drive variable 'E'.*\\('x', 'y'\\)"):
        massfit.simulate(net, observers={"b": massfit.BOLD(period=5.0, drive="E")}, **kw)
    wrong = TemporalAverage(period=5.0, drive=lambda s: jnp.stack([s["x"], s["y"]]))
    with pytest.raises(ValueError, match=r"`observers\['w'\]`.*shape \(8,\).*\(2, 8\)"):
        massfit.simulate(net, observers={"w": wrong}, **kw)
    quiet = massfit.Network(massfit.Hopf(), massfit.Connectome(jnp.zeros((2, 2))), k=0.0)
    with pytest.raises(ValueError, match="need one of massfit's delay solvers"):
        massfit.simulate(quiet, duration=10.0, dt=0.5, solver=diffrax.Tsit5(),
                         observers={"b": massfit.BOLD(period=5.0, drive="x")})
    # under jit the same checks run at trace time
    with pytest.raises(ValueError, match="unknown drive variable"):
        jax.jit(lambda n: massfit.simulate(
            n, observers={"b": massfit.BOLD(period=5.0, drive="E")}, **kw
        ).observed)(net)
