"""Fixed-step delay solvers for `diffrax.diffeqsolve`, carrying the delay history.

The network is integrated in *step units*: diffrax time `t` is the absolute step index and
every step has `dt0 = 1`; the vector field is scaled by `dt` (ms) and the noise by
`sqrt(dt)`. In float32 this keeps the step grid exact over long runs
(docs/design.md, "Step units").

A delay solver keeps a `History` (ring buffer of the coupled variables) as its solver
state. Each stage reads the delayed samples it needs for its own stage time, and a
zero-delay edge sees the stage's own state, so each method keeps its order with delays.
"""

import abc
from typing import ClassVar

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, Int

from ..observation._base import ObserverCarry
from ._history import History
from ._term import _network_term, NetworkTerm


class _BlockInterpolation(diffrax.AbstractLocalInterpolation):
    # The states at the whole steps of a block, exactly (save times are whole steps, though
    # diffrax's step ends can be off by rounding), and linear in between.
    t0: Float[Array, ""]
    t1: Float[Array, ""]
    y0: object
    ys: object  # the K sub-step states, stacked

    def evaluate(self, t0, t1=None, left: bool = True):
        if t1 is not None:
            return jax.tree.map(lambda a, b: a - b, self.evaluate(t1), self.evaluate(t0))
        rel = t0 - self.t0
        nearest = jnp.round(rel)
        snap = jnp.abs(rel - nearest) < 0.25
        lo = jnp.where(snap, nearest, jnp.floor(rel))
        w = jnp.where(snap, 0.0, rel - lo)

        def interp(a, b):
            states = jnp.concatenate([a[None], b])
            i = jnp.clip(lo, 0, b.shape[0]).astype(jnp.int32)
            j = jnp.minimum(i + 1, b.shape[0])
            return states[i] + w.astype(a.dtype) * (states[j] - states[i])

        return jax.tree.map(interp, self.y0, self.ys)


class _Stack:
    # The sub-step states of a block, stacked: writing each into a preallocated array was
    # 2x faster than `jnp.stack` (docs/design.md, "The delay solver").
    def __init__(self, count: int, like):
        self.array = jnp.zeros((count,) + like.shape, like.dtype)

    def set(self, q: int, value):
        self.array = jax.lax.dynamic_update_index_in_dim(self.array, value, q, axis=0)


class Divergence(eqx.Module):
    """Where a run first left the finite numbers: the absolute `step` of the first non-finite
    state and its `region` (both `-1` while the state is finite). Recorded by the delay
    solvers block by block, so it works under `jit` and `vmap`."""

    step: Int[Array, ""]
    region: Int[Array, ""]

    @classmethod
    def check(cls, states: Float[Array, "K V N"], first_step, count=None) -> "Divergence":
        """The first non-finite state among the first `count` of `states` (all if `None`),
        the `q`-th of which is at step `first_step + q`."""
        bad = ~jnp.isfinite(states)
        per_step = jnp.any(bad, axis=(1, 2))
        if count is not None:
            per_step = per_step & (jnp.arange(states.shape[0]) < count)
        q = jnp.argmax(per_step)
        region = jnp.argmax(jnp.any(bad[q], axis=0))
        found = jnp.any(per_step)
        first_step = jnp.asarray(first_step)
        never = jnp.asarray(-1, first_step.dtype)
        return cls(
            jnp.where(found, first_step + q.astype(first_step.dtype), never),
            jnp.where(found, region.astype(first_step.dtype), never),
        )

    def then(self, later: "Divergence") -> "Divergence":
        """This divergence if there was one, else `later`."""
        seen = self.region >= 0
        return Divergence(
            jnp.where(seen, self.step, later.step), jnp.where(seen, self.region, later.region)
        )


class DelaySolverState(eqx.Module):
    """The state a delay solver carries from block to block: the delay `history` and the
    `divergence` record."""

    history: History
    divergence: Divergence
    observed: dict[str, ObserverCarry] = eqx.field(default_factory=dict)


