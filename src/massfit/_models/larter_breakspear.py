"""The Larter–Breakspear conductance-based neural mass model."""

from typing import ClassVar

import jax.numpy as jnp

from .._custom_types import Parameter, State
from .._errors import check_range
from ._base import AbstractNodeModel, param, stack_initial


def _activation(v, threshold, width):
    return 0.5 * (1 + jnp.tanh((v - threshold) / width))


class LarterBreakspear(AbstractNodeModel):
    r"""Larter–Breakspear model (Larter, Speelman & Worth 1999, Chaos 9, 795; Breakspear,
    Terry & Friston 2003, Network 14, 703), as TVB's `LarterBreakspear`: a Morris–Lecar-type
    population of pyramidal cells (mean membrane potential `V`, fraction of open K⁺
    channels `W`) with inhibitory interneurons (mean potential `Z`),

    $$\dot V = t_s\big[-(g_{Ca} + (1 - C)\,r_{NMDA} a_{ee} Q_V + C\,r_{NMDA} a_{ee}\,I_V)
        \,m_{Ca}\,(V - V_{Ca}) - g_K W (V - V_K) - g_L (V - V_L)$$
    $$\qquad - (g_{Na} m_{Na} + (1 - C) a_{ee} Q_V + C\,a_{ee}\,I_V)(V - V_{Na})
        - a_{ie} Z Q_Z + a_{ne} I_{ext}\big],$$
    $$\dot W = t_s\,\phi\,\frac{m_K - W}{\tau_K},\qquad
      \dot Z = t_s\,b\,(a_{ni} I_{ext} + a_{ei} V Q_V),$$

    with $m_{ion} = \tfrac12(1 + \tanh((V - T_{ion})/\delta_{ion}))$,
    $Q_V = \tfrac12 Q_{V,max}(1 + \tanh((V - V_T)/\delta_V))$ and
    $Q_Z = \tfrac12 Q_{Z,max}(1 + \tanh((Z - Z_T)/\delta_Z))$ (TVB's factor ½; the
    papers write the rates without it).

    **Time scale.** The equations are dimensionless; as in TVB the time unit is read as
    1 ms and `t_scale` rescales it. Variables and parameters are normalised (potentials in
    units of ~100 mV).

    **Coupling.** Row `V` of `inputs` is $I_V$, the mean firing rate of the afferent
    regions, $\langle Q_V\rangle$: it replaces the fraction `C` of the node's own
    excitatory feedback, as in the papers. TVB obtains it with `HyperbolicTangent` coupling;
    here use [`massfit.Tanh`][] with `a = 0.5 * QV_max`, `midpoint = VT`, `sigma = d_V`
    (and `k = 1`, with weights normalised per region). With no input an isolated node loses
    the fraction `C` of its self-excitation (TVB does the same); set `C = 0` to study a
    single column. Rows `W` and `Z` add to those derivatives (per ms).

    Breakspear et al. (2003) report fixed points for $\delta_V < 0.55$, periodic dynamics
    for $0.55 < \delta_V < 0.59$ and chaos above (e.g. $\delta_V = 0.6$, $a_{ee} = 0.5$,
    $a_{ie} = 0.5$, $g_{Na} = 0$, $I_{ext} = 0.165$, as TVB documents).

    **Arguments** (TVB's names and defaults, dimensionless unless stated):

    - `gCa`, `gK`, `gL`, `gNa`: Ca²⁺, K⁺, leak and Na⁺ conductances.
    - `VCa`, `VK`, `VL`, `VNa`: the corresponding Nernst potentials.
    - `TCa`, `TK`, `TNa`: channel thresholds; `d_Ca`, `d_K`, `d_Na`: their widths, > 0.
    - `phi`: temperature scaling of `W`; `tau_K`: K⁺ relaxation time, ms (the model's time
        unit, rescaled by `t_scale` like every time), > 0.
    - `aee`, `aei`, `aie`, `ane`, `ani`: synaptic strengths (excitatory to excitatory, to
        inhibitory, inhibitory to excitatory, non-specific to excitatory and inhibitory).
    - `b`: time-scale factor of `Z`; `rNMDA`: NMDA/AMPA ratio; `Iext`: subcortical input.
    - `C`: fraction of excitation that comes from other regions, in [0, 1].
    - `VT`, `d_V`, `ZT`, `d_Z`: thresholds and widths (> 0) of the rate functions;
        `QV_max`, `QZ_max`: maximal rates.
    - `t_scale`: time scaling; > 0.
    - `V0`, `W0`, `Z0`: initial state.

    Every parameter may be a scalar or a per-region `(N,)` array.
    """

    gCa: Parameter = param(1.1)
    gK: Parameter = param(2.0)
    gL: Parameter = param(0.5)
    phi: Parameter = param(0.7)
    gNa: Parameter = param(6.7)
    TK: Parameter = param(0.0)
    TCa: Parameter = param(-0.01)
    TNa: Parameter = param(0.3)
    VCa: Parameter = param(1.0)
    VK: Parameter = param(-0.7)
    VL: Parameter = param(-0.5)
    VNa: Parameter = param(0.53)
    d_K: Parameter = param(0.3)
    tau_K: Parameter = param(1.0)
    d_Na: Parameter = param(0.15)
    d_Ca: Parameter = param(0.15)
    aei: Parameter = param(2.0)
    aie: Parameter = param(2.0)
    b: Parameter = param(0.1)
    C: Parameter = param(0.1)
    ane: Parameter = param(1.0)
    ani: Parameter = param(0.4)
    aee: Parameter = param(0.4)
    Iext: Parameter = param(0.3)
    rNMDA: Parameter = param(0.25)
    VT: Parameter = param(0.0)
    d_V: Parameter = param(0.65)
    ZT: Parameter = param(0.0)
    d_Z: Parameter = param(0.7)
    QV_max: Parameter = param(1.0)
    QZ_max: Parameter = param(1.0)
    t_scale: Parameter = param(1.0)
    V0: Parameter = param(-0.2)
    W0: Parameter = param(0.0)
    Z0: Parameter = param(0.0)

    variables: ClassVar[tuple[str, ...]] = ("V", "W", "Z")
    coupled_variables: ClassVar[tuple[str, ...]] = ("V",)
    units: ClassVar[dict[str, str]] = {
        "gCa": "dimensionless", "gK": "dimensionless", "gL": "dimensionless",
        "phi": "dimensionless", "gNa": "dimensionless", "TK": "dimensionless",
        "TCa": "dimensionless", "TNa": "dimensionless", "VCa": "dimensionless",
        "VK": "dimensionless", "VL": "dimensionless", "VNa": "dimensionless",
        "d_K": "dimensionless", "tau_K": "ms", "d_Na": "dimensionless", "d_Ca": "dimensionless",
        "aei": "dimensionless", "aie": "dimensionless", "b": "dimensionless", "C": "dimensionless",
        "ane": "dimensionless", "ani": "dimensionless", "aee": "dimensionless",
        "Iext": "dimensionless", "rNMDA": "dimensionless", "VT": "dimensionless",
        "d_V": "dimensionless", "ZT": "dimensionless", "d_Z": "dimensionless",
        "QV_max": "dimensionless", "QZ_max": "dimensionless", "t_scale": "dimensionless",
        "V0": "dimensionless", "W0": "dimensionless", "Z0": "dimensionless",
    }
    citation: ClassVar[str] = (
        "Larter, Speelman & Worth 1999, Chaos 9, 795; Breakspear, Terry & Friston 2003, "
        "Network 14, 703; TVB LarterBreakspear"
    )

    def __check_init__(self):
        for name in ("d_Ca", "d_K", "d_Na", "d_V", "d_Z", "tau_K", "t_scale"):
            check_range("LarterBreakspear", name, getattr(self, name), lower=0.0)

    def vector_field(self, t, state: State, inputs: State) -> State:
        V, W, Z = state
        rate_in, input_W, input_Z = inputs
        m_Ca = _activation(V, self.TCa, self.d_Ca)
        m_Na = _activation(V, self.TNa, self.d_Na)
        m_K = _activation(V, self.TK, self.d_K)
        QV = self.QV_max * _activation(V, self.VT, self.d_V)
        QZ = self.QZ_max * _activation(Z, self.ZT, self.d_Z)
        excitation = (1 - self.C) * QV + self.C * rate_in
        dV = (
            -(self.gCa + self.rNMDA * self.aee * excitation) * m_Ca * (V - self.VCa)
            - self.gK * W * (V - self.VK)
            - self.gL * (V - self.VL)
            - (self.gNa * m_Na + self.aee * excitation) * (V - self.VNa)
            - self.aie * Z * QZ
            + self.ane * self.Iext
        )
        dW = self.phi * (m_K - W) / self.tau_K
        dZ = self.b * (self.ani * self.Iext + self.aei * V * QV)
        ts = self.t_scale
        return jnp.stack([ts * dV, ts * dW + input_W, ts * dZ + input_Z])

    def initial_state(self, n_regions: int) -> State:
        return stack_initial(n_regions, self.V0, self.W0, self.Z0)
