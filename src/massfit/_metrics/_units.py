"""Optional unit support: brainunit Quantities are recognised only if brainunit is loaded.

Plain arrays are the fast path: nothing here imports brainunit, so a user who never imports it
pays one dictionary lookup per call.
"""

import math
import sys
from types import ModuleType
from typing import Any, TypeAlias


def _unit_module() -> ModuleType | None:
    # brainunit 0.5 re-exports saiunit, so a Quantity may come from either name.
    return sys.modules.get("brainunit") or sys.modules.get("saiunit")


def is_quantity(x) -> bool:
    """Whether `x` is a brainunit Quantity."""
    units = _unit_module()
    return units is not None and isinstance(x, units.Quantity)


def magnitude(x):
    """The bare value of `x`, in its own unit (scale-free uses only)."""
    return x.mantissa if is_quantity(x) else x


def common_magnitudes(a, b):
    """The values of `a` and `b` in one unit (that of `a`), so that they can be compared.

    Raises brainunit's `UnitMismatchError` if the dimensions differ; a plain array counts as
    dimensionless.
    """
    if not (is_quantity(a) or is_quantity(b)):
        return a, b
    units = _unit_module()
    a = a if is_quantity(a) else units.Quantity(a)
    b = b if is_quantity(b) else units.Quantity(b)
    return a.mantissa, b.to_decimal(a.unit)


def milliseconds(dt) -> float:
    """A sampling interval as a float in ms (a Quantity is converted; a number is taken as ms)."""
    if is_quantity(dt):
        dt = dt.to_decimal(_unit_module().ms)
    try:
        value = float(dt)
    except TypeError as e:
        raise TypeError(
            f"`dt` must be a concrete number (the sampling interval in ms); got {dt!r}. It "
            "sets the frequency axis, so it cannot be traced."
        ) from e
    if not (value > 0 and math.isfinite(value)):
        raise ValueError(f"`dt` must be a positive, finite sampling interval in ms; got {dt!r}.")
    return value


#: A sampling interval: a number in ms, or a brainunit Quantity with a time unit.
IntervalLike: TypeAlias = Any
