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
from jaxtyping import Array, Float, PRNGKeyArray

from ._history import History, StageReads
from ._network import Network
from ._noise import AbstractWhiteNoise, OrnsteinUhlenbeckNoise


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

    def stage(self, theta: float, t, state, eta, history: History):
        """The drift (per ms) at stage time `t + theta` (steps), with delayed coupling."""
        cidx = jnp.array(self.network.coupled_index)
        delayed = self.reads[theta].read(history, state[cidx], self.dt)
        net = self.network
        coupling = net.coupling(net.k, net.connectome.weights, delayed, state[cidx])
        inputs = self.inputs(t, theta, eta)
        return net.drift((t + theta) * self.dt, state, coupling, inputs)

    def white_noise(self, step, state) -> Float[Array, "V N"]:
        """`g(X) dW` for the step starting at absolute `step` (zero without white noise)."""
        noise = self.network.noise
        if not isinstance(noise, AbstractWhiteNoise):
            return jnp.zeros_like(state)
        idx = jnp.array(self.network.noise_index)
        k = jr.fold_in(jr.fold_in(self.key, step), 0)
        dw = jnp.sqrt(self.dt) * jr.normal(k, (len(self.network.noise_index), state.shape[1]))
        g = noise.diffusion(state[idx])
        return jnp.zeros_like(state).at[idx].set(g * dw.astype(state.dtype))

    def coloured_noise(self, step, eta):
        """Advance the Ornstein–Uhlenbeck input noise over one step."""
        noise = self.network.noise
        if not isinstance(noise, OrnsteinUhlenbeckNoise):
            return eta
        return noise.step(eta, self.dt, jr.fold_in(jr.fold_in(self.key, step), 1))


def _network_term(terms) -> NetworkTerm:
    # diffeqsolve hands the solver its terms wrapped (e.g. in a `WrapTerm`).
    while not isinstance(terms, NetworkTerm):
        terms = terms.term
    return terms


class _GridInterpolation(diffrax.AbstractLocalInterpolation):
    # Linear between the ends of a step, and *exactly* the end values near the grid points
    # (save times are whole steps, but diffrax's step ends can be off by rounding), so saving
    # reproduces the solver's states bit for bit.
    t0: Float[Array, ""]
    t1: Float[Array, ""]
    y0: object
    y1: object

    def evaluate(self, t0, t1=None, left: bool = True):
        if t1 is not None:
            return jax.tree.map(lambda a, b: a - b, self.evaluate(t1), self.evaluate(t0))
        w = (t0 - self.t0) / (self.t1 - self.t0)
        at_end = jnp.abs(t0 - self.t1) < 0.25
        at_start = jnp.abs(t0 - self.t0) < 0.25

        def interp(a, b):
            mid = a + w.astype(a.dtype) * (b - a)
            return jnp.where(at_end, b, jnp.where(at_start, a, mid))

        return jax.tree.map(interp, self.y0, self.y1)


