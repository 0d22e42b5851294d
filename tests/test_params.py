"""Constraints (Bounded, Positive, unwrap), selection by path or `where`, and l2_prior."""

from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from massfit._fit import l2_prior
from massfit._params import (
    Bounded,
    get_by_path,
    parameter_paths,
    Positive,
    select,
    trainable_spec,
    unwrap,
)

from .helpers import finite_difference


class Node(eqx.Module):
    a: Any
    omega: Any
    n_regions: int = 3
    flags: Any = None
    name: str = eqx.field(static=True, default="hopf")


class Coupling(eqx.Module):
    k: Any
    gain: Any


class Net(eqx.Module):
    node: Node
    coupling: Coupling
    speed: Any


class Experiment(eqx.Module):
    """A user's larger model with a network inside."""

    net: Net
    readout: list
    offset: float


def make_net():
    node = Node(a=Bounded(jnp.array([0.1, 0.2, 0.3]), -1.0, 1.0), omega=jnp.ones(3))
    node = eqx.tree_at(lambda n: n.flags, node, jnp.array([True, False, True]))
    return Net(node=node, coupling=Coupling(k=Positive(0.5), gain=jnp.array(2.0)), speed=10.0)


def make_experiment():
    return Experiment(net=make_net(), readout=[jnp.zeros(2), jnp.ones(2)], offset=0.5)


# --- constraints -------------------------------------------------------------------------


@pytest.mark.parametrize("value", [0.3, -0.999, 1.999])
def test_bounded_round_trip(value):
    b = Bounded(value, lower=-1.0, upper=2.0)
    np.testing.assert_allclose(b.unwrap(), value, rtol=1e-12)
    assert b.raw.dtype == jnp.float64


def test_bounded_arrays_and_per_element_bounds():
    value = jnp.array([0.1, 5.0, -3.0])
    b = Bounded(value, lower=jnp.array([0.0, 4.0, -4.0]), upper=jnp.array([1.0, 6.0, 0.0]))
    np.testing.assert_allclose(unwrap(b), value, rtol=1e-12)
    assert b.raw.shape == (3,)
    # Any raw value maps inside the bounds.
    extreme = eqx.tree_at(lambda c: c.raw, b, jnp.array([-50.0, 0.0, 50.0]))
    out = np.asarray(unwrap(extreme))
    assert out[0] >= 0.0 and out[0] < 1e-20 and out[1] == 5.0 and out[2] <= 0.0
    # float32 in, float32 stored.
    b32 = Bounded(jnp.array([0.5], jnp.float32), 0.0, 1.0)
    assert b32.raw.dtype == jnp.float32 and b32.lower.dtype == jnp.float32


def test_bounded_rejects_bad_bounds_and_values():
    with pytest.raises(ValueError, match="lower < upper"):
        Bounded(0.5, lower=1.0, upper=1.0)
    with pytest.raises(ValueError, match="lower < upper"):
        Bounded(0.5, lower=2.0, upper=1.0)
    with pytest.raises(ValueError, match="not strictly inside"):
        Bounded(2.5, lower=0.0, upper=2.0)
    with pytest.raises(ValueError, match="not strictly inside"):
        Bounded(0.0, lower=0.0, upper=2.0)
    with pytest.raises(ValueError, match="not strictly inside"):
        Bounded(jnp.array([0.5, 3.0]), lower=0.0, upper=2.0)
    with pytest.raises(ValueError, match="finite bounds"):
        Bounded(0.5, lower=0.0, upper=jnp.inf)
    with pytest.raises(ValueError, match="broadcast"):
        Bounded(0.5, lower=jnp.zeros(3), upper=1.0)
    with pytest.raises(TypeError):
        Bounded(True, 0.0, 2.0)


@pytest.mark.parametrize("value", [1e-6, 0.5, 1.0, 100.0])
def test_positive_round_trip(value):
    np.testing.assert_allclose(Positive(value).unwrap(), value, rtol=1e-10)


def test_positive_rejects_non_positive():
    for bad in (0.0, -1.0, jnp.array([1.0, -0.1]), jnp.nan):
        with pytest.raises(ValueError, match="> 0"):
            Positive(bad)


def test_gradient_through_bounded_matches_finite_differences():
    def f(raw):
        b = eqx.tree_at(lambda c: c.raw, Bounded(jnp.array([0.2, 1.5]), 0.0, 2.0), raw)
        return jnp.sum(unwrap(b) ** 3)

    raw = Bounded(jnp.array([0.2, 1.5]), 0.0, 2.0).raw
    np.testing.assert_allclose(jax.grad(f)(raw), finite_difference(f, raw), rtol=1e-6)


def test_unwrap_nested_and_idempotent():
    exp = make_experiment()
    phys = unwrap(exp)
    np.testing.assert_allclose(phys.net.node.a, [0.1, 0.2, 0.3], rtol=1e-12)
    np.testing.assert_allclose(phys.net.coupling.k, 0.5, rtol=1e-12)
    assert phys.net.speed == 10.0 and phys.net.node.name == "hopf"
    assert eqx.tree_equal(unwrap(phys), phys)


# --- paths and selection ------------------------------------------------------------------


def test_parameter_paths():
    assert parameter_paths(make_net()) == (
        "node.a",
        "node.omega",
        "coupling.k",
        "coupling.gain",
        "speed",
    )
    assert parameter_paths(make_experiment()) == (
        "net.node.a",
        "net.node.omega",
        "net.coupling.k",
        "net.coupling.gain",
        "net.speed",
        "readout.0",
        "readout.1",
        "offset",
    )


