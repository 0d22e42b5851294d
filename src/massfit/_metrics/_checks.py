"""Input checks shared by the metrics and the objectives.

Shape checks always run (shapes are static). Value checks (finite, non-constant) run only on
concrete inputs; under `jit`/`grad`/`vmap` the values are unknown and bad values propagate as NaN.
"""

import numbers

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from .._errors import describe, is_concrete
from ._units import is_quantity, magnitude


def as_series(name: str, x) -> Float[Array, "time regions"]:
    """`x` as a floating `(time, regions)` array, or an error naming `name`."""
    if is_quantity(x):
        raise TypeError(
            f"`{name}` is a brainunit Quantity; the metrics take plain arrays. Strip the unit "
            "with `brainunit.get_magnitude` where the metric is scale-free, or use the "
            "objectives in `massfit.objectives`, which handle units."
        )
    try:
        array = jnp.asarray(x)
    except TypeError as e:
        raise TypeError(f"`{name}` must be a (time, regions) array; got {describe(x)}.") from e
    if array.ndim != 2:
        if array.ndim == 1:
            hint = " For one region's series pass `x[:, None]`."
        elif array.ndim > 2:
            hint = " For a batch of series, map over the batch with `jax.vmap`."
        else:
            hint = ""
        raise ValueError(f"`{name}` must be a 2-D (time, regions) array; got {describe(x)}.{hint}")
    if jnp.issubdtype(array.dtype, jnp.complexfloating):
        raise TypeError(f"`{name}` must be real-valued; got {describe(x)}.")
    if not jnp.issubdtype(array.dtype, jnp.floating):
        array = array.astype(jnp.result_type(float))
    return array


def check_finite(name: str, x: ArrayLike, axes: tuple[str, ...] = ("time index", "region")) -> None:
    """Raise if concrete `x` holds NaN or infinity, saying where (`axes` names its axes)."""
    if not is_concrete(x):
        return
    values = np.asarray(x)
    bad = ~np.isfinite(values)
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        where = ", ".join(f"{axis} {i}" for axis, i in zip(axes, index, strict=True))
        raise ValueError(
            f"`{name}` must be finite; it has {int(bad.sum())} non-finite value(s), the first "
            f"at {where} ({values[index]})."
        )


def all_finite(*inputs) -> Array:
    """Whether every floating-point array among `inputs` (pytrees, Quantities allowed) is finite."""
    leaves = [
        jnp.asarray(magnitude(leaf))
        for leaf in jax.tree.leaves(inputs, is_leaf=is_quantity)
        if hasattr(magnitude(leaf), "dtype")
    ]
    flags = [jnp.all(jnp.isfinite(x)) for x in leaves if jnp.issubdtype(x.dtype, jnp.inexact)]
    return jnp.all(jnp.stack(flags)) if flags else jnp.array(True)


def nan_unless_finite(value: ArrayLike, *inputs) -> Array:
    """`value` where every input is finite, else NaN (all of it).

    For the computations that would turn a non-finite input into a finite output (a maximum,
    an argmax, a sort, a kernel that sends infinity to 0, a guarded square root): a NaN must
    propagate, or a fit would read a broken prediction as a perfect one. Under `jit` the inputs
    are traced, so this is a value, not a check.
    """
    value = jnp.asarray(value)
    return jnp.where(all_finite(*inputs), value, jnp.asarray(jnp.nan, dtype=value.dtype))


def check_min_regions(name: str, x: Array, minimum: int, what: str) -> None:
    """Raise if `x` has fewer than `minimum` regions (columns)."""
    if x.shape[1] < minimum:
        raise ValueError(
            f"{what} needs at least {minimum} regions; `{name}` has shape {tuple(x.shape)} "
            f"({x.shape[1]} region{'s' if x.shape[1] != 1 else ''})."
        )


def check_min_time(name: str, x: Array, minimum: int, what: str) -> None:
    """Raise if `x` has fewer than `minimum` time points."""
    if x.shape[0] < minimum:
        raise ValueError(
            f"{what} needs at least {minimum} time points; `{name}` has shape {tuple(x.shape)}."
        )


_FC_UNDEFINED = (
    "their correlation with any other region is undefined, so FC is too. Make sure those "
    "regions are driven (noise, input or coupling), or leave them out before comparing."
)


def check_not_constant(name: str, x: Array, consequence: str = _FC_UNDEFINED) -> None:
    """Raise if concrete `x` has regions that never change; `consequence` says why it matters
    (by default: their correlations, hence FC, are undefined)."""
    if not is_concrete(x):
        return
    values = np.asarray(x)
    constant = np.flatnonzero(np.all(values == values[:1], axis=0))
    if constant.size:
        raise ValueError(
            f"`{name}` has zero variance in region(s) {constant.tolist()}: {consequence}"
        )


def check_windows_not_constant(name: str, x: Array, window_size: int, step_size: int) -> None:
    """Raise if, in concrete `x`, a region is constant within one of the FCD windows."""
    if not is_concrete(x):
        return
    values = np.asarray(x)
    # (windows, regions, window_size)
    windows = np.lib.stride_tricks.sliding_window_view(values, window_size, axis=0)[::step_size]
    constant = np.all(windows == windows[..., :1], axis=-1)
    if constant.any():
        window, _ = np.argwhere(constant)[0]
        regions = np.flatnonzero(constant[window]).tolist()
        start = int(window) * step_size
        raise ValueError(
            f"`{name}` has zero variance in region(s) {regions} within FCD window {int(window)} "
            f"(time indices {start} to {start + window_size - 1}): the window's FC is "
            "undefined. Use longer windows, or make sure every region varies throughout."
        )


def check_same_regions(prediction: Array, target: Array, *, same_time: bool) -> None:
    """Raise if `prediction` and `target` cannot be compared."""
    if same_time and prediction.shape != target.shape:
        raise ValueError(
            "`prediction` and `target` must have the same (time, regions) shape; got "
            f"{tuple(prediction.shape)} and {tuple(target.shape)}."
        )
    if prediction.shape[1] != target.shape[1]:
        raise ValueError(
            "`prediction` and `target` must have the same number of regions (columns); got "
            f"shapes {tuple(prediction.shape)} and {tuple(target.shape)}."
        )


def positive_int(name: str, value, minimum: int = 1, unit: str = "samples") -> int:
    """`value` as an int >= `minimum`, or an error naming `name` and what it counts (`unit`)."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Integral):
        raise TypeError(f"`{name}` must be an integer ({unit}); got {describe(value)}.")
    if value < minimum:
        raise ValueError(f"`{name}` must be at least {minimum} ({unit}); got {value}.")
    return int(value)


def is_real_scalar(value) -> bool:
    """Whether `value` is a concrete real number: int, float, or a 0-d real array; not a bool."""
    if isinstance(value, bool | np.bool_):
        return False
    if isinstance(value, numbers.Real):
        return True
    dtype = getattr(value, "dtype", None)
    return (
        dtype is not None
        and getattr(value, "ndim", None) == 0
        and (jnp.issubdtype(dtype, jnp.floating) or jnp.issubdtype(dtype, jnp.integer))
        and is_concrete(value)
    )


def real_number(name: str, value, *, positive: bool = False) -> float:
    """`value` as a finite Python float, or an error naming `name`."""
    if not is_real_scalar(value):
        raise TypeError(f"`{name}` must be a real number; got {describe(value)}.")
    value = float(value)
    if not np.isfinite(value) or (positive and value <= 0):
        kind = "a positive, finite" if positive else "a finite"
        raise ValueError(f"`{name}` must be {kind} number; got {value}.")
    return value
