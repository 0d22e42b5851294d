"""`combine`: a weighted sum of objectives, with its parts available for logging."""

import math
from collections.abc import Callable
from typing import ClassVar

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

from .._errors import describe
from .._metrics._checks import is_real_scalar
from ._base import AbstractObjective, is_score, SeriesLike


class Combined(AbstractObjective):
    """A weighted sum of objectives: what [`massfit.objectives.combine`][] returns.

    Calling it gives `sum(weight * objective(prediction, target))`, a loss. `parts` gives each
    term's own (unweighted) value by name, for logging.
    """

    weights: tuple[float, ...] = eqx.field(static=True)
    objectives: tuple[Callable, ...]
    names: tuple[str, ...] = eqx.field(static=True)
    name: ClassVar[str] = "combined"
    is_score: ClassVar[bool] = False

    def __call__(self, prediction: SeriesLike, target: SeriesLike) -> Float[Array, ""]:
        parts = self.parts(prediction, target)
        total = None
        for weight, name in zip(self.weights, self.names, strict=True):
            term = weight * parts[name]
            total = term if total is None else total + term
        return total

    def parts(self, prediction: SeriesLike, target: SeriesLike) -> dict[str, Float[Array, ""]]:
        """Each term's unweighted value, keyed by its name (in the order given to `combine`).

        Names come from the builders (`"timeseries_rmse"`, `"fc_corr"`, ...) or a function's
        `__name__`; repeats get `_2`, `_3`, ... appended. The combined loss is
        `sum(w * parts[n] for w, n in zip(self.weights, self.names))` (key by name: a dict
        returned through `jax.jit` comes back with sorted keys).
        """
        parts = {}
        for name, objective in zip(self.names, self.objectives, strict=True):
            value = jnp.asarray(objective(prediction, target))
            if value.shape != ():
                raise ValueError(
                    f"The objective {name!r} returned an array of shape {value.shape}; an "
                    "objective must reduce to a scalar (e.g. with jnp.mean)."
                )
            if not jnp.issubdtype(value.dtype, jnp.floating):
                value = value.astype(jnp.result_type(float))
            parts[name] = value
        return parts


def _weight(index: int, weight) -> float:
    """`weight` as a finite float, or an error."""
    if not is_real_scalar(weight):
        raise TypeError(
            f"The weight of term {index} must be a real number (int or float, not bool); got "
            f"{describe(weight)}. Terms are (weight, objective) pairs, weight first."
        )
    value = float(weight)
    if not math.isfinite(value):
        raise ValueError(f"The weight of term {index} must be finite; got {value}.")
    return value


def _name(objective) -> str:
    if isinstance(objective, AbstractObjective):
        return objective.name
    return getattr(objective, "__name__", type(objective).__name__)


def combine(*terms: tuple | list) -> Combined:
    """Sum weighted objectives into one loss.

    `combine((w1, f1), (w2, f2), ...)` returns the loss
    `(prediction, target) -> w1 * f1(prediction, target) + w2 * f2(prediction, target) + ...`:
    the standard way to balance, say, a time-domain term against a connectivity term. Any
    callable with the objective signature can be a term, including functions you write (they
    count as losses). Terms' values are also available by name through `Combined.parts`.

    The result is a loss to minimise, so a score (e.g. `fc_corr()`) with a positive weight is
    refused: use its loss form (`fc_corr(as_loss=True)`, `1 - score`) or a negative weight.

    **Arguments:**

    - `*terms`: `(weight, objective)` pairs; weights are real numbers (not bools), objectives
        callables `(prediction, target) -> scalar`. At least one.

    **Returns:**

    A [`massfit.objectives.Combined`][] loss.

    **Example:**

    ```python
    loss = objectives.combine(
        (1.0, objectives.timeseries_rmse()),
        (0.5, objectives.fc_corr(as_loss=True)),
    )
    loss(prediction, target)  # scalar
    loss.parts(prediction, target)  # {"timeseries_rmse": ..., "fc_corr": ...}
    ```
    """
    if not terms:
        raise ValueError(
            "combine needs at least one (weight, objective) pair, e.g. "
            "combine((1.0, objectives.timeseries_rmse())); got none."
        )
    weights, objectives, names = [], [], []
    for index, term in enumerate(terms):
        if not isinstance(term, tuple | list) or len(term) != 2:
            raise TypeError(
                f"Term {index} of combine must be a (weight, objective) pair; got {describe(term)}."
            )
        weight, objective = _weight(index, term[0]), term[1]
        if getattr(objective, "__massfit_builder__", False):
            raise TypeError(
                f"Term {index} is the builder `{objective.__name__}` itself; call it to get the "
                f"objective: `{objective.__name__}(...)`."
            )
        if not callable(objective):
            raise TypeError(
                f"The objective of term {index} must be a callable (prediction, target) -> "
                f"scalar; got {describe(objective)}."
            )
        name = _name(objective)
        if is_score(objective) and weight > 0:
            raise ValueError(
                f"Term {index} ({name}) is a score to maximise, but combine builds a loss to "
                f"minimise and its weight {weight} is positive. Use its loss form (e.g. "
                f"`{name}(as_loss=True)`, which is 1 - score) or a negative weight."
            )
        unique, count = name, 1
        while unique in names:
            count += 1
            unique = f"{name}_{count}"
        weights.append(weight)
        objectives.append(objective)
        names.append(unique)
    return Combined(weights=tuple(weights), objectives=tuple(objectives), names=tuple(names))
