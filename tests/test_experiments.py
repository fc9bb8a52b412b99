"""The laboratory's experiments: seeded, deterministic numbers, rates fitted as documented."""
import numpy as np
import pytest

from derive.lab import experiments


def test_fitted_rate_is_the_slope_of_the_second_half():
    steps = np.arange(1, 101)
    norms = np.stack([-0.3 * steps + 5, -0.5 * steps], axis=1)
    norms[:20] = 100.0  # a transient in the first half is ignored
    assert experiments.fitted_rate(steps, norms) == pytest.approx(-0.4)


def test_scalar_rnn_rates_against_the_exact_bound():
    numbers = experiments.scalar_rnn_rates(seed=1, quick=True, weights=(0.5, 3.0), starts=(0.1, 0.9))
    series = numbers.pop("series")
    assert set(series) == {"w=0.5", "w=3"}
    assert numbers["rate[w=0.5]"] < 0
    for w in (0.5, 3.0):  # |w σ'| <= |w|/4 each step: the rate never exceeds log10(|w|/4)
        assert numbers[f"rate[w={w:g}]"] <= numbers[f"bound[w={w:g}]"] + 1e-9


def test_experiments_are_deterministic_for_a_seed():
    first = experiments.lstm_decay(seed=3, quick=True, n=4, forget_biases=(1.0,))
    second = experiments.lstm_decay(seed=3, quick=True, n=4, forget_biases=(1.0,))
    assert first == second
    assert np.isfinite(first["rate[LSTM, b_f=1, full]"]) and np.isfinite(first["rate[LSTM, b_f=1, truncated]"])


def test_the_balance_point_is_reached_and_confirmed():
    numbers = experiments.balance(seed=2, quick=True)
    assert numbers["target_reached_max_error"] < 1e-3
    assert abs(sum(numbers[f"{k}_at_point"] for k in "ABCD") - numbers["sum_at_point"]) < 1e-5
    assert 0 <= numbers["fraction_sum_in_0.9_1.1"] <= 1
