"""Parameters as values: constraints (`Bounded`, `Positive`, `unwrap`) and choosing what trains
by path (`select`, `parameter_paths`, `get_by_path`).

A model is an ordinary equinox Module; nothing in it is marked trainable. A constraint is a small
Module standing where a parameter would, holding the parameter *unconstrained* (`raw`) plus what
is needed to map it back (the pattern of the `paramax` package). An optimiser moves `raw` freely;
`unwrap(model)` gives the model with every constraint replaced by its physical value.
"""

import abc
import fnmatch
from collections.abc import Callable, Sequence
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, PyTree

from ._errors import describe, eager_constants, is_concrete


class AbstractConstraint(eqx.Module):
    """Base class of constrained parameters.

    A constraint stores its parameter unconstrained in the array field `raw` (the only leaf an
    optimiser or a selection ever touches) and maps it to the physical value in `unwrap()`.
    Subclasses are final.
    """

    raw: eqx.AbstractVar[Array]

    @abc.abstractmethod
    def unwrap(self) -> Array:
        """The physical value of the parameter."""


def _as_float_array(value: ArrayLike, name: str) -> Array:
    if isinstance(value, AbstractConstraint):
        raise TypeError(f"`{name}` must be a number or an array, not another constraint.")
    if isinstance(value, (bool, np.bool_)) or getattr(value, "dtype", None) == bool:
        raise TypeError(f"`{name}` must be a real number or array; got {describe(value)}.")
    array = jnp.asarray(value)
    if not jnp.issubdtype(array.dtype, jnp.floating):
        array = jnp.asarray(value, dtype=float)
    return array


class Bounded(AbstractConstraint):
    """A parameter confined to the open interval `(lower, upper)`.

    Made from its **physical value**: `Bounded(0.3, lower=0.0, upper=2.0)`. It is stored
    unconstrained as `raw = logit((value - lower) / (upper - lower))` and mapped back with
    `lower + (upper - lower) * sigmoid(raw)`, so any optimiser step keeps it inside the bounds.

    **Arguments:**

    - `value`: the physical starting value, a number or an array (a per-region parameter),
        strictly inside the bounds, in the parameter's own units.
    - `lower`, `upper`: the bounds, in the same units; numbers or arrays broadcastable to the
        shape of `value`, finite, with `lower < upper`.

    A value outside the bounds, or on one of them, raises a `ValueError` (it is never clipped).
    The checks run when the inputs are concrete (not traced).

    The array is stored in the dtype of `value` (the default float dtype for Python numbers);
    the bounds are cast to it.

    **Example:**

    ```python
    node = eqx.tree_at(lambda n: n.a, node, massfit.Bounded(0.3, lower=-1.0, upper=2.0))
    massfit.unwrap(node).a  # 0.3
    ```
    """

    raw: Array
    lower: Array
    upper: Array

    @eager_constants
    def __init__(self, value: ArrayLike, lower: ArrayLike, upper: ArrayLike):
        value = _as_float_array(value, "value")
        lower = jnp.asarray(_as_float_array(lower, "lower"), dtype=value.dtype)
        upper = jnp.asarray(_as_float_array(upper, "upper"), dtype=value.dtype)
        try:
            shape = jnp.broadcast_shapes(value.shape, lower.shape, upper.shape)
        except ValueError:
            shape = None
        if shape != value.shape:
            raise ValueError(
                "`lower` and `upper` must broadcast to the shape of `value` "
                f"{value.shape}; got shapes {lower.shape} and {upper.shape}."
            )
        if is_concrete(value, lower, upper):
            lo, hi, v = np.asarray(lower), np.asarray(upper), np.asarray(value)
            if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))):
                raise ValueError(
                    f"Bounded needs finite bounds; got lower={lo}, upper={hi}. For a "
                    "parameter bounded on one side only use `Positive` (shifting or negating "
                    "the parameter in the model if needed)."
                )
            if np.any(lo >= hi):
                raise ValueError(f"Bounded needs lower < upper; got lower={lo}, upper={hi}.")
            if not np.all((v > lo) & (v < hi)):
                raise ValueError(
                    f"The value {v} is not strictly inside the bounds ({lo}, {hi}). Bounded "
                    "never clips: pass a starting value inside the interval (on a bound the "
                    "unconstrained value would be infinite)."
                )
        unit = (value - lower) / (upper - lower)
        self.raw = jnp.log(unit) - jnp.log1p(-unit)
        self.lower = lower
        self.upper = upper

    def unwrap(self) -> Array:
        return self.lower + (self.upper - self.lower) * jax.nn.sigmoid(self.raw)


