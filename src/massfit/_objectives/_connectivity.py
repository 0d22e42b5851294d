"""Objectives on functional connectivity (FC) and its dynamics (FCD)."""

from collections.abc import Sequence
from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from .._custom_types import RealLike
from .._metrics._checks import (
    check_min_time,
    check_not_constant,
    check_windows_not_constant,
    positive_int,
    real_number,
)
from .._metrics._connectivity import (
    check_fcd_input,
    fcd_unchecked,
    pearson,
    pearson_columns,
    upper_triangle,
    window_starts,
)
from .._metrics._distributions import (
    as_grid,
    cdf_difference,
    kde_unchecked,
    wasserstein_from_difference,
)
from .._metrics._units import magnitude
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
from ._targets import as_realisations, FCDValues, FCMatrix, resolve_target, series_only


def _fc_pair(prediction, target, min_regions: int, what: str):
    prediction, target = prepare_pair(
        prediction, target, same_units=False, same_time=False, min_regions=min_regions, what=what
    )
    for name, x in (("prediction", prediction), ("target", target)):
        check_min_time(name, x, 2, what)
        check_not_constant(name, x)
    return prediction, target, pearson_columns(prediction), pearson_columns(target)


def _fc_of_realisations(prediction, n_regions: int, what: str):
    """The mean FC of a `(time, regions)` prediction or over its realisations, checked
    against an FC matrix of `n_regions`."""
    batch = as_realisations("prediction", prediction)
    if batch.shape[2] != n_regions:
        raise ValueError(
            f"`prediction` has {batch.shape[2]} regions but the target FC matrix has "
            f"{n_regions}."
        )
    for r in range(batch.shape[0]):
        check_min_time("prediction", batch[r], 2, what)
        check_not_constant("prediction" if batch.shape[0] == 1 else f"prediction[{r}]", batch[r])
    return jnp.mean(jax.vmap(pearson_columns)(batch), axis=0)


def _check_windows(name: str, x, window_size: int, step_size: int, minimum: int, what: str):
    if x.shape[0] < window_size:
        raise ValueError(
            f"`{name}` has {x.shape[0]} time points, fewer than `window_size`={window_size}: "
            "FCD needs at least one full window. Use a longer series or a smaller `window_size`."
        )
    n_windows = window_starts(x.shape[0], window_size, step_size).size
    if n_windows < minimum:
        raise ValueError(
            f"`{name}` ({x.shape[0]} time points) gives {n_windows} FCD window(s) of "
            f"{window_size} samples every {step_size}; {what} needs at least {minimum}. Use a "
            "longer series, a smaller `window_size` or a smaller `step_size`."
        )
    check_windows_not_constant(name, x, window_size, step_size)


def _fcd_pair(prediction, target, window_size, step_size, *, same_time, min_windows, what):
    prediction, target = prepare_pair(
        prediction,
        target,
        same_units=False,
        same_time=same_time,
        min_regions=3,
        what=f"{what} (FCD correlates region pairs)",
    )
    for name, x in (("prediction", prediction), ("target", target)):
        _check_windows(name, x, window_size, step_size, min_windows, what)
    return (
        prediction,
        target,
        fcd_unchecked(prediction, window_size, step_size),
        fcd_unchecked(target, window_size, step_size),
    )


def _window_settings(window_size, step_size) -> tuple[int, int]:
    return (
        positive_int("window_size", window_size, minimum=2),
        positive_int("step_size", step_size),
    )


class FCCorr(AbstractScore):
    """Correlation of FC matrices; see [`massfit.objectives.fc_corr`][]."""

    as_loss: bool = eqx.field(static=True)
    name: ClassVar[str] = "fc_corr"

    @propagates_non_finite
    def __call__(self, prediction: SeriesLike, target: SeriesLike) -> Float[Array, ""]:
        what = "fc_corr (a correlation across region pairs)"
        matrix, series = resolve_target(target, FCMatrix, "fc_corr")
        if matrix is not None:
            if matrix.n_regions < 3:
                raise ValueError(f"{what} needs at least 3 regions; the FC matrix has 2.")
            fc_prediction = _fc_of_realisations(prediction, matrix.n_regions, what)
            corr = pearson(upper_triangle(fc_prediction), upper_triangle(matrix.matrix))
            return score_or_loss(corr, self.as_loss)
        prediction, series, fc_prediction, fc_target = _fc_pair(prediction, series, 3, what)
        corr = pearson(upper_triangle(fc_prediction), upper_triangle(fc_target))
        return score_or_loss(exact_at_identity(corr, prediction, series, 1.0), self.as_loss)


