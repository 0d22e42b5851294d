"""Population search: CMA-ES and differential evolution on functions with known optima and a
small model; one traced, vmapped evaluation per generation; sharding."""

import os
import subprocess
import sys
import textwrap

import equinox as eqx
import jax.numpy as jnp
import numpy as np
import pytest

from massfit._fit import cma_es, differential_evolution
from massfit._params import Bounded, Positive, unwrap

from .test_fit_models import (
    count_calls,
    DATA,
    fc_corr_score,
    Logistic,
    logistic_mse,
    logistic_start,
    Point,
    rosenbrock,
    sphere,
    TIMES,
    TRUE_MID,
    TRUE_RATE,
)


def test_cma_es_sphere(getkey):
    loss, traces = count_calls(sphere)
    result = cma_es(
        Point(jnp.full(5, 3.0)),  # weakly typed: must not trigger a second trace
        trainable="x",
        loss_fn=loss,
        key=getkey(),
        n_generations=400,
        progress=False,
    )
    assert len(traces) == 1
    assert result.method == "cma_es"
    assert result.best_loss < 1e-12
    np.testing.assert_allclose(result.best_params["x"], 0.0, atol=1e-6)
    np.testing.assert_array_equal(result.model.x, result.best_params["x"])
    assert result.stopped_early and result.reason.startswith("converged")
    assert result.best_loss == result.history.min()


def test_cma_es_rosenbrock(getkey):
    result = cma_es(
        Point(jnp.zeros(4)),
        trainable="x",
        loss_fn=rosenbrock,
        key=getkey(),
        sigma0=0.5,
        n_generations=1000,
        progress=False,
    )
    np.testing.assert_allclose(result.best_params["x"], 1.0, atol=1e-5)
    assert result.best_loss < 1e-10


def test_cma_es_recovers_bounded_model(getkey):
    loss, traces = count_calls(logistic_mse)
    result = cma_es(
        logistic_start(),
        trainable=["rate", "mid"],
        loss_fn=loss,
        key=getkey(),
        n_generations=60,
        progress=False,
    )
    assert len(traces) == 1  # the whole population, every generation: one trace
    assert result.best_params["rate"] == pytest.approx(TRUE_RATE, abs=1e-4)
    assert result.best_params["mid"] == pytest.approx(TRUE_MID, abs=1e-4)
    assert isinstance(result.model.rate, Bounded)
    np.testing.assert_allclose(unwrap(result.model).mid, result.best_params["mid"], rtol=1e-12)
    assert result.param_history["rate"].shape == (result.n_steps,)


def test_differential_evolution_recovers_bounded_model(getkey):
    predict, traces = count_calls(lambda model: model(TIMES))
    result = differential_evolution(
        logistic_start(),
        trainable=["rate", "mid"],
        objective=lambda p, t: jnp.mean((p - t) ** 2),
        predict=predict,
        target=DATA,
        key=getkey(),
        n_generations=80,
        progress=False,
    )
    assert len(traces) == 1
    assert result.method == "differential_evolution"
    assert result.best_params["rate"] == pytest.approx(TRUE_RATE, abs=1e-4)
    assert result.best_params["mid"] == pytest.approx(TRUE_MID, abs=1e-4)
    # Generation 0 evaluates the initial population, whose first member is the model given.
    assert result.history[0] <= float(logistic_mse(unwrap(logistic_start())))


def test_differential_evolution_rosenbrock_in_a_box(getkey):
    model = Point(Bounded(jnp.array([-1.0, 1.5]), lower=-2.0, upper=2.0))
    result = differential_evolution(
        model,
        trainable="x",
        loss_fn=rosenbrock,
        key=getkey(),
        n_generations=300,
        progress=False,
    )
    np.testing.assert_allclose(result.best_params["x"], 1.0, atol=1e-4)


def test_differential_evolution_needs_bounded(getkey):
    model = Logistic(rate=Bounded(0.5, 0.1, 5.0), mid=Positive(3.0))
    with pytest.raises(ValueError, match="must be Bounded"):
        differential_evolution(
            model, trainable=["rate", "mid"], loss_fn=logistic_mse, key=getkey(), n_generations=3
        )


def test_non_finite_candidates_ranked_last(getkey):
    def loss(model):
        return jnp.where(model.x[0] < -0.5, jnp.nan, sphere(model))

    with pytest.warns(RuntimeWarning, match="non-finite"):
        result = cma_es(
            Point(jnp.array([1.0, 1.0])),
            trainable="x",
            loss_fn=loss,
            key=getkey(),
            n_generations=200,
            progress=False,
        )
    assert result.best_loss < 1e-10
    assert np.all(np.isfinite(result.history))


def test_population_callbacks_and_interrupt(getkey):
    common = dict(trainable="x", loss_fn=sphere, n_generations=100, progress=False)
    stopped = cma_es(
        Point(jnp.ones(3)),
        key=getkey(),
        callbacks=lambda g, loss, params: g == 4,
        **common,
    )
    assert stopped.n_steps == 5 and stopped.reason == "stopped by a callback at generation 4"

    def interrupt(g, loss, params):
        if g == 2:
            raise KeyboardInterrupt

    interrupted = cma_es(Point(jnp.ones(3)), key=getkey(), callbacks=interrupt, **common)
    assert interrupted.n_steps == 3 and interrupted.reason == "interrupted"
    assert interrupted.best_loss == interrupted.history.min()


