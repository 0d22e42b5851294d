"""The Montbrió–Pazó–Roxin next-generation neural mass model."""

from typing import ClassVar

import jax.numpy as jnp

from .._custom_types import Parameter, State
from .._errors import check_range
from ._base import AbstractNodeModel, param, stack_initial


class MontbrioPazoRoxin(AbstractNodeModel):
    r"""Montbrió–Pazó–Roxin model: the exact mean field of a population of quadratic
    integrate-and-fire neurons with Lorentzian-distributed excitabilities (Montbrió, Pazó &
    Roxin 2015, Phys. Rev. X 5, 021028), as TVB's `MontbrioPazoRoxin`:

    $$\tau\,\dot r = \frac{\Delta}{\pi\tau} + 2 r V,$$
    $$\tau\,\dot V = V^2 + \eta + J\tau r - (\pi\tau r)^2 + I + \tau I_r + I_V.$$

    `r` is the population firing rate (1/ms) and `V` the mean membrane potential
    (dimensionless, in the paper's scaled units). The membrane time constant $\tau$ appears
    the same way in both equations, as in the paper: scaling $\tau \to c\tau$ with
    $r \to r/c$ slows the dynamics by $c$ and leaves $V$ unchanged. (brainmass's `QIF` writes
    $\dot r = \Delta/(\pi\tau) + 2rV / (1\,\mathrm{ms})$, which is right only for
    $\tau = 1$ ms.)

    **Inputs.** Row `r` of `inputs` is an afferent firing rate (1/ms), e.g. the network
    coupling $k\sum_j w_{ij} r_j(t - d_{ij})$; it enters the `V` equation like the recurrent
    term $J\tau r$, with unit efficacy: $+\tau I_r$ (TVB adds its coupling there too, without
    the $\tau$, which is the same for its default $\tau = 1$ ms). Row `V` is a dimensionless
    current added to $I$. Neither enters the `r` equation.

    Fixed points solve, with $u = \tau r > 0$ and $V = -\Delta/(2\pi u)$,
    $-\pi^2 u^4 + J u^3 + (\eta + I) u^2 + \Delta^2/(4\pi^2) = 0$.

    **Arguments:**

    - `tau`: membrane time constant, ms; > 0.
    - `delta`: half-width of the Lorentzian distribution of excitabilities, dimensionless;
        > 0.
    - `eta`: centre of that distribution (mean excitability), dimensionless.
    - `J`: recurrent synaptic weight, dimensionless.
    - `I`: constant external current, dimensionless.
    - `r0` (1/ms), `V0` (dimensionless): initial state.

    Every parameter may be a scalar or a per-region `(N,)` array.
    """

    tau: Parameter = param(1.0)
    delta: Parameter = param(1.0)
    eta: Parameter = param(-5.0)
    J: Parameter = param(15.0)
    I: Parameter = param(0.0)
    r0: Parameter = param(0.1)
    V0: Parameter = param(-2.0)

    variables: ClassVar[tuple[str, ...]] = ("r", "V")
    coupled_variables: ClassVar[tuple[str, ...]] = ("r",)
    units: ClassVar[dict[str, str]] = {
        "tau": "ms", "delta": "dimensionless", "eta": "dimensionless", "J": "dimensionless",
        "I": "dimensionless", "r0": "1/ms", "V0": "dimensionless",
    }
    citation: ClassVar[str] = (
        "Montbrió, Pazó & Roxin 2015, Phys. Rev. X 5, 021028; TVB MontbrioPazoRoxin"
    )

    def __check_init__(self):
        for name in ("tau", "delta"):
            check_range("MontbrioPazoRoxin", name, getattr(self, name), lower=0.0)

    def vector_field(self, t, state: State, inputs: State) -> State:
        r, v = state
        input_r, input_v = inputs
        tau = self.tau
        dr = (self.delta / (jnp.pi * tau) + 2 * r * v) / tau
        dv = (
            v**2
            + self.eta
            + self.J * tau * r
            - (jnp.pi * tau * r) ** 2
            + self.I
            + tau * input_r
            + input_v
        ) / tau
        return jnp.stack([dr, dv])

    def initial_state(self, n_regions: int) -> State:
        return stack_initial(n_regions, self.r0, self.V0)
