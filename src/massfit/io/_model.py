"""Saving models: equinox's leaf serialisation behind a JSON header, never pickle."""

import dataclasses
import json
import os
import warnings

import equinox as eqx
import jax
import numpy as np
from jaxtyping import PyTree

from .._leaf_files import class_name, LeafFile, read_leaf_file, write_leaf_file
from ._saved_files import imported_class, massfit_version


_FORMAT = "massfit.model"
# 2: the header records the classes, the data's length and a sha256 (no `fingerprint`).
# Version 1 files still load, with a warning that they cannot be checked for damage.
_FORMAT_VERSION = 2


def save_model(path: str | os.PathLike, model: PyTree) -> None:
    """Save a model's arrays to a file, with a header saying what they belong to.

    The file is one line of JSON — `format`, the model's `class` (qualified name), the
    `massfit_version`, the `classes` of its nodes and the `leaves` (path, dtype and shape),
    the length of the data (`data_bytes`) and a `sha256` of header and data — followed by
    `equinox.tree_serialise_leaves` of the model. Nothing is pickled. The header also
    holds the model's `skeleton`: its classes, the static fields (configuration such as
    labels, coupled variables, delay bounds) that are plain values (strings, numbers,
    booleans, `None` and tuples of them) and the dtype and shape of every array, so that
    [`massfit.io.load_model`][] can rebuild a model made of massfit classes without a
    `like` template. (A static field of another kind, e.g. a function, is not stored: such
    a model loads only with `like=`.)

    **Arguments:**

    - `path`: the file to write (overwritten if present). Any suffix; `.eqx` is customary.
    - `model`: an `equinox.Module` (or any pytree of arrays).

    **Returns:**

    Nothing.

    **Example:**

    ```python
    massfit.io.save_model("fitted.eqx", result.model)
    model = massfit.io.load_model("fitted.eqx")  # or like=initial_model
    ```
    """
    header = {
        "format": _FORMAT,
        "format_version": _FORMAT_VERSION,
        "class": class_name(model),
        "massfit_version": massfit_version(),
        "skeleton": _skeleton(model),
    }
    write_leaf_file(path, header, model)


class _NotStorable(Exception):
    """A part of a model the header cannot describe (loading it then needs `like=`)."""


def _static_value(value):
    """A static field's value as JSON (tuples marked, so they come back as tuples)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, tuple):
        return {"tuple": [_static_value(v) for v in value]}
    raise _NotStorable(type(value).__name__)


def _static_from_json(value):
    if isinstance(value, dict):
        return tuple(_static_from_json(v) for v in value["tuple"])
    return value


def _describe(node):
    """The skeleton of one node: enough to rebuild its structure, classes and statics."""
    if node is None:
        return None
    if isinstance(node, eqx.Module):
        fields, static = {}, {}
        for field in dataclasses.fields(node):
            value = getattr(node, field.name)
            if field.metadata.get("static", False):
                static[field.name] = _static_value(value)
            else:
                fields[field.name] = _describe(value)
        return {"module": class_name(node), "fields": fields, "static": static}
    if isinstance(node, (tuple, list)):
        return {type(node).__name__: [_describe(child) for child in node]}
    if isinstance(node, dict) and all(isinstance(key, str) for key in node):
        return {"dict": {key: _describe(child) for key, child in node.items()}}
    if isinstance(node, (bool, int, float)):
        return {"scalar": type(node).__name__, "value": node}
    if hasattr(node, "shape") and hasattr(node, "dtype"):
        return {"array": str(node.dtype), "shape": list(node.shape)}
    raise _NotStorable(type(node).__name__)


def _skeleton(model) -> dict | None:
    try:
        skeleton = _describe(model)
        json.dumps(skeleton)
    except (_NotStorable, TypeError, ValueError):
        return None
    return skeleton


def _rebuild(description, source: str):
    """A model of the described structure, its arrays `jax.ShapeDtypeStruct`s (to be filled
    from the file), its modules made without running their `__init__` (the file's values,
    not defaults, are what count)."""
    if description is None:
        return None
    if "module" in description:
        name = description["module"]
        cls = imported_class(name) if name.startswith("massfit.") else None
        if cls is None or not issubclass(cls, eqx.Module):
            raise ValueError(
                f"{source}: holds a {name}, which is not a massfit class, so the model can't "
                "be rebuilt from the file alone; pass `like=` (a model of the saved class, "
                "e.g. freshly constructed) to massfit.io.load_model."
            )
        node = object.__new__(cls)
        for field, value in description["fields"].items():
            object.__setattr__(node, field, _rebuild(value, source))
        for field, value in description["static"].items():
            object.__setattr__(node, field, _static_from_json(value))
        return node
    if "tuple" in description:
        return tuple(_rebuild(child, source) for child in description["tuple"])
    if "list" in description:
        return [_rebuild(child, source) for child in description["list"]]
    if "dict" in description:
        return {key: _rebuild(child, source) for key, child in description["dict"].items()}
    if "scalar" in description:
        return description["value"]
    return jax.ShapeDtypeStruct(tuple(description["shape"]), np.dtype(description["array"]))


def _read(path: str | os.PathLike) -> LeafFile:
    return read_leaf_file(path, _FORMAT, version_key="format_version", version=_FORMAT_VERSION)


def read_model_header(path: str | os.PathLike) -> dict:
    """The JSON header of a file written by [`massfit.io.save_model`][], once the file has
    been checked (see [`massfit.io.load_model`][])."""
    return _read(path).header


def load_model(path: str | os.PathLike, like: PyTree | None = None) -> PyTree:
    """Load a model saved by [`massfit.io.save_model`][].

    Without `like`, the model is rebuilt from the file's header when it is made of massfit
    classes (a `Network`, a node model, a `Connectome`, constraints such as `Positive` and
    `Bounded`, ...): the classes, static fields and array shapes are the saved ones. A model
    that holds other classes (your own Modules, `equinox.nn` layers) needs `like`; without
    it a `ValueError` says so.

    **Arguments:**

    - `path`: the file.
    - `like`: optional; a model of the same class and structure (e.g. freshly constructed,
        or from `equinox.filter_eval_shape`); its static fields are kept, its arrays
        replaced.

    **Returns:**

    The saved model (with `like`: a model like `like`, with the saved arrays).

    Raises a `ValueError` naming the file if it is truncated or damaged (its length or its
    sha256 is not the one written), if it is not a model file, if its class is not `like`'s
    class, or if the classes of its nodes or its leaves (paths, dtypes, shapes) differ from
    `like`'s (naming the first difference). A different massfit version only warns, as does
    a file from a massfit that wrote no checksum.

    **Example:**

    ```python
    model = massfit.io.load_model("fitted.eqx")
    same = massfit.io.load_model("fitted.eqx", like=initial_model)
    ```
    """
    saved = _read(path)
    header = saved.header
    if like is None:
        if header.get("skeleton") is None:
            raise ValueError(
                f"{saved.source}: the file does not describe its model's structure (written "
                "by an older massfit, or the model has static fields that are not plain "
                "values), so it can't be rebuilt from the file alone; pass `like=` (a model "
                "of the saved class, e.g. freshly constructed) to massfit.io.load_model."
            )
        like = _rebuild(header["skeleton"], saved.source)
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
