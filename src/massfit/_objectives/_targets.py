"""Targets that say what they are: a series, or a summary statistic of one.

Empirical data usually come as a group FC matrix, a distribution of FCD values or a power
spectrum, not as a series to match sample by sample. An objective must know which it was given;
it never guesses from the shape (an 80 x 80 FC matrix is also a valid 80-sample series of 80
regions).
"""

from collections.abc import Sequence

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from .._custom_types import MatrixLike
from .._errors import describe, is_concrete
from .._metrics._checks import as_series, check_finite, check_not_constant
from .._metrics._connectivity import (
    check_fcd_input,
    fcd_unchecked,
    pearson_columns,
    upper_triangle,
)
from .._metrics._spectral import welch, WelchConfig
from .._metrics._units import IntervalLike, magnitude, milliseconds


class AbstractTarget(eqx.Module):
    """A target whose kind is stated: a `Series`, or a summary statistic (`FCMatrix`,
    `FCDValues`, `Spectrum`), or several of them in `Targets`."""


class Series(AbstractTarget):
    """A `(time, regions)` series, stated to be one.

    A bare array passed as a target is read as a series too, except a square one (as many
    time points as regions), which could be either a series or an FC matrix and is refused:
    wrap it in `Series` or `FCMatrix` to say which.

    **Arguments:**

    - `values`: the `(time, regions)` series.
    """

    values: Float[Array, "time regions"]

    def __init__(self, values: MatrixLike):
        self.values = as_series("Series(values)", magnitude(values))


class FCMatrix(AbstractTarget):
    """A target functional-connectivity matrix, e.g. the group FC of a resting-state recording.

    FC objectives (`fc_corr`, `fc_rmse`) compare the model's FC with it (the FC of a
    `(time, regions)` prediction, or the mean FC over the realisations of a
    `(realisations, time, regions)` one).

    **Arguments:**

    - `matrix`: `(regions, regions)` Pearson correlations: symmetric, in `[-1, 1]`, finite.
        Checked when concrete (to 1e-6 for symmetry).
    """

    matrix: Float[Array, "regions regions"]

    def __init__(self, matrix: MatrixLike):
        matrix = jnp.asarray(matrix)
        if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1] or matrix.shape[0] < 2:
            raise ValueError(
                f"`FCMatrix(matrix)` must be a square (regions, regions) matrix with at least 2 "
                f"regions; got {describe(matrix)}."
            )
        if not jnp.issubdtype(matrix.dtype, jnp.floating):
            matrix = matrix.astype(jnp.result_type(float))
        if is_concrete(matrix):
            check_finite("FCMatrix(matrix)", matrix, axes=("row", "column"))
            values = np.asarray(matrix)
            asymmetry = float(np.max(np.abs(values - values.T)))
            if asymmetry > 1e-6:
                raise ValueError(
                    "`FCMatrix(matrix)` must be symmetric (a correlation matrix); its largest "
                    f"|M - M.T| is {asymmetry:.3g}."
                )
            if np.any(np.abs(values) > 1 + 1e-6):
                raise ValueError(
                    "`FCMatrix(matrix)` holds correlations, in [-1, 1]; its largest magnitude "
                    f"is {float(np.max(np.abs(values))):.4g}. (Fisher-z values? Use np.tanh.)"
                )
        self.matrix = matrix

    @classmethod
    def from_series(cls, series: ArrayLike | Sequence[ArrayLike]) -> "FCMatrix":
        """The FC of a `(time, regions)` series, or the mean FC of several (e.g. subjects)."""
        matrices = [
            pearson_columns(_checked_series(f"series[{i}]", x))
            for i, x in enumerate(_as_list(series))
        ]
        return cls(sum(matrices[1:], matrices[0]) / len(matrices))

    @property
    def n_regions(self) -> int:
        return self.matrix.shape[0]


