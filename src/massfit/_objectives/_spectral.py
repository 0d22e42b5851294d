"""Spectral objectives: log-PSD distance, peak frequency, band power.

Time is in ms (`dt`), frequency in Hz (`band`), as everywhere on massfit's surface.
"""

from typing import ClassVar, Literal

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from .._custom_types import RealLike
from .._metrics._checks import real_number
from .._metrics._spectral import (
    as_band,
    band_power_unchecked,
    peak_frequency_unchecked,
    welch,
    WelchConfig,
)
from .._metrics._units import IntervalLike, milliseconds
from ._base import (
    AbstractObjective,
    builder,
    exact_at_identity,
    prepare_pair,
    propagates_non_finite,
    SeriesLike,
)
from ._targets import as_realisations, resolve_target, Spectrum


class AbstractSpectral(AbstractObjective):
    """Compares the Welch spectra of prediction and target within a frequency band."""

    dt: eqx.AbstractVar[float]
    band: eqx.AbstractVar[tuple[float, float]]
    nperseg: eqx.AbstractVar[int | None]
    noverlap: eqx.AbstractVar[int | None]
    window: eqx.AbstractVar[str]
    detrend: eqx.AbstractVar[Literal["constant", "linear", False]]

    def spectra(self, prediction, target, *, same_units: bool):
        """Both series, their Welch densities (same bins), the settings, the band's bins, and
        the bins that both spectra cover.

        With a `Spectrum` target the returned series are None, the prediction's density is
        the mean over its realisations, and the target's is interpolated onto its bins.
        """
        spectrum, target = resolve_target(target, Spectrum, self.name)
        if spectrum is not None:
            return self._against_spectrum(prediction, spectrum)
        prediction, target = prepare_pair(
            prediction, target, same_units=same_units, same_time=False, what=self.name
        )
        configs = [
            WelchConfig(
                x.shape[0],
                self.dt,
                self.nperseg,
                self.noverlap,
                self.window,
                self.detrend,
                "density",
            )
            for x in (prediction, target)
        ]
        if configs[0].nperseg != configs[1].nperseg:
            raise ValueError(
                f"`prediction` ({prediction.shape[0]} time points) and `target` "
                f"({target.shape[0]}) give Welch segments of {configs[0].nperseg} and "
                f"{configs[1].nperseg} samples, so their frequency bins differ. Pass `nperseg` "
                "explicitly (at most the shorter length)."
            )
        config = configs[0]
        indices = config.band_indices(self.band)
        p, q = welch(prediction, config), welch(target, config)
        return prediction, target, p, q, config, indices, (0, config.freqs.size)

    def _against_spectrum(self, prediction, spectrum: Spectrum):
        batch = as_realisations("prediction", prediction)
        config = WelchConfig(
            batch.shape[1], self.dt, self.nperseg, self.noverlap, self.window, self.detrend,
            "density",
        )
        indices = config.band_indices(self.band)
        low, high = spectrum.frequencies[0], spectrum.frequencies[-1]
        if config.freqs[indices[0]] < low or config.freqs[indices[-1]] > high:
            raise ValueError(
                f"{self.name}: the band {self.band} Hz (bins {config.freqs[indices[0]]:g} to "
                f"{config.freqs[indices[-1]]:g} Hz) is not covered by the target Spectrum's "
                f"frequencies, {low:g} to {high:g} Hz."
            )
        power = spectrum.power
        if power.ndim == 2 and power.shape[1] != batch.shape[2]:
            raise ValueError(
                f"`prediction` has {batch.shape[2]} regions but the target Spectrum has "
                f"{power.shape[1]} columns."
            )
        inside = np.flatnonzero((config.freqs >= low) & (config.freqs <= high))
        covered = (int(inside[0]), int(inside[-1]) + 1)
        p = jnp.mean(jax.vmap(lambda x: welch(x, config))(batch), axis=0)
        # Linear in log power between the target's frequencies.
        log_q = jax.vmap(
            lambda column: jnp.interp(config.freqs, np.asarray(spectrum.frequencies), column),
            in_axes=1,
            out_axes=1,
        )(jnp.log(power.reshape(power.shape[0], -1)))
        q = jnp.broadcast_to(jnp.exp(log_q), p.shape).astype(p.dtype)
        return None, None, p, q, config, indices, covered


