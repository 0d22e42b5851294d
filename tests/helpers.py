import equinox as eqx
import jax.numpy as jnp
import numpy as np


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
