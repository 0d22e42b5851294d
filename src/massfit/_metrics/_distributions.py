"""The distribution of FCD values, and distances between 1-D distributions."""

import functools
import math
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from .._custom_types import RealLike
from .._errors import describe, is_concrete
from ._checks import check_finite, nan_unless_finite, real_number
from ._connectivity import upper_triangle


def default_fcd_grid() -> Float[Array, " grid"]:
    """201 points on [-1, 1], where FCD values (correlations) live."""
    return jnp.linspace(-1.0, 1.0, 201)


@functools.partial(jax.jit, static_argnums=2)
def kde_unchecked(values: Float[Array, " n"], grid: Float[Array, " grid"], bandwidth: float):
    """Gaussian kernel density of `values` on `grid`."""
    z = (grid[:, None] - values[None, :]) / bandwidth
    density = jnp.mean(jnp.exp(-0.5 * z * z), axis=1) / (bandwidth * math.sqrt(2 * math.pi))
    # The kernel of an infinite value is 0 everywhere: without this it would just vanish.
    return nan_unless_finite(density, values)


def fcd_distribution(
    fcd_matrix: ArrayLike,
    grid: ArrayLike | Sequence[RealLike] | None = None,
    bandwidth: RealLike = 0.05,
) -> Float[Array, " grid"]:
    """Smooth density of the FCD values above the diagonal, evaluated on a grid.

    The usual FCD fitting target is not the matrix (its windows are not aligned in time
    between a simulation and a recording) but the distribution of its off-diagonal values. This
    is a Gaussian kernel density estimate of that distribution,
    `mean_k N(g; v_k, bandwidth²)`, equal to `scipy.stats.gaussian_kde` with the same bandwidth.
    It is differentiable in the FCD values. It is not renormalised on the grid: mass beyond the
    grid's ends is left out (the `*_on_grid` distances normalise).

    Memory grows as `len(grid) x windows² / 2`.

    **Arguments:**

    - `fcd_matrix`: a square FCD matrix (see [`massfit.metrics.fcd`][]), at least 2 x 2.
    - `grid`: increasing points where the density is evaluated; default 201 points on
        `[-1, 1]`.
    - `bandwidth`: the kernel's standard deviation, in correlation units (positive).

    **Returns:**

    The density at each grid point, shape `(grid,)`.

    **Example:**

    ```python
    density = massfit.metrics.fcd_distribution(massfit.metrics.fcd(bold))
    ```
    """
    matrix = jnp.asarray(fcd_matrix)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1] or matrix.shape[0] < 2:
        raise ValueError(
            "`fcd_matrix` must be a square (windows, windows) matrix with at least 2 windows; "
            f"got {describe(fcd_matrix)}."
        )
    check_finite("fcd_matrix", matrix, axes=("row", "column"))
    grid = as_grid(grid)
    bandwidth = real_number("bandwidth", bandwidth, positive=True)
    return kde_unchecked(upper_triangle(matrix), grid.astype(matrix.dtype), bandwidth)


def as_grid(grid) -> Float[Array, " grid"]:
    """A validated evaluation grid (1-D, at least 2 points, increasing when concrete)."""
    if grid is None:
        return default_fcd_grid()
    values = jnp.asarray(grid)
    if values.ndim != 1 or values.shape[0] < 2:
        raise ValueError(f"`grid` must be a 1-D array of at least 2 points; got {describe(grid)}.")
    if not jnp.issubdtype(values.dtype, jnp.floating):
        values = values.astype(jnp.result_type(float))
    if is_concrete(values):
        check_finite("grid", values, axes=("index",))
        if not np.all(np.diff(np.asarray(values)) > 0):
            raise ValueError("`grid` must be strictly increasing.")
    return values


def _as_samples(name: str, x) -> Float[Array, " n"]:
    values = jnp.asarray(x)
    if values.ndim != 1 or values.shape[0] < 1:
        raise ValueError(f"`{name}` must be a non-empty 1-D array of samples; got {describe(x)}.")
    if not jnp.issubdtype(values.dtype, jnp.floating):
        values = values.astype(jnp.result_type(float))
    check_finite(name, values, axes=("index",))
    return values


def _cdf_gap(a, b, at):
    """`n_a n_b (F_a - F_b)` at `at`, for sorted samples: whole numbers, so exact (0 at a == b)."""
    count_a = jnp.searchsorted(a, at, side="right").astype(at.dtype)
    count_b = jnp.searchsorted(b, at, side="right").astype(at.dtype)
    return count_a * b.shape[0] - count_b * a.shape[0]


def ks_distance(a: ArrayLike, b: ArrayLike) -> Float[Array, ""]:
    """Two-sample Kolmogorov-Smirnov statistic between two sets of samples.

    `sup_x |F_a(x) - F_b(x)|` for the empirical CDFs, exactly `scipy.stats.ks_2samp(a,
    b).statistic`. It is piecewise constant in the samples, so its gradient is zero: to fit,
    compare smooth densities with [`massfit.metrics.ks_distance_on_grid`][] (as
    `objectives.fcd_ks` does) or use [`massfit.metrics.wasserstein_1d`][].

    **Arguments:**

    - `a`, `b`: 1-D arrays of samples; their lengths may differ.

    **Returns:**

    A scalar in `[0, 1]`.

    **Example:**

    ```python
    massfit.metrics.ks_distance(upper(fcd_sim), upper(fcd_emp))
    ```
    """
    return _ks_samples(_as_samples("a", a), _as_samples("b", b))