class FCRMSE(AbstractObjective):
    """RMSE between FC matrices; see [`massfit.objectives.fc_rmse`][]."""

    name: ClassVar[str] = "fc_rmse"
    is_score: ClassVar[bool] = False

    @propagates_non_finite
    def __call__(self, prediction: SeriesLike, target: SeriesLike) -> Float[Array, ""]:
        matrix, series = resolve_target(target, FCMatrix, "fc_rmse")
        if matrix is not None:
            fc_prediction = _fc_of_realisations(prediction, matrix.n_regions, "fc_rmse")
            difference = upper_triangle(fc_prediction) - upper_triangle(matrix.matrix)
            return safe_sqrt(jnp.mean(difference * difference))
        prediction, series, fc_prediction, fc_target = _fc_pair(prediction, series, 2, "fc_rmse")
        difference = upper_triangle(fc_prediction) - upper_triangle(fc_target)
        rmse = safe_sqrt(jnp.mean(difference * difference))
        return exact_at_identity(rmse, prediction, series, 0.0)


class FCD(AbstractScore):
    """Correlation of FCD matrices; see [`massfit.objectives.fcd`][]."""

    window_size: int = eqx.field(static=True)
    step_size: int = eqx.field(static=True)
    as_loss: bool = eqx.field(static=True)
    name: ClassVar[str] = "fcd"

    @propagates_non_finite
    def __call__(
        self, prediction: SeriesLike, target: SeriesLike | None = None
    ) -> Float[Array, ""] | Float[Array, "windows windows"]:
        if target is None:
            x = check_fcd_input(
                "prediction", magnitude(prediction), self.window_size, self.step_size
            )
            return fcd_unchecked(x, self.window_size, self.step_size)
        prediction, target, fcd_prediction, fcd_target = _fcd_pair(
            prediction,
            series_only(target, "fcd"),
            self.window_size,
            self.step_size,
            same_time=True,
            min_windows=3,
            what="the FCD correlation",
        )
        corr = pearson(upper_triangle(fcd_prediction), upper_triangle(fcd_target))
        return score_or_loss(exact_at_identity(corr, prediction, target, 1.0), self.as_loss)


class AbstractFCDDistribution(AbstractObjective):
    """Compares the distributions of FCD values of prediction and target (as KDEs on a grid)."""

    window_size: eqx.AbstractVar[int]
    step_size: eqx.AbstractVar[int]
    grid: eqx.AbstractVar[tuple[float, ...]]
    bandwidth: eqx.AbstractVar[float]

    def densities(
        self, prediction: SeriesLike, target: SeriesLike
    ) -> tuple[Float[Array, " grid"], Float[Array, " grid"]]:
        """The KDE densities of the prediction's and the target's FCD values on `grid`."""
        return self._compare(prediction, target)[2:]

    def _compare(self, prediction, target):
        values, target = resolve_target(target, FCDValues, self.name)
        if values is not None:
            grid = jnp.asarray(self.grid, dtype=values.values.dtype)
            predicted = self._values_of_realisations(prediction, values)
            return (
                None,
                None,
                kde_unchecked(predicted, grid, self.bandwidth),
                kde_unchecked(values.values, grid, self.bandwidth),
            )
        prediction, target, fcd_prediction, fcd_target = _fcd_pair(
            prediction,
            target,
            self.window_size,
            self.step_size,
            same_time=False,
            min_windows=2,
            what=self.name,
        )
        grid = jnp.asarray(self.grid, dtype=fcd_prediction.dtype)
        return (
            prediction,
            target,
            kde_unchecked(upper_triangle(fcd_prediction), grid, self.bandwidth),
            kde_unchecked(upper_triangle(fcd_target), grid, self.bandwidth),
        )


    def _values_of_realisations(self, prediction, values: FCDValues):
        """The FCD values of the prediction, pooled over its realisations."""
        batch = as_realisations("prediction", prediction)
        if batch.shape[2] != values.n_regions:
            raise ValueError(
                f"`prediction` has {batch.shape[2]} regions but the target FCD values come "
                f"from {values.n_regions}."
            )
        for r in range(batch.shape[0]):
            name = "prediction" if batch.shape[0] == 1 else f"prediction[{r}]"
            _check_windows(name, batch[r], self.window_size, self.step_size, 2, self.name)
        matrices = jax.vmap(lambda x: fcd_unchecked(x, self.window_size, self.step_size))(batch)
        return jax.vmap(upper_triangle)(matrices).reshape(-1)


