"""`simulate`: run a network with diffrax and the delay solvers, returning a `Trajectory`."""

import math
from collections.abc import Callable, Mapping
from typing import Any

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.interpreters import ad
from jaxtyping import Array, ArrayLike, Bool, Float, Int

from .._custom_types import MatrixLike, RealLike
from .._errors import check_key, describe, is_concrete
from .._network import Network
from .._noise import NoNoise
from .._params import _path_string, unwrap
from .._stimuli import AbstractStimulus
from ..observation._base import AbstractObserver, init_carry, sample_steps
from ._base import AbstractDelaySolver, Divergence
from ._delays import delays as solve_delays
from ._heun import Heun
from ._history import constant_history, History
from ._term import NetworkTerm


class Trajectory(eqx.Module):
    """The output of `massfit.simulate`.

    - `ts`: save times, ms, shape `(T,)`.
    - `ys`: saved states, shape `(T, S, N)` for the `S` saved `variables`.
    - `variables`: names of the saved state variables, in the order of `ys`' second axis.
    - `final_state`: the full `(V, N)` state at the end of the run.
    - `final_history`: the delay history (and coloured-noise state) at the end; continue
        the run exactly with `simulate(..., continue_from=trajectory)`.
    - `diverged_at`: the time, ms, of the first step whose state was not finite (`inf` if
        none); a non-finite starting state counts as diverged at the start time.
    - `diverged_region`: the first region that was not finite then (`-1` if none).
    - `diverged` (a property): whether the run diverged, `diverged_region >= 0`.
    - `observed`: the samples of each observer given to `simulate(observers=...)`, by name:
        `(M, ...)` (e.g. `(M, N)` for `BOLD`, `(M, sensors)` for `LeadField`).
    - `observed_ts`: their times, ms, `(M,)` by name.

    The divergence fields are arrays, recorded during the run: they work inside `jax.jit`
    and `jax.vmap` (one value per member of a vmapped population), where `simulate` can't
    raise (see its `check_finite` argument).

    `trajectory["x"]` is the `(T, N)` series of variable `x`.
    """

    ts: Float[Array, " T"]
    ys: Float[Array, "T S N"]
    final_state: Float[Array, "V N"]
    final_history: History
    diverged_at: Float[Array, ""]
    diverged_region: Int[Array, ""]
    variables: tuple[str, ...] = eqx.field(static=True)
    observed: dict[str, Array] = eqx.field(default_factory=dict)
    observed_ts: dict[str, Array] = eqx.field(default_factory=dict)

    @property
    def diverged(self) -> Bool[Array, "*batch"]:
        """Whether the state became non-finite during the run (or started so)."""
        return self.diverged_region >= 0

    def __getitem__(self, name: str) -> Float[Array, "T N"]:
        try:
            return self.ys[:, self.variables.index(name)]
        except ValueError:
            raise KeyError(
                f"no saved variable {name!r}; this trajectory saved {self.variables}."
            ) from None


