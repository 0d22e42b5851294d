"""Euler's method (Euler–Maruyama) with delayed coupling."""

from typing import ClassVar

from ._base import _Stack, AbstractDelaySolver


class Euler(AbstractDelaySolver):
    """Euler's method (Euler–Maruyama with noise) with delayed coupling. Order 1."""

    stage_times: ClassVar = (0.0,)

    def order(self, terms):
        return 1

    def strong_order(self, terms):
        return 0.5

    def advance(self, terms, t, state, eta, history):
        step, dt, k = history.step, terms.dt, terms.block
        afferents = terms.afferents(terms.delayed(0.0, history, k))
        dws = terms.wiener_increments(step, k, state)
        draws = terms.input_draws(step, k, eta)
        states, etas = _Stack(k, state), _Stack(k, eta)
        for q in range(k):
            f0 = terms.stage(t + q, 0.0, state, eta, afferents[q])
            noise = terms.white_noise(None if dws is None else dws[q], state)
            eta = terms.coloured_noise(None if draws is None else draws[q], eta)
            state = state + dt * f0 + noise
            states.set(q, state)
            etas.set(q, eta)
        return states.array, etas.array, None, history
