"""massfit.viz draws what it is given: the data on the axes, labels, ticks and titles (never
pixels), on tiny inputs; references are computed here with NumPy/SciPy."""

import inspect
import re
import subprocess
import sys

import matplotlib
import matplotlib.figure


matplotlib.use("Agg")

import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
import pytest
import scipy.signal

import massfit
import massfit.viz as viz
from massfit._fit import FitResult


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def trajectory():
    conn = massfit.Connectome(jnp.ones((2, 2)) - jnp.eye(2), labels=("left", "right"))
    net = massfit.Network(massfit.Hopf(), conn, k=0.5)
    observers = {"bold": massfit.BOLD(period=2.0, drive="x")}
    return massfit.simulate(net, duration=20.0, dt=0.1, save_every=0.5, observers=observers)


def _ticklabels(ticks):
    return [t.get_text() for t in ticks]


# --- lazy import ---------------------------------------------------------------------------


def test_import_massfit_does_not_import_matplotlib():
    code = "import sys, massfit, massfit.viz; print('matplotlib' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_missing_matplotlib_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r'pip install "massfit\[viz\]"'):
        viz.timeseries(np.zeros((3, 2)), dt=1.0)


# --- timeseries ----------------------------------------------------------------------------


def test_timeseries_stacked_array():
    rng = np.random.default_rng(0)
    data = rng.normal(size=(50, 3)) * np.array([1.0, 5.0, 0.1]) + np.array([0.0, 10.0, -3.0])
    fig, ax = viz.timeseries(data, dt=2.0, labels=["a", "b", "c"], unit="s")
    lines = ax.get_lines()
    assert len(lines) == 3
    offsets = []
    for i, line in enumerate(lines):
        np.testing.assert_allclose(line.get_xdata(), np.arange(50) * 2.0 / 1000.0)
        shift = line.get_ydata() - data[:, i]
        np.testing.assert_allclose(shift, shift[0], atol=1e-12)  # the trace itself, shifted
        offsets.append(np.mean(line.get_ydata()))
    # region 0 on top, traces apart by at least the largest peak-to-peak
    assert offsets[0] > offsets[1] > offsets[2]
    assert min(-np.diff(offsets)) >= np.ptp(data - data.mean(0), axis=0).max() - 1e-9
    assert _ticklabels(ax.get_yticklabels()) == ["a", "b", "c"]
    np.testing.assert_allclose(ax.get_yticks(), offsets, atol=1e-9)  # ticks at the centred means
    assert ax.get_xlabel() == "time (s)"


def test_timeseries_unstacked_with_times_and_nan_kept():
    data = np.array([[0.0, 1.0], [np.nan, 2.0], [2.0, np.inf]])
    t = np.array([0.0, 1.0, 3.0])
    fig, ax = viz.timeseries(data, t=t, stacked=False)
    a, b = ax.get_lines()
    np.testing.assert_array_equal(a.get_xdata(), t)
    np.testing.assert_array_equal(a.get_ydata(), data[:, 0])  # NaN stays NaN
    np.testing.assert_array_equal(b.get_ydata(), data[:, 1])
    assert ax.get_xlabel() == "time (ms)"


def test_timeseries_stacked_nan_stays_nan():
    data = np.array([[0.0, 1.0], [np.nan, 3.0], [2.0, 2.0]])
    _, ax = viz.timeseries(data, dt=1.0)
    y = ax.get_lines()[0].get_ydata()
    assert np.isnan(y[1]) and np.all(np.isfinite(y[[0, 2]]))
    np.testing.assert_allclose(y[2] - y[0], 2.0)


def test_timeseries_trajectory_and_observer(trajectory):
    _, ax = viz.timeseries(trajectory)  # first saved variable, x
    x = np.asarray(trajectory["x"])
    for i, line in enumerate(ax.get_lines()):
        np.testing.assert_allclose(line.get_xdata(), np.asarray(trajectory.ts))
        shift = line.get_ydata() - x[:, i]
        np.testing.assert_allclose(shift, shift[0], atol=1e-9)
    assert ax.get_ylabel() == "x"

    _, ax = viz.timeseries(trajectory, observed="bold", stacked=False, unit="s")
    bold = np.asarray(trajectory.observed["bold"])
    np.testing.assert_allclose(
        ax.get_lines()[1].get_xdata(), np.asarray(trajectory.observed_ts["bold"]) / 1000
    )
    np.testing.assert_allclose(ax.get_lines()[1].get_ydata(), bold[:, 1])
    assert ax.get_ylabel() == "bold"

    # a post hoc observer's output is an array sampled every period
    posthoc = massfit.BOLD(period=2.0, drive="x")(trajectory["x"], dt=0.5)
    _, ax = viz.timeseries(posthoc, dt=2.0, stacked=False)
    np.testing.assert_allclose(ax.get_lines()[0].get_xdata(), np.arange(len(posthoc)) * 2.0)


