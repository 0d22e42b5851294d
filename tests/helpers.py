from typing import ClassVar

import equinox as eqx
import jax.numpy as jnp
import numpy as np

import massfit as mf


def tree_allclose(x, y, *, rtol=1e-5, atol=1e-8):
    """Whether two pytrees have the same structure and allclose leaves."""
    return eqx.tree_equal(x, y, typematch=True, rtol=rtol, atol=atol)


def finite_difference(fn, x, eps=1e-6):
    """Central finite-difference gradient of a scalar function of an array, in float64."""
    x = np.asarray(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[idx] = eps
        grad[idx] = (float(fn(jnp.asarray(x + e))) - float(fn(jnp.asarray(x - e)))) / (2 * eps)
    return grad


def flipped(data: bytes, at: int, n: int = 4, bits: int = 0xFF) -> bytes:
    """A damaged copy of `data`: `bits` inverted in `n` bytes from offset `at`."""
    out = bytearray(data)
    out[at : at + n] = bytes(b ^ bits for b in out[at : at + n])
    return bytes(out)


class Blowup(mf.AbstractNodeModel):
    """x' = x^2 (+ input): from x0 > 0 it reaches infinity at t = 1 / x0 ms; x0 = 0 stays 0."""

    x0: float = 1.0
    variables: ClassVar = ("x",)
    coupled_variables: ClassVar = ("x",)

    def vector_field(self, t, state, inputs):
        return state**2 + inputs

    def initial_state(self, n_regions):
        return jnp.full((1, n_regions), self.x0)


def isolated(node, n, noise=None):
    """`n` uncoupled copies of `node` (no connections, k = 0)."""
    return mf.Network(node, mf.Connectome(np.zeros((n, n))), k=0.0, noise=noise)
