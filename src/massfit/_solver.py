"""Fixed-step delay solvers for `diffrax.diffeqsolve`, carrying the delay history.

The network is integrated in *step units*: diffrax time `t` is the absolute step index and
every step has `dt0 = 1`; the vector field is scaled by `dt` (ms) and the noise by
`sqrt(dt)`. In float32 this keeps the step grid exact over long runs (DESIGN.md §4).

A delay solver keeps a `History` (ring buffer of the coupled variables) as its solver
state. Each stage reads the delayed samples it needs for its own stage time, and a
zero-delay edge sees the stage's own state, so each method keeps its order with delays.
"""

import abc
from collections.abc import Callable
from typing import ClassVar

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, Bool, Float, Int, PRNGKeyArray

from ._coupling import AbstractSummedCoupling
from ._history import History, StageReads
from ._network import Network
from ._noise import AbstractWhiteNoise, OrnsteinUhlenbeckNoise
from .observation._base import AbstractObserver, advance, ObserverCarry


class NetworkTerm(diffrax.AbstractTerm):
    """The network as a diffrax term, in step units, with what the delay solvers need.

    Built by `massfit.simulate`; its `vf` is the delay-free vector field (so a delay-free,
    noise-free network can also be solved by any diffrax solver).
    """

    network: Network
    dt: Float[Array, ""]
    key: PRNGKeyArray | None
    inputs: Callable
    reads: dict[float, StageReads]
    current: Bool[Array, "N N"] | None
    block: int = eqx.field(static=True)
    #: Observers advanced inside the solver step (`simulate(observers=...)`), by name.
    observers: dict[str, AbstractObserver] = eqx.field(default_factory=dict)
    #: The absolute step at which the run (and its observers' step count) starts.
    start: Int[Array, ""] | int = 0
    #: `dt` as the Python number the observers are given (as post hoc).
    dt_ms: float = eqx.field(static=True, default=1.0)

    def observe(self, observed: dict, states: Float[Array, "K V N"], first: Int[Array, ""], count):
        """Advance every observer over the first `count` sub-steps of a block, sub-step `q`
        being the run's step `first + q` (from 1) with state `states[q]`."""
        if not observed:
            return observed
        variables = self.network.node.variables
        dt = self.dt_ms
        out = {}
        for name, carry in observed.items():
            observer = self.observers[name]
            for q in range(states.shape[0]):
                x = observer.drive_of(states[q], variables)
                valid = q < count
                # A step past the end of a short last block never matches a sample step.
                new = advance(observer, carry, jnp.where(valid, first + q, -1), x, dt)
                kept = jax.tree.map(lambda a, b: jnp.where(valid, a, b), new.state, carry.state)
                carry = ObserverCarry(kept, new.samples, new.count, carry.steps)
            out[name] = carry
        return out

    def vf(self, t, y, args):
        state, eta = y
        inputs = self.inputs(t, 0.0, eta)
        coupling = self.network.instantaneous_coupling(state)
        d_state = self.network.drift(t * self.dt, state, coupling, inputs) * self.dt
        return d_state, jnp.zeros_like(eta)

    def contr(self, t0, t1, **kwargs):
        return t1 - t0

    def prod(self, vf, control):
        return jax.tree.map(lambda v: v * control, vf)

    # --- pieces used by the delay solvers -------------------------------------------

    def afferents(self, delayed: Float[Array, "C N N U"]):
        """What the stages of sub-steps `u = 0 ... U - 1` take from the history, stacked on
        a leading axis: for an `AbstractSummedCoupling`, the weighted afferent sums over the
        delayed edges, `(U, P, N)`, computed here once for the whole block; otherwise the
        delayed samples themselves, `(U, C, N, N)`."""
        coupling = self.network.coupling
        if not isinstance(coupling, AbstractSummedCoupling):
            return jnp.moveaxis(delayed, -1, 0)
        weights = self.network.connectome.weights
        if self.current is not None:
            weights = jnp.where(self.current, 0, weights)
        sums = _sum_sources(weights[:, :, None] * coupling.pre(delayed))
        return jnp.moveaxis(sums, -1, 0)

    def stage(self, t, theta: float, state, eta, afferent):
        """The drift (per ms) at stage time `t + theta` (steps), given this stage's slice of
        `afferents`; zero-delay edges see `state` itself."""
        net = self.network
        current = state[jnp.array(net.coupled_index)]
        weights = net.connectome.weights
        if isinstance(net.coupling, AbstractSummedCoupling):
            summed = afferent
            if self.current is not None:
                now = jnp.where(self.current, weights, 0)
                summed = summed + jnp.einsum("ij,pj->pi", now, net.coupling.pre(current))
            coupling = net.coupling.post(net.k, weights, summed, current)
        else:
            delayed = afferent
            if self.current is not None:
                delayed = jnp.where(self.current, current[:, None, :], delayed)
            coupling = net.coupling(net.k, weights, delayed, current)
        inputs = self.inputs(t, theta, eta)
        return net.drift((t + theta) * self.dt, state, coupling, inputs)

    def wiener_increments(self, step, count: int, state) -> Float[Array, "K M N"] | None:
        """`dW` of the white noise for the `count` steps from absolute `step` (`None` without
        white noise), drawn together: step `s`'s from `fold_in(fold_in(key, s), 0)`."""
        if not isinstance(self.network.noise, AbstractWhiteNoise):
            return None
        shape = (len(self.network.noise_index), state.shape[1])

        def draw(s):
            return jr.normal(jr.fold_in(jr.fold_in(self.key, s), 0), shape)

        steps = step + jnp.arange(count, dtype=jnp.asarray(step).dtype)
        return (jnp.sqrt(self.dt) * jax.vmap(draw)(steps)).astype(state.dtype)

    def white_noise(self, dw: Float[Array, "M N"] | None, state) -> Float[Array, "V N"]:
        """`g(X) dW` for one step, given its `dW` (zero without white noise)."""
        if dw is None:
            return jnp.zeros_like(state)
        idx = jnp.array(self.network.noise_index)
        g = self.network.noise.diffusion(state[idx])
        return jnp.zeros_like(state).at[idx].set(g * dw)

    def coloured_noise(self, step, eta):
        """Advance the Ornstein–Uhlenbeck input noise over one step."""
        noise = self.network.noise
        if not isinstance(noise, OrnsteinUhlenbeckNoise):
            return eta
        return noise.step(eta, self.dt, jr.fold_in(jr.fold_in(self.key, step), 1))


