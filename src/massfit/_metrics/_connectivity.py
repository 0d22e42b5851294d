"""Functional connectivity (FC), its dynamics (FCD), and the correlation of two matrices."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from .._errors import describe
from ._checks import (
    as_series,
    check_finite,
    check_min_regions,
    check_min_time,
    check_not_constant,
    check_windows_not_constant,
    positive_int,
)


# Full-precision products: on GPUs the default f32 matmul may run in TF32 (~1e-3 error), which
# is too coarse for correlations that are compared to 1e-6.
_HIGHEST = jax.lax.Precision.HIGHEST


@jax.jit
def pearson_columns(x: Float[Array, "samples columns"]) -> Float[Array, "columns columns"]:
    """Pearson correlation between the columns of `x`, unchecked (constant columns give NaN)."""
    centred = x - jnp.mean(x, axis=0)
    scaled = centred / jnp.sqrt(jnp.sum(centred * centred, axis=0))
    return jnp.matmul(scaled.T, scaled, precision=_HIGHEST)


@jax.jit
def pearson(a: Float[Array, " n"], b: Float[Array, " n"]) -> Float[Array, ""]:
    """Pearson correlation of two vectors, unchecked."""
    return cosine(a - jnp.mean(a), b - jnp.mean(b))


def cosine(a: Float[Array, " n"], b: Float[Array, " n"]) -> Float[Array, ""]:
    """`sum(a b) / sqrt(sum(a a) sum(b b))`, clipped to [-1, 1] as `np.corrcoef` does."""
    return jnp.clip(jnp.sum(a * b) / jnp.sqrt(jnp.sum(a * a) * jnp.sum(b * b)), -1.0, 1.0)


def upper_triangle(matrix: Float[Array, "n n"]) -> Float[Array, " pairs"]:
    """The entries above the diagonal (k=1), row by row."""
    rows, cols = np.triu_indices(matrix.shape[0], k=1)
    return matrix[rows, cols]


def fisher_transform(r: Float[Array, "n n"]) -> Float[Array, "n n"]:
    """`arctanh` of the off-diagonal entries, zero on the diagonal (where arctanh(1) = inf)."""
    off_diagonal = ~np.eye(r.shape[0], dtype=bool)
    # Double `where`: the diagonal never reaches arctanh, so its gradient is not inf * 0 = NaN.
    safe = jnp.where(off_diagonal, jnp.clip(r, -1.0, 1.0), 0.0)
    return jnp.where(off_diagonal, jnp.arctanh(safe), 0.0)


def window_starts(n_time: int, window_size: int, step_size: int) -> np.ndarray:
    """Start indices of the FCD windows: 0, step, 2 step, ... while the window fits."""
    return np.arange(0, n_time - window_size + 1, step_size)


@functools.partial(jax.jit, static_argnums=(1, 2))
def fcd_unchecked(
    x: Float[Array, "time regions"], window_size: int, step_size: int
) -> Float[Array, "windows windows"]:
    """FCD matrix of a validated series."""
    starts = window_starts(x.shape[0], window_size, step_size)
    windows = x[starts[:, None] + np.arange(window_size)]  # (windows, window_size, regions)
    rows, cols = np.triu_indices(x.shape[1], k=1)
    edges = jax.vmap(lambda w: pearson_columns(w)[rows, cols])(windows)  # (windows, pairs)
    return pearson_columns(edges.T)


def check_fc_input(name: str, x, minimum_regions: int, what: str) -> Float[Array, "time regions"]:
    """Validate a series whose FC will be taken (shape, length, finiteness, variance)."""
    x = as_series(name, x)
    check_min_regions(name, x, minimum_regions, what)
    check_min_time(name, x, 2, what)
    check_finite(name, x)
    check_not_constant(name, x)
    return x


def check_fcd_input(name: str, x, window_size: int, step_size: int) -> Float[Array, "time regions"]:
    """Validate a series whose FCD will be taken."""
    x = as_series(name, x)
    check_min_regions(name, x, 3, "FCD (a correlation across region pairs)")
    if x.shape[0] < window_size:
        raise ValueError(
            f"`{name}` has {x.shape[0]} time points, fewer than `window_size`={window_size}: "
            "FCD needs at least one full window (two to be informative). Use a longer series "
            "or a smaller `window_size`."
        )
    check_finite(name, x)
    check_windows_not_constant(name, x, window_size, step_size)
    return x


def fc(x: ArrayLike, *, fisher_z: bool = False) -> Float[Array, "regions regions"]:
    """Functional connectivity: the Pearson correlation between every pair of regions.

    `fc(x)[i, j]` is the correlation over time of region `i`'s and region `j`'s series, as
    `np.corrcoef(x.T)`.

    A region whose series is constant has no defined correlation. On concrete input that raises
    a `ValueError` naming the regions. Under `jax.jit`, `jax.grad` or `jax.vmap` the values are
    not known when the function is traced: the rows and columns of such regions come out NaN
    (and so does anything computed from them, e.g. an FC objective). They are never replaced by
    zeros, which would hide a model that has stopped moving.

    **Arguments:**

    - `x`: a `(time, regions)` series, at least 2 time points and 2 regions. Any unit: FC is
        scale-free.
    - `fisher_z`: return the Fisher z-transform `arctanh(r)` of the off-diagonal correlations,
        with zeros on the diagonal. Pairs that are perfectly correlated give `±inf`.

    **Returns:**

    The `(regions, regions)` correlation matrix (symmetric, ones on the diagonal up to rounding,
    or zeros with `fisher_z=True`).

    **Example:**

    ```python
    x = jax.random.normal(key, (1000, 4))
    massfit.metrics.fc(x)  # (4, 4)
    ```
    """
    x = check_fc_input("x", x, 2, "FC")
    r = pearson_columns(x)
    return fisher_transform(r) if fisher_z else r


def fcd(x: ArrayLike, window_size: int = 30, step_size: int = 5) -> Float[Array, "windows windows"]:
    """Functional connectivity dynamics: how the FC of sliding windows correlates over time.

    The series is cut into windows of `window_size` samples starting at `0, step_size,
    2 step_size, ...` (as long as a full window fits). For each window the FC is computed and
    its upper triangle (the region pairs, without the diagonal) taken as a vector; the FCD
    matrix holds the Pearson correlation between every two windows' vectors.

    A region that is constant within a window makes that window's FC undefined: on concrete
    input this raises a `ValueError` naming the window and regions; under tracing the affected
    rows and columns come out NaN (see [`massfit.metrics.fc`][]).

    **Arguments:**

    - `x`: a `(time, regions)` series with at least 3 regions (2 region pairs) and at least
        `window_size` time points.
    - `window_size`: window length, in samples (>= 2).
    - `step_size`: distance between window starts, in samples (>= 1).

    **Returns:**

    The `(windows, windows)` FCD matrix, `windows = (time - window_size) // step_size + 1`.

    **Example:**

    ```python
    x = jax.random.normal(key, (200, 6))
    massfit.metrics.fcd(x).shape  # (35, 35)
    ```
    """
    window_size = positive_int("window_size", window_size, minimum=2)
    step_size = positive_int("step_size", step_size)
    x = check_fcd_input("x", x, window_size, step_size)
    return fcd_unchecked(x, window_size, step_size)


def matrix_corr(a: ArrayLike, b: ArrayLike) -> Float[Array, ""]:
    """Pearson correlation between the upper triangles (above the diagonal) of two matrices.

    The usual similarity of two FC (or FCD) matrices: the diagonal is left out, and so is the
    lower triangle, which repeats the upper one for symmetric matrices.

    **Arguments:**

    - `a`, `b`: square matrices of the same shape, at least `3 x 3` (two entries above the
        diagonal).

    **Returns:**

    A scalar in `[-1, 1]`; NaN if either upper triangle is constant.

    **Example:**

    ```python
    massfit.metrics.matrix_corr(metrics.fc(simulated), metrics.fc(empirical))
    ```
    """
    a = _as_square("a", a)
    b = _as_square("b", b)
    if a.shape != b.shape:
        raise ValueError(
            f"`a` and `b` must have the same shape; got {tuple(a.shape)} and {tuple(b.shape)}."
        )
    if a.shape[0] < 3:
        raise ValueError(
            "matrix_corr needs at least 3 x 3 matrices (two entries above the diagonal); got "
            f"shape {tuple(a.shape)}."
        )
    check_finite("a", a, axes=("row", "column"))
    check_finite("b", b, axes=("row", "column"))
    return pearson(upper_triangle(a), upper_triangle(b))


def _as_square(name: str, m) -> Float[Array, "n n"]:
    m = jnp.asarray(m)
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        raise ValueError(f"`{name}` must be a square (n, n) matrix; got {describe(m)}.")
    if not jnp.issubdtype(m.dtype, jnp.floating):
        m = m.astype(jnp.result_type(float))
    return m
