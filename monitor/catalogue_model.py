"""A catalogue-level model of a funnel rate, fitted from the products already observed.

Each product's rate (clicks per pitch-minute, carts per click, orders per cart) is taken as
log-normal around a log-linear function of its price::

    log rate_i = alpha + beta · log(price_i / median price) + u_i,   u_i ~ N(0, spread²)

and fitted by empirical Bayes from the products' own counts: a weighted least-squares fit
of the products' log rates (each observed with the sampling variance of its counts) with a
normal prior on `alpha` and `beta`, and the spread estimated by the method of moments,
shrunk towards a prior spread. Each product's prior is then the fit *without* that product
(leave-one-out, so its own counts are not counted twice), widened by the spread and by the
uncertainty of the fit. Products never pitched are therefore valued by what the products
that were pitched say about their price, not by a fixed price exponent, and a product whose
counts are still few leans on the catalogue instead of on a guess.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class LogNormalPrior:
    """A product's prior: the rate's mean, and the variance `var` of its log (spread plus fit uncertainty)."""

    mean: float
    var: float

    def gamma(self) -> tuple[float, float]:
        """Gamma (shape, rate) with the same mean and squared coefficient of variation."""
        shape = 1.0 / math.expm1(self.var)
        return shape, shape / self.mean

    def beta(self, cap: float = 0.95) -> tuple[float, float]:
        """Beta (a, b) with the same mean (capped below 1) and variance, at least one pseudo-count."""
        m = min(cap, self.mean)
        strength = max(1.0, (1.0 - m) / (m * math.expm1(self.var)) - 1.0)
        return strength * m, strength * (1.0 - m)


@dataclass(frozen=True, slots=True)
class CatalogueFit:
    """The fitted catalogue model: `alpha`, `beta` and the spread of products around it."""

    alpha: float
    beta: float
    spread: float
    priors: tuple[LogNormalPrior, ...]  # leave-one-out prior of each product, in input order


def log_rate(successes: float, trials: float, guess: float, share: bool) -> tuple[float, float]:
    """Log of an observed rate and its sampling variance (delta method).

    Half a count is added at the rate `guess`, so a product with no trials yet sits at
    `log(guess)` with a large variance instead of at minus infinity. `share` is for counts
    out of trials (Binomial, variance `1/s - 1/t`), else counts over exposure (Poisson, `1/s`).
    """
    s, t = successes + 0.5, trials + 0.5 / guess
    return math.log(s / t), max(1.0 / s - 1.0 / t, 0.1 / s) if share else 1.0 / s


def _solve(p: tuple[float, float, float], b: tuple[float, float]) -> tuple[float, float, tuple[float, float, float]]:
    """Solve the 2×2 symmetric system [[p0, p1], [p1, p2]] θ = b; return θ and the inverse."""
    det = p[0] * p[2] - p[1] * p[1]
    inv = (p[2] / det, -p[1] / det, p[0] / det)
    return inv[0] * b[0] + inv[1] * b[1], inv[1] * b[0] + inv[2] * b[1], inv


def fit_catalogue(
    y: Sequence[float],
    v: Sequence[float],
    x: Sequence[float],
    alpha_prior: tuple[float, float],
    beta_prior: tuple[float, float],
    spread_prior: float,
    spread_weight: float,
) -> CatalogueFit:
    """Fit `log rate = alpha + beta · x` across products and give each product its leave-one-out prior.

    Args:
        y: observed log rate of each product (see `log_rate`).
        v: sampling variance of each `y` (large for a product with few counts).
        x: the covariate, log(price / median price), 0 when unknown.
        alpha_prior: normal prior (mean, sd) on the intercept.
        beta_prior: normal prior (mean, sd) on the slope.
        spread_prior: prior sd of products around the line, before any data.
        spread_weight: how many products' worth of evidence `spread_prior` is.
    """
    n = len(y)
    spread2 = spread_prior**2
    rows = list(zip(x, y, v, strict=True))
    for _ in range(3):  # weights depend on the spread and the spread on the fit: iterate to a fixed point
        w = [1.0 / (spread2 + vi) for vi in v]
        p0, p1, p2 = 1.0 / alpha_prior[1] ** 2, 0.0, 1.0 / beta_prior[1] ** 2
        b0, b1 = alpha_prior[0] / alpha_prior[1] ** 2, beta_prior[0] / beta_prior[1] ** 2
        for wi, (xi, yi, _) in zip(w, rows, strict=True):
            p0 += wi
            p1 += wi * xi
            p2 += wi * xi * xi
            b0 += wi * yi
            b1 += wi * xi * yi
        alpha, beta, _ = _solve((p0, p1, p2), (b0, b1))
        # Method of moments: residual variance beyond sampling noise, weighted by how informative each product is.
        excess = weight = 0.0
        for xi, yi, vi in rows:
            info = spread2 / (spread2 + vi)
            excess += info * ((yi - alpha - beta * xi) ** 2 - vi)
            weight += info
        spread2 = max(0.01 * spread_prior**2, (spread_weight * spread_prior**2 + excess) / (spread_weight + weight))
    priors = []
    for i in range(n):
        wi, xi, yi = w[i], x[i], y[i]
        a_i, b_i, inv = _solve((p0 - wi, p1 - wi * xi, p2 - wi * xi * xi), (b0 - wi * yi, b1 - wi * xi * yi))
        fit_var = inv[0] + 2.0 * inv[1] * xi + inv[2] * xi * xi
        # The line is the catalogue's median; a product's expected rate is above it by half the spread².
        priors.append(LogNormalPrior(math.exp(a_i + b_i * xi + spread2 / 2.0), spread2 + fit_var))
    return CatalogueFit(alpha, beta, math.sqrt(spread2), tuple(priors))