def test_timeseries_signal_labels():
    signal = massfit.io.Signal(np.arange(12.0).reshape(6, 2), dt=720.0, labels=["V1", "V2"])
    _, ax = viz.timeseries(signal, unit="s")
    assert _ticklabels(ax.get_yticklabels()) == ["V1", "V2"]
    np.testing.assert_allclose(ax.get_lines()[0].get_xdata(), np.arange(6) * 0.72)


def test_timeseries_errors(trajectory):
    with pytest.raises(ValueError, match="`dt`"):
        viz.timeseries(np.zeros((4, 2)))
    with pytest.raises(ValueError, match="one of `dt`"):
        viz.timeseries(np.zeros((4, 2)), dt=1.0, t=np.arange(4.0))
    with pytest.raises(ValueError, match="`t` must have one time per sample"):
        viz.timeseries(np.zeros((4, 2)), t=np.arange(3.0))
    with pytest.raises(ValueError, match="`labels` must name all 2"):
        viz.timeseries(np.zeros((4, 2)), dt=1.0, labels=["a"])
    with pytest.raises(ValueError, match="`unit`"):
        viz.timeseries(np.zeros((4, 2)), dt=1.0, unit="min")
    with pytest.raises(ValueError, match="`data`"):
        viz.timeseries(np.zeros((4, 2, 2)), dt=1.0)
    with pytest.raises(ValueError, match="`dt` must be a positive"):
        viz.timeseries(np.zeros((4, 2)), dt=0.0)
    with pytest.raises(KeyError, match="no observer 'eeg'"):
        viz.timeseries(trajectory, observed="eeg")
    with pytest.raises(KeyError, match="no saved variable 'z'"):
        viz.timeseries(trajectory, variable="z")
    with pytest.raises(ValueError, match="carries its own times"):
        viz.timeseries(trajectory, dt=1.0)
    with pytest.raises(TypeError, match="`ax`"):
        viz.timeseries(np.zeros((4, 2)), dt=1.0, ax="left")


# --- psd -----------------------------------------------------------------------------------


def test_psd_of_a_series_is_welch():
    rng = np.random.default_rng(1)
    t = np.arange(3000) * 1.0  # ms
    data = np.stack(
        [np.sin(2 * np.pi * 0.010 * t), np.sin(2 * np.pi * 0.025 * t)], axis=1
    ) + 0.1 * rng.normal(size=(3000, 2))
    _, ax = viz.psd(data, dt=1.0, labels=["a", "b"])
    freqs, power = scipy.signal.welch(data, fs=1000.0, nperseg=1000, axis=0)
    for i, line in enumerate(ax.get_lines()):
        np.testing.assert_allclose(line.get_xdata(), freqs)
        np.testing.assert_allclose(line.get_ydata(), power[:, i], rtol=1e-6)
    assert ax.get_yscale() == "log"
    assert ax.get_xlim() == (0.0, 100.0)
    assert {t.get_text() for t in ax.texts} == {"delta", "theta", "alpha", "beta", "gamma"}
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b"]
    peaks = [freqs[np.argmax(line.get_ydata())] for line in ax.get_lines()]
    assert peaks == [10.0, 25.0]


def test_psd_of_a_trajectory(trajectory):
    _, ax = viz.psd(trajectory, nperseg=16, bands=None, log=False)
    freqs, power = scipy.signal.welch(
        np.asarray(trajectory["x"]), fs=1000.0 / 0.5, nperseg=16, axis=0
    )
    np.testing.assert_allclose(ax.get_lines()[0].get_xdata(), freqs)
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), power[:, 0], rtol=1e-6, atol=1e-12)
    assert len(ax.texts) == 0 and ax.get_yscale() == "linear"


