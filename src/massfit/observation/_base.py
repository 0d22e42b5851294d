"""The observer interface: an equinox Module with its own state, advanced once per solver
step, read out every `period` ms; online (inside a solver) and post hoc (over a stored
series) through the same `advance`."""

import abc
import math
from collections.abc import Mapping
from fractions import Fraction
from typing import Any, ClassVar, TypeAlias

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from equinox import AbstractVar
from jaxtyping import Array, ArrayLike, PyTree

from .._custom_types import RealLike
from .._errors import describe, is_concrete


#: What drives an observer: a state variable name, or a function of the state (a mapping
#: from variable name to `(N,)` values) returning `(N,)`. Annotated loosely so that a wrong
#: value gets the observer's own error message.
Drive: TypeAlias = Any


def _positive_ms(name: str, value, role: str) -> float:
    """`value` as a positive, finite Python float (ms), or an error naming `name`."""
    if isinstance(value, bool | np.bool_) or not is_concrete(value):
        raise TypeError(
            f"`{name}` must be a concrete number of ms ({role}); got {describe(value)}."
        )
    try:
        number = float(value)
    except (TypeError, ValueError) as error:
        raise TypeError(f"`{name}` must be a number of ms; got {describe(value)}.") from error
    if not (math.isfinite(number) and number > 0):
        raise ValueError(f"`{name}` must be a positive, finite number of ms; got {number}.")
    return number


def as_period(value) -> float:
    """`value` as a positive, finite Python float (ms), or an error naming `period`."""
    return _positive_ms("period", value, "it fixes when samples are taken")


def check_dt(dt: Any) -> float:
    """`dt` as a positive, finite Python float (ms), or an error naming `dt`."""
    return _positive_ms(
        "dt", dt, "a Python float; under `jax.jit` pass it as a static argument: it fixes "
        "which steps are sampled"
    )


def sample_steps(period: float, dt: float, n_steps: int) -> np.ndarray:
    """The steps after which an observer with this `period` takes its samples.

    Steps are numbered from 1: step `n` takes the solution from time `(n - 1) dt` to
    `n dt` (ms, from the start of the run or of the series). Sample `m = 1, 2, ...` is
    taken after step `round(m * period / dt)`, so its time is the step time nearest to
    `m * period`: off by at most `dt / 2`, and the error does not accumulate. `period`
    need not be a multiple of `dt`, but must be at least `dt`. The ratio `period / dt` is
    read as the nearest fraction with a denominator up to 10⁶ (so `720 / 0.1` is 7200, not
    7200.000000000001), and halves round up.

    **Arguments:**

    - `period`: ms between samples, > 0.
    - `dt`: the step, ms, > 0.
    - `n_steps`: the number of steps of the run.

    **Returns:**

    The step numbers, an int array, increasing, all `<= n_steps`.

    **Example:**

    ```python
    import massfit

    massfit.observation.sample_steps(720.0, 0.7, 3100)  # array([1029, 2057, 3086])
    ```
    """
    period, dt = as_period(period), check_dt(dt)
    if period < dt:
        raise ValueError(
            f"`period` ({period} ms) must be at least the step `dt` ({dt} ms): an observer "
            "takes at most one sample per step."
        )
    ratio = Fraction(period / dt).limit_denominator(10**6)
    m = np.arange(1, int(n_steps / ratio) + 2, dtype=np.int64)
    # round half up, in exact integer arithmetic: floor((2 m p + q) / 2q)
    steps = (2 * m * ratio.numerator + ratio.denominator) // (2 * ratio.denominator)
    return steps[steps <= n_steps]