class Positive(AbstractConstraint):
    """A parameter confined to `(0, inf)`.

    Made from its **physical value**: `Positive(10.0)`. It is stored unconstrained as the
    inverse softplus of the value and mapped back with `softplus(raw) = log(1 + exp(raw))`:
    close to `exp` for small values, close to the identity for large ones, so steps are taken
    in roughly physical units away from zero.

    **Arguments:**

    - `value`: the physical starting value, a number or an array, strictly positive, in the
        parameter's own units. A value `<= 0` raises a `ValueError` (checked when concrete).

    **Example:**

    ```python
    net = eqx.tree_at(lambda n: n.speed, net, massfit.Positive(10.0))  # mm/ms
    ```
    """

    raw: Array

    @eager_constants
    def __init__(self, value: ArrayLike):
        value = _as_float_array(value, "value")
        if is_concrete(value):
            v = np.asarray(value)
            if not np.all(np.isfinite(v) & (v > 0)):
                raise ValueError(f"Positive needs a finite value > 0; got {v}.")
        # Inverse softplus, written to stay accurate for both small and large values.
        self.raw = value + jnp.log(-jnp.expm1(-value))

    def unwrap(self) -> Array:
        return jax.nn.softplus(self.raw)


def is_constraint(x: Any) -> bool:
    """Whether `x` is a constraint (`Bounded`, `Positive`, ...)."""
    return isinstance(x, AbstractConstraint)


def unwrap(tree: PyTree) -> PyTree:
    """Replace every constraint in a pytree by its physical value.

    Call it once at the top of a loss; `fit` and the population searches already do it before
    calling `loss_fn`, `predict` and `penalty`. A tree without constraints comes back unchanged.

    **Arguments:**

    - `tree`: any pytree, e.g. a model.

    **Returns:**

    The same pytree with each `Bounded`/`Positive` node replaced by its physical value array.
    """
    return jax.tree.map(
        lambda x: x.unwrap() if is_constraint(x) else x, tree, is_leaf=is_constraint
    )


def _key_name(key) -> str:
    if isinstance(key, jax.tree_util.GetAttrKey):
        return key.name
    if isinstance(key, jax.tree_util.SequenceKey):
        return str(key.idx)
    if isinstance(key, (jax.tree_util.DictKey, jax.tree_util.FlattenedIndexKey)):
        return str(key.key)
    return str(key)


def _path_string(keypath) -> str:
    return ".".join(_key_name(k) for k in keypath)


def _is_parameter(x: Any) -> bool:
    return is_constraint(x) or eqx.is_inexact_array_like(x)


def parameter_paths(model: PyTree) -> tuple[str, ...]:
    """The dotted paths of every parameter of a model, in tree order.

    A parameter is a floating-point leaf (an array, selected whole, or a Python float) or a
    constraint (whose path names the constraint itself: `"node.a"`, not `"node.a.raw"`).
    Integer, boolean and static fields are not parameters.

    **Example:**

    ```python
    massfit.parameter_paths(net)  # ('node.a', 'node.omega', ..., 'k', 'speed', ...)
    ```
    """
    leaves = jax.tree_util.tree_flatten_with_path(model, is_leaf=is_constraint)[0]
    return tuple(_path_string(kp) for kp, leaf in leaves if _is_parameter(leaf))