def test_psd_given_power_marks_only_bands_in_range():
    freqs = np.linspace(0.0, 20.0, 41)
    power = np.exp(-((freqs - 10.0) ** 2))
    _, ax = viz.psd(freqs, power, bands={"alpha": (8, 12), "gamma": (30, 80)})
    np.testing.assert_array_equal(ax.get_lines()[0].get_ydata(), power)
    assert [t.get_text() for t in ax.texts] == ["alpha"]
    assert ax.get_xlabel() == "frequency (Hz)"


def test_psd_errors():
    with pytest.raises(ValueError, match="`dt`"):
        viz.psd(np.zeros((100, 2)))
    with pytest.raises(ValueError, match="`power` must have one row per frequency"):
        viz.psd(np.arange(5.0), np.ones((4, 2)))
    with pytest.raises(ValueError, match="`bands\\['x'\\]`"):
        viz.psd(np.arange(5.0), np.ones(5), bands={"x": (3, 1)})
    with pytest.raises(ValueError, match="at least 2 samples"):
        viz.psd(massfit.io.Signal(np.zeros((1, 2)), dt=1.0))


# --- matrices ------------------------------------------------------------------------------


def test_matrix_image_labels_and_limits():
    m = np.array([[1.0, -0.5, 2.0], [0.3, np.nan, 0.0], [-3.0, 0.1, 1.0]])
    fig, ax = viz.matrix(m, labels=["a", "b", "c"], title="M")
    image = ax.images[0].get_array()
    np.testing.assert_array_equal(image.data[~image.mask], m[np.isfinite(m)])
    np.testing.assert_array_equal(image.mask, ~np.isfinite(m))  # NaN shown as missing
    assert ax.images[0].get_clim() == (-3.0, 3.0)
    assert _ticklabels(ax.get_xticklabels()) == ["a", "b", "c"]
    assert _ticklabels(ax.get_yticklabels()) == ["a", "b", "c"]
    assert ax.get_title() == "M"
    assert len(fig.axes) == 2  # the colour bar

    _, ax = viz.matrix(m, symmetric=False, diagonal=False)
    image = ax.images[0].get_array()
    assert image.mask[0, 0] and image.mask[2, 2] and not image.mask[0, 1]
    assert ax.images[0].get_clim() == (-3.0, 2.0)  # the finite, off-diagonal range


def test_fc_and_fcd():
    rng = np.random.default_rng(2)
    series = rng.normal(size=(120, 4))
    fc = np.corrcoef(series.T)
    _, ax = viz.fc(fc, labels=["a", "b", "c", "d"])
    image = ax.images[0].get_array()
    np.testing.assert_allclose(image.data, fc)
    np.testing.assert_array_equal(image.mask, np.eye(4, dtype=bool))  # diagonal hidden
    assert ax.images[0].get_clim() == (-1.0, 1.0)
    assert ax.get_title() == "FC"

    fcd = np.asarray(massfit.metrics.fcd(series, window_size=30, step_size=30))
    _, ax = viz.fcd(fcd)
    np.testing.assert_allclose(ax.images[0].get_array().data, fcd)
    assert not np.any(ax.images[0].get_array().mask)  # diagonal shown
    assert ax.get_xlabel() == "window" and ax.get_title() == "FCD"
    with pytest.raises(ValueError, match="`m` must be a square"):
        viz.fcd(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="`labels` name the rows and columns"):
        viz.matrix(np.zeros((2, 3)), labels=["a", "b"])


def test_connectome_weights_lengths_log():
    weights = np.array([[0.0, 10.0, 0.0], [1.0, 0.0, 0.1], [0.0, 100.0, 0.0]])
    lengths = np.array([[0.0, 20.0, 30.0], [20.0, 0.0, 40.0], [30.0, 40.0, 0.0]])
    conn = massfit.Connectome(weights, lengths, labels=("A", "B", "C"))
    _, ax = viz.connectome(conn)
    np.testing.assert_allclose(ax.images[0].get_array().data, weights)
    assert _ticklabels(ax.get_yticklabels()) == ["A", "B", "C"]
    _, ax = viz.connectome(conn, which="lengths")
    np.testing.assert_allclose(ax.images[0].get_array().data, lengths)
    _, ax = viz.connectome(conn, log=True)
    image = ax.images[0].get_array()
    np.testing.assert_array_equal(image.mask, weights == 0)  # absent connections missing
    np.testing.assert_allclose(image.data[~image.mask], np.log10(weights[weights > 0]))
    with pytest.raises(ValueError, match="`which`"):
        viz.connectome(conn, which="delays")
    with pytest.raises(TypeError, match="`c` must be a massfit.Connectome"):
        viz.connectome(weights)


