"""Bounds on model quantities: ranges from the model's equations, proofs or certificates, real counterexamples."""
import pytest

from derive.notation.claimsfile import read_text
from derive.verify import Settings, verify

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
