"""The delay history: a ring buffer of the coupled variables, and reads at delayed times."""

import functools

import equinox as eqx
import jax
import jax.numpy as jnp
from jax import lax
from jaxtyping import Array, Float, Int


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

    `massfit.simulate` builds the default one (constant past); continue a run with
    `simulate(..., continue_from=trajectory)`, which takes `trajectory.final_history` together
    with its final state.
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

    def push(self, xs: Float[Array, "C N K"], count) -> "History":
        """Append the samples of steps `step + 1 ... step + count` (the first `count` of the
        `K` given; the rest are dropped, so they can't overwrite samples still needed)."""
        r = self.length
        k = jnp.arange(xs.shape[-1], dtype=self.step.dtype)
        cols = (self.step + 1 + k) % r
        xs = jnp.where(k < count, xs, self.values[:, :, cols])
        # The columns are distinct (K <= R): saying so keeps reverse mode from tracking which
        # write wins with a buffer-sized array of ids per block.
        values = _set_columns(self.values, cols, xs, r)
        return eqx.tree_at(lambda h: (h.values, h.step), self, (values, self.step + count))

    def set_slopes(self, ds: Float[Array, "C N K"], count=None) -> "History":
        """Record the time derivatives (per ms) just after samples `step ... step + K - 1`
        (only the first `count`, if given: the columns of the others still hold samples
        that later reads need)."""
        r = self.length
        k = jnp.arange(ds.shape[-1], dtype=self.step.dtype)
        cols = (self.step + k) % r
        if count is not None:
            ds = jnp.where(k < count, ds, self.slopes[:, :, cols])
        slopes = _set_columns(self.slopes, cols, ds, r)
        return eqx.tree_at(lambda h: h.slopes, self, slopes)


def _set_columns(buffer, cols, xs, r):
    """`buffer` with `xs[..., k]` written at columns `cols[k]` and `cols[k] + r` (distinct)."""
    both = jnp.concatenate([cols, cols + r])
    return buffer.at[:, :, both].set(
        jnp.concatenate([xs, xs], axis=-1), unique_indices=True, mode="promise_in_bounds"
    )


def constant_history(x: Float[Array, "C N"], length: int, step, noise) -> History:
    """A history holding `x` at every past step (a constant past)."""
    values = jnp.broadcast_to(x[:, :, None], x.shape + (2 * length,))
    step = jnp.asarray(step)
    return History(values, jnp.zeros_like(values), step, noise, step, jnp.zeros_like(x))


class StageReads(eqx.Module):
    """Where a stage at time `(step + theta + u) * dt`, for `u = 0, 1, ...`, reads each delayed
    sample: a block of consecutive sub-steps reads all its delayed samples in one gather.

    For edge `(i, j)` with delay `lam = d_ij / dt` steps the stage needs `x_j` at relative
    position `p = theta + u - lam` (newest sample at 0): samples `floor(p)` and
    `floor(p) + 1`, interpolated with `frac = p - floor(p)` (linearly, or cubic Hermite from
    the slopes). `m0 = floor(theta - lam)` and `frac` are fixed for a run; per block only the
    buffer position changes, so the gather indices are a constant plus one scalar. Zero-delay
    edges are not read here: they see the stage's own state (see `NetworkTerm`).
    """

    m0: Int[Array, "N N"]
    frac: Float[Array, "N N"] | None
    hermite: bool = eqx.field(static=True)

    def gather(
        self, history: History, count: int, dt, reverse_only: bool = False
    ) -> Float[Array, "C N N U"]:
        """`out[c, i, j, u]` = variable `c` of region `j` at the stage time of sub-step `u`
        minus `d_ij`.

        `reverse_only`: differentiate the read by a transpose that keeps one scalar per block
        (not the `(N, N)` indices) for reverse mode; it refuses forward mode, so only use it
        under an adjoint that refuses forward mode too."""
        # The newest sample's column, chosen so that one position past it is still in the
        # buffer: reads there (of a sample in the future) only happen with weight 0.
        r = history.length
        base = history.step % r
        base = jnp.where(base == r - 1, base, base + r)
        m0 = self.m0.astype(base.dtype)
        if self.frac is None:
            return _slices(history.values, m0, base, count, reverse_only)
        # Samples floor(p) and floor(p) + 1 for every sub-step: one slice, one longer.
        xs = _slices(history.values, m0, base, count + 1, reverse_only)
        x0, x1 = xs[..., :-1], xs[..., 1:]
        s = self.frac[..., None]
        if not self.hermite:
            return x0 + s * (x1 - x0)
        ds = _slices(history.slopes, m0, base, count + 1, reverse_only)
        d0 = ds[..., :-1] * dt
        offsets = self.m0[..., None].astype(base.dtype) + jnp.arange(count, dtype=base.dtype)
        at_junction = history.step + offsets + 1 == history.junction
        d1 = jnp.where(at_junction, history.junction_slope[:, None, :, None], ds[..., 1:]) * dt
        s2 = s * s
        s3 = s2 * s
        return (
            (2 * s3 - 3 * s2 + 1) * x0
            + (s3 - 2 * s2 + s) * d0
            + (-2 * s3 + 3 * s2) * x1
            + (s3 - s2) * d1
        )


def _slices(
    buffer: Float[Array, "C N W"], m0: Int[Array, "N N"], base, size: int, reverse_only: bool
):
    """`out[c, i, j, u] = buffer[c, j, base + m0[i, j] + u]` for `u < size`: one gather of `N * N`
    contiguous slices. Starts out of range are clipped (reads of zero-delay or zero-weight
    edges, which are not used)."""
    if size > buffer.shape[-1]:
        # Blocks are never longer than the shortest delay, which the buffer holds: so no
        # edge with a non-zero weight is delayed, and nothing read here is used.
        return jnp.zeros(buffer.shape[:1] + m0.shape + (size,), buffer.dtype)
    if reverse_only:
        return _gather_slices(buffer, m0, base, size)
    return _gather(buffer, base + m0, size)


def _gather(buffer, start, size):
    n = start.shape[-1]
    j = jnp.broadcast_to(jnp.arange(n, dtype=start.dtype), start.shape)
    dims = lax.GatherDimensionNumbers(
        offset_dims=(2, 3), collapsed_slice_dims=(1,), start_index_map=(1, 2)
    )
    # XLA's gathers put the slice dimensions last: (i, j, c, u), then moved to (c, i, j, u).
    out = lax.gather(
        buffer,
        jnp.stack([j, start], axis=-1),
        dims,
        slice_sizes=(buffer.shape[0], 1, size),
        mode=lax.GatherScatterMode.CLIP,
    )
    return jnp.moveaxis(out, 2, 0)


# Reverse mode through a long run: the gather's own transpose would keep its `(N, N, 2)`
# index array for every block; this one keeps the scalar `base` (the constant `m0` is shared
# by all blocks) and computes the indices again.
@functools.partial(jax.custom_vjp, nondiff_argnums=(3,))
def _gather_slices(buffer, m0, base, size):
    return _gather(buffer, base + m0, size)


def _gather_slices_fwd(buffer, m0, base, size):
    like = jnp.zeros((0,) + buffer.shape, buffer.dtype)
    return _gather(buffer, base + m0, size), (m0, base, like)


def _gather_slices_bwd(size, residuals, ct):
    m0, base, like = residuals
    zeros = jnp.zeros(like.shape[1:], like.dtype)
    _, transpose = jax.vjp(lambda b: _gather(b, base + m0, size), zeros)
    (d_buffer,) = transpose(ct)
    return d_buffer, None, None


_gather_slices.defvjp(_gather_slices_fwd, _gather_slices_bwd)
