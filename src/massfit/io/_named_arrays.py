"""Files of named arrays (`.npz`, MATLAB `.mat`): reading them without pickle, choosing keys,
and saying so when a file is truncated or damaged."""

import contextlib
import io
import os
import zipfile
import zlib

import numpy as np

from .._leaf_files import damaged, ZIP_MAGIC


# How MATLAB v5 to v7.2 files start (their 128-byte header); v4 files have no signature.
_MAT5_SIGNATURE = b"MATLAB 5.0 MAT-file"


def is_zip(path: str | os.PathLike) -> bool:
    """Whether `path` starts as a zip archive does (intact or not)."""
    with open(path, "rb") as f:
        return f.read(4).startswith(ZIP_MAGIC)


@contextlib.contextmanager
def reading_zip(source: str):
    """Report what reading a broken zip archive raises as a truncated or damaged file.

    A truncated archive has lost its directory (at the end); a changed byte fails the CRC-32
    that zip stores for every member, checked when a member is read whole.
    """
    try:
        yield
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as error:
        raise damaged(source, f"not a readable zip archive: {error}") from error


def read_npz(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """All arrays of an `.npz` file, read with `allow_pickle=False`.

    Each member is read whole before it is parsed, so that zip's CRC-32 checks every byte
    of it (`numpy.load` reads only as many bytes as an array's header asks for).
    """
    source = os.fspath(path)
    if not is_zip(path):
        raise ValueError(f"{source}: not an .npz file (not a zip archive of arrays).")
    out = {}
    with reading_zip(source), zipfile.ZipFile(path) as archive:
        for member in archive.namelist():
            # Every member is read, so that a damaged name in the directory is caught too.
            buffer = io.BytesIO(archive.read(member))
            if not member.endswith(".npy"):
                continue
            key = member.removesuffix(".npy")
            version = np.lib.format.read_magic(buffer)
            if version == (1, 0):
                dtype = np.lib.format.read_array_header_1_0(buffer)[2]
            else:
                dtype = np.lib.format.read_array_header_2_0(buffer)[2]
            if dtype.hasobject:
                raise ValueError(
                    f"{source}: {key!r} is an object array, which would need pickle to read; "
                    "massfit never unpickles. Save numeric or string arrays instead."
                )
            buffer.seek(0)
            out[key] = np.lib.format.read_array(buffer, allow_pickle=False)
    return out


# What numpy and zipfile raise on a file cut short or with corrupted bytes.
_DAMAGE = (zipfile.BadZipFile, EOFError, OSError, ValueError, zlib.error)


def _unpicklable_or_damaged(source: str, what: str, error: Exception) -> ValueError:
    """The error for an array numpy could not read with `allow_pickle=False`."""
    if isinstance(error, ValueError) and "allow_pickle" in str(error):
        return ValueError(
            f"{source}: {what} is an object array, which would need pickle to read; "
            "massfit never unpickles. Save numeric or string arrays instead."
        )
    return damaged(source, f"{what} cannot be read: {error}")


def read_npy(path: str | os.PathLike) -> np.ndarray:
    """The array of a `.npy` file, read with `allow_pickle=False`."""
    try:
        return np.load(path, allow_pickle=False)
    except (FileNotFoundError, IsADirectoryError, PermissionError):
        raise
    except _DAMAGE as error:
        raise _unpicklable_or_damaged(os.fspath(path), "its array", error) from error


def read_mat(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """The variables of a MATLAB `.mat` file (v4 to v7.2), read with scipy (an optional extra)."""
    try:
        import scipy.io
    except ImportError as error:
        raise ImportError(
            "Reading MATLAB .mat files needs scipy: `pip install scipy` (or `massfit[io]`)."
        ) from error
    source = os.fspath(path)
    with open(path, "rb") as f:
        try:
            data = scipy.io.loadmat(f)
        except NotImplementedError as error:
            raise ValueError(
                f"{source}: a MATLAB v7.3 (HDF5) file, which scipy cannot read. Re-save it in "
                "MATLAB with `save(name, '-v7')`, or read it with h5py and pass the arrays to "
                "`massfit.Connectome`."
            ) from error
        # What scipy raises on a cut-short or changed file varies with where the damage is.
        except (
            scipy.io.matlab.MatReadError,
            ValueError,
            TypeError,
            IndexError,
            OSError,
            EOFError,
            zlib.error,
        ) as error:
            detail = f"{type(error).__name__}: {error}"
            f.seek(0)
            start = f.read(len(_MAT5_SIGNATURE))
            if start and _MAT5_SIGNATURE.startswith(start):
                raise damaged(source, f"not a readable MATLAB file: {detail}") from error
            raise ValueError(
                f"{source}: not a readable MATLAB file: truncated or damaged, or not a .mat "
                f"file at all ({detail})."
            ) from error
    return {key: value for key, value in data.items() if not key.startswith("__")}


def pick_key(
    arrays: dict[str, np.ndarray],
    key: str | None,
    candidates: tuple[str, ...],
    *,
    what: str,
    argument: str,
    source: str,
    required: bool = True,
) -> str | None:
    """Choose which array of a file holds `what`.

    An explicit `key` must exist. Otherwise exactly one of `candidates` must be present
    (or none, when not `required`, which gives `None`).
    """
    if key is not None:
        if key not in arrays:
            raise ValueError(
                f"{source}: no array named {key!r} for the {what}; the file has "
                f"{sorted(arrays)}."
            )
        return key
    found = [name for name in candidates if name in arrays]
    if len(found) > 1:
        raise ValueError(
            f"{source}: several arrays could be the {what} ({found}); pass "
            f"`{argument}=` to choose one."
        )
    if not found:
        if not required:
            return None
        raise ValueError(
            f"{source}: no array for the {what}; looked for {list(candidates)}, the file has "
            f"{sorted(arrays)}. Pass `{argument}=` to name it."
        )
    return found[0]


def numeric(array: np.ndarray, *, name: str, source: str) -> np.ndarray:
    """`array` as float64, or a clear error if it holds non-numbers (strings, cells, structs)."""
    array = np.asarray(array)
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
        raise TypeError(
            f"{source}: {name!r} must hold numbers; got an array of dtype {array.dtype}."
        )
    return array.astype(np.float64)


def labels_of(array: np.ndarray) -> tuple[str, ...]:
    """Region labels from a string array or a MATLAB cell array of strings."""
    return tuple(str(np.asarray(x).squeeze()).strip() for x in array.ravel())
