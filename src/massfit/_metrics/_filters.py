"""Zero-phase Butterworth filters, detrending and z-scoring of `(time, regions)` series.

Time is in ms on the surface (the sampling interval `dt`), frequencies are in Hz. The filters
are `scipy.signal.filtfilt` written in JAX: the coefficients come from `scipy.signal.butter`
once, before tracing; the recursion is a `lax.scan` over time, so it is differentiable and works
under `jit` and `vmap`.
"""

import functools
from typing import Literal

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from .._custom_types import RealLike
from .._errors import is_concrete
from ._checks import (
    as_series,
    check_finite,
    check_min_time,
    check_not_constant,
    positive_int,
    real_number,
)
from ._units import IntervalLike, milliseconds


_TRENDS = ("linear", "constant")


def remove_trend(x: Array, type: str, axis: int) -> Array:
    """`x` minus its mean (`"constant"`) or least-squares line (`"linear"`) along `axis`."""
    mean = jnp.mean(x, axis=axis, keepdims=True)
    if type == "constant":
        return x - mean
    n = x.shape[axis]
    shape = [1] * x.ndim
    shape[axis] = n
    # Centred times are orthogonal to the constant, so the slope needs no centred x.
    t = jnp.asarray((np.arange(n) - (n - 1) / 2).reshape(shape), dtype=x.dtype)
    slope = jnp.sum(t * x, axis=axis, keepdims=True) / jnp.sum(t * t)
    return x - mean - slope * t


def _frequency(name: str, value, nyquist: float, dt: float) -> float:
    """A cut-off in Hz inside (0, Nyquist), or an error naming `name` and the Nyquist frequency."""
    if not is_concrete(value):
        raise TypeError(
            f"`{name}` must be a concrete number in Hz; got a traced value. The filter's "
            "coefficients are computed before tracing: pass a Python float (close over it "
            "rather than passing it through `jax.jit` or `jax.vmap`)."
        )
    value = real_number(name, value)
    if value <= 0:
        hint = "A band with no lower edge is a `lowpass`."
    elif value >= nyquist:
        hint = (
            "Frequencies from Nyquist up are not represented at this sampling interval: lower "
            "it, or sample faster (a smaller `dt`). A band with no upper edge is a `highpass`."
        )
    else:
        return value
    raise ValueError(
        f"`{name}` must lie strictly between 0 Hz and the Nyquist frequency {nyquist:g} Hz "
        f"(1000 / (2 dt) with dt={dt:g} ms); got {value:g} Hz. {hint}"
    )


def _butterworth_filtfilt(x, dt, cutoffs: dict[str, RealLike], btype: str, order) -> Array:
    """Check the arguments, design the filter and run it (see `bandpass`)."""
    x = as_series("x", x)
    dt = milliseconds(dt)
    order = positive_int("order", order, unit="the Butterworth order")
    nyquist = 500.0 / dt  # Hz
    edges = [_frequency(name, value, nyquist, dt) for name, value in cutoffs.items()]
    if btype == "bandpass" and edges[0] >= edges[1]:
        raise ValueError(
            f"`low` must be below `high`; got low={edges[0]:g} Hz and high={edges[1]:g} Hz."
        )
    # filtfilt's default padding: 3 times the length of the transfer function's coefficient
    # vectors, order + 1, or 2 order + 1 for a band-pass.
    padlen = 3 * ((2 if btype == "bandpass" else 1) * order + 1)
    check_min_time(
        "x",
        x,
        padlen + 1,
        f"A zero-phase order-{order} Butterworth {btype} (it pads {padlen} samples at each end)",
    )
    check_finite("x", x)
    import scipy.signal

    sos = scipy.signal.butter(
        order, edges if btype == "bandpass" else edges[0], btype, fs=1000.0 / dt, output="sos"
    )
    return _filtfilt(x, tuple(tuple(float(c) for c in section) for section in sos), padlen)


@functools.partial(jax.jit, static_argnums=(1, 2))
def _filtfilt(
    x: Float[Array, "time regions"], sos: tuple[tuple[float, ...], ...], padlen: int
) -> Float[Array, "time regions"]:
    """Forward-backward filtering along time, as `scipy.signal.filtfilt` with its defaults:
    odd extension by `padlen` samples at each end, each pass started in the steady state of
    a step the height of its first sample."""
    import scipy.signal

    zi = scipy.signal.sosfilt_zi(np.asarray(sos))
    extended = jnp.concatenate(
        [2 * x[:1] - x[padlen:0:-1], x, 2 * x[-1:] - x[-2 : -padlen - 2 : -1]]
    )
    forward = _sosfilt(extended, sos, zi)
    backward = _sosfilt(forward[::-1], sos, zi)
    return backward[::-1][padlen:-padlen]


