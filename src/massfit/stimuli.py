"""Stimuli for `massfit.simulate(inputs=...)`: step, pulse train, sine, ramp and noise burst,
each with a time window (onset and duration in ms), a spatial pattern and the state variable
it drives. They are immutable `equinox.Module`s: amplitudes are array leaves, so a stimulus
works under `jax.jit`, `jax.vmap` (over an amplitude, say) and `jax.grad`. Stimuli add:
`a + b` is a stimulus.
"""

from ._stimuli import (
    AbstractStimulus as AbstractStimulus,
    AbstractWindowedStimulus as AbstractWindowedStimulus,
    NoiseBurst as NoiseBurst,
    PulseTrain as PulseTrain,
    Ramp as Ramp,
    Sine as Sine,
    Step as Step,
    StimulusSum as StimulusSum,
)
