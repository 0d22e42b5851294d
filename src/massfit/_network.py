"""The network: node model + coupling + connectome + conduction speed + noise."""

import math

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ._connectome import Connectome
from ._coupling import AbstractCoupling, Diffusive
from ._custom_types import Parameter, State
from ._errors import check_range, eager_constants, is_concrete
from ._models import AbstractNodeModel, as_param
from ._noise import AbstractInputNoise, AbstractNoise
from ._params import Bounded


class Network(eqx.Module):
    r"""A whole-brain network: one node model per region, coupled through a connectome with
    conduction delays `lengths / speed`.

    Region `i` receives, on each coupled variable `c`,
    $\mathrm{coupling}(k, W, x_c(t - d), x_c(t))_i$ with $d_{ij} = \ell_{ij} / v$, added to
    the input row of that variable (see `AbstractNodeModel`).

    A `Network` is an ordinary immutable `equinox.Module`: change it with `eqx.tree_at`, put
    it inside your own Module, `vmap` over a batch of them.

    **Arguments:**

    - `node`: the node model (an `AbstractNodeModel`); its parameters may be scalars or
        per-region `(N,)` arrays.
    - `connectome`: the `Connectome` (`weights[i, j]` from `j` to `i`; lengths in mm).
    - `coupling`: the coupling function; default `Diffusive()`.
    - `k`: global coupling strength (dimensionless scale of the coupling).
    - `speed`: conduction speed, mm/ms (= m/s). Required when any tract length is non-zero;
        `None` with all-zero lengths means no delays.
    - `coupled`: names of the node's state variables that are coupled; default the node's
        `coupled_variables`.
    - `noise`: an `AdditiveNoise`, `MultiplicativeNoise`, `OrnsteinUhlenbeckNoise` or
        `PowerLawNoise`, or `None`.
    - `max_delay`: the longest delay the delay history must hold, ms (static). By default
        the longest delay of a non-zero edge, computed here from the concrete lengths and
        speed; with `speed=massfit.Bounded(v, lower, upper)`, the longest length divided by
        `lower`. Give it when you will change `speed` (or lengths) in a search, a sweep or
        with `eqx.tree_at` to values that make delays longer; a run whose delays exceed it
        raises.
    - `min_delay`: a lower bound on the non-zero delays, ms (static); the solver advances
        up to this many ms at a time between reads of the history, so it sets the speed of
        a run. By default the shortest non-zero delay of a non-zero edge (`inf` if none);
        with a `Bounded` speed, the shortest non-zero length divided by `upper`; `0` when
        lengths or speed are traced or otherwise constrained. Lower it when you will change
        `speed` (or lengths) towards shorter delays; a run with a shorter delay raises.

    **Example:**

    ```python
    net = massfit.Network(massfit.Hopf(a=-0.05), conn, k=0.6, speed=10.0, coupled=("x",))
    traj = massfit.simulate(net, duration=1000.0, dt=0.1)
    ```
    """

    node: AbstractNodeModel
    connectome: Connectome
    coupling: AbstractCoupling
    k: Parameter
    speed: Parameter
    noise: AbstractNoise | None
    coupled: tuple[str, ...] = eqx.field(static=True)
    max_delay: float = eqx.field(static=True)
    min_delay: float = eqx.field(static=True)

    @eager_constants
    def __init__(
        self,
        node: AbstractNodeModel,
        connectome: Connectome,
        coupling: AbstractCoupling | None = None,
        *,
        k: Parameter | float = 1.0,
        speed: Parameter | float | None = None,
        coupled: tuple[str, ...] | list[str] | str | None = None,
        noise: AbstractNoise | None = None,
        max_delay: float | None = None,
        min_delay: float | None = None,
    ):
        if not isinstance(node, AbstractNodeModel):
            raise TypeError(
                f"`node` must be a massfit node model (an AbstractNodeModel); got "
                f"{type(node).__name__}."
            )
        if not isinstance(connectome, Connectome):
            raise TypeError(
                "`connectome` must be a massfit.Connectome (build one with "
                f"`massfit.Connectome(weights, lengths)`); got {type(connectome).__name__}."
            )
        coupling = Diffusive() if coupling is None else coupling
        if not isinstance(coupling, AbstractCoupling):
            raise TypeError(
                f"`coupling` must be a massfit coupling (an AbstractCoupling); got "
                f"{type(coupling).__name__}."
            )
        if noise is not None and not isinstance(noise, AbstractNoise):
            raise TypeError(
                f"`noise` must be a massfit noise model or None; got {type(noise).__name__}."
            )
        if coupled is None:
            coupled = node.coupled_variables
        elif isinstance(coupled, str):
            coupled = (coupled,)
        coupled = tuple(coupled)
        if len(coupled) == 0:
            raise ValueError("`coupled` must name at least one state variable; got ().")
        for name in coupled:
            node.variable_index(name)
        if noise is not None and noise.variables is not None:
            for name in noise.variables:
                node.variable_index(name)

        lengths_concrete = is_concrete(connectome.lengths)
        if speed is None:
            if lengths_concrete and np.any(np.asarray(connectome.lengths) > 0):
                raise ValueError(
                    "`speed` (conduction speed, mm/ms) is required: the connectome has "
                    "non-zero tract lengths. Pass e.g. speed=10.0, or zero the lengths for "
                    "a network without delays."
                )
            speed = jnp.inf
        speed = as_param(speed)
        check_range("Network", "speed", speed, lower=0.0)
        k = as_param(k)

        n = connectome.n_regions
        for name, value in _array_fields(node):
            if value.ndim > 1 or (value.ndim == 1 and value.shape[0] != n):
                raise ValueError(
                    f"{type(node).__name__}.{name} must be a scalar or have shape ({n},) "
                    f"(one value per region); got shape {value.shape}."
                )

        concrete = lengths_concrete and is_concrete(connectome.weights)
        slowest, fastest = _speed_range(speed) if concrete else (None, None)
        if max_delay is None:
            if slowest is None:
                raise ValueError(
                    "`max_delay` (ms) is needed: the lengths or speed are traced or "
                    "constrained without a positive lower bound, so the delay history length "
                    "can't be read off them. Pass Network(..., max_delay=...) at least the "
                    "longest delay you will simulate (longest length / lowest speed), or give "
                    "speed=massfit.Bounded(v, lower, upper) with lower > 0. (Under jit, arrays "
                    "made with jax.numpy are traced: build the Connectome outside, or from "
                    "NumPy arrays, to keep it concrete.)"
                )
            max_delay = _longest_delay(connectome, slowest)
        max_delay = float(max_delay)
        if not math.isfinite(max_delay) or max_delay < 0:
            raise ValueError(f"`max_delay` must be a finite delay >= 0 ms; got {max_delay}.")
        if min_delay is None:
            min_delay = 0.0 if fastest is None else _shortest_delay(connectome, fastest)
        min_delay = float(min_delay)
        if not min_delay >= 0:
            raise ValueError(f"`min_delay` must be a delay >= 0 ms; got {min_delay}.")

        self.node = node
        self.connectome = connectome
        self.coupling = coupling
        self.k = k
        self.speed = speed
        self.noise = noise
        self.coupled = coupled
        self.max_delay = max_delay
        self.min_delay = min_delay

    @property
    def n_regions(self) -> int:
        return self.connectome.n_regions

    @property
    def coupled_index(self) -> tuple[int, ...]:
        """Rows of the coupled variables in the `(V, N)` state."""
        return tuple(self.node.variable_index(name) for name in self.coupled)

    @property
    def noise_index(self) -> tuple[int, ...]:
        """Rows of the state variables the noise acts on (empty without noise)."""
        if self.noise is None:
            return ()
        if self.noise.variables is None:
            if isinstance(self.noise, AbstractInputNoise):
                return self.coupled_index
            return tuple(range(len(self.node.variables)))
        return tuple(self.node.variable_index(name) for name in self.noise.variables)

    def delays(self) -> Float[Array, "N N"]:
        """Conduction delays in ms, `lengths / speed`."""
        return self.connectome.lengths / self.speed

    def drift(self, t, state: State, coupling: Float[Array, "C N"], inputs: State) -> State:
        """The network vector field: node dynamics with the coupling added to the input rows
        of the coupled variables. `t` in ms; per ms."""
        inputs = inputs.at[jnp.array(self.coupled_index)].add(coupling)
        return self.node.vector_field(t, state, inputs)

    def instantaneous_coupling(self, state: State) -> Float[Array, "C N"]:
        """The coupling with every delay set to zero (what a delay-free network sees)."""
        current = state[jnp.array(self.coupled_index)]
        delayed = jnp.broadcast_to(current[:, None, :], current.shape[:1] + self.weights_shape)
        return self.coupling(self.k, self.connectome.weights, delayed, current)

    @property
    def weights_shape(self) -> tuple[int, int]:
        return self.connectome.weights.shape


