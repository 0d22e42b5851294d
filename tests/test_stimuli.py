"""`massfit.stimuli`: each shape against its closed form, driving a simulation like the
equivalent hand-written input, gradients against finite differences, and the errors (plain,
jit, vmap)."""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import massfit as mf
from massfit import stimuli

from .helpers import finite_difference


TS = np.linspace(-5.0, 60.0, 651) + 0.013  # off the window edges, some before the onset


def _signal(stimulus, ts=TS, n=3):
    return np.asarray(jax.vmap(lambda t: stimulus.signal(t, n))(jnp.asarray(ts)))


def test_step_matches_closed_form():
    s = stimuli.Step(1.5, "x", onset=10.0, duration=20.0, regions=np.array([True, False, True]))
    inside = (TS >= 10.0) & (TS < 30.0)
    expected = 1.5 * inside[:, None] * np.array([1.0, 0.0, 1.0])
    np.testing.assert_array_equal(_signal(s), expected)


def test_pulse_train_matches_closed_form():
    s = stimuli.PulseTrain(2.0, period=7.0, width=2.5, variable="x", onset=3.0, duration=40.0)
    inside = (TS >= 3.0) & (TS < 43.0)
    on = np.mod(TS - 3.0, 7.0) < 2.5
    np.testing.assert_allclose(_signal(s), np.repeat((2.0 * inside * on)[:, None], 3, 1))


def test_sine_matches_closed_form():
    weights = np.array([1.0, -0.5, 2.0])
    s = stimuli.Sine(0.8, 40.0, "y", phase=0.3, onset=5.0, regions=weights)
    inside = TS >= 5.0
    wave = 0.8 * np.sin(2 * np.pi * 40.0 / 1000.0 * (TS - 5.0) + 0.3)
    np.testing.assert_allclose(_signal(s), (inside * wave)[:, None] * weights, atol=1e-14)


def test_ramp_matches_closed_form():
    s = stimuli.Ramp(3.0, duration=25.0, variable="x", onset=12.0)
    inside = (TS >= 12.0) & (TS < 37.0)
    np.testing.assert_allclose(
        _signal(s)[:, 0], inside * 3.0 * (TS - 12.0) / 25.0, rtol=1e-13, atol=1e-15
    )


def test_noise_burst_is_held_normal_noise_from_the_key():
    key = jr.key(3)
    s = stimuli.NoiseBurst(0.5, key, "x", resolution=2.0, onset=4.0, duration=30.0)
    values = _signal(s)
    inside = (TS >= 4.0) & (TS < 34.0)
    assert np.all(values[~inside] == 0)
    bins = np.floor((TS[inside] - 4.0) / 2.0).astype(int)
    # Constant within a bin, and the bin's value is amplitude * z[b, i] from the key.
    for b in np.unique(bins):
        z = np.array(
            [jr.normal(jr.fold_in(jr.fold_in(key, b), i), dtype=float) for i in range(3)]
        )
        in_bin = values[inside][bins == b]
        np.testing.assert_allclose(in_bin, np.tile(0.5 * z, (len(in_bin), 1)))
    # 15 bins x 3 regions of N(0, 0.25): a loose sanity check of the scale.
    assert 0.2 < np.std(values[inside]) < 0.9


def test_noise_burst_does_not_depend_on_the_number_of_regions():
    s = stimuli.NoiseBurst(1.0, jr.key(0), "x")
    np.testing.assert_array_equal(_signal(s, n=5)[:, :3], _signal(s, n=3))


def test_sum_of_stimuli_is_a_stimulus_adding_their_inputs():
    a = stimuli.Step(1.0, "x", onset=2.0)
    b = stimuli.Sine(0.5, 20.0, "y")
    c = stimuli.Ramp(1.0, 10.0, "x")
    total = a + b + c
    assert isinstance(total, stimuli.AbstractStimulus) and len(total.terms) == 3
    assert total.variables == ("x", "y")
    assert sum([a, b, c]).terms == total.terms
    for t in (1.0, 3.3, 12.0):
        expected = np.stack([a.signal(t, 2) + c.signal(t, 2), b.signal(t, 2)])
        np.testing.assert_allclose(total.input(t, ("x", "y"), 2), expected)


