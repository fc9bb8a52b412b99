"""The derivation test suite: every built-in claim's computed verdict, and mutations that flip it.

The expected verdicts live here, in the tests, and nowhere in derive/ or checks/:
the engine computes the verdict, this table says what a correct engine computes.
"""
import dataclasses

import pytest
import sympy

from derive import claims, exact, models
from derive.notation import diag, dsigma, dtanh, hadamard, matmul, tanh, transpose
from derive.evidence import EqualAtPoints
from derive.pipeline import Progress, verify_all
from derive.verify import Bound, Equal, Experiment, Settings, verify

A, D, T = "agrees", "differs", "agrees-when-truncated"
EXPECTED = {
    "cv-lstm.sigmoid-bound": A, "cv-lstm.rnn-product": A, "cv-lstm.rnn-weight-factor": D,
    "cv-lstm.forget-product": T, "cv-lstm.original-cec-zero": D, "cv-lstm.original-cec-one": T,
    "cv-lstm.output-squash": A, "cv-lstm.vanish-slower": A,
    "cv-explode.cec-term": A, "cv-explode.lossless-when-f1": T, "cv-explode.output-gate-path": A,
    "cv-explode.gate-paths": A, "cv-explode.lstm-can-explode": A,
    "arbel.eq1": D, "arbel.eq2": A, "arbel.eq2.vector": A, "arbel.tanh-remark": D, "arbel.explode-large-W": A,
    "arbel.product-rule": A, "arbel.A_t": A, "arbel.B_t": A, "arbel.C_t": A, "arbel.D_t": D,
    "arbel.A_t.vector": A, "arbel.eq6": D, "arbel.app-A": D, "arbel.app-C": D, "arbel.app-D": D,
    "arbel.eq4-chain": D, "arbel.eq4-chain-exact-terms": D, "arbel.balance-example": A,
    "blog.dW3": D, "blog.dW1": D, "blog.layer-factor": A, "blog.sigmoid-strict": D, "blog.relu": A,
    "blog.arctan": A, "blog.gauss-init": A, "blog.forget-only-factor": T, "blog.forget-one": T,
    "blog.added-term-vanishes": T,
}
REQUIRED = {  # the ids the issue names; more claims are welcome, these must be present
    "cv-lstm.sigmoid-bound", "cv-lstm.rnn-product", "cv-lstm.rnn-weight-factor", "cv-lstm.forget-product",
    "cv-lstm.original-cec-zero", "cv-lstm.output-squash", "cv-lstm.vanish-slower", "cv-explode.cec-term",
    "cv-explode.lossless-when-f1", "cv-explode.output-gate-path", "cv-explode.gate-paths",
    "cv-explode.lstm-can-explode", "arbel.eq1", "arbel.eq2", "arbel.tanh-remark", "arbel.explode-large-W",
    "arbel.product-rule", "arbel.A_t", "arbel.B_t", "arbel.C_t", "arbel.D_t", "arbel.eq6", "arbel.app-A",
    "arbel.app-C", "arbel.app-D", "arbel.eq4-chain", "arbel.balance-example", "blog.dW3", "blog.dW1",
    "blog.sigmoid-strict", "blog.relu", "blog.gauss-init", "blog.added-term-vanishes", "blog.forget-one",
}


@pytest.fixture(scope="module")
def builtin():
    return {claim.id: claim for claim in claims.load_all()}


@pytest.fixture(scope="module")
def verdicts(builtin):
    results = verify_all(list(builtin.values()), Settings(), jobs=0, progress=Progress(0))
    return {claim.id: verdict for claim, verdict in results}


def test_every_required_claim_is_there(builtin):
    assert REQUIRED <= set(builtin)
    assert set(builtin) == set(EXPECTED), "a claim was added or removed: give it a row in EXPECTED"


@pytest.mark.parametrize("claim_id", sorted(EXPECTED))
def test_computed_verdict(verdicts, claim_id):
    verdict = verdicts[claim_id]
    assert verdict.status == EXPECTED[claim_id], verdict.evidence
    if verdict.status == "differs" and isinstance(verdict.evidence, EqualAtPoints):
        assert verdict.evidence.comparison("full").counterexample is not None
        assert verdict.evidence.correction


