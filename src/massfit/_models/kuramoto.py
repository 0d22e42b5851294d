"""The Kuramoto phase oscillator."""

from typing import ClassVar

import equinox as eqx
import jax.numpy as jnp

from .._custom_types import Parameter, State
from ._base import AbstractNodeModel, as_param, param, stack_initial


# The golden angle 2*pi*(1 - 1/phi): consecutive multiples never line up, so default initial
# phases are spread out and distinct for any number of regions.
_GOLDEN_ANGLE = jnp.pi * (3 - 5**0.5)


def _optional_param(x):
    return None if x is None else as_param(x)


class Kuramoto(AbstractNodeModel):
    r"""Kuramoto phase oscillator (Kuramoto 1975; Strogatz 2000, Physica D 143, 1), as TVB's
    `Kuramoto` model:

    $$\dot\theta = \omega + I_\theta.$$

    The input is added to the phase velocity; in a network it is the sine coupling of
    [`massfit.KuramotoSine`][], $\frac{k}{N}\sum_j w_{ij}\sin(\theta_j(t - d_{ij}) -
    \theta_i)$. Uncoupled, $\theta(t) = \theta_0 + \omega t$. Phases are not wrapped; take
    `sin`/`cos` (or `mod 2 pi`) of the output.

    **Arguments:**

    - `omega`: natural angular frequency, rad/ms (10 Hz is `2 * pi * 0.010`).
    - `theta0`: initial phase, rad, scalar or `(N,)`. `None` (default) spreads the regions'
        phases over the circle by the golden angle, `theta0[i] = i * 2.39996... mod 2 pi`:
        a network started in phase would stay in phase whatever its coupling, since
        `sin(0) = 0`.

    `omega` may be a scalar or a per-region `(N,)` array.
    """

    omega: Parameter = param(2 * jnp.pi * 0.010)
    theta0: Parameter | None = eqx.field(default=None, converter=_optional_param)

    variables: ClassVar[tuple[str, ...]] = ("theta",)
    coupled_variables: ClassVar[tuple[str, ...]] = ("theta",)
    units: ClassVar[dict[str, str]] = {
        "omega": "rad/ms", "theta0": "rad",
    }
    citation: ClassVar[str] = "Kuramoto 1975; Strogatz 2000, Physica D 143, 1; TVB Kuramoto"

    def vector_field(self, t, state: State, inputs: State) -> State:
        (theta_input,) = inputs
        return jnp.stack([self.omega + theta_input])

    def initial_state(self, n_regions: int) -> State:
        theta0 = self.theta0
        if theta0 is None:
            theta0 = jnp.mod(jnp.arange(n_regions, dtype=float) * _GOLDEN_ANGLE, 2 * jnp.pi)
        return stack_initial(n_regions, theta0)
