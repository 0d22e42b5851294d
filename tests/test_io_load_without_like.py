"""`massfit.io.load_model(path)` without `like=`: a model made of massfit classes is rebuilt
from the file's header (classes, static fields, array shapes) and simulates as the saved one."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import massfit as mf
import massfit.io as mio
from massfit._leaf_files import write_leaf_file


def _conn(n=3):
    w = np.arange(1.0, n * n + 1).reshape(n, n) / (n * n)
    lengths = 10.0 + np.arange(n * n).reshape(n, n)
    return mf.Connectome(w, lengths, labels=[f"region{i}" for i in range(n)], diagonal="zero")


def _same_leaves(a, b):
    la, ta = jax.tree.flatten(a)
    lb, tb = jax.tree.flatten(b)
    assert ta == tb  # same classes and static fields
    for x, y in zip(la, lb, strict=True):
        assert x.dtype == y.dtype and x.shape == y.shape
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


def _same_run(a, b, variable, **kwargs):
    run = {"duration": 20.0, "dt": 0.1, **kwargs}
    np.testing.assert_array_equal(
        np.asarray(mf.simulate(a, **run)[variable]), np.asarray(mf.simulate(b, **run)[variable])
    )


def test_network_of_hopf_round_trip(tmp_path):
    hopf = mf.Hopf(a=jnp.array([0.1, -0.2, 0.3]), omega=0.05)
    net = mf.Network(hopf, _conn(), k=0.4, speed=7.0, noise=mf.AdditiveNoise(0.02))
    mio.save_model(tmp_path / "net.eqx", net)
    loaded = mio.load_model(tmp_path / "net.eqx")
    assert type(loaded) is mf.Network and type(loaded.node) is mf.Hopf
    assert loaded.connectome.labels == ("region0", "region1", "region2")
    assert (loaded.coupled, loaded.max_delay, loaded.min_delay) == (
        net.coupled, net.max_delay, net.min_delay
    )
    _same_leaves(loaded, net)
    _same_run(loaded, net, "x", key=jax.random.key(3))
    # `like=` still works, and gives the same model.
    _same_leaves(mio.load_model(tmp_path / "net.eqx", like=net), loaded)


def test_jansen_rit_round_trip(tmp_path):
    jr = mf.JansenRit(mu=jnp.array([0.2, 0.22, 0.24]))
    net = mf.Network(jr, _conn(), mf.SigmoidalJansenRit(), k=0.5, speed=5.0)
    mio.save_model(tmp_path / "jr.eqx", net)
    loaded = mio.load_model(tmp_path / "jr.eqx")
    assert type(loaded.node) is mf.JansenRit and type(loaded.coupling) is mf.SigmoidalJansenRit
    assert loaded.coupled == ("y1", "y2")
    _same_leaves(loaded, net)
    _same_run(loaded, net, "y1")
    # a bare node model, not only networks
    mio.save_model(tmp_path / "node.eqx", jr)
    _same_leaves(mio.load_model(tmp_path / "node.eqx"), jr)


def test_constrained_parameters_and_static_options_round_trip(tmp_path):
    wc = mf.WilsonCowan(sigmoid="shifted", c_ee=mf.Bounded(12.0, 5.0, 20.0))
    net = mf.Network(
        wc, _conn(), k=mf.Positive(0.3), speed=mf.Bounded(6.0, 3.0, 12.0), coupled="E"
    )
    mio.save_model(tmp_path / "wc.eqx", net)
    loaded = mio.load_model(tmp_path / "wc.eqx")
    assert loaded.node.sigmoid == "shifted"
    assert type(loaded.k) is mf.Positive and type(loaded.node.c_ee) is mf.Bounded
    np.testing.assert_allclose(float(mf.unwrap(loaded).k), 0.3, rtol=1e-6)
    np.testing.assert_allclose(float(mf.unwrap(loaded).node.c_ee), 12.0, rtol=1e-6)
    # the delay bounds come from the Bounded speed's bounds, and are kept
    assert (loaded.max_delay, loaded.min_delay) == (net.max_delay, net.min_delay)
    _same_leaves(loaded, net)
    _same_run(mf.unwrap(loaded), mf.unwrap(net), "E")


class _MyNode(eqx.Module):
    a: jax.Array


def test_a_class_that_is_not_massfits_needs_like(tmp_path):
    model = {"net": mf.Network(mf.Hopf(), _conn(), speed=5.0), "mine": _MyNode(jnp.ones(2))}
    mio.save_model(tmp_path / "m.eqx", model)
    with pytest.raises(ValueError, match=r"m\.eqx.*_MyNode.*not a massfit class.*like="):
        mio.load_model(tmp_path / "m.eqx")
    loaded = mio.load_model(tmp_path / "m.eqx", like=model)
    _same_leaves(loaded, model)


def test_a_static_field_that_is_not_a_plain_value_needs_like(tmp_path):
    class WithFunction(eqx.Module):
        a: jax.Array
        f: object = eqx.field(static=True)

    model = WithFunction(jnp.ones(2), np.sin)
    mio.save_model(tmp_path / "f.eqx", model)
    with pytest.raises(ValueError, match=r"f\.eqx.*can't be rebuilt.*like="):
        mio.load_model(tmp_path / "f.eqx")
    assert mio.load_model(tmp_path / "f.eqx", like=model).f is np.sin


def test_a_file_without_a_skeleton_needs_like(tmp_path):
    # As written before the header described the model's structure.
    net = mf.Network(mf.Hopf(), _conn(), speed=5.0)
    header = {
        "format": "massfit.model",
        "format_version": 2,
        "class": "massfit._network.Network",
        "massfit_version": mf.__version__,
    }
    write_leaf_file(tmp_path / "old.eqx", header, net)
    with pytest.raises(ValueError, match=r"old\.eqx.*does not describe.*like="):
        mio.load_model(tmp_path / "old.eqx")
    _same_leaves(mio.load_model(tmp_path / "old.eqx", like=net), net)
