"""Noise: additive and multiplicative white noise; Ornstein–Uhlenbeck and power-law (1/f^α)
input noise.

All noise is in the Itô sense, `dX = f(X) dt + g(X) dW`, with `W` a standard Wiener process
(`Var W(t) = t`, t in ms), so `sigma` has units of the state variable per sqrt(ms). The
solvers draw the increment of step `s` from `jax.random.fold_in(key, s)`: a run is
reproducible from its key, and chunking a run into pieces gives the same numbers.
"""

import abc
import functools

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
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


_COLOURS = {"white": 0.0, "pink": 1.0, "brown": 2.0, "blue": -1.0, "violet": -2.0}


@functools.lru_cache(maxsize=64)
def _power_law_components(beta: float, f_min: float, f_max: float):
    # Lorentzians (Ornstein–Uhlenbeck spectra), two corners per decade from a decade below
    # `f_min` to a decade above `f_max`; their variance weights fitted (non-negative least
    # squares by multiplicative updates) to f^-beta over [f_min, f_max], relative error.
    lo, hi = np.log10(f_min) - 1.0, np.log10(f_max) + 1.0
    corners = np.logspace(lo, hi, int(round(2 * (hi - lo))) + 1)
    f = np.logspace(np.log10(f_min), np.log10(f_max), 200)
    design = f[:, None] ** beta / corners / (1 + (f[:, None] / corners) ** 2)
    weights = np.ones(len(corners))
    target = design.T @ np.ones(len(f))
    for _ in range(3000):
        weights *= target / (design.T @ (design @ weights))
    return corners, np.sqrt(weights / weights.sum())


