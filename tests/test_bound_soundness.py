"""No wrong verdict from a point that is not one of the model, an extremum across a pole, or a closed domain end.

Each case is a claim a careful reviewer wrote to break the engine: a true statement that must never come
out "differs" (undecided is allowed), next to a mutation of it that is false and must.
"""
import pytest

from derive.errors import DeriveError
from derive.notation.claimsfile import read_text
from derive.pipeline import settle
from derive.rules import Status
from derive.verify import Settings, verify

SETTINGS = Settings(points=20, budget=6)
HEAD = '''[source]
key = "s"
title = "soundness"
site = "here"
'''
EQUATIONS = '''
[model]
equations = [
  \'\'\'g_t = \\tanh(W x_t + U h_{t-1})\'\'\',
  \'\'\'h_t = g_t \\odot (g_t + 1)\'\'\',
]
state = ["h"]
inputs = ["x"]
n = 1
'''


def claim(latex: str, extra: str = "", head: str = HEAD):
    text = head + f"""
[[claim]]
id = "s.one"
where = "here"
latex = '''{latex}'''
{extra}
"""
    entry = read_text(text, "soundness.toml").entries[0]
    if entry.error is not None:
        raise entry.error
    entry.claim.question()  # the formula is read: its errors raise here
    return entry.claim


def status(latex: str, extra: str = "", head: str = HEAD) -> Status:
    return verify(claim(latex, extra, head).question(), SETTINGS).status


@pytest.mark.parametrize("latex, extra, false_latex", [
    # c_t − f_t c_{t−1} = i_t c̃_t ∈ (−1, 1): the claim's range of c_{t−1} narrows a free state, nothing else
    (r"c_t - f_t c_{t-1} < 1", 'model = "lstm_forget"\ndomain = { "c_{t-1}" = [-5, 5] }',
     r"c_t - f_t c_{t-1} < \frac{1}{2}"),
    # o_{t-1} is fixed by W_ox x_{t-1} here: the gate is not free in (0, 1) beside them (n = 1, no bias)
    (r"h_{t-1} \le \sigma(W_{ox} x_{t-1} + |W_{oh}|)", 'model = { name = "lstm_forget", n = 1, bias = false }',
     r"h_{t-1} \le \sigma(W_{ox} x_{t-1} + |W_{oh}|) - \frac{1}{2}"),
])
def test_a_point_that_is_not_one_of_the_model_refutes_nothing(latex, extra, false_latex):
    assert status(latex, extra) != Status.DIFFERS
    assert status(false_latex, extra) != Status.AGREES


def test_a_state_whose_range_is_only_enclosed_is_not_a_free_leaf():
    # h = g (g + 1) with g = tanh(...) takes the values [−1/4, 2); its enclosure (−2, 2) is looser
    for latex in (r"h_{t-1} \ge -\frac{1}{2}", r"h_t \ge -\frac{1}{2}"):
        assert status(latex, head=HEAD + EQUATIONS) == Status.AGREES
    assert status(r"h_t \ge -\frac{1}{5}", head=HEAD + EQUATIONS) != Status.AGREES  # undecided: no free leaf


def test_a_strict_bound_fails_at_a_closed_end_of_the_claims_domain():
    extra = 'model = "none"\nvariables = ["z"]\ndomain = { z = [0, 1] }'
    assert status(r"z^2 < 1", extra) != Status.AGREES  # z = 1 is in [0, 1]
    assert status(r"z^2 \le 1", extra) == Status.AGREES
    assert status(r"z^2 < 2", extra) == Status.AGREES
    assert status(r"z^2 < 1", 'model = "none"\nvariables = ["z"]\ndomain = { z = [0, 0.5] }') == Status.AGREES


def test_an_extremum_across_a_pole_is_refused_not_zero():
    with pytest.raises(DeriveError, match="could not be found"):
        claim(r"\max_z \frac{1}{z} = 0", 'model = "none"\nvariables = ["z"]')
    assert status(r"\max_z \frac{1}{1 + z^2} = 1", 'model = "none"\nvariables = ["z"]') == Status.AGREES


def test_an_equation_cannot_give_a_model_quantity_a_range():
    with pytest.raises(DeriveError, match="quantity of the model"):
        claim(r"\frac{\partial h_t}{\partial c_t} = o_t \tanh'(c_t)", 'model = "lstm_forget"\ndomain = { c_t = [-1, 1] }')


def test_a_bound_repaired_into_a_tautology_is_no_correction():
    settled = settle(claim(r"|c_t| \le |c_{t-1}|", 'model = "lstm_forget"'), SETTINGS)
    assert settled.status == Status.DIFFERS
    correction = settled.diagnosis.correction
    assert correction is None or "|c_{t-1}|\\le|c_{t-1}|" not in correction.latex.replace(" ", "")


def test_vacuous_bounds_are_recognised():
    import sympy

    from derive.verify.questions import Bound
    from derive.verify.repair import _vacuous
    c = sympy.Symbol("c", real=True)
    assert _vacuous(Bound(sympy.Abs(c), "<=", sympy.Abs(c))) and _vacuous(Bound(sympy.Integer(0), "<=", 1))
    assert not _vacuous(Bound(sympy.Abs(c), "<=", 1))
