"""The classical 4th-order Runge–Kutta method with delayed coupling."""

from typing import ClassVar

import equinox as eqx
import jax.numpy as jnp

from ._base import _Stack, AbstractDelaySolver
from ._history import History


class RK4(AbstractDelaySolver):
    """The classical 4th-order Runge–Kutta method with delayed coupling. Order 4.

    Mid-step stages read delayed values by cubic Hermite interpolation (from the stored
    slopes), which keeps order 4. Zero-delay edges see each stage's own state. Delays
    between 0 and one step are not supported (use a smaller `dt`). With noise, the noise
    increment is added after the deterministic step (weak order 1); prefer `Heun` for SDEs.
    """

    stage_times: ClassVar = (0.0, 0.5)
    hermite: ClassVar = True
    block_margin: ClassVar = 1

    def order(self, terms):
        return 4

    def strong_order(self, terms):
        return 0.5

    def init_history(self, history: History) -> History:
        if history.slopes.shape != history.values.shape:
            # A history left by a solver that doesn't record slopes.
            history = eqx.tree_at(lambda h: h.slopes, history, jnp.zeros_like(history.values))
        return history

    def advance(self, terms, t, state, eta, history):
        step, dt, k = history.step, terms.dt, terms.block
        cidx = jnp.array(terms.network.coupled_index)
        ends = terms.afferents(terms.delayed(0.0, history, k + 1))
        k1 = terms.stage(t, 0.0, state, eta, ends[0])
        # A one-step block's mid stages may read just before the current sample.
        history = history.set_slopes(k1[cidx][..., None])
        mids = terms.afferents(terms.delayed(0.5, history, k))
        dws = terms.wiener_increments(step, k, state)
        draws = terms.input_draws(step, k, eta)
        states, etas, slopes = _Stack(k, state), _Stack(k, eta), []
        for q in range(k):
            new_eta = terms.coloured_noise(None if draws is None else draws[q], eta)
            mid_eta = 0.5 * (eta + new_eta)
            if q > 0:
                k1 = terms.stage(t + q, 0.0, state, eta, ends[q])
            k2 = terms.stage(t + q, 0.5, state + 0.5 * dt * k1, mid_eta, mids[q])
            k3 = terms.stage(t + q, 0.5, state + 0.5 * dt * k2, mid_eta, mids[q])
            k4 = terms.stage(t + q, 1.0, state + dt * k3, new_eta, ends[q + 1])
            noise = terms.white_noise(None if dws is None else dws[q], state)
            state = state + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4) + noise
            eta = new_eta
            slopes.append(k1[cidx])
            states.set(q, state)
            etas.set(q, eta)
        return states.array, etas.array, jnp.stack(slopes, axis=-1), history
