"""What every plot shares: the lazy matplotlib import, new-or-given axes, array checks."""

import numpy as np

from .._errors import describe


_INSTALL = 'pip install "massfit[viz]"'


def pyplot():
    """`matplotlib.pyplot`, imported on first use (matplotlib is an optional extra).

    Importing it picks matplotlib's own default backend; massfit never sets one.
    """
    try:
        import matplotlib.pyplot as plt
    except ImportError as error:
        raise ImportError(
            f"massfit.viz draws with matplotlib, which is not installed: {_INSTALL}"
        ) from error
    return plt


def figure_and_axes(ax, **subplots):
    """`(fig, ax)`: the figure of the given `ax`, or a new figure with one axes."""
    if ax is None:
        return pyplot().subplots(**subplots)
    if not hasattr(ax, "figure") or not hasattr(ax, "plot"):
        raise TypeError(f"`ax` must be a matplotlib Axes or None; got {describe(ax)}.")
    return ax.figure, ax


def as_float_array(name: str, value, ndims: tuple[int, ...], what: str) -> np.ndarray:
    """`value` as a float NumPy array with one of `ndims` dimensions, or an error naming it."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise TypeError(f"`{name}` must be {what}; got {describe(value)}.") from error
    if array.ndim not in ndims:
        raise ValueError(f"`{name}` must be {what}; got shape {array.shape}.")
    return array


def as_square(name: str, value) -> np.ndarray:
    """`value` as a square `(N, N)` float array, or an error naming it."""
    array = as_float_array(name, value, (2,), "a square (N, N) matrix")
    if array.shape[0] != array.shape[1]:
        raise ValueError(f"`{name}` must be a square (N, N) matrix; got shape {array.shape}.")
    return array


def check_labels(name: str, labels, n: int, what: str) -> tuple[str, ...] | None:
    """`labels` as a tuple of `n` strings (or None), or an error naming `name`."""
    if labels is None:
        return None
    if isinstance(labels, str):
        raise TypeError(f"`{name}` must be a sequence of {n} {what} names; got a string.")
    labels = tuple(str(label) for label in labels)
    if len(labels) != n:
        raise ValueError(f"`{name}` must name all {n} {what}; got {len(labels)}.")
    return labels


def tick_labels(axis_setter, labels: tuple[str, ...], positions, max_ticks: int = 40) -> None:
    """Put `labels` at `positions`, thinned to at most `max_ticks` evenly spaced ones."""
    step = max(1, int(np.ceil(len(labels) / max_ticks)))
    keep = slice(None, None, step)
    axis_setter(np.asarray(positions)[keep], labels[keep])


def finite_range(array: np.ndarray) -> tuple[float, float] | None:
    """`(min, max)` of the finite values, or None if there are none."""
    finite = array[np.isfinite(array)]
    if finite.size == 0:
        return None
    return float(finite.min()), float(finite.max())