class AbstractObserver(eqx.Module):
    """An observation model: turns network activity into a measurement.

    An observer has its own state (its *carry*), advanced once per solver step of `dt` ms
    by the drive `x`, an `(N,)` array (one value per region), and read out every `period`
    ms. The same numbers come out whether a solver advances it online or it runs post hoc
    over a stored series: both go through [`massfit.observation.advance`][].

    Subclasses define:

    - `period`: ms between samples (any positive float, not necessarily a multiple of the
        step; see [`massfit.observation.sample_steps`][]).
    - `drive`: what drives it: the name of a state variable (`"x"`), or a function of the
        state, given as a mapping from variable name to its `(N,)` values, returning `(N,)`
        (e.g. a firing rate, `lambda s: jax.nn.sigmoid(s["E"])`).
    - `init(n_regions, dt, dtype) -> carry`, `step(carry, x, dt) -> carry`,
        `readout(carry) -> sample`, and optionally `after_sample(carry) -> carry` (called
        after each sample, e.g. to reset an average).

    Calling an observer, `observer(series, dt=...)`, runs it post hoc over a stored
    series: a `(T, N)` array of the drive, a `(T, V, N)` array of states with
    `variables=`, or a `massfit.Trajectory` saved every step. Row `i` drives step `i + 1`,
    which ends at `(i + 1) dt` after the series starts, so a trajectory saved every step
    (whose first row is at `t0 + dt`) gives the same numbers as the online observer.
    """

    period: AbstractVar[float]
    drive: AbstractVar[Drive]
    #: Whether `accumulate` advances the carry over several steps at once (solvers then
    #: call it once or twice per block instead of `step` once per sub-step).
    accumulates: ClassVar[bool] = False

    def __check_init__(self):
        as_period(self.period)
        if not (isinstance(self.drive, str) or callable(self.drive)):
            raise TypeError(
                f"{type(self).__name__}: `drive` must be a state variable name (str) or a "
                f"function of the state returning (N,) values; got {describe(self.drive)}."
            )

    @abc.abstractmethod
    def init(self, n_regions: int, dt: float, dtype) -> PyTree:
        """The carry before the first step."""

    @abc.abstractmethod
    def step(self, carry: PyTree, x: Array, dt: float) -> PyTree:
        """Advance the carry over one step of `dt` ms, driven by `x` (shape `(N,)`), which
        is held over the step."""

    @abc.abstractmethod
    def readout(self, carry: PyTree) -> Array:
        """The sample, from the carry after a sample step."""

    def after_sample(self, carry: PyTree) -> PyTree:
        """The carry after a sample was taken (default: unchanged)."""
        return carry

    def accumulate(self, carry: PyTree, xs: Array, mask: Array, dt: float) -> PyTree:
        """`step` over the consecutive steps `q` of `xs` (shape `(K, N)`) where `mask[q]`,
        at once (the masked steps are consecutive and follow the carry's last step). Only
        observers with `accumulates = True` define it; it must give what `step` gives, up to
        rounding."""
        raise NotImplementedError

    def drive_of(self, state: Mapping[str, Array] | ArrayLike, variables) -> Array:
        """The drive, `(N,)`, from a state: a mapping name -> `(N,)` values, or a `(V, N)`
        array whose rows are named by `variables`."""
        variables = tuple(variables)
        if not isinstance(state, Mapping):
            state = jnp.asarray(state)
            if state.ndim < 1 or state.shape[0] != len(variables):
                raise ValueError(
                    f"`state` must have one row per variable of {variables}; got {describe(state)}."
                )
            state = {name: state[i] for i, name in enumerate(variables)}
        if callable(self.drive):
            return jnp.asarray(self.drive(state))
        if self.drive not in state:
            raise ValueError(
                f"{type(self).__name__}: unknown drive variable {self.drive!r}; the state has "
                f"{tuple(state)}. Pass one of them as `drive`, or a function of the state."
            )
        return state[self.drive]

    def __call__(
        self, series: Any, *, dt: RealLike, variables: tuple[str, ...] | None = None
    ) -> Array:
        """Run the observer over a stored series and return its samples, `(M, ...)`.

        **Arguments:**

        - `series`: a `(T, N)` array of the drive; a `(T, V, N)` array of states, with
            `variables` naming the `V` rows; or a `massfit.Trajectory` (its saved
            variables name the rows). It must be saved every step `dt`.
        - `dt`: the time between rows, ms (a concrete number).
        - `variables`: the names of the state rows of a `(T, V, N)` array.

        **Returns:**

        The samples, one per `period`, taken as [`massfit.observation.sample_steps`][]
        says: `(M, ...)` with `M = len(sample_steps(period, dt, T))`.
        """
        dt = check_dt(dt)
        drive = self.drive_series(series, variables)
        carry = init_carry(self, drive.shape[1], dt, drive.shape[0], drive.dtype)
        steps = jnp.arange(1, drive.shape[0] + 1, dtype=jnp.int32)

        def body(carry, step_x):
            return advance(self, carry, step_x[0], step_x[1], dt), None

        carry, _ = jax.lax.scan(body, carry, (steps, drive))
        return carry.samples

    def drive_series(self, series: Any, variables: tuple[str, ...] | None = None) -> Array:
        """The `(T, N)` drive of a stored series (see `__call__`)."""
        if hasattr(series, "ys") and hasattr(series, "variables"):
            variables, series = series.variables, series.ys
        try:
            array = jnp.asarray(series)
        except TypeError as error:
            raise TypeError(
                f"`series` must be a (time, regions) array; got {describe(series)}."
            ) from error
        if variables is not None:
            if array.ndim != 3:
                raise ValueError(
                    "with `variables`, `series` must be a (time, variables, regions) array; "
                    f"got {describe(array)}."
                )
            array = jax.vmap(lambda state: self.drive_of(state, variables))(array)
        elif array.ndim != 2:
            raise ValueError(
                "`series` must be a (time, regions) array of the drive (or pass `variables=` "
                f"for a (time, variables, regions) array of states); got {describe(array)}."
            )
        if not jnp.issubdtype(array.dtype, jnp.floating):
            array = array.astype(jnp.result_type(float))
        return array


