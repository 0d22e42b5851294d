"""Noise: additive and multiplicative white noise, and Ornstein–Uhlenbeck input noise.

All noise is in the Itô sense, `dX = f(X) dt + g(X) dW`, with `W` a standard Wiener process
(`Var W(t) = t`, t in ms), so `sigma` has units of the state variable per sqrt(ms). The
solvers draw the increment of step `s` from `jax.random.fold_in(key, s)`: a run is
reproducible from its key, and chunking a run into pieces gives the same numbers.
"""

import abc

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, Float, PRNGKeyArray

from ._custom_types import Parameter
from ._errors import check_range
from ._models import param


class AbstractNoise(eqx.Module):
    """Base class of the noise models.

    `variables` names the state variables the noise acts on (`None`: every variable for
    white noise, the node's coupled variables for input noise).
    """

    variables: eqx.AbstractVar[tuple[str, ...] | None]

    @abc.abstractmethod
    def increments(
        self, key: PRNGKeyArray, step, count: int, dt: Float[Array, ""], shape, dtype
    ) -> Float[Array, "K M N"] | None:
        """The Wiener increments `dW` (of variance `dt`) of the `count` steps from absolute
        `step`, drawn together, each `(M, N)` = `shape`; `None` if this noise has none."""

    @abc.abstractmethod
    def state_noise(
        self, dw: Float[Array, "M N"] | None, state: Float[Array, "V N"], rows: tuple[int, ...]
    ) -> Float[Array, "V N"]:
        """What enters the state over one step, given its `dW` (from `increments`), on the
        state `rows` this noise acts on."""

    def input_draws(
        self, key: PRNGKeyArray | None, step, count: int, eta: Float[Array, "K N"]
    ) -> Float[Array, "S K N"] | None:
        """The random numbers the input noise uses over the `count` steps from absolute
        `step`, drawn together (one call per block, like `increments`); `None` (default) if
        this noise has no input noise."""
        return None

    @abc.abstractmethod
    def advance_input(
        self, eta: Float[Array, "K N"], dt: Float[Array, ""], draw: Float[Array, "K N"] | None
    ) -> Float[Array, "K N"]:
        """The input-noise state `eta` after one step, given that step's slice of
        `input_draws` (`eta` itself if this noise has none)."""

    def input_state_rows(self, n_rows: int) -> int:
        """How many rows (each `(N,)`) the input-noise state has when the noise drives
        `n_rows` state variables' inputs; 0 (default) without input noise."""
        return 0

    def initial_input_state(
        self, key: PRNGKeyArray | None, n_rows: int, n_regions: int, dt, dtype
    ) -> Float[Array, "R N"]:
        """The input-noise state at the start of a run (drawn from its stationary
        distribution where it has one), shape `(input_state_rows(n_rows), N)`."""
        return jnp.zeros((self.input_state_rows(n_rows), n_regions), dtype)

    def input_value(self, eta: Float[Array, "R N"]) -> Float[Array, "K N"]:
        """What the input-noise state adds to the inputs of the `K` rows it drives."""
        return eta


class NoNoise(AbstractNoise):
    """No noise: nothing enters. What the solvers use for a network without noise."""

    variables: None = None

    def increments(self, key, step, count, dt, shape, dtype):
        return None

    def state_noise(self, dw, state, rows):
        return jnp.zeros_like(state)

    def advance_input(self, eta, dt, draw):
        return eta


class AbstractWhiteNoise(AbstractNoise):
    """White noise entering the state equations directly: `g(X) dW`."""

    @abc.abstractmethod
    def diffusion(self, state: Float[Array, "V N"]) -> Float[Array, "V N"]:
        """`g(X)`, elementwise, for the rows this noise acts on (others are masked out)."""

    def increments(self, key, step, count, dt, shape, dtype):
        # Step `s`'s increment from `fold_in(fold_in(key, s), 0)`.
        def draw(s):
            return jr.normal(jr.fold_in(jr.fold_in(key, s), 0), shape)

        steps = step + jnp.arange(count, dtype=jnp.asarray(step).dtype)
        return (jnp.sqrt(dt) * jax.vmap(draw)(steps)).astype(dtype)

    def state_noise(self, dw, state, rows):
        idx = jnp.array(rows)
        g = self.diffusion(state[idx])
        return jnp.zeros_like(state).at[idx].set(g * dw)

    def advance_input(self, eta, dt, draw):
        return eta


