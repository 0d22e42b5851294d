"""The Virtual Brain's connectivity zip: `weights.txt`, `tract_lengths.txt`, `centres.txt`, ...

Convention (checked against TVB's source, `tvb_library/tvb/simulator/coupling.py` and
`tvb/datatypes/connectivity.py`): TVB loads `weights.txt` into `Connectivity.weights` as it
is, and its coupling computes the input to node k as `sum_j weights[k, j] * x_j(t - tau_kj)`
("u_kj ... describes the connection strength from node j to node k", "the inverse of the
BCT toolbox"); `Connectivity.set_idelays` indexes the history of node j for entry [i, j]. So
TVB files are stored rows = targets, columns = sources, massfit's `"to_from"`.
"""

import bz2
import os
import posixpath
import re
import warnings
import zipfile
from typing import Literal

import numpy as np

from .._connectome import Connectome
from .._leaf_files import damaged
from ._named_arrays import is_zip, reading_zip
from ._policies import (
    build_connectome,
    check_choice,
    LengthUnit,
    MM_PER_UNIT,
    Normalise,
    Orientation,
    to_mm,
    ZeroLength,
)
from ._regions import Regions
from ._text import detect_delimiter, is_number, parse_table


_REQUIRED = ("weights", "tract_lengths", "centres")
_OPTIONAL = ("areas", "cortical", "hemispheres", "average_orientations", "info")
_ALIASES = {"centers": "centres", "orientations": "average_orientations"}


def _logical_name(name: str) -> str | None:
    """`"conn/weights.txt.bz2"` -> `"weights"`; None for folders, macOS junk, other files."""
    base = posixpath.basename(name)
    if name.endswith("/") or name.startswith("__MACOSX/") or base.startswith("._"):
        return None
    stem = re.sub(r"\.(txt|csv)$", "", base.removesuffix(".bz2"))
    stem = _ALIASES.get(stem, stem)
    return stem if stem in _REQUIRED + _OPTIONAL else None


class _Archive:
    """The members of a TVB zip, by their logical name, whatever folder or compression."""

    def __init__(self, path: str | os.PathLike):
        self.source = os.fspath(path)
        self.members: dict[str, str] = {}
        self._data: dict[str, bytes] = {}
        if not is_zip(path):
            raise ValueError(f"{self.source}: not a zip archive (TVB connectivity is a .zip).")
        with reading_zip(self.source), zipfile.ZipFile(path) as zf:
            names = zf.namelist()
            for name in names:
                # Every member is read, so that zip's checks cover the whole archive.
                data = zf.read(name)
                stem = _logical_name(name)
                if stem is None:
                    continue
                if stem in self.members:
                    raise ValueError(
                        f"{self.source}: two members could be {stem}.txt "
                        f"({self.members[stem]!r} and {name!r}); keep one."
                    )
                self.members[stem] = name
                self._data[stem] = data
        missing = [m for m in _REQUIRED if m not in self.members]
        if missing:
            raise ValueError(
                f"{self.source}: missing required member(s) "
                f"{', '.join(m + '.txt' for m in missing)} (plain or .bz2, in any folder); "
                f"the archive has {names}."
            )

    def where(self, member: str) -> str:
        return f"{self.source}:{self.members[member]}"

    def text(self, member: str) -> str | None:
        if member not in self.members:
            return None
        data = self._data[member]
        if self.members[member].endswith(".bz2"):
            try:
                data = bz2.decompress(data)
            except (OSError, ValueError, EOFError) as error:
                raise damaged(self.where(member), f"not valid bzip2: {error}") from error
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return data.decode("latin-1")

    def matrix(self, member: str) -> np.ndarray:
        table = parse_table(
            self.text(member), source=self.where(member), header=False, row_labels=False
        )
        return table.values

    def vector(self, member: str, n: int, *, flags: bool = False) -> np.ndarray | None:
        text = self.text(member)
        if text is None:
            return None
        if flags:
            tokens = text.split()
            lookup = {"1": True, "0": False, "true": True, "false": False}
            bad = [t for t in tokens if t.lower() not in lookup]
            if bad:
                raise ValueError(
                    f"{self.where(member)}: {bad[0]!r} is not a flag (expected 0/1 or "
                    "True/False)."
                )
            values = np.array([lookup[t.lower()] for t in tokens], dtype=bool)
        else:
            values = self.matrix(member).ravel()
        if values.size != n:
            raise ValueError(
                f"{self.where(member)}: has {values.size} values for {n} regions."
            )
        return values

    def centres(self) -> tuple[tuple[str, ...] | None, np.ndarray]:
        """Labels (None if the file has none) and (N, 3) coordinates from `centres.txt`.

        Accepted lines: `label x y z` (more columns are ignored, e.g. TVB's 5-column files),
        `index label x y z`, or `x y z`.
        """
        source = self.where("centres")
        rows = [
            (number, line.split(detect_delimiter(line)))
            for number, line in enumerate(self.text("centres").splitlines(), start=1)
            if line.strip() and not line.lstrip().startswith("#")
        ]
        if not rows:
            raise ValueError(f"{source}: no region centres.")
        first = [t.strip() for t in rows[0][1]]
        if not is_number(first[0]):
            label_at, xyz_at = 0, 1
        elif len(first) > 1 and not is_number(first[1]):
            label_at, xyz_at = 1, 2
        else:
            label_at, xyz_at = None, 0
        labels, coords = [], np.empty((len(rows), 3))
        for r, (number, tokens) in enumerate(rows):
            tokens = [t.strip().strip("\"'") for t in tokens if t.strip()]
            try:
                coords[r] = [float(t) for t in tokens[xyz_at : xyz_at + 3]]
            except ValueError:
                raise ValueError(
                    f"{source}: line {number} is not 'label x y z' (coordinates in the "
                    f"length unit): {' '.join(tokens)!r}."
                ) from None
            if label_at is not None:
                labels.append(tokens[label_at])
        return (tuple(labels) if label_at is not None else None), coords

    def check_length_unit(self, length_unit: str) -> None:
        """Refuse an unknown `length_unit`, and warn if `info.txt` declares another one."""
        check_choice("length_unit", length_unit, MM_PER_UNIT)
        text = self.text("info")
        match = re.search(r"length_unit\s*=\s*[\"']?(\w+)", text or "")
        if match and match.group(1) != length_unit:
            warnings.warn(
                f"{self.where('info')} says length_unit = {match.group(1)!r}, but the loader "
                f"was told length_unit={length_unit!r}; lengths are read as {length_unit}.",
                stacklevel=3,
            )