def _list_paths(valid: Sequence[str], limit: int = 60) -> str:
    shown = ", ".join(repr(p) for p in valid[:limit])
    more = f", ... ({len(valid) - limit} more)" if len(valid) > limit else ""
    return shown + more


def get_by_path(model: PyTree, path: str) -> Any:
    """The node of a model at a dotted path, as stored (a constraint stays a constraint).

    **Arguments:**

    - `model`: the model (any pytree of Modules, tuples, lists and dicts).
    - `path`: a dotted path as listed by `parameter_paths`, e.g. `"node.a"`, or the path of
        a sub-module, e.g. `"node"`. Sequence items are numbered: `"layers.0.weight"`.

    Apply `unwrap` to the result for the physical value. An unknown path raises a
    `ValueError` listing the valid parameter paths.
    """
    if not isinstance(path, str) or path == "":
        raise TypeError(f"`path` must be a non-empty dotted string; got {path!r}.")
    node = model
    for part in path.split("."):
        found = False
        if isinstance(node, (list, tuple)) and not hasattr(node, "_fields"):
            if part.isdigit() and int(part) < len(node):
                node, found = node[int(part)], True
        elif isinstance(node, dict):
            for k, v in node.items():
                if str(k) == part:
                    node, found = v, True
                    break
        elif not part.startswith("_") and hasattr(node, part):
            node, found = getattr(node, part), True
        if not found:
            raise ValueError(
                f"Unknown parameter path {path!r} (no {part!r} there). Valid paths: "
                f"{_list_paths(parameter_paths(model))}."
            )
    return node


class _Label:
    """Marks one leaf of a model with its parameter path (None if not a parameter)."""

    def __init__(self, path: str | None, selected: bool = False):
        self.path = path
        self.selected = selected


def _labels(model: PyTree) -> PyTree:
    """A tree of `_Label`s with the structure of `model`; a constraint's `raw` carries its path."""

    def label(keypath, leaf):
        path = _path_string(keypath)
        if is_constraint(leaf):
            blank = jax.tree.map(lambda _: _Label(None), leaf)
            return eqx.tree_at(lambda c: c.raw, blank, _Label(path))
        return _Label(path if _is_parameter(leaf) else None)

    return jax.tree_util.tree_map_with_path(label, model, is_leaf=is_constraint)


def _spec_from_paths(labels: PyTree, chosen: set[str]) -> PyTree:
    return jax.tree.map(lambda lab: lab.path is not None and lab.path in chosen, labels)


def _match(valid: Sequence[str], pattern: str) -> list[str]:
    return [
        p
        for p in valid
        if p == pattern or p.startswith(pattern + ".") or fnmatch.fnmatchcase(p, pattern)
    ]


def _selected_paths(
    model: PyTree, paths: Sequence[str], where: Callable | None
) -> tuple[PyTree, tuple[str, ...]]:
    if where is not None and paths:
        raise TypeError("Pass either paths or `where=`, not both.")
    if where is None and not paths:
        raise TypeError(
            "Say what to select: dotted paths/globs such as `select(model, 'node.a', "
            "'node.*')`, or `select(model, where=lambda m: (m.node.a, m.k))`."
        )
    valid = parameter_paths(model)
    labels = _labels(model)
    chosen: set[str] = set()
    if where is None:
        for pattern in paths:
            if not isinstance(pattern, str):
                raise TypeError(f"Paths must be strings; got {describe(pattern)}.")
            matches = _match(valid, pattern)
            if not matches:
                raise ValueError(
                    f"No parameter matches {pattern!r}. Valid paths: {_list_paths(valid)}."
                )
            chosen.update(matches)
    else:
        if not callable(where):
            raise TypeError(f"`where` must be a callable model -> node(s); got {describe(where)}.")
        marked = eqx.tree_at(
            where,
            labels,
            replace_fn=lambda node: jax.tree.map(lambda lab: _Label(lab.path, True), node),
        )
        chosen = {
            lab.path for lab in jax.tree.leaves(marked) if lab.selected and lab.path is not None
        }
        if not chosen:
            raise ValueError(
                "`where` selected no parameter (only non-floating or static fields, or "
                f"nothing). Valid paths: {_list_paths(valid)}."
            )
    ordered = tuple(p for p in valid if p in chosen)
    return _spec_from_paths(labels, chosen), ordered


