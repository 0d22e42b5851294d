"""Results: a fit's loss and parameter traces, a sweep's map with its best point."""

from collections.abc import Mapping

import numpy as np

from .._errors import describe
from ._common import as_float_array, figure_and_axes, pyplot


def fit_history(result, *, truth=None, params=None, max_lines: int = 10, fig=None):
    """Plot a fit's loss per step and the trace of each trained parameter.

    **Arguments:**

    - `result`: a `massfit.FitResult` (from `fit`, `cma_es`, `differential_evolution`), or
        a `massfit.MultistartResult` (its best start is shown).
    - `truth`: known values by path (`{"k": 0.02}`), drawn as dashed horizontal lines.
    - `params`: the paths to show, in order; default every trained parameter.
    - `max_lines`: a parameter with up to this many elements (e.g. per region) gets one line
        per element; a larger one gets its median and its min–max band (and the median of
        its truth).
    - `fig`: draw into this matplotlib Figure (its panels are added with `fig.subplots`).

    The loss is on a log axis when all its finite values are positive; non-finite losses are
    gaps. The best step is marked.

    **Returns:**

    `(fig, axes)`: `axes[0]` the loss, then one panel per parameter.

    **Example:**

    ```python
    import jax.numpy as jnp
    import optax
    import massfit
    import massfit.viz

    model = {"k": jnp.asarray(0.0)}
    result = massfit.fit(
        model, optax.adam(0.1), trainable="k", n_steps=30, progress=False,
        loss_fn=lambda m: ((m["k"] - 1.0) ** 2, None),
    )
    fig, axes = massfit.viz.fit_history(result, truth={"k": 1.0})
    ```
    """
    if hasattr(result, "best") and hasattr(result, "best_index"):
        result = result.best
    if not (hasattr(result, "history") and hasattr(result, "param_history")):
        raise TypeError(f"`result` must be a massfit.FitResult; got {describe(result)}.")
    available = tuple(result.param_history)
    paths = available if params is None else tuple([params] if isinstance(params, str) else params)
    for name, given in (("params", paths), ("truth", tuple(truth or {}))):
        unknown = [p for p in given if p not in available]
        if unknown:
            raise KeyError(
                f"`{name}`: no trained parameter {unknown[0]!r}; this fit trained {available}."
            )
    truth = dict(truth or {})
    if fig is None:
        fig = pyplot().figure(figsize=(6.4, 2.0 + 1.6 * len(paths)))
    elif not hasattr(fig, "subplots"):
        raise TypeError(f"`fig` must be a matplotlib Figure or None; got {describe(fig)}.")
    axes = np.atleast_1d(fig.subplots(1 + len(paths), 1, sharex=True, squeeze=False)[:, 0])

    loss = np.asarray(result.history, dtype=np.float64).reshape(-1)
    steps = np.arange(loss.shape[0])
    ax = axes[0]
    ax.plot(steps, loss, color="k", lw=1.0, label="loss")
    finite = loss[np.isfinite(loss)]
    if finite.size and np.all(finite > 0):
        ax.set_yscale("log")
    if result.best_step is not None and np.isfinite(result.best_loss):
        ax.plot([result.best_step], [result.best_loss], "o", color="C3", label="best")
    ax.set_ylabel("loss")
    ax.set_title(getattr(result, "method", None) or "fit")
    ax.legend(fontsize="small")

    for ax, path in zip(axes[1:], paths):
        trace = np.asarray(result.param_history[path], dtype=np.float64)
        trace = trace.reshape(trace.shape[0], -1)
        x = np.arange(trace.shape[0])
        known = None
        if path in truth:
            known = np.asarray(truth[path], dtype=np.float64).reshape(-1)
            if known.size not in (1, trace.shape[1]):
                raise ValueError(
                    f"`truth[{path!r}]` must have 1 or {trace.shape[1]} values (the parameter's "
                    f"size); got {known.size}."
                )
        if trace.shape[1] == 1:
            ax.plot(x, trace[:, 0], color="C0", label=path)
            if known is not None:
                ax.axhline(known[0], color="k", ls="--", lw=1.0, label="truth")
        elif trace.shape[1] <= max_lines:
            for i in range(trace.shape[1]):
                ax.plot(x, trace[:, i], color=f"C{i % 10}", lw=0.9, label=f"{path}[{i}]")
                if known is not None:
                    ax.axhline(
                        known[i if known.size > 1 else 0], color=f"C{i % 10}", ls="--", lw=0.8
                    )
        else:
            ax.fill_between(
                x,
                np.nanmin(trace, axis=1),
                np.nanmax(trace, axis=1),
                color="C0",
                alpha=0.2,
                label="min–max",
            )
            ax.plot(x, np.nanmedian(trace, axis=1), color="C0", label=f"{path} (median)")
            if known is not None:
                ax.axhline(np.median(known), color="k", ls="--", lw=1.0, label="truth (median)")
        ax.set_ylabel(path)
        if trace.shape[1] <= 4 or known is not None:
            ax.legend(fontsize="x-small")
    axes[-1].set_xlabel("step")
    return fig, axes