class _Inputs(eqx.Module):
    # External input (arrays per step, or functions of time in ms) plus coloured noise,
    # assembled into the (V, N) input layout of the node model.
    arrays: tuple[Array, ...]
    array_rows: tuple[int, ...] = eqx.field(static=True)
    functions: tuple[Callable, ...] = eqx.field(static=True)
    function_rows: tuple[int, ...] = eqx.field(static=True)
    function_names: tuple[str, ...] = eqx.field(static=True)
    noise_rows: tuple[int, ...] = eqx.field(static=True)
    shape: tuple[int, int] = eqx.field(static=True)
    start: Array
    dt: Array
    # Stimuli are pytrees (their amplitudes are leaves that jit, vmap and grad see).
    stimulus: AbstractStimulus | None = None
    variables: tuple[str, ...] = eqx.field(static=True, default=())

    def __call__(self, t, theta, eta):
        out = jnp.zeros(self.shape, self.dt.dtype)
        if self.stimulus is not None:
            out = out + self.stimulus.input((t + theta) * self.dt, self.variables, self.shape[1])
        if self.arrays:
            # Arrays are piecewise constant: sample n drives every stage of step n.
            i = jnp.floor(t).astype(jnp.int32) - self.start.astype(jnp.int32)
            for row, arr in zip(self.array_rows, self.arrays):
                out = out.at[row].add(arr[jnp.clip(i, 0, arr.shape[0] - 1)])
        for row, fn, name in zip(self.function_rows, self.functions, self.function_names):
            value = jnp.asarray(fn((t + theta) * self.dt))
            if value.shape not in ((), (1,), self.shape[1:]):
                raise ValueError(
                    f"`inputs[{name!r}]` is a function of time that must return a scalar or "
                    f"shape ({self.shape[1]},) (one value per region); it returned shape "
                    f"{value.shape}."
                )
            out = out.at[row].add(jnp.broadcast_to(value.astype(out.dtype), self.shape[1:]))
        if self.noise_rows:
            out = out.at[jnp.array(self.noise_rows)].add(eta)
        return out


class _Select(eqx.Module):
    # What to save: rows of the node state. A Module rather than a lambda so that repeated
    # `simulate` calls hit diffrax's compilation cache.
    rows: tuple[int, ...] | None = eqx.field(static=True)

    def __call__(self, t, y, args):
        return y[0] if self.rows is None else y[0][jnp.array(self.rows)]


