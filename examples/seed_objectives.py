"""The seed page's objective toolkit, in massfit.

brainmass's "Compose a Custom Objective" page, sections "The built-in toolkit" and "Combine
weighted objectives", with the same inputs: it prints the page's values. Then the spectral
objective the page had to write by hand, built in.
"""

import jax.numpy as jnp
import numpy as np

from massfit import objectives


rng = np.random.default_rng(0)
pred = jnp.asarray(rng.standard_normal((200, 6)))  # (time, regions)
target = jnp.asarray(rng.standard_normal((200, 6)))

print("timeseries_rmse :", float(objectives.timeseries_rmse()(pred, target)))
print("fc_corr (score) :", float(objectives.fc_corr()(pred, target)))
print("fc_corr (loss) :", float(objectives.fc_corr(as_loss=True)(pred, target)))
print("cosine_sim :", float(objectives.cosine_sim()(pred, target)))
print("fcd (loss) :", float(objectives.fcd(as_loss=True)(pred, target)))

# Identity is exact: every loss is 0 and every score 1 when prediction equals target.
x = jnp.zeros((50, 4)) + jnp.asarray(rng.standard_normal((50, 4)))
print("rmse(x, x) =", float(objectives.timeseries_rmse()(x, x)))
print("fc_corr(x, x) =", float(objectives.fc_corr()(x, x)))

# Combine weighted objectives into one loss; its parts stay available for logging.
combined = objectives.combine(
    (1.0, objectives.timeseries_rmse()),
    (0.5, objectives.fc_corr(as_loss=True)),
)
print("combined loss:", float(combined(pred, target)))
print("combined parts:", {k: round(float(v), 6) for k, v in combined.parts(pred, target).items()})

# Sanity check the arithmetic on a controlled example:
a = jnp.zeros((10, 3))
check = objectives.combine(
    (2.0, objectives.timeseries_rmse()),
    (0.5, objectives.timeseries_rmse()),
)
print("(2.0 + 0.5) * 1.0 =", float(check(a + 1.0, a)))

# The page's hand-written peak-frequency loss is built in, with a soft-argmax peak (useful
# gradients, sub-bin resolution). dt in ms, band in Hz, loss in Hz^2.
samples = np.arange(1000)  # 1 ms sampling
rng2 = np.random.default_rng(1)


def sine_bank(freqs_hz):
    cols = [
        np.sin(2 * np.pi * f * samples * 1e-3) + 0.05 * rng2.standard_normal(1000) for f in freqs_hz
    ]
    return jnp.asarray(np.stack(cols, axis=1))


pred_sig = sine_bank([5, 10, 20, 30])
fast_sig = sine_bank([8, 16, 28, 40])
peak = objectives.peak_frequency(dt=1.0, band=(1.0, 45.0))
print("peak-frequency loss (pred vs fast), Hz^2:", float(peak(pred_sig, fast_sig)))
print("peak-frequency loss (pred vs pred), Hz^2:", float(peak(pred_sig, pred_sig)))
mixed = objectives.combine(
    (1.0, objectives.fc_corr(as_loss=True)),
    (0.01, peak),
)
print("mixed FC + spectral loss:", float(mixed(pred_sig, fast_sig)))
