"""Files written atomically, and the layout that models and fit checkpoints share: one line of
JSON (the header) followed by `eqx.tree_serialise_leaves` data. Nothing is pickled.

Every leaf file carries its own check. The header records the classes of the tree's nodes
and the dtype and shape of its leaves (by path), the length of the leaf data, and a sha256
of the header and the data. Reading verifies the length and the checksum before anything
is deserialised, and loads the data only into a tree of the same structure, so a truncated
or damaged file, or one written for another model, is refused with a message that says so.
"""

import contextlib
import dataclasses
import hashlib
import io
import json
import os
import pathlib
import warnings
from typing import Any

import equinox as eqx
import jax
from jaxtyping import PyTree


#: Every kind of leaf file massfit writes (the header's `format`), as messages name it.
_KINDS = {
    "massfit.model": "a model file written by massfit.io.save_model",
    "massfit fit checkpoint": "a massfit fit checkpoint (written by massfit.fit with checkpoint=)",
}
#: How every leaf file starts: its header's first key is `format`.
_SIGNATURE = b'{"format": "massfit'
#: How zip archives (`.npz` files, TVB's connectivity zips) start: a member, or no member.
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")


def qualified_name(cls: type) -> str:
    """A class's module and qualified name, e.g. `"massfit.models.Hopf"`."""
    return f"{cls.__module__}.{cls.__qualname__}"


def class_name(obj) -> str:
    """The qualified name of `obj`'s class."""
    return qualified_name(type(obj))


def damaged(source: str, detail: str) -> ValueError:
    """The error for a file whose bytes are not what was written: cut short, or changed."""
    return ValueError(
        f"{source}: the file is truncated or damaged ({detail}). Use an intact copy: write, "
        "download or export it again."
    )


def kind_of(path: str | os.PathLike) -> str | None:
    """What file massfit would take `path` for, from its first bytes (`None` if nothing)."""
    with open(path, "rb") as f:
        start = f.read(64)
    for kind, description in _KINDS.items():
        if start.startswith(json.dumps({"format": kind})[:-1].encode()):
            return description
    if start.startswith(ZIP_MAGIC):
        return "a zip archive (an .npz file, such as one written by massfit.io.save_result)"
    return None


@contextlib.contextmanager
def open_atomically(path: str | os.PathLike):
    """A binary file to write that replaces `path` only once it is complete."""
    path = pathlib.Path(path)
    tmp = path.with_name(path.name + ".tmp")
    try:
        with open(tmp, "wb") as f:
            yield f
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _kind(leaf) -> str:
    if hasattr(leaf, "shape") and hasattr(leaf, "dtype"):
        return f"{leaf.dtype}{list(leaf.shape)}"
    return type(leaf).__name__


def structure(tree: PyTree) -> tuple[list[list[str]], list[list[str]]]:
    """The `[path, class]` of every node of `tree` and the `[path, "dtype[shape]"]` of every
    leaf (non-array leaves by their type), in tree order; `None` placeholders are left out.

    Static fields are not part of it: they come back from the tree a file is loaded into.
    """
    classes, leaves = [], []

    def visit(node, path):
        # Flatten one level: every child counts as a leaf, the node itself does not.
        children = jax.tree_util.tree_flatten_with_path(node, is_leaf=lambda x: x is not node)[0]
        name = jax.tree_util.keystr(path).lstrip(".")
        if children and children[0][0] == ():
            leaves.append([name, _kind(node)])
        elif node is not None:
            classes.append([name, class_name(node)])
            for key, child in children:
                visit(child, (*path, *key))

    visit(tree, ())
    return classes, leaves


def _digest(header: dict[str, Any], data: bytes) -> str:
    # The header (as JSON) is hashed with the data, so a changed step count or path is caught
    # as surely as a changed parameter.
    return hashlib.sha256(json.dumps(header).encode() + b"\n" + data).hexdigest()


def write_leaf_file(path: str | os.PathLike, header: dict[str, Any], tree: PyTree) -> None:
    """Write `header` as one line of JSON, then the leaves of `tree`; replaces `path` atomically.

    `header` starts with its `"format"` (one of `_KINDS`); the structure of `tree`
    (`"classes"`, `"leaves"`), the data's length (`"data_bytes"`) and the `"sha256"` of
    header and data are added to it.
    """
    buffer = io.BytesIO()
    eqx.tree_serialise_leaves(buffer, tree)
    data = buffer.getvalue()
    classes, leaves = structure(tree)
    header = {**header, "classes": classes, "leaves": leaves, "data_bytes": len(data)}
    header["sha256"] = _digest(header, data)
    with open_atomically(path) as f:
        f.write(json.dumps(header).encode() + b"\n")
        f.write(data)