class PowerLawNoise(AbstractInputNoise):
    r"""Input noise with a power spectrum $\propto 1/f^\alpha$ in time, independent across
    regions and variables, added to the inputs of `variables`.

    Named colours: `"white"` (α = 0), `"pink"` (1), `"brown"` (2), `"blue"` (−1),
    `"violet"` (−2); any α in [−2, 2] may be given as a number.

    **Construction.** For 0 < α ≤ 2 the noise is a weighted sum of independent
    Ornstein–Uhlenbeck processes (each integrated exactly over a step, unit variance), with
    corner frequencies two per decade from `f_min / 10` to `10 f_max` and variance weights
    fitted to $f^{-\alpha}$ over [`f_min`, `f_max`] (the fitted spectrum's local slope is
    within 0.1 of α everywhere there, its mean slope within 0.01); it flattens below
    `f_min` and steepens towards $f^{-2}$ above `f_max`. For α < 0 it is the step-to-step
    difference of the process with exponent α + 2 (differencing multiplies the spectrum by
    $4\sin^2(\pi f\,dt) \approx (2\pi f\,dt)^2$), normalised; the base process of α = 0
    and −2 is white per step (independent standard normals), and these two do not use
    `f_min`, `f_max`.

    **Band.** The slope holds over [`f_min`, `f_max`] when `f_max · dt ≤ 0.02` (`dt` in s:
    `f_max` ≤ 200 Hz at `dt` = 0.1 ms); above that the step's sampling flattens the
    spectrum. For α = 0 and −2 it holds for every f with `f · dt ≤ 0.02`. Measured (Welch,
    33 s of 32 regions, 1–40 Hz at `dt` = 0.5 ms, two keys): every named colour within 0.02
    of its α.

    `sigma` is the stationary standard deviation of the added input. For α ≤ 0 the power
    reaches up to the Nyquist frequency 1/(2 dt) (evenly for α = 0, mostly near it for
    α < 0): the same `sigma` at another `dt` puts another power into a given band. Each
    step's normals come from `fold_in(fold_in(key, step), 1)` and the process state travels
    in the solver's history, so a run is reproducible from its key and a run continued with
    `continue_from=` repeats the whole run bit for bit.
    Unlike brainmass's "coloured" noise (coloured across regions), it is coloured in time.

    **Arguments:**

    - `colour`: a name above, or the exponent α, a number in [−2, 2].
    - `sigma`: stationary standard deviation of the input, in input units.
    - `f_min`, `f_max`: the band where the slope holds, Hz; 0 < `f_min` < `f_max`. Each
        decade of the band (plus two) costs two Ornstein–Uhlenbeck components per driven
        variable and region.
    - `variables`: the state variables whose input gets the noise; `None` for the node's
        coupled variables.
    """

    sigma: Parameter = param(0.01)
    colour: str | float = eqx.field(default="pink", static=True)
    f_min: float = eqx.field(default=0.1, static=True)
    f_max: float = eqx.field(default=100.0, static=True)
    variables: tuple[str, ...] | None = eqx.field(default=None, static=True)

    def __check_init__(self):
        if isinstance(self.colour, str):
            if self.colour not in _COLOURS:
                raise ValueError(
                    f"PowerLawNoise: unknown `colour` {self.colour!r}; use one of "
                    f"{tuple(_COLOURS)} or an exponent alpha in [-2, 2]."
                )
        elif isinstance(self.colour, bool) or not (
            isinstance(self.colour, int | float) and -2.0 <= self.colour <= 2.0
        ):
            raise ValueError(
                "PowerLawNoise: `colour` as an exponent alpha (spectrum 1/f^alpha) must be a "
                f"number in [-2, 2]; got {self.colour!r}."
            )
        if not (0.0 < self.f_min < self.f_max):
            raise ValueError(
                "PowerLawNoise: the band needs 0 < `f_min` < `f_max` (Hz); got "
                f"f_min={self.f_min!r}, f_max={self.f_max!r}."
            )
        check_range("PowerLawNoise", "sigma", self.sigma, lower=0.0, strict=False)

    @property
    def alpha(self) -> float:
        """The exponent α of the spectrum $1/f^\\alpha$."""
        return float(_COLOURS.get(self.colour, self.colour))

    def _components(self):
        # Corner frequencies (Hz; inf: white per step) and amplitudes of the base process.
        beta = self.alpha + 2 if self.alpha < 0 else self.alpha
        if beta == 0:
            return np.array([np.inf]), np.array([1.0])
        return _power_law_components(beta, float(self.f_min), float(self.f_max))

    def input_state_rows(self, n_rows):
        # The components of each driven row, then the current input value of each.
        return (len(self._components()[0]) + 1) * n_rows

    def initial_input_state(self, key, n_rows, n_regions, dt, dtype):
        # One exact step from a stationary draw of the components, so that the value (for
        # α < 0, the difference) starts stationary too.
        n_comp = len(self._components()[0])
        start = jr.fold_in(key, 0)
        before = jr.normal(jr.fold_in(start, 2), (n_comp * n_rows, n_regions), dtype)
        eta = jnp.concatenate([before, jnp.zeros((n_rows, n_regions), dtype)])
        draw = jr.normal(jr.fold_in(start, 3), before.shape, dtype)
        return self.advance_input(eta, dt, draw)

    def input_draws(self, key, step, count, eta):
        n_comp = len(self._components()[0])
        shape = (eta.shape[0] // (n_comp + 1) * n_comp, eta.shape[1])

        def draw(s):
            return jr.normal(jr.fold_in(jr.fold_in(key, s), 1), shape, eta.dtype)

        return jax.vmap(draw)(step + jnp.arange(count, dtype=jnp.asarray(step).dtype))

    def advance_input(self, eta, dt, draw):
        # Barriers keep XLA from fusing this step with its neighbours in a block, which
        # changes the rounding (fused multiply-adds) with the step's place in the block: a
        # continued run must repeat the whole run bit for bit.
        eta, dt, draw = jax.lax.optimization_barrier((eta, dt, draw))
        return jax.lax.optimization_barrier(self._advance(eta, dt, draw))

    def _advance(self, eta, dt, draw):
        corners, amplitudes = self._components()
        n_comp = len(corners)
        n_rows = eta.shape[0] // (n_comp + 1)
        before = eta[: n_comp * n_rows].reshape(n_comp, n_rows, -1)
        # dt is in ms, corners in Hz.
        decay = jnp.exp(-2 * jnp.pi * jnp.asarray(corners, eta.dtype)[:, None, None] * dt / 1000)
        after = before * decay + jnp.sqrt(1 - decay**2) * draw.reshape(before.shape)
        # Sums over components in a fixed order (elementwise adds): a continued run must
        # repeat the whole run bit for bit, whatever XLA makes of a reduction.
        value = sum(float(a) * after[c] for c, a in enumerate(amplitudes))
        if self.alpha < 0:
            # Var(y_n - y_{n-1}) = sum_c a_c^2 2 (1 - decay_c): normalise to unit variance.
            previous = sum(float(a) * before[c] for c, a in enumerate(amplitudes))
            variance = sum(float(a) ** 2 * 2 * (1 - decay[c]) for c, a in enumerate(amplitudes))
            value = (value - previous) / jnp.sqrt(variance)
        value = self.sigma * value
        return jnp.concatenate([after.reshape(n_comp * n_rows, -1), value])

    def input_value(self, eta):
        n_rows = eta.shape[0] // (len(self._components()[0]) + 1)
        return eta[eta.shape[0] - n_rows :]