class FCDKS(AbstractFCDDistribution):
    """KS distance of FCD distributions; see [`massfit.objectives.fcd_ks`][]."""

    window_size: int = eqx.field(static=True)
    step_size: int = eqx.field(static=True)
    # A static tuple (hashable), so that `jax.jit(objective)` works; left out of the repr.
    grid: tuple[float, ...] = eqx.field(static=True, repr=False)
    bandwidth: float = eqx.field(static=True)
    name: ClassVar[str] = "fcd_ks"
    is_score: ClassVar[bool] = False

    @propagates_non_finite
    def __call__(self, prediction: SeriesLike, target: SeriesLike) -> Float[Array, ""]:
        prediction, target, p, q = self._compare(prediction, target)
        distance = jnp.max(jnp.abs(cdf_difference(p, q)))
        return exact_at_identity(distance, prediction, target, 0.0)


class FCDWasserstein(AbstractFCDDistribution):
    """Wasserstein distance of FCD distributions; see [`massfit.objectives.fcd_wasserstein`][]."""

    window_size: int = eqx.field(static=True)
    step_size: int = eqx.field(static=True)
    # A static tuple (hashable), so that `jax.jit(objective)` works; left out of the repr.
    grid: tuple[float, ...] = eqx.field(static=True, repr=False)
    bandwidth: float = eqx.field(static=True)
    name: ClassVar[str] = "fcd_wasserstein"
    is_score: ClassVar[bool] = False

    @propagates_non_finite
    def __call__(self, prediction: SeriesLike, target: SeriesLike) -> Float[Array, ""]:
        prediction, target, p, q = self._compare(prediction, target)
        grid = jnp.asarray(self.grid, dtype=p.dtype)
        distance = wasserstein_from_difference(cdf_difference(p, q), grid)
        return exact_at_identity(distance, prediction, target, 0.0)


@builder
def fc_corr(as_loss: bool = False) -> FCCorr:
    """Score: correlation between the FC matrices of prediction and target.

    The Pearson correlation between the upper triangles (each region pair once, no diagonal) of
    `metrics.fc(prediction)` and `metrics.fc(target)`: the standard measure of how well a model
    reproduces functional connectivity. Scale-free: Quantities are reduced to magnitudes.
    `prediction` and `target` need the same regions (at least 3, two pairs to correlate) but
    may differ in length. A constant region raises on concrete input and gives NaN when traced
    (see [`massfit.metrics.fc`][]).

    **Arguments:**

    - `as_loss`: return `1 - correlation`, a loss to minimise, instead of the score.

    **Returns:**

    An objective `(prediction, target) -> scalar`, in `[-1, 1]` (or `[0, 2]` as a loss).

    **Example:**

    ```python
    loss = objectives.fc_corr(as_loss=True)
    loss(simulated_bold, empirical_bold)
    ```
    """
    return FCCorr(as_loss=as_loss)


@builder
def fc_rmse() -> FCRMSE:
    """Loss: root-mean-square difference between the FC matrices of prediction and target.

    Taken over the upper triangle, each region pair once. (brainmass averages over the full
    matrix, diagonal included, which gives this value times `sqrt((N - 1) / N)`.) Unlike
    [`massfit.objectives.fc_corr`][] it also sees a uniform shift of all correlations.
    `prediction` and `target` need the same regions (at least 2) but may differ in length.

    **Returns:**

    A loss `(prediction, target) -> scalar`, in correlation units.

    **Example:**

    ```python
    objectives.fc_rmse()(simulated, empirical)
    ```
    """
    return FCRMSE()


