"""Parameter sweeps: designs, chunked/sharded/resumable execution, results with coordinates."""

from ._designs import (
    as_design as as_design,
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
from ._result import SweepPoint as SweepPoint, SweepResult as SweepResult
from ._sweep import sweep as sweep
