"""What the fitters do with non-finite losses, raising candidates and callbacks, and what they
check up front: targets, keys, loss signatures, checkpoint paths, the optimiser of a resume."""

import os
import pathlib

import equinox as eqx
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import optax
import pytest

from massfit import objectives
from massfit._fit import cma_es, differential_evolution, fit, multistart
from massfit._params import Bounded

from .test_fit_models import count_calls, Point, sphere


SERIES = jnp.asarray(np.random.default_rng(0).standard_normal((20, 3)))


def sqrt_series(model):
    """A (20, 3) prediction that is NaN for a negative `x` (as a diverging simulation is)."""
    return jnp.sqrt(model.x[0]) * SERIES


# --- non-finite losses -------------------------------------------------------------------


def test_fit_with_a_nan_prediction_at_the_start_is_not_a_perfect_fit():
    # Under jit the RMSE of a NaN prediction used to be exactly 0: best_loss 0, "converged".
    with pytest.raises(ValueError, match="starting parameters is nan"):
        fit(
            Point(jnp.array([-1.0])),
            optax.adam(0.1),
            trainable="x",
            objective=objectives.timeseries_rmse(),
            predict=sqrt_series,
            target=SERIES,
            n_steps=3,
            progress=False,
        )


def predict_nan_below_zero(model):
    """`(x + 0.25) SERIES`, NaN for x < 0: its RMSE against 0 is least where it is NaN."""
    return (jnp.sqrt(model.x[0]) * 0 + model.x[0] + 0.25) * SERIES


RMS = float(jnp.sqrt(jnp.mean(SERIES**2)))


def test_fit_stops_at_a_nan_prediction_and_keeps_the_finite_best():
    # sgd steps x down by 0.2 * RMS each step until x < 0, where the loss is NaN.
    result = fit(
        Point(jnp.array([0.25])),
        optax.sgd(0.2),
        trainable="x",
        objective=objectives.timeseries_rmse(),
        predict=predict_nan_below_zero,
        target=0 * SERIES,
        n_steps=50,
        progress=False,
    )
    assert result.stopped_early and "non-finite loss (nan)" in result.reason
    n_finite = int(np.floor(0.25 / (0.2 * RMS))) + 1  # steps with x >= 0
    assert result.n_steps == n_finite and np.all(np.isfinite(result.history))
    x = 0.25 - 0.2 * RMS * (n_finite - 1)
    assert result.best_params["x"][0] == pytest.approx(x, rel=1e-9)
    assert result.best_loss == pytest.approx((x + 0.25) * RMS, rel=1e-9)


def test_cma_es_ranks_nan_predictions_last_and_counts_them(getkey):
    # The best finite point is at x -> 0, with loss 0.25 * RMS. A NaN read as 0 would win.
    with pytest.warns(RuntimeWarning, match="n_nonfinite"):
        result = cma_es(
            Point(jnp.array([1.0])),
            trainable="x",
            objective=objectives.timeseries_rmse(),
            predict=predict_nan_below_zero,
            target=0 * SERIES,
            key=getkey(),
            n_generations=30,
            population_size=8,
            progress=False,
        )
    assert result.best_params["x"][0] >= 0
    assert result.best_loss >= 0.25 * RMS * (1 - 1e-12)
    assert result.best_loss == pytest.approx(0.25 * RMS, rel=1e-2)
    assert result.n_nonfinite.shape == (result.n_steps,)
    assert result.n_nonfinite.dtype.kind == "i"
    assert result.n_nonfinite.sum() > 0 and np.all(result.n_nonfinite <= 8)
    assert np.all(np.isfinite(result.history))


def test_cma_es_where_every_evaluation_is_non_finite_says_so(getkey):
    model = Point(jnp.array([1.0, 2.0]))
    with pytest.warns(RuntimeWarning, match="every evaluation"):
        result = cma_es(
            model,
            trainable="x",
            loss_fn=lambda m: jnp.nan * sphere(m),
            key=getkey(),
            n_generations=3,
            population_size=6,
            progress=False,
        )
    assert "every evaluation gave a non-finite loss" in result.reason
    assert not result.stopped_early and result.n_steps == 3
    assert result.best_loss == np.inf and result.best_step is None
    assert eqx.tree_equal(result.model, model)
    np.testing.assert_array_equal(result.n_nonfinite, [6, 6, 6])


