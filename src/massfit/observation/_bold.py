"""The Balloon–Windkessel model of the BOLD signal (Friston et al. 2000; Stephan et al. 2007)."""

from typing import Literal

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike

from .._models._base import as_param
from ._base import AbstractObserver, as_period, Drive


#: ms per s: the hemodynamic constants are per second, the surface speaks ms.
MS_PER_S = 1000.0


def _extraction(f, rho):
    """Oxygen extraction fraction at flow `f`: E(f) = 1 - (1 - rho)^(1/f)."""
    return 1.0 - jnp.power(1.0 - rho, 1.0 / f)


class BOLD(AbstractObserver):
    r"""The BOLD signal from the Balloon–Windkessel model, sampled every `period` ms.

    The neural drive `z` (per second) drives the vasodilatory signal `s`, which drives
    blood inflow `f`, which inflates the venous volume `v` and changes the deoxyhemoglobin
    content `q` (Friston et al. 2000, Stephan et al. 2007), with time in **seconds**:

    $$\dot s = z - \kappa s - \gamma (f - 1),\quad \dot f = s,\quad
    \tau \dot v = f - v^{1/\alpha},\quad
    \tau \dot q = f \frac{1 - (1 - \rho)^{1/f}}{\rho} - v^{1/\alpha} \frac{q}{v},$$

    $$\mathrm{BOLD} = V_0 \left[k_1 (1 - q) + k_2 (1 - q/v) + k_3 (1 - v)\right].$$

    The rest state is `s = 0, f = v = q = 1`, where the BOLD signal is exactly 0. `f`, `v`
    and `q` are integrated as their logarithms (as Stephan et al. 2007 and TVB do), which
    keeps them positive in float32. Each solver step of `dt` ms is one Heun step of
    `dt / 1000` s with the drive held over the step: second order, so at `dt = 0.1` ms the
    integration error is ~1e-9 of the signal, far below float32 resolution. A sample is the
    BOLD signal at its sample step (no averaging).

    **Arguments:**

    - `period`: ms between samples (the repetition time, e.g. 720).
    - `drive`: a state variable name, or a function of the state returning `(N,)`; it enters
        as `z`, in 1/s.
    - `kappa`: rate of signal decay, 1/s; 0.65.
    - `gamma`: rate of flow-dependent elimination, 1/s; 0.41.
    - `tau`: hemodynamic transit time, s; 0.98.
    - `alpha`: Grubb's exponent; 0.32.
    - `rho`: resting oxygen extraction fraction; 0.34.
    - `V0`: resting venous blood volume fraction; 0.02.
    - `coefficients`: the BOLD coefficients: `"classic"` (Friston et al. 2000; Buxton et
        al. 1998: `k1 = 7 rho`, `k2 = 2`, `k3 = 2 rho - 0.2`), or `"stephan2007"` (Stephan
        et al. 2007, for a given field strength: `k1 = 4.3 nu0 rho TE`,
        `k2 = epsilon r0 rho TE`, `k3 = 1 - epsilon`).
    - `TE`: echo time, s; 0.04 (`"stephan2007"` only).
    - `nu0`: frequency offset of the outer surface of magnetised vessels, 1/s; 40.3 (1.5 T).
    - `r0`: intravascular relaxation rate slope, 1/s; 25.
    - `epsilon`: ratio of intra- to extravascular signal; 0.5.
    """

    period: float = eqx.field(static=True, converter=as_period)
    drive: Drive = eqx.field(static=True)
    kappa: Array = eqx.field(default=0.65, converter=as_param)
    gamma: Array = eqx.field(default=0.41, converter=as_param)
    tau: Array = eqx.field(default=0.98, converter=as_param)
    alpha: Array = eqx.field(default=0.32, converter=as_param)
    rho: Array = eqx.field(default=0.34, converter=as_param)
    V0: Array = eqx.field(default=0.02, converter=as_param)
    coefficients: Literal["classic", "stephan2007"] = eqx.field(default="classic", static=True)
    TE: Array = eqx.field(default=0.04, converter=as_param)
    nu0: Array = eqx.field(default=40.3, converter=as_param)
    r0: Array = eqx.field(default=25.0, converter=as_param)
    epsilon: Array = eqx.field(default=0.5, converter=as_param)

    def __check_init__(self):
        if self.coefficients not in ("classic", "stephan2007"):
            raise ValueError(
                "BOLD: `coefficients` must be 'classic' or 'stephan2007'; got "
                f"{self.coefficients!r}."
            )

    def _params(self, dtype, *names):
        return [jnp.asarray(getattr(self, name), dtype) for name in names]

    def init(self, n_regions, dt, dtype):
        # (s, ln f, ln v, ln q) at rest
        return jnp.zeros((4, n_regions), dtype)

    def vector_field(self, state: Array, z: ArrayLike) -> Array:
        """d(s, ln f, ln v, ln q)/dt, per **second**, at `state` with drive `z`."""
        kappa, gamma, tau, alpha, rho = self._params(
            state.dtype, "kappa", "gamma", "tau", "alpha", "rho"
        )
        s, ln_f, ln_v, ln_q = state
        f, v, q = jnp.exp(ln_f), jnp.exp(ln_v), jnp.exp(ln_q)
        outflow = jnp.exp(ln_v / alpha)  # v^(1/alpha)
        # E(f)/E(1) is E(f)/rho, written so that it is exactly 1 at rest
        extraction = _extraction(f, rho) / _extraction(jnp.ones_like(f), rho)
        ds = z - kappa * s - gamma * (f - 1.0)
        d_ln_f = s / f
        d_ln_v = (f - outflow) / (tau * v)
        d_ln_q = (f * extraction - outflow * q / v) / (tau * q)
        return jnp.stack([ds, d_ln_f, d_ln_v, d_ln_q])

    def step(self, carry, x, dt):
        h = jnp.asarray(dt / MS_PER_S, carry.dtype)
        z = x.astype(carry.dtype)
        k1 = self.vector_field(carry, z)
        k2 = self.vector_field(carry + h * k1, z)
        return carry + 0.5 * h * (k1 + k2)

    def signal(self, q: Array, v: Array) -> Array:
        """The BOLD signal from deoxyhemoglobin `q` and volume `v` (both 1 at rest)."""
        rho, V0 = self._params(q.dtype, "rho", "V0")
        if self.coefficients == "classic":
            k1, k2, k3 = 7.0 * rho, 2.0, 2.0 * rho - 0.2
        else:
            TE, nu0, r0, epsilon = self._params(q.dtype, "TE", "nu0", "r0", "epsilon")
            k1, k2, k3 = 4.3 * nu0 * rho * TE, epsilon * r0 * rho * TE, 1.0 - epsilon
        return V0 * (k1 * (1.0 - q) + k2 * (1.0 - q / v) + k3 * (1.0 - v))

    def readout(self, carry) -> Array:
        return self.signal(jnp.exp(carry[3]), jnp.exp(carry[2]))
