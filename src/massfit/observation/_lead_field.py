"""Lead fields: project region activity onto EEG/MEG sensors."""

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike

from .._errors import describe, is_concrete
from .._metrics._checks import check_finite
from .._models._base import as_param
from ._base import AbstractObserver, as_period, Drive


class LeadField(AbstractObserver):
    """Sensor signals from region activity through a lead field (gain matrix), sampled every
    `period` ms: `scale * (gain @ x) + offset`, optionally average-referenced.

    **Arguments:**

    - `gain`: the `(sensors, regions)` lead field, e.g. from `massfit.io.load_gain`;
        `gain[s, r]` is how much region `r` reaches sensor `s`. It must be finite.
    - `period`: ms between samples (e.g. 1 for 1 kHz EEG).
    - `drive`: a state variable name, or a function of the state returning `(N,)`.
    - `scale`: a gain on the whole projection (a trainable readout); 1.
    - `offset`: a per-sensor offset, `(sensors,)` or a scalar; 0.
    - `average_reference`: re-reference to the mean over sensors (EEG's common average
        reference), applied before `offset`; False.

    `project(series)` projects a whole `(T, N)` series, without sampling.
    """

    gain: Array
    period: float = eqx.field(static=True, converter=as_period)
    drive: Drive = eqx.field(static=True)
    scale: Array
    offset: Array
    average_reference: bool = eqx.field(static=True)

    def __init__(
        self,
        gain: ArrayLike,
        *,
        period: float,
        drive: Drive,
        scale: ArrayLike = 1.0,
        offset: ArrayLike = 0.0,
        average_reference: bool = False,
    ):
        gain = jnp.asarray(gain)
        if gain.ndim != 2 or gain.size == 0:
            raise ValueError(
                "`gain` must be a non-empty 2-D (sensors, regions) lead field; got "
                f"{describe(gain)}. For a single sensor pass one row, `gain[None]`."
            )
        if not jnp.issubdtype(gain.dtype, jnp.floating):
            gain = gain.astype(jnp.result_type(float))
        if is_concrete(gain):
            check_finite("gain", np.asarray(gain), axes=("sensor", "region"))
        else:
            gain = eqx.error_if(
                gain,
                ~jnp.all(jnp.isfinite(gain)),
                "`gain` must be finite; it holds NaN or infinity.",
            )
        offset = as_param(offset)
        if offset.ndim > 1 or (offset.ndim == 1 and offset.shape[0] != gain.shape[0]):
            raise ValueError(
                f"`offset` must be a scalar or one value per sensor, ({gain.shape[0]},); got "
                f"{describe(offset)}."
            )
        self.gain = gain
        self.period = period
        self.drive = drive
        self.scale = as_param(scale)
        self.offset = offset
        self.average_reference = bool(average_reference)

    def _check_regions(self, n_regions: int) -> None:
        if n_regions != self.gain.shape[1]:
            raise ValueError(
                f"LeadField: `gain` has shape {tuple(self.gain.shape)} (sensors, regions), for "
                f"{self.gain.shape[1]} regions, but the activity has {n_regions} regions. Use "
                "the lead field computed for the network's parcellation."
            )

    def project(self, series: ArrayLike) -> Array:
        """Sensor signals `(T, sensors)` from activity `(T, regions)`, at every row."""
        series = jnp.asarray(series)
        if series.ndim != 2:
            raise ValueError(f"`series` must be a (time, regions) array; got {describe(series)}.")
        self._check_regions(series.shape[1])
        dtype = jnp.result_type(series.dtype, self.gain.dtype)
        sensors = series.astype(dtype) @ self.gain.T.astype(dtype)
        if self.average_reference:
            sensors = sensors - jnp.mean(sensors, axis=1, keepdims=True)
        return self.scale.astype(dtype) * sensors + self.offset.astype(dtype)

    def init(self, n_regions, dt, dtype):
        self._check_regions(n_regions)
        return jnp.zeros(n_regions, dtype)

    def step(self, carry, x, dt):
        return x.astype(carry.dtype)

    def readout(self, carry) -> Array:
        return self.project(carry[None])[0]
