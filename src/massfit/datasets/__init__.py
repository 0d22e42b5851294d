"""Datasets by name: the bundled synthetic examples, and any a user registers.

```python
massfit.datasets.list_datasets()
conn = massfit.datasets.load_dataset("realistic_connectome", n_regions=80)
regions = massfit.datasets.load_regions("realistic_connectome", n_regions=80)
```
"""

from . import _bundled
from ._registry import (
    list_datasets as list_datasets,
    load_dataset as load_dataset,
    load_regions as load_regions,
    register_dataset as register_dataset,
)


register_dataset(
    "example_connectome",
    _bundled.example_connectome,
    description=(
        "Connectome: 8 synthetic regions in two hemispheres, symmetric, zero diagonal, "
        "Euclidean lengths in mm (kwargs: seed)."
    ),
    regions=_bundled.example_regions,
)
register_dataset(
    "realistic_connectome",
    _bundled.realistic_connectome,
    description=(
        "Connectome: diffusion-MRI-like, 80 regions by default, 30 % dense, log-normal "
        "weights, tract lengths up to ~250 mm (kwargs: n_regions, density, seed)."
    ),
    regions=_bundled.realistic_regions,
)
# example_signal: a simulated target series (massfit.io.Signal, dt in ms, with the true
# parameters recorded) needs massfit.simulate, so it is registered here by the lead once the
# simulator lands: add `_example_signal.py` beside `_bundled.py` and one
# `register_dataset("example_signal", ...)` call below.
