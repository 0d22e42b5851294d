"""The current-to-rate transfer function shared by the Wong–Wang family."""

import jax.numpy as jnp


# Below this |d (a x - b)| the Taylor series replaces the closed form: its next term,
# z**6 / 30240, is below 1e-16 there, and the closed form's derivative would lose digits.
_SERIES_BELOW = 1e-2


def wong_wang_transfer(x, a, b, d):
    r"""$H(x) = \dfrac{a x - b}{1 - e^{-d (a x - b)}}$ (Abbott & Chance 2005), the
    population rate of Wong & Wang (2006) and Deco et al. (2013, 2014).

    With `x` in nA, `a` in 1/(nA·ms), `b` in 1/ms and `d` in ms, $H$ is a rate in 1/ms.

    Written as $H = \varphi(z) / d$ with $z = d (a x - b)$ and
    $\varphi(z) = z / (1 - e^{-z}) = \max(z, 0) + |z| / (e^{|z|} - 1)$, which neither
    overflows for large $|z|$ nor divides 0 by 0 at $z = 0$, where it has the removable
    singularity $\varphi(0) = 1$, $\varphi'(0) = 1/2$: near 0 the series
    $1 + z/2 + z^2/12 - z^4/720$ is used, behind a double `where` so that gradients stay
    finite too.
    """
    z = d * (a * x - b)
    small = jnp.abs(z) < _SERIES_BELOW
    z_far = jnp.where(small, 1.0, z)
    u = jnp.abs(z_far)
    # u / (e^u - 1), written so that neither it nor its derivative overflows for large u.
    closed = jnp.maximum(z_far, 0.0) + u * jnp.exp(-u) / -jnp.expm1(-u)
    z_near = jnp.where(small, z, 0.0)
    series = 1 + z_near / 2 + z_near**2 / 12 - z_near**4 / 720
    return jnp.where(small, series, closed) / d
