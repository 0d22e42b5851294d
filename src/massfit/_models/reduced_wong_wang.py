"""The reduced Wong–Wang model of one excitatory NMDA pool (Deco et al. 2013)."""

from typing import ClassVar

from .._custom_types import Parameter, State
from .._errors import check_range
from ._base import AbstractNodeModel, param, stack_initial
from ._transfer import wong_wang_transfer


class ReducedWongWang(AbstractNodeModel):
    r"""Reduced Wong–Wang model: the NMDA gating `S` of one excitatory pool per region
    (Deco et al. 2013, J. Neurosci. 33, 11239; Wong & Wang 2006), in the form of TVB's
    `ReducedWongWang`:

    $$x = w J_N S + I_0 + I_S,$$
    $$H(x) = \frac{a x - b}{1 - e^{-d (a x - b)}},$$
    $$\dot S = -\frac{S}{\tau_S} + (1 - S)\,\gamma\,H(x).$$

    **Units.** Time in ms, currents in nA, and $H$ a rate in 1/ms. The paper writes $H$ in
    Hz ($a$ = 270 Hz/nA, $b$ = 108 Hz, $d$ = 0.154 s, $\gamma$ = 0.641, $\tau_S$ = 0.1 s);
    converted explicitly, $a$ = 0.270 1/(nA·ms), $b$ = 0.108 1/ms, $d$ = 154 ms, and the
    dimensionless $\gamma$ = 0.641 stays as it is: $\gamma H$ is then in 1/ms, which is what
    $\dot S$ per ms needs (TVB's values). Writing $\gamma$ = 0.641/1000 instead is the same
    model only while $H$ is kept in Hz. At $x$ where $a x = b$, $H$ has a removable
    singularity: it takes its limit $1/d$ there, with a finite derivative.

    **Inputs.** Row `S` of `inputs`, $I_S$ above, is a current in nA added to $x$: network
    coupling and any external stimulus alike. Deco et al. write the long-range input as
    $J_N G \sum_j C_{ij} S_j$, and TVB multiplies its coupling by $J_N$; massfit does not,
    so that one input row means one physical quantity (a current) whatever `J_N` is, and
    fitting `J_N` does not silently rescale the coupling. With
    `coupling=massfit.Linear()` (input $k \sum_j w_{ij} S_j$, the paper's form; the
    default `Diffusive` coupling subtracts $S_i$) the paper's $G$ is `k = G * J_N` (nA).

    **Arguments:**

    - `a`: gain of the transfer function, 1/(nA·ms); > 0.
    - `b`: threshold of the transfer function, 1/ms.
    - `d`: curvature of the transfer function, ms; > 0.
    - `gamma`: kinetic parameter of NMDA gating, dimensionless; >= 0.
    - `tau_S`: NMDA decay time, ms; > 0.
    - `w`: local recurrent excitation, dimensionless; >= 0 (0.6 as TVB; the paper's
        bistable regime needs `w` above ~1.15 at `I_0 = 0.3`).
    - `J_N`: NMDA synaptic coupling, nA; >= 0.
    - `I_0`: background current, nA (the paper's 0.3; TVB's default is 0.33).
    - `S0`: initial gating, dimensionless.

    Every parameter may be a scalar or a per-region `(N,)` array.
    """

    a: Parameter = param(0.270)
    b: Parameter = param(0.108)
    d: Parameter = param(154.0)
    gamma: Parameter = param(0.641)
    tau_S: Parameter = param(100.0)
    w: Parameter = param(0.6)
    J_N: Parameter = param(0.2609)
    I_0: Parameter = param(0.3)
    S0: Parameter = param(0.2)

    variables: ClassVar[tuple[str, ...]] = ("S",)
    coupled_variables: ClassVar[tuple[str, ...]] = ("S",)
    units: ClassVar[dict[str, str]] = {
        "a": "1/(nA·ms)", "b": "1/ms", "d": "ms", "gamma": "dimensionless", "tau_S": "ms",
        "w": "dimensionless", "J_N": "nA", "I_0": "nA", "S0": "dimensionless",
    }
    citation: ClassVar[str] = (
        "Deco et al. 2013, J. Neurosci. 33, 11239; Wong & Wang 2006; TVB ReducedWongWang"
    )

    def __check_init__(self):
        for name in ("a", "d", "tau_S"):
            check_range("ReducedWongWang", name, getattr(self, name), lower=0.0)
        for name in ("gamma", "w", "J_N"):
            check_range("ReducedWongWang", name, getattr(self, name), lower=0.0, strict=False)

    def current(self, state: State, inputs: State | None = None):
        """The synaptic current $x$ of each region, nA, shape `(N,)`."""
        (s,) = state
        drive = 0.0 if inputs is None else inputs[0]
        return self.w * self.J_N * s + self.I_0 + drive

    def rate(self, state: State, inputs: State | None = None):
        """The population rate $H(x)$ of each region, 1/ms (×1000 for Hz), shape `(N,)`."""
        return wong_wang_transfer(self.current(state, inputs), self.a, self.b, self.d)

    def vector_field(self, t, state: State, inputs: State) -> State:
        (s,) = state
        ds = -s / self.tau_S + (1 - s) * self.gamma * self.rate(state, inputs)
        return ds[None]

    def initial_state(self, n_regions: int) -> State:
        return stack_initial(n_regions, self.S0)