def test_methods_say_what_decided(builtin, verdicts):
    for claim_id, claim in builtin.items():
        question = claim.question()
        method = verdicts[claim_id].method
        if isinstance(question, Experiment):
            assert method == "experiment"
        elif isinstance(question, Bound):
            assert method == "symbolic", claim_id  # every built-in bound has an exact extremum
        else:
            assert method in ("symbolic", "numeric")
    for claim_id in ("arbel.eq2", "arbel.A_t", "arbel.B_t", "cv-lstm.forget-product", "blog.forget-one"):
        assert verdicts[claim_id].method == "symbolic", claim_id


def test_every_claim_cites_its_source_and_reading(builtin):
    for claim in builtin.values():
        assert claim.source.title and claim.source.site and claim.where and claim.reading and claim.printed


# -- mutations: alter the hand formula, the verdict must flip -------------------------------
FAST = Settings(points=40)


def _perturbed(question):
    """The same claim with its hand formula off by one part in a thousand (and by 1/1000 where it is 0)."""
    hand = question.hand
    shift = sympy.ones(*hand.shape) / 1000 if isinstance(hand, sympy.MatrixBase) else sympy.Rational(1, 1000)
    return dataclasses.replace(question, hand=hand * sympy.Rational(1001, 1000) + shift)


@pytest.mark.parametrize("claim_id", sorted(k for k, v in EXPECTED.items() if v in (A, T)))
def test_perturbing_an_agreeing_formula_makes_it_differ(builtin, claim_id):
    question = builtin[claim_id].question()
    if not isinstance(question, Equal):
        pytest.skip("not an equality")
    assert verify(_perturbed(question), FAST).status == D


@pytest.mark.parametrize("claim_id", sorted(k for k, v in EXPECTED.items() if v == D))
def test_replacing_a_differing_formula_by_the_exact_one_makes_it_agree(builtin, claim_id):
    question = builtin[claim_id].question()
    if not isinstance(question, Equal):
        pytest.skip("not an equality")
    assert verify(dataclasses.replace(question, hand=question.full), FAST).status == A


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


def test_mutation_forget_product_one_factor_short_differs(builtin):
    question = builtin["cv-lstm.forget-product"].question()
    short = question.hand.copy()
    short[1] = short[0]  # t' - t = 2 with one forget gate instead of two
    assert verify(dataclasses.replace(question, hand=short), FAST).status == D


def test_mutation_bounds_flip_with_the_bound(builtin):
    question = builtin["cv-lstm.sigmoid-bound"].question()
    assert verify(dataclasses.replace(question, bound=sympy.Rational(1, 5))).status == D
    strict = builtin["blog.sigmoid-strict"].question()
    assert verify(dataclasses.replace(strict, relation="<=")).status == A


def test_mutation_greff_recursion_without_the_output_peephole_differs(builtin):
    question = builtin["cv-explode.cec-term"].question()
    model = question.model
    s = model.at(0)
    from derive.exact import adjoints
    from derive.notation import hadamard

    without = question.hand - hadamard(s.p_o, adjoints.delta(model, "o_bar"))
    assert verify(dataclasses.replace(question, hand=without, canonical=None), FAST).status == D


def test_mutation_output_path_with_r_o_once_differs(builtin):
    question = builtin["cv-explode.output-gate-path"].question()
    model = question.model
    first, second = model.at(1), model.at(2)
    gains = [diag(hadamard(tanh(k.c), dsigma(k.o_bar))) for k in (first, second)]
    once = matmul(transpose(first.R_o), gains[0], gains[1])  # R_o^T multiplied once, not twice
    assert verify(dataclasses.replace(question, hand=once), FAST).status == D


def test_mutation_experiment_prediction_inverted(builtin):
    question = builtin["cv-lstm.rnn-weight-factor"].question()
    inverted = dataclasses.replace(question, holds=lambda numbers: not question.holds(numbers))
    assert verify(inverted).status == A