def _sum_sources(terms: Float[Array, "P N N U"]) -> Float[Array, "P N U"]:
    """`terms.sum(axis=2)`, by pairwise elementwise adds.

    Each sub-step's sums must not depend on its position `u` in the block, or a run cut
    into chunks would not repeat the whole run bit for bit. A contraction (`einsum`, a
    batched mat-vec) computes some columns `u` in its vector loop and others in its
    remainder loop, which round differently; elementwise adds round alike everywhere. They
    also avoid XLA:CPU's slow YNNPACK reduction fusions and a transpose of the samples.
    """
    while terms.shape[2] > 1:
        half = terms.shape[2] // 2
        summed = terms[:, :, :half] + terms[:, :, half : 2 * half]
        terms = jnp.concatenate([summed, terms[:, :, 2 * half :]], axis=2)
    return terms[:, :, 0]


def _network_term(terms) -> NetworkTerm:
    # diffeqsolve hands the solver its terms wrapped (e.g. in a `WrapTerm`).
    while not isinstance(terms, NetworkTerm):
        terms = terms.term
    return terms


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
    # 2x faster than `jnp.stack` (DESIGN.md §4).
    def __init__(self, count: int, like):
        self.array = jnp.zeros((count,) + like.shape, like.dtype)

    def set(self, q: int, value):
        self.array = self.array.at[q].set(value)


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
        # `args`: the delay history, or (history, observer carries) from `simulate`.
        history, observed = args if isinstance(args, tuple) else (args, {})
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


class Euler(AbstractDelaySolver):
    """Euler's method (Euler–Maruyama with noise) with delayed coupling. Order 1."""

    stage_times: ClassVar = (0.0,)

    def order(self, terms):
        return 1

    def strong_order(self, terms):
        return 0.5

    def advance(self, terms, t, state, eta, history):
        step, dt, k = history.step, terms.dt, terms.block
        afferents = terms.afferents(terms.reads[0.0].gather(history, k, dt))
        dws = terms.wiener_increments(step, k, state)
        states, etas = _Stack(k, state), _Stack(k, eta)
        for q in range(k):
            f0 = terms.stage(t + q, 0.0, state, eta, afferents[q])
            noise = terms.white_noise(None if dws is None else dws[q], state)
            eta = terms.coloured_noise(step + q, eta)
            state = state + dt * f0 + noise
            states.set(q, state)
            etas.set(q, eta)
        return states.array, etas.array, None, history


