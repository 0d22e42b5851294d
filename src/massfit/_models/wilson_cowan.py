"""The Wilson–Cowan family: excitatory–inhibitory population rate models.

`WilsonCowan` holds the variants whose equations are the same (options and parameters:
the sigmoid's shift, the refractory factor `r`, tied parameters); the variants with other
equations — a rectified-linear transfer, divisive inhibition, adaptation currents, a third
population — are classes of their own.
"""

from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp

from .._custom_types import Parameter, State
from .._errors import check_range
from ._base import AbstractNodeModel, param, stack_initial


_SIGMOIDS = ("unshifted", "shifted")


def shifted_sigmoid(u, a, theta):
    r"""Wilson & Cowan's (1972) sigmoid, shifted so that it is 0 at `u = 0`:
    $S(u) = 1/(1 + e^{-a(u - \theta)}) - 1/(1 + e^{a\theta})$."""
    return jax.nn.sigmoid(a * (u - theta)) - jax.nn.sigmoid(-a * theta)


def _check(owner, model, positive=(), nonnegative=()):
    for name in positive:
        check_range(owner, name, getattr(model, name), lower=0.0)
    for name in nonnegative:
        check_range(owner, name, getattr(model, name), lower=0.0, strict=False)


def _units(ms: str = "", dimensionless: str = "", **others: str) -> dict[str, str]:
    """A model's `units` from space-separated field names per unit (plus single fields)."""
    units = {name: "ms" for name in ms.split()}
    units.update({name: "dimensionless" for name in dimensionless.split()})
    units.update(others)
    return units


