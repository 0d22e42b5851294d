"""The threshold-linear excitatory–inhibitory rate model."""

from typing import ClassVar

import jax.numpy as jnp

from .._custom_types import Parameter, State
from .._errors import check_range
from ._base import AbstractNodeModel, param, stack_initial


class ThresholdLinear(AbstractNodeModel):
    r"""Threshold-linear rate model of a local excitatory (`E`) and inhibitory (`I`)
    population, the local circuit of Chaudhuri et al. (2015), Neuron 88, 419:

    $$\tau_E \dot E = -E + \beta_E\,[w_{EE} E - w_{IE} I + I_{bg,E} + I_E]_+,$$
    $$\tau_I \dot I = -I + \beta_I\,[w_{EI} E - w_{II} I + I_{bg,I} + I_I]_+,$$

    with $[x]_+ = \max(x, 0)$. Both populations evolve and interact: `E` excites `I`, which
    inhibits `E` (brainmass's `ThresholdLinearStep` has no E–I interaction, and its `I`
    stays at 0). Above threshold the model is linear, so its fixed point and Jacobian are those of a
    2×2 linear system.

    **Units.** Rates in 1/ms (10 Hz = 0.010), currents in pA; the paper's values in Hz/pA and
    pA/Hz are converted: `beta` 1/(ms·pA) = 1e-3 × Hz/pA, `w` pA·ms = 1e3 × pA/Hz.

    **Inputs** are currents (pA) added inside the rectifiers: row `E` is $I_E$, row `I` is
    $I_I$. The network couples `E` by default, so the long-range input to `E` is
    $k\sum_j w_{ij} E_j(t - d_{ij})$ with `k` in pA·ms (the paper's $\mu_{EE}$ = 33.7 pA/Hz
    is `k = 33.7e3`). The paper's long-range input to `I` ($\mu_{IE}$) and its hierarchy
    scaling $(1 + \eta h_i)$ of excitatory weights are not built in; per-region `w_ee` and
    `w_ei` express the latter.

    Subscripts read "from, to", as in [`massfit.WilsonCowan`][]: `w_ei` is the E→I weight
    (the paper's $w_{IE}$), `w_ie` the I→E weight (the paper's $w_{EI}$).

    **Arguments:**

    - `tau_e`, `tau_i`: time constants, ms; > 0 (paper: 20, 10).
    - `beta_e`, `beta_i`: gains of the rectified-linear transfer, 1/(ms·pA); >= 0 (paper:
        0.066, 0.351 Hz/pA).
    - `w_ee`, `w_ei`, `w_ie`, `w_ii`: local weights, pA·ms; >= 0 (paper: 24.3, 12.2, 19.7,
        12.5 pA/Hz).
    - `i_bg_e`, `i_bg_i`: background currents, pA. The defaults make an isolated node rest
        near the paper's background rates, E ≈ 10 Hz and I ≈ 35 Hz.
    - `e0`, `i0`: initial rates, 1/ms.

    Every parameter may be a scalar or a per-region `(N,)` array.
    """

    tau_e: Parameter = param(20.0)
    tau_i: Parameter = param(10.0)
    beta_e: Parameter = param(0.066e-3)
    beta_i: Parameter = param(0.351e-3)
    w_ee: Parameter = param(24.3e3)
    w_ei: Parameter = param(12.2e3)
    w_ie: Parameter = param(19.7e3)
    w_ii: Parameter = param(12.5e3)
    i_bg_e: Parameter = param(598.0)
    i_bg_i: Parameter = param(415.2)
    e0: Parameter = param(0.02)
    i0: Parameter = param(0.02)

    variables: ClassVar[tuple[str, ...]] = ("E", "I")
    coupled_variables: ClassVar[tuple[str, ...]] = ("E",)
    units: ClassVar[dict[str, str]] = {
        "tau_e": "ms", "tau_i": "ms", "beta_e": "1/(ms·pA)", "beta_i": "1/(ms·pA)", "w_ee": "pA·ms",
        "w_ei": "pA·ms", "w_ie": "pA·ms", "w_ii": "pA·ms", "i_bg_e": "pA", "i_bg_i": "pA",
        "e0": "1/ms", "i0": "1/ms",
    }
    citation: ClassVar[str] = "Chaudhuri et al. 2015, Neuron 88, 419"

    def __check_init__(self):
        for name in ("tau_e", "tau_i"):
            check_range("ThresholdLinear", name, getattr(self, name), lower=0.0)
        for name in ("beta_e", "beta_i", "w_ee", "w_ei", "w_ie", "w_ii"):
            check_range("ThresholdLinear", name, getattr(self, name), lower=0.0, strict=False)

    def vector_field(self, t, state: State, inputs: State) -> State:
        e, i = state
        input_e, input_i = inputs
        current_e = self.w_ee * e - self.w_ie * i + self.i_bg_e + input_e
        current_i = self.w_ei * e - self.w_ii * i + self.i_bg_i + input_i
        de = (-e + self.beta_e * jnp.maximum(current_e, 0.0)) / self.tau_e
        di = (-i + self.beta_i * jnp.maximum(current_i, 0.0)) / self.tau_i
        return jnp.stack([de, di])

    def initial_state(self, n_regions: int) -> State:
        return stack_initial(n_regions, self.e0, self.i0)