def test_sharded_path_runs_on_one_device_and_matches(getkey):
    key = getkey()
    common = dict(trainable="x", loss_fn=rosenbrock, key=key, n_generations=20, progress=False)
    sharded = cma_es(Point(jnp.zeros(3)), shard=True, **common)
    plain = cma_es(Point(jnp.zeros(3)), shard=False, **common)
    np.testing.assert_allclose(sharded.history, plain.history, rtol=1e-12)


def test_population_in_chunks_is_the_same_search(getkey):
    # 10 candidates in chunks of 4 (the last one padded): one trace, the same search bit for bit.
    key = getkey()
    loss, traces = count_calls(rosenbrock)
    common = dict(trainable="x", key=key, n_generations=15, population_size=10, progress=False)
    whole = cma_es(Point(jnp.zeros(3)), loss_fn=rosenbrock, **common)
    chunked = cma_es(Point(jnp.zeros(3)), loss_fn=loss, chunk_size=4, **common)
    assert len(traces) == 1
    np.testing.assert_array_equal(chunked.history, whole.history)
    np.testing.assert_array_equal(chunked.best_params["x"], whole.best_params["x"])


def test_population_in_chunks_ranks_a_raising_candidate_last(getkey):
    def loss(model):
        x = eqx.error_if(model.x, model.x[0] > 0.8, "x beyond 0.8")
        return jnp.sum((x - 0.3) ** 2)

    key = getkey()
    model = Point(Bounded(jnp.array([0.5]), 0.0, 1.0))
    common = dict(trainable="x", loss_fn=loss, key=key, n_generations=6, progress=False)
    with pytest.warns(RuntimeWarning, match="raised"):
        whole = differential_evolution(model, population_size=10, **common)
    with pytest.warns(RuntimeWarning, match="raised"):
        chunked = differential_evolution(model, population_size=10, chunk_size=3, **common)
    assert whole.n_nonfinite[0] > 0
    np.testing.assert_array_equal(chunked.n_nonfinite, whole.n_nonfinite)
    np.testing.assert_array_equal(chunked.history, whole.history)
    assert np.all(np.isfinite(chunked.history)) and chunked.best_params["x"][0] <= 0.8


def test_aux_with_a_python_constant_in_chunks(getkey):
    # `vmap` leaves a Python constant in the output unbatched; it passes through as it is.
    def loss(model):
        return sphere(model), {"scale": 2.0, "twice": 2 * model.x}

    result = cma_es(
        Point(jnp.ones(2)), trainable="x", loss_fn=loss, key=getkey(), n_generations=5,
        population_size=6, chunk_size=4, progress=False,
    )
    assert result.aux["scale"] == 2.0
    np.testing.assert_array_equal(result.aux["twice"], 2 * result.best_params["x"])


def test_population_argument_errors(getkey):
    common = dict(key=getkey(), n_generations=3, progress=False)
    with pytest.raises(ValueError, match="as_loss=True"):
        cma_es(
            logistic_start(),
            trainable="rate",
            objective=fc_corr_score,
            predict=lambda m: m(TIMES),
            target=DATA,
            **common,
        )
    point = dict(trainable="x", **common)
    with pytest.raises(ValueError, match="sigma0"):
        cma_es(Point(jnp.ones(2)), loss_fn=sphere, sigma0=0.0, **point)
    with pytest.raises(ValueError, match="shard"):
        cma_es(Point(jnp.ones(2)), loss_fn=sphere, shard="yes", **point)
    with pytest.raises(ValueError, match="`chunk_size` must be"):
        cma_es(Point(jnp.ones(2)), loss_fn=sphere, chunk_size=0, **point)


_SHARDED_SCRIPT = textwrap.dedent(
    """
    import jax, jax.numpy as jnp, jax.random as jr, equinox as eqx
    from massfit._fit import cma_es, differential_evolution
    from massfit._params import Bounded
    assert jax.device_count() == 2

    class Point(eqx.Module):
        x: jax.Array

    def sphere(m):
        return jnp.sum(m.x ** 2)

    r = cma_es(Point(jnp.full(3, 2.0)), trainable="x", loss_fn=sphere, key=jr.key(0),
               population_size=7, n_generations=300, progress=False)
    assert r.best_loss < 1e-10, r.best_loss
    r = differential_evolution(Point(Bounded(jnp.full(2, 0.5), -1.0, 1.0)), trainable="x",
                               loss_fn=sphere, key=jr.key(1), n_generations=100,
                               progress=False)
    assert r.best_loss < 1e-8, r.best_loss
    import optax
    from massfit._fit import multistart
    m = multistart(Point(Bounded(jnp.full(2, 0.5), -1.0, 1.0)), optax.adam(0.05), trainable="x",
                   loss_fn=sphere, n_starts=4, key=jr.key(2), n_steps=200, shard=True,
                   progress=False)
    assert m.best.best_loss < 1e-8, m.best.best_loss
    print("ok")
    """
)


@pytest.mark.slow
def test_sharded_over_two_host_devices():
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=2")
    out = subprocess.run(
        [sys.executable, "-c", _SHARDED_SCRIPT], env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
