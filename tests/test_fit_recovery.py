"""Parameter recovery on synthetic ground truth, through the simulator: the coupling `k`, a
per-region parameter vector, and the conduction speed (interpolated delays), each by gradient
(`fit`) and by population search (`cma_es`).

The target is a noiseless simulation of a 4-region delay-coupled Hopf network at the true
parameters; the loss is the RMSE between predicted and target `x` over 150 ms, so the truth is
the exact minimum (loss 0) and the tolerances measure the optimisers, not sampling noise. (The
noisy, realistic recovery, with another noise realisation than the target's, is the README's
example: `examples/compose_objective.py`, a slow test.)

Tolerances: relative 1e-3 for k and speed, absolute 1e-3 /ms for each `a`. Measured when
written: gradient errors 2e-4 (k), 2e-4 (a), 8e-5 (speed); CMA-ES 1e-6, 3e-5, 4e-7.
"""

import warnings

import equinox as eqx
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import massfit as mf
from massfit import objectives


CONN = mf.datasets.load_dataset("example_connectome")
CONN4 = mf.Connectome(CONN.weights[:4, :4], CONN.lengths[:4, :4])  # 52-138 mm
TRUE_K, TRUE_SPEED = 0.15, 5.0  # delays 10-28 ms
TRUE_A = jnp.array([0.02, 0.05, 0.08, 0.11])  # 1/ms, one per region
X0 = jnp.array([0.3, -0.2, 0.1, 0.25])
SOLVER = mf.Heun(interpolate_delays=True)  # exact delays: d/d(speed) exists
SETTINGS = dict(duration=150.0, dt=0.1, save_every=1.0, variables="x", solver=SOLVER)


def network(k=TRUE_K, speed=TRUE_SPEED, a=TRUE_A) -> mf.Network:
    # Explicit delay bounds, valid for speeds in [3, 8] mm/ms, so `speed` can train.
    return mf.Network(
        mf.Hopf(a=a, x0=X0, y0=0.0),
        CONN4,
        k=k,
        speed=speed,
        max_delay=140.0 / 3.0,
        min_delay=50.0 / 8.0,
    )


def predict(net):
    return mf.simulate(net, **SETTINGS)["x"]


TARGET = predict(network())
RMSE = objectives.timeseries_rmse()


def _gradient_fit(start, trainable, n_steps, learning_rate):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no fallback to reverse mode: forward mode works
        return mf.fit(
            start,
            optax.adam(optax.cosine_decay_schedule(learning_rate, n_steps)),
            trainable=trainable,
            objective=RMSE,
            predict=predict,
            target=TARGET,
            n_steps=n_steps,
            progress=False,
        )


def _population_fit(start, trainable, n_generations, getkey):
    return mf.cma_es(
        start,
        trainable=trainable,
        key=getkey(),
        n_generations=n_generations,
        population_size=10,
        sigma0=0.5,
        objective=RMSE,
        predict=predict,
        target=TARGET,
        progress=False,
    )


def test_target_depends_on_every_recovered_parameter():
    # Otherwise recovery would prove nothing: each parameter moves the target visibly.
    for changed in (network(k=0.9 * TRUE_K), network(speed=4.5), network(a=TRUE_A.at[2].add(0.01))):
        assert float(RMSE(predict(changed), TARGET)) > 1e-3


def test_recover_k_by_gradient():
    start = eqx.tree_at(lambda n: n.k, network(), mf.Positive(0.5 * TRUE_K))
    result = _gradient_fit(start, "k", n_steps=40, learning_rate=0.1)
    assert result.method == "fit (forward mode)"
    assert result.best_params["k"] == pytest.approx(TRUE_K, rel=1e-3)


def test_recover_k_by_population(getkey):
    start = eqx.tree_at(lambda n: n.k, network(), mf.Bounded(0.5 * TRUE_K, 0.0, 1.0))
    result = _population_fit(start, "k", 25, getkey)
    assert result.best_params["k"] == pytest.approx(TRUE_K, rel=1e-3)


def test_recover_per_region_vector_by_gradient():
    start = eqx.tree_at(lambda n: n.node.a, network(), jnp.full(4, 0.06))
    result = _gradient_fit(start, "node.a", n_steps=60, learning_rate=0.01)
    np.testing.assert_allclose(result.best_params["node.a"], TRUE_A, atol=1e-3)


def test_recover_per_region_vector_by_population(getkey):
    start = eqx.tree_at(lambda n: n.node.a, network(), mf.Bounded(jnp.full(4, 0.06), -0.1, 0.2))
    result = _population_fit(start, "node.a", 60, getkey)
    np.testing.assert_allclose(result.best_params["node.a"], TRUE_A, atol=1e-3)


def test_recover_speed_by_gradient():
    start = eqx.tree_at(lambda n: n.speed, network(), mf.Bounded(4.0, 3.0, 8.0))
    result = _gradient_fit(start, "speed", n_steps=60, learning_rate=0.2)
    assert result.best_params["speed"] == pytest.approx(TRUE_SPEED, rel=1e-3)


def test_recover_speed_by_population(getkey):
    start = eqx.tree_at(lambda n: n.speed, network(), mf.Bounded(4.0, 3.0, 8.0))
    result = _population_fit(start, "speed", 25, getkey)
    assert result.best_params["speed"] == pytest.approx(TRUE_SPEED, rel=1e-3)
