"""The reduced Wong–Wang model with excitatory and inhibitory pools (Deco et al. 2014)."""

from typing import ClassVar

import jax.numpy as jnp

from .._custom_types import Parameter, State
from .._errors import check_range
from ._base import AbstractNodeModel, param, stack_initial
from ._transfer import wong_wang_transfer


class ReducedWongWangExcInh(AbstractNodeModel):
    r"""Reduced Wong–Wang model with an excitatory (NMDA gating $S_E$) and an inhibitory
    (GABA gating $S_I$) pool per region (Deco et al. 2014, J. Neurosci. 34, 7886), in the
    form of TVB's `ReducedWongWangExcInh`:

    $$I_E = W_E I_0 + w_+ J_{NMDA} S_E - J_I S_I + I_{S_E},$$
    $$I_I = W_I I_0 + J_{NMDA} S_E - S_I + \lambda I_{S_E} + I_{S_I},$$
    $$r_E = H_E(I_E),\qquad r_I = H_I(I_I),\qquad
      H_X(x) = \frac{a_X x - b_X}{1 - e^{-d_X (a_X x - b_X)}},$$
    $$\dot S_E = -\frac{S_E}{\tau_E} + (1 - S_E)\,\gamma\,r_E,\qquad
      \dot S_I = -\frac{S_I}{\tau_I} + r_I.$$

    $J_I$ is the local inhibitory weight that feedback inhibition control (FIC) tunes per
    region so that every region fires at ~3 Hz: see
    [`massfit.feedback_inhibition_weights`][].

    **Units.** Time in ms, currents in nA, rates in 1/ms. The paper's values in Hz and s
    are converted explicitly: $a_E$ = 310 Hz/nA = 0.310 1/(nA·ms), $b_E$ = 125 Hz =
    0.125 1/ms, $d_E$ = 0.16 s = 160 ms; $a_I$ = 615 Hz/nA = 0.615, $b_I$ = 177 Hz =
    0.177, $d_I$ = 0.087 s = 87 ms. With rates in 1/ms the dimensionless $\gamma$ = 0.641
    multiplies $r_E$ directly (TVB keeps $r$ in Hz and writes $\gamma_E$ = 0.641/1000 and
    $\gamma_I$ = 1/1000 instead: the same model).

    **Inputs.** Row `S_E` of `inputs` is a long-range current in nA, added to $I_E$ and,
    scaled by $\lambda$, to $I_I$ (Deco et al. 2014 have $\lambda = 0$; TVB's `lamda`).
    Row `S_I` is a current added to $I_I$ only. As in [`massfit.ReducedWongWang`][] the
    coupling is not multiplied by $J_{NMDA}$ here (TVB does): with
    `coupling=massfit.Linear()`, the paper's global coupling $G$ is `k = G * J_NMDA` (nA).

    **Arguments:**

    - `a_E`, `a_I`: transfer gains, 1/(nA·ms); > 0.
    - `b_E`, `b_I`: transfer thresholds, 1/ms.
    - `d_E`, `d_I`: transfer curvatures, ms; > 0.
    - `gamma`: NMDA kinetic parameter, dimensionless; >= 0.
    - `tau_E`, `tau_I`: NMDA and GABA decay times, ms; > 0 (100 and 10).
    - `w_plus`: local recurrent excitation, dimensionless; >= 0 (1.4).
    - `J_NMDA`: excitatory synaptic coupling, nA; >= 0 (0.15).
    - `J_I`: local inhibitory weight (the FIC weight), nA; >= 0 (1 before FIC).
    - `W_E`, `W_I`: scalings of the background current onto each pool, dimensionless; >= 0
        (1, 0.7).
    - `I_0`: background current, nA (0.382).
    - `lambda_`: share of the long-range input that also reaches the inhibitory pool,
        dimensionless; >= 0 (0).
    - `S_E0`, `S_I0`: initial gatings, dimensionless.

    Every parameter may be a scalar or a per-region `(N,)` array.
    """

    a_E: Parameter = param(0.310)
    b_E: Parameter = param(0.125)
    d_E: Parameter = param(160.0)
    gamma: Parameter = param(0.641)
    tau_E: Parameter = param(100.0)
    w_plus: Parameter = param(1.4)
    J_NMDA: Parameter = param(0.15)
    J_I: Parameter = param(1.0)
    W_E: Parameter = param(1.0)
    a_I: Parameter = param(0.615)
    b_I: Parameter = param(0.177)
    d_I: Parameter = param(87.0)
    tau_I: Parameter = param(10.0)
    W_I: Parameter = param(0.7)
    I_0: Parameter = param(0.382)
    lambda_: Parameter = param(0.0)
    S_E0: Parameter = param(0.2)
    S_I0: Parameter = param(0.1)

    variables: ClassVar[tuple[str, ...]] = ("S_E", "S_I")
    coupled_variables: ClassVar[tuple[str, ...]] = ("S_E",)
    units: ClassVar[dict[str, str]] = {
        "a_E": "1/(nA·ms)", "b_E": "1/ms", "d_E": "ms", "gamma": "dimensionless", "tau_E": "ms",
        "w_plus": "dimensionless", "J_NMDA": "nA", "J_I": "nA", "W_E": "dimensionless",
        "a_I": "1/(nA·ms)", "b_I": "1/ms", "d_I": "ms", "tau_I": "ms", "W_I": "dimensionless",
        "I_0": "nA", "lambda_": "dimensionless", "S_E0": "dimensionless", "S_I0": "dimensionless",
    }
    citation: ClassVar[str] = "Deco et al. 2014, J. Neurosci. 34, 7886; TVB ReducedWongWangExcInh"

    def __check_init__(self):
        for name in ("a_E", "a_I", "d_E", "d_I", "tau_E", "tau_I"):
            check_range("ReducedWongWangExcInh", name, getattr(self, name), lower=0.0)
        for name in ("gamma", "w_plus", "J_NMDA", "J_I", "W_E", "W_I", "lambda_"):
            check_range("ReducedWongWangExcInh", name, getattr(self, name), lower=0.0, strict=False)

    def currents(self, state: State, inputs: State | None = None):
        """The synaptic currents $(I_E, I_I)$ of each region, nA, each of shape `(N,)`."""
        s_e, s_i = state
        input_e, input_i = (0.0, 0.0) if inputs is None else inputs
        current_e = self.W_E * self.I_0 + self.w_plus * self.J_NMDA * s_e - self.J_I * s_i
        current_i = self.W_I * self.I_0 + self.J_NMDA * s_e - s_i + self.lambda_ * input_e
        return current_e + input_e, current_i + input_i

    def rates(self, state: State, inputs: State | None = None):
        """The population rates $(r_E, r_I)$ of each region, 1/ms (×1000 for Hz)."""
        current_e, current_i = self.currents(state, inputs)
        return (
            wong_wang_transfer(current_e, self.a_E, self.b_E, self.d_E),
            wong_wang_transfer(current_i, self.a_I, self.b_I, self.d_I),
        )

    def vector_field(self, t, state: State, inputs: State) -> State:
        s_e, s_i = state
        rate_e, rate_i = self.rates(state, inputs)
        ds_e = -s_e / self.tau_E + (1 - s_e) * self.gamma * rate_e
        ds_i = -s_i / self.tau_I + rate_i
        return jnp.stack([ds_e, ds_i])

    def initial_state(self, n_regions: int) -> State:
        return stack_initial(n_regions, self.S_E0, self.S_I0)