class WilsonCowan(AbstractNodeModel):
    r"""Wilson–Cowan model of an excitatory (`E`) and an inhibitory (`I`) population, in the
    form of neurolib's `wc` model (Wilson & Cowan 1972, Biophys. J. 12, 1; parameters of
    Papadopoulos et al. 2020, PLoS Comput. Biol. 16, e1008144):

    $$\tau_E \dot E = -E + (1 - r E)\,S_E(c_{EE} E - c_{IE} I + P_E + I_E),$$
    $$\tau_I \dot I = -I + (1 - r I)\,S_I(c_{EI} E - c_{II} I + P_I + I_I),$$

    with, by `sigmoid`,

    - `"unshifted"` (default, neurolib): $S_X(u) = 1/(1 + e^{-a_X (u - \mu_X)})$;
    - `"shifted"` (Wilson & Cowan 1972, brainmass):
      $S_X(u) = 1/(1 + e^{-a_X (u - \mu_X)}) - 1/(1 + e^{a_X \mu_X})$, so $S_X(0) = 0$
      and `E = I = 0` is the rest state without input.

    `E` and `I` are the fractions of active cells (dimensionless). **Inputs enter inside the
    sigmoids**: row `E` of `inputs` (the network coupling of `E`, plus any external drive)
    is the `I_E` above, row `I` the `I_I`; neither is added to the derivative. The network
    couples `E` by default, as neurolib does.

    Subscripts read "from, to": `c_ei` is the E→I weight, in the `I` equation (neurolib's
    `c_excinh`), `c_ie` the I→E weight, in the `E` equation (`c_inhexc`).

    brainmass's variants with the same equations are options of this class (its `wXY`
    weights read "to X from Y" in its `WilsonCowanStep`: `wIE` is our `c_ie`):

    - `WilsonCowanStep`: `sigmoid="shifted"`, `tau_e = tau_i = 1`, `a_e = 1.2`, `mu_e = 2.8`,
      `a_i = 1`, `mu_i = 4`, `c_ee, c_ie, c_ei, c_ii = 12, 4, 13, 11`;
    - `WilsonCowanNoSaturationStep`: the same with `r = 0` (no refractory factor);
    - `WilsonCowanSymmetricStep`: the same with `a_e = a_i = 1.1`, `mu_e = mu_i = 3.4` (and
      `tau_e = tau_i`);
    - `WilsonCowanSimplifiedStep`: the same with `c_ee = c_ei = 8` (its `w_exc`) and
      `c_ie = c_ii = 12` (its `w_inh`).

    **Arguments:**

    - `tau_e`, `tau_i`: time constants, ms; > 0.
    - `c_ee`, `c_ei`, `c_ie`, `c_ii`: local coupling weights, dimensionless; >= 0 (the sign of
        inhibition is in the equations).
    - `a_e`, `a_i`: sigmoid gains, dimensionless; > 0.
    - `mu_e`, `mu_i`: sigmoid thresholds, dimensionless.
    - `p_e`, `p_i`: constant background drive inside the sigmoids, dimensionless (neurolib's
        `exc_ext_baseline`, `inh_ext_baseline`).
    - `r`: refractory (saturation) factor, dimensionless; >= 0. 1 (default) is neurolib's
        and brainmass's `(1 - E)`; 0 removes saturation.
    - `e0`, `i0`: initial state.
    - `sigmoid`: `"unshifted"` (default) or `"shifted"`, as above (static).

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
    r: Parameter = param(1.0)
    e0: Parameter = param(0.05)
    i0: Parameter = param(0.05)
    sigmoid: str = eqx.field(default="unshifted", static=True)

    variables: ClassVar[tuple[str, ...]] = ("E", "I")
    coupled_variables: ClassVar[tuple[str, ...]] = ("E",)
    units: ClassVar[dict[str, str]] = _units(
        ms="tau_e tau_i",
        dimensionless="c_ee c_ei c_ie c_ii a_e a_i mu_e mu_i p_e p_i r e0 i0",
        sigmoid="option(unshifted|shifted)",
    )
    citation: ClassVar[str] = (
        "Wilson & Cowan 1972, Biophys. J. 12, 1; Papadopoulos et al. 2020, PLoS Comput. "
        "Biol. 16, e1008144 (parameters); neurolib wc; brainmass WilsonCowanStep (shifted "
        "sigmoid)"
    )

    def __check_init__(self):
        if self.sigmoid not in _SIGMOIDS:
            raise ValueError(
                f"WilsonCowan: `sigmoid` must be one of {_SIGMOIDS}; got {self.sigmoid!r}."
            )
        _check(
            "WilsonCowan",
            self,
            positive=("tau_e", "tau_i", "a_e", "a_i"),
            nonnegative=("c_ee", "c_ei", "c_ie", "c_ii", "r"),
        )

    def transfer(self, u, a, mu):
        """The sigmoid `S(u)` chosen by `sigmoid`."""
        if self.sigmoid == "shifted":
            return shifted_sigmoid(u, a, mu)
        return jax.nn.sigmoid(a * (u - mu))

    def vector_field(self, t, state: State, inputs: State) -> State:
        e, i = state
        input_e, input_i = inputs
        s_e = self.transfer(self.c_ee * e - self.c_ie * i + self.p_e + input_e, self.a_e, self.mu_e)
        s_i = self.transfer(self.c_ei * e - self.c_ii * i + self.p_i + input_i, self.a_i, self.mu_i)
        de = (-e + (1 - self.r * e) * s_e) / self.tau_e
        di = (-i + (1 - self.r * i) * s_i) / self.tau_i
        return jnp.stack([de, di])

    def initial_state(self, n_regions: int) -> State:
        return stack_initial(n_regions, self.e0, self.i0)


class WilsonCowanLinear(AbstractNodeModel):
    r"""Wilson–Cowan model with a rectified-linear (threshold-linear) transfer instead of the
    sigmoid, brainmass's `WilsonCowanLinearStep`:

    $$\tau_E \dot E = -E + (1 - r E)\,[c_{EE} E - c_{IE} I + P_E + I_E]_+,$$
    $$\tau_I \dot I = -I + (1 - r I)\,[c_{EI} E - c_{II} I + P_I + I_I]_+,$$

    $[u]_+ = \max(u, 0)$. A class of its own: it has no sigmoid gain or threshold. Inputs
    enter inside the rectifier (row `E` of `inputs` is `I_E`, row `I` is `I_I`); the
    network couples `E`. Defaults are brainmass's (its `wEE, wIE, wEI, wII = 0.8, 0.3, 1.0,
    0.85` read "to, from": our `c_ee, c_ie, c_ei, c_ii`).

    **Arguments:**

    - `tau_e`, `tau_i`: time constants, ms; > 0.
    - `c_ee`, `c_ei`, `c_ie`, `c_ii`: local weights ("from, to"), dimensionless; >= 0.
    - `p_e`, `p_i`: background drive, dimensionless.
    - `r`: refractory factor, dimensionless; >= 0.
    - `e0`, `i0`: initial state.
    """

    tau_e: Parameter = param(1.0)
    tau_i: Parameter = param(1.0)
    c_ee: Parameter = param(0.8)
    c_ei: Parameter = param(1.0)
    c_ie: Parameter = param(0.3)
    c_ii: Parameter = param(0.85)
    p_e: Parameter = param(0.0)
    p_i: Parameter = param(0.0)
    r: Parameter = param(1.0)
    e0: Parameter = param(0.1)
    i0: Parameter = param(0.05)

    variables: ClassVar[tuple[str, ...]] = ("E", "I")
    coupled_variables: ClassVar[tuple[str, ...]] = ("E",)
    units: ClassVar[dict[str, str]] = _units(
        ms="tau_e tau_i",
        dimensionless="c_ee c_ei c_ie c_ii p_e p_i r e0 i0",
    )
    citation: ClassVar[str] = (
        "Wilson & Cowan 1972, Biophys. J. 12, 1 (rectified-linear transfer); brainmass "
        "WilsonCowanLinearStep"
    )

    def __check_init__(self):
        _check(
            "WilsonCowanLinear",
            self,
            positive=("tau_e", "tau_i"),
            nonnegative=("c_ee", "c_ei", "c_ie", "c_ii", "r"),
        )

    def vector_field(self, t, state: State, inputs: State) -> State:
        e, i = state
        input_e, input_i = inputs
        u_e = jnp.maximum(self.c_ee * e - self.c_ie * i + self.p_e + input_e, 0.0)
        u_i = jnp.maximum(self.c_ei * e - self.c_ii * i + self.p_i + input_i, 0.0)
        de = (-e + (1 - self.r * e) * u_e) / self.tau_e
        di = (-i + (1 - self.r * i) * u_i) / self.tau_i
        return jnp.stack([de, di])

    def initial_state(self, n_regions: int) -> State:
        return stack_initial(n_regions, self.e0, self.i0)


class WilsonCowanDivisive(AbstractNodeModel):
    r"""Wilson–Cowan model with divisive (shunting) inhibition, brainmass's
    `WilsonCowanDivisiveStep`: inhibition divides the gain instead of subtracting from the
    input (divisive normalisation, Carandini & Heeger 2012, Nat. Rev. Neurosci. 13, 51):

    $$\tau_E \dot E = -E + \frac{1 - r E}{\sigma_E + c_{IE} I}\,S_E(c_{EE} E + P_E + I_E),$$
    $$\tau_I \dot I = -I + \frac{1 - r I}{\sigma_I + c_{II} I}\,S_I(c_{EI} E + P_I + I_I),$$

    with the shifted sigmoid $S_X(u) = 1/(1 + e^{-a_X (u - \mu_X)}) - 1/(1 + e^{a_X \mu_X})$.
    A class of its own: inhibition enters another place in the equations. Inputs enter inside
    the sigmoids; the network couples `E`. Defaults are brainmass's (its `wEE, wEI, wIE, wII
    = 6, 6.5, 2, 5.5`, where `wEI` is in the `E` equation: our `c_ee, c_ie, c_ei, c_ii`).

    **Arguments:**

    - `tau_e`, `tau_i`: time constants, ms; > 0.
    - `c_ee`, `c_ei`, `c_ie`, `c_ii`: local weights ("from, to"), dimensionless; >= 0.
    - `a_e`, `a_i`: sigmoid gains; > 0. `mu_e`, `mu_i`: sigmoid thresholds.
    - `sigma_e`, `sigma_i`: semi-saturation constants of the division, dimensionless; > 0.
    - `p_e`, `p_i`: background drive. `r`: refractory factor; >= 0. `e0`, `i0`: initial state.
    """

    tau_e: Parameter = param(1.0)
    tau_i: Parameter = param(1.0)
    c_ee: Parameter = param(6.0)
    c_ei: Parameter = param(2.0)
    c_ie: Parameter = param(6.5)
    c_ii: Parameter = param(5.5)
    a_e: Parameter = param(1.2)
    a_i: Parameter = param(1.0)
    mu_e: Parameter = param(2.8)
    mu_i: Parameter = param(4.0)
    sigma_e: Parameter = param(1.0)
    sigma_i: Parameter = param(1.0)
    p_e: Parameter = param(0.0)
    p_i: Parameter = param(0.0)
    r: Parameter = param(1.0)
    e0: Parameter = param(0.1)
    i0: Parameter = param(0.05)

    variables: ClassVar[tuple[str, ...]] = ("E", "I")
    coupled_variables: ClassVar[tuple[str, ...]] = ("E",)
    units: ClassVar[dict[str, str]] = _units(
        ms="tau_e tau_i",
        dimensionless="c_ee c_ei c_ie c_ii a_e a_i mu_e mu_i sigma_e sigma_i p_e p_i r e0 i0",
    )
    citation: ClassVar[str] = (
        "Wilson & Cowan 1972, Biophys. J. 12, 1 (with divisive inhibition); brainmass "
        "WilsonCowanDivisiveStep"
    )

    def __check_init__(self):
        _check(
            "WilsonCowanDivisive",
            self,
            positive=("tau_e", "tau_i", "a_e", "a_i", "sigma_e", "sigma_i"),
            nonnegative=("c_ee", "c_ei", "c_ie", "c_ii", "r"),
        )

    def vector_field(self, t, state: State, inputs: State) -> State:
        e, i = state
        input_e, input_i = inputs
        s_e = shifted_sigmoid(self.c_ee * e + self.p_e + input_e, self.a_e, self.mu_e)
        s_i = shifted_sigmoid(self.c_ei * e + self.p_i + input_i, self.a_i, self.mu_i)
        de = (-e + (1 - self.r * e) / (self.sigma_e + self.c_ie * i) * s_e) / self.tau_e
        di = (-i + (1 - self.r * i) / (self.sigma_i + self.c_ii * i) * s_i) / self.tau_i
        return jnp.stack([de, di])

    def initial_state(self, n_regions: int) -> State:
        return stack_initial(n_regions, self.e0, self.i0)


class WilsonCowanAdaptive(AbstractNodeModel):
    r"""Wilson–Cowan model with spike-frequency adaptation, brainmass's
    `WilsonCowanAdaptiveStep`: a slow adaptation variable per population is subtracted from
    its input (as in the rate models of Benda & Herz 2003, Neural Comput. 15, 2523):

    $$\tau_E \dot E = -E + (1 - r E)\,S_E(c_{EE} E - c_{IE} I - A_E + P_E + I_E),$$
    $$\tau_I \dot I = -I + (1 - r I)\,S_I(c_{EI} E - c_{II} I - A_I + P_I + I_I),$$
    $$\tau_{aE} \dot A_E = -A_E + b_E E, \qquad \tau_{aI} \dot A_I = -A_I + b_I I,$$

    with the shifted sigmoid $S_X(u) = 1/(1 + e^{-a_X (u - \mu_X)}) - 1/(1 + e^{a_X \mu_X})$.
    A class of its own: it has two more state variables. Inputs enter inside the sigmoids
    (rows `E`, `I`) and are added to the derivatives of `A_E`, `A_I`; the network couples
    `E`. Defaults are brainmass's (its `wEE, wEI, wIE, wII = 12, 13, 4, 11`, where `wEI` is
    in the `E` equation: our `c_ee, c_ie, c_ei, c_ii`).

    **Arguments:**

    - `tau_e`, `tau_i`: time constants, ms; > 0.
    - `c_ee`, `c_ei`, `c_ie`, `c_ii`: local weights ("from, to"), dimensionless; >= 0.
    - `a_e`, `a_i`: sigmoid gains; > 0. `mu_e`, `mu_i`: sigmoid thresholds.
    - `tau_ae`, `tau_ai`: adaptation time constants, ms; > 0.
    - `b_e`, `b_i`: adaptation strengths, dimensionless; >= 0.
    - `p_e`, `p_i`: background drive. `r`: refractory factor; >= 0.
    - `e0`, `i0`, `ae0`, `ai0`: initial state.
    """

    tau_e: Parameter = param(1.0)
    tau_i: Parameter = param(1.0)
    c_ee: Parameter = param(12.0)
    c_ei: Parameter = param(4.0)
    c_ie: Parameter = param(13.0)
    c_ii: Parameter = param(11.0)
    a_e: Parameter = param(1.2)
    a_i: Parameter = param(1.0)
    mu_e: Parameter = param(2.8)
    mu_i: Parameter = param(4.0)
    tau_ae: Parameter = param(100.0)
    tau_ai: Parameter = param(80.0)
    b_e: Parameter = param(0.1)
    b_i: Parameter = param(0.08)
    p_e: Parameter = param(0.0)
    p_i: Parameter = param(0.0)
    r: Parameter = param(1.0)
    e0: Parameter = param(0.1)
    i0: Parameter = param(0.05)
    ae0: Parameter = param(0.0)
    ai0: Parameter = param(0.0)

    variables: ClassVar[tuple[str, ...]] = ("E", "I", "A_E", "A_I")
    coupled_variables: ClassVar[tuple[str, ...]] = ("E",)
    units: ClassVar[dict[str, str]] = _units(
        ms="tau_e tau_i tau_ae tau_ai",
        dimensionless="c_ee c_ei c_ie c_ii a_e a_i mu_e mu_i b_e b_i p_e p_i r e0 i0 ae0 ai0",
    )
    citation: ClassVar[str] = (
        "Wilson & Cowan 1972, Biophys. J. 12, 1 (with spike-frequency adaptation); "
        "brainmass WilsonCowanAdaptiveStep"
    )

    def __check_init__(self):
        _check(
            "WilsonCowanAdaptive",
            self,
            positive=("tau_e", "tau_i", "a_e", "a_i", "tau_ae", "tau_ai"),
            nonnegative=("c_ee", "c_ei", "c_ie", "c_ii", "b_e", "b_i", "r"),
        )

    def vector_field(self, t, state: State, inputs: State) -> State:
        e, i, ae, ai = state
        input_e, input_i, input_ae, input_ai = inputs
        u_e = self.c_ee * e - self.c_ie * i - ae + self.p_e + input_e
        u_i = self.c_ei * e - self.c_ii * i - ai + self.p_i + input_i
        de = (-e + (1 - self.r * e) * shifted_sigmoid(u_e, self.a_e, self.mu_e)) / self.tau_e
        di = (-i + (1 - self.r * i) * shifted_sigmoid(u_i, self.a_i, self.mu_i)) / self.tau_i
        dae = (-ae + self.b_e * e) / self.tau_ae + input_ae
        dai = (-ai + self.b_i * i) / self.tau_ai + input_ai
        return jnp.stack([de, di, dae, dai])

    def initial_state(self, n_regions: int) -> State:
        return stack_initial(n_regions, self.e0, self.i0, self.ae0, self.ai0)


class WilsonCowanThreePopulation(AbstractNodeModel):
    r"""Wilson–Cowan model with a third, excitatory population `M` (e.g. a second excitatory
    or a modulatory population), brainmass's `WilsonCowanThreePopulationStep`:

    $$\tau_E \dot E = -E + (1 - r E)\,S_E(c_{EE} E - c_{IE} I + c_{ME} M + P_E + I_E),$$
    $$\tau_I \dot I = -I + (1 - r I)\,S_I(c_{EI} E - c_{II} I + c_{MI} M + P_I + I_I),$$
    $$\tau_M \dot M = -M + (1 - r M)\,S_M(c_{EM} E - c_{IM} I + c_{MM} M + P_M + I_M),$$

    with the shifted sigmoid $S_X(u) = 1/(1 + e^{-a_X (u - \mu_X)}) - 1/(1 + e^{a_X \mu_X})$.
    A class of its own: it has a third state variable. Inputs enter inside the sigmoids (rows
    `E`, `I`, `M`); the network couples `E`. Subscripts read "from, to"; defaults are
    brainmass's (its `wXY` read "to X from Y": `wEE, wEI, wEM, wIE, wII, wIM, wME, wMI, wMM
    = 12, 13, 4, 4, 11, 2, 8, 6, 2` are our `c_ee, c_ie, c_me, c_ei, c_ii, c_mi, c_em, c_im,
    c_mm`). With `c_me = c_mi = 0`, `E` and `I` follow the two-population model.

    **Arguments:**

    - `tau_e`, `tau_i`, `tau_m`: time constants, ms; > 0.
    - `c_ee`, `c_ei`, `c_em`, `c_ie`, `c_ii`, `c_im`, `c_me`, `c_mi`, `c_mm`: local weights
        ("from, to"), dimensionless; >= 0 (inhibition from `I` is subtracted).
    - `a_e`, `a_i`, `a_m`: sigmoid gains; > 0. `mu_e`, `mu_i`, `mu_m`: sigmoid thresholds.
    - `p_e`, `p_i`, `p_m`: background drive. `r`: refractory factor; >= 0.
    - `e0`, `i0`, `m0`: initial state.
    """

    tau_e: Parameter = param(1.0)
    tau_i: Parameter = param(1.0)
    tau_m: Parameter = param(2.0)
    c_ee: Parameter = param(12.0)
    c_ei: Parameter = param(4.0)
    c_em: Parameter = param(8.0)
    c_ie: Parameter = param(13.0)
    c_ii: Parameter = param(11.0)
    c_im: Parameter = param(6.0)
    c_me: Parameter = param(4.0)
    c_mi: Parameter = param(2.0)
    c_mm: Parameter = param(2.0)
    a_e: Parameter = param(1.2)
    a_i: Parameter = param(1.0)
    a_m: Parameter = param(1.0)
    mu_e: Parameter = param(2.8)
    mu_i: Parameter = param(4.0)
    mu_m: Parameter = param(3.5)
    p_e: Parameter = param(0.0)
    p_i: Parameter = param(0.0)
    p_m: Parameter = param(0.0)
    r: Parameter = param(1.0)
    e0: Parameter = param(0.1)
    i0: Parameter = param(0.05)
    m0: Parameter = param(0.05)

    variables: ClassVar[tuple[str, ...]] = ("E", "I", "M")
    coupled_variables: ClassVar[tuple[str, ...]] = ("E",)
    units: ClassVar[dict[str, str]] = _units(
        ms="tau_e tau_i tau_m",
        dimensionless=(
            "c_ee c_ei c_em c_ie c_ii c_im c_me c_mi c_mm a_e a_i a_m mu_e mu_i mu_m p_e p_i p_m "
            "r e0 i0 m0"
        ),
    )
    citation: ClassVar[str] = (
        "Wilson & Cowan 1972, Biophys. J. 12, 1 (three populations); brainmass "
        "WilsonCowanThreePopulationStep"
    )

    def __check_init__(self):
        weights = ("c_ee", "c_ei", "c_em", "c_ie", "c_ii", "c_im", "c_me", "c_mi", "c_mm")
        _check(
            "WilsonCowanThreePopulation",
            self,
            positive=("tau_e", "tau_i", "tau_m", "a_e", "a_i", "a_m"),
            nonnegative=(*weights, "r"),
        )

    def vector_field(self, t, state: State, inputs: State) -> State:
        e, i, m = state
        input_e, input_i, input_m = inputs
        u_e = self.c_ee * e - self.c_ie * i + self.c_me * m + self.p_e + input_e
        u_i = self.c_ei * e - self.c_ii * i + self.c_mi * m + self.p_i + input_i
        u_m = self.c_em * e - self.c_im * i + self.c_mm * m + self.p_m + input_m
        de = (-e + (1 - self.r * e) * shifted_sigmoid(u_e, self.a_e, self.mu_e)) / self.tau_e
        di = (-i + (1 - self.r * i) * shifted_sigmoid(u_i, self.a_i, self.mu_i)) / self.tau_i
        dm = (-m + (1 - self.r * m) * shifted_sigmoid(u_m, self.a_m, self.mu_m)) / self.tau_m
        return jnp.stack([de, di, dm])

    def initial_state(self, n_regions: int) -> State:
        return stack_initial(n_regions, self.e0, self.i0, self.m0)
