"""Metrics on `(time, regions)` series: FC, FCD, spectra, distances between distributions,
and the preprocessing before them (zero-phase filters, detrending, z-scoring).

Every function is pure and works under `jax.jit`, `jax.grad` and `jax.vmap`. Shapes are checked
always; values (finite, non-constant) are checked when the input is concrete. Time is in ms,
frequency in Hz.
"""

from ._metrics._connectivity import fc as fc, fcd as fcd, matrix_corr as matrix_corr
from ._metrics._distributions import (
    fcd_distribution as fcd_distribution,
    ks_distance as ks_distance,
    ks_distance_on_grid as ks_distance_on_grid,
    wasserstein_1d as wasserstein_1d,
    wasserstein_1d_on_grid as wasserstein_1d_on_grid,
)
from ._metrics._filters import (
    bandpass as bandpass,
    detrend as detrend,
    highpass as highpass,
    lowpass as lowpass,
    zscore as zscore,
)
from ._metrics._spectral import (
    band_power as band_power,
    peak_frequency as peak_frequency,
    psd as psd,
)
