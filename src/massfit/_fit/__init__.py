"""Fitting: the gradient loop, population search, multi-start, results and checkpoints."""

from ._cma_es import cma_es as cma_es
from ._differential_evolution import differential_evolution as differential_evolution
from ._gradient import fit as fit, FORWARD_MODE_MAX_PARAMS as FORWARD_MODE_MAX_PARAMS
from ._multistart import multistart as multistart
from ._penalty import l2_prior as l2_prior
from ._result import FitResult as FitResult, MultistartResult as MultistartResult