@builder
def fcd(window_size: int = 30, step_size: int = 5, as_loss: bool = False) -> FCD:
    """Score: correlation between the FCD matrices of prediction and target.

    Both FCD matrices (see [`massfit.metrics.fcd`][]) are computed with the same windows, and
    their upper triangles correlated. This compares the two *time courses* window by window, so
    it suits targets aligned in time with the prediction (e.g. driven responses); for resting
    state, where windows are not aligned, compare distributions with
    [`massfit.objectives.fcd_ks`][] or [`massfit.objectives.fcd_wasserstein`][].

    Called with `target=None`, the objective returns the prediction's FCD matrix.

    **Arguments:**

    - `window_size`: window length in samples (>= 2).
    - `step_size`: distance between window starts in samples (>= 1).
    - `as_loss`: return `1 - correlation`, a loss to minimise, instead of the score.

    **Returns:**

    An objective `(prediction, target=None) -> scalar` (or the FCD matrix). Prediction and
    target must have the same shape, at least 3 regions and enough time for 3 windows.

    **Example:**

    ```python
    objectives.fcd(as_loss=True)(prediction, target)
    objectives.fcd()(prediction)  # the (windows, windows) FCD matrix
    ```
    """
    window_size, step_size = _window_settings(window_size, step_size)
    return FCD(window_size=window_size, step_size=step_size, as_loss=as_loss)


def _distribution_settings(window_size, step_size, grid, bandwidth):
    window_size, step_size = _window_settings(window_size, step_size)
    return dict(
        window_size=window_size,
        step_size=step_size,
        grid=tuple(float(g) for g in np.asarray(as_grid(grid))),
        bandwidth=real_number("bandwidth", bandwidth, positive=True),
    )


@builder
def fcd_ks(
    window_size: int = 30,
    step_size: int = 5,
    *,
    grid: ArrayLike | Sequence[RealLike] | None = None,
    bandwidth: RealLike = 0.05,
) -> FCDKS:
    """Loss: Kolmogorov-Smirnov distance between the FCD value distributions.

    The off-diagonal values of each FCD matrix are smoothed into a density on `grid` (see
    [`massfit.metrics.fcd_distribution`][]) and the two densities compared by the maximum
    distance between their CDFs ([`massfit.metrics.ks_distance_on_grid`][]). The KS statistic
    is the usual way to report FCD agreement; the smoothing gives it gradients (the raw-sample
    statistic is piecewise constant), though as a maximum it is not smooth. For fitting, prefer
    [`massfit.objectives.fcd_wasserstein`][]. As the bandwidth shrinks and the grid is refined
    it tends to `scipy.stats.ks_2samp` of the raw FCD values.

    Prediction and target need the same regions (at least 3) and at least 2 windows each; their
    lengths may differ.

    **Arguments:**

    - `window_size`, `step_size`: the FCD windows, in samples.
    - `grid`: increasing evaluation points; default 201 points on `[-1, 1]`.
    - `bandwidth`: the kernel's standard deviation, in correlation units.

    **Returns:**

    A loss `(prediction, target) -> scalar` in `[0, 1]`.

    **Example:**

    ```python
    objectives.fcd_ks(window_size=30, step_size=5)(simulated_bold, empirical_bold)
    ```
    """
    return FCDKS(**_distribution_settings(window_size, step_size, grid, bandwidth))


@builder
def fcd_wasserstein(
    window_size: int = 30,
    step_size: int = 5,
    *,
    grid: ArrayLike | Sequence[RealLike] | None = None,
    bandwidth: RealLike = 0.05,
) -> FCDWasserstein:
    """Loss: Wasserstein-1 distance between the FCD value distributions.

    As [`massfit.objectives.fcd_ks`][], but the densities are compared by the area between
    their CDFs ([`massfit.metrics.wasserstein_1d_on_grid`][]): the mean shift needed to turn one
    distribution into the other, in correlation units. It is smooth, so it is the FCD objective
    to use with gradients. (For reporting, `metrics.wasserstein_1d` gives the exact distance
    between the raw FCD values.)

    **Arguments:**

    - `window_size`, `step_size`: the FCD windows, in samples.
    - `grid`: increasing evaluation points; default 201 points on `[-1, 1]`.
    - `bandwidth`: the kernel's standard deviation, in correlation units.

    **Returns:**

    A loss `(prediction, target) -> scalar`, non-negative.

    **Example:**

    ```python
    objectives.fcd_wasserstein()(simulated_bold, empirical_bold)
    ```
    """
    return FCDWasserstein(**_distribution_settings(window_size, step_size, grid, bandwidth))