def _sosfilt(x: Array, sos: tuple[tuple[float, ...], ...], zi: np.ndarray) -> Array:
    """A cascade of second-order sections along time, in direct form II transposed as
    `scipy.signal.sosfilt`, starting from `zi` scaled by the first sample.

    Second-order sections rather than one transfer function: in polynomial form a narrow band
    far below Nyquist is unstable to rounding (8-12 Hz at dt = 0.1 ms: scipy's `filtfilt`
    gives NaN from order 4 on).
    """
    state = jnp.asarray(zi, dtype=x.dtype)[:, :, None] * x[0]

    def step(state, sample):
        updated = []
        for (b0, b1, b2, _, a1, a2), (z0, z1) in zip(sos, state, strict=True):
            y = b0 * sample + z0
            updated.append(jnp.stack([b1 * sample - a1 * y + z1, b2 * sample - a2 * y]))
            sample = y
        return jnp.stack(updated), sample

    return jax.lax.scan(step, state, x)[1]


def bandpass(
    x: ArrayLike, dt: IntervalLike, low: RealLike, high: RealLike, *, order: int = 4
) -> Float[Array, "time regions"]:
    """Zero-phase Butterworth band-pass filter of each region's series.

    The filter runs forwards and then backwards, so it shifts no phase and its gain is the
    square of the Butterworth gain (−6 dB at `low` and `high`). It is
    `scipy.signal.filtfilt(b, a, x, axis=0)` with `b, a = scipy.signal.butter(order, (low,
    high), "bandpass", fs=1000 / dt)` and filtfilt's defaults: the series is extended by
    `3 (2 order + 1)` samples at each end by odd reflection, and each pass starts in the
    steady state of its first sample. It is computed as second-order sections, which stay
    accurate where the `(b, a)` form does not (narrow bands far below Nyquist); there it
    matches `scipy.signal.sosfiltfilt` with the same padding.

    It is differentiable in `x` and works under `jit` and `vmap`; `dt`, the cut-offs and
    `order` are static (Python numbers). A non-finite value spreads to the whole of its
    region's output under tracing; a concrete `x` with one is refused, saying where.

    **Arguments:**

    - `x`: a `(time, regions)` series; filtered along time.
    - `dt`: the sampling interval in **ms** (a brainunit time Quantity is converted).
    - `low`, `high`: the band edges in **Hz**, `0 < low < high <` the Nyquist frequency
        `1000 / (2 dt)`.
    - `order`: the Butterworth order of each pass, as `scipy.signal.butter`'s `N` (a
        band-pass of order N has 2 N poles).

    **Returns:**

    The filtered series, shape and dtype of `x`.

    **Example:**

    ```python
    import numpy as np
    import massfit

    x = np.random.default_rng(0).standard_normal((5000, 3))  # 5 s at dt = 1 ms
    alpha = massfit.metrics.bandpass(x, dt=1.0, low=8.0, high=12.0)
    ```
    """
    return _butterworth_filtfilt(x, dt, {"low": low, "high": high}, "bandpass", order)


def lowpass(
    x: ArrayLike, dt: IntervalLike, cutoff: RealLike, *, order: int = 4
) -> Float[Array, "time regions"]:
    """Zero-phase Butterworth low-pass filter of each region's series.

    As [`massfit.metrics.bandpass`][] with `scipy.signal.butter(order, cutoff, "lowpass", fs=1000
    / dt)`; the padding is `3 (order + 1)` samples at each end.

    **Arguments:**

    - `x`: a `(time, regions)` series; filtered along time.
    - `dt`: the sampling interval in **ms**.
    - `cutoff`: the −3 dB frequency of one pass in **Hz** (−6 dB forwards and backwards),
        below the Nyquist frequency `1000 / (2 dt)`.
    - `order`: the Butterworth order of each pass.

    **Returns:**

    The filtered series, shape and dtype of `x`.

    **Example:**

    ```python
    import numpy as np
    import massfit

    x = np.random.default_rng(0).standard_normal((5000, 3))  # dt = 1 ms
    slow = massfit.metrics.lowpass(x, dt=1.0, cutoff=30.0)
    ```
    """
    return _butterworth_filtfilt(x, dt, {"cutoff": cutoff}, "lowpass", order)