class FCDValues(AbstractTarget):
    """The off-diagonal values of one or more FCD matrices: the FCD distribution to match.

    `fcd_ks` and `fcd_wasserstein` smooth them into a density on their grid and compare it with
    the model's. Their windows need not match the prediction's in time (only in length, for
    the values to be comparable: build them with the objective's `window_size` and `step_size`).

    **Arguments:**

    - `values`: a 1-D array of FCD values, in `[-1, 1]`.
    - `n_regions`: how many regions the recording had (checked against the prediction).
    """

    values: Float[Array, " values"]
    n_regions: int = eqx.field(static=True)

    def __init__(self, values: MatrixLike, n_regions: int):
        values = jnp.asarray(values)
        if values.ndim != 1 or values.shape[0] < 2:
            raise ValueError(
                f"`FCDValues(values)` must be a 1-D array of at least 2 FCD values; got "
                f"{describe(values)}. (For an FCD matrix use FCDValues.from_matrix.)"
            )
        if not jnp.issubdtype(values.dtype, jnp.floating):
            values = values.astype(jnp.result_type(float))
        if is_concrete(values):
            check_finite("FCDValues(values)", values, axes=("index",))
        if isinstance(n_regions, bool) or not isinstance(n_regions, int) or n_regions < 3:
            raise ValueError(f"`n_regions` must be an integer >= 3; got {n_regions!r}.")
        self.values = values
        self.n_regions = n_regions

    @classmethod
    def from_series(
        cls, series: ArrayLike | Sequence[ArrayLike], window_size: int = 30, step_size: int = 5
    ) -> "FCDValues":
        """The FCD values of a `(time, regions)` series, or pooled over several (subjects)."""
        pooled, n_regions = [], None
        for i, x in enumerate(_as_list(series)):
            x = check_fcd_input(f"series[{i}]", magnitude(x), window_size, step_size)
            n_regions = x.shape[1] if n_regions is None else n_regions
            if x.shape[1] != n_regions:
                raise ValueError(
                    f"`series[{i}]` has {x.shape[1]} regions; the first series has {n_regions}."
                )
            pooled.append(upper_triangle(fcd_unchecked(x, window_size, step_size)))
        return cls(jnp.concatenate(pooled), n_regions)

    @classmethod
    def from_matrix(cls, matrix: MatrixLike, n_regions: int) -> "FCDValues":
        """The values above the diagonal of a `(windows, windows)` FCD matrix."""
        matrix = jnp.asarray(matrix)
        if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
            raise ValueError(f"`matrix` must be a square FCD matrix; got {describe(matrix)}.")
        return cls(upper_triangle(matrix), n_regions)


class Spectrum(AbstractTarget):
    """A target power spectrum: density on given frequencies, for all regions or per region.

    The spectral objectives (`psd_distance`, `peak_frequency`, `band_power`) take the Welch
    spectrum of the prediction (the mean over realisations for a
    `(realisations, time, regions)` prediction) and compare it with this spectrum interpolated
    (linearly in log power) onto the prediction's frequency bins. Its frequencies must cover
    the objective's band.

    **Arguments:**

    - `frequencies`: strictly increasing frequencies in **Hz**, shape `(F,)`.
    - `power`: power spectral density, positive, shape `(F,)` (one spectrum for every
        region, e.g. a group average) or `(F, regions)`.
    """

    # Static, so that the band can be checked against them when the objective is traced.
    frequencies: tuple[float, ...] = eqx.field(static=True, repr=False)
    power: Float[Array, "F ..."]

    def __init__(self, frequencies: MatrixLike, power: MatrixLike):
        frequencies = np.asarray(frequencies, dtype=np.float64)
        if frequencies.ndim != 1 or frequencies.shape[0] < 2:
            raise ValueError(
                "`Spectrum(frequencies)` must be a 1-D array of at least 2 frequencies (Hz); "
                f"got shape {frequencies.shape}."
            )
        if not (np.all(np.isfinite(frequencies)) and np.all(np.diff(frequencies) > 0)):
            raise ValueError("`Spectrum(frequencies)` must be finite and strictly increasing.")
        power = jnp.asarray(power)
        if power.ndim not in (1, 2) or power.shape[0] != frequencies.shape[0]:
            raise ValueError(
                f"`Spectrum(power)` must have shape ({frequencies.shape[0]},) or "
                f"({frequencies.shape[0]}, regions), one row per frequency; got "
                f"{describe(power)}."
            )
        if not jnp.issubdtype(power.dtype, jnp.floating):
            power = power.astype(jnp.result_type(float))
        if is_concrete(power):
            check_finite("Spectrum(power)", power.reshape(power.shape[0], -1))
            if np.any(np.asarray(power) <= 0):
                raise ValueError(
                    "`Spectrum(power)` must be positive (it is compared in log power)."
                )
        self.frequencies = tuple(float(f) for f in frequencies)
        self.power = power

    @classmethod
    def from_series(
        cls,
        series: ArrayLike | Sequence[ArrayLike],
        dt: IntervalLike,
        *,
        nperseg: int | None = None,
        noverlap: int | None = None,
        window: str = "hann",
        detrend="constant",
    ) -> "Spectrum":
        """The Welch spectrum of a series (per region), or its mean over several (subjects).

        `dt` in ms; the Welch settings are those of `massfit.metrics.psd`.
        """
        dt = milliseconds(dt)
        spectra, config = [], None
        for i, x in enumerate(_as_list(series)):
            x = as_series(f"series[{i}]", magnitude(x))
            check_finite(f"series[{i}]", x)
            this = WelchConfig(x.shape[0], dt, nperseg, noverlap, window, detrend, "density")
            if config is not None and this != config:
                raise ValueError(
                    f"`series[{i}]` gives other Welch bins than `series[0]`: pass `nperseg`."
                )
            config = this
            spectra.append(welch(x, config))
        power = sum(spectra[1:], spectra[0]) / len(spectra)
        # Leave out DC: a detrended spectrum has (near) zero power there.
        return cls(config.freqs[1:], power[1:])