class Heun(AbstractDelaySolver):
    """Heun's method (explicit trapezoid) with delayed coupling. Order 2.

    The corrector stage, at `t + dt`, reads the delayed samples for its own time, and a
    zero-delay edge sees the predictor. This is TVB's stochastic Heun for additive noise.
    """

    stage_times: ClassVar = (0.0,)

    def order(self, terms):
        return 2

    def strong_order(self, terms):
        return 1.0 if terms.network.noise is None else 0.5

    def advance(self, terms, t, state, eta, history):
        step, dt, k = history.step, terms.dt, terms.block
        # Sub-step q reads position q (first stage) and q + 1 (second): one gather of k + 1.
        afferents = terms.afferents(terms.reads[0.0].gather(history, k + 1, dt))
        dws = terms.wiener_increments(step, k, state)
        states, etas = _Stack(k, state), _Stack(k, eta)
        for q in range(k):
            noise = terms.white_noise(None if dws is None else dws[q], state)
            new_eta = terms.coloured_noise(step + q, eta)
            f0 = terms.stage(t + q, 0.0, state, eta, afferents[q])
            predictor = state + dt * f0 + noise
            f1 = terms.stage(t + q, 1.0, predictor, new_eta, afferents[q + 1])
            state = state + 0.5 * dt * (f0 + f1) + noise
            eta = new_eta
            states.set(q, state)
            etas.set(q, eta)
        return states.array, etas.array, None, history


class RK4(AbstractDelaySolver):
    """The classical 4th-order Runge–Kutta method with delayed coupling. Order 4.

    Mid-step stages read delayed values by cubic Hermite interpolation (from the stored
    slopes), which keeps order 4. Zero-delay edges see each stage's own state. Delays
    between 0 and one step are not supported (use a smaller `dt`). With noise, the noise
    increment is added after the deterministic step (weak order 1); prefer `Heun` for SDEs.
    """

    stage_times: ClassVar = (0.0, 0.5)
    hermite: ClassVar = True
    block_margin: ClassVar = 1

    def order(self, terms):
        return 4

    def strong_order(self, terms):
        return 0.5

    def init_history(self, history: History) -> History:
        if history.slopes.shape != history.values.shape:
            # A history left by a solver that doesn't record slopes.
            history = eqx.tree_at(lambda h: h.slopes, history, jnp.zeros_like(history.values))
        return history

    def advance(self, terms, t, state, eta, history):
        step, dt, k = history.step, terms.dt, terms.block
        cidx = jnp.array(terms.network.coupled_index)
        ends = terms.afferents(terms.reads[0.0].gather(history, k + 1, dt))
        k1 = terms.stage(t, 0.0, state, eta, ends[0])
        # A one-step block's mid stages may read just before the current sample.
        history = history.set_slopes(k1[cidx][..., None])
        mids = terms.afferents(terms.reads[0.5].gather(history, k, dt))
        dws = terms.wiener_increments(step, k, state)
        states, etas, slopes = _Stack(k, state), _Stack(k, eta), []
        for q in range(k):
            new_eta = terms.coloured_noise(step + q, eta)
            mid_eta = 0.5 * (eta + new_eta)
            if q > 0:
                k1 = terms.stage(t + q, 0.0, state, eta, ends[q])
            k2 = terms.stage(t + q, 0.5, state + 0.5 * dt * k1, mid_eta, mids[q])
            k3 = terms.stage(t + q, 0.5, state + 0.5 * dt * k2, mid_eta, mids[q])
            k4 = terms.stage(t + q, 1.0, state + dt * k3, new_eta, ends[q + 1])
            noise = terms.white_noise(None if dws is None else dws[q], state)
            state = state + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4) + noise
            eta = new_eta
            slopes.append(k1[cidx])
            states.set(q, state)
            etas.set(q, eta)
        return states.array, etas.array, jnp.stack(slopes, axis=-1), history
