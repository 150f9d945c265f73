"""The catalogue model: an empirical-Bayes log-linear fit of a funnel rate against price."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pytest

from monitor.catalogue_model import LogNormalPrior, fit_catalogue, log_rate


def _catalogue(n: int, alpha: float, beta: float, spread: float, trials: float, seed: int = 3
               ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], list[float], list[float]]:
    """Products whose true log share is alpha + beta·x + N(0, spread²), observed over `trials` each."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, 0.6, n)
    true = alpha + beta * x + rng.normal(0.0, spread, n)
    successes = rng.binomial(int(trials), np.exp(true))
    observed = [log_rate(float(k), trials, 0.1, share=True) for k in successes]
    return x, true, [o[0] for o in observed], [o[1] for o in observed]


def test_fit_catalogue_recovers_a_known_price_slope_and_spread() -> None:
    # 60 products, 4,000 clicks each: log cart share = log 0.1 - 0.8·log(price/median) + N(0, 0.3²).
    x, _, y, v = _catalogue(60, math.log(0.1), -0.8, 0.3, 4000.0)
    fit = fit_catalogue(y, v, list(x), (math.log(0.1), 1.0), (-0.5, 0.5), spread_prior=0.6, spread_weight=3.0)
    assert fit.beta == pytest.approx(-0.8, abs=0.12)
    assert fit.alpha == pytest.approx(math.log(0.1), abs=0.1)
    assert fit.spread == pytest.approx(0.3, abs=0.08)


def test_fit_catalogue_prior_slope_holds_without_data() -> None:
    # No product has any clicks: the fit is its priors, and each product's prior follows the prior slope.
    x = [-0.5, 0.0, 0.5]
    observed = [log_rate(0.0, 0.0, 0.1, share=True) for _ in x]
    fit = fit_catalogue([o[0] for o in observed], [o[1] for o in observed], x, (math.log(0.1), 1.0), (-0.5, 0.5),
                        spread_prior=0.6, spread_weight=3.0)
    assert fit.beta == pytest.approx(-0.5, abs=0.05)
    cheap, middle, dear = fit.priors
    assert cheap.mean > middle.mean > dear.mean
    # Each is fitted without itself, from two half-count observations at the guess: near the prior slope.
    assert math.exp(0.25) < cheap.mean / dear.mean < math.exp(1.0)


def test_fit_catalogue_leaves_each_product_out_of_its_own_prior() -> None:
    x, _, y, v = _catalogue(12, math.log(0.1), -0.8, 0.4, 300.0)
    fit = fit_catalogue(y, v, list(x), (math.log(0.1), 1.0), (-0.5, 0.5), 0.6, 3.0)
    changed = list(y)
    changed[4] += 2.0  # product 4 suddenly looks e² times better
    refit = fit_catalogue(changed, v, list(x), (math.log(0.1), 1.0), (-0.5, 0.5), 0.6, 3.0)
    # Its own prior moves only through the spread estimate, far less than its data did...
    assert abs(math.log(refit.priors[4].mean / fit.priors[4].mean)) < 0.3
    # ...while the others' priors lean a little towards it.
    assert refit.priors[5].mean > fit.priors[5].mean


def test_fit_catalogue_priors_predict_held_out_products_better_than_a_fixed_exponent() -> None:
    # Known data: the true slope is -0.8, the configured guess -0.5. Each product's leave-one-out
    # prior should be closer to its true share than the pooled share scaled by the guess.
    x, true, y, v = _catalogue(40, math.log(0.1), -0.8, 0.2, 2000.0, seed=11)
    fit = fit_catalogue(y, v, list(x), (math.log(0.1), 1.0), (-0.5, 0.5), 0.6, 3.0)
    model_err = np.mean([(math.log(p.mean) - t) ** 2 for p, t in zip(fit.priors, true, strict=True)])
    pooled = math.log(np.mean(np.exp(true)))
    fixed_err = np.mean([(pooled - 0.5 * xi - t) ** 2 for xi, t in zip(x, true, strict=True)])
    assert model_err < 0.6 * fixed_err


def test_lognormal_prior_matches_mean_and_spread_as_gamma_and_beta() -> None:
    prior = LogNormalPrior(mean=0.2, var=0.25)
    shape, rate = prior.gamma()
    assert shape / rate == pytest.approx(0.2)
    assert 1.0 / shape == pytest.approx(math.expm1(0.25))  # Gamma CV² equals the log-normal's
    a, b = prior.beta()
    assert a / (a + b) == pytest.approx(0.2)
    variance = a * b / ((a + b) ** 2 * (a + b + 1.0))
    assert variance == pytest.approx(0.2**2 * math.expm1(0.25), rel=1e-6)


def test_log_rate_without_trials_sits_at_the_guess_with_a_wide_variance() -> None:
    y, v = log_rate(0.0, 0.0, 0.1, share=True)
    assert y == pytest.approx(math.log(0.1))
    assert v >= 1.0
    y, v = log_rate(30.0, 3.0, 20.0, share=False)  # 30 clicks in 3 pitch-minutes
    assert y == pytest.approx(math.log(30.5 / 3.025))
    assert v == pytest.approx(1 / 30.5)
