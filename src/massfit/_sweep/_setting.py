"""Setting a design's values into a model: paths and globs resolved once, shapes checked,
delay bounds of a swept `Network` widened to cover every swept speed."""

from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import PyTree

from .._network import _longest_delay, _shortest_delay, Network
from .._params import _key_name, _list_paths, _match, get_by_path, parameter_paths, unwrap
from ._designs import Design


def _getter(path: str) -> Callable[[Any], Any]:
    parts = path.split(".")

    def get(model):
        node = model
        for part in parts:
            if isinstance(node, (list, tuple)) and not hasattr(node, "_fields"):
                node = node[int(part)]
            elif isinstance(node, dict):
                node = next(v for k, v in node.items() if str(k) == part)
            else:
                node = getattr(node, part)
        return node

    return get


class Setter(eqx.Module):
    """Puts one point's values (a dict by design path) into a model: every parameter a path
    or glob matches is replaced by its physical value (a constraint by a plain array)."""

    targets: tuple[tuple[str, str, tuple[int, ...], Any], ...] = eqx.field(static=True)

    def __call__(self, model: PyTree, values: dict[str, Any]) -> PyTree:
        for pattern, path, shape, dtype in self.targets:
            value = jnp.broadcast_to(jnp.asarray(values[pattern], dtype=dtype), shape)
            model = eqx.tree_at(_getter(path), model, value)
        return model


def make_setter(model: PyTree, design: Design) -> Setter:
    """Resolve the design's paths against the model, refusing unknown paths, a parameter
    swept twice and values that don't fit a parameter's shape."""
    valid = parameter_paths(model)
    targets, owner = [], {}
    for pattern, values in design.axes.items():
        matches = _match(valid, pattern)
        if not matches:
            raise ValueError(
                f"Unknown parameter path {pattern!r} in the sweep's axes. Valid paths: "
                f"{_list_paths(valid)}."
            )
        given = values.shape[1:]
        for path in matches:
            if path in owner:
                raise ValueError(
                    f"The parameter {path!r} is swept by two axes, {owner[path]!r} and {pattern!r}."
                )
            owner[path] = pattern
            physical = jnp.asarray(unwrap(get_by_path(model, path)))
            if given not in ((), physical.shape):
                raise ValueError(
                    f"The values of the axis {pattern!r} don't fit the parameter {path!r}: "
                    f"expected shape (n,) (one number per point) or (n, *{physical.shape}) "
                    f"(one value of the parameter's shape per point), got "
                    f"{values.shape}."
                )
            if not jnp.issubdtype(physical.dtype, jnp.inexact):
                raise TypeError(f"The parameter {path!r} is not floating point.")
            targets.append((pattern, path, physical.shape, physical.dtype))
    return Setter(tuple(targets))


def widen_delays(model: PyTree, design: Design, setter: Setter) -> PyTree:
    """Every `Network` whose `speed` is swept, with `max_delay`/`min_delay` covering the
    delays at the lowest and highest swept speed (a speed sweep needs no bounds by hand)."""
    swept = {path: pattern for pattern, path, _, _ in setter.targets}
    nodes = jax.tree_util.tree_flatten_with_path(model, is_leaf=lambda x: isinstance(x, Network))[0]
    for keypath, node in nodes:
        if not isinstance(node, Network):
            continue
        prefix = ".".join(_key_name(k) for k in keypath)
        speed_path = f"{prefix}.speed" if prefix else "speed"
        if speed_path not in swept:
            continue
        speeds = design.axes[swept[speed_path]]
        if not np.all(speeds > 0):
            raise ValueError(
                f"The axis {swept[speed_path]!r} sets the conduction speed {speed_path!r}, "
                f"which must be > 0 mm/ms; got values down to {speeds.min()}."
            )
        max_delay = max(node.max_delay, _longest_delay(node.connectome, speeds.min()))
        min_delay = min(node.min_delay, _shortest_delay(node.connectome, speeds.max()))
        widened = Network(
            node.node,
            node.connectome,
            node.coupling,
            k=node.k,
            speed=node.speed,
            coupled=node.coupled,
            noise=node.noise,
            max_delay=max_delay,
            min_delay=min_delay,
        )
        model = widened if prefix == "" else eqx.tree_at(_getter(prefix), model, widened)
    return model
