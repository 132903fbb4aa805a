"""The seeds a paired t-test needs: its power from the noncentral t, checked against simulation and known values."""

import numpy as np
import pytest

from torchbasics.classifier.power import paired_t_power, seeds_needed


def simulated_power(mean, sd, n, alpha, experiments=40_000, seed=0):
    """The fraction of simulated experiments of ``n`` normal differences whose paired t-test rejects at ``alpha``."""
    from scipy import stats

    differences = np.random.default_rng(seed).normal(mean, sd, size=(experiments, n))
    return float(np.mean(stats.ttest_1samp(differences, 0.0, axis=1).pvalue < alpha))


@pytest.mark.parametrize(("mean", "sd", "n"), [(0.038, 0.0187, 3), (0.038, 0.0187, 5), (0.5, 1.0, 20), (-1.0, 1.0, 8)])
def test_the_power_equals_the_rejection_rate_of_simulated_experiments(mean, sd, n):
    # 40,000 experiments: the simulated rate's standard error is at most 0.0025, so 0.01 is four of them.
    assert paired_t_power(mean, sd, n, 0.05) == pytest.approx(simulated_power(mean, sd, n, 0.05), abs=0.01)


def test_the_power_matches_published_values_of_the_paired_t_test():
    # power.t.test(n = 10, delta = 1, sd = 1, type = "paired") in R: 0.8030962 from the upper tail alone; the lower
    # tail, which a two-sided test also rejects in, adds under 1e-6 here.
    assert paired_t_power(1.0, 1.0, 10, 0.05) == pytest.approx(0.8030962, abs=2e-6)
    # The sample sizes a power table gives for 80% power at the 5% level, two-sided: 10 pairs for an effect of one
    # standard deviation, 34 for half of one, 199 for a fifth. The normal approximation would give 8, 32 and 197.
    assert [seeds_needed(effect, 1.0, 0.05) for effect in (1.0, 0.5, 0.2)] == [10, 34, 199]


def test_the_count_is_the_smallest_with_enough_power_and_scales_with_the_effect():
    mean, sd = 0.038, 0.0187
    needed = seeds_needed(mean, sd, 0.05)
    assert paired_t_power(mean, sd, needed, 0.05) >= 0.8 > paired_t_power(mean, sd, needed - 1, 0.05)
    assert seeds_needed(-mean, sd, 0.05) == needed  # the sign of the difference does not matter
    assert seeds_needed(mean, 2 * sd, 0.05) > needed and seeds_needed(mean, sd, 0.01) > needed


def test_a_difference_too_small_for_any_practical_number_of_seeds_gives_none():
    assert seeds_needed(1e-4, 1.0, 0.05) is None


def test_zero_difference_or_spread_is_refused():
    with pytest.raises(ValueError, match="zero difference"):
        seeds_needed(0.0, 1.0, 0.05)
    with pytest.raises(ValueError, match="positive spread"):
        paired_t_power(0.1, 0.0, 5, 0.05)
    with pytest.raises(ValueError, match="two pairs"):
        paired_t_power(0.1, 1.0, 1, 0.05)
