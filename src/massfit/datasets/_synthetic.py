"""Synthetic, spatially embedded connectomes: the bundled `example_connectome` and
`realistic_connectome`, generated on load from a seed.

The recipe follows what diffusion-MRI connectomes look like:

- Region centres fill a brain-sized ellipsoid (half-axes 68 mm left–right, 85 mm
  posterior–anterior, 58 mm inferior–superior) between 45 % and 95 % of its radius, at
  least 7 mm apart, mirrored between two hemispheres (left first, then right) with a
  4 mm medial gap.
- Tract lengths (realistic) are the Euclidean distance, or for inter-hemispheric pairs the
  path through a point of the corpus callosum (x = 0, y clipped to ±35 mm, z = 10 mm),
  times a curvature factor drawn in [1.05, 1.55]: never shorter than the straight line,
  and up to ~250 mm.
- Edges follow the exponential distance rule (Ercsey-Ravasz et al. 2013, Neuron 80:184):
  beyond each region's nearest neighbour in its hemisphere and its homotopic partner,
  which are always connected, edges are drawn without replacement with probability
  proportional to exp(-length / 40 mm) until the requested density is reached.
- Weights are log-normal, their median falling e-fold every 60 mm of tract (log-standard
  deviation 1.5 for the realistic connectome, 0.5 for the example); they are symmetric
  and scaled so the largest is 1.
"""

import functools

import numpy as np

from .._connectome import Connectome
from ..io._regions import Regions
from ._random import StableRandom


_HALF_AXES = np.array([68.0, 85.0, 58.0])  # mm
_SHELL = (0.45, 0.95)  # fraction of the ellipsoid radius
_MEDIAL_GAP = 4.0  # mm
_MIN_SEPARATION = 7.0  # mm
_CALLOSUM = (35.0, 10.0)  # mm: |y| extent and height of the commissural crossing
_CURVATURE = (1.05, 1.55)
_EDGE_DECAY = 40.0  # mm
_WEIGHT_DECAY = 60.0  # mm
_MAX_CANDIDATES = 200_000


def _hemisphere_centres(rng: StableRandom, n: int) -> np.ndarray:
    """`n` left-hemisphere centres (x < 0), sorted posterior to anterior."""
    centres = np.empty((n, 3))
    count = drawn = 0
    while count < n:
        if drawn >= _MAX_CANDIDATES:
            raise ValueError(
                f"cannot place {n} regions per hemisphere {_MIN_SEPARATION} mm apart in the "
                "synthetic brain; ask for fewer regions."
            )
        candidates = (2.0 * rng.uniform((256, 3)) - 1.0) * _HALF_AXES
        drawn += len(candidates)
        radius = np.sqrt(np.sum((candidates / _HALF_AXES) ** 2, axis=1))
        inside = (radius >= _SHELL[0]) & (radius <= _SHELL[1]) & (candidates[:, 0] <= -_MEDIAL_GAP)
        for p in candidates[inside]:
            if np.all(np.sum((centres[:count] - p) ** 2, axis=1) >= _MIN_SEPARATION**2):
                centres[count] = p
                count += 1
                if count == n:
                    break
    return centres[np.argsort(centres[:, 1], kind="stable")]


def _routed_lengths(centres: np.ndarray, hemisphere: np.ndarray) -> np.ndarray:
    """Straight lines within a hemisphere; through the corpus callosum between them."""
    diff = centres[:, None, :] - centres[None, :, :]
    lengths = np.sqrt(np.sum(diff**2, axis=-1))
    y = np.clip((centres[:, None, 1] + centres[None, :, 1]) / 2, -_CALLOSUM[0], _CALLOSUM[0])
    crossing = np.stack([np.zeros_like(y), y, np.full_like(y, _CALLOSUM[1])], axis=-1)
    via = np.linalg.norm(centres[:, None, :] - crossing, axis=-1) + np.linalg.norm(
        crossing - centres[None, :, :], axis=-1
    )
    between = hemisphere[:, None] != hemisphere[None, :]
    return np.where(between, via, lengths)


def generate(
    n_regions: int, density: float, seed: int, *, curved: bool, weight_sigma: float
) -> tuple[Connectome, Regions]:
    """A symmetric synthetic connectome and its regions (see the module docstring).

    With `curved=False`, lengths are the Euclidean distances between centres.
    `weight_sigma` is the log-standard deviation of the weights.
    """
    weights, lengths, centres, labels = _arrays(n_regions, density, seed, curved, weight_sigma)
    hemispheres = np.arange(n_regions) >= n_regions // 2  # True = right, as in TVB
    connectome = Connectome(weights, lengths, labels, diagonal="error")
    return connectome, Regions(centres, labels, hemispheres=hemispheres)


# Cached as NumPy arrays, so the JAX arrays are made with the dtype in force at each call.
@functools.lru_cache(maxsize=32)
def _arrays(n_regions, density, seed, curved, weight_sigma):
    if isinstance(n_regions, bool) or not isinstance(n_regions, int) or n_regions < 4:
        raise ValueError(f"`n_regions` must be an int of at least 4; got {n_regions!r}.")
    if n_regions % 2:
        raise ValueError(
            f"`n_regions` must be even (two mirrored hemispheres); got {n_regions}."
        )
    if not 0.0 < density <= 1.0:
        raise ValueError(f"`density` must be in (0, 1]; got {density}.")
    rng = StableRandom(seed)
    half = n_regions // 2
    left = _hemisphere_centres(rng, half)
    centres = np.concatenate([left, left * np.array([-1.0, 1.0, 1.0])])
    hemisphere = np.arange(n_regions) >= half  # True = right, as in TVB
    labels = [f"L{i:02d}" for i in range(half)] + [f"R{i:02d}" for i in range(half)]

    iu = np.triu_indices(n_regions, 1)
    euclidean = np.linalg.norm(centres[:, None, :] - centres[None, :, :], axis=-1)
    if curved:
        factor = _CURVATURE[0] + (_CURVATURE[1] - _CURVATURE[0]) * rng.uniform(len(iu[0]))
        lengths = np.zeros((n_regions, n_regions))
        lengths[iu] = _routed_lengths(centres, hemisphere)[iu] * factor
        lengths = lengths + lengths.T
    else:
        lengths = euclidean

    forced = np.zeros((n_regions, n_regions), dtype=bool)
    within = np.where(hemisphere[:, None] == hemisphere[None, :], euclidean, np.inf)
    np.fill_diagonal(within, np.inf)
    nearest = np.argmin(within, axis=1)
    forced[np.arange(n_regions), nearest] = True
    forced[np.arange(half), np.arange(half) + half] = True
    forced = (forced | forced.T)[iu]

    n_edges = max(int(round(density * len(iu[0]))), int(forced.sum()))
    gumbel = -np.log(-np.log(rng.uniform(len(iu[0])) + 2.0**-54))
    score = np.where(forced, np.inf, -lengths[iu] / _EDGE_DECAY + gumbel)
    chosen = np.zeros(len(iu[0]), dtype=bool)
    chosen[np.argsort(-score, kind="stable")[:n_edges]] = True

    log_weights = -lengths[iu] / _WEIGHT_DECAY + weight_sigma * rng.normal(len(iu[0]))
    upper = np.where(chosen, np.exp(log_weights), 0.0)
    weights = np.zeros((n_regions, n_regions))
    weights[iu] = upper / upper.max()
    weights = weights + weights.T

    for array in (weights, lengths, centres):
        array.flags.writeable = False
    return weights, lengths, centres, tuple(labels)
