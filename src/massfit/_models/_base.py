"""The node-model interface: one neural mass, vectorised over regions."""

import abc
import dataclasses
from typing import ClassVar

import equinox as eqx
import jax.numpy as jnp
from equinox import AbstractClassVar
from jaxtyping import Array, Float

from .._custom_types import State
from .._errors import eager_constants


@eager_constants
def as_param(x):
    # Constraint wrappers (e.g. `Bounded`) and other Modules pass through untouched, so a
    # model can be built directly with a constrained parameter.
    if isinstance(x, eqx.Module):
        return x
    return jnp.asarray(x, dtype=jnp.result_type(float))


def param(default, **kwargs):
    """A model parameter field: a float scalar or a per-region `(N,)` array, stored as a JAX
    array so that it is a leaf that filters, `grad` and `vmap` see."""
    return eqx.field(default=default, converter=as_param, **kwargs)


def stack_initial(n_regions: int, *values) -> State:
    """A `(V, N)` state from one initial value per variable, each a scalar or `(N,)` array."""
    return jnp.stack([jnp.broadcast_to(v, (n_regions,)) for v in values])


class AbstractNodeModel(eqx.Module):
    """A neural mass model, vectorised over the N regions of a network.

    The state is a `(V, N)` array: one row per state variable (named, in order, by
    `variables`), one column per region. Parameters are scalars or per-region `(N,)` arrays.

    `inputs` has the same `(V, N)` layout as the state: row `v` is what drives variable `v`'s
    equation — network coupling for the coupled variables plus any external input, zero
    elsewhere. Each model documents how an input enters its equations (added to the
    derivative, or inside a sigmoid, ...).

    Time is in ms and rates in 1/ms, everywhere.
    """

    def __new__(cls, *args, **kwargs):
        # The dataclass `__init__` would say only "unexpected keyword argument": name the
        # parameters the model does have, so a typo is a one-look fix.
        names = tuple(f.name for f in dataclasses.fields(cls) if f.init)
        unknown = [name for name in kwargs if name not in names]
        if unknown:
            raise TypeError(
                f"{cls.__name__} has no parameter {unknown[0]!r}; its parameters are {names}."
            )
        return super().__new__(cls)

    #: Names of the state variables, in row order.
    variables: AbstractClassVar[tuple[str, ...]]
    #: The variables that a network couples by default.
    coupled_variables: AbstractClassVar[tuple[str, ...]]
    #: The unit of each parameter field, by name ("ms", "1/ms", "nA", "dimensionless", ...),
    #: for `massfit.list_models`; a missing entry reads "?".
    units: ClassVar[dict[str, str]] = {}
    #: The reference(s) the equations follow, for `massfit.list_models`.
    citation: ClassVar[str] = "?"

    @abc.abstractmethod
    def vector_field(self, t: Float[Array, ""], state: State, inputs: State) -> State:
        """The time derivative `d state / dt` (per ms), shape `(V, N)`."""

    @abc.abstractmethod
    def initial_state(self, n_regions: int) -> State:
        """A default `(V, N)` initial state. It is deliberately *not* a fixed point, so a
        noiseless run of an oscillator oscillates."""

    def variable_index(self, name: str) -> int:
        """The row of state variable `name`; raises listing the valid names."""
        try:
            return self.variables.index(name)
        except ValueError:
            raise ValueError(
                f"{type(self).__name__} has no state variable {name!r}; its variables are "
                f"{self.variables}."
            ) from None
