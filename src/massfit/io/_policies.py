"""The policies every connectome loader applies: orientation, units, zero lengths, diagonal."""

import warnings
from typing import Literal

import numpy as np

from .._connectome import Connectome


Orientation = Literal["to_from", "from_to"]
LengthUnit = Literal["mm", "cm", "m"]
ZeroLength = Literal["warn", "keep", "error"]
Normalise = Literal["max", "row_sum"] | None

MM_PER_UNIT = {"mm": 1.0, "cm": 10.0, "m": 1000.0}


def check_choice(name: str, value, choices) -> None:
    """Raise a `ValueError` naming the argument if `value` is not one of `choices`."""
    if value not in choices:
        raise ValueError(f"`{name}` must be one of {tuple(choices)}; got {value!r}.")


def to_mm(values: np.ndarray, length_unit: str) -> np.ndarray:
    """Convert lengths or coordinates given in `length_unit` to mm."""
    check_choice("length_unit", length_unit, MM_PER_UNIT)
    return values * MM_PER_UNIT[length_unit]


def build_connectome(
    weights: np.ndarray,
    lengths: np.ndarray | None,
    labels,
    *,
    source: str,
    orientation: Orientation,
    diagonal: Literal["keep", "zero", "error"],
    normalise: Normalise,
    length_unit: LengthUnit,
    zero_length: ZeroLength,
    verbose: bool,
) -> Connectome:
    """Apply the loader policies to arrays read from `source` and build the `Connectome`.

    Order: orientation (transpose a `"from_to"` file), length unit (to mm), the zero-length
    check on off-diagonal edges, `Connectome`'s own validation and diagonal policy, then
    normalisation (after the diagonal is settled, so a dropped self-connection never sets
    the scale). Errors from `Connectome` are re-raised with `source` in front.
    """
    check_choice("orientation", orientation, ("to_from", "from_to"))
    check_choice("zero_length", zero_length, ("warn", "keep", "error"))
    check_choice("normalise", normalise, (None, "max", "row_sum"))
    check_choice("length_unit", length_unit, MM_PER_UNIT)
    if orientation == "from_to":
        weights = weights.T
        lengths = None if lengths is None else lengths.T
    if lengths is not None:
        lengths = to_mm(lengths, length_unit)
        if weights.shape == lengths.shape and weights.ndim == 2:
            _check_zero_lengths(weights, lengths, source=source, policy=zero_length)
    try:
        connectome = Connectome(weights, lengths, labels, diagonal=diagonal)
    except (ValueError, TypeError) as error:
        raise type(error)(f"{source}: {error}") from error
    if normalise is not None:
        connectome = connectome.normalise(normalise)
    if verbose:
        print(f"{source}: {connectome.summary()}")
    return connectome


def _check_zero_lengths(weights, lengths, *, source: str, policy: ZeroLength) -> None:
    # Self-connections have no tract, so only off-diagonal edges are checked.
    with np.errstate(invalid="ignore"):
        bad = (weights != 0) & (lengths == 0)
    np.fill_diagonal(bad, False)
    if policy == "keep" or not bad.any():
        return
    i, j = np.argwhere(bad)[0]
    message = (
        f"{source}: {int(bad.sum())} edges have a non-zero weight but zero length, e.g. "
        f"weights[{i}, {j}] = {weights[i, j]:.4g} with lengths[{i}, {j}] = 0; they are "
        "instantaneous (no conduction delay)."
    )
    if policy == "error":
        raise ValueError(
            message + " Pass zero_length='keep' (or 'warn') to accept them, or fix the lengths."
        )
    warnings.warn(message + " Pass zero_length='keep' to silence this.", stacklevel=4)
