"""Hemodynamic response function (HRF) kernels, and the observer that convolves with one.

Kernels are equinox Modules called on times in **seconds** (as the HRF literature writes
them), returning the kernel's value (per second) there; 0 before time 0.
"""

import abc
from typing import Any, Literal

import equinox as eqx
import jax.numpy as jnp
from jax.scipy.stats import gamma as gamma_dist
from jaxtyping import Array, ArrayLike

from .._custom_types import RealLike
from .._models._base import as_param
from ._average import TemporalAverage
from ._base import AbstractObserver, as_period, check_dt, Drive
from ._bold import MS_PER_S


class AbstractHRF(eqx.Module):
    """A hemodynamic response kernel: `kernel(t)` for times `t` in seconds."""

    def __call__(self, t: ArrayLike) -> Array:
        t = jnp.asarray(t)
        if not jnp.issubdtype(t.dtype, jnp.floating):
            t = t.astype(jnp.result_type(float))
        return jnp.where(t >= 0, self.evaluate(jnp.maximum(t, 0.0)), 0.0)

    @abc.abstractmethod
    def evaluate(self, t: Array) -> Array:
        """The kernel at times `t >= 0`, s."""


def _gamma_pdf(t, shape, scale):
    return gamma_dist.pdf(t, shape.astype(t.dtype), scale=scale.astype(t.dtype))


class GammaHRF(AbstractHRF):
    """A gamma density: `t^(k-1) exp(-t/θ) / (Γ(k) θ^k)` (Boynton et al. 1996); integral 1.

    - `shape`: `k`; 6.
    - `scale`: `θ`, s; 1. Its peak is at `(k - 1) θ`.
    """

    shape: Array = eqx.field(default=6.0, converter=as_param)
    scale: Array = eqx.field(default=1.0, converter=as_param)

    def evaluate(self, t):
        return _gamma_pdf(t, self.shape, self.scale)


class DoubleGammaHRF(AbstractHRF):
    """SPM's canonical HRF: a gamma density for the response minus a smaller one for the
    undershoot, `g(t; a1/b1, b1) - g(t; a2/b2, b2) / ratio` with `g(t; k, θ)` the gamma
    density of shape `k` and scale `θ` (`spm_hrf`); integral `1 - 1/ratio`.

    - `peak`: delay of the response, s; 6 (the gamma's mean; its mode is at 5 s).
    - `undershoot`: delay of the undershoot, s; 16.
    - `peak_dispersion`, `undershoot_dispersion`: their dispersions (scales), s; 1, 1.
    - `ratio`: ratio of response to undershoot; 6 (the undershoot is 1/6 of it).
    """

    peak: Array = eqx.field(default=6.0, converter=as_param)
    undershoot: Array = eqx.field(default=16.0, converter=as_param)
    peak_dispersion: Array = eqx.field(default=1.0, converter=as_param)
    undershoot_dispersion: Array = eqx.field(default=1.0, converter=as_param)
    ratio: Array = eqx.field(default=6.0, converter=as_param)

    def evaluate(self, t):
        response = _gamma_pdf(t, self.peak / self.peak_dispersion, self.peak_dispersion)
        under = _gamma_pdf(
            t, self.undershoot / self.undershoot_dispersion, self.undershoot_dispersion
        )
        return response - under / self.ratio.astype(t.dtype)


class GammaMixtureHRF(AbstractHRF):
    """A weighted sum of gamma densities, `sum_i w_i g(t; k_i, θ_i)`.

    - `weights`: `w_i`, one per component (negative for an undershoot).
    - `shapes`: `k_i`.
    - `scales`: `θ_i`, s.
    """

    weights: Array = eqx.field(converter=as_param)
    shapes: Array = eqx.field(converter=as_param)
    scales: Array = eqx.field(converter=as_param)

    def __check_init__(self):
        if not (self.weights.shape == self.shapes.shape == self.scales.shape):
            raise ValueError(
                "GammaMixtureHRF: `weights`, `shapes` and `scales` need one value per "
                f"component each; got shapes {self.weights.shape}, {self.shapes.shape}, "
                f"{self.scales.shape}."
            )

    def evaluate(self, t):
        t = t[..., None]
        densities = _gamma_pdf(t, self.shapes, self.scales)
        return jnp.sum(self.weights.astype(t.dtype) * densities, axis=-1)


class DoubleExponentialHRF(AbstractHRF):
    """A rise and a decay, `(exp(-t/tau_decay) - exp(-t/tau_rise)) / (tau_decay - tau_rise)`;
    integral 1, peak at `ln(tau_decay/tau_rise) tau_rise tau_decay / (tau_decay - tau_rise)`.

    - `tau_rise`: s; 1.
    - `tau_decay`: s; 4 (must differ from `tau_rise`).
    """

    tau_rise: Array = eqx.field(default=1.0, converter=as_param)
    tau_decay: Array = eqx.field(default=4.0, converter=as_param)

    def evaluate(self, t):
        rise, decay = self.tau_rise.astype(t.dtype), self.tau_decay.astype(t.dtype)
        return (jnp.exp(-t / decay) - jnp.exp(-t / rise)) / (decay - rise)


