"""Typed evidence: numbers kept as numbers, one JSON form, one renderer per evidence type and output."""
import json
import math
from fractions import Fraction

import mpmath
import pytest

from derive.evidence import (BoundCounterexample, BoundEvidence, Certificate, Comparison, Counterexample,
                             EqualAtPoints, Extremum, Measurements, OutOfBudget, Proof, Unresolved, Verdict, decimal,
                             scientific, to_json)
from derive.report.evidence_tex import evidence_lines, number
from derive.report.text import evidence_line
from derive.rules import Method, Semantics, Status

COUNTEREXAMPLE = Counterexample((("z", mpmath.mpf("0.25")),), (mpmath.mpf("-0.0090143925"),),
                                (mpmath.mpf("-0.00056928998"),), mpmath.mpf("0.93684"))
DIFFERS = EqualAtPoints(200, 30, 7, mpmath.mpf(10) ** -20, "x", (
    Comparison(Semantics.FULL, False, mpmath.mpf("0.93684"), "y", (), COUNTEREXAMPLE),), correction="y")
AGREES = EqualAtPoints(200, 30, 7, mpmath.mpf(10) ** -20, "x", (
    Comparison(Semantics.FULL, True, mpmath.mpf("2.38e-31"), "x"),), proof=Proof("expand"))
BOUND = BoundEvidence(r"\sigma'(z)", "<=", r"\frac{1}{4}", True,
                      Extremum(True, r"\frac{1}{4}", mpmath.mpf("0.25"), (("z", "0"),), True))
REFUTED = BoundEvidence("w", "<", "1", False, BoundCounterexample((("w", mpmath.mpf(2)),), mpmath.mpf(2), mpmath.mpf(1),
                                                                 mpmath.mpf(1), "sampling"), "as written")
CERTIFIED = BoundEvidence("f_t", "<", "2", True, Certificate(12, mpmath.mpf("0.999"), ((("f_t", Fraction(0), math.inf),),)),
                          "as written", (r"f_t \in (0, 1)",))
UNDECIDED = BoundEvidence("g", "<=", "1", None, Unresolved(300), "as written", (),
                          (("proof", "no exact extremum"), ("certificate", "300 boxes, 4 left open")))
MEASURED = Measurements("rate > 0", {"rate[w=1]": 0.5, "steps": 100}, "rnn-scalar", {"w=1": {"x": [1], "y": [0]}})
OUT_OF_TIME = OutOfBudget("proof", "time", "120 s")


def test_numbers_format_in_one_place():
    assert decimal(mpmath.mpf("6.6123e-5"), 3) == "6.61e-5"
    assert scientific(mpmath.mpf("6.6123e-5"), 3) == ("6.61", -5) and scientific(0.25) == ("0.25", None)
    assert number(mpmath.mpf("6.6123e-5"), 3) == r"6.61 \times 10^{-5}"


@pytest.mark.parametrize("evidence", [DIFFERS, AGREES, BOUND, REFUTED, CERTIFIED, UNDECIDED, MEASURED, OUT_OF_TIME])
def test_every_evidence_kind_has_json_tex_and_a_line(evidence):
    data = to_json(evidence)
    assert json.loads(json.dumps(data)) == data  # plain JSON, no custom objects
    assert evidence_lines(evidence, {})
    status = Status.DIFFERS if evidence in (DIFFERS, REFUTED) else \
        Status.UNDECIDED if evidence in (UNDECIDED, OUT_OF_TIME) else Status.AGREES
    assert evidence_line(Verdict(status, Method.NUMERIC, evidence))


def test_the_json_keeps_the_layout_other_tools_read():
    data = to_json(DIFFERS)
    assert data["semantics"]["full"]["counterexample"] == {"point": {"z": "0.25"}, "hand": "-0.0090143925",
                                                           "exact": "-0.00056928998", "rel_err": "0.937"}
    assert data["tolerance"] == "1.0e-20" and data["correction"] == "y" and "proof" not in data
    assert to_json(AGREES)["proof"] == "expand"
    assert to_json(BOUND)["where"] == {"z": "0"} and to_json(BOUND)["attained"] is True
    assert to_json(CERTIFIED)["certificate"] == {"boxes": 12, "margin": "0.999", "tightest": [{"f_t": ["0.0", "+inf"]}]}
    assert to_json(REFUTED)["counterexample"]["point"] == {"w": "2.0"} and to_json(UNDECIDED)["holds"] is None
    assert to_json(UNDECIDED)["tried"][1] == {"method": "certificate", "why_not": "300 boxes, 4 left open"}
    assert to_json(OUT_OF_TIME) == {"stage": "proof", "ran_out": "time", "limit": "120 s", "note": "",
                                    "why": "stopped during the proof: the claim's time budget ran out (120 s)"}
    assert to_json(OutOfBudget("", "deadline"))["why"] == "not started: the run's deadline passed"


def test_the_tex_renders_numbers_from_numbers():
    text = "\n".join(evidence_lines(DIFFERS, {}))
    assert r"$z = 0.25$" in text and r"relative error $0.937$" in text and r"10^{-20}" in text


def test_an_unknown_evidence_type_fails_loudly():
    with pytest.raises(TypeError, match="str"):
        to_json("a string")
    with pytest.raises(TypeError):
        evidence_lines("a string", {})
