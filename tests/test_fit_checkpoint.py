"""Checkpoints: a resumed fit equals an uninterrupted one, exactly."""

import json

import equinox as eqx
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import optax
import pytest

import massfit as mf
import massfit.io as mio
from massfit._fit import fit

from .helpers import flipped
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
    with pytest.raises(ValueError, match=r"is a .*ScaleByAdamState in the file but a .*TraceS"):
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


def test_damaged_checkpoint_is_refused(tmp_path, uninterrupted):
    key, _ = uninterrupted
    path = tmp_path / "fit.ckpt"
    run(key, n_steps=5, checkpoint=path)
    intact = path.read_bytes()
    start = intact.index(b"\n") + 1
    step = intact.index(b'"step": 5') + len(b'"step": ')
    damages = {
        "flipped leaf data": flipped(intact, (start + len(intact)) // 2),
        "flipped last bytes": flipped(intact, len(intact) - 4),
        "step 5 reads 4": flipped(intact, step, n=1, bits=0x01),
        "cut in the header": intact[: start // 2],
        "cut at the header's end": intact[: start - 1],
        "cut in the leaf data": intact[: start + 100],
        "one byte short": intact[:-1],
    }
    assert b'"step": 4' in damages["step 5 reads 4"]
    for damage, data in damages.items():
        path.write_bytes(data)
        with pytest.raises(ValueError, match=r"fit\.ckpt: the file is truncated or damaged"):
            run(key, n_steps=8, resume=path)


def test_checkpoint_of_another_model_is_refused(tmp_path):
    conn = mf.Connectome(jnp.ones((2, 2)) - jnp.eye(2))
    hopf = mf.Network(mf.Hopf(), conn, k=0.5)
    wilson_cowan = mf.Network(mf.WilsonCowan(), conn, k=0.5)
    path = tmp_path / "fit.ckpt"

    def go(net, **kwargs):
        return fit(
            net,
            ADAM,
            trainable="k",
            loss_fn=lambda net: (net.k - 1.0) ** 2,
            n_steps=3,
            progress=False,
            **kwargs,
        )

    go(hopf, checkpoint=path)
    assert go(hopf, resume=path).n_steps == 3
    with pytest.raises(
        ValueError,
        match=r"fit\.ckpt: .*node` is a .*\.Hopf in the file but a .*\."
        "WilsonCowan in this fit",
    ):
        go(wilson_cowan, resume=path)


def test_file_of_another_kind_is_refused(tmp_path, uninterrupted):
    key, _ = uninterrupted
    mio.save_model(tmp_path / "m.eqx", logistic_start())
    with pytest.raises(
        ValueError, match=r"m\.eqx: is a model file .*, not a massfit fit checkpoint"
    ):
        run(key, n_steps=5, resume=tmp_path / "m.eqx")
    run(key, n_steps=2, checkpoint=tmp_path / "fit.ckpt")
    with pytest.raises(ValueError, match=r"fit\.ckpt: is a massfit fit checkpoint .*, not a model"):
        mio.load_model(tmp_path / "fit.ckpt", like=logistic_start())


def test_checkpoint_without_checksum_resumes_with_a_warning(tmp_path, uninterrupted):
    key, full = uninterrupted
    path = tmp_path / "fit.ckpt"
    run(key, n_steps=10, checkpoint=path)
    line, data = path.read_bytes().split(b"\n", 1)
    # What massfit wrote before files carried checks: the same header without them.
    checks = ("classes", "leaves", "data_bytes", "sha256")
    old = {name: value for name, value in json.loads(line).items() if name not in checks}
    path.write_bytes(json.dumps(old).encode() + b"\n" + data)
    with pytest.warns(UserWarning, match=r"fit\.ckpt: written by an older massfit, without a"):
        resumed = run(key, n_steps=N_STEPS, resume=path)
    assert_same(resumed, full)
