"""Bounds on model quantities: ranges from the model's equations, proofs or certificates, real counterexamples."""
import numpy as np
import pytest
import sympy
from hypothesis import HealthCheck, given, settings, strategies as st

from derive import models
from derive.exact.leaves import to_leaves
from derive.lab import numeric
from derive.notation.claimsfile import read_text
from derive.verify import Bound, Settings, verify

HEAD = '''[source]
key = "b"
title = "bounds"
site = "here"
'''
SETTINGS = Settings(points=20, budget=10)


def decided(latex, model):
    text = HEAD + f"""
[[claim]]
id = "b.one"
where = "here"
model = {model}
latex = '''{latex}'''
"""
    entry = read_text(text, "bounds.toml").entries[0]
    assert entry.error is None, entry.error
    return verify(entry.claim.question(), SETTINGS)


TRUE_BOUNDS = [
    (r"f_t < 1", '"lstm_forget"'), (r"f_t > 0", '"lstm_forget"'),
    (r"\left|h_t\right| < 1", '"lstm_forget"'), (r"\left|h_t\right| < 1", '"lstm_1997"'),
    (r"\left|h_t\right| < 1", '"lstm_peephole"'), (r"\left|h_{t-1}\right| < 1", '"lstm_forget"'),
    (r"\left|c_t - c_{t-1}\right| < 1", '"lstm_1997"'),
    (r"\left|o_t \tanh(c_t)\right| \le 1", '"lstm_forget"'),
    (r"\left|\tilde{c}_t\right| < 1", '"lstm_forget"'),
    (r"i_t \tilde{c}_t < 1", '"lstm_forget"'),
    (r"\left|i_t - f_t\right| < 1", '"lstm_forget"'),
    (r"c_t < 1", '{ name = "rnn" }'), (r"\left|c_t\right| < 1", '{ name = "rnn", activation = "tanh" }'),
    (r"a_3 (1 - a_3) \le \frac{1}{4}", '"ff_chain"'),
    (r"\left|\frac{\partial h_t}{\partial c_t}\right| \le 1", '"lstm_1997"'),
    (r"z_t < 1", '"gru"'), (r"z_t > 0", '"gru"'), (r"\left|\tilde{h}_t\right| < 1", '"gru"'),
]


@pytest.mark.parametrize("latex, model", TRUE_BOUNDS)
def test_true_bounds_on_model_quantities_are_proved_or_certified(latex, model):
    verdict = decided(latex, model)
    assert verdict.status == "agrees", verdict.evidence
    assert verdict.method in ("symbolic", "certificate")


FALSE_BOUNDS = [
    (r"\left|h_t\right| < 0.99", '"lstm_forget"'),  # h = o tanh(c) comes as close to 1 as one likes
    (r"\left|c_t\right| < 5", '"lstm_forget"'),  # c adds up: no bound
    (r"\left|c_t - c_{t-1}\right| < 0.999", '"lstm_1997"'),
    (r"f_t < 0.9999", '"lstm_forget"'),
    (r"\left|h_t - h_{t-1}\right| < 1", '"lstm_forget"'),
]


@pytest.mark.parametrize("latex, model", FALSE_BOUNDS)
def test_false_bounds_on_model_quantities_get_a_real_counterexample(latex, model):
    verdict = decided(latex, model)
    assert verdict.status == "differs", verdict.evidence
    example = verdict.evidence.result
    assert example.violation >= 0 and example.point  # a point of the model: leaves of the step, confirmed


def test_the_evidence_says_which_ranges_were_used():
    verdict = decided(r"\left|o_t \tanh(c_t)\right| < 1", '"lstm_forget"')
    assert verdict.status == "agrees"
    assert any("o_{t}" in r and "(0, 1)" in r for r in verdict.evidence.ranges), verdict.evidence.ranges


# -- property: a verdict on a random bound over one step is never contradicted by dense evaluation -----

