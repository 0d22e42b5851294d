"""The Wilson–Cowan excitatory–inhibitory population model."""

from typing import ClassVar

import jax
import jax.numpy as jnp

from .._custom_types import Parameter, State
from .._errors import check_range
from ._base import AbstractNodeModel, param, stack_initial


class WilsonCowan(AbstractNodeModel):
    r"""Wilson–Cowan model of an excitatory (`E`) and an inhibitory (`I`) population, in the
    form of neurolib's `wc` model (Wilson & Cowan 1972, Biophys. J. 12, 1; parameters of
    Papadopoulos et al. 2020, PLoS Comput. Biol. 16, e1008144):

    $$\tau_E \dot E = -E + (1 - E)\,S_E(c_{EE} E - c_{IE} I + P_E + I_E),$$
    $$\tau_I \dot I = -I + (1 - I)\,S_I(c_{EI} E - c_{II} I + P_I + I_I),$$
    $$S_X(u) = \frac{1}{1 + e^{-a_X (u - \mu_X)}}.$$

    `E` and `I` are the fractions of active cells (dimensionless, in [0, 1] from an initial
    state in [0, 1]). **Inputs enter inside the sigmoids**: row `E` of `inputs` (the network
    coupling of `E`, plus any external drive) is the `I_E` above, row `I` the `I_I`; neither
    is added to the derivative. The network couples `E` by default, as neurolib does
    (additive coupling `K_gl * sum_j Cmat[i, j] * E_j(t - d_ij)` inside `S_E`).

    Subscripts read "from, to": `c_ei` is the E→I weight, in the `I` equation (neurolib's
    `c_excinh`), `c_ie` the I→E weight, in the `E` equation (`c_inhexc`).

    **Arguments:**

    - `tau_e`, `tau_i`: time constants, ms; > 0.
    - `c_ee`, `c_ei`, `c_ie`, `c_ii`: local coupling weights, dimensionless; >= 0 (the sign of
        inhibition is in the equations).
    - `a_e`, `a_i`: sigmoid gains, dimensionless; > 0.
    - `mu_e`, `mu_i`: sigmoid thresholds, dimensionless.
    - `p_e`, `p_i`: constant background drive inside the sigmoids, dimensionless (neurolib's
        `exc_ext_baseline`, `inh_ext_baseline`).
    - `e0`, `i0`: initial state, fractions of active cells (dimensionless).

    Every parameter may be a scalar or a per-region `(N,)` array.
    """

    tau_e: Parameter = param(2.5)
    tau_i: Parameter = param(3.75)
    c_ee: Parameter = param(16.0)
    c_ei: Parameter = param(15.0)
    c_ie: Parameter = param(12.0)
    c_ii: Parameter = param(3.0)
    a_e: Parameter = param(1.5)
    a_i: Parameter = param(1.5)
    mu_e: Parameter = param(3.0)
    mu_i: Parameter = param(3.0)
    p_e: Parameter = param(0.0)
    p_i: Parameter = param(0.0)
    e0: Parameter = param(0.05)
    i0: Parameter = param(0.05)

    variables: ClassVar[tuple[str, ...]] = ("E", "I")
    coupled_variables: ClassVar[tuple[str, ...]] = ("E",)
    units: ClassVar[dict[str, str]] = {
        "tau_e": "ms", "tau_i": "ms", "c_ee": "dimensionless", "c_ei": "dimensionless",
        "c_ie": "dimensionless", "c_ii": "dimensionless", "a_e": "dimensionless",
        "a_i": "dimensionless", "mu_e": "dimensionless", "mu_i": "dimensionless",
        "p_e": "dimensionless", "p_i": "dimensionless", "e0": "dimensionless",
        "i0": "dimensionless",
    }
    citation: ClassVar[str] = (
        "Wilson & Cowan 1972, Biophys. J. 12, 1; Papadopoulos et al. 2020, PLoS Comput. "
        "Biol. 16, e1008144 (parameters); neurolib wc"
    )

    def __check_init__(self):
        for name in ("tau_e", "tau_i", "a_e", "a_i"):
            check_range("WilsonCowan", name, getattr(self, name), lower=0.0)
        for name in ("c_ee", "c_ei", "c_ie", "c_ii"):
            check_range("WilsonCowan", name, getattr(self, name), lower=0.0, strict=False)

    def vector_field(self, t, state: State, inputs: State) -> State:
        e, i = state
        input_e, input_i = inputs
        s_e = jax.nn.sigmoid(
            self.a_e * (self.c_ee * e - self.c_ie * i + self.p_e + input_e - self.mu_e)
        )
        s_i = jax.nn.sigmoid(
            self.a_i * (self.c_ei * e - self.c_ii * i + self.p_i + input_i - self.mu_i)
        )
        de = (-e + (1 - e) * s_e) / self.tau_e
        di = (-i + (1 - i) * s_i) / self.tau_i
        return jnp.stack([de, di])

    def initial_state(self, n_regions: int) -> State:
        return stack_initial(n_regions, self.e0, self.i0)
