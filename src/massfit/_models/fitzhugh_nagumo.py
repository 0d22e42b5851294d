"""The FitzHugh–Nagumo excitable oscillator."""

from typing import ClassVar

import jax.numpy as jnp

from .._custom_types import Parameter, State
from .._errors import check_range
from ._base import AbstractNodeModel, param, stack_initial


class FitzHughNagumo(AbstractNodeModel):
    r"""FitzHugh–Nagumo model (FitzHugh 1961, Biophys. J. 1, 445; Nagumo, Arimoto &
    Yoshizawa 1962, Proc. IRE 50, 2061): a two-variable reduction of the Hodgkin–Huxley
    neuron, with a fast voltage-like variable `v` and a slow recovery variable `w`,

    $$\tau\,\dot v = v - \frac{v^3}{3} - w + I + I_v,\qquad
      \tau\,\dot w = \varepsilon\,(v + a - b\,w) + I_w.$$

    **Time scale.** The paper's equations are dimensionless; here one of their time units
    is `tau` ms (default 1 ms), so every rate scales as `1 / tau`.

    With the default parameters ($I = 0$) the node is *excitable*: it rests at a stable
    fixed point near $(v, w) = (-1.20, -0.62)$; a small perturbation of `v` decays back,
    one above a threshold makes a full spike ($v$ up to about $+2$) before returning. For
    $I$ in roughly $(0.33, 1.42)$ the rest state is unstable and the node spikes
    periodically (a relaxation oscillator).

    **Inputs.** Row `v` of `inputs` is a current added to $I$; row `w` is added inside the
    `w` bracket. Both are in the model's dimensionless units (divided by `tau`).

    **Arguments:**

    - `a`, `b`: shape of the recovery nullcline, dimensionless (0.7, 0.8 as FitzHugh).
    - `epsilon`: ratio of the recovery to the voltage time scale, dimensionless; > 0.
    - `I`: constant external current, dimensionless.
    - `tau`: the time unit, ms; > 0.
    - `v0`, `w0`: initial state, dimensionless (default slightly off the resting point, so a
        noiseless run moves).

    Every parameter may be a scalar or a per-region `(N,)` array.
    """

    a: Parameter = param(0.7)
    b: Parameter = param(0.8)
    epsilon: Parameter = param(0.08)
    I: Parameter = param(0.0)
    tau: Parameter = param(1.0)
    v0: Parameter = param(-1.0)
    w0: Parameter = param(-0.5)

    variables: ClassVar[tuple[str, ...]] = ("v", "w")
    coupled_variables: ClassVar[tuple[str, ...]] = ("v",)
    units: ClassVar[dict[str, str]] = {
        "a": "dimensionless", "b": "dimensionless", "epsilon": "dimensionless",
        "I": "dimensionless", "tau": "ms", "v0": "dimensionless", "w0": "dimensionless",
    }
    citation: ClassVar[str] = (
        "FitzHugh 1961, Biophys. J. 1, 445; Nagumo, Arimoto & Yoshizawa 1962, Proc. IRE "
        "50, 2061"
    )

    def __check_init__(self):
        for name in ("epsilon", "tau"):
            check_range("FitzHughNagumo", name, getattr(self, name), lower=0.0)

    def vector_field(self, t, state: State, inputs: State) -> State:
        v, w = state
        input_v, input_w = inputs
        dv = v - v**3 / 3 - w + self.I + input_v
        dw = self.epsilon * (v + self.a - self.b * w) + input_w
        return jnp.stack([dv, dw]) / self.tau

    def initial_state(self, n_regions: int) -> State:
        return stack_initial(n_regions, self.v0, self.w0)
