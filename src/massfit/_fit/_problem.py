"""What every fitting method shares: splitting a model into trained and fixed parts, and the loss
assembled from either `loss_fn` or `objective` + `predict` + `target`, plus `penalty`."""

import inspect
from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, PyTree

from .._errors import describe, is_concrete
from .._objectives._targets import AbstractTarget
from .._params import get_by_path, trainable_spec, unwrap


class Loss(eqx.Module):
    """The loss of a fit, `(params, static, target, key) -> (loss, aux)`, and the physical
    values of the trained parameters.

    It holds only the user's functions and the trained paths. Under `eqx.filter_jit` the
    functions are static (compared by identity) and any arrays inside them (an objective or a
    `predict` that is an equinox Module) are traced, so the compiled steps (module-level
    `eqx.filter_jit` functions taking a `Loss`) are reused across calls with the same
    functions.
    """

    loss_fn: Callable | None
    objective: Callable | None
    predict: Callable | None
    penalty: Callable | None
    paths: tuple[str, ...] = eqx.field(static=True)

    def __call__(self, params, static, target, key):
        physical = unwrap(eqx.combine(params, static))
        extra = () if key is None else (key,)
        if self.loss_fn is not None:
            value, aux = _split_output(self.loss_fn(physical, *extra), "loss_fn")
        else:
            prediction = self.predict(physical, *extra)
            _check_target(prediction, target)
            value, aux = _split_output(self.objective(prediction, target), "objective")
        if self.penalty is not None:
            extra_loss = jnp.asarray(self.penalty(physical))
            if extra_loss.shape != ():
                raise ValueError(f"`penalty` must return a scalar; got shape {extra_loss.shape}.")
            value = value + extra_loss.astype(value.dtype)
        return value, aux

    def physical(self, params: PyTree, static: PyTree) -> dict[str, Array]:
        """Physical values of the trained parameters, by path."""
        model = eqx.combine(params, static)
        return {p: unwrap(get_by_path(model, p)) for p in self.paths}


class Problem(eqx.Module):
    """A model split for fitting. Not public: built by `make_problem`.

    - `params`: the trained leaves (arrays; `None` elsewhere). For a constraint, its `raw`.
    - `static`: everything else, for `eqx.combine(params, static)`.
    - `loss`: the `Loss`; `key` is None unless the caller asked for per-step keys.
    - `target`: the target pytree (or None).
    """

    params: PyTree
    static: PyTree
    loss: Loss
    target: PyTree

    @property
    def paths(self) -> tuple[str, ...]:
        """The trained parameter paths, in tree order."""
        return self.loss.paths

    def model(self, params: PyTree) -> PyTree:
        """The full model (constraints kept) with these trained leaves."""
        return eqx.combine(params, self.static)

    def physical(self, params: PyTree) -> dict[str, Array]:
        """Physical values of the trained parameters, by path."""
        return self.loss.physical(params, self.static)

    @property
    def n_scalars(self) -> int:
        """How many scalar numbers train."""
        return sum(int(np.size(x)) for x in jax.tree.leaves(self.params))


def _split_output(out: Any, name: str) -> tuple[Array, Any]:
    if isinstance(out, (tuple, list)) and len(out) == 2:
        value, aux = out
    else:
        value, aux = out, None
    if not hasattr(value, "shape"):
        value = jnp.asarray(value)
    if value.shape != ():
        raise ValueError(
            f"`{name}` must return a scalar loss, or `(loss, aux)`; got a loss of shape "
            f"{value.shape}. Reduce it to one number, e.g. with `jnp.mean`."
        )
    if not jnp.issubdtype(value.dtype, jnp.floating):
        raise TypeError(f"`{name}` must return a floating-point loss; got dtype {value.dtype}.")
    return value, aux


def _check_target(prediction: PyTree, target: PyTree) -> None:
    if isinstance(target, AbstractTarget):
        return  # a stated target (a statistic, or a Series): the objective checks it
    pred_leaves, pred_tree = jax.tree.flatten(prediction)
    target_leaves, target_tree = jax.tree.flatten(target)
    if pred_tree != target_tree:
        raise ValueError(
            f"`target` has structure {target_tree} but `predict(model)` returns {pred_tree}; "
            "they must match."
        )
    for p, t in zip(pred_leaves, target_leaves):
        if jnp.shape(p) != jnp.shape(t):
            raise ValueError(
                f"`target` has shape {jnp.shape(t)} but `predict(model)` returns shape "
                f"{jnp.shape(p)}. Make the prediction cover the same samples and regions as "
                "the target (duration, transient, save interval, observation)."
            )


def check_objective(objective: Any) -> None:
    """Refuse a score (to be maximised) where a loss is due."""
    if getattr(objective, "is_score", False):
        raise ValueError(
            "`objective` is a score, to be maximised (e.g. `objectives.fc_corr()`), but fitting "
            "minimises. Build its loss form instead, e.g. `objectives.fc_corr(as_loss=True)` "
            "(which is 1 - score)."
        )


