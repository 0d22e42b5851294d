"""Random numbers that stay the same across NumPy versions, for the bundled datasets.

NumPy guarantees the raw stream of a seeded `PCG64` but not the output of `Generator`
methods, which may change between versions; the transforms to uniform and normal numbers
are therefore done here, so a dataset's content depends on its seed alone.
"""

import numpy as np


class StableRandom:
    """Uniform and normal float64 draws from `PCG64(seed)`'s raw 64-bit stream."""

    def __init__(self, seed: int):
        self._bits = np.random.PCG64(seed)

    def uniform(self, shape) -> np.ndarray:
        """Draws in [0, 1) with 53 random bits each."""
        size = int(np.prod(shape))
        raw = self._bits.random_raw(size)
        return ((raw >> np.uint64(11)).astype(np.float64) * 2.0**-53).reshape(shape)

    def normal(self, shape) -> np.ndarray:
        """Standard normal draws (Box–Muller)."""
        u1 = self.uniform(shape)
        u2 = self.uniform(shape)
        return np.sqrt(-2.0 * np.log1p(-u1)) * np.cos(2.0 * np.pi * u2)
