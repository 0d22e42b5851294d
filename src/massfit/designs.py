"""Designs for `massfit.sweep`: grids, zipped axes, random and quasi-random samples.

A dict `{path: values}` passed to `sweep` is a product grid; the functions here build the
other designs and the values of an axis (`linear`, `log`).
"""

from ._sweep import (
    Design as Design,
    grid as grid,
    latin_hypercube as latin_hypercube,
    linear as linear,
    log as log,
    LogUniform as LogUniform,
    product as product,
    random as random,
    sobol as sobol,
    Uniform as Uniform,
    zipped as zipped,
)
