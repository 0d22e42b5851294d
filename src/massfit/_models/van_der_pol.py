"""The van der Pol relaxation oscillator."""

from typing import ClassVar

import jax.numpy as jnp

from .._custom_types import Parameter, State
from .._errors import check_range
from ._base import AbstractNodeModel, param, stack_initial


class VanDerPol(AbstractNodeModel):
    r"""Van der Pol oscillator (van der Pol 1926, Phil. Mag. 2, 978),
    $x'' - \mu (1 - x^2) x' + x = 0$ with $' = d/ds$ in dimensionless time $s$, written as
    the 2-D system

    $$\dot x = \omega\,y + I_x,\qquad \dot y = \omega\,\big(\mu (1 - x^2)\,y - x\big) + I_y.$$

    **Time scale.** Time $t$ is in ms and $s = \omega t$: `omega` (rad/ms) is the angular
    frequency of the small-`mu` (harmonic) limit. A period of $T(\mu)$ dimensionless units
    lasts $T(\mu)/\omega$ ms; $T \to 2\pi$ as $\mu \to 0$ and, for large `mu`,
    $T \approx (3 - 2\ln 2)\,\mu + 7.014\,\mu^{-1/3}$ (relaxation oscillations; Strogatz,
    *Nonlinear Dynamics and Chaos*, §7.5; Grasman 1987).

    For every $\mu > 0$ there is a unique stable limit cycle, with amplitude near 2 in `x`.
    Inputs add to the derivatives (per ms).

    **Arguments:**

    - `mu`: nonlinear damping, dimensionless; >= 0 (0 is the harmonic oscillator).
    - `omega`: angular frequency of the time unit, rad/ms; > 0 (10 Hz is `2 * pi * 0.010`).
    - `x0`, `y0`: initial state, dimensionless.

    Every parameter may be a scalar or a per-region `(N,)` array.
    """

    mu: Parameter = param(1.0)
    omega: Parameter = param(2 * jnp.pi * 0.010)
    x0: Parameter = param(0.5)
    y0: Parameter = param(0.0)

    variables: ClassVar[tuple[str, ...]] = ("x", "y")
    coupled_variables: ClassVar[tuple[str, ...]] = ("x",)
    units: ClassVar[dict[str, str]] = {
        "mu": "dimensionless", "omega": "rad/ms", "x0": "dimensionless", "y0": "dimensionless",
    }
    citation: ClassVar[str] = "van der Pol 1926, Phil. Mag. 2, 978"

    def __check_init__(self):
        check_range("VanDerPol", "mu", self.mu, lower=0.0, strict=False)
        check_range("VanDerPol", "omega", self.omega, lower=0.0)

    def vector_field(self, t, state: State, inputs: State) -> State:
        x, y = state
        input_x, input_y = inputs
        dx = self.omega * y + input_x
        dy = self.omega * (self.mu * (1 - x**2) * y - x) + input_y
        return jnp.stack([dx, dy])

    def initial_state(self, n_regions: int) -> State:
        return stack_initial(n_regions, self.x0, self.y0)
