"""Designs: the points of a sweep, by parameter path, with their coordinates.

A design is a set of named dimensions; every swept path belongs to one dimension and has one
value per index along it. A grid gives each path its own dimension (the product of the
axes); zipped axes and random designs share one dimension, "point".
"""

import hashlib
import math
from collections.abc import Mapping
from typing import Any

import jax
import numpy as np
from jaxtyping import ArrayLike

from .._errors import check_int, check_key, describe


def linear(start: ArrayLike, stop: ArrayLike, n: int) -> np.ndarray:
    """`n` values evenly spaced from `start` to `stop` (both included).

    `start` and `stop` may be arrays (one per region): the values are then shaped
    `(n, *shape)`, for a per-region parameter.
    """
    check_int("n", n, 1)
    return np.linspace(_as_float(start, "start"), _as_float(stop, "stop"), n)


def log(start: ArrayLike, stop: ArrayLike, n: int) -> np.ndarray:
    """`n` values evenly spaced in log scale from `start` to `stop` (both included, > 0)."""
    check_int("n", n, 1)
    start, stop = _as_float(start, "start"), _as_float(stop, "stop")
    if not (np.all(start > 0) and np.all(stop > 0)):
        raise ValueError(f"log spacing needs start > 0 and stop > 0; got {start} and {stop}.")
    return np.geomspace(start, stop, n)


def _as_float(value: Any, name: str) -> np.ndarray:
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(
            f"`{name}` must be a real number or array; got {describe(value)}."
        ) from None
    if not np.all(np.isfinite(array)):
        raise ValueError(f"`{name}` must be finite; got {array}.")
    return array


def _axis(path: Any, values: Any) -> np.ndarray:
    if not isinstance(path, str) or not path:
        raise TypeError(f"Axes are keyed by parameter path (a string); got {describe(path)}.")
    array = _as_float(values, f"values of {path!r}")
    if array.ndim == 0 or array.shape[0] == 0:
        raise ValueError(
            f"The axis {path!r} needs a non-empty sequence of values (shape (n, ...)); got "
            f"shape {array.shape}. Use e.g. massfit.designs.linear(0.0, 0.1, 11)."
        )
    return array


class Design:
    """The points of a sweep. Built by `grid`, `zipped`, `product`, `random`,
    `latin_hypercube` and `sobol`; a plain dict of axes is a `grid`.

    - `dims`: the names of the design's dimensions, in order.
    - `shape`: the length of each dimension.
    - `axes`: by path, the values along its dimension, `(len(dim), *value_shape)`.
    - `axis_dims`: by path, the name of its dimension.
    """

    def __init__(self, dims: tuple[str, ...], axes: Mapping[str, np.ndarray], axis_dims):
        self.dims = tuple(dims)
        self.axes = dict(axes)
        self.axis_dims = dict(axis_dims)
        self.shape = tuple(
            next(len(v) for p, v in self.axes.items() if self.axis_dims[p] == d) for d in self.dims
        )

    @property
    def paths(self) -> tuple[str, ...]:
        return tuple(self.axes)

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    def values(self, flat_index: np.ndarray) -> dict[str, np.ndarray]:
        """The value of every path at these flat (row-major) point indices."""
        multi = np.unravel_index(np.asarray(flat_index), self.shape)
        return {p: v[multi[self.dims.index(self.axis_dims[p])]] for p, v in self.axes.items()}

    def fingerprint(self) -> str:
        """A sha256 of everything that defines the points."""
        h = hashlib.sha256(repr((self.dims, self.shape, self.axis_dims)).encode())
        for p, v in self.axes.items():
            h.update(p.encode())
            h.update(repr((v.shape, str(v.dtype))).encode())
            h.update(np.ascontiguousarray(v).tobytes())
        return h.hexdigest()

    def __repr__(self) -> str:
        dims = ", ".join(f"{d}: {n}" for d, n in zip(self.dims, self.shape))
        return f"Design({dims}; paths {list(self.axes)})"


def grid(axes: Mapping[str, Any]) -> Design:
    """Every combination of the axes' values (a product grid): one dimension per path.

    **Example:** `designs.grid({"k": designs.linear(0.0, 0.05, 21), "speed": [2.0, 5.0]})`
    has shape `(21, 2)`.
    """
    _check_mapping(axes, "grid")
    arrays = {p: _axis(p, v) for p, v in axes.items()}
    return Design(tuple(arrays), arrays, {p: p for p in arrays})


