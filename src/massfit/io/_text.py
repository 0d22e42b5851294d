"""Reading numeric tables from text: delimiter and header detection, errors with line numbers."""

import os
import pathlib
from typing import NamedTuple

import numpy as np


class Table(NamedTuple):
    """A numeric table read from text, with the labels its header row or first column gave."""

    values: np.ndarray
    column_labels: tuple[str, ...] | None
    row_labels: tuple[str, ...] | None


_DELIMITERS = (",", "\t", ";")


def detect_delimiter(line: str) -> str | None:
    """The delimiter of a table line: comma, tab or semicolon if present, else whitespace (None)."""
    for delimiter in _DELIMITERS:
        if delimiter in line:
            return delimiter
    return None


def _split(line: str, delimiter: str | None) -> list[str]:
    tokens = [t.strip().strip("\"'") for t in line.split(delimiter)]
    while tokens and tokens[-1] == "" and delimiter is not None:
        tokens.pop()
    return tokens


def read_text(path: str | os.PathLike) -> str:
    """The content of a UTF-8 text file; other bytes raise an error naming the file and where."""
    data = pathlib.Path(path).read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise ValueError(
            f"{os.fspath(path)}: line {line} has bytes that are not UTF-8 text (at byte "
            f"{error.start}): the file is truncated or damaged, or in another encoding (save "
            "it as UTF-8)."
        ) from None


def is_number(token: str) -> bool:
    """Whether `token` parses as a float (`nan` and `inf` included)."""
    try:
        float(token)
    except ValueError:
        return False
    return True


def parse_table(
    text: str,
    *,
    source: str,
    delimiter: str | None = None,
    header: bool | None = None,
    row_labels: bool | None = None,
) -> Table:
    """Parse a rectangular numeric table.

    **Arguments:**

    - `text`: the file's content. Blank lines and lines starting with `#` or `%` are skipped.
    - `source`: the file's name, used in error messages.
    - `delimiter`: a column separator, or `None` to detect it from the first line (comma,
        tab, semicolon, else runs of whitespace).
    - `header`: whether the first line holds column labels; `None` detects it (a first
        line with a token beyond the first that is not a number, or with no numbers, is a
        header).
    - `row_labels`: whether the first column holds row labels; `None` detects it (a first
        column none of whose entries is a number).

    **Returns:**

    A `Table` of float64 values and the labels found.
    """
    lines = [
        (number, line)
        for number, line in enumerate(text.splitlines(), start=1)
        if line.strip() and not line.lstrip().startswith(("#", "%"))
    ]
    if not lines:
        raise ValueError(f"{source}: no data (the file is empty or only has comments).")
    if delimiter is None:
        delimiter = detect_delimiter(lines[0][1])
    rows = [(number, _split(line, delimiter)) for number, line in lines]

    column_labels = None
    if header is None:
        # A header has a label beyond the first column (a first-column label alone is the
        # first row's label), or only labels.
        is_label = [not is_number(t) for t in rows[0][1] if t != ""]
        header = any(is_label[1:]) or all(is_label)
    if header:
        column_labels = rows[0][1]
        rows = rows[1:]
        if not rows:
            raise ValueError(f"{source}: only a header line, no data.")

    if row_labels is None:
        row_labels = all(tokens and not is_number(tokens[0]) for _, tokens in rows)
    first_column = None
    if row_labels:
        first_column = tuple(tokens[0] for _, tokens in rows)
        rows = [(number, tokens[1:]) for number, tokens in rows]

    width = len(rows[0][1])
    values = np.empty((len(rows), width), dtype=np.float64)
    for r, (number, tokens) in enumerate(rows):
        if len(tokens) != width:
            # A short last line is what a cut-off file looks like.
            cut = r == len(rows) - 1 and len(tokens) < width and not text.endswith("\n")
            hint = " (it is the last, unterminated: is the file truncated?)" if cut else ""
            raise ValueError(
                f"{source}: line {number} has {len(tokens)} values but line {rows[0][0]} has "
                f"{width}; every line of a table needs the same number of values{hint}."
            )
        for c, token in enumerate(tokens):
            try:
                values[r, c] = float(token)
            except ValueError:
                raise ValueError(
                    f"{source}: line {number}, column {c + 1}: {token!r} is not a number."
                ) from None

    if column_labels is not None:
        if first_column is not None and len(column_labels) == width + 1:
            column_labels = column_labels[1:]  # the corner cell above the row labels
        if len(column_labels) != width:
            raise ValueError(
                f"{source}: the header has {len(column_labels)} labels but the data has "
                f"{width} columns."
            )
        column_labels = tuple(column_labels)
    return Table(values, column_labels, first_column)
