"""The supercritical Hopf normal form (Stuart–Landau oscillator in Cartesian form)."""

from typing import ClassVar

import jax.numpy as jnp

from .._custom_types import Parameter, State
from .._errors import check_range
from ._base import AbstractNodeModel, param, stack_initial


class Hopf(AbstractNodeModel):
    r"""Supercritical Hopf normal form, as in Deco et al. (2017) and neurolib's `hopf`.

    $$\dot x = (a - \beta (x^2 + y^2))\,x - \omega y + I_x,\qquad
      \dot y = (a - \beta (x^2 + y^2))\,y + \omega x + I_y.$$

    For `a > 0` each node has a stable limit cycle of amplitude $\sqrt{a/\beta}$ and angular
    frequency `omega`; for `a < 0` a stable focus at the origin. Inputs add to the
    derivatives.

    **Arguments:**

    - `a`: bifurcation parameter, 1/ms.
    - `omega`: angular frequency, rad/ms (10 Hz is `2 * pi * 0.010`).
    - `beta`: amplitude saturation, 1/ms (per unit amplitude squared); must be positive.
    - `x0`, `y0`: initial state, dimensionless (same for every region unless arrays of
        shape `(N,)`).

    Every parameter may be a scalar or a per-region `(N,)` array.
    """

    a: Parameter = param(0.25)
    omega: Parameter = param(2 * jnp.pi * 0.010)
    beta: Parameter = param(1.0)
    x0: Parameter = param(0.5)
    y0: Parameter = param(0.0)

    variables: ClassVar[tuple[str, ...]] = ("x", "y")
    coupled_variables: ClassVar[tuple[str, ...]] = ("x",)
    units: ClassVar[dict[str, str]] = {
        "a": "1/ms", "omega": "rad/ms", "beta": "1/ms", "x0": "dimensionless",
        "y0": "dimensionless",
    }
    citation: ClassVar[str] = "Deco et al. 2017; neurolib hopf"

    def __check_init__(self):
        check_range("Hopf", "beta", self.beta, lower=0.0)

    def vector_field(self, t, state: State, inputs: State) -> State:
        x, y = state
        ix, iy = inputs
        radial = self.a - self.beta * (x**2 + y**2)
        dx = radial * x - self.omega * y + ix
        dy = radial * y + self.omega * x + iy
        return jnp.stack([dx, dy])

    def initial_state(self, n_regions: int) -> State:
        return stack_initial(n_regions, self.x0, self.y0)