@jax.jit
def _ks_samples(a, b):
    a, b = jnp.sort(a), jnp.sort(b)
    gap = _cdf_gap(a, b, jnp.concatenate([a, b]))
    # Counts are finite whatever the samples: a NaN would otherwise give a finite distance.
    return nan_unless_finite(jnp.max(jnp.abs(gap)) / (a.shape[0] * b.shape[0]), a, b)


def wasserstein_1d(a: ArrayLike, b: ArrayLike) -> Float[Array, ""]:
    """Wasserstein-1 (earth mover's) distance between two sets of samples.

    `integral |F_a(x) - F_b(x)| dx` for the empirical CDFs, exactly
    `scipy.stats.wasserstein_distance(a, b)`, in the samples' units. Unlike the KS statistic it
    is differentiable in the samples (almost everywhere).

    **Arguments:**

    - `a`, `b`: 1-D arrays of samples; their lengths may differ.

    **Returns:**

    A non-negative scalar.

    **Example:**

    ```python
    massfit.metrics.wasserstein_1d(upper(fcd_sim), upper(fcd_emp))
    ```
    """
    return _wasserstein_samples(_as_samples("a", a), _as_samples("b", b))


@jax.jit
def _wasserstein_samples(a, b):
    a, b = jnp.sort(a), jnp.sort(b)
    points = jnp.sort(jnp.concatenate([a, b]))
    gap = _cdf_gap(a, b, points[:-1])
    distance = jnp.sum(jnp.abs(gap) * jnp.diff(points)) / (a.shape[0] * b.shape[0])
    return nan_unless_finite(distance, a, b)


def _as_weights(name: str, p, length: int | None) -> Float[Array, " grid"]:
    values = jnp.asarray(p)
    if values.ndim != 1 or (length is not None and values.shape[0] != length):
        expected = "a 1-D array" if length is None else f"a 1-D array of {length} values"
        raise ValueError(f"`{name}` must be {expected} (one per grid point); got {describe(p)}.")
    if not jnp.issubdtype(values.dtype, jnp.floating):
        values = values.astype(jnp.result_type(float))
    if is_concrete(values):
        check_finite(name, values, axes=("index",))
        array = np.asarray(values)
        if (array < 0).any() or array.sum() <= 0:
            raise ValueError(
                f"`{name}` must be non-negative with a positive total (a density or histogram)."
            )
    return values


@jax.jit
def cdf_difference(p: Float[Array, " grid"], q: Float[Array, " grid"]) -> Float[Array, " grid"]:
    """`P - Q` at the grid points: the cumulative sums of `p` and `q`, each normalised to 1."""
    return jnp.cumsum(p / jnp.sum(p) - q / jnp.sum(q))


def ks_distance_on_grid(p: ArrayLike, q: ArrayLike) -> Float[Array, ""]:
    """Kolmogorov-Smirnov distance between two distributions given as weights on one grid.

    `p` and `q` are densities on a uniform grid, or histograms (masses at the grid points), on
    the same grid; each is normalised. The distance is `max |P - Q|` over the grid points, `P`
    and `Q` the cumulative sums: for integer-valued samples and their histograms this is exactly
    `scipy.stats.ks_2samp`. It is not smooth (a maximum) but has a gradient almost everywhere.

    **Arguments:**

    - `p`, `q`: non-negative weights, one per grid point, each with a positive total.

    **Returns:**

    A scalar in `[0, 1]`.

    **Example:**

    ```python
    grid = jnp.linspace(-1, 1, 201)
    massfit.metrics.ks_distance_on_grid(fcd_distribution(f1, grid), fcd_distribution(f2, grid))
    ```
    """
    p = _as_weights("p", p, None)
    q = _as_weights("q", q, p.shape[0])
    return jnp.max(jnp.abs(cdf_difference(p, q)))


def wasserstein_1d_on_grid(p: ArrayLike, q: ArrayLike, grid: ArrayLike) -> Float[Array, ""]:
    """Wasserstein-1 distance between two distributions given as weights on one grid.

    Each distribution puts mass proportional to its weight on the grid points (normalised to
    1), and the distance is `sum_i |P_i - Q_i| (grid[i+1] - grid[i])`, `P` and `Q` the
    cumulative sums: exactly `scipy.stats.wasserstein_distance(grid, grid, p, q)`. For
    densities on a uniform grid this converges to the continuous distance as the grid is
    refined. Smooth in `p` and `q`.

    **Arguments:**

    - `p`, `q`: non-negative weights, one per grid point, each with a positive total.
    - `grid`: the strictly increasing grid points, in the variable's units.

    **Returns:**

    A non-negative scalar in the grid's units.

    **Example:**

    ```python
    massfit.metrics.wasserstein_1d_on_grid(density_sim, density_emp, grid)
    ```
    """
    grid = as_grid(grid)
    p = _as_weights("p", p, grid.shape[0])
    q = _as_weights("q", q, grid.shape[0])
    return wasserstein_from_difference(cdf_difference(p, q), grid.astype(p.dtype))


def wasserstein_from_difference(difference, grid):
    """`sum |P - Q| dgrid` from `cdf_difference` (see `wasserstein_1d_on_grid`)."""
    return jnp.sum(jnp.abs(difference[:-1]) * jnp.diff(grid).astype(difference.dtype))
