"""Observers that only resample the drive: the mean over each period, or its last value."""

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array

from ._base import AbstractObserver, as_period, Drive


class TemporalAverage(AbstractObserver):
    """The mean of the drive over each period: sample `m` is the mean of the drive over
    the steps after sample `m - 1` up to and including sample `m`'s step (TVB's
    `TemporalAverage`). When `period` is not a multiple of the step, the periods hold
    `floor` or `ceil` of `period / dt` steps, and each mean is over its own steps.

    **Arguments:**

    - `period`: ms between samples.
    - `drive`: a state variable name, or a function of the state returning `(N,)`.
    """

    period: float = eqx.field(static=True, converter=as_period)
    drive: Drive = eqx.field(static=True)

    def init(self, n_regions, dt, dtype):
        return jnp.zeros(n_regions, dtype), jnp.zeros((), dtype)

    def step(self, carry, x, dt):
        total, n = carry
        return total + x, n + 1

    def readout(self, carry) -> Array:
        total, n = carry
        return total / n

    def after_sample(self, carry):
        total, n = carry
        return jnp.zeros_like(total), jnp.zeros_like(n)


class Subsample(AbstractObserver):
    """The drive at the sample steps: every `period` ms, its value then (TVB's `SubSample`).

    **Arguments:**

    - `period`: ms between samples.
    - `drive`: a state variable name, or a function of the state returning `(N,)`.
    """

    period: float = eqx.field(static=True, converter=as_period)
    drive: Drive = eqx.field(static=True)

    def init(self, n_regions, dt, dtype):
        return jnp.zeros(n_regions, dtype)

    def step(self, carry, x, dt):
        return x.astype(carry.dtype)

    def readout(self, carry) -> Array:
        return carry
