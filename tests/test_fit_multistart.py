"""multistart(): vmapped fits from several starting points find the global optimum."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from massfit._fit import fit, multistart, MultistartResult
from massfit._params import Bounded, Positive, unwrap

from .test_fit_models import Logistic, logistic_mse, Point


def double_well(model):
    """(x^2 - 1)^2 + 0.3 x: a local minimum near x = 0.96, the global one near x = -1.04."""
    x = model.x
    return (x**2 - 1.0) ** 2 + 0.3 * x


GRID = np.linspace(-3.0, 3.0, 600_001)
GLOBAL_X = GRID[np.argmin((GRID**2 - 1.0) ** 2 + 0.3 * GRID)]


def test_multistart_finds_the_global_minimum(getkey):
    model = Point(Bounded(2.0, -3.0, 3.0))
    single = fit(
        model, optax.adam(0.05), trainable="x", loss_fn=double_well, n_steps=300, progress=False
    )
    assert single.best_params["x"] > 0.9  # one fit from x = 2 stops in the local minimum
    result = multistart(
        model,
        optax.adam(0.05),
        trainable="x",
        loss_fn=double_well,
        n_starts=16,
        key=getkey(),
        n_steps=300,
        progress=False,
    )
    assert isinstance(result, MultistartResult)
    assert result.best.best_params["x"] == pytest.approx(GLOBAL_X, abs=1e-4)
    assert result.best_index == int(np.argmin(result.losses))
    assert result.best.best_loss == result.losses.min()
    assert result.best.method == "multistart (forward mode)"
    # Start 0 is the model as given, and runs exactly like fit() from it.
    assert result.initial_params["x"][0] == pytest.approx(2.0, rel=1e-12)
    np.testing.assert_allclose(result.history[:, 0], single.history, rtol=1e-10)
    # The others are drawn within the bounds.
    assert result.initial_params["x"].shape == (16,)
    assert np.all(np.abs(result.initial_params["x"]) < 3.0)
    assert len(np.unique(result.initial_params["x"])) == 16
    # Per-start bookkeeping is consistent with the best start's FitResult.
    assert result.history.shape == (300, 16)
    np.testing.assert_array_equal(result.best.history, result.history[:, result.best_index])
    np.testing.assert_allclose(unwrap(result.best.model).x, result.best.best_params["x"])
    np.testing.assert_allclose(result.params["x"][result.best_index], result.best.best_params["x"])


def test_only_bounded_parameters_are_drawn(getkey):
    model = Logistic(rate=Bounded(0.6, 0.05, 5.0), mid=Positive(6.0))
    result = multistart(
        model,
        optax.adam(0.1),
        trainable=["rate", "mid"],
        loss_fn=logistic_mse,
        n_starts=4,
        key=getkey(),
        n_steps=3,
        mode="reverse",
        progress=False,
    )
    np.testing.assert_allclose(result.initial_params["mid"], 6.0, rtol=1e-12)
    assert len(np.unique(result.initial_params["rate"])) == 4
    assert result.best.method == "multistart (reverse mode)"


def _nan_beyond(model):
    return jnp.where(model.x > 1.5, jnp.nan, double_well(model))


def _raise_beyond(model):
    # As a Network does for a delay beyond its `max_delay`: a traced check that raises.
    return double_well(Point(eqx.error_if(model.x, model.x > 1.5, "x beyond 1.5")))


@pytest.mark.parametrize("loss", [_nan_beyond, _raise_beyond], ids=["nan", "raises"])
def test_a_failing_start_stays_put_and_the_others_go_on(loss, getkey):
    result = multistart(
        Point(Bounded(-0.5, -3.0, 3.0)),
        optax.adam(0.05),
        trainable="x",
        loss_fn=loss,
        n_starts=8,
        key=getkey(),
        n_steps=200,
        progress=False,
    )
    failed = result.initial_params["x"] > 1.5
    assert failed.any() and not failed.all()
    assert np.all(np.isinf(result.losses[failed]))
    assert np.all(np.isfinite(result.losses[~failed]))
    np.testing.assert_array_equal(np.isnan(result.history), np.broadcast_to(failed, (200, 8)))
    np.testing.assert_array_equal(result.best.n_nonfinite, np.full(200, failed.sum()))
    assert result.best.best_params["x"] == pytest.approx(GLOBAL_X, abs=1e-4)
    assert isinstance(result.best.model.x.raw, jax.Array)


def test_multistart_errors(getkey):
    model = Point(Bounded(2.0, -3.0, 3.0))
    common = dict(trainable="x", loss_fn=double_well, key=getkey(), n_steps=2)
    with pytest.raises(TypeError, match="optax"):
        multistart(model, 0.1, n_starts=2, **common)
    with pytest.raises(ValueError, match="n_starts"):
        multistart(model, optax.sgd(0.1), n_starts=0, **common)
