"""Small statistics for the evaluation: Wilson intervals for accuracies, McNemar's exact test for paired ones."""

from __future__ import annotations

import math

Z_95 = 1.959964  # the standard normal's 97.5% quantile: a two-sided 95% interval


def wilson_interval(successes: int, trials: int, z: float = Z_95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion.

    Unlike the normal approximation it stays inside [0, 1] and is sensible for accuracies near 0 or 1 and for
    small classes, which per-class test accuracies can be.
    """
    if trials <= 0:
        raise ValueError("a Wilson interval needs at least one trial")
    if not 0 <= successes <= trials:
        raise ValueError(f"successes {successes} outside 0..{trials}")
    p = successes / trials
    z2 = z * z
    denominator = 1 + z2 / trials
    centre = (p + z2 / (2 * trials)) / denominator
    half_width = z / denominator * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials))
    # The interval always holds p; the clamps keep rounding from putting a bound on the wrong side of it.
    return min(p, max(0.0, centre - half_width)), max(p, min(1.0, centre + half_width))


def mcnemar_exact(only_first_correct: int, only_second_correct: int) -> float:
    """Two-sided p-value of McNemar's exact test from the discordant pair counts (b, c).

    Under the null hypothesis (both classifiers equally accurate) each discordant pair goes either way with
    probability 1/2, so min(b, c) is binomial(b + c, 1/2); the p-value doubles its lower tail (capped at 1).
    Integer arithmetic keeps it exact for the thousands of pairs a test split gives (0.5 ** n underflows).
    """
    b, c = only_first_correct, only_second_correct
    if b < 0 or c < 0:
        raise ValueError("discordant pair counts cannot be negative")
    n = b + c
    if n == 0:
        return 1.0
    lower_tail = sum(math.comb(n, k) for k in range(min(b, c) + 1))
    return min(1.0, 2 * lower_tail / 2**n)