def _array_fields(node):
    for name in node.__dataclass_fields__:
        value = getattr(node, name, None)
        if isinstance(value, Array) and not isinstance(value, eqx.Module):
            yield name, value


def _speed_range(speed) -> tuple:
    """The lowest and highest speed a run may take, mm/ms, when known now: a concrete speed
    itself, the bounds of a `Bounded` speed (`None` for a bound that isn't positive and
    finite, or for anything traced or otherwise constrained)."""
    if isinstance(speed, Bounded):
        if not is_concrete(speed.lower, speed.upper):
            return None, None
        lower, upper = float(np.min(speed.lower)), float(np.max(speed.upper))
        return (lower if lower > 0 else None), upper
    if isinstance(speed, eqx.Module) or not is_concrete(speed):
        return None, None
    return speed, speed


def _shortest_delay(connectome: Connectome, speed) -> float:
    w = np.asarray(connectome.weights)
    lengths = np.asarray(connectome.lengths)[(w != 0) & (np.asarray(connectome.lengths) > 0)]
    if lengths.size == 0:
        return math.inf
    return float(lengths.min() / np.asarray(speed))


def _longest_delay(connectome: Connectome, speed) -> float:
    w = np.asarray(connectome.weights)
    lengths = np.asarray(connectome.lengths)[w != 0]
    if lengths.size == 0:
        return 0.0
    return float(lengths.max() / np.asarray(speed))
