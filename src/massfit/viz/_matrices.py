"""Matrices: FC, FCD, the connectome's weights and lengths; region centres with their edges;
simulated against empirical FC."""

import numpy as np

from .._errors import describe
from ._common import (
    as_float_array,
    as_square,
    check_labels,
    figure_and_axes,
    finite_range,
    pyplot,
    tick_labels,
)


def matrix(
    m,
    *,
    labels=None,
    title: str | None = None,
    cmap: str | None = None,
    symmetric: bool = True,
    diagonal: bool = True,
    vmin=None,
    vmax=None,
    colorbar_label: str | None = None,
    ax=None,
):
    """Show a matrix as an image with a colour bar: row `i` of `m` is row `i` of the image.

    **Arguments:**

    - `m`: an `(R, C)` matrix.
    - `labels`: names of the rows and columns of a square matrix, put on the ticks (thinned
        to at most 40 ticks).
    - `title`: the axes title.
    - `cmap`: a matplotlib colour map; default `"RdBu_r"` when `symmetric`, else
        `"viridis"`.
    - `symmetric`: colour limits symmetric about 0 (`-max|m|` to `max|m|` over the finite
        values shown), for signed values such as correlations; else the finite range.
    - `diagonal`: show the diagonal; with `False` it is masked (drawn as missing), for
        matrices whose diagonal is trivial (FC's ones) and would take the colour range.
    - `vmin`, `vmax`: explicit colour limits (override `symmetric`).
    - `colorbar_label`: the colour bar's label.
    - `ax`: draw into this matplotlib Axes.

    Non-finite entries are masked: drawn as missing (the colour map's "bad" colour), never
    as a value.

    **Returns:**

    `(fig, ax)`; the image is `ax.images[0]`.

    **Example:**

    ```python
    import numpy as np
    import massfit.viz

    fig, ax = massfit.viz.matrix(np.array([[0.0, 2.0], [-1.0, 0.5]]), labels=["a", "b"])
    ```
    """
    array = as_float_array("m", m, (2,), "a 2-D matrix")
    if labels is not None:
        if array.shape[0] != array.shape[1]:
            raise ValueError(
                f"`labels` name the rows and columns of a square `m`; got {array.shape}."
            )
        labels = check_labels("labels", labels, array.shape[0], "rows")
    mask = ~np.isfinite(array)
    if not diagonal:
        if array.shape[0] != array.shape[1]:
            raise ValueError(f"`diagonal=False` needs a square `m`; got shape {array.shape}.")
        mask = mask | np.eye(array.shape[0], dtype=bool)
    shown = np.ma.masked_array(array, mask=mask)
    limits = finite_range(array[~mask])
    if symmetric:
        reach = max(abs(limits[0]), abs(limits[1])) if limits else 1.0
        reach = reach if reach > 0 else 1.0
        low, high = -reach, reach
    else:
        low, high = limits if limits else (0.0, 1.0)
    low = low if vmin is None else float(vmin)
    high = high if vmax is None else float(vmax)
    fig, ax = figure_and_axes(ax)
    colours = pyplot().get_cmap(cmap or ("RdBu_r" if symmetric else "viridis"))
    colours = colours.with_extremes(bad="0.85")
    image = ax.imshow(shown, cmap=colours, vmin=low, vmax=high, interpolation="nearest")
    bar = fig.colorbar(image, ax=ax)
    if colorbar_label:
        bar.set_label(colorbar_label)
    if labels is not None:
        positions = np.arange(len(labels))
        tick_labels(lambda p, t: ax.set_xticks(p, t, rotation=90), labels, positions)
        tick_labels(ax.set_yticks, labels, positions)
        if len(labels) > 20:
            ax.tick_params(labelsize=max(3, int(240 / len(labels))))
    if title:
        ax.set_title(title)
    return fig, ax