def select(model: PyTree, *paths: str, where: Callable[[PyTree], Any] | None = None) -> PyTree:
    """Choose parameters of a model, returning a filter spec for `eqx.partition`.

    Either by dotted paths and globs over `parameter_paths(model)`:

    - an exact path, `"node.a"` (an array-valued field is selected whole);
    - the path of a sub-module, `"coupling"`, selecting every parameter under it;
    - a glob, `"node.*"`, `"*.sigma"` (`fnmatch` rules; `*` also crosses dots).

    or with `where`, a function returning the node(s) to select, as in `eqx.tree_at`:
    `select(model, where=lambda m: (m.node.a, m.k))`. Returning a sub-module selects every
    parameter under it.

    Selection sees through constraints: selecting `"node.a"` where `node.a` is a `Bounded`
    marks its unconstrained `raw` leaf, never its bounds. Paths are relative to the model
    passed, so a network inside a larger model is `"net.node.a"`.

    **Arguments:**

    - `model`: the model.
    - `*paths`: dotted paths or globs.
    - `where`: alternatively, a callable `model -> node | tuple of nodes`.

    **Returns:**

    A pytree of bools with the structure of `model` (True on the selected leaves), for
    `eqx.partition(model, spec)` or `fit(..., trainable=spec)`.

    **Raises:**

    `ValueError` for a path that matches nothing (listing the valid paths) or when nothing at
    all is selected; `TypeError` for malformed arguments.
    """
    return _selected_paths(model, paths, where)[0]


def trainable_spec(model: PyTree, trainable: Any) -> tuple[PyTree, tuple[str, ...]]:
    """Normalise every accepted form of `trainable` into (filter spec, selected paths).

    Accepted: a path/glob string, a list or tuple of them, a `where` callable, or a filter spec
    (a pytree of bools with the structure of `model`; for a constraint only its `raw` flag
    counts).
    """
    if isinstance(trainable, str):
        return _selected_paths(model, (trainable,), None)
    if (
        isinstance(trainable, (list, tuple))
        and trainable
        and all(isinstance(p, str) for p in trainable)
    ):
        return _selected_paths(model, tuple(trainable), None)
    leaves = jax.tree.leaves(trainable)
    if leaves and all(isinstance(x, (bool, np.bool_)) for x in leaves):
        labels = _labels(model)
        try:
            kept = eqx.filter(labels, trainable)
        except ValueError as e:
            raise ValueError(
                "`trainable` looks like a filter spec but does not match the structure of "
                f"the model ({e}). Build one with `massfit.select(model, ...)`."
            ) from None
        chosen = {
            lab.path for lab in jax.tree.leaves(kept) if lab is not None and lab.path is not None
        }
        if not chosen:
            raise ValueError(
                "`trainable` selects no parameter. Valid paths: "
                f"{_list_paths(parameter_paths(model))}."
            )
        ordered = tuple(p for p in parameter_paths(model) if p in chosen)
        return _spec_from_paths(labels, chosen), ordered
    if callable(trainable):
        return _selected_paths(model, (), trainable)
    raise TypeError(
        "`trainable` must be a path or glob string ('node.a', 'node.*'), a list of them, "
        "a `where` callable (lambda m: (m.node.a, m.k)) or a filter spec from "
        f"`massfit.select`; got {describe(trainable)}."
    )
