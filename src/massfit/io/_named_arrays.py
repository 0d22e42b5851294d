"""Files of arrays (`.npz`, `.npy`, MATLAB `.mat`): reading them without pickle, choosing keys."""

import os
import zipfile
import zlib

import numpy as np


# What numpy and zipfile raise on a file cut short or with corrupted bytes.
_DAMAGE = (zipfile.BadZipFile, EOFError, OSError, ValueError, zlib.error)


def _unpicklable_or_damaged(source: str, what: str, error: Exception) -> ValueError:
    """The error for an array numpy could not read with `allow_pickle=False`."""
    if isinstance(error, ValueError) and "allow_pickle" in str(error):
        return ValueError(
            f"{source}: {what} is an object array, which would need pickle to read; "
            "massfit never unpickles. Save numeric or string arrays instead."
        )
    return ValueError(f"{source}: truncated or damaged; {what} cannot be read ({error}).")


def read_npz(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """All arrays of an `.npz` file, read with `allow_pickle=False`."""
    source = os.fspath(path)
    if not zipfile.is_zipfile(path):
        raise ValueError(
            f"{source}: not an .npz file (not a zip archive of arrays), or one that is "
            "truncated or damaged."
        )
    out, what = {}, "its list of arrays"
    try:
        with np.load(path, allow_pickle=False) as data:
            for key in data.files:
                what = repr(key)
                out[key] = data[key]
    except _DAMAGE as error:
        raise _unpicklable_or_damaged(source, what, error) from error
    return out


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
    try:
        data = scipy.io.loadmat(source)
    except NotImplementedError as error:
        raise ValueError(
            f"{source}: a MATLAB v7.3 (HDF5) file, which scipy cannot read. Re-save it in "
            "MATLAB with `save(name, '-v7')`, or read it with h5py and pass the arrays to "
            "`massfit.Connectome`."
        ) from error
    except (FileNotFoundError, IsADirectoryError, PermissionError):
        raise
    except (ValueError, TypeError, OSError, zlib.error) as error:
        raise ValueError(
            f"{source}: not a readable MATLAB file, or one that is truncated or damaged "
            f"({error})."
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
