"""The network as a diffrax term, in step units, with the pieces the delay solvers use."""

from collections.abc import Callable

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float, Int, PRNGKeyArray

from .._network import Network
from .._noise import AbstractNoise, NoNoise
from ..observation._base import (
    AbstractObserver,
    advance,
    advance_block,
    at_most_one_sample_per,
    ObserverCarry,
)
from ._history import StageReads


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
    #: Whether the solve runs under a reverse-only adjoint (`RecursiveCheckpointAdjoint`):
    #: then the delayed reads use a transpose that keeps one scalar per block, not `N * N`
    #: indices (see `StageReads.gather`).
    reverse_only: bool = eqx.field(static=True, default=False)

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
            if at_most_one_sample_per(observer, states.shape[0], dt):
                xs = jnp.stack([observer.drive_of(s, variables) for s in states])
                out[name] = advance_block(observer, carry, first, xs, count, dt)
                continue
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
        inputs = self.inputs(t, 0.0, self.noise.input_value(eta))
        coupling = self.network.instantaneous_coupling(state)
        d_state = self.network.drift(t * self.dt, state, coupling, inputs) * self.dt
        return d_state, jnp.zeros_like(eta)

    def contr(self, t0, t1, **kwargs):
        return t1 - t0

    def prod(self, vf, control):
        return jax.tree.map(lambda v: v * control, vf)

    # --- pieces used by the delay solvers -------------------------------------------

    def delayed(self, theta: float, history, count: int) -> Float[Array, "C N N U"]:
        """The delayed samples that the stages at `theta` of `count` consecutive sub-steps read
        (see `StageReads.gather`)."""
        return self.reads[theta].gather(history, count, self.dt, self.reverse_only)

    def afferents(self, delayed: Float[Array, "C N N U"]):
        """What the stages of sub-steps `u = 0 ... U - 1` take from the history, stacked on
        a leading axis (the coupling decides what: see `AbstractCoupling.afferents`)."""
        net = self.network
        return net.coupling.afferents(net.connectome.weights, self.current, delayed)

    def stage(self, t, theta: float, state, eta, afferent):
        """The drift (per ms) at stage time `t + theta` (steps), given this stage's slice of
        `afferents`; zero-delay edges see `state` itself."""
        net = self.network
        current = state[jnp.array(net.coupled_index)]
        weights = net.connectome.weights
        coupling = net.coupling.apply(net.k, weights, self.current, afferent, current)
        inputs = self.inputs(t, theta, self.noise.input_value(eta))
        return net.drift((t + theta) * self.dt, state, coupling, inputs)

    @property
    def noise(self) -> AbstractNoise:
        """The network's noise (`NoNoise()` without)."""
        return NoNoise() if self.network.noise is None else self.network.noise

    def wiener_increments(self, step, count: int, state) -> Float[Array, "K M N"] | None:
        """`dW` of the white noise for the `count` steps from absolute `step` (`None` without
        white noise), drawn together."""
        shape = (len(self.network.noise_index), state.shape[1])
        return self.noise.increments(self.key, step, count, self.dt, shape, state.dtype)

    def white_noise(self, dw: Float[Array, "M N"] | None, state) -> Float[Array, "V N"]:
        """`g(X) dW` for one step, given its `dW` (zero without white noise)."""
        return self.noise.state_noise(dw, state, self.network.noise_index)

    def input_draws(self, step, count: int, eta):
        """The random numbers of the input (coloured) noise for the `count` steps from
        absolute `step`, drawn together (`None` without input noise)."""
        return self.noise.input_draws(self.key, step, count, eta)

    def coloured_noise(self, draw, eta):
        """Advance the Ornstein–Uhlenbeck input noise over one step, given that step's slice
        of `input_draws`."""
        return self.noise.advance_input(eta, self.dt, draw)


def _network_term(terms) -> NetworkTerm:
    # diffeqsolve hands the solver its terms wrapped (e.g. in a `WrapTerm`).
    while not isinstance(terms, NetworkTerm):
        terms = terms.term
    return terms
