"""The delays of a run, in steps: checked against the network's bounds and `dt`, and what the
solver reads from them."""

import math
import warnings

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float

from .._errors import is_concrete
from .._network import Network
from ._base import AbstractDelaySolver
from ._history import StageReads


class Delays(eqx.Module):
    """The delays of a run as the solve uses them (from `delays`).

    - `lags`: the delays in steps as the solver reads them, `(N, N)` (rounded to whole
        steps unless the solver interpolates).
    - `reads`: where each stage time (in steps, within a step) reads its delayed samples.
    - `current`: the edges that see the current state (zero delay, non-zero weight), or
        `None` if there are none.
    - `block`: how many steps a delay solver advances at once.
    - `length`: how many past steps the delay history holds.
    """

    lags: Float[Array, "N N"]
    reads: dict[float, StageReads]
    current: Bool[Array, "N N"] | None
    block: int = eqx.field(static=True)
    length: int = eqx.field(static=True)


def delays(network: Network, dt: float, solver) -> Delays:
    """The delays of `network` at step `dt` (ms) for `solver`, checked against the network's
    `min_delay`/`max_delay` and `dt` (raising, or under `jit` an `eqx.error_if`, with a
    fix-it message). A plain diffrax solver reads no delays: one-step blocks, no reads."""
    length = math.ceil(network.max_delay / dt - 1e-9) + 2
    weights = network.connectome.weights
    interpolate = isinstance(solver, AbstractDelaySolver) and solver.interpolate_delays
    _, lags = _check_delays(network, interpolate, network.delays() / dt, weights, dt)
    if not isinstance(solver, AbstractDelaySolver):
        return Delays(lags, {}, None, 1, length)
    block = _block_size(solver, network.min_delay / dt)
    if network.min_delay == 0 and network.max_delay > 0 and solver.max_block > 1:
        warnings.warn(
            "Network.min_delay is 0 (the speed or lengths were traced or constrained "
            "without an upper speed bound when the network was built), so the solver "
            "steps one dt at a time instead of in blocks of up to "
            f"{solver.max_block} steps, which is several times slower. Give "
            "speed=massfit.Bounded(v, lower, upper) or Network(..., min_delay=...) (the "
            "shortest delay the run will have).",
            stacklevel=3,
        )
    reads = {
        theta: _stage_reads(lags, theta, interpolate, solver.hermite)
        for theta in solver.stage_times
    }
    current = _zero_delay_edges(network, lags, weights, dt)
    return Delays(lags, reads, current, block, length)


def _stage_reads(lam, theta: float, interpolate: bool, hermite: bool) -> StageReads:
    p = theta - lam
    m0 = jnp.floor(p)
    frac = None if not interpolate and theta == int(theta) else p - m0
    return StageReads(m0.astype(jnp.int32), frac, hermite=hermite and frac is not None)


def _zero_delay_edges(network, lam, weights, dt):
    """The edges that see the current state (zero delay, non-zero weight), or `None` if
    there are none: decided now when the connectome and speed are concrete, also inside a
    user's `jax.jit` (where `lam` is traced), so the solver can skip them altogether."""
    current = (lam <= 0) & (weights != 0)
    if is_concrete(current):
        return current if bool(jnp.any(current)) else None
    conn = network.connectome
    if is_concrete(conn.lengths, conn.weights, network.speed):
        steps = np.asarray(conn.lengths) / np.asarray(network.speed) / dt
        # A margin over the rounding to whole steps at 0.5 (`lam` is float32).
        if not np.any((np.asarray(conn.weights) != 0) & (steps <= 0.5 + 1e-3)):
            return None
    return current


def _block_size(solver, shortest: float) -> int:
    # Every delayed sample a block reads must already be in the history: the block may not
    # be longer than the shortest non-zero delay (less a margin for RK4's mid stages).
    if solver.interpolate_delays:
        fits = math.ceil(shortest - 1e-9) - 1 if math.isfinite(shortest) else solver.max_block
    else:
        fits = math.floor(shortest + 0.5) if math.isfinite(shortest) else solver.max_block
    return max(1, min(solver.max_block, fits - solver.block_margin))


@jax.custom_jvp
def _whole_step_lags(delays):
    """The delays (in steps) rounded to whole steps, for integer-lag reads. Their derivative
    is zero, so a gradient with respect to `speed` or the lengths through them would be a
    silent zero: differentiating them raises instead."""
    return jnp.round(delays)


