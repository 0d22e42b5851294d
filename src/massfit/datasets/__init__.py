"""Datasets by name: the bundled synthetic examples, and any a user registers.

```python
massfit.datasets.list_datasets()
conn = massfit.datasets.load_dataset("realistic_connectome", n_regions=80)
regions = massfit.datasets.load_regions("realistic_connectome", n_regions=80)
target = massfit.datasets.load_dataset("example_signal")  # .data, .dt, .fc, .truth
```
"""

from . import _bundled, _example_signal
from ._example_signal import ExampleSignal as ExampleSignal
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
register_dataset(
    "example_signal",
    _example_signal.example_signal,
    description=(
        "ExampleSignal: 20 s of x from 8 noise-driven damped 10 Hz Hopf nodes on "
        "example_connectome (k = 0.02, speed 5 mm/ms), sampled every 2 ms, with its FC, "
        "network and true parameters (kwargs: seed, duration in ms)."
    ),
)
