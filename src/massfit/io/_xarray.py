"""An optional bridge to xarray: named dimensions (time, variable, region)."""

import jax
import numpy as np

from ._signal import Signal


def to_xarray(obj, *, regions=None):
    """Convert a trajectory or a [`massfit.io.Signal`][] to an `xarray.DataArray`.

    Needs `xarray` (`pip install xarray`, or `massfit[xarray]`).

    **Arguments:**

    - `obj`: a trajectory — an object with `ts` (sample times, ms) and `ys`, where `ys` is
        a `(time, variable, region)` array with names in `obj.variables`, a `(time, region)`
        array (one variable), or a NamedTuple of `(time, region)` arrays (one per state
        variable, named by its fields) — or a `Signal` (`(time, region)` data, dt in ms).
    - `regions`: region names (e.g. `connectome.labels`); defaults to the `Signal`'s
        labels, else `0 ... N-1`.

    **Returns:**

    An `xarray.DataArray` with dims `("time", "variable", "region")` for a trajectory, or
    `("time", "region")` for a `Signal`; the `time` coordinate is in ms.

    **Example:**

    ```python
    da = massfit.io.to_xarray(trajectory, regions=conn.labels)
    da.sel(variable="x").mean("time")
    ```
    """
    try:
        import xarray
    except ImportError as error:
        raise ImportError(
            "to_xarray needs xarray: `pip install xarray` (or `massfit[xarray]`)."
        ) from error
    if isinstance(obj, Signal):
        data = np.asarray(obj.data)
        times = np.asarray(obj.times)
        dims = ("time", "region")
        coords = {}
        regions = regions if regions is not None else obj.labels
    elif hasattr(obj, "ts") and hasattr(obj, "ys"):
        times = np.asarray(obj.ts)
        data, variables = _stack_variables(obj.ys, getattr(obj, "variables", None))
        dims = ("time", "variable", "region")
        coords = {"variable": list(variables)}
    else:
        raise TypeError(
            "to_xarray takes a trajectory (with `ts` and `ys`) or a massfit.io.Signal; got "
            f"{type(obj).__name__}."
        )
    if data.shape[0] != times.shape[0]:
        raise ValueError(
            f"`ts` has {times.shape[0]} times but the data has {data.shape[0]} samples."
        )
    n = data.shape[-1]
    if regions is not None and len(regions) != n:
        raise ValueError(f"`regions` must name all {n} regions; got {len(regions)}.")
    coords["time"] = ("time", times, {"units": "ms"})
    coords["region"] = list(regions) if regions is not None else list(range(n))
    return xarray.DataArray(data, dims=dims, coords=coords)


def _stack_variables(ys, variables):
    if isinstance(ys, tuple) and hasattr(type(ys), "_fields"):
        arrays = [np.asarray(leaf) for leaf in ys]
        names = variables if variables is not None else ys._fields
        return np.stack(arrays, axis=1), tuple(names)
    if not isinstance(ys, (jax.Array, np.ndarray)):
        raise TypeError(
            "a trajectory's `ys` must be an array or a NamedTuple of arrays; got "
            f"{type(ys).__name__}."
        )
    ys = np.asarray(ys)
    if ys.ndim == 2:
        ys = ys[:, None, :]
    if ys.ndim != 3:
        raise ValueError(
            f"a trajectory's `ys` must be (time, variable, region) or (time, region); got "
            f"shape {ys.shape}."
        )
    names = tuple(variables) if variables is not None else tuple(range(ys.shape[1]))
    if len(names) != ys.shape[1]:
        raise ValueError(
            f"`variables` names {len(names)} variables but `ys` has {ys.shape[1]}."
        )
    return ys, names
