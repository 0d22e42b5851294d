"""massfit: whole-brain neural mass modelling in JAX."""

import importlib.metadata

from . import metrics as metrics, objectives as objectives
from ._connectome import Connectome as Connectome


__version__ = importlib.metadata.version("massfit")
