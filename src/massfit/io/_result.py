"""Saving results (trajectories, fit results, any dataclass of arrays) to `.npz` + JSON.

An `.npz` is a zip archive, which stores a CRC-32 of every member; reading each member whole
(`read_npz`) checks it, so a damaged result file is refused without a checksum of our own,
and the file stays readable with plain `numpy.load`."""

import dataclasses
import json
import os

import jax
import jax.numpy as jnp
import numpy as np

from .._errors import describe
from .._leaf_files import class_name, kind_of, open_atomically, qualified_name
from ._named_arrays import is_zip, read_npz
from ._saved_files import imported_class, massfit_version


_FORMAT = "massfit.result"
_FORMAT_VERSION = 1
_MANIFEST = "__massfit__"
_JSON_SCALARS = (str, int, float, bool, type(None))
_BUILTINS = {kind: f"builtins.{kind}" for kind in ("tuple", "list", "dict")}


def _is_namedtuple(x) -> bool:
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


class _Writer:
    """Turns an object into a JSON manifest plus named arrays (dotted paths as names)."""

    def __init__(self):
        self.arrays: dict[str, np.ndarray] = {}

    def _array_name(self, path: str) -> str:
        name = path or "value"
        if name in self.arrays or name == _MANIFEST:
            n = 2
            while f"{name}#{n}" in self.arrays:
                n += 1
            name = f"{name}#{n}"
        return name

    def encode(self, x, path: str) -> dict:
        join = (lambda key: f"{path}.{key}") if path else str
        if isinstance(x, jax.Array):
            if jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key):
                name = self._array_name(path)
                self.arrays[name] = np.asarray(jax.random.key_data(x))
                return {"array": name, "type": "key", "impl": str(jax.random.key_impl(x))}
            name = self._array_name(path)
            self.arrays[name] = np.asarray(x)
            return {"array": name, "type": "jax"}
        if isinstance(x, (np.ndarray, np.generic)):
            if x.dtype.hasobject:
                raise TypeError(f"cannot save `{path}`: an object array would need pickle.")
            name = self._array_name(path)
            self.arrays[name] = np.asarray(x)
            return {"array": name, "type": "numpy" if isinstance(x, np.ndarray) else "scalar"}
        if isinstance(x, _JSON_SCALARS):
            return {"json": x}
        if dataclasses.is_dataclass(x) and not isinstance(x, type):
            fields = {
                f.name: self.encode(getattr(x, f.name), join(f.name))
                for f in dataclasses.fields(x)
            }
            return {"dataclass": class_name(x), "fields": fields}
        if _is_namedtuple(x):
            fields = {name: self.encode(getattr(x, name), join(name)) for name in x._fields}
            return {"namedtuple": class_name(x), "fields": fields}
        if isinstance(x, (tuple, list)):
            items = [self.encode(item, join(i)) for i, item in enumerate(x)]
            return {"tuple" if isinstance(x, tuple) else "list": items}
        if isinstance(x, dict):
            bad = [key for key in x if not isinstance(key, str)]
            if bad:
                raise TypeError(
                    f"cannot save `{path}`: dictionary keys must be strings; got {bad[0]!r}."
                )
            return {"dict": [[key, self.encode(value, join(key))] for key, value in x.items()]}
        raise TypeError(
            f"cannot save `{path or 'the object'}` ({describe(x)}) without pickle. "
            "save_result takes arrays, dataclasses and equinox Modules, NamedTuples, "
            "dicts with string keys, lists, tuples, and str/int/float/bool/None."
        )


def save_result(path: str | os.PathLike, obj) -> None:
    """Save a result object (a trajectory, a fit result, ...) to an `.npz` file.

    Every array becomes one entry of the `.npz`, named by its dotted path (`ts`, `ys`,
    `final_state.x`, `params.coupling.k`, ...), so the file is readable with plain
    `numpy.load`. Everything else — the classes, and static or metadata fields such as
    `variables` or `best_loss` — goes into a JSON manifest stored in the same file under
    `__massfit__`. Nothing is pickled.

    **Arguments:**

    - `path`: the file to write (overwritten if present; no suffix is added).
    - `obj`: a dataclass or `equinox.Module` whose fields are arrays (JAX or NumPy), nested
        dataclasses/Modules, NamedTuples (e.g. model states), dicts with string keys,
        lists, tuples, or JSON values (str, int, float, bool, None). JAX PRNG keys are
        stored as their key data and implementation name.

    **Returns:**

    Nothing.

    **Example:**

    ```python
    massfit.io.save_result("run.npz", trajectory)
    trajectory = massfit.io.load_result("run.npz", massfit.Trajectory)
    ```
    """
    writer = _Writer()
    manifest = {
        "format": _FORMAT,
        "format_version": _FORMAT_VERSION,
        "massfit_version": massfit_version(),
        "root": writer.encode(obj, ""),
    }
    with open_atomically(path) as f:
        np.savez(f, **writer.arrays, **{_MANIFEST: np.array(json.dumps(manifest))})