LSTM = models.lstm_forget()
_S = LSTM.sym
ATOMS = [_S.f, _S.i, _S.o, _S.c_tilde, _S.h, _S.h_prev, _S.f * _S.c_prev, _S.o * (1 - _S.o)]


def _dense_extremes(expr, upper: bool, draws: int = 4000) -> float:
    """The most extreme value of `expr` over many seeded trajectories (PyTorch-like and wide draws)."""
    values = []
    for seed, scale in ((0, 1.0), (1, 4.0), (2, 12.0)):
        rng = np.random.default_rng(seed)
        params = numeric.draw_params(LSTM, rng, draws=draws, init="uniform", scale=scale)
        history = numeric.run(LSTM, params, 3, rng, initial={"c": rng.normal(size=(draws, 1, 1)) * 3,
                                                             "h": rng.uniform(-1, 1, size=(draws, 1, 1))})
        values.append(numeric.evaluate(expr, LSTM, params, history, 2))
    stacked = np.concatenate(values)
    return float(stacked.max() if upper else stacked.min())


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(ATOMS), min_size=1, max_size=2), st.sampled_from(["<", "<=", ">", ">="]),
       st.sampled_from([-1, 0, sympy.Rational(1, 4), sympy.Rational(1, 2), 1, 2]), st.booleans())
def test_random_bounds_on_one_step_are_never_contradicted(atoms, relation, bound, add):
    expr = sum(atoms) if add else sympy.Mul(*atoms)
    verdict = verify(Bound(expr, relation, bound, (), LSTM), Settings(budget=4))
    upper = relation in ("<", "<=")
    if verdict.status == "agrees":
        extreme = _dense_extremes(expr, upper)
        assert (extreme <= bound + 1e-12) if upper else (extreme >= bound - 1e-12), (expr, relation, bound)
    elif verdict.status == "differs":
        example = verdict.evidence.result
        if hasattr(example, "point"):  # confirmed independently: the step's leaves at that point, 50 digits
            leaves = to_leaves(expr, LSTM)
            names = {sympy.latex(s): s for s in leaves.free_symbols}
            value = leaves.subs({names[k]: sympy.Rational(str(v)) for k, v in example.point}).evalf(50)
            holds = {"<": value < bound, "<=": value <= bound, ">": value > bound, ">=": value >= bound}[relation]
            assert not holds, (expr, relation, bound, example)


SECH_MODEL = HEAD + """
[model]
equations = ['''a_t = \\mathrm{sech}(w a_{t-1} + x_t)''']
state = ["a"]
inputs = ["x"]

[[claim]]
id = "b.sech"
where = "here"
latex = '''%s'''
"""


def test_a_range_end_the_function_reaches_is_never_taken_as_open():
    # sech is not monotone: sech(w a + x) reaches 1 (at w a + x = 0), so a_t < 1 must not be proved.
    def status(latex):
        entry = read_text(SECH_MODEL % latex, "sech.toml").entries[0]
        assert entry.error is None, entry.error
        return verify(entry.claim.question(), SETTINGS).status
    assert status(r"a_t \le 1") == "agrees"
    assert status(r"a_t < 1") != "agrees"


@pytest.mark.parametrize("bound, status", [(r"\frac{|w|}{4}", "agrees"), (r"\frac{|w|}{5}", "differs")])
def test_a_nonnegative_factor_is_set_aside_and_a_tighter_bound_refuted(bound, status):
    text = HEAD + f"""
[[claim]]
id = "b.factor"
where = "here"
model = "none"
variables = ["z", "w"]
latex = '''|\\sigma'(z) w| \\le {bound}'''
"""
    entry = read_text(text, "factor.toml").entries[0]
    verdict = verify(entry.claim.question(), SETTINGS)
    assert verdict.status == status, verdict.evidence
    if status == "agrees":
        assert "set aside" in verdict.evidence.form
