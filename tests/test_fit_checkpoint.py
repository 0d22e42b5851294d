"""Checkpoints: a resumed fit equals an uninterrupted one, exactly."""

import json

import equinox as eqx
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import optax
import pytest

from massfit._fit import fit

from .test_fit_models import DATA, logistic_start, TIMES


def noisy_loss(model, key):
    """The logistic fit with fresh observation noise each step (exercises the saved key)."""
    noise = 0.01 * jr.normal(key, DATA.shape)
    residual = model(TIMES) - (DATA + noise)
    return jnp.mean(residual**2), residual[:3]


N_STEPS = 24
# One optimiser object for every run: the compiled step is then shared between them.
ADAM = optax.adam(0.1)


def run(key, **kwargs):
    return fit(
        logistic_start(),
        ADAM,
        trainable=["rate", "mid"],
        loss_fn=noisy_loss,
        key=key,
        progress=False,
        **kwargs,
    )


def assert_same(a, b):
    np.testing.assert_array_equal(a.history, b.history)
    assert a.param_history.keys() == b.param_history.keys()
    for path in a.param_history:
        np.testing.assert_array_equal(a.param_history[path], b.param_history[path])
        np.testing.assert_array_equal(a.best_params[path], b.best_params[path])
    assert a.best_loss == b.best_loss and a.best_step == b.best_step
    assert eqx.tree_equal(a.model, b.model)
    np.testing.assert_array_equal(a.aux, b.aux)
    assert a.n_steps == b.n_steps


@pytest.fixture(scope="module")
def uninterrupted():
    key = jr.key(3)
    return key, run(key, n_steps=N_STEPS)


def test_resume_after_callback_stop_equals_uninterrupted(tmp_path, uninterrupted):
    key, full = uninterrupted
    path = tmp_path / "fit.ckpt"
    first = run(
        key,
        n_steps=N_STEPS,
        checkpoint=path,
        checkpoint_every=5,
        callbacks=lambda step, loss, params: step == 11,
    )
    assert first.stopped_early and first.n_steps == 12
    header = json.loads(path.read_bytes().split(b"\n", 1)[0])
    assert header["step"] == 12 and header["paths"] == ["rate", "mid"]
    resumed = run(key, n_steps=N_STEPS, resume=path)
    assert not resumed.stopped_early
    assert_same(resumed, full)


def test_resume_after_interrupt_equals_uninterrupted(tmp_path, uninterrupted):
    key, full = uninterrupted
    path = tmp_path / "fit.ckpt"

    def interrupt(step, loss, params):
        if step == 16:
            raise KeyboardInterrupt

    first = run(key, n_steps=N_STEPS, checkpoint=path, checkpoint_every=10, callbacks=interrupt)
    assert first.reason == "interrupted" and first.n_steps == 17
    np.testing.assert_array_equal(first.history, full.history[:17])
    assert json.loads(path.read_bytes().split(b"\n", 1)[0])["step"] == 17
    # Resume in two legs, checkpointing again on the way.
    middle = run(key, n_steps=20, resume=path, checkpoint=path)
    assert middle.n_steps == 20
    resumed = run(key, n_steps=N_STEPS, resume=path)
    assert_same(resumed, full)
    # Resuming a finished fit returns it as it was.
    done = tmp_path / "done.ckpt"
    run(key, n_steps=N_STEPS, resume=path, checkpoint=done)
    assert_same(run(key, n_steps=N_STEPS, resume=done), full)


def test_periodic_checkpoint_is_resumable(tmp_path, uninterrupted):
    key, full = uninterrupted
    path = tmp_path / "fit.ckpt"
    run(key, n_steps=10, checkpoint=path, checkpoint_every=4)
    resumed = run(key, n_steps=N_STEPS, resume=path)
    assert_same(resumed, full)


def test_resume_refuses_a_different_fit(tmp_path, uninterrupted):
    key, _ = uninterrupted
    path = tmp_path / "fit.ckpt"
    run(key, n_steps=3, checkpoint=path)
    with pytest.raises(ValueError, match="trains"):
        fit(
            logistic_start(),
            optax.adam(0.1),
            trainable="rate",
            loss_fn=noisy_loss,
            key=key,
            n_steps=5,
            resume=path,
            progress=False,
        )
    with pytest.raises(ValueError, match="key"):
        run(jr.key(4), n_steps=5, resume=path)
    with pytest.raises(ValueError, match="does not match"):
        fit(
            logistic_start(),
            optax.sgd(0.1, momentum=0.9),
            trainable=["rate", "mid"],
            loss_fn=noisy_loss,
            key=key,
            n_steps=5,
            resume=path,
            progress=False,
        )
    with pytest.raises(FileNotFoundError):
        run(key, n_steps=5, resume=tmp_path / "missing.ckpt")
    (tmp_path / "junk").write_bytes(b"\x80\x04not a checkpoint\n")
    with pytest.raises(ValueError, match="not a massfit fit checkpoint"):
        run(key, n_steps=5, resume=tmp_path / "junk")