class VolterraHRF(AbstractHRF):
    """The first-order Volterra kernel of the Balloon–Windkessel model (Friston et al.
    2000), as TVB's `FirstOrderVolterra`:
    `(1/3) exp(-t / (2 tau_s)) sin(w t) / w` with `w = sqrt(1/tau_f - 1/(4 tau_s^2))`.

    - `tau_s`: signal decay time, s; 0.8.
    - `tau_f`: autoregulation time, s; 0.4.
    """

    tau_s: Array = eqx.field(default=0.8, converter=as_param)
    tau_f: Array = eqx.field(default=0.4, converter=as_param)

    def evaluate(self, t):
        tau_s, tau_f = self.tau_s.astype(t.dtype), self.tau_f.astype(t.dtype)
        w = jnp.sqrt(1.0 / tau_f - 1.0 / (4.0 * tau_s**2))
        return jnp.exp(-0.5 * t / tau_s) * jnp.sin(w * t) / (3.0 * w)


class HRFConvolution(AbstractObserver):
    """The drive convolved with a hemodynamic response kernel, sampled every `period` ms.

    The drive is first averaged over each period (as [`massfit.observation.TemporalAverage`][]),
    then convolved with the kernel on the period's grid by the midpoint rule: sample `m` is

    `y_m = P * sum_{j=0}^{K-1} h((j + 1/2) P) a_{m-j}`,

    with `P` the period in s, `a_m` the mean drive over period `m` (0 before the series
    starts) and `K = ceil(length / period)` taps. For a finer kernel grid, use a shorter
    period and keep every k-th sample. Online, the carry holds the last `K - 1` means.

    **Arguments:**

    - `period`: ms between samples.
    - `drive`: a state variable name, or a function of the state returning `(N,)`.
    - `kernel`: the HRF, an [`massfit.observation.AbstractHRF`][]; default
        [`massfit.observation.DoubleGammaHRF`][]`()`.
    - `length`: the kernel's support, ms; 32000 (SPM's 32 s).
    - `method`: post hoc, `"direct"` (the same scan as online) or `"fft"` (the averages,
        then one FFT convolution: faster for long series; equal up to rounding).
    """

    period: float = eqx.field(static=True, converter=as_period)
    drive: Drive = eqx.field(static=True)
    kernel: AbstractHRF = eqx.field(default_factory=DoubleGammaHRF)
    length: float = eqx.field(default=32000.0, static=True, converter=float)
    method: Literal["direct", "fft"] = eqx.field(default="direct", static=True)

    def __check_init__(self):
        if not self.length > 0:
            raise ValueError(f"HRFConvolution: `length` must be > 0 ms; got {self.length}.")
        if self.method not in ("direct", "fft"):
            raise ValueError(
                f"HRFConvolution: `method` must be 'direct' or 'fft'; got {self.method!r}."
            )

    @property
    def n_taps(self) -> int:
        """The number of kernel taps, `ceil(length / period)`."""
        return max(1, -(-int(round(self.length * 1e6)) // int(round(self.period * 1e6))))

    def taps(self, dtype) -> Array:
        """The kernel weights `P h((j + 1/2) P)`, `j = 0 ... K-1` (P the period in s)."""
        period_s = self.period / MS_PER_S
        lags = (jnp.arange(self.n_taps, dtype=dtype) + 0.5) * period_s
        return period_s * self.kernel(lags).astype(dtype)

    def _average(self) -> TemporalAverage:
        return TemporalAverage(self.period, self.drive)

    def init(self, n_regions, dt, dtype):
        return self._average().init(n_regions, dt, dtype), jnp.zeros(
            (self.n_taps - 1, n_regions), dtype
        )

    def step(self, carry, x, dt):
        average, past = carry
        return self._average().step(average, x, dt), past

    def readout(self, carry) -> Array:
        average, past = carry
        means = jnp.concatenate([self._average().readout(average)[None], past])
        return self.taps(means.dtype) @ means

    def after_sample(self, carry):
        average, past = carry
        mean = self._average().readout(average)
        past = jnp.concatenate([mean[None], past[:-1]]) if past.shape[0] else past
        return self._average().after_sample(average), past

    def __call__(self, series: Any, *, dt: RealLike, variables: tuple[str, ...] | None = None):
        if self.method == "direct":
            return super().__call__(series, dt=dt, variables=variables)
        dt = check_dt(dt)
        means = self._average()(self.drive_series(series, variables), dt=dt)
        taps = self.taps(means.dtype)
        n = means.shape[0] + taps.shape[0] - 1
        size = 1 << max(n - 1, 0).bit_length()
        spectrum = jnp.fft.rfft(means, size, axis=0) * jnp.fft.rfft(taps, size)[:, None]
        return jnp.fft.irfft(spectrum, size, axis=0)[: means.shape[0]].astype(means.dtype)