def zipped(axes: Mapping[str, Any], *, name: str = "point") -> Design:
    """The axes' values taken together, element by element: one dimension `name`.

    All axes must have the same length.
    """
    _check_mapping(axes, "zipped")
    arrays = {p: _axis(p, v) for p, v in axes.items()}
    lengths = {p: len(v) for p, v in arrays.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(
            f"Zipped axes must have the same length; got {lengths}. Use a grid (a dict, or "
            "designs.grid) for every combination."
        )
    return Design((name,), arrays, {p: name for p in arrays})


def product(*designs: Any) -> Design:
    """Every combination of the points of several designs (their dimensions side by side)."""
    parts = [as_design(d) for d in designs]
    if not parts:
        raise TypeError("`product` needs at least one design.")
    dims, axes, axis_dims = [], {}, {}
    for d in parts:
        for dim in d.dims:
            if dim in dims:
                raise ValueError(
                    f"Two designs share the dimension name {dim!r}; give one another name, "
                    "e.g. designs.zipped(..., name='other')."
                )
            dims.append(dim)
        for p in d.axes:
            if p in axes:
                raise ValueError(f"The path {p!r} is swept by two designs of the product.")
        axes.update(d.axes)
        axis_dims.update(d.axis_dims)
    return Design(tuple(dims), axes, axis_dims)


def as_design(design: Any) -> Design:
    """A `Design` as given, or a dict of axes as a `grid`."""
    if isinstance(design, Design):
        return design
    if isinstance(design, Mapping):
        return grid(design)
    raise TypeError(
        "`axes` must be a dict {path: values} (a product grid) or a design from "
        f"massfit.designs (grid, zipped, product, random, latin_hypercube, sobol); got "
        f"{describe(design)}."
    )


def _check_mapping(axes: Any, name: str) -> None:
    if not isinstance(axes, Mapping) or not axes:
        raise TypeError(f"`{name}` takes a non-empty dict {{path: values}}; got {describe(axes)}.")


class Uniform:
    """Values drawn uniformly in `[low, high]` (numbers, or arrays for a per-region
    parameter: each element drawn independently)."""

    def __init__(self, low: ArrayLike, high: ArrayLike):
        self.low, self.high = _as_float(low, "low"), _as_float(high, "high")
        try:
            self.shape = np.broadcast_shapes(self.low.shape, self.high.shape)
        except ValueError:
            raise ValueError(
                f"`low` and `high` must broadcast together; got shapes {self.low.shape} and "
                f"{self.high.shape}."
            ) from None
        if not np.all(self.low < self.high):
            raise ValueError(f"{type(self).__name__} needs low < high; got {low} and {high}.")

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Map uniform `[0, 1)` numbers `(n, *shape)` to values."""
        return self.low + (self.high - self.low) * u

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.low}, {self.high})"


class LogUniform(Uniform):
    """Values whose logarithm is uniform: `low * (high / low) ** u`, `0 < low < high`."""

    def __init__(self, low: ArrayLike, high: ArrayLike):
        super().__init__(low, high)
        if not np.all(self.low > 0):
            raise ValueError(f"LogUniform needs low > 0; got {low}.")

    def ppf(self, u: np.ndarray) -> np.ndarray:
        return np.exp(np.log(self.low) + (np.log(self.high) - np.log(self.low)) * u)


def _space(space: Any) -> dict[str, Uniform]:
    _check_mapping(space, "a random design")
    for p, dist in space.items():
        if not isinstance(dist, Uniform):
            raise TypeError(
                f"The space of {p!r} must be designs.Uniform(low, high) or "
                f"designs.LogUniform(low, high); got {describe(dist)}."
            )
    return dict(space)


def _rng(key: Any) -> np.random.Generator:
    check_key("key", key)
    if jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key):
        key = jax.random.key_data(key)
    return np.random.default_rng(np.asarray(key, dtype=np.uint32).ravel().tolist())


def _from_unit(space: dict[str, Uniform], u: np.ndarray, name: str) -> Design:
    """Split `(n, d)` unit numbers over the space's (flattened) dimensions."""
    axes, start = {}, 0
    for p, dist in space.items():
        size = math.prod(dist.shape)
        block = u[:, start : start + size].reshape(len(u), *dist.shape)
        axes[p] = dist.ppf(block)
        start += size
    return Design((name,), axes, {p: name for p in axes})


def _n_dims(space: dict[str, Uniform]) -> int:
    return sum(math.prod(d.shape) for d in space.values())


def random(space: Mapping[str, Uniform], n: int, *, key: Any, name: str = "point") -> Design:
    """`n` points drawn independently from `space` (by path: `Uniform` or `LogUniform`),
    with the JAX PRNG `key` (the same key gives the same points)."""
    space = _space(space)
    check_int("n", n, 1)
    return _from_unit(space, _rng(key).random((n, _n_dims(space))), name)


def latin_hypercube(
    space: Mapping[str, Uniform], n: int, *, key: Any, name: str = "point"
) -> Design:
    """`n` points in a Latin hypercube over `space`: along every (scalar) dimension each of
    the `n` equal strata holds exactly one point."""
    space = _space(space)
    check_int("n", n, 1)
    rng = _rng(key)
    d = _n_dims(space)
    strata = np.stack([rng.permutation(n) for _ in range(d)], axis=1)
    return _from_unit(space, (strata + rng.random((n, d))) / n, name)


def sobol(space: Mapping[str, Uniform], n: int, *, key: Any, name: str = "point") -> Design:
    """`n` points of a scrambled Sobol sequence over `space` (quasi-random, low
    discrepancy; `n` a power of 2 keeps its balance). Needs SciPy."""
    space = _space(space)
    check_int("n", n, 1)
    try:
        from scipy.stats import qmc
    except ImportError:
        raise ImportError(
            'designs.sobol needs SciPy: pip install scipy (or pip install "massfit[io]").'
        ) from None
    sampler = qmc.Sobol(_n_dims(space), scramble=True, seed=_rng(key))
    m = max(0, math.ceil(math.log2(n)))
    return _from_unit(space, sampler.random_base2(m)[:n], name)
