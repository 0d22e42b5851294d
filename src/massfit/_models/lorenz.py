"""The Lorenz system."""

from typing import ClassVar

import jax.numpy as jnp

from .._custom_types import Parameter, State
from .._errors import check_range
from ._base import AbstractNodeModel, param, stack_initial


class Lorenz(AbstractNodeModel):
    r"""The Lorenz system (Lorenz 1963, J. Atmos. Sci. 20, 130), with a time scale:

    $$\tau \dot x = \sigma (y - x),\qquad \tau \dot y = x (\rho - z) - y,\qquad
      \tau \dot z = x y - \beta z.$$

    One time unit of Lorenz's equations is `tau` ms. With the classic $\sigma$ = 10,
    $\rho$ = 28, $\beta$ = 8/3 the flow is chaotic on the butterfly attractor (largest
    Lyapunov exponent ≈ 0.906 per time unit, i.e. 0.906 / `tau` per ms).

    **Inputs** are added to the derivatives $\dot x$, $\dot y$, $\dot z$ (per ms, after the
    division by $\tau$). The network couples `x` by default.

    **Arguments:**

    - `sigma`, `rho`, `beta`: Lorenz's parameters, dimensionless.
    - `tau`: time scale, ms per Lorenz time unit; > 0. The default 10 ms makes the usual
        step of 0.01 time units `dt = 0.1` ms.
    - `x0`, `y0`, `z0`: initial state, dimensionless (not a fixed point).

    Every parameter may be a scalar or a per-region `(N,)` array.
    """

    sigma: Parameter = param(10.0)
    rho: Parameter = param(28.0)
    beta: Parameter = param(8.0 / 3.0)
    tau: Parameter = param(10.0)
    x0: Parameter = param(1.0)
    y0: Parameter = param(1.0)
    z0: Parameter = param(1.0)

    variables: ClassVar[tuple[str, ...]] = ("x", "y", "z")
    coupled_variables: ClassVar[tuple[str, ...]] = ("x",)
    units: ClassVar[dict[str, str]] = {
        "sigma": "dimensionless", "rho": "dimensionless", "beta": "dimensionless", "tau": "ms",
        "x0": "dimensionless", "y0": "dimensionless", "z0": "dimensionless",
    }
    citation: ClassVar[str] = "Lorenz 1963, J. Atmos. Sci. 20, 130"

    def __check_init__(self):
        check_range("Lorenz", "tau", self.tau, lower=0.0)

    def vector_field(self, t, state: State, inputs: State) -> State:
        x, y, z = state
        dx = self.sigma * (y - x)
        dy = x * (self.rho - z) - y
        dz = x * y - self.beta * z
        return jnp.stack([dx, dy, dz]) / self.tau + inputs

    def initial_state(self, n_regions: int) -> State:
        return stack_initial(n_regions, self.x0, self.y0, self.z0)