class AbstractDelaySolver(diffrax.AbstractSolver):
    """A fixed-step Runge–Kutta method for delay-coupled networks.

    Use it through `massfit.simulate`. One diffrax step advances a *block* of `K` steps of
    size `dt`, where `K` is at most `max_block` and small enough that every delayed sample
    the block needs is already in the history (`K` ≤ the shortest non-zero delay in steps):
    all of them are read in one gather, then the sub-steps run as plain elementwise code.
    The result is the same as stepping one `dt` at a time.

    White noise is Itô: it enters as `g(X_n) dW_n` in every method (Euler–Maruyama for the
    noise part); with additive noise Heun has strong order 1.

    **Arguments:**

    - `interpolate_delays`: read delayed values at the exact delay by interpolating between
        steps (needed for a gradient with respect to `speed` or lengths). `False` (default)
        rounds each delay to the nearest whole step.
    - `max_block`: the largest number of steps per block; 1 steps one `dt` at a time.
    """

    interpolate_delays: bool = eqx.field(default=False, static=True)
    max_block: int = eqx.field(default=8, static=True)

    term_structure: ClassVar = NetworkTerm
    interpolation_cls: ClassVar = _BlockInterpolation
    #: Stage times within a step, in steps.
    stage_times: ClassVar[tuple[float, ...]]
    #: Whether delayed reads between grid points need cubic Hermite interpolation.
    hermite: ClassVar[bool] = False
    #: How many steps shorter than the shortest delay a block must be.
    block_margin: ClassVar[int] = 0

    def __check_init__(self):
        if not (isinstance(self.max_block, int) and self.max_block >= 1):
            raise ValueError(f"`max_block` must be an integer >= 1; got {self.max_block!r}.")

    def init(self, terms, t0, t1, y0, args) -> DelaySolverState:
        # `args`, from `simulate`: the delay history and the observers' carries (or {}).
        history, observed = args
        history = self.init_history(history)
        # A non-finite start counts as a divergence at the start time.
        divergence = Divergence.check(y0[0][None], history.step)
        return DelaySolverState(history, divergence, observed)

    def init_history(self, history: History) -> History:
        if not self.hermite:
            # Only cubic Hermite reads use the slopes: don't carry them through the run.
            history = eqx.tree_at(lambda h: h.slopes, history, history.slopes[..., :0])
        return history

    def func(self, terms, t0, y0, args):
        return terms.vf(t0, y0, args)

    def step(self, terms, t0, t1, y0, args, solver_state, made_jump):
        del args, made_jump
        terms = _network_term(terms)
        history, divergence = solver_state.history, solver_state.divergence
        state, eta = y0
        states, etas, slopes, history = self.advance(terms, t0, state, eta, history)
        # The last block of a run may be short: keep only its first `count` sub-steps (the
        # rest would overwrite samples and slopes still needed: a chunked run must repeat
        # the whole run bit for bit).
        count = jnp.round(t1 - t0).astype(history.step.dtype)
        divergence = divergence.then(Divergence.check(states, history.step + 1, count))
        first = history.step - terms.start + 1
        observed = terms.observe(solver_state.observed, states, first, count)
        cidx = jnp.array(terms.network.coupled_index)
        history = eqx.tree_at(lambda h: h.noise, history, etas[count - 1])
        if slopes is not None:
            history = history.set_slopes(slopes, count)
        history = history.push(jnp.moveaxis(states[:, cidx], 0, -1), count)
        y1 = (states[count - 1], etas[count - 1])
        dense = dict(y0=y0, ys=(states, etas))
        state = DelaySolverState(history, divergence, observed)
        return y1, None, dense, state, diffrax.RESULTS.successful

    @abc.abstractmethod
    def advance(self, terms: NetworkTerm, t, state, eta, history: History):
        """Advance `terms.block` steps from `t` (steps): returns the stacked states and
        coloured-noise states after each sub-step, the slopes `(C, N, K)` just after samples
        `step ... step + K - 1` to record (or `None`), and the history (not yet holding the
        new samples and slopes: `step` records the valid ones)."""
