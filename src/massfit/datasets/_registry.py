"""The dataset registry: names to loader functions."""

import difflib
from collections.abc import Callable
from typing import Any, NamedTuple


class _Entry(NamedTuple):
    loader: Callable[..., Any]
    description: str
    regions: Callable[..., Any] | None


_REGISTRY: dict[str, _Entry] = {}


def register_dataset(
    name: str,
    loader: Callable[..., Any],
    *,
    description: str,
    regions: Callable[..., Any] | None = None,
    overwrite: bool = False,
) -> None:
    """Make a dataset loadable by name with [`massfit.datasets.load_dataset`][].

    **Arguments:**

    - `name`: the dataset's name.
    - `loader`: a function called as `loader(**kwargs)` by `load_dataset(name, **kwargs)`;
        it should be deterministic (fixed seed) and cheap, or cache what it reads.
    - `description`: one line for [`massfit.datasets.list_datasets`][] (what it is, size,
        units).
    - `regions`: optionally, a function with the same keyword arguments returning the
        [`massfit.io.Regions`][] (centres, hemispheres) of the dataset's connectome.
    - `overwrite`: replace an existing dataset of that name instead of raising.

    **Returns:**

    Nothing.

    **Example:**

    ```python
    massfit.datasets.register_dataset(
        "my_subject",
        lambda: massfit.io.load_tvb_zip("/data/sub-01.zip"),
        description="Subject 01, 68 regions (Desikan-Killiany), lengths in mm",
    )
    ```
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"`name` must be a non-empty string; got {name!r}.")
    if not callable(loader):
        raise TypeError(f"`loader` must be callable; got {type(loader).__name__}.")
    if regions is not None and not callable(regions):
        raise TypeError(f"`regions` must be callable or None; got {type(regions).__name__}.")
    if name in _REGISTRY and not overwrite:
        raise ValueError(
            f"a dataset named {name!r} is already registered; pass overwrite=True to "
            "replace it."
        )
    _REGISTRY[name] = _Entry(loader, str(description), regions)


def list_datasets() -> dict[str, str]:
    """The registered datasets, by name, with their one-line descriptions.

    **Returns:**

    A dict from name to description, sorted by name.

    **Example:**

    ```python
    for name, description in massfit.datasets.list_datasets().items():
        print(f"{name}: {description}")
    ```
    """
    return {name: _REGISTRY[name].description for name in sorted(_REGISTRY)}


def _entry(name: str) -> _Entry:
    if name not in _REGISTRY:
        close = difflib.get_close_matches(str(name), list(_REGISTRY), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(
            f"unknown dataset {name!r}; the registered ones are {sorted(_REGISTRY)}.{hint}"
        )
    return _REGISTRY[name]


def load_dataset(name: str, **kwargs) -> Any:
    """Load a registered dataset by name.

    **Arguments:**

    - `name`: one of [`massfit.datasets.list_datasets`][]`()`.
    - `**kwargs`: passed to the dataset's loader (e.g. `n_regions=`, `seed=`).

    **Returns:**

    What the dataset is: a [`massfit.Connectome`][] for the connectome datasets.

    **Example:**

    ```python
    conn = massfit.datasets.load_dataset("realistic_connectome", n_regions=80)
    ```
    """
    return _entry(name).loader(**kwargs)


def load_regions(name: str, **kwargs) -> Any:
    """Load the region geometry of a registered connectome dataset.

    **Arguments:**

    - `name`: a dataset registered with `regions=` (the bundled connectomes are).
    - `**kwargs`: the same keyword arguments as for `load_dataset(name, ...)`, so the
        regions match that connectome.

    **Returns:**

    [`massfit.io.Regions`][]: centres in mm, labels, hemispheres.

    **Example:**

    ```python
    regions = massfit.datasets.load_regions("realistic_connectome", n_regions=80)
    ```
    """
    entry = _entry(name)
    if entry.regions is None:
        with_regions = sorted(n for n, e in _REGISTRY.items() if e.regions is not None)
        raise ValueError(
            f"dataset {name!r} has no region geometry; these have: {with_regions}."
        )
    return entry.regions(**kwargs)
