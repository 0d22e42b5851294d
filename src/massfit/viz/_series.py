"""Time series (stacked regions or sensors) and their power spectra."""

from collections.abc import Mapping

import numpy as np

from .._errors import describe
from ._common import as_float_array, check_labels, figure_and_axes


#: The bands `psd` marks by default, Hz.
BANDS = {
    "delta": (1.0, 4.0),
    "theta": (4.0, 8.0),
    "alpha": (8.0, 12.0),
    "beta": (12.0, 30.0),
    "gamma": (30.0, 80.0),
}
_UNITS = {"ms": 1.0, "s": 1000.0}


def _is_trajectory(data) -> bool:
    return all(hasattr(data, name) for name in ("ts", "ys", "variables", "observed"))


def _is_signal(data) -> bool:
    return all(hasattr(data, name) for name in ("data", "dt", "labels")) and not _is_trajectory(
        data
    )


def resolve_series(data, *, dt, t, labels, variable, observed):
    """`(times in ms, (T, N) values, labels, name)` of whatever `timeseries` accepts."""
    name = None
    if _is_trajectory(data):
        if observed is not None:
            if observed not in data.observed:
                raise KeyError(
                    f"`observed`: the trajectory has no observer {observed!r}; it has "
                    f"{tuple(data.observed)}."
                )
            values, times, name = data.observed[observed], data.observed_ts[observed], observed
        else:
            if np.shape(data.ys)[0] == 0 or not data.variables:
                raise ValueError(
                    "`data` is a trajectory with no saved state (its run kept only observer "
                    f"samples): pass `observed=` one of {tuple(data.observed)}."
                )
            name = data.variables[0] if variable is None else variable
            values, times = data[name], data.ts
        if np.ndim(times) != 1:
            raise ValueError(
                "`data` must be a single trajectory; got times of shape "
                f"{np.shape(times)} (a vmapped batch? index one member first)."
            )
        if dt is not None or t is not None:
            raise ValueError("`dt` and `t`: a trajectory carries its own times; pass neither.")
        dt, t = None, times
    elif observed is not None or variable is not None:
        which = "observed" if observed is not None else "variable"
        raise TypeError(f"`{which}` selects from a massfit.Trajectory; `data` is {describe(data)}.")
    elif _is_signal(data):
        if dt is not None or t is not None:
            raise ValueError("`dt` and `t`: a massfit.io.Signal carries its own dt; pass neither.")
        values, dt = data.data, data.dt
        labels = data.labels if labels is None else labels
    else:
        values = data
    values = as_float_array(
        "data", values, (1, 2), "a (time, regions) array, a massfit.Trajectory or a Signal"
    )
    if values.ndim == 1:
        values = values[:, None]
    times = _times(values.shape[0], dt, t)
    labels = check_labels("labels", labels, values.shape[1], "regions (or sensors)")
    return times, values, labels, name


def _times(n: int, dt, t) -> np.ndarray:
    if (dt is None) == (t is None):
        raise ValueError(
            "pass one of `dt` (the sampling interval, ms) or `t` (the sample times, ms) with an "
            f"array; got dt={dt!r} and t={'None' if t is None else describe(t)}."
        )
    if t is not None:
        times = as_float_array("t", t, (1,), "the (T,) sample times in ms")
        if times.shape[0] != n:
            raise ValueError(f"`t` must have one time per sample ({n}); got {times.shape[0]}.")
        return times
    try:
        step = float(dt)
    except (TypeError, ValueError) as error:
        raise TypeError(f"`dt` must be a number of ms; got {describe(dt)}.") from error
    if not (np.isfinite(step) and step > 0):
        raise ValueError(f"`dt` must be a positive, finite number of ms; got {step}.")
    return np.arange(n) * step


def _check_unit(unit) -> float:
    if unit not in _UNITS:
        raise ValueError(f"`unit` must be 'ms' or 's'; got {unit!r}.")
    return _UNITS[unit]


