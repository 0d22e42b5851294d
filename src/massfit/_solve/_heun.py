"""Heun's method with delayed coupling."""

from typing import ClassVar

from ._base import _Stack, AbstractDelaySolver


class Heun(AbstractDelaySolver):
    """Heun's method (explicit trapezoid) with delayed coupling. Order 2.

    The corrector stage, at `t + dt`, reads the delayed samples for its own time, and a
    zero-delay edge sees the predictor. This is TVB's stochastic Heun for additive noise.
    """

    stage_times: ClassVar = (0.0,)

    def order(self, terms):
        return 2

    def strong_order(self, terms):
        return 1.0 if terms.network.noise is None else 0.5

    def advance(self, terms, t, state, eta, history):
        step, dt, k = history.step, terms.dt, terms.block
        # Sub-step q reads position q (first stage) and q + 1 (second): one gather of k + 1.
        afferents = terms.afferents(terms.delayed(0.0, history, k + 1))
        dws = terms.wiener_increments(step, k, state)
        draws = terms.input_draws(step, k, eta)
        states, etas = _Stack(k, state), _Stack(k, eta)
        for q in range(k):
            noise = terms.white_noise(None if dws is None else dws[q], state)
            new_eta = terms.coloured_noise(None if draws is None else draws[q], eta)
            f0 = terms.stage(t + q, 0.0, state, eta, afferents[q])
            predictor = state + dt * f0 + noise
            f1 = terms.stage(t + q, 1.0, predictor, new_eta, afferents[q + 1])
            state = state + 0.5 * dt * (f0 + f1) + noise
            eta = new_eta
            states.set(q, state)
            etas.set(q, eta)
        return states.array, etas.array, None, history
