"""The two-variable Wong–Wang decision-making model (Wong & Wang 2006)."""

from typing import ClassVar

import jax.numpy as jnp

from .._custom_types import Parameter, State
from .._errors import check_range
from ._base import AbstractNodeModel, param, stack_initial
from ._transfer import wong_wang_transfer


class WongWang(AbstractNodeModel):
    r"""Reduced two-variable model of perceptual decision making: the NMDA gatings $S_1$,
    $S_2$ of two selective excitatory pools that compete through shared inhibition (Wong &
    Wang 2006, J. Neurosci. 26, 1314, Eqs. 7–11):

    $$x_1 = J_{N,11} S_1 - J_{N,12} S_2 + I_0 + I_1 + I_{S_1},\qquad
      x_2 = J_{N,22} S_2 - J_{N,21} S_1 + I_0 + I_2 + I_{S_2},$$
    $$H(x) = \frac{a x - b}{1 - e^{-d (a x - b)}},\qquad
      \dot S_i = -\frac{S_i}{\tau_S} + (1 - S_i)\,\gamma\,H(x_i),$$

    with the paper's stimulus $I_{1,2} = J_{A,ext}\,\mu_0\,(1 \pm c'/100)$, where $c'$ is
    the motion coherence in percent (positive favours pool 1) and $\mu_0$ the input rate.
    With a stimulus the symmetric state is unstable: one pool wins and rises to a high
    state, the other is suppressed.

    **Units.** Time in ms, currents in nA, rates in 1/ms. The paper's values are converted
    explicitly: $a$ = 270 Hz/nA = 0.270 1/(nA·ms), $b$ = 108 Hz = 0.108 1/ms, $d$ = 0.154 s
    = 154 ms, $\tau_S$ = 100 ms, $J_{A,ext}$ = 5.2e-4 nA/Hz = 0.52 nA·ms, $\mu_0$ = 30 Hz
    = 0.030 1/ms; $\gamma$ = 0.641 is dimensionless and multiplies $H$ in 1/ms directly.

    **Inputs.** Rows `S1` and `S2` of `inputs` ($I_{S_1}$, $I_{S_2}$ above) are currents
    in nA added to $x_1$ and $x_2$: a time-varying stimulus (give $I_1$, $I_2$ there, e.g.
    switched on at stimulus onset, and leave `mu_0` at 0), noise currents or network
    coupling. The network couples both pools by default, each to the same pool of the other
    regions. The paper's AMPA noise (an Ornstein–Uhlenbeck *current*, $\tau$ = 2 ms,
    $\sigma$ = 0.02 nA) is not built in: massfit's noise acts on the state variables.

    **Arguments:**

    - `a`: gain of the transfer function, 1/(nA·ms); > 0.
    - `b`: threshold of the transfer function, 1/ms.
    - `d`: curvature of the transfer function, ms; > 0.
    - `gamma`: NMDA kinetic parameter, dimensionless; >= 0.
    - `tau_S`: NMDA decay time, ms; > 0.
    - `J_N11`, `J_N22`: self-excitation of each pool, nA; >= 0 (0.2609).
    - `J_N12`, `J_N21`: effective inhibition from the other pool, nA; >= 0 (0.0497).
    - `I_0`: background current, nA (0.3255).
    - `J_ext`: stimulus coupling, nA·ms; >= 0 (0.52).
    - `mu_0`: stimulus rate, 1/ms; >= 0. Default 0 (no stimulus, the spontaneous state);
        the paper's 30 Hz is `0.030`.
    - `coherence`: stimulus coherence $c'$, percent, in [-100, 100].
    - `S1_0`, `S2_0`: initial gatings, dimensionless.

    Every parameter may be a scalar or a per-region `(N,)` array.
    """

    a: Parameter = param(0.270)
    b: Parameter = param(0.108)
    d: Parameter = param(154.0)
    gamma: Parameter = param(0.641)
    tau_S: Parameter = param(100.0)
    J_N11: Parameter = param(0.2609)
    J_N22: Parameter = param(0.2609)
    J_N12: Parameter = param(0.0497)
    J_N21: Parameter = param(0.0497)
    I_0: Parameter = param(0.3255)
    J_ext: Parameter = param(0.52)
    mu_0: Parameter = param(0.0)
    coherence: Parameter = param(0.0)
    S1_0: Parameter = param(0.1)
    S2_0: Parameter = param(0.1)

    variables: ClassVar[tuple[str, ...]] = ("S1", "S2")
    coupled_variables: ClassVar[tuple[str, ...]] = ("S1", "S2")
    units: ClassVar[dict[str, str]] = {
        "a": "1/(nA·ms)", "b": "1/ms", "d": "ms", "gamma": "dimensionless", "tau_S": "ms",
        "J_N11": "nA", "J_N22": "nA", "J_N12": "nA", "J_N21": "nA", "I_0": "nA", "J_ext": "nA·ms",
        "mu_0": "1/ms", "coherence": "%", "S1_0": "dimensionless", "S2_0": "dimensionless",
    }
    citation: ClassVar[str] = "Wong & Wang 2006, J. Neurosci. 26, 1314"

    def __check_init__(self):
        for name in ("a", "d", "tau_S"):
            check_range("WongWang", name, getattr(self, name), lower=0.0)
        for name in ("gamma", "J_N11", "J_N22", "J_N12", "J_N21", "J_ext", "mu_0"):
            check_range("WongWang", name, getattr(self, name), lower=0.0, strict=False)

    def stimulus(self):
        """The paper's stimulus currents $(I_1, I_2)$, nA."""
        base = self.J_ext * self.mu_0
        return base * (1 + self.coherence / 100), base * (1 - self.coherence / 100)

    def rates(self, state: State, inputs: State | None = None):
        """The rates $(H(x_1), H(x_2))$ of the two pools of each region, 1/ms."""
        s1, s2 = state
        input_1, input_2 = (0.0, 0.0) if inputs is None else inputs
        stimulus_1, stimulus_2 = self.stimulus()
        x1 = self.J_N11 * s1 - self.J_N12 * s2 + self.I_0 + stimulus_1 + input_1
        x2 = self.J_N22 * s2 - self.J_N21 * s1 + self.I_0 + stimulus_2 + input_2
        return (
            wong_wang_transfer(x1, self.a, self.b, self.d),
            wong_wang_transfer(x2, self.a, self.b, self.d),
        )

    def vector_field(self, t, state: State, inputs: State) -> State:
        rate_1, rate_2 = self.rates(state, inputs)
        return -state / self.tau_S + (1 - state) * self.gamma * jnp.stack([rate_1, rate_2])

    def initial_state(self, n_regions: int) -> State:
        return stack_initial(n_regions, self.S1_0, self.S2_0)
