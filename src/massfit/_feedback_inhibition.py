"""Feedback inhibition control (Deco et al. 2014): the local inhibitory weights that hold
every region of a `ReducedWongWangExcInh` network at a target rate."""

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from ._errors import check_range
from ._models import ReducedWongWangExcInh
from ._models._transfer import wong_wang_transfer
from ._network import Network


def feedback_inhibition_weights(
    network: Network, *, rate: float = 0.003, iterations: int = 60
) -> Float[Array, " N"]:
    r"""The local inhibitory weights $J_I$ (nA, one per region) of feedback inhibition
    control (Deco et al. 2014): those that make every region of `network` rest with its
    excitatory pool at `rate` (default 3 Hz).

    Deco et al. find them by simulating and nudging each $J_I$ until its region's rate is
    3 Hz. Here the steady state is solved directly: at the target, every region has
    $r_E = $ `rate`, hence the same $S_E^* = \gamma r \tau_E / (1 + \gamma r \tau_E)$ and
    the excitatory current $I_E^* = H_E^{-1}(r)$; the long-range input is the network's
    coupling evaluated at that constant state (delays do not matter at rest), $S_I^*$ solves
    $S_I = \tau_I H_I(W_I I_0 + J_{NMDA} S_E^* - S_I + \lambda I_{S_E})$ (one root: the
    right-hand side falls as $S_I$ grows), and

    $$J_I = \frac{W_E I_0 + w_+ J_{NMDA} S_E^* + I_{S_E} - I_E^*}{S_I^*}.$$

    The two scalar equations are solved by bisection (`iterations` halvings of a bracket
    that always holds the root) and finished with one Newton step whose derivative is that
    of the implicit function, so the result is differentiable with respect to `k`, the
    weights and the node's parameters, and works under `jax.jit` and `jax.vmap`. The rest
    state it makes is a fixed point; whether it is stable depends on the coupling (Deco et
    al. find it stable over the range they fit): simulate to check.

    **Arguments:**

    - `network`: a `massfit.Network` of `ReducedWongWangExcInh` nodes coupled on `S_E`
        only (any coupling, e.g. `massfit.Linear()`, the paper's; any `k`).
    - `rate`: the target excitatory rate, 1/ms (0.003 = 3 Hz); > 0.
    - `iterations`: bisection steps.

    **Returns:** the `(N,)` array of $J_I$, nA. Put it in the network with
    `eqx.tree_at(lambda n: n.node.J_I, network, J_I)`. A region whose target cannot be
    reached with any $J_I \geq 0$ (its excitatory drive is too weak even without
    inhibition) gets a negative value.
    """
    node = network.node
    if not isinstance(node, ReducedWongWangExcInh):
        raise TypeError(
            f"`network` must have ReducedWongWangExcInh nodes; got {type(node).__name__}."
        )
    if tuple(network.coupled) != ("S_E",):
        raise ValueError(
            "feedback_inhibition_weights needs a network coupled on S_E only (the paper's "
            f"long-range excitation); this one couples {network.coupled}."
        )
    check_range("feedback_inhibition_weights", "rate", rate, lower=0.0)
    n = network.n_regions
    rate = jnp.asarray(rate, dtype=jnp.result_type(float))
    gamma_rate_tau = node.gamma * rate * node.tau_E
    s_e = jnp.broadcast_to(gamma_rate_tau / (1 + gamma_rate_tau), (n,))
    # H_E(I) = rate, in y = a_E I - b_E: H >= max(y, 0), so y <= rate; below 0,
    # H = |y| / (exp(d |y|) - 1) <= 2 / (d^2 |y|), so H <= rate for y <= -2 / (d^2 rate).
    y_e = _increasing_root(
        lambda y: (
            wong_wang_transfer((y + node.b_E) / node.a_E, node.a_E, node.b_E, node.d_E) - rate
        ),
        jnp.broadcast_to(-2 / (node.d_E**2 * rate), (n,)),
        jnp.broadcast_to(rate, (n,)),
        iterations,
    )
    current_e = (y_e + node.b_E) / node.a_E
    state = jnp.stack([s_e, jnp.zeros(n, s_e.dtype)])
    long_range = network.instantaneous_coupling(state)[0]
    drive_i = node.W_I * node.I_0 + node.J_NMDA * s_e + node.lambda_ * long_range
    s_i = _increasing_root(
        lambda s: s - node.tau_I * wong_wang_transfer(drive_i - s, node.a_I, node.b_I, node.d_I),
        jnp.zeros(n, s_e.dtype),
        jnp.broadcast_to(
            node.tau_I * wong_wang_transfer(drive_i, node.a_I, node.b_I, node.d_I), (n,)
        ),
        iterations,
    )
    excitation = node.W_E * node.I_0 + node.w_plus * node.J_NMDA * s_e + long_range
    return (excitation - current_e) / s_i


def _increasing_root(fn, lower, upper, iterations):
    """The root of an increasing elementwise `fn` in `[lower, upper]`: bisection, then one
    Newton step from the (gradient-stopped) bracket midpoint, which carries the implicit
    function theorem's derivative with respect to whatever `fn` closes over."""

    def halve(_, bracket):
        lo, hi = bracket
        mid = (lo + hi) / 2
        below = fn(mid) < 0
        return jnp.where(below, mid, lo), jnp.where(below, hi, mid)

    lower, upper = jax.lax.stop_gradient((lower, upper))
    lo, hi = jax.lax.fori_loop(0, iterations, halve, (lower, upper))
    root = jax.lax.stop_gradient((lo + hi) / 2)
    value, slope = jax.jvp(fn, (root,), (jnp.ones_like(root),))
    return root - value / jax.lax.stop_gradient(slope)