def timeseries(
    data,
    *,
    dt=None,
    t=None,
    labels=None,
    unit: str = "ms",
    stacked: bool = True,
    variable: str | None = None,
    observed: str | None = None,
    ax=None,
):
    """Plot a multi-region (or multi-sensor) time series, one trace per region.

    **Arguments:**

    - `data`: a `massfit.Trajectory` (its first saved variable, or `variable`; or the
        samples of one of its observers, `observed="bold"`), a `massfit.io.Signal`, or a
        `(T, N)` (or `(T,)`) array with `dt` or `t`. An observer's post hoc output
        (`massfit.BOLD(...)(series, dt=...)`, `(M, N)`) is an array sampled every
        `observer.period` ms: pass `dt=observer.period`.
    - `dt`: the sampling interval of an array, **ms**.
    - `t`: the sample times of an array, **ms**, `(T,)` (instead of `dt`).
    - `labels`: `N` region or sensor names (a Signal's own labels by default).
    - `unit`: the time axis in `"ms"` or `"s"`.
    - `stacked`: one row per region, each trace centred on its mean (non-finite samples
        ignored) and shifted by a common offset, region 0 on top, the names on the y axis.
        With `stacked=False` the traces share one axis, as given.
    - `variable`: which saved variable of a trajectory.
    - `observed`: which observer's samples of a trajectory.
    - `ax`: draw into this matplotlib Axes instead of a new figure.

    Non-finite samples are left as they are (gaps in the trace).

    **Returns:**

    `(fig, ax)`.

    **Example:**

    ```python
    import numpy as np
    import massfit.viz

    series = np.sin(np.linspace(0, 20, 500))[:, None] * np.arange(1, 4)
    fig, ax = massfit.viz.timeseries(series, dt=2.0, labels=["V1", "V2", "MT"], unit="s")
    ```
    """
    times, values, labels, name = resolve_series(
        data, dt=dt, t=t, labels=labels, variable=variable, observed=observed
    )
    scale = _check_unit(unit)
    fig, ax = figure_and_axes(ax)
    n = values.shape[1]
    names = labels if labels is not None else tuple(str(i) for i in range(n))
    x = times / scale
    if stacked:
        centred = values - _nanmean_columns(values)
        spread = max(
            (
                np.ptp(column[np.isfinite(column)])
                for column in centred.T
                if np.isfinite(column).any()
            ),
            default=0.0,
        )
        spacing = float(spread) if spread > 0 else 1.0
        offsets = (n - 1 - np.arange(n)) * spacing
        for i in range(n):
            ax.plot(x, centred[:, i] + offsets[i], lw=0.8, color=f"C{i % 10}")
        ax.set_yticks(offsets, names)
        if n > 40:
            ax.tick_params(axis="y", labelsize=max(3, int(400 / n)))
        ax.set_ylabel(name or "region")
    else:
        for i in range(n):
            ax.plot(x, values[:, i], lw=0.8, label=names[i])
        if labels is not None and n <= 12:
            ax.legend(fontsize="small")
        ax.set_ylabel(name or "value")
    ax.set_xlabel(f"time ({unit})")
    if x.size:
        ax.set_xlim(x[0], x[-1])
    return fig, ax


def _nanmean_columns(values: np.ndarray) -> np.ndarray:
    finite = np.isfinite(values)
    count = finite.sum(axis=0)
    total = np.where(finite, values, 0.0).sum(axis=0)
    return np.where(count > 0, total / np.maximum(count, 1), 0.0)


