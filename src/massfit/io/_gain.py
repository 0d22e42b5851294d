"""Lead fields (gain matrices) and sensors from files: TVB's text files, `.npy`, `.npz`, `.mat`.

TVB stores a projection as a `(sensors, sources)` matrix: whitespace-separated text
(`projection_eeg_*.txt`, `projection_meg_*.txt`), `.npy`, or a `.mat` variable
`ProjectionMatrix`. Its sensor files have one line per sensor, `label x y z` (EEG, SEEG) or
`label x y z ox oy oz` (MEG, with the coil's orientation), positions in mm, some of them
bzip2-compressed (`eeg_unitvector_62.txt.bz2`).
"""

import bz2
import os
import pathlib

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from .._metrics._checks import check_finite, positive_int
from ._named_arrays import labels_of, numeric, pick_key, read_mat, read_npy, read_npz
from ._policies import LengthUnit, to_mm
from ._text import detect_delimiter, is_number, parse_table, Table


#: Names tried for the sensor labels in `.npz`/`.mat` files when no key is given.
SENSOR_LABEL_KEYS = ("labels", "sensor_labels", "ch_names")
_TEXT_SUFFIXES = (".txt", ".csv", ".tsv")


def _format(path: str | os.PathLike) -> tuple[str, bool]:
    """The format suffix of `path` and whether it is bzip2-compressed (`x.txt.bz2`)."""
    name = pathlib.Path(path).name.lower()
    compressed = name.endswith(".bz2")
    return pathlib.Path(name.removesuffix(".bz2")).suffix, compressed


def _read_text(path: str | os.PathLike, compressed: bool) -> str:
    source = os.fspath(path)
    data = pathlib.Path(path).read_bytes()
    if compressed:
        try:
            data = bz2.decompress(data)
        except (OSError, ValueError) as error:
            raise ValueError(f"{source}: truncated or damaged bzip2 data ({error}).") from error
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(
            f"{source}: byte {error.start} is not text (UTF-8): the file is truncated or "
            "damaged, or not a text file."
        ) from error


def _table(text: str, source: str, **options) -> Table:
    try:
        return parse_table(text, source=source, **options)
    except ValueError as error:
        raise ValueError(
            f"{error} If the file should hold a whole table, it is truncated or damaged."
        ) from error


def _gain_key(arrays: dict[str, np.ndarray], key: str | None, source: str) -> str:
    """`key`, or the only numeric array of the file."""
    if key is not None:
        return pick_key(arrays, key, (), what="gain matrix", argument="key", source=source)
    found = [name for name, array in arrays.items() if np.issubdtype(array.dtype, np.number)]
    if len(found) != 1:
        problem = "several numeric arrays could be" if found else "no numeric array for"
        raise ValueError(
            f"{source}: {problem} the gain matrix ({sorted(found) or sorted(arrays)}); pass "
            "`key=` to name it."
        )
    return found[0]