def check_target_finite(target: PyTree) -> None:
    """Refuse a concrete target holding NaN or infinity, saying where: no loss computed from
    it could be finite, and a fit would have nothing to rank."""
    leaves = jax.tree_util.tree_leaves_with_path(target)
    for path, leaf in leaves:
        if not (eqx.is_array(leaf) and jnp.issubdtype(leaf.dtype, jnp.inexact)):
            continue
        if not is_concrete(leaf):
            continue
        values = np.asarray(leaf)
        bad = ~np.isfinite(values)
        if bad.any():
            name = "target" + jax.tree_util.keystr(path)
            at = tuple(int(i) for i in np.argwhere(bad)[0])
            where = f" at index {at if len(at) != 1 else at[0]}" if at else ""
            raise ValueError(
                f"`{name}` must be finite; it has {int(bad.sum())} non-finite value(s) of "
                f"{values.size}, the first{where} ({values[at]}). Remove or interpolate them "
                "before fitting (e.g. drop the affected regions or samples)."
            )


def _positional_arity(fn: Callable) -> tuple[int, int | None] | None:
    """(fewest, most) positional arguments `fn` takes (most None for *args); None if unknown."""
    try:
        parameters = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return None
    kinds = inspect.Parameter
    positional_kinds = (kinds.POSITIONAL_ONLY, kinds.POSITIONAL_OR_KEYWORD)
    positional = [p for p in parameters if p.kind in positional_kinds]
    required = sum(p.default is kinds.empty for p in positional)
    varargs = any(p.kind is kinds.VAR_POSITIONAL for p in parameters)
    return required, None if varargs else len(positional)


def check_key_arity(name: str, fn: Callable, with_key: bool) -> None:
    """Refuse `fn` (`loss_fn` or `predict`) whose signature does not fit how it will be called:
    `fn(model, key)` when the fit has a `key`, `fn(model)` otherwise."""
    arity = _positional_arity(fn)
    if arity is None:
        return
    fewest, most = arity
    n = 2 if with_key else 1
    if fewest <= n and (most is None or n <= most):
        return
    if with_key:
        raise TypeError(
            f"`key=` was given, so `{name}` is called as `{name}(model, key)` with a fresh key "
            f"every step, but `{name}` takes {most} positional argument(s). Add a key "
            f"argument to it (`def {name}(model, key): ...`), or leave out `key=` and close "
            "over a fixed key instead."
        )
    raise TypeError(
        f"`{name}` needs {fewest} positional arguments, but without `key=` it is called as "
        f"`{name}(model)`. Pass `key=jax.random.key(seed)` to the fit to give it a fresh key "
        "every step, or give its extra arguments defaults."
    )


def make_problem(
    model: PyTree,
    trainable: Any,
    loss_fn: Callable | None,
    objective: Callable | None,
    predict: Callable | None,
    target: PyTree | None,
    penalty: Callable | None,
    *,
    with_key: bool = False,
) -> Problem:
    """Validate the fit arguments and split the model. See `fit` for their meaning.

    The public fitting functions pass their own arguments of these names straight through,
    positionally; `with_key` says whether `loss_fn`/`predict` get a key as second argument.
    """
    if (loss_fn is None) == (objective is None):
        raise TypeError(
            "Give exactly one of `loss_fn=` (a function model -> loss or (loss, aux)) or "
            "`objective=` (a function (prediction, target) -> loss, used with `predict=` and "
            "`target=`)."
        )
    if loss_fn is not None:
        if not callable(loss_fn):
            raise TypeError(f"`loss_fn` must be callable; got {describe(loss_fn)}.")
        if predict is not None or target is not None:
            raise TypeError(
                "`predict=` and `target=` go with `objective=`; with `loss_fn=` compute the "
                "prediction and compare it to the target inside `loss_fn`."
            )
        check_key_arity("loss_fn", loss_fn, with_key)
    else:
        if not callable(objective):
            raise TypeError(f"`objective` must be callable; got {describe(objective)}.")
        check_objective(objective)
        if predict is None or not callable(predict):
            raise TypeError(
                "`objective=` needs `predict=`, a function model -> prediction (e.g. "
                f"simulate and observe); got {describe(predict)}."
            )
        check_key_arity("predict", predict, with_key)
        if target is None:
            raise TypeError("`objective=` needs `target=`, the data the prediction is fit to.")
        target = jax.tree.map(jnp.asarray, target)
        check_target_finite(target)
    if penalty is not None and not callable(penalty):
        raise TypeError(f"`penalty` must be a callable model -> scalar; got {describe(penalty)}.")

    spec, paths = trainable_spec(model, trainable)
    params, static = eqx.partition(model, spec)
    # Strongly typed, so that the arrays an optimiser returns match and nothing recompiles.
    params = jax.tree.map(lambda x: jnp.asarray(x, dtype=jnp.asarray(x).dtype), params)
    loss = Loss(loss_fn=loss_fn, objective=objective, predict=predict, penalty=penalty, paths=paths)
    return Problem(params=params, static=static, loss=loss, target=target)
