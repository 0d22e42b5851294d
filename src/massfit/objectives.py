"""Objectives: builders of `(prediction, target) -> scalar` callables, and `combine`.

Each builder returns a small, immutable objective (an `eqx.Module`) that works under
`jax.jit`, `jax.grad` and `jax.vmap`. Scores (`fc_corr`, `cosine_sim`, `fcd`) are maximised
unless built with `as_loss=True` (then `1 - score`); the rest are losses. Every objective has
an `is_score` attribute, read by `is_score(objective)`.

Predictions and targets are `(time, regions)` series: arrays, or brainunit Quantities. A target
may instead be a summary statistic that says what it is: `FCMatrix` (FC objectives),
`FCDValues` (`fcd_ks`, `fcd_wasserstein`), `Spectrum` (spectral objectives), or several in
`Targets` (for `combine`); the prediction is then a series or a `(realisations, time, regions)`
stack, whose statistic is averaged over the realisations. A bare square target array is
refused as ambiguous (series or matrix?): wrap it in `Series` or `FCMatrix`.
`timeseries_rmse` subtracts with the units attached (incompatible units raise); FC, FCD,
cosine and peak-frequency objectives are scale-free and take magnitudes.
"""

from ._objectives._base import AbstractObjective as AbstractObjective, is_score as is_score
from ._objectives._combine import combine as combine, Combined as Combined
from ._objectives._connectivity import (
    fc_corr as fc_corr,
    fc_rmse as fc_rmse,
    fcd as fcd,
    fcd_ks as fcd_ks,
    fcd_wasserstein as fcd_wasserstein,
)
from ._objectives._spectral import (
    band_power as band_power,
    peak_frequency as peak_frequency,
    psd_distance as psd_distance,
)
from ._objectives._targets import (
    AbstractTarget as AbstractTarget,
    FCDValues as FCDValues,
    FCMatrix as FCMatrix,
    Series as Series,
    Spectrum as Spectrum,
    Targets as Targets,
)
from ._objectives._timeseries import cosine_sim as cosine_sim, timeseries_rmse as timeseries_rmse