def load_gain(
    path: str | os.PathLike,
    *,
    key: str | None = None,
    labels_key: str | None = None,
    n_regions: int | None = None,
    return_labels: bool = False,
) -> (
    Float[Array, "sensors regions"]
    | tuple[Float[Array, "sensors regions"], tuple[str, ...] | None]
):
    """Load a lead field (gain matrix): how much each region's source reaches each sensor.

    Reads `.npy` and `.npz` (without pickle), MATLAB `.mat` (needs scipy) and text
    (`.txt`, `.csv`, `.tsv`, optionally bzip2-compressed as `.txt.bz2`): TVB's
    `projection_eeg_*.txt` and `projection_meg_*.txt` are whitespace-separated, one row per
    sensor. Sensor labels come from a first column of names in text files, or from an array
    of names in `.npz`/`.mat` files.

    The matrix must be region-level, `(sensors, regions)`: a surface projection (one column
    per cortical vertex) has to be summed or averaged into regions first.

    **Arguments:**

    - `path`: the file; its suffix picks the format.
    - `key`: the array holding the matrix in `.npz`/`.mat` files; by default the only
        numeric array of the file (TVB's `.mat` files hold one, `ProjectionMatrix`).
    - `labels_key`: the array of sensor names in `.npz`/`.mat` files; by default
        `"labels"`, `"sensor_labels"` or `"ch_names"` if present.
    - `n_regions`: the number of regions of the network the lead field will observe; a
        matrix with another number of columns is refused.
    - `return_labels`: also return the sensor labels (`None` if the file has none).

    **Returns:**

    The `(sensors, regions)` gain matrix as a float array, or `(gain, labels)` with
    `return_labels=True`.

    **Example:**

    ```python
    import numpy as np
    import massfit

    np.savetxt("projection_eeg_3.txt", np.arange(12.0).reshape(3, 4))  # 3 sensors, 4 regions
    gain = massfit.io.load_gain("projection_eeg_3.txt", n_regions=4)
    gain.shape  # (3, 4)
    ```
    """
    source = os.fspath(path)
    suffix, compressed = _format(path)
    if n_regions is not None:
        n_regions = positive_int("n_regions", n_regions, unit="regions")
    labels, name = None, "gain"
    if suffix in (".npz", ".mat") and not compressed:
        arrays = read_npz(path) if suffix == ".npz" else read_mat(path)
        name = _gain_key(arrays, key, source)
        values = numeric(arrays[name], name=name, source=source)
        found = pick_key(
            arrays,
            labels_key,
            SENSOR_LABEL_KEYS,
            what="sensor labels",
            argument="labels_key",
            source=source,
            required=False,
        )
        labels = None if found is None else labels_of(arrays[found])
    elif (suffix == ".npy" and not compressed) or suffix in _TEXT_SUFFIXES:
        if key is not None or labels_key is not None:
            raise ValueError(
                f"`key` and `labels_key` name arrays in .npz and .mat files; {source} holds "
                "one matrix. Leave them out."
            )
        if suffix == ".npy":
            values = numeric(read_npy(path), name="its array", source=source)
        else:
            table = _table(_read_text(path, compressed), source)
            values, labels = table.values, table.row_labels
    else:
        raise ValueError(
            f"cannot tell the format of {source!r} from its name; known: .npy, .npz, .mat, "
            ".txt, .csv, .tsv (text also as .bz2)."
        )

    if values.ndim != 2:
        hint = " For a single sensor, save it as one row, (1, regions)." if values.ndim == 1 else ""
        raise ValueError(
            f"{source}: a gain matrix must be 2-D, (sensors, regions); got shape "
            f"{values.shape}.{hint}"
        )
    if values.size == 0:
        raise ValueError(f"{source}: the gain matrix is empty (shape {values.shape}).")
    try:
        check_finite(name, values, axes=("sensor", "region"))
    except ValueError as error:
        raise ValueError(f"{source}: {error}") from None
    if n_regions is not None and values.shape[1] != n_regions:
        if values.shape[0] == n_regions:
            hint = (
                " Its rows number n_regions: if it is stored (regions, sensors), load it "
                "without `n_regions` and transpose it (`gain.T`)."
            )
        else:
            hint = " Use the lead field computed for the network's parcellation."
        raise ValueError(
            f"{source}: the gain matrix has {values.shape[1]} region columns (shape "
            f"{values.shape}) but n_regions={n_regions}.{hint}"
        )
    if labels is not None and len(labels) != values.shape[0]:
        raise ValueError(
            f"{source}: {len(labels)} sensor labels for {values.shape[0]} sensors (rows)."
        )
    gain = jnp.asarray(values, dtype=jnp.result_type(float))
    return (gain, labels) if return_labels else gain


