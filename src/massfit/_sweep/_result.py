"""`SweepResult`: a sweep's outputs shaped by its design, with their coordinates."""

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import PyTree

from ._designs import Design
from ._setting import Setter


class SweepPoint(NamedTuple):
    """One point of a sweep: its `index` in the design, its `coords` (the value of every
    swept path there) and `fn`'s `value` there (reduced, for `best`)."""

    index: tuple[int, ...]
    coords: dict[str, Any]
    value: Any


def _leaf_names(values: PyTree) -> list[str]:
    leaves = jax.tree_util.tree_leaves_with_path(values)
    if len(leaves) == 1 and leaves[0][0] == ():
        return ["value"]
    names = []
    for path, _ in leaves:
        name = jax.tree_util.keystr(path, simple=True, separator=".")
        names.append(name or "value")
    return names


class SweepResult:
    """What `massfit.sweep` returns.

    **Fields:**

    - `values`: a pytree like `fn`'s output; each leaf is a NumPy array shaped
        `(*design_shape, *leaf_shape)` (with a sweep `directory`, a read-only `numpy.memmap`
        of the directory's `values_<i>.npy`).
    - `dims`: the names of the design's dimensions (a grid: its paths; zipped and random
        designs: "point").
    - `coords`: by swept path, its values along its dimension, `(len(dim), *value_shape)`.
    - `failed`: a boolean array of the design's shape: the points whose evaluation raised
        (an `eqx.error_if`, a runtime error); their values are NaN (0 for integer outputs).
    - `done`: the points evaluated (all of them, unless the sweep was interrupted; the
        others are NaN).
    - `design`: the `Design`.
    """

    def __init__(self, values, failed, done, design: Design, model: PyTree, setter: Setter):
        self.values = values
        self.failed = failed
        self.done = done
        self.design = design
        self._model = model
        self._setter = setter

    @property
    def dims(self) -> tuple[str, ...]:
        return self.design.dims

    @property
    def shape(self) -> tuple[int, ...]:
        return self.design.shape

    @property
    def coords(self) -> dict[str, np.ndarray]:
        return dict(self.design.axes)

    def _flat(self, index: Any) -> int:
        if isinstance(index, (int, np.integer)) and len(self.shape) == 1:
            index = (int(index),)
        index = tuple(int(i) for i in np.atleast_1d(index))
        if len(index) != len(self.shape):
            raise ValueError(
                f"An index into this sweep has {len(self.shape)} entries (dims {self.dims}); "
                f"got {index}."
            )
        return int(np.ravel_multi_index(index, self.shape))

    def coords_at(self, index: Any) -> dict[str, Any]:
        """The value of every swept path at a point."""
        values = self.design.values(np.asarray([self._flat(index)]))
        return {p: v[0] for p, v in values.items()}

    def model_at(self, index: Any) -> PyTree:
        """The model evaluated at a point (`index`: a tuple, one entry per dimension, or an
        int for a one-dimensional design): the swept parameters set to their physical values
        (a `Bounded`/`Positive` one becomes a plain array) and, for a swept `speed`, the
        network's delay bounds as the sweep widened them, so `fn(result.model_at(i))` gives
        the value the sweep gave."""
        values = self.design.values(np.asarray([self._flat(index)]))
        return self._setter(self._model, {p: v[0] for p, v in values.items()})

    def model(self, *index: int) -> PyTree:
        """`model_at(index)`, with the indices as arguments: `result.model(i, j)`."""
        return self.model_at(index)

    def best(self, reduce: Any = None, *, minimise: bool = True) -> SweepPoint:
        """The best point: the lowest (or highest, `minimise=False`) value of `reduce` applied
        to each point's output (`reduce` a JAX function of one output; `None` when `fn`
        returns one number). Failed, unevaluated and non-finite points are never best.

        Raises a `ValueError` when no point has a finite value.
        """
        leaves = jax.tree.leaves(self.values)
        n = int(np.prod(self.shape))
        if reduce is None:
            if len(leaves) != 1 or leaves[0].shape != self.shape:
                raise ValueError(
                    "`fn` does not return one number per point: pass `reduce`, a function "
                    "of one point's output giving a number, e.g. reduce=lambda out: "
                    "out['loss']."
                )
            scores = np.asarray(leaves[0], dtype=np.float64).reshape(n)
        else:
            flat = jax.tree.map(
                lambda x: jnp.asarray(x.reshape(n, *x.shape[len(self.shape) :])), self.values
            )
            scores = np.asarray(jax.vmap(reduce)(flat), dtype=np.float64)
            if scores.shape != (n,):
                raise ValueError(
                    f"`reduce` must give one number per point; got shape {scores.shape[1:]}."
                )
        valid = np.isfinite(scores) & self.done.reshape(n) & ~self.failed.reshape(n)
        if not valid.any():
            raise ValueError("No point of the sweep has a finite value.")
        ranked = np.where(valid, scores if minimise else -scores, np.inf)
        flat_best = int(np.argmin(ranked))
        index = tuple(int(i) for i in np.unravel_index(flat_best, self.shape))
        return SweepPoint(index, self.coords_at(index), scores[flat_best])

    def to_xarray(self) -> Any:
        """The values as an `xarray.Dataset` (one variable per output leaf, named by its
        path in the output; "value" for a single array), with the design's dimensions and
        every swept path as a coordinate, plus `failed`. Needs xarray."""
        try:
            import xarray as xr
        except ImportError:
            raise ImportError(
                'SweepResult.to_xarray needs xarray: pip install "massfit[xarray]".'
            ) from None
        coords = {}
        for p, v in self.design.axes.items():
            dim = self.design.axis_dims[p]
            extra = tuple(f"{p}_dim{i}" for i in range(v.ndim - 1))
            coords[p] = ((dim, *extra), v)
        data = {}
        for name, leaf in zip(_leaf_names(self.values), jax.tree.leaves(self.values)):
            extra = tuple(f"{name}_dim{i}" for i in range(leaf.ndim - len(self.shape)))
            data[name] = ((*self.dims, *extra), leaf)
        data["failed"] = (self.dims, self.failed)
        return xr.Dataset(data, coords=coords)

    def to_dataframe(self) -> Any:
        """A flat table, one row per point: the design index, the swept values (a per-region
        value gives one column per element, `"node.a[3]"`), every output (likewise) and
        `failed`. Needs pandas."""
        try:
            import pandas as pd
        except ImportError:
            raise ImportError(
                'SweepResult.to_dataframe needs pandas: pip install "massfit[pandas]".'
            ) from None
        n = int(np.prod(self.shape))
        columns: dict[str, np.ndarray] = {}
        for dim, idx in zip(self.dims, np.unravel_index(np.arange(n), self.shape)):
            columns[f"{dim} index" if dim in self.design.axes else dim] = idx
        for p, v in self.design.values(np.arange(n)).items():
            _add_columns(columns, p, v)
        for name, leaf in zip(_leaf_names(self.values), jax.tree.leaves(self.values)):
            _add_columns(columns, name, leaf.reshape(n, *leaf.shape[len(self.shape) :]))
        columns["failed"] = self.failed.reshape(n)
        return pd.DataFrame(columns)

    def __repr__(self) -> str:
        dims = ", ".join(f"{d}: {n}" for d, n in zip(self.dims, self.shape))
        return (
            f"SweepResult({dims}; {int(self.done.sum())} points done, "
            f"{int(self.failed.sum())} failed)"
        )


def _add_columns(columns: dict, name: str, values: np.ndarray) -> None:
    if values.ndim == 1:
        columns[name] = values
        return
    for idx in np.ndindex(values.shape[1:]):
        columns[f"{name}[{','.join(map(str, idx))}]"] = values[(slice(None), *idx)]