class Targets(AbstractTarget):
    """Several targets of different kinds, for `combine`: each objective takes the one it
    compares (FC objectives the `FCMatrix`, FCD-distribution ones the `FCDValues`, spectral
    ones the `Spectrum`, series ones the `Series`).

    **Example:**

    ```python
    target = objectives.Targets(objectives.FCMatrix(fc), objectives.FCDValues(values, 80))
    ```
    """

    items: tuple[AbstractTarget, ...]

    def __init__(self, *items: AbstractTarget):
        kinds = [type(item) for item in items]
        for item in items:
            if not isinstance(item, AbstractTarget) or isinstance(item, Targets):
                raise TypeError(
                    "`Targets(...)` takes Series, FCMatrix, FCDValues or Spectrum targets; got "
                    f"{describe(item)}."
                )
        repeated = {k.__name__ for k in kinds if kinds.count(k) > 1}
        if repeated:
            raise ValueError(f"`Targets(...)` holds more than one {sorted(repeated)}.")
        self.items = tuple(items)

    def get(self, kind: type) -> AbstractTarget | None:
        for item in self.items:
            if isinstance(item, kind):
                return item
        return None


def _as_list(series) -> list:
    if isinstance(series, list | tuple):
        if not series:
            raise ValueError("`series` is empty: give one series or a list of them.")
        return list(series)
    return [series]


def _checked_series(name: str, x) -> Float[Array, "time regions"]:
    x = as_series(name, magnitude(x))
    check_finite(name, x)
    check_not_constant(name, x)
    return x


def resolve_target(target, kind: type, objective: str):
    """What an objective compares against: a target of `kind`, or a series (an array).

    Returns `(statistic, series)`, exactly one of them not None. A bare square array (as
    many time points as regions) is refused: it could be a series or a matrix.
    """
    if isinstance(target, Targets):
        found = target.get(kind) or target.get(Series)
        if found is None:
            raise ValueError(
                f"{objective} compares a {kind.__name__} (or a Series); the Targets given hold "
                f"{[type(t).__name__ for t in target.items]}."
            )
        target = found
    if isinstance(target, kind):
        return target, None
    if isinstance(target, Series):
        return None, target.values
    if isinstance(target, AbstractTarget):
        raise TypeError(
            f"{objective} compares a {kind.__name__} target or a series; got a "
            f"{type(target).__name__}."
        )
    return None, series_target(target, kind)


def series_target(target, kind: type | None = None):
    """A bare target array, refused when it is square (a series or a matrix?)."""
    shape = getattr(magnitude(target), "shape", None) or np.shape(target)
    if len(shape) == 2 and shape[0] == shape[1]:
        alternative = "FCMatrix" if kind is None or kind is FCMatrix else kind.__name__
        raise ValueError(
            f"`target` has shape {tuple(shape)}: it could be an FC matrix of {shape[0]} regions "
            f"or a series of {shape[0]} time points in {shape[0]} regions. Say which: "
            f"`objectives.{alternative}(target)` for a statistic, `objectives.Series(target)` "
            "for a series."
        )
    return target


def series_only(target, objective: str):
    """The series a series objective compares against (a bare array, a `Series`, or the
    `Series` in a `Targets`); a summary statistic is refused."""
    if isinstance(target, Targets):
        found = target.get(Series)
        if found is None:
            raise ValueError(
                f"{objective} compares series; the Targets given hold "
                f"{[type(t).__name__ for t in target.items]} and no Series."
            )
        target = found
    if isinstance(target, Series):
        return target.values
    if isinstance(target, AbstractTarget):
        raise TypeError(
            f"{objective} compares a prediction with a target series point by point or window "
            f"by window; got a {type(target).__name__}, a summary statistic."
        )
    return series_target(target)


def as_realisations(name: str, x) -> Float[Array, "realisations time regions"]:
    """A `(time, regions)` prediction, or a `(realisations, time, regions)` stack of them (the
    model side of a summary target, averaged over its noise realisations), as 3-D."""
    x = magnitude(x)
    array = jnp.asarray(x)
    if array.ndim == 3:
        first = as_series(f"{name}[0]", array[0])  # shape and dtype checks
        stacked = array.astype(first.dtype)
    else:
        stacked = as_series(name, x)[None]
    if is_concrete(stacked):
        for r in range(stacked.shape[0]):
            check_finite(name if array.ndim != 3 else f"{name}[{r}]", stacked[r])
    return stacked