def test_regions_2d_3d_and_edges():
    centres = np.array([[-40.0, 0.0, 10.0], [40.0, 5.0, 12.0], [0.0, 50.0, -5.0], [0.0, -60.0, 0]])
    weights = np.array(
        [[0.0, 1.0, 0.1, 0.0], [0.9, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.6], [0.0, 0.0, 0.0, 0.0]]
    )
    regions = massfit.io.Regions(centres, labels=["L", "R", "F", "P"])
    _, ax = viz.regions(regions, weights=weights, threshold=0.5, labels=True, view="coronal")
    edges, nodes = ax.collections
    np.testing.assert_allclose(nodes.get_offsets(), centres[:, [0, 2]])
    # pairs with max(|w_ij|, |w_ji|) >= 0.5: (0, 1) and (2, 3)
    segments = sorted(tuple(map(tuple, s)) for s in edges.get_segments())
    expected = sorted(
        (tuple(centres[i, [0, 2]]), tuple(centres[j, [0, 2]])) for i, j in [(0, 1), (2, 3)]
    )
    assert segments == expected
    assert [t.get_text() for t in ax.texts] == ["L", "R", "F", "P"]
    assert ax.get_xlabel() == "x (mm)" and ax.get_ylabel() == "z (mm)"

    _, ax = viz.regions(centres, dims=3, weights=weights, threshold=0.05)
    assert hasattr(ax, "zaxis")
    ax.figure.canvas.draw()  # 3-D collections project their data when drawn
    edges, nodes = ax.collections
    np.testing.assert_allclose(np.array(nodes._offsets3d).T, centres)
    assert len(edges.get_segments()) == 3
    _, ax = viz.regions(centres)
    assert len(ax.collections) == 1  # no weights, no edges

    conn = massfit.Connectome(weights)
    with pytest.raises(TypeError, match="holds no region centres"):
        viz.regions(conn)
    with pytest.raises(ValueError, match="`weights` must be \\(4, 4\\)"):
        viz.regions(centres, weights=np.ones((3, 3)))
    with pytest.raises(ValueError, match="`dims`"):
        viz.regions(centres, dims=4)
    with pytest.raises(ValueError, match="`view`"):
        viz.regions(centres, view="top")
    with pytest.raises(ValueError, match="`c_or_centres` must be \\(N, 3\\)"):
        viz.regions(centres[:, :2])


def test_fc_scatter_points_identity_and_r():
    rng = np.random.default_rng(3)
    emp = np.corrcoef(rng.normal(size=(5, 60)))
    sim = np.corrcoef(rng.normal(size=(5, 60)))
    _, ax = viz.fc_scatter(sim, emp)
    iu = np.triu_indices(5, k=1)
    np.testing.assert_allclose(ax.collections[0].get_offsets(), np.c_[emp[iu], sim[iu]])
    r = np.corrcoef(emp[iu], sim[iu])[0, 1]
    assert ax.get_title() == f"r = {r:.3f}"
    identity = ax.get_lines()[0]
    np.testing.assert_allclose(identity.get_xdata(), identity.get_ydata())
    assert ax.get_xlabel() == "empirical FC" and ax.get_ylabel() == "simulated FC"

    sim[0, 1] = np.nan
    _, ax = viz.fc_scatter(sim, emp)
    assert ax.get_title() == "r = nan"  # never a number made from a NaN
    with pytest.raises(ValueError, match="same shape"):
        viz.fc_scatter(sim, emp[:4, :4])


# --- fit history ---------------------------------------------------------------------------


def _result(param_history, history, best_step):
    best = {k: np.asarray(v[best_step]) for k, v in param_history.items()}
    return FitResult(
        model=None,
        best_loss=float(history[best_step]),
        best_step=best_step,
        best_params=best,
        history=history,
        param_history=param_history,
        aux=None,
        n_steps=len(history),
        stopped_early=False,
        reason=None,
        method="fit (reverse mode)",
    )


