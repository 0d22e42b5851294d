"""Shared jaxtyping aliases."""

from typing import TypeAlias

import equinox as eqx
from jaxtyping import Array, ArrayLike, Float, Int


#: A ``(time, regions)`` series, the layout every metric and objective takes.
TimeSeries: TypeAlias = Float[Array, "time regions"]
#: A ``(regions, regions)`` matrix, e.g. a connectome or an FC matrix.
Matrix: TypeAlias = Float[Array, "regions regions"]
#: A scalar result of a metric, loss or score.
Scalar: TypeAlias = Float[Array, ""]
#: A network state: one row per state variable, one column per region.
State: TypeAlias = Float[Array, "variables regions"]
IntScalar: TypeAlias = Int[Array, ""]
RealLike: TypeAlias = float | ArrayLike
#: A model parameter: a scalar or per-region array, or a constraint wrapper around one
#: (unwrapped before use).
Parameter: TypeAlias = Float[Array, "..."] | eqx.Module
#: Anything `numpy.asarray` turns into a numeric array, nested lists included.
MatrixLike: TypeAlias = ArrayLike | list | tuple