def fc(m, *, labels=None, title: str | None = "FC", diagonal: bool = False, ax=None):
    """Show a functional connectivity matrix (e.g. `massfit.metrics.fc`'s output).

    Colours span -1 to 1 (`RdBu_r`); the diagonal (all ones) is masked unless
    `diagonal=True`. The other arguments are those of [`massfit.viz.matrix`][].

    **Returns:**

    `(fig, ax)`.

    **Example:**

    ```python
    import numpy as np
    import massfit
    import massfit.viz

    series = np.random.default_rng(0).normal(size=(200, 4))
    fig, ax = massfit.viz.fc(massfit.metrics.fc(series), labels=["a", "b", "c", "d"])
    ```
    """
    return matrix(
        m,
        labels=labels,
        title=title,
        diagonal=diagonal,
        vmin=-1.0,
        vmax=1.0,
        colorbar_label="correlation",
        ax=ax,
    )


def fcd(m, *, title: str | None = "FCD", ax=None):
    """Show a functional connectivity dynamics matrix (`massfit.metrics.fcd`'s output):
    the correlation between the FC of each pair of sliding windows.

    Colours span -1 to 1; the diagonal (each window with itself, 1) is shown. Both axes are
    window indices.

    **Returns:**

    `(fig, ax)`.

    **Example:**

    ```python
    import numpy as np
    import massfit
    import massfit.viz

    series = np.random.default_rng(0).normal(size=(300, 4))
    fig, ax = massfit.viz.fcd(massfit.metrics.fcd(series, window_size=30, step_size=10))
    ```
    """
    as_square("m", m)
    fig, ax = matrix(
        m, title=title, vmin=-1.0, vmax=1.0, colorbar_label="correlation of window FCs", ax=ax
    )
    ax.set_xlabel("window")
    ax.set_ylabel("window")
    return fig, ax


def connectome(c, *, which: str = "weights", log: bool = False, labels=None, ax=None):
    """Show a connectome's weights or tract lengths as a matrix.

    `weights[i, j]` is the connection from region `j` (column) to region `i` (row), as in
    [`massfit.Connectome`][].

    **Arguments:**

    - `c`: a `massfit.Connectome`.
    - `which`: `"weights"` or `"lengths"` (mm).
    - `log`: colour by `log10` of the values; zeros (absent connections) are then masked,
        drawn as missing.
    - `labels`: region names on the ticks; default the connectome's own labels.
    - `ax`: draw into this matplotlib Axes.

    **Returns:**

    `(fig, ax)`.

    **Example:**

    ```python
    import numpy as np
    import massfit
    import massfit.viz

    conn = massfit.Connectome(np.array([[0.0, 1.0], [0.5, 0.0]]), np.full((2, 2), 20.0))
    fig, ax = massfit.viz.connectome(conn, which="lengths")
    ```
    """
    if not (hasattr(c, "weights") and hasattr(c, "lengths")):
        raise TypeError(f"`c` must be a massfit.Connectome; got {describe(c)}.")
    if which not in ("weights", "lengths"):
        raise ValueError(f"`which` must be 'weights' or 'lengths'; got {which!r}.")
    values = as_square(f"c.{which}", getattr(c, which))
    label = "weight" if which == "weights" else "length (mm)"
    if log:
        with np.errstate(divide="ignore", invalid="ignore"):
            values = np.where(values > 0, np.log10(np.where(values > 0, values, 1.0)), np.nan)
        label = f"log10 {label}"
    if labels is None:
        labels = getattr(c, "labels", None)
    return matrix(
        values,
        labels=labels,
        symmetric=False,
        title=f"connectome {which}",
        colorbar_label=label,
        ax=ax,
    )


_VIEWS = {"axial": (0, 1), "coronal": (0, 2), "sagittal": (1, 2)}
_AXIS_NAMES = ("x (mm)", "y (mm)", "z (mm)")


