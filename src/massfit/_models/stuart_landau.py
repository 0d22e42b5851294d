"""The Stuart–Landau oscillator with shear (amplitude-dependent frequency)."""

from typing import ClassVar

import jax.numpy as jnp

from .._custom_types import Parameter, State
from .._errors import check_range
from ._base import AbstractNodeModel, param, stack_initial


class StuartLandau(AbstractNodeModel):
    r"""Stuart–Landau oscillator: the normal form of a supercritical Hopf bifurcation with
    its cubic coefficient complex, so that the frequency depends on the amplitude (shear, or
    nonisochronicity). See Pikovsky, Rosenblum & Kurths (2001), *Synchronization*, Cambridge
    University Press, and Aranson & Kramer (2002), Rev. Mod. Phys. 74, 99 (the local term of
    the complex Ginzburg–Landau equation).

    In complex form, with $z = x + i y$,

    $$\dot z = (a + i\omega)\,z - (\beta + i\gamma)\,|z|^2 z + I_x + i I_y,$$

    which in polar form $z = \rho e^{i\varphi}$ (without input) reads

    $$\dot\rho = (a - \beta\rho^2)\,\rho,\qquad \dot\varphi = \omega - \gamma\rho^2.$$

    For `a > 0` each node has a stable limit cycle of amplitude $\sqrt{a/\beta}$ on which it
    turns at angular frequency $\omega - \gamma a/\beta$; for `a < 0` the origin is a stable
    focus with eigenvalues $a \pm i\omega$. The state is stored in Cartesian form, rows
    `x = Re z` and `y = Im z`; inputs add to the derivatives of `x` and `y`.

    **Difference from [`massfit.Hopf`][]:** `Hopf` is the isochronous case `gamma = 0`, in
    which every orbit turns at the same frequency `omega`. The shear `gamma` couples amplitude
    and phase: a perturbation (or a coupling input) that changes a node's amplitude also
    shifts its phase, so coupled nodes synchronise differently. With `gamma = 0` (the
    default) the two models have identical vector fields.

    **Arguments:**

    - `a`: bifurcation parameter (linear growth rate), 1/ms.
    - `omega`: angular frequency at zero amplitude, rad/ms (10 Hz is `2 * pi * 0.010`).
    - `beta`: amplitude saturation, 1/ms per unit amplitude squared; must be > 0.
    - `gamma`: shear (nonisochronicity), rad/ms per unit amplitude squared.
    - `x0`, `y0`: initial state, dimensionless (same for every region unless arrays of
        shape `(N,)`).

    Every parameter may be a scalar or a per-region `(N,)` array.
    """

    a: Parameter = param(0.25)
    omega: Parameter = param(2 * jnp.pi * 0.010)
    beta: Parameter = param(1.0)
    gamma: Parameter = param(0.0)
    x0: Parameter = param(0.5)
    y0: Parameter = param(0.0)

    variables: ClassVar[tuple[str, ...]] = ("x", "y")
    coupled_variables: ClassVar[tuple[str, ...]] = ("x",)
    units: ClassVar[dict[str, str]] = {
        "a": "1/ms", "omega": "rad/ms", "beta": "1/ms", "gamma": "rad/ms", "x0": "dimensionless",
        "y0": "dimensionless",
    }
    citation: ClassVar[str] = (
        "Pikovsky, Rosenblum & Kurths 2001, Synchronization (Cambridge University "
        "Press); Aranson & Kramer 2002, Rev. Mod. Phys. 74, 99"
    )

    def __check_init__(self):
        check_range("StuartLandau", "beta", self.beta, lower=0.0)

    def vector_field(self, t, state: State, inputs: State) -> State:
        x, y = state
        ix, iy = inputs
        amplitude2 = x**2 + y**2
        growth = self.a - self.beta * amplitude2
        frequency = self.omega - self.gamma * amplitude2
        dx = growth * x - frequency * y + ix
        dy = growth * y + frequency * x + iy
        return jnp.stack([dx, dy])

    def initial_state(self, n_regions: int) -> State:
        return stack_initial(n_regions, self.x0, self.y0)
