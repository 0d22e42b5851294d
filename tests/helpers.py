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


def delayed_network(node, *, k, n=4, seed=0):
    """`n` regions of `node` with `Linear` coupling of strength `k` and tract lengths of
    3-20 mm at 5 mm/ms (delays 0.6-4 ms)."""
    rng = np.random.default_rng(seed)
    weights = rng.uniform(0.2, 1.0, (n, n)) * (1 - np.eye(n))
    lengths = rng.uniform(3.0, 20.0, (n, n)) * (1 - np.eye(n))
    return mf.Network(node, mf.Connectome(weights, lengths), mf.Linear(), k=k, speed=5.0)


def check_network_simulation(network, name, values, *, duration=20.0, grad=True):
    """A node family inside a delayed network: `massfit.simulate` runs it, gives the same
    numbers under `jax.jit` of `jax.vmap` over the node parameter `name` (`values`) as
    looped plain calls, and (if `grad`) `jax.grad` of a loss with respect to that parameter
    at `values[0]` matches a central finite difference (x64)."""
    import jax

    def run(value):
        moved = eqx.tree_at(lambda m: getattr(m.node, name), network, jnp.asarray(value))
        return mf.simulate(moved, duration=duration, dt=0.1, save_every=1.0).ys

    values = jnp.asarray(values, dtype=float)
    looped = np.stack([np.asarray(run(v)) for v in values])
    assert looped.shape[1:] == (int(duration), len(network.node.variables), network.n_regions)
    assert np.all(np.isfinite(looped))
    assert np.ptp(looped[0], axis=0).max() > 0  # it moves
    assert not np.allclose(looped[0], looped[-1])  # the parameter matters
    batched = np.asarray(jax.jit(jax.vmap(run))(values))
    np.testing.assert_allclose(batched, looped, rtol=1e-10, atol=1e-14)
    if grad:

        def loss(value):
            return jnp.sum(run(value) ** 2)

        eps = 1e-6 * max(1.0, abs(float(values[0])))
        np.testing.assert_allclose(
            jax.grad(loss)(values[0]), finite_difference(loss, values[0], eps=eps), rtol=1e-5
        )


def uniform_in(rng, ranges, shape):
    """`(len(ranges),) + shape` uniform draws, row `i` in `ranges[i] = (lo, hi)`."""
    lo, hi = np.array(ranges, dtype=float).T
    return rng.uniform(lo[:, None], hi[:, None], (len(ranges),) + shape)


def random_case(specs, name, n, seed=0):
    """A model class, its numpy reference, random per-region parameters, state and inputs
    for `n` regions, from `specs[name] = (cls, reference, param_ranges, state_ranges,
    input_ranges)`."""
    cls, reference, param_ranges, state_ranges, input_ranges = specs[name]
    rng = np.random.default_rng(seed)
    params = {k: rng.uniform(lo, hi, n) for k, (lo, hi) in param_ranges.items()}
    state = uniform_in(rng, state_ranges, (n,))
    inputs = uniform_in(rng, input_ranges, (n,))
    return cls, reference, params, state, inputs


def vector_field(model, state, inputs=None):
    """`model.vector_field` at `t = 0` (zero inputs by default); traceable."""
    state = jnp.asarray(state)
    inputs = jnp.zeros_like(state) if inputs is None else jnp.asarray(inputs)
    return model.vector_field(jnp.asarray(0.0), state, inputs)