def test_multistart_where_every_evaluation_is_non_finite_says_so(getkey):
    model = Point(Bounded(jnp.array([0.5]), 0.0, 1.0))
    with pytest.warns(RuntimeWarning, match="every evaluation"):
        ms = multistart(
            model,
            optax.adam(0.1),
            trainable="x",
            loss_fn=lambda m: jnp.inf * sphere(m),
            n_starts=3,
            key=getkey(),
            n_steps=2,
            progress=False,
        )
    assert "every evaluation gave a non-finite loss" in ms.best.reason
    assert ms.best.best_loss == np.inf and ms.best.best_step is None
    np.testing.assert_array_equal(ms.best.n_nonfinite, [3, 3])


def test_population_survives_a_candidate_that_raises(getkey):
    # As a Network does for a delay beyond its `max_delay`: a traced check that raises.
    def loss(model):
        x = eqx.error_if(model.x, model.x[0] > 0.8, "x beyond 0.8")
        return jnp.sum((x - 0.3) ** 2)

    model = Point(Bounded(jnp.array([0.5]), 0.0, 1.0))
    with pytest.warns(RuntimeWarning, match="non-finite loss or raised"):
        result = differential_evolution(
            model, trainable="x", loss_fn=loss, key=getkey(), n_generations=15,
            population_size=10, progress=False,
        )
    assert result.best_params["x"][0] == pytest.approx(0.3, abs=1e-2)
    assert result.best_params["x"][0] <= 0.8
    assert result.n_nonfinite[0] > 0  # uniform in [0, 1]: some of 9 draws exceed 0.8
    assert np.all(np.isfinite(result.history))


# --- checked up front ---------------------------------------------------------------------


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_target_refused_up_front_naming_where(bad, getkey):
    target = np.array(SERIES).copy()
    target[7, 2] = bad
    loss, calls = count_calls(objectives.timeseries_rmse())
    common = dict(trainable="x", objective=loss, predict=sqrt_series, target=target)
    match = r"`target` must be finite; it has 1 non-finite value\(s\) of 60, the first at index "
    match += r"\(7, 2\)"
    with pytest.raises(ValueError, match=match):
        fit(Point(jnp.array([1.0])), optax.adam(0.1), n_steps=3, progress=False, **common)
    with pytest.raises(ValueError, match=match):
        cma_es(Point(jnp.array([1.0])), key=getkey(), n_generations=2, progress=False, **common)
    assert not calls
    # In a pytree target the path is named.
    with pytest.raises(ValueError, match=r"`target\['bold'\]` must be finite"):
        fit(
            Point(jnp.array([1.0])),
            optax.adam(0.1),
            trainable="x",
            objective=lambda p, t: jnp.mean((p["bold"] - t["bold"]) ** 2),
            predict=lambda m: {"bold": sqrt_series(m)},
            target={"bold": target},
            n_steps=3,
            progress=False,
        )


def test_loss_signature_checked_against_key():
    with pytest.raises(TypeError, match=r"`key=` was given.*`loss_fn\(model, key\)`.*takes 1"):
        fit(Point(jnp.array([1.0])), optax.adam(0.1), trainable="x", loss_fn=sphere,
            key=jr.key(0), n_steps=2, progress=False)
    with pytest.raises(TypeError, match=r"`predict` needs 2 positional.*key=jax.random.key"):
        fit(Point(jnp.array([1.0])), optax.adam(0.1), trainable="x",
            objective=objectives.timeseries_rmse(), predict=lambda m, key: sqrt_series(m),
            target=SERIES, n_steps=2, progress=False)
    # A key argument with a default works both ways.
    result = fit(Point(jnp.array([1.0])), optax.sgd(0.1), trainable="x",
                 loss_fn=lambda m, key=None: sphere(m), n_steps=2, progress=False)
    assert result.n_steps == 2


@pytest.mark.parametrize("key", [0, None, np.array([1.5, 2.0])])
def test_population_fitters_name_a_bad_key(key):
    model = Point(Bounded(jnp.array([0.5]), 0.0, 1.0))
    match = r"`key` must be a JAX random key, made with `jax.random.key\(seed\)`"
    with pytest.raises(TypeError, match=match):
        cma_es(model, trainable="x", loss_fn=sphere, key=key, n_generations=2, progress=False)
    with pytest.raises(TypeError, match=match):
        differential_evolution(model, trainable="x", loss_fn=sphere, key=key,
                               n_generations=2, progress=False)
    with pytest.raises(TypeError, match=match):
        multistart(model, optax.adam(0.1), trainable="x", loss_fn=sphere, key=key,
                   n_starts=2, n_steps=2, progress=False)