def test_fit_history_loss_params_truth():
    history = np.array([4.0, 2.0, 1.0, 0.5, 0.7])
    k = np.array([0.1, 0.2, 0.3, 0.35, 0.33])
    a = np.linspace(0, 1, 15).reshape(5, 3)
    result = _result({"k": k, "node.a": a}, history, best_step=3)
    fig, axes = viz.fit_history(result, truth={"k": 0.4, "node.a": [1.0, 2.0, 3.0]})
    assert len(axes) == 3
    loss_line = axes[0].get_lines()[0]
    np.testing.assert_array_equal(loss_line.get_ydata(), history)
    assert axes[0].get_yscale() == "log"
    best = [line for line in axes[0].get_lines() if line.get_label() == "best"][0]
    assert (best.get_xdata()[0], best.get_ydata()[0]) == (3, 0.5)
    k_lines = axes[1].get_lines()
    np.testing.assert_array_equal(k_lines[0].get_ydata(), k)
    truth = [line for line in k_lines if line.get_label() == "truth"][0]
    assert truth.get_ydata()[0] == 0.4
    a_lines = [line for line in axes[2].get_lines() if line.get_label().startswith("node.a[")]
    for i, line in enumerate(a_lines):
        np.testing.assert_array_equal(line.get_ydata(), a[:, i])
    dashed = [line.get_ydata()[0] for line in axes[2].get_lines() if line.get_linestyle() == "--"]
    assert dashed == [1.0, 2.0, 3.0]
    assert axes[2].get_ylabel() == "node.a" and axes[-1].get_xlabel() == "step"


def test_fit_history_summary_nonfinite_and_errors():
    history = np.array([1.0, -0.5, np.inf, np.nan])  # a negative loss: linear axis
    many = np.arange(4 * 20, dtype=float).reshape(4, 20)
    result = _result({"node.a": many}, history, best_step=1)
    _, axes = viz.fit_history(result, truth={"node.a": np.arange(20.0)}, max_lines=10)
    assert axes[0].get_yscale() == "linear"
    y = axes[0].get_lines()[0].get_ydata()
    assert np.isinf(y[2]) and np.isnan(y[3])  # non-finite losses stay non-finite
    median = axes[1].get_lines()[0]
    np.testing.assert_array_equal(median.get_ydata(), np.median(many, axis=1))
    assert [line.get_ydata()[0] for line in axes[1].get_lines()[1:]] == [9.5]
    with pytest.raises(KeyError, match="no trained parameter 'k'"):
        viz.fit_history(result, truth={"k": 1.0})
    with pytest.raises(KeyError, match="no trained parameter 'b'"):
        viz.fit_history(result, params=["b"])
    with pytest.raises(ValueError, match="must have 1 or 20 values"):
        viz.fit_history(result, truth={"node.a": [1.0, 2.0]})
    with pytest.raises(TypeError, match="`result` must be a massfit.FitResult"):
        viz.fit_history({"history": history})


# --- sweep maps ----------------------------------------------------------------------------


def test_sweep_map_1d_nan_and_inf_never_best():
    k = np.linspace(0.0, 1.0, 6)
    values = np.array([3.0, np.nan, -np.inf, 0.5, 1.0, 2.0])
    _, ax = viz.sweep_map(values, {"k": k})
    curve = ax.get_lines()[0]
    np.testing.assert_array_equal(curve.get_xdata(), k)
    np.testing.assert_array_equal(curve.get_ydata(), values)
    best = [line for line in ax.get_lines() if line.get_label() == "best"][0]
    assert (best.get_xdata()[0], best.get_ydata()[0]) == (k[3], 0.5)
    assert ax.get_xlabel() == "k" and ax.get_title().startswith("best: k = 0.6")

    _, ax = viz.sweep_map(values, {"k": k}, best="max")
    best = [line for line in ax.get_lines() if line.get_label() == "best"][0]
    assert best.get_xdata()[0] == k[0]

    _, ax = viz.sweep_map(np.full(3, np.nan), {"k": k[:3]})
    assert [line.get_label() for line in ax.get_lines()] == ["value"]
    assert ax.get_title() == "no finite value"


