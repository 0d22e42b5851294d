"""The main job: placeholder until the fitting issue lands (prints the connectome summary)."""

import numpy as np

import massfit


w = np.ones((4, 4)) - np.eye(4)
print(massfit.Connectome(w, 10 * w).summary())
