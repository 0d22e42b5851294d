"""Point-by-point comparisons of two series: RMSE and cosine similarity."""

from typing import ClassVar

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from .._errors import is_concrete
from .._metrics._checks import as_series
from .._metrics._connectivity import cosine
from .._metrics._units import is_quantity, magnitude
from ._base import (
    AbstractObjective,
    AbstractScore,
    builder,
    exact_at_identity,
    prepare_pair,
    propagates_non_finite,
    safe_sqrt,
    score_or_loss,
    SeriesLike,
)
from ._targets import series_only


class TimeseriesRMSE(AbstractObjective):
    """Root-mean-square difference of two series; see [`massfit.objectives.timeseries_rmse`][]."""

    name: ClassVar[str] = "timeseries_rmse"
    is_score: ClassVar[bool] = False

    @propagates_non_finite
    def __call__(self, prediction: SeriesLike, target: SeriesLike) -> Float[Array, ""]:
        target = series_only(target, "timeseries_rmse")
        # Check the shapes first (a subtraction would broadcast), then subtract with the units
        # attached, so that incompatible units raise before they are stripped.
        plain_prediction, plain_target = prepare_pair(
            magnitude(prediction), magnitude(target), same_units=False, same_time=True
        )
        if is_quantity(prediction) or is_quantity(target):
            difference = as_series("prediction - target", magnitude(prediction - target))
        else:
            difference = plain_prediction - plain_target
        return safe_sqrt(jnp.mean(difference * difference))


class CosineSim(AbstractScore):
    """Cosine similarity of two flattened series; see [`massfit.objectives.cosine_sim`][]."""

    as_loss: bool = eqx.field(static=True)
    name: ClassVar[str] = "cosine_sim"

    @propagates_non_finite
    def __call__(self, prediction: SeriesLike, target: SeriesLike) -> Float[Array, ""]:
        target = series_only(target, "cosine_sim")
        prediction, target = prepare_pair(prediction, target, same_units=False, same_time=True)
        for name, x in (("prediction", prediction), ("target", target)):
            if is_concrete(x) and not np.any(np.asarray(x)):
                raise ValueError(
                    f"`{name}` is all zeros: its cosine similarity with anything is undefined."
                )
        similarity = cosine(jnp.ravel(prediction), jnp.ravel(target))
        similarity = exact_at_identity(similarity, prediction, target, 1.0)
        return score_or_loss(similarity, self.as_loss)


@builder
def timeseries_rmse() -> TimeseriesRMSE:
    """Loss: root-mean-square difference between prediction and target, point by point.

    `sqrt(mean((prediction - target) ** 2))` over all times and regions. With brainunit
    Quantities the subtraction happens before the units are stripped, so mixing incompatible
    units (mV and Hz, or mV and a plain array) raises `UnitMismatchError`; the result is the
    magnitude in the prediction's unit. Its gradient at `prediction == target` is 0 (not NaN).

    For oscillators a point-by-point loss is phase-degenerate; compare spectra or FC instead.

    **Returns:**

    A loss `(prediction, target) -> scalar`; both `(time, regions)` of the same shape.

    **Example:**

    ```python
    loss = objectives.timeseries_rmse()
    loss(x + 2.0, x)  # 2.0
    ```
    """
    return TimeseriesRMSE()


@builder
def cosine_sim(as_loss: bool = False) -> CosineSim:
    """Score: cosine similarity of prediction and target, flattened to vectors.

    `sum(p * t) / sqrt(sum(p * p) * sum(t * t))` over all times and regions (no centring: it
    is the cosine of the angle between the two raw series). Scale-free: Quantities are reduced
    to their magnitudes. Exactly 1 when `prediction == target`.

    **Arguments:**

    - `as_loss`: return `1 - similarity`, a loss to minimise, instead of the score.

    **Returns:**

    An objective `(prediction, target) -> scalar`; both `(time, regions)` of the same shape.

    **Example:**

    ```python
    objectives.cosine_sim()(x, 2 * x)  # 1.0
    ```
    """
    return CosineSim(as_loss=as_loss)
