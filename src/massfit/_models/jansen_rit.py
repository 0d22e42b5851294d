"""The Jansen–Rit cortical column model."""

from typing import ClassVar

import jax
import jax.numpy as jnp

from .._custom_types import Parameter, State
from .._errors import check_range
from ._base import AbstractNodeModel, param


class JansenRit(AbstractNodeModel):
    r"""Jansen–Rit model of a cortical column: pyramidal cells with excitatory and inhibitory
    interneurons (Jansen & Rit 1995, Biol. Cybern. 73, 357), written as TVB's `JansenRit`,
    with time in ms.

    $$\dot y_0 = y_3,\qquad \dot y_1 = y_4,\qquad \dot y_2 = y_5,$$
    $$\dot y_3 = A a\,S(y_1 - y_2) - 2a\,y_3 - a^2 y_0,$$
    $$\dot y_4 = A a\,[\mu + \alpha_2 J\,S(\alpha_1 J y_0) + I_{y_1}] - 2a\,y_4 - a^2 y_1,$$
    $$\dot y_5 = B b\,\alpha_4 J\,S(\alpha_3 J y_0) - 2b\,y_5 - b^2 y_2,$$
    $$S(v) = \frac{2\nu_{max}}{1 + e^{r(v_0 - v)}}.$$

    `y0` is the PSP that pyramidal firing makes on the interneurons, `y1` the EPSP and `y2`
    the IPSP on the pyramidal cells (mV), `y3`–`y5` their derivatives (mV/ms). The pyramidal
    membrane potential `y1 - y2` is the usual EEG-like output.

    **Inputs.** Rows `y0`, `y1`, `y2` of `inputs` are afferent firing rates (1/ms) arriving
    at that PSP's synaptic kernel: row `y1` adds to the external rate $\mu$ (this is where
    TVB puts long-range coupling, `I_{y_1}` above); row `y0` adds to $S(y_1 - y_2)$ and row
    `y2` to $\alpha_4 J S(\alpha_3 J y_0)$, each inside the kernel's gain. Rows `y3`–`y5`
    are added to the derivatives (mV/ms²). The network couples `("y1", "y2")` by default,
    for [`massfit.SigmoidalJansenRit`][], which sends $k\sum_j w_{ij} S(y_{1,j} - y_{2,j})$
    to row `y1` and nothing to row `y2`.

    **Arguments:**

    - `A`, `B`: maximum EPSP and IPSP amplitudes, mV; > 0.
    - `a`, `b`: reciprocal excitatory and inhibitory synaptic time constants, 1/ms; > 0.
    - `v0`: sigmoid midpoint (firing threshold), mV. Default 6 mV as in the paper (TVB's
        default is 5.52 mV).
    - `nu_max`: half the maximum firing rate, 1/ms (2 nu_max is the maximum); > 0.
    - `r`: sigmoid steepness, 1/mV; > 0.
    - `J`: average number of synapses between populations, dimensionless; > 0.
    - `a_1`, `a_2`, `a_3`, `a_4`: fractions of `J` in the four intra-column loops, dimensionless;
        >= 0.
    - `mu`: mean external input rate onto pyramidal cells, 1/ms (0.22 = 220 Hz, within the
        paper's 120–320 Hz, gives alpha oscillations).

    Every parameter may be a scalar or a per-region `(N,)` array. The default initial state
    is all zeros (not a fixed point: $\dot y_3 = A a S(0) > 0$ there); pass another to
    `simulate` as its `initial_state`.
    """

    A: Parameter = param(3.25)
    B: Parameter = param(22.0)
    a: Parameter = param(0.1)
    b: Parameter = param(0.05)
    v0: Parameter = param(6.0)
    nu_max: Parameter = param(0.0025)
    r: Parameter = param(0.56)
    J: Parameter = param(135.0)
    a_1: Parameter = param(1.0)
    a_2: Parameter = param(0.8)
    a_3: Parameter = param(0.25)
    a_4: Parameter = param(0.25)
    mu: Parameter = param(0.22)

    variables: ClassVar[tuple[str, ...]] = ("y0", "y1", "y2", "y3", "y4", "y5")
    coupled_variables: ClassVar[tuple[str, ...]] = ("y1", "y2")
    units: ClassVar[dict[str, str]] = {
        "A": "mV", "B": "mV", "a": "1/ms", "b": "1/ms", "v0": "mV", "nu_max": "1/ms", "r": "1/mV",
        "J": "dimensionless", "a_1": "dimensionless", "a_2": "dimensionless",
        "a_3": "dimensionless", "a_4": "dimensionless", "mu": "1/ms",
    }
    citation: ClassVar[str] = "Jansen & Rit 1995, Biol. Cybern. 73, 357; TVB JansenRit"

    def __check_init__(self):
        for name in ("A", "B", "a", "b", "nu_max", "r", "J"):
            check_range("JansenRit", name, getattr(self, name), lower=0.0)
        for name in ("a_1", "a_2", "a_3", "a_4"):
            check_range("JansenRit", name, getattr(self, name), lower=0.0, strict=False)

    def sigmoid(self, v):
        """The potential-to-rate sigmoid `S(v)`: mV to 1/ms."""
        return 2 * self.nu_max * jax.nn.sigmoid(self.r * (v - self.v0))

    def vector_field(self, t, state: State, inputs: State) -> State:
        y0, y1, y2, y3, y4, y5 = state
        in0, in1, in2, in3, in4, in5 = inputs
        a, b, J = self.a, self.b, self.J
        dy3 = self.A * a * (self.sigmoid(y1 - y2) + in0) - 2 * a * y3 - a**2 * y0
        dy4 = (
            self.A * a * (self.mu + self.a_2 * J * self.sigmoid(self.a_1 * J * y0) + in1)
            - 2 * a * y4
            - a**2 * y1
        )
        dy5 = (
            self.B * b * (self.a_4 * J * self.sigmoid(self.a_3 * J * y0) + in2)
            - 2 * b * y5
            - b**2 * y2
        )
        return jnp.stack([y3, y4, y5, dy3 + in3, dy4 + in4, dy5 + in5])

    def initial_state(self, n_regions: int) -> State:
        return jnp.zeros((len(self.variables), n_regions))
