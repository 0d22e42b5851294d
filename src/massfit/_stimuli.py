"""External stimuli: time courses with a window, a spatial pattern and the variable they drive,
for `massfit.simulate(inputs=...)`."""

import abc
import functools
import math

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from equinox import AbstractVar
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

from ._errors import check_key, describe, eager_constants, is_concrete


class AbstractStimulus(eqx.Module):
    """Base class of the stimuli: what `massfit.simulate(inputs=...)` accepts besides arrays
    and functions of time.

    A stimulus knows the state variables it drives. `stimulus.input(t, variables, n_regions)`
    is its `(V, N)` contribution to the node's input at time `t` (ms), in the layout of a
    node with state variables `variables`. Stimuli add: `a + b` (and `sum([...])`) is a
    stimulus that gives the sum of their inputs.
    """

    @property
    @abc.abstractmethod
    def variables(self) -> tuple[str, ...]:
        """The names of the state variables this stimulus drives."""

    @abc.abstractmethod
    def input(
        self, t: Float[ArrayLike, ""], variables: tuple[str, ...], n_regions: int
    ) -> Float[Array, "V N"]:
        """The input at time `t` (ms), shape `(len(variables), n_regions)`."""

    @abc.abstractmethod
    def check(self, variables: tuple[str, ...], n_regions: int, owner: str = "") -> None:
        """Raise `ValueError` if this stimulus doesn't fit a node with state variables
        `variables` in a network of `n_regions` regions (unknown variable, spatial pattern
        of another length). Shapes and names only: works under `jax.jit`/`jax.vmap`."""

    def __add__(self, other):
        if not isinstance(other, AbstractStimulus):
            return NotImplemented
        return StimulusSum(_terms(self) + _terms(other))

    def __radd__(self, other):
        # `sum(stimuli)` starts from 0.
        if isinstance(other, int | float) and other == 0:
            return self
        return NotImplemented


def _terms(stimulus: AbstractStimulus) -> tuple[AbstractStimulus, ...]:
    return stimulus.terms if isinstance(stimulus, StimulusSum) else (stimulus,)


class StimulusSum(AbstractStimulus):
    """The sum of several stimuli (what `a + b` builds): its input is the sum of theirs.
    They may drive different variables."""

    terms: tuple[AbstractStimulus, ...]

    def __check_init__(self):
        for term in self.terms:
            if not isinstance(term, AbstractStimulus):
                raise TypeError(
                    f"StimulusSum: every term must be a stimulus; got {describe(term)}."
                )

    @property
    def variables(self):
        return tuple(dict.fromkeys(v for term in self.terms for v in term.variables))

    def input(self, t, variables, n_regions):
        return sum(term.input(t, variables, n_regions) for term in self.terms)

    def check(self, variables, n_regions, owner=""):
        for i, term in enumerate(self.terms):
            term.check(variables, n_regions, f"{owner}term {i} ({type(term).__name__}): ")


def _time(name: str, *, finite: bool = False, positive: bool = False):
    """A converter for a time argument in ms: a float array; a NaN, an infinite onset or (for
    durations) a negative value raises `ValueError` when concrete, or a runtime error
    (`eqx.error_if`) when traced under `jax.jit`/`jax.vmap`."""
    if positive:
        rule = "finite and > 0" if finite else "> 0 (inf: no end)"
    else:
        rule = "finite" if finite else ">= 0 (inf: no end)"

    @eager_constants
    def convert(value):
        if isinstance(value, bool) or not isinstance(value, int | float | np.ndarray | Array):
            raise TypeError(f"`{name}` must be a time in ms (a number); got {describe(value)}.")
        x = jnp.asarray(value, dtype=jnp.result_type(float))
        if x.shape != ():
            raise ValueError(f"`{name}` must be a scalar (ms); got shape {x.shape}.")
        if finite:
            bad = ~jnp.isfinite(x)
        else:
            bad = jnp.isnan(x)
        if positive:
            bad = bad | ~(x > 0)
        elif not finite:
            bad = bad | (x < 0)
        message = f"`{name}` must be {rule}, ms"
        if is_concrete(x):
            if bool(bad):
                raise ValueError(f"{message}; got {float(x)}.")
            return x
        return eqx.error_if(x, bad, message + ".")

    return convert


@eager_constants
def _amplitude(value) -> Array:
    return jnp.asarray(value, dtype=jnp.result_type(float))


