"""Region geometry and annotations that come with a connectome: centres, hemispheres, areas."""

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Bool, Float


class Regions(eqx.Module):
    """Where the regions of a connectome are, and what is known about them.

    A companion of [`massfit.Connectome`][], in the same region order: the loaders of files
    that carry geometry (`massfit.io.load_tvb_regions`) and the bundled datasets
    (`massfit.datasets.load_regions`) return it.

    **Arguments:**

    - `centres`: `(N, 3)` region centres in **mm** (x: left → right, y: posterior →
        anterior, z: inferior → superior, as in TVB's files).
    - `labels`: `N` region names; defaults to `"r0", "r1", ...` as in `Connectome`.
    - `hemispheres`: `N` booleans, `True` for the **right** hemisphere (TVB's convention),
        or `None` if unknown.
    - `cortical`: `N` booleans, `True` for cortical regions, or `None` if unknown.
    - `areas`: `N` region areas in **mm²**, or `None` if unknown.
    - `orientations`: `(N, 3)` average unit normals, or `None` if unknown.

    **Example:**

    ```python
    regions = massfit.datasets.load_regions("realistic_connectome")
    regions.distances()  # (N, N) Euclidean distances in mm
    ```
    """

    centres: Float[Array, "N 3"]
    labels: tuple[str, ...] = eqx.field(static=True)
    hemispheres: Bool[Array, " N"] | None
    cortical: Bool[Array, " N"] | None
    areas: Float[Array, " N"] | None
    orientations: Float[Array, "N 3"] | None

    def __init__(
        self,
        centres: ArrayLike,
        labels: tuple[str, ...] | list[str] | None = None,
        *,
        hemispheres: ArrayLike | None = None,
        cortical: ArrayLike | None = None,
        areas: ArrayLike | None = None,
        orientations: ArrayLike | None = None,
    ):
        centres = np.asarray(centres, dtype=np.float64)
        if centres.ndim != 2 or centres.shape[1] != 3:
            raise ValueError(f"`centres` must have shape (N, 3) in mm; got {centres.shape}.")
        n = centres.shape[0]
        if labels is None:
            labels = tuple(f"r{i}" for i in range(n))
        labels = tuple(str(label) for label in labels)
        if len(labels) != n:
            raise ValueError(f"`labels` must name all {n} regions; got {len(labels)}.")

        def optional(name, value, shape, dtype):
            if value is None:
                return None
            value = np.asarray(value, dtype=dtype)
            if value.shape != shape:
                raise ValueError(f"`{name}` must have shape {shape}; got {value.shape}.")
            return jnp.asarray(value)

        float_dtype = jnp.result_type(float)
        self.centres = jnp.asarray(centres, dtype=float_dtype)
        self.labels = labels
        self.hemispheres = optional("hemispheres", hemispheres, (n,), bool)
        self.cortical = optional("cortical", cortical, (n,), bool)
        self.areas = optional("areas", areas, (n,), float_dtype)
        self.orientations = optional("orientations", orientations, (n, 3), float_dtype)

    @property
    def n_regions(self) -> int:
        """The number of regions N."""
        return self.centres.shape[0]

    def distances(self) -> Float[Array, "N N"]:
        """Euclidean distances between region centres, in mm."""
        diff = self.centres[:, None, :] - self.centres[None, :, :]
        return jnp.sqrt(jnp.sum(diff**2, axis=-1))