def regions(
    c_or_centres,
    *,
    dims: int = 2,
    weights=None,
    threshold=None,
    labels=None,
    view: str = "axial",
    ax=None,
):
    """Draw region centres, and the strongest connections between them, in 2-D or 3-D.

    **Arguments:**

    - `c_or_centres`: a `massfit.io.Regions` (from `massfit.io.load_tvb_regions` or
        `massfit.datasets.load_regions`), or `(N, 3)` centres in **mm** (x left → right,
        y posterior → anterior, z inferior → superior). A `massfit.Connectome` holds no
        centres: pass its `Regions`.
    - `dims`: 2 (a projection, see `view`) or 3.
    - `weights`: an `(N, N)` weight matrix or a `massfit.Connectome`, or None for no edges.
        Each pair `i < j` has the strength `max(|w[i, j]|, |w[j, i]|)`.
    - `threshold`: edges with a strength of at least this are drawn, line width in
        proportion to strength. Default: the 95th percentile of the non-zero strengths.
    - `labels`: `True` to write the regions' names (from a `Regions`), or `N` names.
    - `view`: the 2-D projection: `"axial"` (x, y), `"coronal"` (x, z) or `"sagittal"`
        (y, z).
    - `ax`: draw into this Axes (a 3-D one for `dims=3`).

    **Returns:**

    `(fig, ax)`; the edges are `ax.collections[0]` (when there are weights) and the
    centres the last collection.

    **Example:**

    ```python
    import numpy as np
    import massfit.viz

    centres = np.array([[-40.0, 0.0, 10.0], [40.0, 0.0, 10.0], [0.0, 50.0, 0.0]])
    weights = np.array([[0.0, 1.0, 0.1], [1.0, 0.0, 0.0], [0.1, 0.0, 0.0]])
    fig, ax = massfit.viz.regions(centres, weights=weights, threshold=0.5, labels=["L", "R", "F"])
    ```
    """
    if hasattr(c_or_centres, "weights") and not hasattr(c_or_centres, "centres"):
        raise TypeError(
            "`c_or_centres`: a massfit.Connectome holds no region centres; pass a "
            "massfit.io.Regions (massfit.io.load_tvb_regions, massfit.datasets.load_regions) "
            "or an (N, 3) array of centres in mm."
        )
    own_labels = getattr(c_or_centres, "labels", None)
    raw = c_or_centres.centres if hasattr(c_or_centres, "centres") else c_or_centres
    centres = as_float_array("c_or_centres", raw, (2,), "(N, 3) region centres in mm")
    if centres.shape[1] != 3:
        raise ValueError(f"`c_or_centres` must be (N, 3) centres in mm; got shape {centres.shape}.")
    n = centres.shape[0]
    if dims not in (2, 3):
        raise ValueError(f"`dims` must be 2 or 3; got {dims!r}.")
    if view not in _VIEWS:
        raise ValueError(f"`view` must be one of {tuple(_VIEWS)}; got {view!r}.")
    if labels is True:
        if own_labels is None:
            raise ValueError("`labels=True` needs a massfit.io.Regions; pass the N names instead.")
        labels = own_labels
    labels = check_labels("labels", labels, n, "regions")
    axes_of = _VIEWS[view] if dims == 2 else (0, 1, 2)
    points = centres[:, axes_of]
    segments, widths = _edges(weights, threshold, points, n)
    if ax is None:
        fig = pyplot().figure()
        ax = fig.add_subplot(projection="3d" if dims == 3 else None)
    else:
        fig, ax = figure_and_axes(ax)
        if dims == 3 and not hasattr(ax, "zaxis"):
            raise ValueError("`ax` must be a 3-D Axes for dims=3 (projection='3d').")
    if segments is not None:
        if dims == 3:
            from mpl_toolkits.mplot3d.art3d import Line3DCollection as Lines
        else:
            from matplotlib.collections import LineCollection as Lines
        ax.add_collection(Lines(segments, linewidths=widths, colors="0.3", alpha=0.6))
    extra = {"depthshade": False} if dims == 3 else {}
    ax.scatter(*points.T, s=25, c="C3", zorder=3, **extra)
    if labels is not None:
        for label, point in zip(labels, points):
            ax.text(*point, label, fontsize="x-small")
    ax.set_xlabel(_AXIS_NAMES[axes_of[0]])
    ax.set_ylabel(_AXIS_NAMES[axes_of[1]])
    if dims == 3:
        ax.set_zlabel(_AXIS_NAMES[2])
    else:
        ax.set_aspect("equal", adjustable="datalim")
        ax.set_title(view)
    return fig, ax


