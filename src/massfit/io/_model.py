"""Saving models: equinox's leaf serialisation behind a JSON header, never pickle."""

import hashlib
import json
import os
import warnings

import equinox as eqx
import jax
from jaxtyping import PyTree

from .._leaf_files import read_header, write_leaf_file
from ._saved_files import class_name, massfit_version


_FORMAT = "massfit.model"
_FORMAT_VERSION = 1


def _leaves(tree) -> list[tuple[str, str]]:
    """`(path, "dtype[shape]")` for every leaf: the structure that the fingerprint hashes."""
    out = []
    for path, leaf in jax.tree_util.tree_leaves_with_path(tree):
        if hasattr(leaf, "shape") and hasattr(leaf, "dtype"):
            kind = f"{leaf.dtype}{list(leaf.shape)}"
        else:
            kind = type(leaf).__name__
        out.append((jax.tree_util.keystr(path).lstrip("."), kind))
    return out


def _fingerprint(leaves) -> str:
    return hashlib.sha256(json.dumps(leaves).encode()).hexdigest()[:16]


def save_model(path: str | os.PathLike, model: PyTree) -> None:
    """Save a model's arrays to a file, with a header saying what they belong to.

    The file is one line of JSON — `format`, the model's `class` (qualified name), the
    `massfit_version`, a `fingerprint` of the tree structure, and the list of `leaves`
    (path, dtype and shape) — followed by `equinox.tree_serialise_leaves` of the model.
    Nothing is pickled. Static fields (configuration such as labels) are not stored: they
    come back from the `like` model passed to [`massfit.io.load_model`][].

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
    leaves = _leaves(model)
    header = {
        "format": _FORMAT,
        "format_version": _FORMAT_VERSION,
        "class": class_name(model),
        "massfit_version": massfit_version(),
        "fingerprint": _fingerprint(leaves),
        "leaves": leaves,
    }
    write_leaf_file(path, header, model)


def read_model_header(path: str | os.PathLike) -> dict:
    """The JSON header of a file written by [`massfit.io.save_model`][]."""
    with open(path, "rb") as f:
        return _read_header(f, os.fspath(path))


def _read_header(f, source: str) -> dict:
    header = read_header(f, _FORMAT)
    if header is None:
        raise ValueError(f"{source}: not a model file written by massfit.io.save_model.")
    if header.get("format_version", 0) > _FORMAT_VERSION:
        raise ValueError(
            f"{source}: written in model format version {header['format_version']} by "
            f"massfit {header.get('massfit_version')}; this massfit reads up to version "
            f"{_FORMAT_VERSION}. Upgrade massfit."
        )
    return header


def load_model(path: str | os.PathLike, like: PyTree) -> PyTree:
    """Load a model saved by [`massfit.io.save_model`][] into the structure of `like`.

    **Arguments:**

    - `path`: the file.
    - `like`: a model of the same class and structure (e.g. freshly constructed, or from
        `equinox.filter_eval_shape`); its static fields are kept, its arrays replaced.

    **Returns:**

    A model like `like` with the saved arrays.

    Raises a `ValueError` if the file's class is not `like`'s class, or if its leaves
    (paths, dtypes, shapes) differ from `like`'s, naming the first difference. A different
    massfit version only warns.

    **Example:**

    ```python
    model = massfit.io.load_model("fitted.eqx", like=initial_model)
    ```
    """
    source = os.fspath(path)
    with open(path, "rb") as f:
        header = _read_header(f, source)
        expected = class_name(like)
        if header["class"] != expected:
            raise ValueError(
                f"{source}: holds a {header['class']}, but `like` is a {expected}; pass a "
                "`like` of the saved class."
            )
        leaves = _leaves(like)
        if header["fingerprint"] != _fingerprint(leaves):
            raise ValueError(f"{source}: {_first_difference(header['leaves'], leaves)}")
        if header["massfit_version"] != massfit_version():
            warnings.warn(
                f"{source}: saved by massfit {header['massfit_version']}, loading with "
                f"{massfit_version()}.",
                stacklevel=2,
            )
        return eqx.tree_deserialise_leaves(f, like)


def _first_difference(saved, current) -> str:
    saved = [tuple(leaf) for leaf in saved]
    for (path_s, kind_s), (path_c, kind_c) in zip(saved, current):
        if path_s != path_c:
            return f"the saved model has a leaf `{path_s}` where `like` has `{path_c}`."
        if kind_s != kind_c:
            return (
                f"leaf `{path_s}` is {kind_s} in the file but {kind_c} in `like`; build "
                "`like` with the same shapes and dtypes (jax_enable_x64 as when saved)."
            )
    return (
        f"the saved model has {len(saved)} leaves but `like` has {len(current)}; "
        "it was built differently."
    )