def simulate(
    network: Network,
    *,
    duration: RealLike,
    dt: RealLike,
    solver: AbstractDelaySolver | diffrax.AbstractSolver | None = None,
    key: ArrayLike | None = None,  # checked below: a wrong type gets a clear message
    save_every: RealLike | None = None,
    ts: MatrixLike | None = None,
    transient: RealLike = 0.0,
    variables: tuple[str, ...] | list[str] | str | None = None,
    inputs: Mapping[str, ArrayLike | Callable | AbstractStimulus]
    | AbstractStimulus
    | None = None,
    initial_state: ArrayLike | None = None,
    history: History | None = None,
    continue_from: Trajectory | None = None,
    check_finite: bool | None = None,
    observers: Any = None,  # checked below: a wrong type gets a clear message
    adjoint: diffrax.AbstractAdjoint | None = None,
    progress: bool = False,
) -> Trajectory:
    """Simulate a delay-coupled network.

    Solves the network's delay differential equations (stochastic ones with noise) with
    `diffrax.diffeqsolve` and a fixed-step delay solver (default `massfit.Heun()`), in step
    units internally. Time is in ms throughout.

    **Arguments:**

    - `network`: the `massfit.Network`.
    - `duration`: length of the run, ms; a whole number of steps `dt`.
    - `dt`: step size, ms. It should be well below the shortest non-zero delay.
    - `solver`: `massfit.Euler()`, `massfit.Heun()` (default) or `massfit.RK4()`, with
        `interpolate_delays=True` to read delays exactly (needed to differentiate with
        respect to `speed`). A delay-free, noise-free network may also use any diffrax
        solver.
    - `key`: a `jax.random` key; required when the network has noise.
    - `save_every`: save interval, ms (a multiple of `dt`); default `dt`.
    - `ts`: explicit save times, ms, on the step grid in `(t0 + transient, t0 + duration]`;
        instead of `save_every`.
    - `transient`: initial time to discard from the saved output, ms.
    - `variables`: names of the state variables to save; default all.
    - `inputs`: external input per state variable name: an array of shape `(n_steps, N)`,
        `(n_steps,)` or `(N,)` (piecewise constant, sample `n` over step `n`), or a
        function of time in ms returning `(N,)` or a scalar. Added to the variable's input.
        Or a stimulus of `massfit.stimuli` (which names the variables it drives; a sum of
        stimuli is one), given alone (`inputs=stimulus`) or as the value of the one
        variable it drives.
    - `initial_state`: `(V, N)` state at the start; default `network.node.initial_state`.
    - `history`: the delay history at the start; default a constant past equal to the
        initial state. It also fixes the start time: `t0 = history.step * dt`. A history
        belongs to a state: give `initial_state` with it (or use `continue_from`).
    - `continue_from`: a `Trajectory` to continue: its final state, delay history, time and
        coloured-noise state. With the same network, `dt`, solver and `key`, the two runs
        together repeat one long run bit for bit. Not with `initial_state` or `history`.
    - `check_finite`: what to do when the state becomes non-finite (the run diverged; see
        `Trajectory.diverged`). `None` (default): raise a `FloatingPointError` naming the
        time and region when the result is concrete (not inside `jax.jit`/`vmap`), else
        only record it in the trajectory. `True`: also raise inside `jax.jit` (an
        `EquinoxRuntimeError` naming the region); under `jax.vmap` one diverged member
        then fails the whole batch, so leave it off for populations and sweeps. `False`:
        never raise, only record.
    - `observers`: observation models advanced with the solve, by name, e.g.
        `{"bold": massfit.BOLD(period=720.0, drive="x")}` (see `massfit.observation`).
        Each observer's own state advances every step inside the solver, and only its
        samples are kept, in `trajectory.observed[name]` (times in `observed_ts[name]`):
        the same numbers as the observer run post hoc on the trajectory saved every step.
        With observers, the neural state is saved only if `save_every`, `ts` or
        `variables` asks for it (a long run at a small `dt` then never holds its trace).
        Samples at or before `t0 + transient` are dropped. Observers start from rest in
        every call, `continue_from` included.
    - `adjoint`: a diffrax adjoint. Default: `diffrax.ForwardMode()` when the run is being
        forward-differentiated (`jax.jacfwd`/`jax.jvp`, e.g. a forward-mode `massfit.fit`
        step: an array of `network`, `inputs` or `initial_state` is a forward-mode tracer),
        else `diffrax.RecursiveCheckpointAdjoint(checkpoints=...)` (for `jax.grad`), keeping
        diffrax's ~sqrt(2 × blocks) checkpoints of the solver's carry (state, delay history,
        observer carries) unless those copies would exceed 64 MiB, then fewer: the memory
        of a reverse-mode gradient stays bounded however long the run, at the price of more
        recomputation (pass your own `checkpoints=` to trade the other way). Forward mode is
        cheapest for a few parameters. Pass `adjoint=diffrax.ForwardMode()` yourself when
        the differentiated values reach the run otherwise (e.g. `jax.jacfwd` around a
        `jax.jit`-compiled function, or only through a function in `inputs`).
    - `progress`: show a progress bar (diffrax's `TqdmProgressMeter`).

    **Returns:** a `Trajectory`. Saved times exclude the start: with `transient=0` the first
    sample is at `t0 + save_every`, so consecutive runs concatenate without repeats.

    **Example (the brainmass `Simulator(net, dt).run(...)` mapping):**

    ```python
    # brainmass: Simulator(net, dt=0.1*u.ms).run(400*u.ms, monitors=['x'], transient=100*u.ms)
    x = massfit.simulate(net, duration=400.0, dt=0.1, transient=100.0)["x"]  # (T, N)
    ```
    """
    if not isinstance(network, Network):
        raise TypeError(f"`network` must be a massfit.Network; got {type(network).__name__}.")
    if check_finite not in (None, True, False):
        raise TypeError(f"`check_finite` must be None, True or False; got {check_finite!r}.")
    network = unwrap(network)  # `Bounded`/`Positive` parameters to their physical values
    _check_network_values(network)
    initial_name = "initial_state"
    if continue_from is not None:
        if not isinstance(continue_from, Trajectory):
            raise TypeError(
                f"`continue_from` must be a massfit.Trajectory; got {describe(continue_from)}."
            )
        if initial_state is not None or history is not None:
            raise ValueError(
                "give `continue_from` or `initial_state`/`history`, not both: "
                "continue_from=trajectory takes the state and history from the trajectory."
            )
        initial_state, history = continue_from.final_state, continue_from.final_history
        initial_name = "continue_from.final_state"
    elif history is not None and initial_state is None:
        raise ValueError(
            "`history` was given without `initial_state`: the run would restart from the "
            "default state with another run's past. Pass initial_state=trajectory."
            "final_state too, or simply continue_from=trajectory."
        )
    dt = _python_float("dt", dt)
    duration = _python_float("duration", duration)
    transient = _python_float("transient", transient)
    if dt <= 0:
        raise ValueError(f"`dt` must be > 0 ms; got {dt}.")
    if duration <= 0:
        raise ValueError(f"`duration` must be > 0 ms; got {duration}.")
    n_steps = _whole_steps("duration", duration, dt)
    if not 0 <= transient < duration:
        raise ValueError(
            f"`transient` must be in [0, duration) = [0, {duration}) ms; got {transient}."
        )
    transient_steps = _whole_steps("transient", transient, dt)
    solver = Heun() if solver is None else solver
    if not isinstance(solver, diffrax.AbstractSolver):
        raise TypeError(
            "`solver` must be massfit.Euler(), Heun() or RK4() (or a diffrax solver for a "
            f"delay-free network); got {describe(solver)}."
        )

    node, n = network.node, network.n_regions
    n_vars = len(node.variables)
    dtype = jnp.result_type(float)
    if initial_state is None:
        state0 = node.initial_state(n)
    else:
        state0 = jnp.asarray(initial_state)
        if state0.shape != (n_vars, n):
            raise ValueError(
                f"`{initial_name}` must have shape (V, N) = ({n_vars}, {n}) for variables "
                f"{node.variables}; got {state0.shape}."
            )
        _check_finite_array(initial_name, state0, node.variables, network.connectome.labels)
    state0 = state0.astype(dtype)
    cidx = jnp.array(network.coupled_index)
    noise_rows = network.noise_index
    if network.noise is not None and key is None:
        raise ValueError(
            "`key` is required: the network has noise. Pass key=jax.random.key(seed)."
        )
    check_key("key", key, required=False)
    observers = _check_observers(observers, node, state0)

    delays = solve_delays(network, dt, solver)
    length = delays.length

    noise = NoNoise() if network.noise is None else network.noise
    n_input_rows = noise.input_state_rows(len(noise_rows))
    if history is None:
        eta0 = noise.initial_input_state(key, len(noise_rows), n, jnp.asarray(dt, dtype), dtype)
        history = constant_history(state0[cidx], length, 0, eta0)
    else:
        _check_history(history, len(network.coupled), n, length, n_input_rows)
    start = history.step

    if not isinstance(solver, AbstractDelaySolver) and (
        network.max_delay > 0 or network.noise is not None
    ):
        raise ValueError(
            f"`solver` {type(solver).__name__} is a plain diffrax solver, which can't "
            "carry a delay history or noise: use massfit.Euler(), Heun() or RK4()."
        )
    block = delays.block

    forward_mode = _forward_differentiated(network, inputs, initial_state)
    if adjoint is None:
        reverse_only = not forward_mode
    else:
        reverse_only = isinstance(adjoint, diffrax.RecursiveCheckpointAdjoint)
    term = NetworkTerm(
        network=network,
        dt=jnp.asarray(dt, dtype),
        key=key,
        inputs=_build_inputs(
            inputs, network, n_steps, start, dt, dtype, noise_rows if n_input_rows else ()
        ),
        reads=delays.reads,
        current=delays.current,
        block=block,
        observers=observers,
        start=start if observers else 0,
        dt_ms=dt,
        reverse_only=reverse_only,
    )

    t0 = start.astype(dtype)
    save_trace = not observers or not (save_every is None and ts is None and variables is None)
    if save_trace:
        rel = _save_steps(ts, save_every, dt, n_steps, transient_steps, start)
        names = _saved_variables(variables, node)
    else:
        rel, names = jnp.zeros((0,), dtype), ()
    rows = tuple(node.variable_index(v) for v in names)
    subs = [diffrax.SubSaveAt(t1=True, fn=_Select(None))]
    if save_trace:
        subs.insert(0, diffrax.SubSaveAt(ts=t0 + rel, fn=_Select(rows)))
    saveat = diffrax.SaveAt(subs=subs, solver_state=isinstance(solver, AbstractDelaySolver))
    observed0 = {
        name: init_carry(observer, n, dt, n_steps, dtype) for name, observer in observers.items()
    }
    if observed0 and not isinstance(solver, AbstractDelaySolver):
        raise ValueError(
            "`observers` need one of massfit's delay solvers (Euler, Heun, RK4), which advance "
            f"them inside the step; got {type(solver).__name__}."
        )

    n_blocks = -(-n_steps // block)
    if adjoint is None:
        adjoint = (
            diffrax.ForwardMode()
            if forward_mode
            else diffrax.RecursiveCheckpointAdjoint(
                checkpoints=_checkpoints(n_blocks, (state0, history, observed0))
            )
        )
    sol = diffrax.diffeqsolve(
        term,
        solver,
        t0=t0,
        t1=t0 + n_steps,
        dt0=None,
        y0=(state0, history.noise),
        args=(history, observed0),
        saveat=saveat,
        # Explicit block boundaries: ConstantStepSize would re-space a short last block.
        stepsize_controller=diffrax.StepTo(ts=t0 + _block_ends(n_steps, block)),
        adjoint=adjoint,
        max_steps=n_blocks,
        progress_meter=diffrax.TqdmProgressMeter() if progress else diffrax.NoProgressMeter(),
    )
    if save_trace:
        saved, final = sol.ys
    else:
        (final,) = sol.ys
        saved = jnp.zeros((0, 0, n), dtype)
    observed, observed_ts = {}, {}
    for name, carry in (sol.solver_state.observed if observed0 else {}).items():
        steps = sample_steps(observers[name].period, dt, n_steps)
        keep = int(np.sum(steps <= transient_steps))
        observed[name] = carry.samples[keep:]
        observed_ts[name] = (t0 + jnp.asarray(steps[keep:], dtype)) * dt
    if isinstance(solver, AbstractDelaySolver):
        final_history, divergence = sol.solver_state.history, sol.solver_state.divergence
    else:
        final_history = history
        divergence = _saved_divergence(state0, saved, final[-1], start, rel, n_steps)
    diverged = divergence.region >= 0
    traj = Trajectory(
        ts=(t0 + rel) * dt,
        ys=saved,
        final_state=final[-1],
        final_history=final_history,
        diverged_at=jnp.where(diverged, divergence.step.astype(dtype) * dt, jnp.inf),
        diverged_region=divergence.region,
        variables=names,
        observed=observed,
        observed_ts=observed_ts,
    )
    if check_finite is not False:
        if is_concrete(traj.diverged_region):
            _raise_if_diverged(traj, network)
        elif check_finite:
            labels = network.connectome.labels
            traj = eqx.branched_error_if(
                traj,
                traj.diverged,
                jnp.maximum(traj.diverged_region, 0),
                tuple(
                    f"the simulation diverged: non-finite state in region {i} ({label!r}) "
                    "(check_finite=True). Reduce dt or check the parameters; pass "
                    "check_finite=None to get the trajectory and read its diverged_at."
                    for i, label in enumerate(labels)
                ),
            )
    return traj


def _forward_differentiated(*trees) -> bool:
    """Whether any array in `trees` is being forward-differentiated (then the default adjoint
    is `diffrax.ForwardMode()`: the checkpointed reverse adjoint is a `custom_vjp`, which
    `jax.jvp` refuses)."""
    for leaf in jax.tree.leaves(trees):
        while isinstance(leaf, jax.core.Tracer):
            if isinstance(leaf, ad.JVPTracer):
                return True
            # Under `jax.vmap` the value (perhaps forward-differentiated) is inside.
            leaf = getattr(leaf, "val", None)
    return False


#: The memory the default reverse adjoint may spend on checkpoints of the solver's carry.
CHECKPOINT_BUDGET_BYTES = 64 * 2**20


def _checkpoints(n_blocks: int, carry) -> int:
    """How many checkpoints the default `RecursiveCheckpointAdjoint` keeps: diffrax's default
    (about `sqrt(2 * n_blocks)`, so each block is recomputed about twice), fewer when that
    many copies of the carry (state, delay history, observer carries with their sample
    buffers) would exceed `CHECKPOINT_BUDGET_BYTES` (then blocks are recomputed more often:
    the time grows, the memory does not)."""
    default = 1 if n_blocks <= 1 else math.floor(-1.5 + math.sqrt(2 * n_blocks + 0.25)) + 1
    size = sum(np.size(x) * np.dtype(x.dtype).itemsize for x in jax.tree.leaves(carry))
    return int(max(1, min(default, n_blocks, CHECKPOINT_BUDGET_BYTES // max(size, 1))))


def _check_observers(observers, node, state0) -> dict[str, AbstractObserver]:
    """`observers` as a dict of observers whose drive is an `(N,)` function of the state,
    or an error naming the observer."""
    if observers is None:
        return {}
    if not isinstance(observers, Mapping):
        raise TypeError(
            "`observers` must be a mapping from a name to an observer, e.g. "
            f"{{'bold': massfit.BOLD(period=720.0, drive='x')}}; got {describe(observers)}."
        )
    n = state0.shape[1]
    for name, observer in observers.items():
        if not isinstance(name, str):
            raise TypeError(f"`observers` must be keyed by name (str); got key {name!r}.")
        if not isinstance(observer, AbstractObserver):
            raise TypeError(
                f"`observers[{name!r}]` must be a massfit observer (e.g. massfit.BOLD); got "
                f"{describe(observer)}."
            )
        drive = jax.eval_shape(lambda s, o=observer: o.drive_of(s, node.variables), state0)
        if drive.shape != (n,):
            raise ValueError(
                f"`observers[{name!r}]`: its drive must give one value per region, shape "
                f"({n},); it gives shape {drive.shape}."
            )
    return dict(observers)


def _python_float(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.number):
        if isinstance(value, np.ndarray | jax.Array) and value.ndim == 0 and is_concrete(value):
            return float(value)
        raise TypeError(
            f"`{name}` must be a Python number (ms), fixed when the simulation is compiled; "
            f"got {describe(value)}."
        )
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"`{name}` must be finite; got {value}.")
    return value


def _whole_steps(name: str, value: float, dt: float) -> int:
    steps = round(value / dt)
    if abs(steps * dt - value) > 1e-6 * max(abs(value), dt):
        raise ValueError(
            f"`{name}` = {value} ms is not a whole number of steps of dt = {dt} ms "
            f"({value / dt:.6g} steps). Use a multiple of dt."
        )
    return steps


def _saved_variables(variables, node) -> tuple[str, ...]:
    if variables is None:
        return tuple(node.variables)
    if isinstance(variables, str):
        variables = (variables,)
    variables = tuple(variables)
    for v in variables:
        node.variable_index(v)
    return variables


def _save_steps(ts, save_every, dt, n_steps, transient_steps, start):
    if ts is not None:
        if save_every is not None:
            raise ValueError("give `save_every` or `ts`, not both.")
        ts = np.asarray(ts, dtype=np.float64)
        if ts.ndim != 1 or ts.size == 0:
            raise ValueError(f"`ts` must be a non-empty 1-D array of times in ms; got {ts.shape}.")
        t0_ms = float(start) * dt
        rel = np.round((ts - t0_ms) / dt)
        if np.any(np.abs(rel * dt - (ts - t0_ms)) > 1e-6 * np.maximum(1.0, np.abs(ts))):
            raise ValueError(f"`ts` must lie on the step grid t0 + k * dt (dt = {dt} ms).")
        if np.any(rel <= transient_steps) or np.any(rel > n_steps) or np.any(np.diff(rel) <= 0):
            raise ValueError(
                "`ts` must be strictly increasing and within (t0 + transient, t0 + duration] "
                f"= ({t0_ms + transient_steps * dt}, {t0_ms + n_steps * dt}] ms."
            )
        return jnp.asarray(rel, dtype=jnp.result_type(float))
    every = 1 if save_every is None else _whole_steps("save_every", _python_float(
        "save_every", save_every), dt)
    if every < 1:
        raise ValueError(f"`save_every` must be at least dt = {dt} ms; got {save_every}.")
    if (n_steps - transient_steps) % every:
        raise ValueError(
            f"`duration - transient` = {(n_steps - transient_steps) * dt} ms is not a multiple "
            f"of `save_every` = {every * dt} ms."
        )
    count = (n_steps - transient_steps) // every
    rel = transient_steps + every * np.arange(1, count + 1)
    return jnp.asarray(rel, dtype=jnp.result_type(float))


def _block_ends(n_steps: int, block: int):
    ends = np.minimum(np.arange(0, n_steps + block, block), n_steps)
    return jnp.asarray(np.unique(ends), dtype=jnp.result_type(float))


def _check_history(history, n_coupled, n, length, n_input_rows):
    if not isinstance(history, History):
        raise TypeError(
            "`history` must be a massfit History (e.g. trajectory.final_history); got "
            f"{type(history).__name__}."
        )
    expected = (n_coupled, n, 2 * length)
    if history.values.shape != expected:
        raise ValueError(
            f"`history` holds buffers of shape {history.values.shape}, but this network and "
            f"dt need {expected} ({length} past steps of {n_coupled} coupled variables in "
            f"{n} regions). Continue a run with the same network and dt."
        )
    if history.noise.shape != (n_input_rows, n):
        raise ValueError(
            f"`history.noise` has shape {history.noise.shape}; this network's noise needs "
            f"{(n_input_rows, n)}."
        )


def _build_inputs(inputs, network, n_steps, start, dt, dtype, noise_rows):
    node, n = network.node, network.n_regions
    arrays, array_rows, functions, function_rows, function_names = [], [], [], [], []
    stimuli = []
    if isinstance(inputs, AbstractStimulus):
        stimuli.append(inputs)
        inputs = {}
    if inputs is not None:
        if not isinstance(inputs, Mapping):
            raise TypeError(
                "`inputs` must map state variable names to arrays or functions of time, e.g. "
                f"{{'x': stimulus}}, or be a massfit.stimuli stimulus; got {describe(inputs)}."
            )
        for name, value in inputs.items():
            row = node.variable_index(name)
            if isinstance(value, AbstractStimulus):
                if value.variables != (name,):
                    raise ValueError(
                        f"`inputs[{name!r}]` is a stimulus of {value.variables}: give it under "
                        "the variable it drives, or alone as inputs=stimulus."
                    )
                stimuli.append(value)
                continue
            if callable(value):
                functions.append(value)
                function_rows.append(row)
                function_names.append(name)
                continue
            arr = jnp.asarray(value, dtype=dtype)
            if arr.ndim == 1 and arr.shape[0] == n and n != n_steps:
                arr = arr[None, :]
            elif arr.ndim == 1:
                arr = arr[:, None]
            if arr.ndim != 2 or arr.shape[0] not in (1, n_steps) or arr.shape[1] not in (1, n):
                raise ValueError(
                    f"`inputs[{name!r}]` must have shape (n_steps, N) = ({n_steps}, {n}), "
                    f"(n_steps,) or (N,); got {jnp.shape(value)}."
                )
            _check_finite_array(f"inputs[{name!r}]", arr, None, network.connectome.labels)
            arrays.append(jnp.broadcast_to(arr, (arr.shape[0], n)))
            array_rows.append(row)
    stimulus = sum(stimuli) if stimuli else None
    if stimulus is not None:
        stimulus.check(node.variables, n, "`inputs`: ")
    return _Inputs(
        arrays=tuple(arrays),
        array_rows=tuple(array_rows),
        functions=tuple(functions),
        function_rows=tuple(function_rows),
        function_names=tuple(function_names),
        noise_rows=tuple(noise_rows),
        shape=(len(node.variables), n),
        start=jnp.asarray(start),
        dt=jnp.asarray(dt, dtype),
        stimulus=stimulus,
        variables=tuple(node.variables),
    )


def _saved_divergence(state0, saved, final, start, rel, n_steps) -> Divergence:
    # A plain diffrax solver records nothing: look at the start, the saved samples and the end.
    in_saved = Divergence.check(saved, 0)
    at = start + rel[jnp.maximum(in_saved.step, 0)].astype(start.dtype)
    in_saved = Divergence(jnp.where(in_saved.region >= 0, at, -1), in_saved.region)
    first = Divergence.check(state0[None], start).then(in_saved)
    return first.then(Divergence.check(final[None], start + n_steps))


def _raise_if_diverged(traj: Trajectory, network: Network) -> None:
    if bool(traj.diverged):
        region = int(traj.diverged_region)
        label = network.connectome.labels[region]
        raise FloatingPointError(
            f"the simulation diverged: non-finite state at t = {float(traj.diverged_at):.6g} "
            f"ms in region {region} ({label!r}). Reduce dt, check the parameters, or use a "
            "more stable solver. (Pass check_finite=False to get the trajectory anyway.)"
        )


def _check_network_values(network: Network) -> None:
    """Check the parameter values of an unwrapped network up front (those that are concrete),
    naming the parameter: a NaN there would otherwise surface as a divergence at the first
    step, blamed on the dynamics."""
    if jnp.shape(network.k) != ():
        raise ValueError(
            "`network.k` (the global coupling strength) must be a scalar; got shape "
            f"{jnp.shape(network.k)}. Scale the connectome weights for per-edge strengths."
        )
    leaves = jax.tree_util.tree_flatten_with_path(network)[0]
    for path, leaf in leaves:
        name = _path_string(path)
        # The Connectome checks its own values; traced values can't be checked here.
        if name.startswith("connectome.") or not is_concrete(leaf):
            continue
        if not eqx.is_inexact_array_like(leaf):
            continue
        value = np.asarray(leaf)
        if name == "speed":
            bad = ~(value > 0)  # inf is allowed: no delays
        else:
            bad = ~np.isfinite(value)
        if np.any(bad):
            where = "" if value.ndim == 0 else f" in regions {np.argwhere(bad)[:, 0].tolist()}"
            expected = "> 0" if name == "speed" else "finite"
            shown = value if value.ndim == 0 else value[bad]
            raise ValueError(
                f"`network.{name}` must be {expected}; got {shown}{where}. Check the value "
                "given for it (or the step that set it)."
            )


def _check_finite_array(name: str, value, variables, labels) -> None:
    """A concrete `(V, N)` or `(T, N)` array must be finite; say where it is not."""
    if not is_concrete(value):
        return
    bad = ~np.isfinite(np.asarray(value))
    if bad.any():
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        if variables is not None:
            row = f"variable {variables[first[0]]!r}"
        else:
            row = f"step {first[0]}"
        region = first[-1] if len(first) > 1 else 0
        raise ValueError(
            f"`{name}` must be finite; it holds {int(bad.sum())} non-finite values, the "
            f"first at {row}, region {region} ({labels[region]!r})."
        )
