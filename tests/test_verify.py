"""Verdicts: each question type, its evidence, its failure modes; proofs never hang."""
import time

import pytest
import sympy

from derive import exact, models
from derive.verify import proof
from derive.rules import Sigmoid
from derive.errors import VerificationError
from derive.notation import dsigma, dtanh
from derive.verify import Bound, Equal, Experiment, Settings, verify

FAST = Settings(points=40)
LSTM = models.lstm_forget(bias=False)
s = LSTM.sym


def test_equal_proved_symbolically():
    hand = dsigma(s.W_fh * s.h_prev + s.W_fx * s.x) * s.W_fh * s.o_prev * dtanh(s.c_prev) * s.c_prev
    verdict = verify(Equal(hand, exact.path_terms(LSTM)["via_f"], LSTM), FAST)
    assert (verdict.status, verdict.method) == ("agrees", "symbolic")
    assert verdict.evidence.proof.rewriting
    assert verdict.evidence.comparison("full").max_relative_error < 1e-25


def test_equal_differs_with_a_counterexample_and_the_correction():
    hand = dsigma(s.z_c) * s.W_ch * s.o_prev * dtanh(s.c_prev) * s.i
    verdict = verify(Equal(hand, exact.path_terms(LSTM)["via_c_tilde"], LSTM), FAST)
    assert (verdict.status, verdict.method) == ("differs", "numeric")
    example = verdict.evidence.comparison("full").counterexample
    assert example.point and len(example.hand) == len(example.exact) == 1
    assert example.relative_error > 1e-3
    assert abs(example.hand[0] - example.exact[0]) >= example.relative_error * abs(example.exact[0]) * 0.999
    assert verdict.evidence.correction == verdict.evidence.comparison("full").exact


def test_agrees_when_truncated_shows_both_semantics():
    question = Equal(s.f, exact.dc_dc_prev(LSTM), LSTM, truncated=exact.dc_dc_prev(LSTM, "truncated"))
    verdict = verify(question, FAST)
    assert verdict.status == "agrees-when-truncated"
    assert not verdict.evidence.comparison("full").equal
    assert verdict.evidence.comparison("truncated").equal


def test_shapes_must_match():
    vector = models.lstm_forget(n=2)
    with pytest.raises(VerificationError, match="shape"):
        verify(Equal(vector.sym.f, exact.dc_dc_prev(vector), vector), FAST)


def test_unknown_question_type_fails_loudly():
    with pytest.raises(VerificationError, match="no verifier"):
        verify("is this right?")


def test_labels_must_match_entries():
    with pytest.raises(VerificationError, match="labels"):
        verify(Equal(s.f, s.f, LSTM, labels=("a", "b")), FAST)


def test_symbols_without_model_need_a_domain():
    z = sympy.Symbol("z", real=True)
    with pytest.raises(VerificationError, match="domain"):
        verify(Equal(z, z, None), FAST)
    assert verify(Equal(z * 2, z + z, None, domain=((z, -1, 1),)), FAST).status == "agrees"


def test_bound_exact_supremum_and_where_it_is_attained():
    z = sympy.Symbol("z", real=True)
    verdict = verify(Bound(sympy.diff(Sigmoid(z), z), "<=", sympy.Rational(1, 4), ((z, -sympy.oo, sympy.oo),)))
    assert (verdict.status, verdict.method) == ("agrees", "symbolic")
    assert verdict.evidence.result.value == r"\frac{1}{4}" and verdict.evidence.result.where == (("z", "0"),)
    strict = verify(Bound(sympy.diff(Sigmoid(z), z), "<", sympy.Rational(1, 4), ((z, -sympy.oo, sympy.oo),)))
    assert strict.status == "differs"  # attained at z = 0
    looser = verify(Bound(sympy.diff(Sigmoid(z), z), "<", sympy.Rational(26, 100), ((z, -sympy.oo, sympy.oo),)))
    assert looser.status == "agrees"


def test_bound_not_attained_is_still_a_strict_bound():
    o, c = sympy.symbols("o c", real=True)
    verdict = verify(Bound(Sigmoid(o) * dtanh(c), "<", 1, ((o, -sympy.oo, sympy.oo), (c, -sympy.oo, sympy.oo))))
    assert verdict.status == "agrees" and verdict.evidence.result.attained is False


def test_a_bound_nothing_decides_is_undecided_never_agrees_by_sampling():
    x, y = sympy.symbols("x y", real=True)
    expr = dsigma(x * y + sympy.sin(x))  # sin has no validated form here, and the bound is tight at σ' = 1/4
    verdict = verify(Bound(expr, "<=", sympy.Rational(1, 4), ((x, -3, 3), (y, -3, 3))), FAST)
    assert (verdict.status, verdict.method) == ("undecided", "none")
    assert verdict.evidence.holds is None and verdict.evidence.tried
    violated = verify(Bound(expr, "<=", sympy.Rational(1, 5), ((x, -3, 3), (y, -3, 3))), FAST)
    assert violated.status == "differs" and violated.evidence.result.value > sympy.Rational(1, 5)


def test_experiment_verdict_follows_the_measured_numbers():
    grows = Experiment("rate > 0", lambda seed: {"rate": 0.5}, lambda n: n["rate"] > 0)
    shrinks = Experiment("rate > 0", lambda seed: {"rate": -0.5}, lambda n: n["rate"] > 0)
    assert verify(grows).status == "agrees" and verify(grows).method == "experiment"
    assert verify(shrinks).status == "differs"
    assert verify(shrinks).evidence.numbers == {"rate": -0.5}


def test_no_false_agreement_from_a_tiny_difference():
    tiny = sympy.Rational(1, 10 ** 8)
    hand = exact.dc_dc_prev(LSTM) * (1 + tiny)
    assert verify(Equal(hand, exact.dc_dc_prev(LSTM), LSTM), FAST).status == "differs"