def _sweep_parts(result_or_values, coords, output):
    if coords is None:
        if not (hasattr(result_or_values, "values") and hasattr(result_or_values, "coords")):
            raise TypeError(
                "`result_or_values` must be a sweep result (with `.values` and `.coords`), or "
                f"an array of values with `coords`; got {describe(result_or_values)}."
            )
        values, coords = result_or_values.values, result_or_values.coords
    else:
        values = result_or_values
    name = output or "value"
    if isinstance(values, Mapping):
        if output is None:
            if len(values) != 1:
                raise ValueError(f"`output`: name one of the sweep's outputs {tuple(values)}.")
            (name,) = values
        elif output not in values:
            raise KeyError(f"`output`: no output {output!r}; the sweep has {tuple(values)}.")
        values = values[name]
    elif output is not None:
        raise ValueError("`output` picks one of several outputs; these values are a single array.")
    if not isinstance(coords, Mapping) or not coords:
        raise TypeError(
            f"`coords` must be a mapping from axis name to its 1-D values; got {describe(coords)}."
        )
    coords = {
        str(k): as_float_array(f"coords[{k!r}]", v, (1,), "1-D axis values")
        for k, v in coords.items()
    }
    values = as_float_array("values", values, tuple(range(1, 33)), "an array of sweep values")
    return values, coords, name


def _cell_edges(centres: np.ndarray, log: bool) -> np.ndarray:
    """Edges of the cells around sorted `centres` (geometric midpoints on a log axis)."""
    c = np.log(centres) if log else centres
    if c.size == 1:
        edges = np.array([c[0] - 0.5, c[0] + 0.5])
    else:
        mid = (c[1:] + c[:-1]) / 2
        edges = np.concatenate([[c[0] - (mid[0] - c[0])], mid, [c[-1] + (c[-1] - mid[-1])]])
    return np.exp(edges) if log else edges