def _network(n=3):
    rng = np.random.default_rng(0)
    w = rng.uniform(0.2, 1.0, (n, n)) * (1 - np.eye(n))
    lengths = rng.uniform(1.0, 4.0, (n, n)) * (1 - np.eye(n))
    node = mf.Hopf(a=-0.1, x0=0.1, y0=0.0)
    return mf.Network(node, mf.Connectome(w, lengths), k=0.3, speed=2.0)


@pytest.mark.slow  # ~45 s on the shared 2-core machine (compiles several solves)
def test_stimulus_drives_a_simulation_like_the_hand_written_function():
    net = _network()
    pulses = stimuli.PulseTrain(0.4, 4.0, 1.5, "x", onset=2.05, regions=np.array([1.0, 0.0, 0.5]))
    sine = stimuli.Sine(0.2, 50.0, "y", onset=5.05, duration=8.0)

    def by_hand(t):  # the same inputs, written out
        on = (t >= 2.05) & (jnp.mod(t - 2.05, 4.0) < 1.5)
        return jnp.where(on, 0.4, 0.0) * jnp.array([1.0, 0.0, 0.5])

    def by_hand_y(t):
        on = (t >= 5.05) & (t < 13.05)
        return jnp.where(on, 0.2 * jnp.sin(2 * jnp.pi * 0.05 * (t - 5.05)), 0.0)

    run = dict(duration=12.0, dt=0.1)
    ours = mf.simulate(net, inputs=pulses + sine, **run).ys
    theirs = mf.simulate(net, inputs={"x": by_hand, "y": by_hand_y}, **run).ys
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-14)
    also = mf.simulate(net, inputs={"x": pulses, "y": sine}, **run).ys
    np.testing.assert_array_equal(also, ours)
    assert not np.allclose(ours, mf.simulate(net, **run).ys)  # the input matters


@pytest.mark.slow
def test_step_drives_euler_like_the_equivalent_array():
    net = _network()
    step = stimuli.Step(0.3, "x", onset=4.05, duration=6.0, regions=np.array([True, True, False]))
    ts = 0.1 * np.arange(120)
    array = 0.3 * ((ts >= 4.05) & (ts < 10.05))[:, None] * np.array([1.0, 1.0, 0.0])
    run = dict(duration=12.0, dt=0.1, solver=mf.Euler())
    np.testing.assert_allclose(
        mf.simulate(net, inputs=step, **run).ys,
        mf.simulate(net, inputs={"x": array}, **run).ys,
        rtol=1e-12,
        atol=1e-14,
    )


@pytest.mark.slow  # ~45 s on the shared 2-core machine (compiles several solves)
def test_noise_burst_run_in_two_chunks_repeats_the_whole_run():
    net = _network()
    burst = stimuli.NoiseBurst(0.5, jr.key(1), "x", resolution=0.5, onset=1.0, duration=4.0)
    run = dict(dt=0.1, inputs=burst, solver=mf.Euler())
    whole = mf.simulate(net, duration=6.0, **run)
    first = mf.simulate(net, duration=3.0, **run)
    second = mf.simulate(net, duration=3.0, continue_from=first, **run)
    np.testing.assert_array_equal(whole.final_state, second.final_state)


def test_noise_burst_signal_does_not_depend_on_the_time_grid():
    burst = stimuli.NoiseBurst(1.0, jr.key(2), "x", resolution=0.5, onset=1.0)
    fine = _signal(burst, ts=0.01 + 0.05 * np.arange(400))
    np.testing.assert_array_equal(fine[::2], _signal(burst, ts=0.01 + 0.1 * np.arange(200)))


def _loss(amplitude, frequency=40.0):
    net = _network()
    stim = stimuli.Sine(amplitude, frequency, "x", onset=1.05, regions=np.array([1.0, 0.0, 0.0]))
    stim = stim + stimuli.Step(amplitude, "y", onset=3.05, duration=5.0)
    return jnp.sum(mf.simulate(net, duration=8.0, dt=0.1, inputs=stim)["x"] ** 2)


