"""Points: seeded, consistent bindings of a claim's symbols on trajectories of the model's own cell."""
import mpmath
import numpy as np
import pytest

from derive import models
from derive.errors import VerificationError
from derive.models.cells import sigmoid, tanh
from derive.verify import points


def test_a_trajectory_follows_the_cell_at_30_digits():
    model = models.lstm_forget()
    with mpmath.workdps(30):
        trajectory = points.simulate(model, 3, np.random.default_rng(0))
        p = trajectory.params
        for k in (1, 2, 3):
            step, before = trajectory.steps[k], trajectory.steps[k - 1]
            f = sigmoid(p["W_fh"] @ before["h"] + p["W_fx"] @ step["x"] + p["b_f"])
            assert abs(f[0, 0] - step["f"][0, 0]) < mpmath.mpf(10) ** -28
            assert abs(step["h"][0, 0] - step["o"][0, 0] * tanh(step["c"])[0, 0]) < mpmath.mpf(10) ** -28


def test_draws_are_three_decimals_and_seeded():
    first = points.simulate(models.rnn(), 2, np.random.default_rng(4))
    second = points.simulate(models.rnn(), 2, np.random.default_rng(4))
    value = first.params["W_rec"][0, 0]
    assert value == second.params["W_rec"][0, 0] and mpmath.nstr(value, 10) == mpmath.nstr(round(float(value), 3), 10)


def test_binding_relative_and_absolute_times():
    model = models.lstm_forget()
    s, third = model.sym, model.at(3, absolute=True)
    with pytest.raises(VerificationError, match="mixes"):
        points.sample(model, [s.f, third.c], 1, seed=1, dps=30)
    bound = points.sample(model, [s.f, s.c_prev, s.W_fh], 2, seed=1, dps=30)
    assert len(bound) == 2 and all(set(point) == {s.f, s.c_prev, s.W_fh} for point in bound)
    assert bound[0] != bound[1]
    again = points.sample(model, [s.W_fh, s.c_prev, s.f], 2, seed=1, dps=30)
    assert again == bound  # the order the symbols come in changes nothing


def test_symbols_no_model_binds_need_a_domain():
    import sympy

    z = sympy.Symbol("z", real=True)
    with pytest.raises(VerificationError, match="domain"):
        points.sample(None, [z], 2, seed=0, dps=30)
    drawn = points.sample(None, [z], 50, seed=0, dps=30, domain=((z, -1, 1),))
    assert all(-1 <= p[z] <= 1 for p in drawn)