def psd(
    series_or_freqs,
    power=None,
    *,
    dt=None,
    bands: Mapping | None = BANDS,
    labels=None,
    log: bool = True,
    fmax=None,
    nperseg: int | None = None,
    variable: str | None = None,
    observed: str | None = None,
    ax=None,
):
    """Plot the power spectrum of each region, with frequency bands marked.

    **Arguments:**

    - `series_or_freqs`: a series, as [`massfit.viz.timeseries`][] takes it (a
        `massfit.Trajectory`, a `massfit.io.Signal`, or a `(T, N)` array with `dt`), whose
        spectrum is computed with [`massfit.metrics.psd`][] (Welch); or the frequencies,
        **Hz**, `(F,)`, of a spectrum given as `power`.
    - `power`: `(F,)` or `(F, N)` power of a spectrum already computed, or None.
    - `dt`: the sampling interval of an array series, **ms** (evenly sampled).
    - `bands`: name -> `(low, high)` in Hz, shaded and named; those inside the plotted
        range are drawn. Default: delta 1-4, theta 4-8, alpha 8-12, beta 12-30, gamma
        30-80 Hz. None draws no bands.
    - `labels`: `N` region names, shown in a legend (up to 12 regions).
    - `log`: power on a log axis.
    - `fmax`: the highest frequency shown, Hz; default the lower of 100 Hz and the
        highest frequency (the data on the lines are the whole spectrum).
    - `nperseg`: samples per Welch segment (see `massfit.metrics.psd`).
    - `variable`, `observed`: which series of a trajectory (see `timeseries`).
    - `ax`: draw into this matplotlib Axes.

    **Returns:**

    `(fig, ax)`.

    **Example:**

    ```python
    import numpy as np
    import massfit.viz

    t = np.arange(4000) * 1.0  # ms
    series = np.stack([np.sin(2 * np.pi * 0.010 * t), np.sin(2 * np.pi * 0.020 * t)], axis=1)
    fig, ax = massfit.viz.psd(series, dt=1.0, labels=["10 Hz", "20 Hz"])
    ```
    """
    if power is None:
        freqs, power, labels = _spectrum(
            series_or_freqs, dt, labels, nperseg, variable=variable, observed=observed
        )
    else:
        if dt is not None or nperseg is not None:
            raise ValueError("`dt` and `nperseg` are for a series; with `power` pass neither.")
        freqs = as_float_array("series_or_freqs", series_or_freqs, (1,), "the (F,) frequencies, Hz")
        power = as_float_array("power", power, (1, 2), "an (F,) or (F, N) power spectrum")
        if power.ndim == 1:
            power = power[:, None]
        if power.shape[0] != freqs.shape[0]:
            raise ValueError(
                f"`power` must have one row per frequency ({freqs.shape[0]}); got shape "
                f"{power.shape}."
            )
        labels = check_labels("labels", labels, power.shape[1], "regions")
    fig, ax = figure_and_axes(ax)
    n = power.shape[1]
    for i in range(n):
        ax.plot(freqs, power[:, i], lw=0.9, label=None if labels is None else labels[i])
    top = float(np.nanmax(freqs)) if freqs.size else 1.0
    high = min(top, 100.0) if fmax is None else float(fmax)
    low = float(np.nanmin(freqs)) if freqs.size else 0.0
    ax.set_xlim(low, high)
    if log:
        ax.set_yscale("log")
    for name, (lo, hi) in (bands or {}).items():
        lo, hi = float(lo), float(hi)
        if hi <= lo:
            raise ValueError(
                f"`bands[{name!r}]` must be (low, high) with low < high; got {(lo, hi)}."
            )
        if hi <= low or lo >= high:
            continue
        ax.axvspan(lo, hi, alpha=0.08, color="k", lw=0)
        ax.text(
            (max(lo, low) + min(hi, high)) / 2,
            0.98,
            name,
            transform=ax.get_xaxis_transform(),
            ha="center",
            va="top",
            fontsize="small",
        )
    ax.set_xlabel("frequency (Hz)")
    ax.set_ylabel("power")
    if labels is not None and n <= 12:
        ax.legend(fontsize="small")
    return fig, ax


def _spectrum(data, dt, labels, nperseg, *, variable, observed):
    from ..metrics import psd as welch

    times, values, labels, _ = _resolve_for_spectrum(data, dt, labels, variable, observed)
    if times.shape[0] < 2:
        raise ValueError(f"`series_or_freqs` needs at least 2 samples; got {times.shape[0]}.")
    steps = np.diff(times)
    step = float(steps[0])
    if not np.allclose(steps, step, rtol=1e-6, atol=0):
        raise ValueError("`series_or_freqs` must be evenly sampled for a spectrum.")
    freqs, power = welch(values, step, nperseg=nperseg)
    return np.asarray(freqs, dtype=np.float64), np.asarray(power, dtype=np.float64), labels


def _resolve_for_spectrum(data, dt, labels, variable, observed):
    if not (_is_trajectory(data) or _is_signal(data)) and dt is None:
        raise ValueError(
            "`dt` (the sampling interval, ms) is needed to compute the spectrum of an array; "
            "or pass frequencies and `power`."
        )
    return resolve_series(data, dt=dt, t=None, labels=labels, variable=variable, observed=observed)