@eager_constants
def _pattern(regions) -> Array | None:
    if regions is None:
        return None
    pattern = jnp.asarray(regions)
    if pattern.ndim != 1:
        raise ValueError(
            "`regions` must be None (all regions), a boolean mask or per-region weights of "
            f"shape (N,); got shape {pattern.shape}."
        )
    return pattern.astype(jnp.result_type(float))


class AbstractWindowedStimulus(AbstractStimulus):
    """A stimulus of one variable: a time course switched on for `onset <= t < onset +
    duration` (ms), times a spatial pattern. Subclasses give `time_course`."""

    variable: AbstractVar[str]
    amplitude: AbstractVar[Array]
    onset: AbstractVar[Array]
    duration: AbstractVar[Array]
    regions: AbstractVar[Array | None]

    @abc.abstractmethod
    def time_course(self, t: Float[Array, ""], n_regions: int) -> Float[Array, "*N"]:
        """The value inside the window at time `t` (ms): a scalar, or `(n_regions,)`."""

    @property
    def variables(self):
        return (self.variable,)

    def signal(self, t: Float[ArrayLike, ""], n_regions: int) -> Float[Array, " N"]:
        """The input to `variable` at time `t` (ms) in each of `n_regions` regions."""
        t = jnp.asarray(t, dtype=jnp.result_type(float))
        inside = (t >= self.onset) & (t < self.onset + self.duration)
        value = jnp.where(inside, self.time_course(t, n_regions), 0.0)
        if self.regions is not None:
            value = value * self.regions
        return jnp.broadcast_to(value, (n_regions,))

    def input(self, t, variables, n_regions):
        out = jnp.zeros((len(variables), n_regions), jnp.result_type(float))
        return out.at[variables.index(self.variable)].set(self.signal(t, n_regions))

    def check(self, variables, n_regions, owner=""):
        name = type(self).__name__
        if self.variable not in variables:
            raise ValueError(
                f"{owner}{name} drives variable {self.variable!r}, which this network's node "
                f"does not have; its variables are {tuple(variables)}."
            )
        if self.regions is not None and self.regions.shape != (n_regions,):
            raise ValueError(
                f"{owner}{name}: `regions` must have one entry per region, shape "
                f"({n_regions},); got shape {self.regions.shape}."
            )


def _key(value):
    check_key("key", value)
    return value


def _variable(value) -> str:
    if not isinstance(value, str):
        raise TypeError(
            f"`variable` must be the name of a state variable (str); got {describe(value)}."
        )
    return value


def _variable_field():
    return eqx.field(converter=_variable, static=True)


def _onset_field():
    return eqx.field(default=0.0, converter=_time("onset", finite=True))


def _duration_field():
    return eqx.field(default=math.inf, converter=_time("duration"))


def _regions_field():
    return eqx.field(default=None, converter=_pattern)


_COMMON_ARGUMENTS = """
    - `variable`: the name of the state variable it drives, e.g. `"x"` (its input row;
        how an input enters is the node model's definition).
    - `onset`: start of the window, ms (absolute simulation time); finite.
    - `duration`: length of the window, ms; >= 0, `inf` (default) for no end.
    - `regions`: the spatial pattern: `None` (all regions), a boolean mask or per-region
        weights (multiplying the input), shape `(N,)`."""


class Step(AbstractWindowedStimulus):
    __doc__ = (
        """A constant input `amplitude` during the window `onset <= t < onset + duration`.

    **Arguments:**

    - `amplitude`: the input, in the units of the node's input on `variable`."""
        + _COMMON_ARGUMENTS
    )

    amplitude: Array = eqx.field(converter=_amplitude)
    variable: str = _variable_field()
    onset: Array = _onset_field()
    duration: Array = _duration_field()
    regions: Array | None = _regions_field()

    def time_course(self, t, n_regions):
        return self.amplitude


class PulseTrain(AbstractWindowedStimulus):
    __doc__ = (
        """Rectangular pulses: `amplitude` for the first `width` ms of every `period` ms from
    `onset`, zero in between, during the window.

    **Arguments:**

    - `amplitude`: the input during a pulse, in the units of the node's input on `variable`.
    - `period`: time from one pulse's start to the next, ms; > 0 (1000 / rate in Hz).
    - `width`: pulse length, ms; > 0 and <= `period`."""
        + _COMMON_ARGUMENTS
    )

    amplitude: Array = eqx.field(converter=_amplitude)
    period: Array = eqx.field(converter=_time("period", finite=True, positive=True))
    width: Array = eqx.field(converter=_time("width", finite=True, positive=True))
    variable: str = _variable_field()
    onset: Array = _onset_field()
    duration: Array = _duration_field()
    regions: Array | None = _regions_field()

    def __check_init__(self):
        if is_concrete(self.width, self.period) and float(self.width) > float(self.period):
            raise ValueError(
                f"PulseTrain: `width` must be <= `period`; got width {float(self.width)} ms, "
                f"period {float(self.period)} ms."
            )

    def time_course(self, t, n_regions):
        return jnp.where(jnp.mod(t - self.onset, self.period) < self.width, self.amplitude, 0.0)