class PSDDistance(AbstractSpectral):
    """Log-PSD distance within a band; see [`massfit.objectives.psd_distance`][]."""

    dt: float = eqx.field(static=True)
    band: tuple[float, float] = eqx.field(static=True)
    nperseg: int | None = eqx.field(static=True)
    noverlap: int | None = eqx.field(static=True)
    window: str = eqx.field(static=True)
    detrend: Literal["constant", "linear", False] = eqx.field(static=True)
    name: ClassVar[str] = "psd_distance"
    is_score: ClassVar[bool] = False

    @propagates_non_finite
    def __call__(self, prediction: SeriesLike, target: SeriesLike) -> Float[Array, ""]:
        prediction, target, p, q, _, indices, _ = self.spectra(
            prediction, target, same_units=True
        )
        difference = jnp.log(p[indices]) - jnp.log(q[indices])
        return exact_at_identity(jnp.mean(difference * difference), prediction, target, 0.0)


class PeakFrequency(AbstractSpectral):
    """Squared difference of soft peak frequencies; see [`massfit.objectives.peak_frequency`][]."""

    dt: float = eqx.field(static=True)
    band: tuple[float, float] = eqx.field(static=True)
    temperature: float = eqx.field(static=True)
    nperseg: int | None = eqx.field(static=True)
    noverlap: int | None = eqx.field(static=True)
    window: str = eqx.field(static=True)
    detrend: Literal["constant", "linear", False] = eqx.field(static=True)
    name: ClassVar[str] = "peak_frequency"
    is_score: ClassVar[bool] = False

    @propagates_non_finite
    def __call__(self, prediction: SeriesLike, target: SeriesLike) -> Float[Array, ""]:
        prediction, target, p, q, config, indices, _ = self.spectra(
            prediction, target, same_units=False
        )
        peak_p = peak_frequency_unchecked(p, config, self.band, self.temperature)
        peak_q = peak_frequency_unchecked(q, config, self.band, self.temperature)
        return exact_at_identity(jnp.mean((peak_p - peak_q) ** 2), prediction, target, 0.0)


class BandPower(AbstractSpectral):
    """Log band-power difference; see [`massfit.objectives.band_power`][]."""

    dt: float = eqx.field(static=True)
    band: tuple[float, float] = eqx.field(static=True)
    relative: bool = eqx.field(static=True)
    nperseg: int | None = eqx.field(static=True)
    noverlap: int | None = eqx.field(static=True)
    window: str = eqx.field(static=True)
    detrend: Literal["constant", "linear", False] = eqx.field(static=True)
    name: ClassVar[str] = "band_power"
    is_score: ClassVar[bool] = False

    @propagates_non_finite
    def __call__(self, prediction: SeriesLike, target: SeriesLike) -> Float[Array, ""]:
        prediction, target, p, q, config, indices, covered = self.spectra(
            prediction, target, same_units=not self.relative
        )
        # The relative power is a share of the power over the bins both spectra cover.
        power_p = band_power_unchecked(p, config, self.band, self.relative, covered)
        power_q = band_power_unchecked(q, config, self.band, self.relative, covered)
        difference = jnp.log(power_p) - jnp.log(power_q)
        return exact_at_identity(jnp.mean(difference * difference), prediction, target, 0.0)


def _welch_settings(dt, band, nperseg, noverlap, window, detrend) -> dict:
    if not isinstance(window, str):
        raise TypeError(
            f"`window` must be a window name ('hann', 'hamming', 'boxcar'); got {window!r}."
        )
    dt = milliseconds(dt)
    band = as_band(band)
    # Resolve the settings once, for a series long enough for any `nperseg`, so that bad
    # settings (or a band above Nyquist) fail when the objective is built.
    n_time = nperseg if isinstance(nperseg, int) else 1 << 30
    WelchConfig(n_time, dt, nperseg, noverlap, window, detrend, "density").band_indices(band)
    return dict(
        dt=dt, band=band, nperseg=nperseg, noverlap=noverlap, window=window, detrend=detrend
    )


