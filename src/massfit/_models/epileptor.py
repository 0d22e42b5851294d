"""The Epileptor: a phenomenological model of seizure onset and offset."""

from typing import ClassVar

import jax.numpy as jnp

from .._custom_types import Parameter, State
from .._errors import check_range
from ._base import AbstractNodeModel, param, stack_initial


class Epileptor(AbstractNodeModel):
    r"""Epileptor (Jirsa, Stacey, Quilichini, Ivanov & Bernard 2014, Brain 137, 2210), as
    TVB's `Epileptor`: two fast subsystems (`x1, y1`: fast discharges; `x2, y2`: spike-wave
    events), a slow permittivity variable `z` that drives the node into and out of seizures,
    and a low-pass filter `g` coupling population 1 into population 2.

    $$\dot x_1 = t_t\,(y_1 - f_1(x_1, x_2, z) - z + I_{ext} + K_{vf}\,c_1),\qquad
      \dot y_1 = t_t\,(c - d\,x_1^2 - y_1),$$
    $$\dot z = t_t\,r\,\big(4 (x_1 - x_0) - z - [z < 0]\,0.1 z^7 + K_s\,c_1\big),$$
    $$\dot x_2 = t_t\,(-y_2 + x_2 - x_2^3 + I_{ext2} + b_b\,g - 0.3 (z - 3.5) + K_f\,c_2),$$
    $$\dot y_2 = \frac{t_t}{\tau}\,(-y_2 + f_2(x_2)),\qquad
      \dot g = t_t\,(-0.01\,(g - 0.1\,x_1)),$$

    with $f_1 = a x_1^3 - b x_1^2$ for $x_1 < 0$ and
    $f_1 = -(\mathrm{slope} - x_2 + 0.6 (z - 4)^2)\,x_1$ otherwise, and
    $f_2 = 0$ for $x_2 < -0.25$, $a_a (x_2 + 0.25)$ otherwise.

    **Time scale.** The model's time unit is read as 1 ms, as in TVB; `tt` rescales the
    whole system. With `r = 0.00035` the slow variable `z` takes thousands of ms: for
    $x_0 = -1.6$ (the default) an isolated node has recurring seizures (`x1` bursting while
    `z` falls, quiescence while it rises); for $x_0 \lesssim -2.1$ it stays interictal.

    **Coupling, as TVB.** The network couples `("x1", "x2")` (TVB's `cvar`); use
    [`massfit.Diffusive`][] coupling (TVB's `Difference`), so that $c_1 = k\sum_j
    w_{ij}(x_{1,j}(t - d_{ij}) - x_{1,i})$ and $c_2$ likewise for `x2`. Row `x1` of `inputs`
    is $c_1$: it drives `x1` through $K_{vf}$ and the permittivity `z` through $K_s$
    (Proix et al. 2014, J. Neurosci. 34, 15009, use $K_s < 0$: more active neighbours
    lower `z` and recruit the node). Row `x2` is $c_2$, entering `x2` through $K_f$. All
    three gains default to 0 as in TVB, so a network is uncoupled until one is set. The
    other rows of `inputs` add to their variables' derivatives (per ms).

    Not included: TVB's `modification` switch (a sigmoidal `z` nullcline) and its parameter
    `s`, which TVB's equations do not use (the 4 in $\dot z$ is fixed).

    **Arguments** (TVB's names and defaults, dimensionless unless stated):

    - `x0`: excitability (epileptogenicity); -1.6 gives seizures.
    - `Iext`, `Iext2`: input currents to populations 1 and 2.
    - `slope`: linear coefficient of $f_1$ for $x_1 \ge 0$.
    - `a`, `b`, `c`, `d`: coefficients of the first population.
    - `r`: rate of the slow variable; > 0.
    - `aa`, `bb`: coefficients of the second population and of its input from `g`.
    - `tau`: time scale of `y2` relative to `x2`; > 0.
    - `Kvf`, `Kf`, `Ks`: coupling gains onto `x1`, `x2` and `z`.
    - `tt`: time scaling of the whole system; > 0.
    - `x1_0`, `y1_0`, `z0`, `x2_0`, `y2_0`, `g0`: initial state (default: interictal, low
        on the `z` ramp, so a seizure starts within a few seconds).

    Every parameter may be a scalar or a per-region `(N,)` array.
    """

    x0: Parameter = param(-1.6)
    Iext: Parameter = param(3.1)
    Iext2: Parameter = param(0.45)
    slope: Parameter = param(0.0)
    a: Parameter = param(1.0)
    b: Parameter = param(3.0)
    c: Parameter = param(1.0)
    d: Parameter = param(5.0)
    r: Parameter = param(0.00035)
    aa: Parameter = param(6.0)
    bb: Parameter = param(2.0)
    tau: Parameter = param(10.0)
    Kvf: Parameter = param(0.0)
    Kf: Parameter = param(0.0)
    Ks: Parameter = param(0.0)
    tt: Parameter = param(1.0)
    x1_0: Parameter = param(-1.5)
    y1_0: Parameter = param(-10.0)
    z0: Parameter = param(3.0)
    x2_0: Parameter = param(-0.9)
    y2_0: Parameter = param(0.0)
    g0: Parameter = param(0.0)

    variables: ClassVar[tuple[str, ...]] = ("x1", "y1", "z", "x2", "y2", "g")
    coupled_variables: ClassVar[tuple[str, ...]] = ("x1", "x2")
    units: ClassVar[dict[str, str]] = {
        "x0": "dimensionless", "Iext": "dimensionless", "Iext2": "dimensionless",
        "slope": "dimensionless", "a": "dimensionless", "b": "dimensionless", "c": "dimensionless",
        "d": "dimensionless", "r": "dimensionless", "aa": "dimensionless", "bb": "dimensionless",
        "tau": "dimensionless", "Kvf": "dimensionless", "Kf": "dimensionless",
        "Ks": "dimensionless", "tt": "dimensionless", "x1_0": "dimensionless",
        "y1_0": "dimensionless", "z0": "dimensionless", "x2_0": "dimensionless",
        "y2_0": "dimensionless", "g0": "dimensionless",
    }
    citation: ClassVar[str] = (
        "Jirsa et al. 2014, Brain 137, 2210; Proix et al. 2014, J. Neurosci. 34, 15009; "
        "TVB Epileptor"
    )

    def __check_init__(self):
        for name in ("r", "tau", "tt"):
            check_range("Epileptor", name, getattr(self, name), lower=0.0)

    def vector_field(self, t, state: State, inputs: State) -> State:
        x1, y1, z, x2, y2, g = state
        c1, in_y1, in_z, c2, in_y2, in_g = inputs
        f1 = jnp.where(
            x1 < 0,
            self.a * x1**3 - self.b * x1**2,
            -(self.slope - x2 + 0.6 * (z - 4) ** 2) * x1,
        )
        dx1 = y1 - f1 - z + self.Iext + self.Kvf * c1
        dy1 = self.c - self.d * x1**2 - y1
        h = 4 * (x1 - self.x0) + jnp.where(z < 0, -0.1 * z**7, 0.0)
        dz = self.r * (h - z + self.Ks * c1)
        dx2 = -y2 + x2 - x2**3 + self.Iext2 + self.bb * g - 0.3 * (z - 3.5) + self.Kf * c2
        f2 = jnp.where(x2 < -0.25, 0.0, self.aa * (x2 + 0.25))
        dy2 = (-y2 + f2) / self.tau
        dg = -0.01 * (g - 0.1 * x1)
        tt = self.tt
        return jnp.stack(
            [tt * dx1, tt * dy1 + in_y1, tt * dz + in_z, tt * dx2, tt * dy2 + in_y2, tt * dg + in_g]
        )

    def initial_state(self, n_regions: int) -> State:
        return stack_initial(
            n_regions, self.x1_0, self.y1_0, self.z0, self.x2_0, self.y2_0, self.g0
        )
