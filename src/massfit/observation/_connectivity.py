"""Functional connectivity accumulated online: the correlation (or covariance) of the drive
over each period, without storing the series."""

import math
from typing import ClassVar

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array

from .._errors import describe
from ._base import AbstractObserver, as_period, Drive


def _start_ms(value) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError) as error:
        raise TypeError(f"`start` must be a number of ms; got {describe(value)}.") from error
    if not (math.isfinite(number) and number >= 0):
        raise ValueError(f"`start` must be a finite number of ms >= 0; got {number}.")
    return number


class FC(AbstractObserver):
    """Functional connectivity of the drive over each period, accumulated step by step.

    Sample `m` is the `(N, N)` Pearson correlation (or, with `covariance=True`, the
    covariance with divisor `n - 1`) of the drive over the steps of period `m`: the same
    numbers as `massfit.metrics.fc` of those rows of the series, but nothing per step is
    stored. Online (`simulate(..., observers={"fc": FC(period=duration, drive="x")})`) a
    whole run's FC needs memory for one `(N, N)` matrix instead of the `(T, N)` trace, and a
    gradient through it needs no per-step cotangent either. With `period` shorter than the
    run, the samples are the FCs of consecutive non-overlapping windows.

    The sums are updated by Welford's method (a running mean and the sum of products of
    deviations from it; inside a solver, a block's steps at once, joined by Chan et al.'s
    pairwise formula), so float32 keeps its precision over 10⁶ steps of a signal with a
    large mean. A region whose drive is constant over a window has no correlation: its row
    and column are NaN (never 0), as `massfit.metrics.fc` under `jit`.

    **Arguments:**

    - `period`: ms per window (and between samples); e.g. the run's duration for one FC.
    - `drive`: a state variable name, or a function of the state returning `(N,)`.
    - `start`: ms of transient to leave out: steps that end at or before `start` ms are not
        counted (the first window then covers `(start, period]`). Default 0.
    - `covariance`: return the covariance instead of the correlation.

    **Example:**

    ```python
    import jax.numpy as jnp
    import massfit

    x = jnp.sin(jnp.arange(400.0)[:, None] * jnp.array([0.1, 0.2, 0.3]))
    massfit.observation.FC(period=40.0, drive="x")(x, dt=0.1)  # (1, 3, 3), = fc(x)
    ```
    """

    period: float = eqx.field(static=True, converter=as_period)
    drive: Drive = eqx.field(static=True)
    start: float = eqx.field(static=True, default=0.0, converter=_start_ms)
    covariance: bool = eqx.field(static=True, default=False)

    def init(self, n_regions, dt, dtype):
        # (steps so far, steps counted in this window, running mean, sum of co-deviations)
        zero = jnp.zeros((), dtype)
        return (
            jnp.zeros((), jnp.int32),
            zero,
            jnp.zeros(n_regions, dtype),
            jnp.zeros((n_regions, n_regions), dtype),
        )

    def step(self, carry, x, dt):
        i, n, mean, m2 = carry
        i = i + 1
        x = x.astype(mean.dtype)
        skip = round(self.start / dt)
        if skip:
            # A step counts once it ends after `start` (step `i` ends at `i dt`): before,
            # the step's weight is 0 and the sums stay as they are.
            w = (i > skip).astype(mean.dtype)
        else:
            w = 1
        n_new = n + w
        delta = x - mean
        # Welford's update; with w = 0 (n_new = n, possibly 0) it adds nothing.
        mean_new = mean + delta * (w / jnp.maximum(n_new, 1))
        m2_new = m2 + jnp.outer(delta * w, x - mean_new)
        return i, n_new, mean_new, m2_new

    accumulates: ClassVar[bool] = True

    def accumulate(self, carry, xs, mask, dt):
        # The masked steps' own mean and co-deviations in one (K, N)^T (K, N) product,
        # joined to the running ones by Chan et al.'s formula (the same sums as `step`
        # taken one by one, up to rounding).
        i, n, mean, m2 = carry
        xs = xs.astype(mean.dtype)
        steps = i + jnp.cumsum(mask, dtype=i.dtype)  # the step number of each masked row
        skip = round(self.start / dt)
        w = (mask & (steps > skip)).astype(mean.dtype)
        n_block = jnp.sum(w)
        n_new = n + n_block
        mean_block = (w @ xs) / jnp.maximum(n_block, 1)
        centred = xs - mean_block
        m2_block = (centred * w[:, None]).T @ centred
        delta = mean_block - mean
        share = n_block / jnp.maximum(n_new, 1)
        mean = mean + delta * share
        m2 = m2 + m2_block + jnp.outer(delta, delta) * (n * share)
        return i + jnp.sum(mask, dtype=i.dtype), n_new, mean, m2

    def readout(self, carry) -> Array:
        _, n, _, m2 = carry
        # Welford's co-deviation sum is symmetric up to rounding: symmetrise it.
        m2 = 0.5 * (m2 + m2.T)
        if self.covariance:
            return m2 / (n - 1)
        scale = jnp.sqrt(jnp.diagonal(m2))
        return m2 / (scale[:, None] * scale[None, :])

    def after_sample(self, carry):
        i, n, mean, m2 = carry
        return i, jnp.zeros_like(n), jnp.zeros_like(mean), jnp.zeros_like(m2)