class Sine(AbstractWindowedStimulus):
    __doc__ = (
        """A sinusoid `amplitude * sin(2π f (t - onset) + phase)` during the window.

    **Arguments:**

    - `amplitude`: in the units of the node's input on `variable`.
    - `frequency`: `f`, Hz (the time is in ms: `f / 1000` cycles per ms).
    - `phase`: rad, at `t = onset`; default 0."""
        + _COMMON_ARGUMENTS
    )

    amplitude: Array = eqx.field(converter=_amplitude)
    frequency: Array = eqx.field(converter=_amplitude)
    variable: str = _variable_field()
    phase: Array = eqx.field(default=0.0, converter=_amplitude)
    onset: Array = _onset_field()
    duration: Array = _duration_field()
    regions: Array | None = _regions_field()

    def time_course(self, t, n_regions):
        cycles = self.frequency / 1000.0 * (t - self.onset)
        return self.amplitude * jnp.sin(2 * jnp.pi * cycles + self.phase)


class Ramp(AbstractWindowedStimulus):
    __doc__ = (
        """A linear ramp from 0 at `onset` to `amplitude` at `onset + duration`, zero outside
    the window (it stops, it does not hold; add a `Step` from the end to hold).

    **Arguments:**

    - `amplitude`: the value reached at the end, in the units of the node's input."""
        + _COMMON_ARGUMENTS.replace(">= 0, `inf` (default) for no end", "finite and > 0")
    )

    amplitude: Array = eqx.field(converter=_amplitude)
    duration: Array = eqx.field(converter=_time("duration", finite=True, positive=True))
    variable: str = _variable_field()
    onset: Array = _onset_field()
    regions: Array | None = _regions_field()

    def time_course(self, t, n_regions):
        return self.amplitude * (t - self.onset) / self.duration


class NoiseBurst(AbstractWindowedStimulus):
    __doc__ = (
        """Gaussian noise during the window, held constant over bins of `resolution` ms:
    in bin `b = floor((t - onset) / resolution)` region `i` receives
    `amplitude * z[b, i]`, with `z[b, i]` standard normal, independent across bins and
    regions.

    **What is reproducible.** `z[b, i]` is drawn from `fold_in(fold_in(key, b), i)`: the
    input is a fixed function of the time in ms, for a given `key`. It does not depend on
    `dt`, on how the run is cut into chunks (`continue_from`), on the solver, or on the
    number of regions, except that a step whose time lies within rounding error of a bin
    edge may fall in either bin. This is a *band-limited* input (correlation time
    `resolution`), not white noise: its effect converges as `dt` shrinks below
    `resolution`; for noise in the dynamics use the network's `noise` instead.

    **Arguments:**

    - `amplitude`: the standard deviation, in the units of the node's input on `variable`.
    - `key`: a `jax.random.key(seed)`.
    - `resolution`: bin length, ms; > 0 (default 1 ms). Take it a multiple of `dt`."""
        + _COMMON_ARGUMENTS
    )

    amplitude: Array = eqx.field(converter=_amplitude)
    key: PRNGKeyArray = eqx.field(converter=_key)
    variable: str = _variable_field()
    resolution: Array = eqx.field(
        default=1.0, converter=_time("resolution", finite=True, positive=True)
    )
    onset: Array = _onset_field()
    duration: Array = _duration_field()
    regions: Array | None = _regions_field()

    def time_course(self, t, n_regions):
        # Clipped before the cast: outside the window the bin index is unused (and may be huge).
        bins = jnp.clip(jnp.floor((t - self.onset) / self.resolution), 0, 2**30)
        bin_key = jr.fold_in(self.key, bins.astype(jnp.int32))
        draw = functools.partial(jr.normal, dtype=jnp.result_type(float))
        z = jax.vmap(lambda i: draw(jr.fold_in(bin_key, i)))(jnp.arange(n_regions))
        return self.amplitude * z
