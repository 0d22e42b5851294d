"""TVB's generic two-dimensional oscillator."""

from typing import ClassVar

import jax.numpy as jnp

from .._custom_types import Parameter, State
from .._errors import check_range
from ._base import AbstractNodeModel, param, stack_initial


class Generic2dOscillator(AbstractNodeModel):
    r"""Generic 2-D oscillator, TVB's `Generic2dOscillator` (Sanz-Leon et al. 2015,
    NeuroImage 111, 385; Stefanescu & Jirsa 2008): a cubic nullcline for the fast variable
    `V` and a configurable quadratic one for the slow variable `W`,

    $$\dot V = d\,\tau\,(-f V^3 + e V^2 + g V + \alpha W + \gamma (I + I_V)),$$
    $$\dot W = \frac{d}{\tau}\,(c V^2 + b V - \beta W + a) + I_W.$$

    Time is in ms, as in TVB: `d` (1/ms) sets the overall rate and `tau` the ratio of the
    two time scales. With TVB's default parameters (its "excitable configuration") the node
    has a single, stable fixed point (a focus near $V = -0.19$); `a = 2` gives a limit
    cycle (TVB's documentation lists further regimes).

    **Inputs.** Row `V` of `inputs` is added to $I$, scaled by $\gamma$ like TVB's long-range
    coupling; row `W` adds to $\dot W$ (per ms).

    **Arguments** (TVB's names and defaults; all dimensionless except `d`):

    - `tau`: time-scale hierarchy between `V` and `W`; > 0.
    - `I`: baseline shift of the cubic nullcline.
    - `a`, `b`, `c`: constant, linear and quadratic coefficients of the `W` nullcline.
    - `d`: temporal scale factor, 1/ms; > 0.
    - `e`, `f`, `g`: quadratic, cubic and linear coefficients of the `V` nullcline.
    - `alpha`: feedback from `W` to `V`; `beta`: self-feedback of `W`.
    - `gamma`: scale of `I` and of the input (TVB uses -1 for FitzHugh–Nagumo-like dynamics
        driven by negative currents).
    - `V0`, `W0`: initial state.

    Every parameter may be a scalar or a per-region `(N,)` array.
    """

    tau: Parameter = param(1.0)
    I: Parameter = param(0.0)
    a: Parameter = param(-2.0)
    b: Parameter = param(-10.0)
    c: Parameter = param(0.0)
    d: Parameter = param(0.02)
    e: Parameter = param(3.0)
    f: Parameter = param(1.0)
    g: Parameter = param(0.0)
    alpha: Parameter = param(1.0)
    beta: Parameter = param(1.0)
    gamma: Parameter = param(1.0)
    V0: Parameter = param(1.0)
    W0: Parameter = param(0.0)

    variables: ClassVar[tuple[str, ...]] = ("V", "W")
    coupled_variables: ClassVar[tuple[str, ...]] = ("V",)
    units: ClassVar[dict[str, str]] = {
        "tau": "dimensionless", "I": "dimensionless", "a": "dimensionless", "b": "dimensionless",
        "c": "dimensionless", "d": "1/ms", "e": "dimensionless", "f": "dimensionless",
        "g": "dimensionless", "alpha": "dimensionless", "beta": "dimensionless",
        "gamma": "dimensionless", "V0": "dimensionless", "W0": "dimensionless",
    }
    citation: ClassVar[str] = (
        "Sanz-Leon et al. 2015, NeuroImage 111, 385; Stefanescu & Jirsa 2008; TVB "
        "Generic2dOscillator"
    )

    def __check_init__(self):
        for name in ("tau", "d"):
            check_range("Generic2dOscillator", name, getattr(self, name), lower=0.0)

    def vector_field(self, t, state: State, inputs: State) -> State:
        V, W = state
        input_V, input_W = inputs
        dV = (
            self.d
            * self.tau
            * (
                -self.f * V**3
                + self.e * V**2
                + self.g * V
                + self.alpha * W
                + self.gamma * (self.I + input_V)
            )
        )
        dW = self.d / self.tau * (self.c * V**2 + self.b * V - self.beta * W + self.a) + input_W
        return jnp.stack([dV, dW])

    def initial_state(self, n_regions: int) -> State:
        return stack_initial(n_regions, self.V0, self.W0)
