"""The delay history: a ring buffer of the coupled variables, and reads at delayed times."""

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float, Int


class History(eqx.Module):
    """What a run needs, besides the node state, to continue exactly where it stopped.

    - `values`: `(C, N, 2R)` ring buffer of the coupled variables over the last `R` steps,
        region-major and doubled (each sample is written at columns `c` and `c + R`), so a
        read never wraps.
    - `slopes`: the same for their time derivatives, just after each sample (used by RK4's
        cubic Hermite reads; zeros otherwise).
    - `step`: absolute index of the newest sample (time `step * dt` ms).
    - `noise`: the state of coloured (Ornstein–Uhlenbeck) noise, `(K, N)` (`K = 0` without).
    - `junction`, `junction_slope`: the step where the given past meets the solution, and
        the past's slope just before it. The derivative jumps there (a constant past has
        slope zero; the solution does not), so reads just before it use this slope.

    Build the default one (constant past) with `massfit.simulate`; pass
    `trajectory.final_history` to continue a run.
    """

    values: Float[Array, "C N W"]
    slopes: Float[Array, "C N W"]
    step: Int[Array, ""]
    noise: Float[Array, "K N"]
    junction: Int[Array, ""]
    junction_slope: Float[Array, "C N"]

    @property
    def length(self) -> int:
        """`R`: how many past steps the buffer holds."""
        return self.values.shape[-1] // 2

    def push(self, x: Float[Array, "C N"]) -> "History":
        """Append the sample of step `step + 1`."""
        r = self.length
        col = (self.step + 1) % r
        values = self.values.at[:, :, col].set(x).at[:, :, col + r].set(x)
        return eqx.tree_at(lambda h: (h.values, h.step), self, (values, self.step + 1))

    def set_slope(self, d: Float[Array, "C N"]) -> "History":
        """Record the time derivative (per ms) just after the newest sample."""
        r = self.length
        col = self.step % r
        slopes = self.slopes.at[:, :, col].set(d).at[:, :, col + r].set(d)
        return eqx.tree_at(lambda h: h.slopes, self, slopes)


def constant_history(x: Float[Array, "C N"], length: int, step, noise) -> History:
    """A history holding `x` at every past step (a constant past)."""
    values = jnp.broadcast_to(x[:, :, None], x.shape + (2 * length,))
    step = jnp.asarray(step)
    return History(values, jnp.zeros_like(values), step, noise, step, jnp.zeros_like(x))


class StageReads(eqx.Module):
    """Where one solver stage, at time `(step + theta) * dt`, reads each delayed sample.

    For edge `(i, j)` with delay `lam = d_ij / dt` steps the stage needs `x_j` at relative
    position `p = theta - lam` (newest sample at 0). It reads samples `m0 = floor(p)` and
    `m1 = m0 + 1` and interpolates with `frac = p - m0` (linear, or cubic Hermite from the
    slopes). Zero-delay edges (`current`) see the stage's own state. All of this is fixed for
    a run; per step only the buffer position changes, so the gather indices are a constant
    plus one scalar.
    """

    m0: Int[Array, "N N"]
    m1: Int[Array, "N N"] | None
    frac: Float[Array, "N N"] | None
    current: Bool[Array, "N N"] | None
    hermite: bool = eqx.field(static=True)

    def read(
        self, history: History, current: Float[Array, "C N"], dt
    ) -> Float[Array, "C N N"]:
        """`out[c, i, j]` = variable `c` of region `j` at the stage time minus `d_ij`."""
        r = history.length
        n = current.shape[-1]
        base = history.step % r + r
        cols = jnp.arange(n)[None, :]
        x0 = history.values[:, cols, base + self.m0]
        if self.frac is None:
            out = x0
        else:
            x1 = history.values[:, cols, base + self.m1]
            s = self.frac
            if self.hermite:
                d0 = history.slopes[:, cols, base + self.m0] * dt
                d1 = history.slopes[:, cols, base + self.m1]
                at_junction = history.step + self.m1 == history.junction
                d1 = jnp.where(at_junction, history.junction_slope[:, None, :], d1) * dt
                s2 = s * s
                s3 = s2 * s
                out = (
                    (2 * s3 - 3 * s2 + 1) * x0
                    + (s3 - 2 * s2 + s) * d0
                    + (-2 * s3 + 3 * s2) * x1
                    + (s3 - s2) * d1
                )
            else:
                out = x0 + s * (x1 - x0)
        if self.current is not None:
            out = jnp.where(self.current, current[:, None, :], out)
        return out