def highpass(
    x: ArrayLike, dt: IntervalLike, cutoff: RealLike, *, order: int = 4
) -> Float[Array, "time regions"]:
    """Zero-phase Butterworth high-pass filter of each region's series.

    As [`massfit.metrics.bandpass`][] with `scipy.signal.butter(order, cutoff, "highpass",
    fs=1000 / dt)`; the padding is `3 (order + 1)` samples at each end.

    **Arguments:**

    - `x`: a `(time, regions)` series; filtered along time.
    - `dt`: the sampling interval in **ms**.
    - `cutoff`: the −3 dB frequency of one pass in **Hz**, between 0 and the Nyquist
        frequency `1000 / (2 dt)`.
    - `order`: the Butterworth order of each pass.

    **Returns:**

    The filtered series, shape and dtype of `x`.

    **Example:**

    ```python
    import numpy as np
    import massfit

    bold = np.random.default_rng(0).standard_normal((300, 4))  # TR = 2 s
    bold = massfit.metrics.highpass(bold, dt=2000.0, cutoff=0.01)
    ```
    """
    return _butterworth_filtfilt(x, dt, {"cutoff": cutoff}, "highpass", order)


def detrend(
    x: ArrayLike, type: Literal["linear", "constant"] = "linear"
) -> Float[Array, "time regions"]:
    """Remove each region's least-squares line or mean.

    `scipy.signal.detrend(x, axis=0, type=type)`. Differentiable; works under `jit` and `vmap`.

    **Arguments:**

    - `x`: a `(time, regions)` series.
    - `type`: `"linear"` (the default, as scipy's) removes the least-squares line through
        each region's samples; `"constant"` removes the mean.

    **Returns:**

    The detrended series, shape and dtype of `x`.

    **Example:**

    ```python
    import numpy as np
    import massfit

    drifting = np.arange(100.0)[:, None] * [0.1, -0.2]  # two regions
    massfit.metrics.detrend(drifting)  # zeros, up to rounding
    ```
    """
    x = as_series("x", x)
    if type not in _TRENDS:
        raise ValueError(f"`type` must be one of {_TRENDS}; got {type!r}.")
    check_min_time("x", x, 2 if type == "linear" else 1, f"detrend(type={type!r})")
    check_finite("x", x)
    return _detrend(x, type)


@functools.partial(jax.jit, static_argnums=1)
def _detrend(x: Float[Array, "time regions"], type: str) -> Float[Array, "time regions"]:
    return remove_trend(x, type, axis=0)


def zscore(x: ArrayLike) -> Float[Array, "time regions"]:
    """Standardise each region: subtract its mean, divide by its standard deviation.

    `scipy.stats.zscore(x, axis=0)` (population standard deviation, `ddof=0`). A region that
    never changes has no z-score: a concrete `x` with one is refused, naming it; under
    tracing that region comes out NaN (never 0, which would look like a region at its mean).
    Differentiable; works under `jit` and `vmap`.

    **Arguments:**

    - `x`: a `(time, regions)` series.

    **Returns:**

    The z-scored series, shape and dtype of `x`: each region has mean 0 and variance 1.

    **Example:**

    ```python
    import numpy as np
    import massfit

    x = np.random.default_rng(0).normal(5.0, 3.0, size=(200, 4))
    z = massfit.metrics.zscore(x)  # each column: mean 0, standard deviation 1
    ```
    """
    x = as_series("x", x)
    check_min_time("x", x, 2, "zscore")
    check_finite("x", x)
    check_not_constant(
        "x",
        x,
        "their standard deviation is 0, so their z-score is undefined. Leave those regions "
        "out, or only remove the mean (`massfit.metrics.detrend(x, type='constant')`).",
    )
    return _zscore(x)


@jax.jit
def _zscore(x: Float[Array, "time regions"]) -> Float[Array, "time regions"]:
    centred = remove_trend(x, "constant", axis=0)
    z = centred / jnp.sqrt(jnp.mean(centred**2, axis=0))
    # Compared exactly: the mean of equal values may differ from them by rounding, which
    # would give a constant region a z-score of ±1 rather than NaN.
    return jnp.where(jnp.all(x == x[:1], axis=0), jnp.nan, z)