def sweep_map(
    result_or_values,
    coords=None,
    *,
    best: bool | str = True,
    log_axes=(),
    output: str | None = None,
    cmap: str = "viridis",
    ax=None,
):
    """Plot a sweep: a curve over one axis, a heat map over two, with the best point marked.

    **Arguments:**

    - `result_or_values`: a sweep result (anything with `.values` and `.coords`, as
        `massfit.sweep` returns), or an array of values with `coords`.
    - `coords`: axis name -> 1-D values, in the order of the axes of the values.
        - 1 axis, values `(n,)`: a curve.
        - 2 axes, values `(n0, n1)`: a heat map, the **first** axis on y and the second on
            x (as `xarray` draws it).
        - 2 axes of `n` points each, values `(n,)` (a zipped or random design): the points,
            coloured by value.
    - `best`: mark the best point: `True` or `"min"` for the lowest value, `"max"` for the
        highest, `False` for none. Only finite values compete: NaN and inf are never best.
    - `log_axes`: names of axes drawn on a log scale.
    - `output`: which output of a sweep whose values are a dict of outputs.
    - `cmap`: the colour map of a heat map or scatter.
    - `ax`: draw into this matplotlib Axes.

    Non-finite values are missing: gaps in a curve, cells in the colour map's "bad" colour
    (light grey) in a heat map, grey crosses in a scatter.

    **Returns:**

    `(fig, ax)`; the best point is the line labelled `"best"`.

    **Example:**

    ```python
    import numpy as np
    import massfit.viz

    k = np.linspace(0.0, 1.0, 11)
    speed = np.geomspace(1.0, 20.0, 6)
    values = (k[:, None] - 0.3) ** 2 + np.log(speed[None, :] / 5.0) ** 2
    fig, ax = massfit.viz.sweep_map(values, {"k": k, "speed": speed}, log_axes=("speed",))
    ```
    """
    values, coords, name = _sweep_parts(result_or_values, coords, output)
    if best not in (True, False, None, "min", "max"):
        raise ValueError(f"`best` must be True, False, 'min' or 'max'; got {best!r}.")
    log_axes = (log_axes,) if isinstance(log_axes, str) else tuple(log_axes)
    unknown = [a for a in log_axes if a not in coords]
    if unknown:
        raise KeyError(f"`log_axes`: no axis {unknown[0]!r}; the axes are {tuple(coords)}.")
    names = tuple(coords)
    axis_values = tuple(coords.values())
    scattered = (
        values.ndim == 1 and len(names) == 2 and all(a.shape == values.shape for a in axis_values)
    )
    if not scattered:
        shape = tuple(a.shape[0] for a in axis_values)
        if len(names) != values.ndim or shape != values.shape:
            raise ValueError(
                f"`values` of shape {values.shape} do not match `coords` "
                f"{dict(zip(names, shape))}; sweep_map draws one or two axes (reduce the "
                "others first, e.g. `values.mean(axis=...)`)."
            )
    for axis in log_axes:
        if not np.all(coords[axis] > 0):
            raise ValueError(
                f"`log_axes`: axis {axis!r} has values <= 0, which a log axis cannot show."
            )

    fig, ax = figure_and_axes(ax)
    finite = np.isfinite(values)
    index = None
    if best and finite.any():
        masked = np.where(finite, values, np.inf if best != "max" else -np.inf)
        flat = np.argmax(masked) if best == "max" else np.argmin(masked)
        index = np.unravel_index(flat, values.shape)

    if values.ndim == 1 and not scattered:
        x = axis_values[0]
        ax.plot(x, values, marker=".", color="C0", label=name)
        ax.set_xlabel(names[0])
        ax.set_ylabel(name)
        where = None if index is None else (x[index[0]], values[index])
    else:
        colours = pyplot().get_cmap(cmap).with_extremes(bad="0.85")
        if scattered:
            x, y = axis_values[1], axis_values[0]
            artist = ax.scatter(x[finite], y[finite], c=values[finite], cmap=colours, s=30)
            if not finite.all():
                ax.scatter(x[~finite], y[~finite], marker="x", color="0.6", label="not finite")
            where = None if index is None else (x[index[0]], y[index[0]])
        else:
            y, x = axis_values
            artist = ax.pcolormesh(
                _cell_edges(x, names[1] in log_axes),
                _cell_edges(y, names[0] in log_axes),
                np.ma.masked_invalid(values),
                cmap=colours,
                shading="flat",
            )
            where = None if index is None else (x[index[1]], y[index[0]])
        fig.colorbar(artist, ax=ax).set_label(name)
        ax.set_xlabel(names[1])
        ax.set_ylabel(names[0])
    for axis in log_axes:
        position = names.index(axis)
        horizontal = (position == 0) if values.ndim == 1 and not scattered else (position == 1)
        (ax.set_xscale if horizontal else ax.set_yscale)("log")
    if where is not None:
        ax.plot(*where, marker="*", ms=14, color="C3", mec="k", ls="none", label="best")
        at = ", ".join(
            f"{n} = {coords[n][i]:.4g}" for n, i in _best_coords(names, index, scattered)
        )
        ax.set_title(f"best: {at} ({name} {values[index]:.4g})")
    elif best:
        ax.set_title(f"no finite {name}")
    return fig, ax


def _best_coords(names, index, scattered):
    if scattered:
        return [(n, index[0]) for n in names]
    return list(zip(names, index))
