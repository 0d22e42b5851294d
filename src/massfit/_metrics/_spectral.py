"""Power spectra (Welch), band power and peak frequency of (time, regions) series.

Time is in ms on the surface (the sampling interval `dt`), frequencies are in Hz.
"""

import functools
from typing import Literal

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from .._custom_types import RealLike
from .._errors import describe
from ._checks import as_series, check_finite, nan_unless_finite, positive_int, real_number
from ._filters import remove_trend
from ._units import IntervalLike, milliseconds


_WINDOWS = ("hann", "hamming", "boxcar")
_DETRENDS = ("constant", "linear", False)
_SCALINGS = ("density", "spectrum")


class WelchConfig:
    """The static settings of a Welch estimate, resolved for one series length and `dt`."""

    def __init__(self, n_time, dt, nperseg, noverlap, window, detrend, scaling):
        self.dt = milliseconds(dt)
        fs = 1000.0 / self.dt  # Hz
        if nperseg is None:
            # One second of samples (1 Hz resolution), at least scipy's 256, at most the series.
            nperseg = min(n_time, max(256, round(fs)))
        else:
            nperseg = positive_int("nperseg", nperseg, minimum=2)
            if nperseg > n_time:
                raise ValueError(
                    f"`nperseg`={nperseg} is longer than the series ({n_time} time points); "
                    "pass a smaller `nperseg` or leave it as None (one second, capped at the "
                    "series length)."
                )
        if noverlap is None:
            noverlap = nperseg // 2
        elif isinstance(noverlap, bool) or not isinstance(noverlap, int) or noverlap < 0:
            raise TypeError(f"`noverlap` must be a non-negative integer; got {noverlap!r}.")
        if noverlap >= nperseg:
            raise ValueError(f"`noverlap`={noverlap} must be smaller than `nperseg`={nperseg}.")
        if detrend not in _DETRENDS:
            raise ValueError(f"`detrend` must be one of {_DETRENDS}; got {detrend!r}.")
        if scaling not in _SCALINGS:
            raise ValueError(f"`scaling` must be one of {_SCALINGS}; got {scaling!r}.")
        self.fs = fs
        self.nperseg = nperseg
        self.noverlap = noverlap
        self.window = _window(window, nperseg)
        self.detrend = detrend
        self.scaling = scaling
        self.freqs = np.fft.rfftfreq(nperseg, d=1.0 / fs)

    def _key(self):
        return (
            self.fs,
            self.nperseg,
            self.noverlap,
            self.window.tobytes(),
            self.detrend,
            self.scaling,
        )

    # Hashable, so that it can be a static argument of the jitted computations below.
    def __hash__(self):
        return hash(self._key())

    def __eq__(self, other):
        return isinstance(other, WelchConfig) and self._key() == other._key()

    def band_indices(self, band: tuple[float, float]) -> np.ndarray:
        """Indices of the frequency bins inside `band` = (low, high) Hz (from `as_band`)."""
        low, high = band
        nyquist = self.fs / 2
        if high > nyquist:
            raise ValueError(
                f"`band` {band!r} Hz goes above the Nyquist frequency {nyquist:g} Hz of "
                f"dt={self.dt:g} ms."
            )
        indices = np.flatnonzero((self.freqs >= low) & (self.freqs <= high))
        if indices.size == 0:
            raise ValueError(
                f"`band` {band!r} Hz holds no frequency bin: with nperseg={self.nperseg} and "
                f"dt={self.dt:g} ms the bins are {self.fs / self.nperseg:g} Hz apart. Widen the "
                "band or use a longer `nperseg`."
            )
        return indices


def as_band(band) -> tuple[float, float]:
    """A `(low, high)` band in Hz as a tuple of floats, or an error."""
    if not isinstance(band, tuple | list) or len(band) != 2:
        raise TypeError(f"`band` must be a (low, high) pair in Hz; got {band!r}.")
    low, high = real_number("band[0]", band[0]), real_number("band[1]", band[1])
    if not 0 <= low < high:
        raise ValueError(f"`band` must satisfy 0 <= low < high (Hz); got {tuple(band)!r}.")
    return low, high


def _window(window, nperseg: int) -> np.ndarray:
    n = np.arange(nperseg)
    if isinstance(window, str):
        # Periodic ("DFT-even") windows, as scipy.signal.get_window makes for spectral analysis.
        if window == "hann":
            return 0.5 - 0.5 * np.cos(2 * np.pi * n / nperseg)
        if window == "hamming":
            return 0.54 - 0.46 * np.cos(2 * np.pi * n / nperseg)
        if window == "boxcar":
            return np.ones(nperseg)
        raise ValueError(f"`window` must be one of {_WINDOWS} or an array; got {window!r}.")
    values = np.asarray(window, dtype=np.float64)
    if values.shape != (nperseg,):
        raise ValueError(
            f"`window` must be a string or an array of length nperseg={nperseg}; got "
            f"{describe(window)}."
        )
    return values