def test_get_by_path():
    exp = make_experiment()
    assert isinstance(get_by_path(exp, "net.node.a"), Bounded)
    assert get_by_path(exp, "net.node") is exp.net.node
    assert get_by_path(exp, "readout.1") is exp.readout[1]
    np.testing.assert_allclose(unwrap(get_by_path(exp, "net.coupling.k")), 0.5)
    with pytest.raises(ValueError, match="net.node.omega"):
        get_by_path(exp, "net.node.b")
    with pytest.raises(ValueError, match="Unknown parameter path"):
        get_by_path(exp, "readout.7")


def _selected(model, spec):
    return set(trainable_spec(model, spec)[1])


def test_select_paths_sees_through_constraints():
    net = make_net()
    spec = select(net, "node.a")
    assert jax.tree.structure(spec) == jax.tree.structure(net)
    assert spec.node.a.raw is True
    assert spec.node.a.lower is False and spec.node.a.upper is False
    params, static = eqx.partition(net, spec)
    leaves = jax.tree.leaves(params)
    assert len(leaves) == 1 and leaves[0] is net.node.a.raw
    assert eqx.tree_equal(eqx.combine(params, static), net)


def test_select_globs_and_prefixes():
    net = make_net()
    assert _selected(net, select(net, "coupling.*")) == {"coupling.k", "coupling.gain"}
    assert _selected(net, select(net, "coupling")) == {"coupling.k", "coupling.gain"}
    assert _selected(net, select(net, "*.k", "speed")) == {"coupling.k", "speed"}
    assert _selected(net, select(net, "node.*")) == {"node.a", "node.omega"}
    exp = make_experiment()
    assert _selected(exp, select(exp, "net.node.a")) == {"net.node.a"}
    assert _selected(exp, select(exp, "readout")) == {"readout.0", "readout.1"}


def test_select_where():
    net = make_net()
    spec = select(net, where=lambda m: (m.node.a, m.coupling.k))
    assert spec.node.a.raw is True and spec.coupling.k.raw is True
    assert spec.node.a.lower is False and spec.node.omega is False
    assert _selected(net, spec) == {"node.a", "coupling.k"}
    assert _selected(net, select(net, where=lambda m: m.coupling)) == {
        "coupling.k",
        "coupling.gain",
    }
    exp = make_experiment()
    assert _selected(exp, select(exp, where=lambda e: e.net.speed)) == {"net.speed"}


def test_trainable_forms_agree():
    net = make_net()
    expected = select(net, "node.a", "coupling.k")
    forms = [
        ["node.a", "coupling.k"],
        ("coupling.k", "node.a"),
        lambda m: (m.node.a, m.coupling.k),
        expected,
    ]
    for form in forms:
        spec, paths = trainable_spec(net, form)
        assert paths == ("node.a", "coupling.k")
        assert eqx.tree_equal(spec, expected)
    # A hand-made spec marking whole constraints selects only their raw leaves.
    everything = jax.tree.map(lambda _: True, net)
    spec, paths = trainable_spec(net, everything)
    assert paths == parameter_paths(net)
    assert spec.node.a.lower is False and spec.node.n_regions is False


def test_unknown_path_lists_valid_ones():
    net = make_net()
    with pytest.raises(ValueError, match=r"'node\.b'.*'node\.a', 'node\.omega'"):
        select(net, "node.b")
    with pytest.raises(ValueError, match="No parameter matches 'coupling.x"):
        trainable_spec(net, ["coupling.k", "coupling.x*"])
    # Non-parameter fields are not selectable.
    with pytest.raises(ValueError, match="No parameter matches 'node.n_regions'"):
        select(net, "node.n_regions")


def test_nothing_selected_raises():
    net = make_net()
    with pytest.raises(ValueError, match="selected no parameter"):
        select(net, where=lambda m: m.node.flags)
    with pytest.raises(ValueError, match="selects no parameter"):
        trainable_spec(net, jax.tree.map(lambda _: False, net))
    with pytest.raises(TypeError, match="Say what to select"):
        select(net)
    with pytest.raises(TypeError, match="not both"):
        select(net, "node.a", where=lambda m: m.node.a)
    with pytest.raises(TypeError, match="`trainable` must be"):
        trainable_spec(net, 3)


# --- l2_prior -----------------------------------------------------------------------------


def test_l2_prior_value_and_validation():
    net = make_net()
    penalty = l2_prior({"coupling.k": (1.0, 0.25), "node.a": (0.0, 0.1)})
    expected = 0.5 * ((0.5 - 1.0) / 0.25) ** 2 + 0.5 * np.sum(
        (np.array([0.1, 0.2, 0.3]) / 0.1) ** 2
    )
    np.testing.assert_allclose(penalty(net), expected, rtol=1e-10)
    np.testing.assert_allclose(penalty(unwrap(net)), expected, rtol=1e-10)
    with pytest.raises(ValueError, match="scale"):
        l2_prior({"coupling.k": (1.0, 0.0)})
    with pytest.raises(TypeError):
        l2_prior({})
    with pytest.raises(ValueError, match="Unknown parameter path"):
        l2_prior({"coupling.q": (1.0, 1.0)})(net)