class ObserverCarry(eqx.Module):
    """What [`massfit.observation.advance`][] carries from step to step.

    - `state`: the observer's own carry.
    - `samples`: the preallocated `(M, ...)` sample buffer.
    - `count`: how many samples were written so far (int32 scalar).
    - `steps`: the `(M,)` step numbers after which samples are taken.
    """

    state: PyTree
    samples: Array
    count: Array
    steps: Array


def init_carry(
    observer: AbstractObserver, n_regions: int, dt: RealLike, n_steps: int, dtype=None
) -> ObserverCarry:
    """The carry for a run of `n_steps` steps of `dt` ms over `n_regions` regions: the
    observer's initial carry, an empty sample buffer for every sample of the run, and the
    sample steps."""
    dt = check_dt(dt)
    dtype = jnp.result_type(float) if dtype is None else dtype
    state = observer.init(n_regions, dt, dtype)
    steps = sample_steps(observer.period, dt, n_steps)
    sample = jax.eval_shape(observer.readout, state)
    return ObserverCarry(
        state=state,
        samples=jnp.zeros((len(steps), *sample.shape), sample.dtype),
        count=jnp.zeros((), jnp.int32),
        steps=jnp.asarray(steps, dtype=jnp.int32),
    )


def advance(
    observer: AbstractObserver, carry: ObserverCarry, step: ArrayLike, x: Array, dt: float
) -> ObserverCarry:
    """Advance an observer over step number `step` (from 1; it may be traced) of `dt` ms,
    driven by `x` (`(N,)`, held over the step); if it is a sample step, write the readout
    into the sample buffer. Pure, and traceable under `jit`, `vmap`, `scan` and `grad`.

    **Example:**

    ```python
    import jax.numpy as jnp
    import massfit
    from massfit.observation import advance, init_carry

    observer = massfit.observation.TemporalAverage(period=1.0, drive="x")
    carry = init_carry(observer, n_regions=2, dt=0.5, n_steps=4)
    for step in range(1, 5):
        carry = advance(observer, carry, step, jnp.full(2, float(step)), 0.5)
    carry.samples  # [[1.5, 1.5], [3.5, 3.5]]
    ```
    """
    state = observer.step(carry.state, x, dt)
    n_samples = carry.steps.shape[0]
    if n_samples == 0:
        return eqx.tree_at(lambda c: c.state, carry, state)
    index = jnp.minimum(carry.count, n_samples - 1)
    step = jnp.asarray(step).astype(carry.steps.dtype)
    is_sample = (carry.count < n_samples) & (step == carry.steps[index])
    # Written without `lax.cond`: under `vmap` a cond becomes a select of both branches,
    # which would copy the whole sample buffer every step. Here only row `index` is
    # rewritten (with itself when this is not a sample step).
    sample = observer.readout(state).astype(carry.samples.dtype)
    # A dynamic update of one row (a scatter would make reverse mode track which write wins
    # with a buffer-sized array of ids at every step).
    row = jnp.where(is_sample, sample, carry.samples[index])
    samples = jax.lax.dynamic_update_index_in_dim(carry.samples, row, index, axis=0)
    reset = observer.after_sample(state)
    if reset is not state:
        state = jax.tree.map(lambda a, b: jnp.where(is_sample, a, b), reset, state)
    return ObserverCarry(state, samples, carry.count + is_sample.astype(jnp.int32), carry.steps)


