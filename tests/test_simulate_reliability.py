"""simulate() reliability: divergence recorded under jit/vmap, continuing a run, delay bounds
from a Bounded speed, and bad input named up front."""

import warnings

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import massfit as mf

from .helpers import Blowup, isolated


# A traced check (`eqx.error_if`) raises this inside `jax.jit` (`EquinoxRuntimeError` with
# `eqx.filter_jit`); the message is the same.
RUNTIME_ERRORS = (eqx.EquinoxRuntimeError, jax.errors.JaxRuntimeError)




def _numpy_heun_blowup(x0: np.ndarray, dt: float, n_steps: int):
    """The first step (1-based) at which a Heun run of x' = x^2 is not finite, and region."""
    x = np.array(x0, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        for step in range(1, n_steps + 1):
            f0 = x**2
            f1 = (x + dt * f0) ** 2
            x = x + 0.5 * dt * (f0 + f1)
            bad = ~np.isfinite(x)
            if bad.any():
                return step, int(np.argmax(bad))
    return None, -1


DT, DURATION = 0.01, 3.0
X0 = np.array([[0.4, 1.0, 0.0]])  # region 1 blows up first (t ~ 1 ms), region 0 at ~2.5 ms


def _blowup_run(x0, check_finite=None):
    net = isolated(Blowup(), 3)
    return mf.simulate(
        net, duration=DURATION, dt=DT, initial_state=x0, check_finite=check_finite
    )


def test_divergence_recorded_plain_jit_and_vmap():
    step, region = _numpy_heun_blowup(X0[0], DT, round(DURATION / DT))
    assert region == 1
    plain = _blowup_run(X0, check_finite=False)
    assert bool(plain.diverged) and int(plain.diverged_region) == 1
    assert float(plain.diverged_at) == pytest.approx(step * DT, rel=1e-12)

    # Inside jit: nothing raises (check_finite=None), the record is the same.
    jitted = jax.jit(_blowup_run)(X0)
    assert int(jitted.diverged_region) == 1
    assert float(jitted.diverged_at) == pytest.approx(step * DT, rel=1e-12)

    # A vmapped population: one member diverges, the other is unaffected.
    both = jax.vmap(_blowup_run)(jnp.stack([X0, jnp.zeros_like(X0)]))
    np.testing.assert_array_equal(both.diverged, [True, False])
    np.testing.assert_array_equal(both.diverged_region, [1, -1])
    assert float(both.diverged_at[0]) == pytest.approx(step * DT, rel=1e-12)
    assert float(both.diverged_at[1]) == np.inf
    np.testing.assert_array_equal(both.ys[1], 0.0)
    # Non-finite values stay non-finite.
    assert not np.isfinite(np.asarray(both.ys[0, -1, 0, 1]))


def test_divergence_found_in_unsaved_steps():
    step, _ = _numpy_heun_blowup(X0[0], DT, round(DURATION / DT))
    net = isolated(Blowup(), 3)
    traj = mf.simulate(
        net, duration=DURATION, dt=DT, initial_state=X0, save_every=1.5, check_finite=False
    )
    assert float(traj.diverged_at) == pytest.approx(step * DT, rel=1e-12)


def test_check_finite_modes():
    with pytest.raises(FloatingPointError, match=r"t = 1\.\d+ ms in region 1"):
        _blowup_run(X0)
    with pytest.raises(FloatingPointError, match="region 1"):
        _blowup_run(X0, check_finite=True)
    with pytest.raises(RUNTIME_ERRORS, match=r"region 1 \('r1'\)"):
        jax.jit(lambda x: _blowup_run(x, check_finite=True))(X0)
    # A finite run passes the traced check.
    ok = jax.jit(lambda x: _blowup_run(x, check_finite=True))(jnp.zeros_like(X0))
    assert not bool(ok.diverged) and float(ok.diverged_at) == np.inf
    with pytest.raises(TypeError, match="check_finite"):
        _blowup_run(X0, check_finite="yes")


def test_non_finite_start_under_jit_is_a_divergence_at_t0():
    bad = X0.copy()
    bad[0, 2] = np.nan
    with pytest.raises(ValueError, match=r"`initial_state` must be finite.*region 2"):
        _blowup_run(bad)
    traj = jax.jit(_blowup_run)(bad)
    assert int(traj.diverged_region) == 2 and float(traj.diverged_at) == 0.0


def test_plain_diffrax_solver_records_divergence():
    import diffrax

    net = isolated(Blowup(), 3)
    traj = mf.simulate(
        net, duration=DURATION, dt=DT, initial_state=X0, solver=diffrax.Euler(),
        check_finite=False,
    )
    bad = ~np.isfinite(np.asarray(traj.ys))
    first = np.argwhere(bad)[0]
    assert float(traj.diverged_at) == float(traj.ts[first[0]])
    assert int(traj.diverged_region) == first[2] == 1


# --- continuing a run -------------------------------------------------------------------


def _delayed(noise=None, speed=5.0, **kwargs):
    conn = mf.Connectome(
        np.array([[0.0, 1.0, 0.5], [1.0, 0.0, 0.2], [0.5, 0.2, 0.0]]),
        lengths=np.array([[0.0, 10.0, 20.0], [10.0, 0.0, 15.0], [20.0, 15.0, 0.0]]),
    )
    return mf.Network(mf.Hopf(a=0.2, x0=0.4), conn, k=0.3, speed=speed, noise=noise, **kwargs)


@pytest.mark.parametrize(
    "solver",
    [
        pytest.param(mf.Euler(), marks=pytest.mark.slow),
        mf.Heun(),
        pytest.param(mf.RK4(), marks=pytest.mark.slow),
        pytest.param(mf.RK4(interpolate_delays=True), marks=pytest.mark.slow),
    ],
    ids=["euler", "heun", "rk4", "rk4-interp"],
)
def test_continue_from_is_bit_identical(solver):
    # 25 ms = 250 steps is not a multiple of the block (8 or 7): the first run ends on a
    # short block, which RK4 once let overwrite the slopes of samples still needed.
    net = _delayed(mf.OrnsteinUhlenbeckNoise(0.05, 3.0))
    key = jr.key(3)
    whole = mf.simulate(net, duration=50.0, dt=0.1, key=key, solver=solver)
    first = mf.simulate(net, duration=25.0, dt=0.1, key=key, solver=solver)
    second = mf.simulate(net, duration=25.0, dt=0.1, key=key, solver=solver, continue_from=first)
    np.testing.assert_array_equal(np.concatenate([first.ys, second.ys]), whole.ys)
    np.testing.assert_array_equal(np.concatenate([first.ts, second.ts]), whole.ts)
    np.testing.assert_array_equal(second.final_state, whole.final_state)
    np.testing.assert_array_equal(second.final_history.noise, whole.final_history.noise)


def test_history_needs_its_state():
    net = _delayed()
    first = mf.simulate(net, duration=5.0, dt=0.1)
    with pytest.raises(ValueError, match="`history` was given without `initial_state`"):
        mf.simulate(net, duration=5.0, dt=0.1, history=first.final_history)
    with pytest.raises(ValueError, match="`continue_from` or `initial_state`/`history`"):
        mf.simulate(
            net, duration=5.0, dt=0.1, continue_from=first, initial_state=first.final_state
        )
    with pytest.raises(TypeError, match="continue_from"):
        mf.simulate(net, duration=5.0, dt=0.1, continue_from=first.final_history)
    # Under jit the same checks hold (they are about which arguments were given).
    with pytest.raises(ValueError, match="without `initial_state`"):
        jax.jit(lambda h: mf.simulate(net, duration=5.0, dt=0.1, history=h).ys)(
            first.final_history
        )


# --- delay bounds -----------------------------------------------------------------------


@pytest.mark.slow
def test_bounded_speed_sets_delay_bounds_and_runs_anywhere_inside():
    net = _delayed(speed=mf.Bounded(5.0, 2.0, 10.0))
    # Longest tract 20 mm / lowest speed 2; shortest 10 mm / highest speed 10.
    assert net.max_delay == pytest.approx(10.0) and net.min_delay == pytest.approx(1.0)

    def run(raw):
        return mf.simulate(eqx.tree_at(lambda n: n.speed.raw, net, raw), duration=20.0, dt=0.1)

    for speed in (2.5, 9.0):
        raw = jnp.log((speed - 2.0) / (10.0 - speed))
        ref = mf.simulate(_delayed(speed=speed), duration=20.0, dt=0.1)
        np.testing.assert_allclose(jax.jit(run)(raw).ys, ref.ys, rtol=0, atol=1e-12)
    batch = jax.vmap(run)(jnp.array([-4.0, 0.0, 4.0]))
    assert batch.ys.shape[0] == 3 and np.isfinite(np.asarray(batch.ys)).all()


def test_positive_speed_needs_max_delay():
    with pytest.raises(ValueError, match=r"max_delay.*Bounded"):
        _delayed(speed=mf.Positive(5.0))


def test_speed_outside_the_bounds_names_values_and_fix():
    net = _delayed()  # max_delay 4 ms, min_delay 2 ms from speed 5
    slow = eqx.tree_at(lambda n: n.speed, net, 2.0)
    fast = eqx.tree_at(lambda n: n.speed, net, 8.0)
    pattern = r"max_delay = 4 ms.*`speed` must stay >= 5 mm/ms.*Network\(\.\.\.\).*Bounded"
    longest = r"longest delay, 10 ms, exceeds Network\.max_delay = 4 ms"
    with pytest.raises(ValueError, match=longest):
        mf.simulate(slow, duration=5.0, dt=0.1)
    with pytest.raises(ValueError, match=r"min_delay = 2 ms.*must stay <= 5 mm/ms"):
        mf.simulate(fast, duration=5.0, dt=0.1)

    def run(speed):
        return mf.simulate(eqx.tree_at(lambda n: n.speed, net, speed), duration=5.0, dt=0.1).ys

    with pytest.raises(RUNTIME_ERRORS, match=pattern):
        jax.jit(run)(2.0)
    with pytest.raises(RUNTIME_ERRORS, match=r"min_delay = 2 ms.*<= 5 mm/ms"):
        jax.jit(run)(8.0)


# --- bad input named up front -----------------------------------------------------------


@pytest.mark.parametrize(
    "where, value, message",
    [
        (lambda n: n.k, np.nan, r"`network\.k` must be finite; got nan"),
        (lambda n: n.k, np.inf, r"`network\.k` must be finite; got inf"),
        (lambda n: n.node.a, np.array([0.2, np.nan, 0.2]), r"`network\.node\.a`.*regions \[1\]"),
        (lambda n: n.speed, np.nan, r"`network\.speed` must be > 0"),
    ],
)
def test_non_finite_parameters_named(where, value, message):
    net = eqx.tree_at(where, _delayed(), jnp.asarray(value))
    with pytest.raises(ValueError, match=message):
        mf.simulate(net, duration=5.0, dt=0.1)


def test_nan_parameter_under_jit_and_vmap_is_a_recorded_divergence():
    net = _delayed()

    def run(k):
        return mf.simulate(eqx.tree_at(lambda n: n.k, net, k), duration=5.0, dt=0.1)

    assert bool(jax.jit(run)(jnp.nan).diverged)
    batch = jax.vmap(run)(jnp.array([0.3, jnp.nan]))
    np.testing.assert_array_equal(batch.diverged, [False, True])
    assert float(batch.diverged_at[1]) == pytest.approx(0.1)


def test_bad_inputs_named():
    net = _delayed()
    nan_input = np.zeros((50, 3))
    nan_input[7, 2] = np.nan
    with pytest.raises(ValueError, match=r"`inputs\['x'\]` must be finite.*step 7, region 2"):
        mf.simulate(net, duration=5.0, dt=0.1, inputs={"x": nan_input})
    bad_state = np.zeros((2, 3))
    bad_state[1, 0] = np.inf
    with pytest.raises(ValueError, match=r"`initial_state` must be finite.*'y', region 0"):
        mf.simulate(net, duration=5.0, dt=0.1, initial_state=bad_state)


@pytest.mark.parametrize("transform", ["plain", "jit", "vmap"])
def test_shape_errors_named(transform):
    net = _delayed()

    def k_shape(k):
        return mf.simulate(eqx.tree_at(lambda n: n.k, net, k), duration=1.0, dt=0.1).ys

    def input_shape(scale):
        return mf.simulate(
            net, duration=1.0, dt=0.1, inputs={"x": lambda t: scale * jnp.ones(2)}
        ).ys

    wrap = {"plain": lambda f: f, "jit": jax.jit, "vmap": jax.vmap}[transform]
    k = jnp.ones(3) if transform != "vmap" else jnp.ones((2, 3))
    with pytest.raises(ValueError, match=r"`network\.k` \(the global coupling strength\) must "):
        wrap(k_shape)(k)
    scale = jnp.asarray(1.0) if transform != "vmap" else jnp.ones(2)
    with pytest.raises(ValueError, match=r"`inputs\['x'\]` is a function .* returned shape \(2,\)"):
        wrap(input_shape)(scale)


@pytest.mark.parametrize("key", [0, np.uint32(7), np.zeros(2)])
def test_key_must_be_a_key(key):
    net = _delayed(mf.AdditiveNoise(0.1))
    with pytest.raises(TypeError, match=r"`key` must be a JAX random key"):
        mf.simulate(net, duration=1.0, dt=0.1, key=key)


def test_missing_key_and_key_under_jit():
    net = _delayed(mf.AdditiveNoise(0.1))
    with pytest.raises(ValueError, match="`key` is required"):
        mf.simulate(net, duration=1.0, dt=0.1)
    with pytest.raises(TypeError, match=r"`key` must be a JAX random key"):
        jax.jit(lambda s: mf.simulate(net, duration=1.0, dt=0.1, key=s).ys)(3)
    keys = jr.split(jr.key(0), 2)
    ys = jax.vmap(lambda s: mf.simulate(net, duration=1.0, dt=0.1, key=s).ys)(keys)
    assert not np.array_equal(ys[0], ys[1])


# --- the speed traps: a silent zero gradient, a silent block of one step ------------------


def _delayed_pair(speed=5.0, **kw):
    weights = np.array([[0.0, 1.0], [0.6, 0.0]])
    conn = mf.Connectome(weights, np.array([[0.0, 12.0], [12.0, 0.0]]))
    return mf.Network(mf.Hopf(a=-0.05, x0=0.4, y0=0.0), conn, k=0.5, speed=speed, **kw)


def _x_sum(net, solver):
    return jnp.sum(mf.simulate(net, duration=60.0, dt=0.2, solver=solver)["x"] ** 2)


@pytest.mark.slow
def test_speed_gradient_through_whole_step_lags_warns_not_silent():
    net = _delayed_pair(speed=mf.Bounded(5.0, 2.0, 8.0))

    def loss(speed, solver=mf.Heun()):
        return _x_sum(eqx.tree_at(lambda n: n.speed, net, speed), solver)

    for transform in (jax.grad, lambda f: jax.jit(jax.grad(f)), jax.jacfwd):
        with pytest.warns(UserWarning, match="`speed`.*is 0, not the real one.*interpolate_d"):
            assert transform(loss)(5.0) == 0.0
    # no warning where speed is not differentiated
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        jax.grad(lambda k: _x_sum(eqx.tree_at(lambda n: n.k, net, k), mf.Heun()))(0.5)


@pytest.mark.slow
def test_speed_gradient_with_exact_reads_and_other_derivatives_untouched():
    net = _delayed_pair(speed=mf.Bounded(5.0, 2.0, 8.0))

    def loss(speed, solver=mf.Heun()):
        return _x_sum(eqx.tree_at(lambda n: n.speed, net, speed), solver)

    # exact reads give the real derivative (away from a delay on the step grid, where
    # linear reads have a kink: 12 mm / 5.3 mm/ms is 11.3 steps)
    exact = mf.Heun(interpolate_delays=True)
    grad = jax.grad(lambda v: loss(v, exact))(5.3)
    h = 1e-5
    fd = (loss(5.3 + h, exact) - loss(5.3 - h, exact)) / (2 * h)
    assert grad == pytest.approx(fd, rel=1e-5) and abs(grad) > 0
    # what is not differentiated with respect to speed is untouched: d/dk, and vmap over speed
    dk = jax.grad(lambda k: _x_sum(eqx.tree_at(lambda n: n.k, net, k), mf.Heun()))(0.5)
    assert jnp.isfinite(dk) and dk != 0
    swept = jax.vmap(loss)(jnp.array([4.5, 5.0]))
    assert swept[1] == pytest.approx(float(loss(5.0)), rel=1e-12)


@pytest.mark.slow
def test_unbounded_speed_constraint_warns_that_blocks_drop_to_one_step():
    net = _delayed_pair(speed=mf.Positive(5.0), max_delay=12.0 / 2.0)
    with pytest.warns(UserWarning, match="min_delay is 0.*one dt at a time.*Bounded"):
        slow = mf.simulate(net, duration=20.0, dt=0.2)
    bounded = _delayed_pair(speed=mf.Bounded(5.0, 2.0, 8.0))
    assert bounded.min_delay == pytest.approx(12.0 / 8.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fast = mf.simulate(bounded, duration=20.0, dt=0.2)
    np.testing.assert_allclose(fast["x"], slow["x"], rtol=1e-12, atol=1e-14)
