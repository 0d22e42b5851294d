"""The objective protocol: `(prediction, target) -> scalar`, a loss or a score."""

import abc
import functools
from collections.abc import Callable
from typing import Any, TypeAlias

import equinox as eqx
import jax.numpy as jnp
from equinox import AbstractClassVar, AbstractVar
from jaxtyping import Array, Float

from .._metrics._checks import (
    as_series,
    check_finite,
    check_min_regions,
    check_same_regions,
    nan_unless_finite,
)
from .._metrics._units import common_magnitudes, magnitude


#: What an objective takes: a `(time, regions)` array (anything `jnp.asarray` accepts), or a
#: brainunit Quantity holding one.
SeriesLike: TypeAlias = Any


class AbstractObjective(eqx.Module):
    """Base class of the objectives built by `massfit.objectives`.

    An objective is a callable `(prediction, target) -> scalar` that works under `jax.jit`,
    `jax.grad` and `jax.vmap`. It is either a **score** to maximise (`is_score` True: e.g.
    `fc_corr()`) or a **loss** to minimise (`is_score` False: e.g. `timeseries_rmse()`,
    `fc_corr(as_loss=True)`). `name` is used by `combine` to label the parts.

    Any function with the same signature works wherever an objective does; subclassing is only
    needed for the `is_score` flag and a readable name.
    """

    name: AbstractClassVar[str]
    is_score: AbstractVar[bool]

    @abc.abstractmethod
    def __call__(self, prediction: SeriesLike, target: SeriesLike) -> Float[Array, ""]:
        """The objective's value for a prediction and a target."""



class AbstractScore(AbstractObjective):
    """An objective that is a score to maximise, or `1 - score` (a loss) with `as_loss=True`."""

    as_loss: AbstractVar[bool]

    @property
    def is_score(self) -> bool:
        return not self.as_loss

def is_score(objective: Callable) -> bool:
    """Whether `objective` is a score to maximise (rather than a loss to minimise).

    Reads the objective's `is_score` attribute; callables without one (e.g. plain functions
    written by a user) count as losses.

    **Arguments:**

    - `objective`: any `(prediction, target) -> scalar` callable.

    **Returns:**

    `True` for a score, `False` for a loss.

    **Example:**

    ```python
    objectives.is_score(objectives.fc_corr())  # True
    objectives.is_score(objectives.fc_corr(as_loss=True))  # False
    ```
    """
    return bool(getattr(objective, "is_score", False))


def score_or_loss(score: Float[Array, ""], as_loss: bool) -> Float[Array, ""]:
    """`1 - score` as a loss, or the score itself."""
    return 1.0 - score if as_loss else score


def exact_at_identity(
    value: Float[Array, ""], prediction: Array | None, target: Array | None, ideal: float
) -> Float[Array, ""]:
    """`ideal` where `prediction` equals `target` elementwise, else `value`.

    Every objective is at its optimum at identity, but computed there it is only within an ulp
    of it under `jit` (XLA may round the two sides' reductions differently). This makes the
    identity property exact, at the cost of one comparison; the gradient there is 0, which is
    correct at an optimum.
    """
    if target is None or prediction.shape != target.shape:
        return value
    return jnp.where(jnp.all(prediction == target), ideal, value)


def safe_sqrt(x: Float[Array, ""]) -> Float[Array, ""]:
    """`sqrt(x)` for `x >= 0` whose gradient at 0 is 0 rather than NaN (an RMSE at identity).

    Only 0 takes the guarded branch, and it returns `x` itself there, so a NaN stays NaN (a
    guard returning a constant 0 would turn a broken prediction into a perfect loss).
    """
    positive = x > 0
    return jnp.where(positive, jnp.sqrt(jnp.where(positive, x, 1.0)), x)


def propagates_non_finite(call: Callable) -> Callable:
    """Decorate an objective's `__call__`: its value is NaN when any input is not finite.

    Concrete non-finite input is refused before this (`prepare_pair`); under `jit`/`vmap` the
    values are traced, and a maximum, a sort, a kernel or a guarded square root could
    otherwise turn a NaN into a finite, even perfect, value.
    """

    @functools.wraps(call)
    def wrapper(self, prediction, *args, **kwargs):
        return nan_unless_finite(call(self, prediction, *args, **kwargs), prediction, args, kwargs)

    return wrapper


def builder(function: Callable) -> Callable:
    """Mark an objective builder, so that `combine` can tell one passed uncalled."""
    function.__massfit_builder__ = True
    return function


def prepare_pair(
    prediction: SeriesLike,
    target: SeriesLike,
    *,
    same_units: bool,
    same_time: bool,
    min_regions: int = 1,
    what: str = "this objective",
) -> tuple[Float[Array, "time_p regions"], Float[Array, "time_t regions"]]:
    """Validated plain arrays for a prediction and a target.

    With `same_units`, Quantities are expressed in one unit (incompatible units raise); without,
    each is reduced to its magnitude (for scale-free objectives).
    """
    if same_units:
        prediction, target = common_magnitudes(prediction, target)
    else:
        prediction, target = magnitude(prediction), magnitude(target)
    prediction = as_series("prediction", prediction)
    target = as_series("target", target)
    check_same_regions(prediction, target, same_time=same_time)
    check_min_regions("prediction", prediction, min_regions, what)
    check_finite("prediction", prediction)
    check_finite("target", target)
    return prediction, target
