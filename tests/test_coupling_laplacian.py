"""`massfit.Laplacian`: against numpy's graph Laplacians, its relation to `Diffusive`, inside
a delayed simulation (against a numpy delayed Euler loop), under jit/vmap."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import massfit as mf


def np_laplacian(w, normalize):
    """The graph Laplacian of the weights, written out with numpy (D^-1/2, D^-1 = 0 where
    a region has no afferents)."""
    d = w.sum(axis=1)
    lap = np.diag(d) - w
    if normalize == "none":
        return lap
    inv = np.zeros_like(d)
    inv[d > 0] = 1 / d[d > 0]
    if normalize == "random_walk":
        return np.diag(inv) @ lap
    inv_sqrt = np.sqrt(inv)
    return np.diag(inv_sqrt) @ lap @ np.diag(inv_sqrt)


def _weights(n=5, seed=0, isolated=True):
    rng = np.random.default_rng(seed)
    w = rng.uniform(0.1, 1.0, (n, n)) * (1 - np.eye(n))
    if isolated:
        w[2] = 0.0  # region 2 has no afferents (it still sends)
    return w


NORMALIZATIONS = ("none", "symmetric", "random_walk")


@pytest.mark.parametrize("normalize", NORMALIZATIONS)
def test_without_delays_it_is_minus_k_laplacian_times_x(normalize):
    w = _weights()
    x = np.random.default_rng(1).normal(size=(2, 5))
    delayed = jnp.broadcast_to(x[:, None, :], (2, 5, 5))  # every afferent's current value
    out = mf.Laplacian(normalize)(jnp.asarray(0.7), jnp.asarray(w), delayed, jnp.asarray(x))
    expected = -0.7 * (np_laplacian(w, normalize) @ x.T).T
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-14)
    assert np.all(out[:, 2] == 0)  # no afferents, no input


def test_symmetric_normalised_laplacian_of_symmetric_weights_has_spectrum_in_0_2():
    w = _weights(isolated=False)
    w = w + w.T
    lap = np_laplacian(w, "symmetric")
    # Recover the matrix the coupling applies, column by column (unit vectors, no delays).
    cols = []
    for j in range(5):
        e = np.zeros((1, 5))
        e[0, j] = 1.0
        delayed = jnp.broadcast_to(e[:, None, :], (1, 5, 5))
        lap_e = mf.Laplacian("symmetric")(jnp.asarray(1.0), jnp.asarray(w), delayed, jnp.asarray(e))
        cols.append(-lap_e[0])
    applied = np.stack(cols, axis=1)
    np.testing.assert_allclose(applied, lap, atol=1e-14)
    eig = np.linalg.eigvalsh(applied)
    assert abs(eig[0]) < 1e-12 and eig[-1] <= 2 + 1e-12


def test_none_is_diffusive_and_random_walk_is_diffusive_on_row_normalised_weights():
    w = _weights()
    rng = np.random.default_rng(2)
    delayed, current = jnp.asarray(rng.normal(size=(2, 5, 5))), jnp.asarray(rng.normal(size=(2, 5)))
    k = jnp.asarray(1.3)
    np.testing.assert_allclose(
        mf.Laplacian("none")(k, jnp.asarray(w), delayed, current),
        mf.Diffusive()(k, jnp.asarray(w), delayed, current),
        rtol=1e-13,
    )
    d = w.sum(1, keepdims=True)
    row_normalised = np.where(d > 0, w / np.where(d > 0, d, 1), 0)
    np.testing.assert_allclose(
        mf.Laplacian("random_walk")(k, jnp.asarray(w), delayed, current),
        mf.Diffusive()(k, jnp.asarray(row_normalised), delayed, current),
        rtol=1e-13,
        atol=1e-15,
    )


def _network(normalize, k=0.8):
    rng = np.random.default_rng(3)
    w = _weights(3, seed=4, isolated=False)
    lengths = rng.uniform(2.0, 6.0, (3, 3)) * (1 - np.eye(3))
    conn = mf.Connectome(w, lengths)
    node = mf.LinearNode(gamma=-0.05, x0=jnp.asarray([1.0, -0.5, 0.3]))
    return mf.Network(node, conn, mf.Laplacian(normalize), k=k, speed=2.0)


def np_delayed_euler(net, n_steps, dt, normalize):
    """x' = gamma x + k (sum_j w~_ij x_j(t - d_ij) - s_i x_i(t)), explicit Euler, delays
    rounded to whole steps, constant past equal to the initial state."""
    w = np.asarray(net.connectome.weights)
    lap = np_laplacian(w, normalize)
    self_weight = np.diag(lap)
    afferent = -(lap - np.diag(self_weight))  # off-diagonal: the delayed part
    lags = np.round(np.asarray(net.connectome.lengths) / 2.0 / dt).astype(int)
    gamma, k = -0.05, 0.8
    xs = [np.asarray(net.node.initial_state(3))[0]]
    for n in range(n_steps):
        x = xs[-1]
        delayed = np.array(
            [[xs[max(n - lags[i, j], 0)][j] for j in range(3)] for i in range(3)]
        )
        coupling = (afferent * delayed).sum(1) - self_weight * x
        xs.append(x + dt * (gamma * x + k * coupling))
    return np.stack(xs[1:])


@pytest.mark.parametrize("normalize", NORMALIZATIONS)
def test_delayed_simulation_matches_numpy_euler(normalize):
    net = _network(normalize)
    x = mf.simulate(net, duration=20.0, dt=0.1, solver=mf.Euler())["x"]
    np.testing.assert_allclose(x, np_delayed_euler(net, 200, 0.1, normalize), rtol=1e-10)


def test_delayed_simulation_under_jit_and_vmap_over_k():
    net = _network("symmetric")

    def run(k):
        moved = eqx.tree_at(lambda n: n.k, net, k)
        return mf.simulate(moved, duration=10.0, dt=0.1, save_every=1.0)["x"]

    ks = jnp.asarray([0.0, 0.5, 1.5])
    batched = jax.jit(jax.vmap(run))(ks)
    looped = np.stack([run(k) for k in ks])
    np.testing.assert_allclose(batched, looped, rtol=1e-12)
    assert not np.allclose(looped[0], looped[2])  # the coupling matters


def test_unknown_normalization_raises():
    with pytest.raises(ValueError, match="`normalize` must be one of"):
        mf.Laplacian("sym")