@functools.partial(jax.jit, static_argnums=1)
def welch(x: Float[Array, "time regions"], config: WelchConfig) -> Float[Array, "freqs regions"]:
    """Welch PSD of a validated series with resolved settings (see `psd`)."""
    step = config.nperseg - config.noverlap
    n_segments = (x.shape[0] - config.nperseg) // step + 1
    index = np.arange(n_segments)[:, None] * step + np.arange(config.nperseg)
    segments = x[index]  # (segments, nperseg, regions)
    if config.detrend:
        segments = remove_trend(segments, config.detrend, axis=1)
    window = config.window
    spectrum = jnp.fft.rfft(segments * jnp.asarray(window[:, None], dtype=x.dtype), axis=1)
    power = jnp.real(spectrum) ** 2 + jnp.imag(spectrum) ** 2
    if config.scaling == "density":
        scale = 1.0 / (config.fs * np.sum(window**2))
    else:
        scale = 1.0 / np.sum(window) ** 2
    # One-sided: every bin but DC (and Nyquist, for even nperseg) stands for two.
    doubled = np.full(config.freqs.shape, 2.0)
    doubled[0] = 1.0
    if config.nperseg % 2 == 0:
        doubled[-1] = 1.0
    factor = jnp.asarray((scale * doubled)[:, None], dtype=x.dtype)
    return jnp.mean(power, axis=0) * factor


def psd(
    x: ArrayLike,
    dt: IntervalLike,
    *,
    nperseg: int | None = None,
    noverlap: int | None = None,
    window: str | ArrayLike = "hann",
    detrend: Literal["constant", "linear", False] = "constant",
    scaling: Literal["density", "spectrum"] = "density",
) -> tuple[Float[Array, " freqs"], Float[Array, "freqs regions"]]:
    """Power spectral density of each region, by Welch's method.

    The series is cut into segments of `nperseg` samples overlapping by `noverlap`; each is
    detrended, windowed and Fourier transformed, and the periodograms are averaged. With the
    same `nperseg` this is `scipy.signal.welch(x, fs=1000 / dt, nperseg=nperseg, axis=0)`, whose
    defaults the other settings share (Hann window, half overlap, constant detrend, density
    scaling, one-sided, mean average).

    It is differentiable (an FFT of slices) and works under `jit` and `vmap`; `dt` and the
    settings are static.

    **Arguments:**

    - `x`: a `(time, regions)` series.
    - `dt`: the sampling interval in **ms** (a brainunit time Quantity is converted).
    - `nperseg`: samples per segment. Defaults to one second of samples (`round(1000 / dt)`,
        a 1 Hz resolution), at least 256 and at most the series length. (scipy's default is
        256 whatever `dt`.)
    - `noverlap`: samples shared by consecutive segments; default `nperseg // 2`.
    - `window`: `"hann"`, `"hamming"`, `"boxcar"` (periodic, as `scipy.signal.get_window`) or
        an array of `nperseg` weights.
    - `detrend`: remove each segment's mean (`"constant"`), least-squares line (`"linear"`),
        or nothing (`False`).
    - `scaling`: `"density"` (units of x² per Hz) or `"spectrum"` (units of x²).

    **Returns:**

    `(freqs, power)`: the frequencies in **Hz**, shape `(nperseg // 2 + 1,)`, and the power,
    shape `(freqs, regions)`.

    **Example:**

    ```python
    freqs, power = massfit.metrics.psd(trajectory_x, dt=0.1)  # dt in ms; freqs in Hz
    ```
    """
    x = as_series("x", x)
    check_finite("x", x)
    config = WelchConfig(x.shape[0], dt, nperseg, noverlap, window, detrend, scaling)
    return jnp.asarray(config.freqs, dtype=x.dtype), welch(x, config)


