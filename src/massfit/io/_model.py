"""Saving models: equinox's leaf serialisation behind a JSON header, never pickle."""

import os
import warnings

from jaxtyping import PyTree

from .._leaf_files import class_name, LeafFile, read_leaf_file, write_leaf_file
from ._saved_files import massfit_version


_FORMAT = "massfit.model"
# 2: the header records the classes, the data's length and a sha256 (no `fingerprint`).
# Version 1 files still load, with a warning that they cannot be checked for damage.
_FORMAT_VERSION = 2


def save_model(path: str | os.PathLike, model: PyTree) -> None:
    """Save a model's arrays to a file, with a header saying what they belong to.

    The file is one line of JSON — `format`, the model's `class` (qualified name), the
    `massfit_version`, the `classes` of its nodes and the `leaves` (path, dtype and shape),
    the length of the data (`data_bytes`) and a `sha256` of header and data — followed by
    `equinox.tree_serialise_leaves` of the model. Nothing is pickled. Static fields
    (configuration such as labels) are not stored: they come back from the `like` model
    passed to [`massfit.io.load_model`][].

    **Arguments:**

    - `path`: the file to write (overwritten if present). Any suffix; `.eqx` is customary.
    - `model`: an `equinox.Module` (or any pytree of arrays).

    **Returns:**

    Nothing.

    **Example:**

    ```python
    massfit.io.save_model("fitted.eqx", result.model)
    model = massfit.io.load_model("fitted.eqx", like=initial_model)
    ```
    """
    header = {
        "format": _FORMAT,
        "format_version": _FORMAT_VERSION,
        "class": class_name(model),
        "massfit_version": massfit_version(),
    }
    write_leaf_file(path, header, model)


def _read(path: str | os.PathLike) -> LeafFile:
    return read_leaf_file(path, _FORMAT, version_key="format_version", version=_FORMAT_VERSION)


def read_model_header(path: str | os.PathLike) -> dict:
    """The JSON header of a file written by [`massfit.io.save_model`][], once the file has
    been checked (see [`massfit.io.load_model`][])."""
    return _read(path).header


def load_model(path: str | os.PathLike, like: PyTree) -> PyTree:
    """Load a model saved by [`massfit.io.save_model`][] into the structure of `like`.

    **Arguments:**

    - `path`: the file.
    - `like`: a model of the same class and structure (e.g. freshly constructed, or from
        `equinox.filter_eval_shape`); its static fields are kept, its arrays replaced.

    **Returns:**

    A model like `like` with the saved arrays.

    Raises a `ValueError` naming the file if it is truncated or damaged (its length or its
    sha256 is not the one written), if it is not a model file, if its class is not `like`'s
    class, or if the classes of its nodes or its leaves (paths, dtypes, shapes) differ from
    `like`'s (naming the first difference). A different massfit version only warns, as does
    a file from a massfit that wrote no checksum.

    **Example:**

    ```python
    model = massfit.io.load_model("fitted.eqx", like=initial_model)
    ```
    """
    saved = _read(path)
    header = saved.header
    expected = class_name(like)
    if header["class"] != expected:
        raise ValueError(
            f"{saved.source}: holds a {header['class']}, but `like` is a {expected}; pass a "
            "`like` of the saved class."
        )
    model = saved.load(
        like,
        like_name="`like`",
        hint="build `like` with the classes, shapes and dtypes saved (and jax_enable_x64 as then)",
    )
    if header["massfit_version"] != massfit_version():
        warnings.warn(
            f"{saved.source}: saved by massfit {header['massfit_version']}, loading with "
            f"{massfit_version()}.",
            stacklevel=2,
        )
    return model
