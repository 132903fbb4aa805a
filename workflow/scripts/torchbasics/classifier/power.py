"""How many seeds a paired t-test needs: the power of the test for a given true difference and spread.

The paired t statistic of n differences drawn from a normal with mean ``mean`` and standard deviation ``sd``
follows a noncentral t distribution with n - 1 degrees of freedom and noncentrality mean / sd * sqrt(n). The test
rejects where |t| exceeds Student's two-sided critical value, so its power is the noncentral t's mass beyond
either critical value. Solving this exactly (rather than through the normal approximation) matters here: with a
handful of seeds the t distribution's heavy tails add a seed or more.
"""

from __future__ import annotations

import math

from scipy import stats

POWER_TARGET = 0.8
# Past this many seeds the search stops: the difference is too small against the spread to settle by replicates.
MAX_SEEDS = 1_000_000


def paired_t_power(mean: float, sd: float, n: int, alpha: float) -> float:
    """The probability that a two-sided paired t-test at level ``alpha`` on ``n`` pairs rejects "no difference"
    when the differences are normal with this ``mean`` and ``sd``."""
    if n < 2:
        raise ValueError("a paired t-test needs at least two pairs")
    if not sd > 0:
        raise ValueError("the power of a t-test needs a positive spread")
    degrees = n - 1
    critical = stats.t.ppf(1 - alpha / 2, degrees)
    noncentrality = mean / sd * math.sqrt(n)
    upper = stats.nct.sf(critical, degrees, noncentrality)
    lower = stats.nct.cdf(-critical, degrees, noncentrality)
    return float(upper + lower)


def seeds_needed(mean: float, sd: float, alpha: float, power: float = POWER_TARGET) -> int | None:
    """The smallest number of seeds (pairs) at which the paired t-test reaches ``power``; None past MAX_SEEDS.

    Power grows with n for any nonzero mean, so the answer is found by doubling an upper bound, then bisecting.
    """
    if mean == 0:
        raise ValueError("no number of seeds gives power against a zero difference")

    def enough(n: int) -> bool:
        return paired_t_power(mean, sd, n, alpha) >= power

    low, high = 1, 2  # ``low`` never has enough power (one pair cannot be tested), ``high`` is tried next
    while not enough(high):
        if high >= MAX_SEEDS:
            return None
        low, high = high, min(2 * high, MAX_SEEDS)
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (low, middle) if enough(middle) else (middle, high)
    return high