def _edges(weights, threshold, points, n):
    """Line segments and widths of the pairs whose strength is at least the threshold."""
    if weights is None:
        return None, None
    raw = weights.weights if hasattr(weights, "weights") else weights
    w = as_square("weights", raw)
    if w.shape[0] != n:
        raise ValueError(f"`weights` must be ({n}, {n}) for {n} regions; got shape {w.shape}.")
    rows, cols = np.triu_indices(n, k=1)
    strength = np.maximum(np.abs(w[rows, cols]), np.abs(w[cols, rows]))
    if threshold is None:
        nonzero = strength[np.isfinite(strength) & (strength > 0)]
        threshold = float(np.percentile(nonzero, 95)) if nonzero.size else np.inf
    keep = np.isfinite(strength) & (strength >= float(threshold)) & (strength > 0)
    segments = np.stack([points[rows[keep]], points[cols[keep]]], axis=1)
    top = strength[keep].max() if keep.any() else 1.0
    return segments, 0.3 + 2.2 * strength[keep] / top


def fc_scatter(simulated, empirical, *, ax=None):
    """Scatter simulated against empirical FC, one point per region pair.

    The points are the upper triangles (without the diagonal) of the two matrices, empirical
    on x and simulated on y, with the identity line; the title gives their Pearson
    correlation `r` (not finite if any pair is not: a non-finite value is never hidden).

    **Arguments:**

    - `simulated`, `empirical`: `(N, N)` FC matrices.
    - `ax`: draw into this matplotlib Axes.

    **Returns:**

    `(fig, ax)`.

    **Example:**

    ```python
    import numpy as np
    import massfit
    import massfit.viz

    rng = np.random.default_rng(0)
    empirical = massfit.metrics.fc(rng.normal(size=(200, 5)))
    simulated = massfit.metrics.fc(rng.normal(size=(200, 5)))
    fig, ax = massfit.viz.fc_scatter(simulated, empirical)
    ```
    """
    sim = as_square("simulated", simulated)
    emp = as_square("empirical", empirical)
    if sim.shape != emp.shape:
        raise ValueError(
            f"`simulated` {sim.shape} and `empirical` {emp.shape} must have the same shape."
        )
    if sim.shape[0] < 3:
        raise ValueError(
            f"`simulated` and `empirical` need at least 3 regions (3 pairs) for a correlation; "
            f"got {sim.shape[0]}."
        )
    rows, cols = np.triu_indices(sim.shape[0], k=1)
    x, y = emp[rows, cols], sim[rows, cols]
    if np.all(np.isfinite(x)) and np.all(np.isfinite(y)):
        xc, yc = x - x.mean(), y - y.mean()
        denominator = np.sqrt(np.sum(xc**2) * np.sum(yc**2))
        r = float(np.sum(xc * yc) / denominator) if denominator > 0 else np.nan
    else:
        r = np.nan
    fig, ax = figure_and_axes(ax)
    ax.scatter(x, y, s=12, alpha=0.7)
    limits = finite_range(np.concatenate([x, y]))
    if limits is not None:
        ax.plot(limits, limits, color="k", lw=0.8, ls="--")
    ax.set_xlabel("empirical FC")
    ax.set_ylabel("simulated FC")
    ax.set_title(f"r = {r:.3f}")
    ax.set_aspect("equal", adjustable="datalim")
    return fig, ax
