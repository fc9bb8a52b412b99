"""The derivation test suite: every built-in claim's computed verdict, and mutations that flip it.

The expected verdicts live in tests/expected.py, and nowhere in derive/ or checks/:
the engine computes the verdict, that table says what a correct engine computes.
The built-in claims are verified once per test run (the `builtin_report` fixture).
"""
import dataclasses

import pytest
import sympy

from derive import claims, exact, models
from derive.notation import diag, dsigma, dtanh, hadamard, matmul, tanh, transpose
from derive.evidence import EqualAtPoints, Extremum
from expected import A, BOUNDS, D, EQUALITIES, EXPECTED, EXPERIMENTS, REQUIRED, T
from derive.verify import Bound, Equal, Experiment, Settings, verify



def test_every_required_claim_is_there(builtin_claims):
    assert REQUIRED <= set(builtin_claims)
    assert set(builtin_claims) == set(EXPECTED), "a claim was added or removed: give it a row in EXPECTED"


@pytest.mark.parametrize("claim_id", sorted(EXPECTED))
def test_computed_verdict(builtin_verdicts, claim_id):
    verdict = builtin_verdicts[claim_id]
    assert verdict.status == EXPECTED[claim_id], verdict.evidence
    if verdict.status == "differs" and isinstance(verdict.evidence, EqualAtPoints):
        assert verdict.evidence.comparison("full").counterexample is not None
        assert verdict.evidence.correction


def test_methods_say_what_decided(builtin_claims, builtin_verdicts):
    for claim_id, claim in builtin_claims.items():
        question = claim.question()
        method = builtin_verdicts[claim_id].method
        if isinstance(question, Experiment):
            assert method == "experiment"
        elif isinstance(question, Bound):  # a bound holds by a proof or a certificate, never by sampling
            allowed = ("symbolic", "certificate") if EXPECTED[claim_id] == A else ("symbolic", "numeric")
            assert method in allowed, claim_id
        else:
            assert method in ("symbolic", "numeric")
    for claim_id in ("arbel.eq2", "arbel.A_t", "arbel.B_t", "cv-lstm.forget-product", "blog.forget-one"):
        assert builtin_verdicts[claim_id].method == "symbolic", claim_id


def test_every_claim_cites_its_source_and_reading(builtin_claims):
    for claim in builtin_claims.values():
        assert claim.source.title and claim.source.site and claim.where and claim.reading and claim.printed


# -- mutations: alter the hand formula, the verdict must flip -------------------------------
FAST = Settings(points=40)


def _perturbed(question):
    """The same claim with its hand formula off by one part in a thousand (and by 1/1000 where it is 0)."""
    hand = question.hand
    shift = sympy.ones(*hand.shape) / 1000 if isinstance(hand, sympy.MatrixBase) else sympy.Rational(1, 1000)
    return dataclasses.replace(question, hand=hand * sympy.Rational(1001, 1000) + shift)


def test_the_kinds_of_question_are_as_listed(builtin_claims):
    kinds = {Equal: EQUALITIES, Bound: BOUNDS, Experiment: EXPERIMENTS}
    for claim_id, claim in builtin_claims.items():
        assert claim_id in kinds[type(claim.question())], claim_id


@pytest.mark.parametrize("claim_id", sorted(k for k in EQUALITIES if EXPECTED[k] in (A, T)))
def test_perturbing_an_agreeing_formula_makes_it_differ(builtin_claims, claim_id):
    assert verify(_perturbed(builtin_claims[claim_id].question()), FAST).status == D


@pytest.mark.parametrize("claim_id", sorted(k for k in EQUALITIES if EXPECTED[k] == D))
def test_replacing_a_differing_formula_by_the_exact_one_makes_it_agree(builtin_claims, claim_id):
    question = builtin_claims[claim_id].question()
    assert verify(dataclasses.replace(question, hand=question.full), FAST).status == A