class AbstractDelaySolver(diffrax.AbstractSolver):
    """A fixed-step Runge–Kutta method for delay-coupled networks.

    Use it through `massfit.simulate` (or `diffrax.diffeqsolve` with a `NetworkTerm`,
    `dt0=1`, a `ConstantStepSize` controller, and the initial `History` in `args`). White
    noise is Itô: it enters as `g(X_n) dW_n` in every method (Euler–Maruyama for the noise
    part); with additive noise Heun has strong order 1.

    **Arguments:**

    - `interpolate_delays`: read delayed values at the exact delay by interpolating between
        steps (needed for a gradient with respect to `speed` or lengths). `False` (default)
        rounds each delay to the nearest whole step.
    """

    interpolate_delays: bool = eqx.field(default=False, static=True)

    term_structure: ClassVar = NetworkTerm
    interpolation_cls: ClassVar = _GridInterpolation
    #: Stage times within a step, in steps.
    stage_times: ClassVar[tuple[float, ...]]
    #: Whether delayed reads between grid points need cubic Hermite interpolation.
    hermite: ClassVar[bool] = False

    def init(self, terms, t0, t1, y0, args) -> History:
        return args

    def func(self, terms, t0, y0, args):
        return terms.vf(t0, y0, args)

    def step(self, terms, t0, t1, y0, args, solver_state, made_jump):
        del args, made_jump
        terms = _network_term(terms)
        history: History = solver_state
        state, eta = y0
        new_state, new_eta, history = self.advance(terms, t0, state, eta, history)
        cidx = jnp.array(terms.network.coupled_index)
        history = eqx.tree_at(lambda h: h.noise, history, new_eta).push(new_state[cidx])
        y1 = (new_state, new_eta)
        dense = dict(y0=y0, y1=y1)
        return y1, None, dense, history, diffrax.RESULTS.successful

    @abc.abstractmethod
    def advance(self, terms: NetworkTerm, t, state, eta, history: History):
        """One step from `t` (steps): returns `(state, eta, history)` at `t + 1`; `history`
        may record slopes but not the new sample (pushed by `step`)."""


class Euler(AbstractDelaySolver):
    """Euler's method (Euler–Maruyama with noise) with delayed coupling. Order 1."""

    stage_times: ClassVar = (0.0,)

    def order(self, terms):
        return 1

    def strong_order(self, terms):
        return 0.5

    def advance(self, terms, t, state, eta, history):
        step = history.step
        f0 = terms.stage(0.0, t, state, eta, history)
        new = state + terms.dt * f0 + terms.white_noise(step, state)
        return new, terms.coloured_noise(step, eta), history


class Heun(AbstractDelaySolver):
    """Heun's method (explicit trapezoid) with delayed coupling. Order 2.

    The corrector stage, at `t + dt`, reads the delayed samples for its own time, and a
    zero-delay edge sees the predictor. This is TVB's stochastic Heun for additive noise.
    """

    stage_times: ClassVar = (0.0, 1.0)

    def order(self, terms):
        return 2

    def strong_order(self, terms):
        return 1.0 if terms.network.noise is None else 0.5

    def advance(self, terms, t, state, eta, history):
        step = history.step
        noise = terms.white_noise(step, state)
        new_eta = terms.coloured_noise(step, eta)
        f0 = terms.stage(0.0, t, state, eta, history)
        predictor = state + terms.dt * f0 + noise
        f1 = terms.stage(1.0, t, predictor, new_eta, history)
        new = state + 0.5 * terms.dt * (f0 + f1) + noise
        return new, new_eta, history


class RK4(AbstractDelaySolver):
    """The classical 4th-order Runge–Kutta method with delayed coupling. Order 4.

    Mid-step stages read delayed values by cubic Hermite interpolation (from the stored
    slopes), which keeps order 4. Zero-delay edges see each stage's own state. Delays
    between 0 and one step are not supported (use a smaller `dt`). With noise, the noise
    increment is added after the deterministic step (weak order 1); prefer `Heun` for SDEs.
    """

    stage_times: ClassVar = (0.0, 0.5, 1.0)
    hermite: ClassVar = True

    def order(self, terms):
        return 4

    def strong_order(self, terms):
        return 0.5

    def advance(self, terms, t, state, eta, history):
        step = history.step
        dt = terms.dt
        new_eta = terms.coloured_noise(step, eta)
        mid_eta = 0.5 * (eta + new_eta)
        k1 = terms.stage(0.0, t, state, eta, history)
        cidx = jnp.array(terms.network.coupled_index)
        history = history.set_slope(k1[cidx])
        k2 = terms.stage(0.5, t, state + 0.5 * dt * k1, mid_eta, history)
        k3 = terms.stage(0.5, t, state + 0.5 * dt * k2, mid_eta, history)
        k4 = terms.stage(1.0, t, state + dt * k3, new_eta, history)
        new = state + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4) + terms.white_noise(step, state)
        return new, new_eta, history