def load_tvb_zip(
    path: str | os.PathLike,
    *,
    orientation: Orientation = "to_from",
    diagonal: Literal["keep", "zero", "error"] = "keep",
    normalise: Normalise = None,
    length_unit: LengthUnit = "mm",
    zero_length: ZeroLength = "warn",
    verbose: bool = False,
) -> Connectome:
    """Load a connectome from a TVB connectivity zip (as shipped by `tvb-data`).

    Reads `weights.txt`, `tract_lengths.txt` and `centres.txt` (required; region labels
    come from the centres), each plain or bzip2-compressed (`weights.txt.bz2`), at the top
    level or inside a folder. `centres.txt` lines are `label x y z`, with any further
    columns ignored. Region geometry and the optional `areas.txt`, `cortical.txt`,
    `hemispheres.txt`, `average_orientations.txt` are read by
    [`massfit.io.load_tvb_regions`][].

    **Arguments:**

    - `path`: the `.zip` file.
    - `orientation`: how the file stores edges. `"to_from"` (TVB's own convention, the
        default): `weights[i, j]` is from region j to region i, as in massfit.
        `"from_to"`: `weights[i, j]` is from i to j (Brain Connectivity Toolbox style);
        the matrices are transposed on load.
    - `diagonal`: self-connections: `"keep"`, `"zero"` (drop them) or `"error"`.
    - `normalise`: `None` (weights as stored), `"max"` (strongest weight 1) or
        `"row_sum"` (each region's total input 1); see [`massfit.Connectome.normalise`][].
    - `length_unit`: the unit of the tract lengths in the file, `"mm"`, `"cm"` or `"m"`;
        converted to mm. A different `length_unit` in the archive's `info.txt` warns.
    - `zero_length`: edges with a non-zero weight but zero length (present in TVB's own
        `connectivity_76.zip`) have no conduction delay: `"warn"` (keep them, warn once),
        `"keep"` (silently) or `"error"`.
    - `verbose`: print a one-line summary (N, density, symmetry, diagonal, ranges).

    **Returns:**

    A [`massfit.Connectome`][] with lengths in mm.

    **Example:**

    ```python
    conn = massfit.io.load_tvb_zip("connectivity_76.zip", diagonal="zero", normalise="max")
    ```
    """
    archive = _Archive(path)
    archive.check_length_unit(length_unit)
    weights = archive.matrix("weights")
    lengths = archive.matrix("tract_lengths")
    labels, _ = archive.centres()
    square = weights.ndim == 2 and weights.shape[0] == weights.shape[1]
    if labels is not None and square and len(labels) != weights.shape[0]:
        raise ValueError(
            f"{archive.where('centres')}: has {len(labels)} regions but "
            f"{archive.members['weights']} has {weights.shape[0]} rows."
        )
    return build_connectome(
        weights,
        lengths,
        labels,
        source=archive.source,
        orientation=orientation,
        diagonal=diagonal,
        normalise=normalise,
        length_unit=length_unit,
        zero_length=zero_length,
        verbose=verbose,
    )


def load_tvb_regions(path: str | os.PathLike, *, length_unit: LengthUnit = "mm") -> Regions:
    """Load the region geometry and annotations of a TVB connectivity zip.

    **Arguments:**

    - `path`: the `.zip` file (the same archive as for [`massfit.io.load_tvb_zip`][]).
    - `length_unit`: the unit of the centres (and of the areas, squared) in the file;
        converted to mm (mm²).

    **Returns:**

    [`massfit.io.Regions`][] with centres in mm, labels, and `hemispheres` (`True` =
    right), `cortical`, `areas`, `orientations` where the archive has them (else `None`).

    **Example:**

    ```python
    regions = massfit.io.load_tvb_regions("connectivity_76.zip")
    regions.centres.shape  # (76, 3)
    ```
    """
    archive = _Archive(path)
    archive.check_length_unit(length_unit)
    labels, centres = archive.centres()
    n = centres.shape[0]
    areas = archive.vector("areas", n)
    orientations = None
    if "average_orientations" in archive.members:
        orientations = archive.matrix("average_orientations")
        if orientations.shape != (n, 3):
            raise ValueError(
                f"{archive.where('average_orientations')}: shape {orientations.shape}, "
                f"expected ({n}, 3)."
            )
    return Regions(
        to_mm(centres, length_unit),
        labels,
        hemispheres=archive.vector("hemispheres", n, flags=True),
        cortical=archive.vector("cortical", n, flags=True),
        areas=None if areas is None else to_mm(to_mm(areas, length_unit), length_unit),
        orientations=orientations,
    )