class AdditiveNoise(AbstractWhiteNoise):
    r"""Additive white noise: $dX_v = f_v\,dt + \sigma\,dW_v$.

    The stationary variance of a linear node $\dot x = -\gamma x$ driven by it is
    $\sigma^2 / (2\gamma)$, whatever the step size.

    **Arguments:**

    - `sigma`: noise intensity, state units per sqrt(ms). A scalar, or `(N,)` per region.
    - `variables`: the state variables that receive noise; `None` for all.
    """

    sigma: Parameter = param(0.01)
    variables: tuple[str, ...] | None = eqx.field(default=None, static=True)

    def __check_init__(self):
        check_range("AdditiveNoise", "sigma", self.sigma, lower=0.0, strict=False)

    def diffusion(self, state):
        return jnp.broadcast_to(self.sigma, state.shape)


class MultiplicativeNoise(AbstractWhiteNoise):
    r"""Multiplicative (geometric) white noise, Itô: $dX_v = f_v\,dt + \sigma X_v\,dW_v$.

    **Arguments:**

    - `sigma`: noise intensity, 1/sqrt(ms). A scalar, or `(N,)` per region.
    - `variables`: the state variables that receive noise; `None` for all.
    """

    sigma: Parameter = param(0.01)
    variables: tuple[str, ...] | None = eqx.field(default=None, static=True)

    def diffusion(self, state):
        return self.sigma * state


class AbstractInputNoise(AbstractNoise):
    """Noise added to the inputs of the node's equations (by default those of its coupled
    variables) from a state the solver carries in `History.noise`; no white noise enters
    the state directly."""

    def increments(self, key, step, count, dt, shape, dtype):
        return None

    def state_noise(self, dw, state, rows):
        return jnp.zeros_like(state)


class OrnsteinUhlenbeckNoise(AbstractInputNoise):
    r"""Coloured (in time) input noise: an Ornstein–Uhlenbeck process $\eta$ per region and
    variable, added to the inputs of `variables`:

    $$d\eta = -\frac{\eta}{\tau}\,dt + \sigma\sqrt{\frac{2}{\tau}}\,dW,$$

    so $\eta$ is stationary with variance $\sigma^2$ and autocorrelation
    $e^{-|t|/\tau}$. It is integrated exactly over each step. Unlike brainmass's "coloured"
    noise (coloured across regions), it is coloured in time and independent across regions.

    **Arguments:**

    - `sigma`: stationary standard deviation of the input, in input units.
    - `tau`: correlation time, ms; must be positive.
    - `variables`: the state variables whose input gets the noise; `None` for the node's
        coupled variables.
    """

    sigma: Parameter = param(0.01)
    tau: Parameter = param(5.0)
    variables: tuple[str, ...] | None = eqx.field(default=None, static=True)

    def __check_init__(self):
        check_range("OrnsteinUhlenbeckNoise", "tau", self.tau, lower=0.0)
        check_range("OrnsteinUhlenbeckNoise", "sigma", self.sigma, lower=0.0, strict=False)

    def input_state_rows(self, n_rows):
        return n_rows

    def initial_input_state(self, key, n_rows, n_regions, dt, dtype):
        # The stationary distribution, from `fold_in(fold_in(key, 0), 2)`.
        draw = jr.normal(jr.fold_in(jr.fold_in(key, 0), 2), (n_rows, n_regions), dtype)
        return self.sigma * draw

    def input_draws(self, key, step, count, eta):
        # Step `s`'s standard normals from `fold_in(fold_in(key, s), 1)`.
        def draw(s):
            return jr.normal(jr.fold_in(jr.fold_in(key, s), 1), eta.shape, eta.dtype)

        return jax.vmap(draw)(step + jnp.arange(count, dtype=jnp.asarray(step).dtype))

    def advance_input(self, eta, dt, draw):
        return self.step(eta, dt, draw)

    def step(self, eta: Float[Array, "K N"], dt: Float[Array, ""], draw: Float[Array, "K N"]):
        """Advance `eta` exactly by `dt` ms, given standard normals `draw`."""
        decay = jnp.exp(-dt / self.tau)
        scale = self.sigma * jnp.sqrt(1 - decay**2)
        return eta * decay + scale * draw