def at_most_one_sample_per(observer: AbstractObserver, steps: int, dt: float) -> bool:
    """Whether any `steps` consecutive steps of `dt` ms hold at most one of the observer's
    sample steps: true when `period / dt >= steps` (consecutive sample steps are then at
    least `floor(period / dt)` apart; the ratio is read as in `sample_steps`)."""
    ratio = Fraction(as_period(observer.period) / check_dt(dt)).limit_denominator(10**6)
    return ratio >= steps


def advance_block(
    observer: AbstractObserver,
    carry: ObserverCarry,
    first: ArrayLike,
    xs: Array,
    count: ArrayLike,
    dt: float,
) -> ObserverCarry:
    """[`massfit.observation.advance`][] over the first `count` of `K = len(xs)` consecutive
    steps, numbered `first, first + 1, ...`, for an observer with at most one sample step
    among them (see `at_most_one_sample_per`): the same numbers, with one readout and one
    write of the sample buffer per call instead of one per step (what a solver's block of
    sub-steps needs; in reverse mode each write would otherwise be differentiated)."""
    n_samples = carry.steps.shape[0]
    state = carry.state
    if n_samples == 0:
        for q in range(xs.shape[0]):
            new = observer.step(state, xs[q], dt)
            state = jax.tree.map(lambda a, b: jnp.where(q < count, a, b), new, state)
        return eqx.tree_at(lambda c: c.state, carry, state)
    index = jnp.minimum(carry.count, n_samples - 1)
    target = carry.steps[index]
    pending = carry.count < n_samples
    first = jnp.asarray(first).astype(carry.steps.dtype)
    if observer.accumulates:
        return _accumulate_block(observer, carry, first, target, pending, index, xs, count, dt)
    taken = jnp.zeros((), bool)
    sampled = state
    for q in range(xs.shape[0]):
        new = observer.step(state, xs[q], dt)
        valid = q < count
        new = jax.tree.map(lambda a, b: jnp.where(valid, a, b), new, state)
        is_sample = valid & pending & (first + q == target)
        sampled = jax.tree.map(lambda a, b: jnp.where(is_sample, a, b), new, sampled)
        taken = taken | is_sample
        reset = observer.after_sample(new)
        if reset is not new:
            new = jax.tree.map(lambda a, b: jnp.where(is_sample, a, b), reset, new)
        state = new
    sample = observer.readout(sampled).astype(carry.samples.dtype)
    row = jnp.where(taken, sample, carry.samples[index])
    samples = jax.lax.dynamic_update_index_in_dim(carry.samples, row, index, axis=0)
    return ObserverCarry(state, samples, carry.count + taken.astype(jnp.int32), carry.steps)


def _accumulate_block(observer, carry, first, target, pending, index, xs, count, dt):
    """`advance_block` for an observer that accumulates: the block's steps up to the sample
    step (all of them without one) in one `accumulate`, the sample, the reset, and the steps
    after it in a second `accumulate`."""
    q = jnp.arange(xs.shape[0], dtype=first.dtype)
    valid = q < jnp.asarray(count).astype(q.dtype)
    hit = valid & pending & (first + q == target)
    taken = jnp.any(hit)
    at = jnp.argmax(hit).astype(q.dtype)
    before = valid & ((q <= at) | ~taken)
    after = valid & (q > at) & taken
    sampled = observer.accumulate(carry.state, xs, before, dt)
    reset = observer.after_sample(sampled)
    state = jax.tree.map(lambda a, b: jnp.where(taken, a, b), reset, sampled)
    state = observer.accumulate(state, xs, after, dt)
    sample = observer.readout(sampled).astype(carry.samples.dtype)
    row = jnp.where(taken, sample, carry.samples[index])
    samples = jax.lax.dynamic_update_index_in_dim(carry.samples, row, index, axis=0)
    return ObserverCarry(state, samples, carry.count + taken.astype(jnp.int32), carry.steps)
