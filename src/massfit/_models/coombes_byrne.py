"""The Coombes–Byrne next-generation neural mass model with conductance-based synapses."""

from typing import ClassVar

import jax.numpy as jnp

from .._custom_types import Parameter, State
from .._errors import check_range
from ._base import AbstractNodeModel, param, stack_initial


class CoombesByrne(AbstractNodeModel):
    r"""Coombes–Byrne next-generation neural mass (Coombes & Byrne 2019, in *Nonlinear
    Dynamics in Computational Neuroscience*, Springer, pp. 1–16), as TVB's `CoombesByrne`:
    the exact mean field of quadratic integrate-and-fire neurons with Lorentzian
    excitabilities (centre $\eta$, half-width $\Delta$) coupled through a synaptic
    *conductance* `g` with second-order (alpha-function) kinetics,

    $$\dot r = \frac{\Delta}{\pi} + 2 r V - g\,r,\qquad
      \dot V = V^2 - \pi^2 r^2 + \eta + g\,(v_{syn} - V) + I_r + I_V,$$
    $$\dot g = \alpha\,q,\qquad \dot q = \alpha\,(\kappa \pi r - g - 2 q),$$

    i.e. $(1 + \alpha^{-1} d/dt)^2\, g = \kappa \pi r$. `r` is the firing rate, `V` the mean
    membrane potential (the paper's scaled units), `q` the rate of change of `g` (per $\alpha$).

    **Relation to [`massfit.MontbrioPazoRoxin`][].** Each neuron obeys
    $\dot v = v^2 + \eta + g (v_{syn} - v)$; for a given `g` this is the QIF of
    Montbrió–Pazó–Roxin with $\eta \to \eta + g v_{syn} - g^2/4$ and $v \to v - g/2$, which
    gives the $-g r$ and $-g V$ terms above. So with $\kappa = 0$ (no synapse) it is MPR
    with `tau = 1`, `J = 0`; otherwise it is MPR with MPR's current-based recurrence
    $J\tau r$ replaced by a conductance-based, alpha-filtered one, not MPR plus a synapse.
    (TVB's docstring writes $-g r^2$ in $\dot r$; its code and the derivation have $-g r$.)

    **Time scale.** The equations are dimensionless (membrane time constant 1); the time
    unit is read as 1 ms, as in TVB.

    **Inputs.** Row `r` of `inputs` is an afferent rate, e.g. the network coupling
    $k\sum_j w_{ij} r_j(t - d_{ij})$, added to $\dot V$ as in TVB; row `V` is a current also
    added to $\dot V$. Rows `g` and `q` add to their derivatives.

    **Arguments** (TVB's defaults; TVB calls `delta` `Delta` and `kappa` `k`):

    - `delta`: half-width of the excitability distribution, dimensionless; >= 0.
    - `eta`: centre of that distribution, dimensionless.
    - `alpha`: synaptic rate, 1/ms; > 0.
    - `kappa`: synaptic coupling strength within the population, dimensionless.
    - `v_syn`: synaptic reversal potential, dimensionless (negative: inhibitory).
    - `r0` (1/ms: the time unit is 1 ms), `V0`, `g0`, `q0` (dimensionless): initial state.

    Every parameter may be a scalar or a per-region `(N,)` array.
    """

    delta: Parameter = param(0.5)
    eta: Parameter = param(20.0)
    alpha: Parameter = param(0.95)
    kappa: Parameter = param(1.0)
    v_syn: Parameter = param(-10.0)
    r0: Parameter = param(0.5)
    V0: Parameter = param(-1.0)
    g0: Parameter = param(1.0)
    q0: Parameter = param(0.0)

    variables: ClassVar[tuple[str, ...]] = ("r", "V", "g", "q")
    coupled_variables: ClassVar[tuple[str, ...]] = ("r",)
    units: ClassVar[dict[str, str]] = {
        "delta": "dimensionless", "eta": "dimensionless", "alpha": "1/ms", "kappa": "dimensionless",
        "v_syn": "dimensionless", "r0": "1/ms", "V0": "dimensionless", "g0": "dimensionless",
        "q0": "dimensionless",
    }
    citation: ClassVar[str] = (
        "Coombes & Byrne 2019, in Nonlinear Dynamics in Computational Neuroscience "
        "(Springer), pp. 1–16; TVB CoombesByrne"
    )

    def __check_init__(self):
        check_range("CoombesByrne", "delta", self.delta, lower=0.0, strict=False)
        check_range("CoombesByrne", "alpha", self.alpha, lower=0.0)

    def vector_field(self, t, state: State, inputs: State) -> State:
        r, V, g, q = state
        input_r, input_V, input_g, input_q = inputs
        dr = self.delta / jnp.pi + 2 * r * V - g * r
        dV = V**2 - (jnp.pi * r) ** 2 + self.eta + g * (self.v_syn - V) + input_r + input_V
        dg = self.alpha * q + input_g
        dq = self.alpha * (self.kappa * jnp.pi * r - g - 2 * q) + input_q
        return jnp.stack([dr, dV, dg, dq])

    def initial_state(self, n_regions: int) -> State:
        return stack_initial(n_regions, self.r0, self.V0, self.g0, self.q0)