def load_result(path: str | os.PathLike, cls_or_like):
    """Load an object saved by [`massfit.io.save_result`][].

    **Arguments:**

    - `path`: the file.
    - `cls_or_like`: the class of the saved object (e.g. `massfit.Trajectory`), or an
        instance to take classes from. Nested classes are taken from `like` where it has
        them, else looked up by the name recorded in the file among the modules already
        imported (a file never causes an import).

    **Returns:**

    An object of the saved class with the saved values: JAX arrays come back as JAX
    arrays, NumPy arrays as NumPy arrays, with their dtypes; tuples stay tuples.

    Raises a `ValueError` naming the file if it is truncated or damaged (a member fails the
    CRC-32 that the zip archive stores for it, or the archive is cut short), if it is not a
    result file, if it holds another class, or a class whose fields differ from the class
    given.

    **Example:**

    ```python
    trajectory = massfit.io.load_result("run.npz", massfit.Trajectory)
    result = massfit.io.load_result("fit.npz", previous_result)  # classes from an instance
    ```
    """
    source = os.fspath(path)
    if isinstance(cls_or_like, type):
        cls, like = cls_or_like, None
    else:
        cls, like = type(cls_or_like), cls_or_like
    if not is_zip(path):
        other = kind_of(path)
        raise ValueError(
            f"{source}: not a file written by massfit.io.save_result"
            f"{'' if other is None else f'; it is {other}'}."
        )
    arrays = read_npz(path)
    if _MANIFEST not in arrays:
        raise ValueError(f"{source}: not a file written by massfit.io.save_result.")
    manifest = json.loads(str(arrays[_MANIFEST]))
    if manifest.get("format_version", 0) > _FORMAT_VERSION:
        raise ValueError(
            f"{source}: written in result format version {manifest['format_version']}; "
            f"this massfit reads up to {_FORMAT_VERSION}. Upgrade massfit."
        )
    root = manifest["root"]
    saved = root.get("dataclass") or root.get("namedtuple") or _BUILTINS.get(next(iter(root)))
    if saved != qualified_name(cls):
        raise ValueError(f"{source}: holds a {saved}, not a {qualified_name(cls)}.")
    return _Reader(arrays, source).decode(root, like, cls)


class _Reader:
    def __init__(self, arrays: dict[str, np.ndarray], source: str):
        self.arrays = arrays
        self.source = source

    def decode(self, node: dict, like, cls: type | None = None):
        if "array" in node:
            value = self.arrays[node["array"]]
            kind = node["type"]
            if kind == "jax":
                return jnp.asarray(value)
            if kind == "key":
                return jax.random.wrap_key_data(jnp.asarray(value), impl=node["impl"])
            return value[()] if kind == "scalar" else value
        if "json" in node:
            return node["json"]
        if "tuple" in node or "list" in node:
            items = node.get("tuple", node.get("list"))
            likes = like if isinstance(like, (tuple, list)) and len(like) == len(items) else None
            out = [
                self.decode(item, None if likes is None else likes[i])
                for i, item in enumerate(items)
            ]
            return tuple(out) if "tuple" in node else out
        if "dict" in node:
            likes = like if isinstance(like, dict) else {}
            return {key: self.decode(value, likes.get(key)) for key, value in node["dict"]}
        kind = "dataclass" if "dataclass" in node else "namedtuple"
        name = node[kind]
        if cls is None:
            cls = type(like) if like is not None and class_name(like) == name else None
            cls = cls or imported_class(name)
        if cls is None:
            raise ValueError(
                f"{self.source}: cannot find the class {name} (its module is not imported); "
                "import it, or pass an instance as `cls_or_like`."
            )
        values = {
            field: self.decode(child, getattr(like, field, None))
            for field, child in node["fields"].items()
        }
        if kind == "namedtuple":
            self._check_fields(name, cls._fields, values)
            return cls(**values)
        self._check_fields(name, tuple(f.name for f in dataclasses.fields(cls)), values)
        obj = object.__new__(cls)
        # As equinox does when unflattening: set the fields without running __init__.
        for field, value in values.items():
            object.__setattr__(obj, field, value)
        return obj

    def _check_fields(self, name, fields, values) -> None:
        if tuple(fields) != tuple(values):
            raise ValueError(
                f"{self.source}: the saved {name} has fields {tuple(values)}, but the class "
                f"has {tuple(fields)}; it was saved by another version of that class."
            )