@pytest.mark.parametrize("claim_id", sorted(BOUNDS))
def test_moving_a_bound_past_the_extremum_flips_it(builtin_claims, builtin_verdicts, claim_id):
    question = builtin_claims[claim_id].question()
    found = builtin_verdicts[claim_id].evidence.result
    # the exact extremum, or (refuted by a counterexample) the value there, which the extremum passes
    extreme = sympy.nsimplify(found.number if isinstance(found, Extremum) else found.value)
    upper = question.relation in ("<", "<=")
    inside = dataclasses.replace(question, bound=extreme - sympy.Rational(1, 100) if upper
                                 else extreme + sympy.Rational(1, 100))
    assert verify(inside).status == D  # just inside the extremum, no bound holds
    if isinstance(found, Extremum):  # far outside the exact extremum, every bound holds
        outside = dataclasses.replace(question, bound=extreme + 1 if upper else extreme - 1)
        assert verify(outside).status == A


@pytest.mark.parametrize("claim_id", sorted(EXPERIMENTS))
def test_inverting_an_experiments_prediction_flips_it(builtin_claims, builtin_verdicts, claim_id):
    question = builtin_claims[claim_id].question()
    inverted = dataclasses.replace(question, holds=lambda numbers: not question.holds(numbers))
    flipped = {A: D, D: A}[EXPECTED[claim_id]]
    assert verify(inverted, Settings(quick=True)).status == flipped


def test_mutation_arbel_d_t_with_tanh_prime_agrees():
    lstm = models.lstm_forget(bias=False)
    s = lstm.sym
    fixed = dtanh(s.W_ch * s.h_prev + s.W_cx * s.x) * s.W_ch * s.o_prev * dtanh(s.c_prev) * s.i
    assert verify(Equal(fixed, exact.path_terms(lstm)["via_c_tilde"], lstm), FAST).status == A


def test_mutation_arbel_a_t_with_tanh_prime_differs():
    lstm = models.lstm_forget(bias=False)
    s = lstm.sym
    broken = dtanh(s.W_fh * s.h_prev + s.W_fx * s.x) * s.W_fh * s.o_prev * dtanh(s.c_prev) * s.c_prev
    assert verify(Equal(broken, exact.path_terms(lstm)["via_f"], lstm), FAST).status == D


def test_mutation_dropping_a_path_from_eq6_differs_even_when_truncated_is_offered():
    lstm = models.lstm_forget(bias=False)
    terms = exact.path_terms(lstm)
    dropped = terms["direct"] + terms["via_f"] + terms["via_i"]
    question = Equal(dropped, exact.dc_dc_prev(lstm), lstm, truncated=exact.dc_dc_prev(lstm, "truncated"))
    assert verify(question, FAST).status == D
    complete = dropped + terms["via_c_tilde"]
    assert verify(dataclasses.replace(question, hand=complete), FAST).status == A


def test_mutation_forget_product_one_factor_short_differs(builtin_claims):
    question = builtin_claims["cv-lstm.forget-product"].question()
    short = question.hand.copy()
    short[1] = short[0]  # t' - t = 2 with one forget gate instead of two
    assert verify(dataclasses.replace(question, hand=short), FAST).status == D


def test_mutation_bounds_flip_with_the_bound(builtin_claims):
    question = builtin_claims["cv-lstm.sigmoid-bound"].question()
    assert verify(dataclasses.replace(question, bound=sympy.Rational(1, 5))).status == D
    strict = builtin_claims["blog.sigmoid-strict"].question()
    assert verify(dataclasses.replace(strict, relation="<=")).status == A


def test_mutation_greff_recursion_without_the_output_peephole_differs(builtin_claims):
    question = builtin_claims["cv-explode.cec-term"].question()
    model = question.model
    s = model.at(0)
    from derive.exact import adjoints
    from derive.notation import hadamard

    without = question.hand - hadamard(s.p_o, adjoints.delta(model, "o_bar"))
    assert verify(dataclasses.replace(question, hand=without, canonical=None), FAST).status == D


def test_mutation_output_path_with_r_o_once_differs(builtin_claims):
    question = builtin_claims["cv-explode.output-gate-path"].question()
    model = question.model
    first, second = model.at(1), model.at(2)
    gains = [diag(hadamard(tanh(k.c), dsigma(k.o_bar))) for k in (first, second)]
    once = matmul(transpose(first.R_o), gains[0], gains[1])  # R_o^T multiplied once, not twice
    assert verify(dataclasses.replace(question, hand=once), FAST).status == D