class Sensors(eqx.Module):
    """Where the sensors of an EEG, MEG or SEEG recording are.

    **Arguments:**

    - `positions`: `(sensors, 3)` positions in **mm**, in the frame of the head model the
        lead field was computed in.
    - `labels`: the sensor names; defaults to `"s0", "s1", ...`.
    - `orientations`: `(sensors, 3)` orientations (MEG coils), or `None`.

    **Example:**

    ```python
    import massfit

    sensors = massfit.io.Sensors([[0.0, 80.0, 40.0], [0.0, -80.0, 40.0]], ["T7", "T8"])
    sensors.n_sensors  # 2
    ```
    """

    labels: tuple[str, ...] = eqx.field(static=True)
    positions: Float[Array, "sensors 3"]
    orientations: Float[Array, "sensors 3"] | None

    def __init__(
        self,
        positions: ArrayLike,
        labels: tuple[str, ...] | list[str] | None = None,
        *,
        orientations: ArrayLike | None = None,
    ):
        positions = np.asarray(positions, dtype=np.float64)
        if positions.ndim != 2 or positions.shape[1] != 3:
            raise ValueError(
                f"`positions` must have shape (sensors, 3) in mm; got {positions.shape}."
            )
        n = positions.shape[0]
        labels = tuple(f"s{i}" for i in range(n)) if labels is None else tuple(map(str, labels))
        if len(labels) != n:
            raise ValueError(f"`labels` must name all {n} sensors; got {len(labels)}.")
        float_dtype = jnp.result_type(float)
        if orientations is not None:
            orientations = np.asarray(orientations, dtype=np.float64)
            if orientations.shape != (n, 3):
                raise ValueError(
                    f"`orientations` must have shape ({n}, 3); got {orientations.shape}."
                )
            orientations = jnp.asarray(orientations, dtype=float_dtype)
        self.labels = labels
        self.positions = jnp.asarray(positions, dtype=float_dtype)
        self.orientations = orientations

    @property
    def n_sensors(self) -> int:
        """The number of sensors."""
        return self.positions.shape[0]


def load_sensors(path: str | os.PathLike, *, length_unit: LengthUnit = "mm") -> Sensors:
    """Load sensor names and positions from a TVB-style sensors file.

    One line per sensor: `label x y z` (TVB's EEG and SEEG files), or `label x y z ox oy
    oz` (its MEG files: position and orientation), separated by tabs or spaces; the label
    may be left out. Plain text or bzip2-compressed (`.txt.bz2`). Lines starting with `#`
    or `%` are skipped.

    **Arguments:**

    - `path`: the file.
    - `length_unit`: the unit of the positions in the file, `"mm"` (TVB's), `"cm"` or
        `"m"`; converted to mm.

    **Returns:**

    [`massfit.io.Sensors`][]: labels, positions in mm, orientations (or `None`).

    **Example:**

    ```python
    import massfit

    with open("sensors_eeg_2.txt", "w") as f:
        f.write("T7\\t0.0\\t80.0\\t40.0\\nT8\\t0.0\\t-80.0\\t40.0\\n")
    sensors = massfit.io.load_sensors("sensors_eeg_2.txt")
    sensors.labels  # ('T7', 'T8')
    ```
    """
    source = os.fspath(path)
    text = _read_text(path, _format(path)[1])
    lines = [line for line in text.splitlines() if line.strip()]
    lines = [line for line in lines if not line.lstrip().startswith(("#", "%"))]
    if not lines:
        raise ValueError(f"{source}: no sensors (the file is empty or only has comments).")
    tokens = [t for t in lines[0].split(detect_delimiter(lines[0])) if t.strip()]
    # A label may itself be a number (SEEG contacts): then the count of values tells.
    labelled = not is_number(tokens[0]) or len(tokens) in (4, 7)
    if len(tokens) - labelled not in (3, 6):
        raise ValueError(
            f"{source}: sensor lines are 'label x y z', or 'label x y z ox oy oz' with "
            f"orientations (the label optional); the first has {len(tokens) - labelled} "
            "values."
        )
    table = _table(text, source, header=False, row_labels=labelled)
    try:
        check_finite("positions", table.values, axes=("sensor", "column"))
    except ValueError as error:
        raise ValueError(f"{source}: {error}") from None
    return Sensors(
        to_mm(table.values[:, :3], length_unit),
        table.row_labels,
        orientations=table.values[:, 3:] if table.values.shape[1] == 6 else None,
    )