def _whole_step_lags_jvp(primals, tangents):
    (delays,), (tangent,) = primals, tangents
    if not isinstance(tangent, jax.custom_derivatives.SymbolicZero):
        # A warning, not an error: differentiating a whole model that holds a network
        # (`eqx.filter_grad`) takes this derivative too, and the rest of it is right.
        warnings.warn(
            "differentiating with respect to `speed` (or the tract lengths) through delays "
            "rounded to whole steps: that derivative is 0, not the real one. Read delays "
            "exactly with solver=massfit.Heun(interpolate_delays=True) (or Euler/RK4) to "
            "train or differentiate them; derivatives with respect to anything else are "
            "unaffected.",
            UserWarning,
            stacklevel=2,
        )
    lags = jnp.round(delays)
    return lags, jnp.zeros_like(lags)


_whole_step_lags.defjvp(_whole_step_lags_jvp, symbolic_zeros=True)


def _check_delays(network, interpolate, delays, weights, dt):
    """Check the delays (in steps) against the network's bounds and `dt`; return them and
    the delays the solver reads (rounded to whole steps unless interpolating)."""
    lam = delays if interpolate else _whole_step_lags(delays)
    on = weights != 0
    limit = network.max_delay / dt * (1 + 1e-5) + 1e-6
    too_long = jnp.any(on & (delays > limit))
    too_short = jnp.any(on & (delays > 0) & (delays < network.min_delay / dt * (1 - 1e-5)))
    within_step = jnp.any(on & (lam > 0) & (lam < 1))
    if is_concrete(delays, weights):
        if bool(too_long):
            longest = float(jnp.max(jnp.where(on, delays, 0))) * dt
            raise ValueError(
                f"the longest delay, {longest:.6g} ms, exceeds Network.max_delay = "
                f"{network.max_delay:.6g} ms{_speed_hint(network, 'max')}. {_BOUNDS_FIX}"
            )
        if bool(too_short):
            shortest = float(jnp.min(jnp.where(on & (delays > 0), delays, jnp.inf))) * dt
            raise ValueError(
                f"the shortest non-zero delay, {shortest:.6g} ms, is below Network.min_delay "
                f"= {network.min_delay:.6g} ms{_speed_hint(network, 'min')}. {_BOUNDS_FIX}"
            )
        if bool(within_step):
            raise ValueError(
                f"some delays are shorter than one step dt = {dt} ms but not zero (shortest "
                f"{float(jnp.min(jnp.where(on & (delays > 0), delays, jnp.inf))) * dt:.4g} ms); "
                "reading them needs a smaller dt."
            )
        rounded = on & (delays > 0)
        if not interpolate and bool(jnp.any(rounded)):
            err = jnp.max(jnp.where(rounded, jnp.abs(delays - lam), 0)) * dt
            shortest = float(jnp.min(jnp.where(rounded, delays, jnp.inf))) * dt
            if shortest < dt:
                warnings.warn(
                    f"dt = {dt} ms is larger than the shortest non-zero delay ({shortest:.4g} "
                    f"ms); delays are rounded to whole steps (largest rounding error "
                    f"{float(err):.3g} ms). Use a smaller dt.",
                    stacklevel=4,
                )
    else:
        delays = eqx.error_if(
            delays,
            too_long,
            f"a delay exceeds Network.max_delay = {network.max_delay:.6g} ms"
            f"{_speed_hint(network, 'max')}. {_BOUNDS_FIX}",
        )
        delays = eqx.error_if(
            delays,
            too_short,
            f"a delay is below Network.min_delay = {network.min_delay:.6g} ms"
            f"{_speed_hint(network, 'min')}. {_BOUNDS_FIX}",
        )
        delays = eqx.error_if(
            delays, within_step, "a non-zero delay is shorter than dt: reduce dt"
        )
        lam = delays if interpolate else _whole_step_lags(delays)
    return delays, lam


_BOUNDS_FIX = (
    "max_delay and min_delay are Network(...) arguments, fixed when the network is built "
    "(by default from its own speed): to change `speed` in a fit, search or sweep, build "
    "it with speed=massfit.Bounded(v, lower, upper) (the bounds then follow from the "
    "speed's bounds), or pass Network(..., max_delay=longest length / lowest speed, "
    "min_delay=shortest length / highest speed)."
)


def _speed_hint(network: Network, which: str) -> str:
    # The speed the bound allows, when the lengths are known now (they usually are, even
    # inside jit, where the speed is traced).
    conn = network.connectome
    if not is_concrete(conn.lengths, conn.weights):
        return ""
    on = (np.asarray(conn.weights) != 0) & (np.asarray(conn.lengths) > 0)
    if not on.any():
        return ""
    if which == "max":
        length, bound, side = float(np.asarray(conn.lengths)[on].max()), network.max_delay, ">="
    else:
        length, bound, side = float(np.asarray(conn.lengths)[on].min()), network.min_delay, "<="
    if not 0 < bound < math.inf:
        return ""
    tract = "longest" if which == "max" else "shortest"
    return (
        f": with the {tract} tract of {length:.6g} mm, `speed` must stay {side} "
        f"{length / bound:.6g} mm/ms"
    )