def _first_difference(saved, current, what: str, like_name: str) -> str | None:
    for (path_s, kind_s), (path_c, kind_c) in zip(saved, current):
        if path_s != path_c:
            return f"the file has a {what} `{path_s}` where {like_name} has `{path_c}`"
        if kind_s != kind_c:
            if what == "leaf":
                return f"leaf `{path_s}` is {kind_s} in the file but {kind_c} in {like_name}"
            where = f"`{path_s}`" if path_s else "the top level"
            return f"{where} is a {kind_s} in the file but a {kind_c} in {like_name}"
    if len(saved) != len(current):
        return f"the file has {len(saved)} {what}s but {like_name} has {len(current)}"
    return None


@dataclasses.dataclass(frozen=True)
class LeafFile:
    """A leaf file read whole and verified by `read_leaf_file`: its header and its data."""

    source: str
    header: dict[str, Any]
    data: bytes

    def load(self, like: PyTree, *, like_name: str, hint: str) -> PyTree:
        """The data deserialised into the structure of `like`, which must be the file's.

        A difference raises a `ValueError` naming the first differing node or leaf, then
        `hint` (what to do about it); `like_name` says what `like` is (e.g. "this fit").
        """
        classes, leaves = structure(like)
        for what, key, current in (("node", "classes", classes), ("leaf", "leaves", leaves)):
            saved = self.header.get(key)  # files without a checksum have no classes
            if saved is None:
                continue
            difference = _first_difference(saved, current, what, like_name)
            if difference is not None:
                raise ValueError(f"{self.source}: {difference}; {hint}.")
        try:
            return eqx.tree_deserialise_leaves(io.BytesIO(self.data), like)
        except (RuntimeError, ValueError, EOFError, OSError) as error:
            if "sha256" in self.header:  # verified and of the same structure: not the file's fault
                raise
            raise ValueError(
                f"{self.source}: cannot be read into {like_name} ({error}). It is truncated or "
                f"damaged, or was written for something else: {hint}."
            ) from None


def _parse_header(line: bytes, source: str, kind: str) -> dict[str, Any]:
    try:
        header = json.loads(line)
    except ValueError:  # not JSON, or not text at all
        header = None
    found = header.get("format") if isinstance(header, dict) else None
    if found == kind and line.endswith(b"\n"):
        return header
    if found in _KINDS and found != kind:
        raise ValueError(f"{source}: is {_KINDS[found]}, not {_KINDS[kind]}.")
    if not line:
        raise damaged(source, "the file is empty")
    if line.startswith(_SIGNATURE) or _SIGNATURE.startswith(line):
        if not line.endswith(b"\n"):
            raise damaged(source, "its header is cut short")
        raise damaged(source, "its header is not readable")
    other = kind_of(source)
    raise ValueError(f"{source}: not {_KINDS[kind]}{'' if other is None else f'; it is {other}'}.")


def _verify(header: dict[str, Any], data: bytes, source: str) -> None:
    expected = header.get("data_bytes")
    if isinstance(expected, int) and len(data) < expected:
        raise damaged(
            source,
            f"its data has {len(data)} of the {expected} bytes written: "
            f"{expected - len(data)} short",
        )
    if isinstance(expected, int) and len(data) > expected:
        raise damaged(source, f"its data has {len(data)} bytes where {expected} were written")
    rest = {key: value for key, value in header.items() if key != "sha256"}
    if _digest(rest, data) != header["sha256"]:
        raise damaged(source, "its sha256 checksum does not match its contents")


def read_leaf_file(
    path: str | os.PathLike, kind: str, *, version_key: str, version: int
) -> LeafFile:
    """Read and verify a file written by `write_leaf_file` with `"format": kind`.

    Raises a `ValueError` if the file is another kind of file, is truncated or damaged (its
    length or checksum is not the one written), or was written in a format version above
    `version` (the header's `version_key`). A file written before files carried a checksum
    loads with a warning.
    """
    source = os.fspath(path)
    with open(path, "rb") as f:
        line = f.readline()
        data = f.read()
    header = _parse_header(line, source, kind)
    # Verified first: the checksum covers the version, so damage never reads as "newer".
    if "sha256" in header:
        _verify(header, data, source)
    elif "classes" in header or "data_bytes" in header:  # written with a checksum, now gone
        raise damaged(source, "its header has lost its checksum")
    written = header.get(version_key)
    if isinstance(written, int) and written > version:
        raise ValueError(
            f"{source}: written by a newer massfit (format version {written}; this massfit "
            f"reads up to version {version}). Upgrade massfit."
        )
    if "sha256" not in header:
        warnings.warn(
            f"{source}: written by an older massfit, without a checksum, so it cannot be "
            "checked for damage; save it again to add one.",
            stacklevel=4,
        )
    return LeafFile(source, header, data)