def band_power(
    x: ArrayLike,
    dt: IntervalLike,
    band: tuple[RealLike, RealLike],
    *,
    relative: bool = False,
    nperseg: int | None = None,
    noverlap: int | None = None,
    window: str | ArrayLike = "hann",
    detrend: Literal["constant", "linear", False] = "constant",
) -> Float[Array, " regions"]:
    """Power of each region within a frequency band.

    The Welch density (see [`massfit.metrics.psd`][]) summed over the bins with
    `low <= f <= high`, times the bin width: units of x².

    **Arguments:**

    - `x`: a `(time, regions)` series.
    - `dt`: the sampling interval in **ms**.
    - `band`: `(low, high)` in **Hz**, inclusive; at most the Nyquist frequency `500 / dt`.
    - `relative`: divide by the power over all frequencies (a scale-free fraction in [0, 1]).
    - `nperseg`, `noverlap`, `window`, `detrend`: the Welch settings of `psd`.

    **Returns:**

    The band power of each region, shape `(regions,)`.

    **Example:**

    ```python
    alpha = massfit.metrics.band_power(eeg, dt=1.0, band=(8.0, 12.0))
    ```
    """
    x = as_series("x", x)
    check_finite("x", x)
    config = WelchConfig(x.shape[0], dt, nperseg, noverlap, window, detrend, "density")
    band = as_band(band)
    config.band_indices(band)
    return band_power_unchecked(welch(x, config), config, band, bool(relative))


@functools.partial(jax.jit, static_argnums=(1, 2, 3, 4))
def band_power_unchecked(
    power,
    config: WelchConfig,
    band: tuple[float, float],
    relative: bool,
    total: tuple[int, int] | None = None,
):
    """Band power from a Welch density (see `band_power`); with `relative`, a share of the
    power in bins `total = (start, stop)` (default all)."""
    indices = config.band_indices(band)
    in_band = jnp.sum(power[indices], axis=0)
    if relative:
        start, stop = (0, power.shape[0]) if total is None else total
        return in_band / jnp.sum(power[start:stop], axis=0)
    return in_band * (config.fs / config.nperseg)


def peak_frequency(
    x: ArrayLike,
    dt: IntervalLike,
    band: tuple[RealLike, RealLike],
    *,
    temperature: RealLike | None = None,
    nperseg: int | None = None,
    noverlap: int | None = None,
    window: str | ArrayLike = "hann",
    detrend: Literal["constant", "linear", False] = "constant",
) -> Float[Array, " regions"]:
    """Frequency of the spectral peak of each region within a band.

    With `temperature=None` this is the frequency of the largest Welch bin in the band (an
    `argmax`: piecewise constant, so its gradient is zero). With a temperature it is a
    soft-argmax: the mean of the band's frequencies weighted by `softmax(log(power) /
    temperature)`, i.e. by `power ** (1 / temperature)`. It moves smoothly with the spectrum,
    interpolates between bins, and has useful gradients; as the temperature goes to 0 it tends
    to the `argmax`. A temperature of 0.1-0.5 keeps the weight on the peak and its neighbours
    for spectra whose peak stands well above the rest of the band.

    **Arguments:**

    - `x`: a `(time, regions)` series.
    - `dt`: the sampling interval in **ms**.
    - `band`: `(low, high)` in **Hz**, inclusive, where to look for the peak.
    - `temperature`: `None` for the hard `argmax`, or a positive softness, in units of natural
        log-power.
    - `nperseg`, `noverlap`, `window`, `detrend`: the Welch settings of `psd`.

    **Returns:**

    The peak frequency of each region in **Hz**, shape `(regions,)`.

    **Example:**

    ```python
    massfit.metrics.peak_frequency(x, dt=1.0, band=(1.0, 45.0), temperature=0.25)
    ```
    """
    x = as_series("x", x)
    check_finite("x", x)
    config = WelchConfig(x.shape[0], dt, nperseg, noverlap, window, detrend, "density")
    if temperature is not None:
        temperature = real_number("temperature", temperature, positive=True)
    band = as_band(band)
    config.band_indices(band)
    return peak_frequency_unchecked(welch(x, config), config, band, temperature)


@functools.partial(jax.jit, static_argnums=(1, 2, 3))
def peak_frequency_unchecked(
    power, config: WelchConfig, band: tuple[float, float], temperature: float | None
):
    """Peak frequency from a Welch density (see `peak_frequency`)."""
    indices = config.band_indices(band)
    freqs = jnp.asarray(config.freqs[indices], dtype=power.dtype)
    power = power[indices]
    if temperature is None:
        # An argmax is a finite frequency whatever the power: keep a NaN a NaN, per region.
        peak = freqs[jnp.argmax(power, axis=0)]
        return jax.vmap(nan_unless_finite, in_axes=(0, 1))(peak, power)
    weights = jax.nn.softmax(jnp.log(power) / temperature, axis=0)
    return jnp.sum(weights * freqs[:, None], axis=0)