@pytest.mark.slow  # ~45 s on the shared 2-core machine (compiles several solves)
def test_gradient_with_respect_to_amplitude_matches_finite_differences():
    a = jnp.asarray(0.7)
    np.testing.assert_allclose(jax.grad(_loss)(a), finite_difference(_loss, a), rtol=1e-6)


@pytest.mark.slow
def test_vmap_over_amplitude_matches_a_loop():
    amplitudes = jnp.asarray([0.0, 0.5, 1.0])
    batched = jax.jit(jax.vmap(_loss))(amplitudes)
    np.testing.assert_allclose(batched, [_loss(a) for a in amplitudes], rtol=1e-12)


# --- errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(duration=-1.0), r"`duration` must be >= 0"),
        (dict(onset=np.inf), r"`onset` must be finite"),
        (dict(onset=np.nan), r"`onset` must be finite"),
    ],
)
def test_invalid_window_raises_plain_jit_and_vmap(kwargs, match):
    (name, value), = kwargs.items()
    with pytest.raises(ValueError, match=match):
        stimuli.Step(1.0, "x", **kwargs)

    def build(v):
        return stimuli.Step(1.0, "x", **{name: v}).signal(0.0, 2)

    with pytest.raises(Exception, match=match):
        jax.jit(build)(jnp.asarray(value)).block_until_ready()
    with pytest.raises(Exception, match=match):
        jax.vmap(build)(jnp.asarray([0.0, value])).block_until_ready()


def test_invalid_ramp_and_pulse_train_raise():
    with pytest.raises(ValueError, match=r"`duration` must be finite and > 0"):
        stimuli.Ramp(1.0, np.inf, "x")
    with pytest.raises(ValueError, match=r"`period` must be finite and > 0"):
        stimuli.PulseTrain(1.0, 0.0, 1.0, "x")
    with pytest.raises(ValueError, match=r"`width` must be <= `period`"):
        stimuli.PulseTrain(1.0, 2.0, 3.0, "x")
    with pytest.raises(TypeError, match=r"`key` must be a JAX random key"):
        stimuli.NoiseBurst(1.0, 0, "x")


def _run_pattern(pattern):
    net = _network()
    stim = stimuli.Step(1.0, "x", regions=pattern)
    return mf.simulate(net, duration=1.0, dt=0.1, inputs=stim).ys


def test_pattern_of_the_wrong_length_raises_plain_jit_and_vmap():
    match = r"`regions` must have one entry per region, shape \(3,\); got shape \(2,\)"
    with pytest.raises(ValueError, match=match):
        _run_pattern(np.ones(2))
    with pytest.raises(ValueError, match=match):
        jax.jit(_run_pattern)(jnp.ones(2))
    with pytest.raises(ValueError, match=match):
        jax.vmap(_run_pattern)(jnp.ones((4, 2)))
    with pytest.raises(ValueError, match=r"`regions` must be None .* shape \(N,\)"):
        stimuli.Step(1.0, "x", regions=np.ones((3, 1)))


def test_unknown_variable_raises_at_simulate_time_plain_jit_and_vmap():
    net = _network()

    def run(amplitude):
        stim = stimuli.Step(1.0, "x") + stimuli.Step(amplitude, "E")
        return mf.simulate(net, duration=1.0, dt=0.1, inputs=stim).ys

    match = r"term 1 \(Step\): Step drives variable 'E'.*its variables are \('x', 'y'\)"
    with pytest.raises(ValueError, match=match):
        run(1.0)
    with pytest.raises(ValueError, match=match):
        jax.jit(run)(1.0)
    with pytest.raises(ValueError, match=match):
        jax.vmap(run)(jnp.ones(2))
    with pytest.raises(ValueError, match=r"`inputs\['y'\]` is a stimulus of \('x',\)"):
        mf.simulate(net, duration=1.0, dt=0.1, inputs={"y": stimuli.Step(1.0, "x")})


def test_stimuli_are_immutable_modules():
    s = stimuli.Step(1.0, "x")
    with pytest.raises(Exception):
        s.amplitude = 2.0
    moved = eqx.tree_at(lambda m: m.amplitude, s, jnp.asarray(2.0))
    assert float(moved.signal(1.0, 1)[0]) == 2.0 and float(s.signal(1.0, 1)[0]) == 1.0
