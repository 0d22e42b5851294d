"""Every public objective propagates a non-finite input: NaN or infinity anywhere in the
prediction or the target gives a non-finite value (never a finite one, and never 0), whether
called plainly (where concrete input is refused with a ValueError instead), under `jax.jit`
or under `jax.vmap`."""

import equinox as eqx
import hypothesis.strategies as st
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings

from massfit import objectives


T, N = 40, 3  # non-square: a bare (T, N) array is read as a series
DT = 1.0  # ms: 1 kHz sampling, 16-sample Welch segments give bins every 62.5 Hz
BAND = (50.0, 200.0)
WINDOW, STEP = 10, 5


def _series(seed):
    return jnp.asarray(np.random.default_rng(seed).standard_normal((T, N)))


def _fc(x):
    return objectives.FCMatrix.from_series(x)


def _fcd_values(x):
    return objectives.FCDValues.from_series(x, WINDOW, STEP)


def _spectrum(x):
    return objectives.Spectrum.from_series(x, DT, nperseg=16)


# name -> (objective, how to build the target from a series, the target's array field)
CASES = {
    "timeseries_rmse": (objectives.timeseries_rmse(), lambda x: x, None),
    "cosine_sim": (objectives.cosine_sim(), lambda x: x, None),
    "cosine_sim loss": (objectives.cosine_sim(as_loss=True), lambda x: x, None),
    "fc_corr": (objectives.fc_corr(), lambda x: x, None),
    "fc_corr FCMatrix": (objectives.fc_corr(as_loss=True), _fc, "matrix"),
    "fc_rmse": (objectives.fc_rmse(), lambda x: x, None),
    "fc_rmse FCMatrix": (objectives.fc_rmse(), _fc, "matrix"),
    "fcd": (objectives.fcd(WINDOW, STEP, as_loss=True), lambda x: x, None),
    "fcd_ks": (objectives.fcd_ks(WINDOW, STEP), lambda x: x, None),
    "fcd_ks FCDValues": (objectives.fcd_ks(WINDOW, STEP), _fcd_values, "values"),
    "fcd_wasserstein": (objectives.fcd_wasserstein(WINDOW, STEP), lambda x: x, None),
    "fcd_wasserstein FCDValues": (
        objectives.fcd_wasserstein(WINDOW, STEP),
        _fcd_values,
        "values",
    ),
    "psd_distance": (objectives.psd_distance(DT, BAND, nperseg=16), lambda x: x, None),
    "psd_distance Spectrum": (objectives.psd_distance(DT, BAND, nperseg=16), _spectrum, "power"),
    "peak_frequency": (objectives.peak_frequency(DT, BAND, nperseg=16), lambda x: x, None),
    "peak_frequency Spectrum": (
        objectives.peak_frequency(DT, BAND, nperseg=16),
        _spectrum,
        "power",
    ),
    "band_power": (objectives.band_power(DT, BAND, nperseg=16), lambda x: x, None),
    "band_power relative": (
        objectives.band_power(DT, BAND, nperseg=16, relative=True),
        lambda x: x,
        None,
    ),
    "combine": (
        objectives.combine(
            (1.0, objectives.timeseries_rmse()),
            (0.5, objectives.fc_corr(as_loss=True)),
            (0.0, objectives.fcd_wasserstein(WINDOW, STEP)),
        ),
        lambda x: x,
        None,
    ),
}

# One compiled function per case and mode (the shapes are fixed), shared by all examples.
_jitted = {name: jax.jit(case[0]) for name, case in CASES.items()}
_vmapped = {name: jax.jit(jax.vmap(case[0])) for name, case in CASES.items()}

BAD = st.sampled_from([np.nan, np.inf, -np.inf])


def _poison(array, flat_index, value):
    flat = jnp.ravel(array)
    return flat.at[flat_index % flat.size].set(value).reshape(array.shape)


def _inputs(name, where, index, value):
    """A clean (prediction, target) pair, and the same with one value made non-finite."""
    _, make_target, field = CASES[name]
    prediction, target = _series(1), make_target(_series(2))
    if where == "prediction":
        return (prediction, target), (_poison(prediction, index, value), target)
    if field is None:
        return (prediction, target), (prediction, _poison(target, index, value))
    bad = eqx.tree_at(
        lambda t: getattr(t, field), target, _poison(getattr(target, field), index, value)
    )
    return (prediction, target), (prediction, bad)


inputs = st.tuples(st.sampled_from(["prediction", "target"]), st.integers(0, 10_000), BAD)


@pytest.mark.parametrize("name", list(CASES))
def test_clean_inputs_give_a_finite_value(name):
    (prediction, target), _ = _inputs(name, "prediction", 0, np.nan)
    objective = CASES[name][0]
    assert np.isfinite(objective(prediction, target))
    assert np.isfinite(_jitted[name](prediction, target))


@pytest.mark.parametrize("name", list(CASES))
@settings(max_examples=20, deadline=None)
@given(drawn=inputs)
def test_non_finite_input_under_jit_gives_non_finite(name, drawn):
    _, (prediction, target) = _inputs(name, *drawn)
    value = _jitted[name](prediction, target)
    assert not np.isfinite(value), (name, drawn, value)


@pytest.mark.parametrize("name", list(CASES))
@settings(max_examples=20, deadline=None)
@given(drawn=inputs)
def test_non_finite_input_under_vmap_taints_only_its_row(name, drawn):
    clean, bad = _inputs(name, *drawn)
    batch = jax.tree.map(lambda a, b: jnp.stack([a, b]), clean, bad)
    values = np.asarray(_vmapped[name](*batch))
    assert np.isfinite(values[0]), (name, drawn, values)
    assert not np.isfinite(values[1]), (name, drawn, values)


@pytest.mark.parametrize("name", list(CASES))
@settings(max_examples=5, deadline=None)
@given(drawn=inputs)
def test_non_finite_input_in_a_plain_call_is_refused_or_non_finite(name, drawn):
    _, (prediction, target) = _inputs(name, *drawn)
    try:
        value = CASES[name][0](prediction, target)
    except ValueError as error:
        assert "finite" in str(error)
    else:
        assert not np.isfinite(value), (name, drawn, value)