def test_fit_names_a_bad_key():
    with pytest.raises(TypeError, match=r"`key` must be a JAX random key.*got int 3"):
        fit(Point(jnp.array([1.0])), optax.adam(0.1), trainable="x",
            loss_fn=lambda m, key: sphere(m), key=3, n_steps=2, progress=False)


# --- checkpoints --------------------------------------------------------------------------


def _fit(n_steps=6, optimiser=None, **kwargs):
    return fit(
        Point(jnp.array([1.0, -2.0])),
        optimiser or optax.adam(0.05),
        trainable="x",
        loss_fn=sphere,
        n_steps=n_steps,
        progress=False,
        **kwargs,
    )


def test_checkpoint_path_checked_before_the_first_step(tmp_path):
    loss, calls = count_calls(sphere)
    common = dict(trainable="x", loss_fn=loss, n_steps=2, progress=False)
    model = Point(jnp.array([1.0]))
    with pytest.raises(FileNotFoundError, match="does not exist"):
        fit(model, optax.adam(0.1), checkpoint=tmp_path / "missing" / "fit.ckpt", **common)
    with pytest.raises(ValueError, match="is a folder"):
        fit(model, optax.adam(0.1), checkpoint=tmp_path, **common)
    (tmp_path / "file").write_text("")
    with pytest.raises(NotADirectoryError, match="is not a folder"):
        fit(model, optax.adam(0.1), checkpoint=tmp_path / "file" / "fit.ckpt", **common)
    assert not calls


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root writes anywhere")
def test_checkpoint_in_a_read_only_folder_refused_before_the_first_step(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(PermissionError, match="not writable"):
            _fit(checkpoint=folder / "fit.ckpt")
    finally:
        folder.chmod(0o700)


def test_callback_that_raises_writes_the_checkpoint_then_raises(tmp_path):
    path = tmp_path / "fit.ckpt"

    def callback(step, loss, params):
        if step == 3:
            raise RuntimeError("callback failed")

    with pytest.raises(RuntimeError, match="callback failed"):
        _fit(checkpoint=path, callbacks=callback)
    assert path.is_file()
    # The four steps done (0-3) are kept: resuming equals an uninterrupted run.
    resumed = _fit(resume=path)
    uninterrupted = _fit()
    np.testing.assert_array_equal(resumed.history, uninterrupted.history)
    np.testing.assert_array_equal(resumed.best_params["x"], uninterrupted.best_params["x"])


def test_resume_with_another_learning_rate_refused_naming_both(tmp_path):
    path = tmp_path / "fit.ckpt"
    _fit(n_steps=3, checkpoint=path)
    with pytest.raises(ValueError, match=r"another optimiser.*probe 0\.05 .*probe 0\.5 "):
        _fit(resume=path, optimiser=optax.adam(0.5))
    with pytest.raises(ValueError, match="another optimiser"):
        _fit(resume=path, optimiser=optax.adam(0.05, b1=0.5))
    # Another object built the same way is the same optimiser.
    assert _fit(resume=path, optimiser=optax.adam(0.05)).n_steps == 6


def test_resume_with_other_injected_hyperparameters_refused_naming_both(tmp_path):
    path = tmp_path / "fit.ckpt"
    adam = optax.inject_hyperparams(optax.adam)
    _fit(n_steps=3, checkpoint=path, optimiser=adam(learning_rate=0.05))
    with pytest.raises(ValueError, match=r"learning_rate=0\.05.*learning_rate=0\.2"):
        _fit(resume=path, optimiser=adam(learning_rate=0.2))
    assert _fit(resume=path, optimiser=adam(learning_rate=0.05)).n_steps == 6


def test_lbfgs_checkpoint_resumes(tmp_path):
    path = tmp_path / "fit.ckpt"
    _fit(n_steps=2, checkpoint=path, optimiser=optax.lbfgs())
    # The probe runs L-BFGS's line search too (it gets `value`, `grad` and `value_fn`).
    assert _fit(n_steps=4, resume=path, optimiser=optax.lbfgs()).n_steps == 4


def test_pathlib_and_str_paths_both_accepted(tmp_path):
    _fit(n_steps=2, checkpoint=str(tmp_path / "a.ckpt"))
    _fit(n_steps=2, checkpoint=pathlib.Path(tmp_path / "b.ckpt"))
    assert (tmp_path / "a.ckpt").is_file() and (tmp_path / "b.ckpt").is_file()