@builder
def psd_distance(
    dt: IntervalLike,
    band: tuple[RealLike, RealLike],
    *,
    nperseg: int | None = None,
    noverlap: int | None = None,
    window: str = "hann",
    detrend: Literal["constant", "linear", False] = "constant",
) -> PSDDistance:
    """Loss: mean squared difference of the log power spectra within a band.

    For each region, the Welch PSD (see [`massfit.metrics.psd`][]) of prediction and target is
    taken on the same frequency bins; the loss is `mean((log P_pred - log P_target) ** 2)` over
    the bins with `low <= f <= high` and over regions. The log makes every frequency count
    alike (power spans decades) and turns a gain into a constant offset. With brainunit
    Quantities both series are expressed in the prediction's unit first (incompatible units
    raise). A region with zero power in the band gives an infinite or NaN loss.

    **Arguments:**

    - `dt`: the sampling interval of both series, in **ms**.
    - `band`: `(low, high)` in **Hz**, inclusive; at most the Nyquist frequency `500 / dt`.
    - `nperseg`, `noverlap`, `window`, `detrend`: the Welch settings of `metrics.psd`. The
        default `nperseg` (one second of samples, capped at the series length) must come out
        the same for both series; pass it explicitly if their lengths differ.

    **Returns:**

    A loss `(prediction, target) -> scalar`, in squared natural-log units.

    **Example:**

    ```python
    loss = objectives.psd_distance(dt=1.0, band=(2.0, 40.0))
    loss(simulated_eeg, recorded_eeg)
    ```
    """
    return PSDDistance(**_welch_settings(dt, band, nperseg, noverlap, window, detrend))


@builder
def peak_frequency(
    dt: IntervalLike,
    band: tuple[RealLike, RealLike],
    *,
    temperature: RealLike = 0.25,
    nperseg: int | None = None,
    noverlap: int | None = None,
    window: str = "hann",
    detrend: Literal["constant", "linear", False] = "constant",
) -> PeakFrequency:
    """Loss: mean squared difference of the regions' peak frequencies, with useful gradients.

    Each region's peak is a soft-argmax of its Welch spectrum within the band (see
    [`massfit.metrics.peak_frequency`][]): the band's frequencies averaged with weights
    `softmax(log(power) / temperature)`. Unlike an `argmax`, whose gradient is zero, it moves
    smoothly as the spectrum changes and resolves shifts smaller than a frequency bin. Lower
    temperatures approach the `argmax`; higher ones pull the estimate toward the band's centre
    when the peak is weak. Scale-free: Quantities are reduced to magnitudes.

    **Arguments:**

    - `dt`: the sampling interval of both series, in **ms**.
    - `band`: `(low, high)` in **Hz**, inclusive, where the peaks are looked for.
    - `temperature`: the softness, in natural-log power units (weights are
        `power ** (1 / temperature)`); positive.
    - `nperseg`, `noverlap`, `window`, `detrend`: the Welch settings of `metrics.psd`.

    **Returns:**

    A loss `(prediction, target) -> scalar`, in **Hz²**.

    **Example:**

    ```python
    loss = objectives.peak_frequency(dt=1.0, band=(1.0, 45.0))
    loss(simulated, recorded)
    ```
    """
    temperature = real_number("temperature", temperature, positive=True)
    return PeakFrequency(
        temperature=temperature, **_welch_settings(dt, band, nperseg, noverlap, window, detrend)
    )


@builder
def band_power(
    dt: IntervalLike,
    band: tuple[RealLike, RealLike],
    *,
    relative: bool = False,
    nperseg: int | None = None,
    noverlap: int | None = None,
    window: str = "hann",
    detrend: Literal["constant", "linear", False] = "constant",
) -> BandPower:
    """Loss: mean squared difference of the regions' log band power.

    Each region's power within the band (see [`massfit.metrics.band_power`][]) is compared on a
    log scale: `mean((log P_pred - log P_target) ** 2)` over regions, so that a factor of 2 too
    much or too little costs the same. With `relative=True` the band's share of the total
    power is compared instead, which ignores the overall scale (Quantities are then reduced to
    magnitudes; otherwise both are expressed in the prediction's unit, and incompatible units
    raise).

    **Arguments:**

    - `dt`: the sampling interval of both series, in **ms**.
    - `band`: `(low, high)` in **Hz**, inclusive.
    - `relative`: compare the fraction of power in the band rather than the absolute power.
    - `nperseg`, `noverlap`, `window`, `detrend`: the Welch settings of `metrics.psd`.

    **Returns:**

    A loss `(prediction, target) -> scalar`, in squared natural-log units.

    **Example:**

    ```python
    alpha = objectives.band_power(dt=1.0, band=(8.0, 12.0), relative=True)
    ```
    """
    return BandPower(
        relative=relative, **_welch_settings(dt, band, nperseg, noverlap, window, detrend)
    )