def test_sweep_map_2d_heatmap():
    k = np.array([0.0, 0.1, 0.2])
    speed = np.array([1.0, 2.0, 4.0, 8.0])
    values = (k[:, None] - 0.1) ** 2 + np.log2(speed[None, :] / 4.0) ** 2
    values[1, 2] = np.nan  # the true minimum is missing: never best
    _, ax = viz.sweep_map(values, {"k": k, "speed": speed}, log_axes=("speed",))
    mesh = ax.collections[0]
    shown = mesh.get_array()
    np.testing.assert_array_equal(shown.mask.reshape(3, 4), ~np.isfinite(values))
    ok = np.isfinite(values)
    np.testing.assert_allclose(shown.data.reshape(3, 4)[ok], values[ok])
    finite = np.where(np.isfinite(values), values, np.inf)
    i, j = np.unravel_index(np.argmin(finite), values.shape)
    best = [line for line in ax.get_lines() if line.get_label() == "best"][0]
    assert (best.get_xdata()[0], best.get_ydata()[0]) == (speed[j], k[i])
    assert ax.get_xlabel() == "speed" and ax.get_ylabel() == "k"
    assert ax.get_xscale() == "log" and ax.get_yscale() == "linear"
    # cells centred on the coordinates (geometric midpoints on the log axis)
    x_edges = mesh.get_coordinates()[0, :, 0]
    np.testing.assert_allclose(np.sqrt(x_edges[:-1] * x_edges[1:]), speed)


def test_sweep_map_duck_typed_result_and_scatter():
    class Result:
        values = {"loss": np.array([[1.0, 0.2], [0.3, 0.4]])}
        coords = {"a": np.array([0.0, 1.0]), "b": np.array([5.0, 6.0])}

    _, ax = viz.sweep_map(Result())
    best = [line for line in ax.get_lines() if line.get_label() == "best"][0]
    assert (best.get_xdata()[0], best.get_ydata()[0]) == (6.0, 0.0)
    assert ax.figure.axes[1].get_ylabel() == "loss"

    # a random design: one point axis, coordinates per path
    a = np.array([0.1, 0.5, 0.9, 0.3])
    b = np.array([1.0, 3.0, 2.0, 5.0])
    values = np.array([0.4, np.nan, 0.2, 0.9])
    _, ax = viz.sweep_map(values, {"a": a, "b": b})
    points, missing = ax.collections[:2]
    np.testing.assert_allclose(points.get_offsets(), np.c_[b, a][np.isfinite(values)])
    np.testing.assert_allclose(points.get_array(), values[np.isfinite(values)])
    np.testing.assert_allclose(missing.get_offsets(), [[3.0, 0.5]])
    best = [line for line in ax.get_lines() if line.get_label() == "best"][0]
    assert (best.get_xdata()[0], best.get_ydata()[0]) == (2.0, 0.9)


def test_sweep_map_errors():
    with pytest.raises(ValueError, match="do not match `coords`"):
        viz.sweep_map(np.zeros((2, 3)), {"a": np.arange(3.0), "b": np.arange(2.0)})
    with pytest.raises(ValueError, match="do not match `coords`"):
        viz.sweep_map(np.zeros((2, 3, 2)), {"a": np.arange(2.0)})
    with pytest.raises(TypeError, match="`result_or_values` must be a sweep result"):
        viz.sweep_map(np.zeros(3))
    with pytest.raises(KeyError, match="`log_axes`: no axis 'c'"):
        viz.sweep_map(np.zeros(3), {"a": np.arange(3.0)}, log_axes=("c",))
    with pytest.raises(ValueError, match="values <= 0"):
        viz.sweep_map(np.zeros(3), {"a": np.arange(3.0)}, log_axes="a")
    with pytest.raises(ValueError, match="`output`: name one of"):
        viz.sweep_map({"x": np.zeros(3), "y": np.zeros(3)}, {"a": np.arange(3.0)})
    with pytest.raises(ValueError, match="`best`"):
        viz.sweep_map(np.zeros(3), {"a": np.arange(3.0)}, best="lowest")


def test_draws_into_given_axes():
    fig, axes = plt.subplots(1, 2)
    out_fig, out_ax = viz.fc(np.eye(3), ax=axes[1])
    assert out_fig is fig and out_ax is axes[1] and len(axes[1].images) == 1
    fig = plt.figure()
    result = _result({"k": np.arange(3.0)}, np.array([3.0, 2.0, 1.0]), best_step=2)
    out_fig, out_axes = viz.fit_history(result, fig=fig)
    assert out_fig is fig and len(out_axes) == 2


@pytest.mark.parametrize("name", sorted(n for n in viz.__dict__ if callable(getattr(viz, n))))
def test_docstring_examples_run(name):
    fn = getattr(viz, name)
    blocks = re.findall(r"```python\n(.*?)```", inspect.getdoc(fn), re.S)
    assert blocks, f"massfit.viz.{name} has no example"
    namespace = {}
    for block in blocks:
        exec(compile(block, f"massfit.viz.{name} example", "exec"), namespace)
    assert isinstance(namespace["fig"], matplotlib.figure.Figure)
